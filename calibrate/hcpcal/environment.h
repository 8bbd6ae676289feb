#pragma once
#include <string>

namespace hcpcal {
// JSON object text for measurements.json's "environment"; `summary` gets one line for the banner.
std::string environment_json(std::string* summary);
}  // namespace hcpcal

// What a validated scenario says, in words: the summary every report starts with.
#pragma once

#include <string>

#include "scenario/scenario.hpp"

namespace hcpsim {

std::string format_scenario_summary(const Scenario& sc);

}  // namespace hcpsim

// The built-in study `hcpsim` runs with no arguments: the seed decision example
// (scenarios/seed-*.json, embedded at build time so the binary needs no files).
#pragma once

#include <string>
#include <vector>

namespace hcpsim {

struct BuiltinScenario {
  std::string file_name;  // e.g. "seed-a-hcp.json"
  std::string json_text;
};

const std::vector<BuiltinScenario>& builtin_study();

}  // namespace hcpsim

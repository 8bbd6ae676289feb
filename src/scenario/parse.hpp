// Reading a scenario: JSON text -> parsed sections -> validated Scenario.
// Every function throws InputError carrying *all* problems found.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "scenario/scenario.hpp"
#include "scenario/validate.hpp"

namespace hcpsim {

struct ParseOptions {
  std::string base_dir = ".";     // resolves relative paths (model.hf_config, calibration)
  std::string default_name = "scenario";
  std::string source_name = "<scenario>";  // file name for JSON syntax errors
  ValidationScope scope = ValidationScope::Full;  // LayoutFree: a sweep's base (validate.hpp)
};

// Parses and validates. Throws InputError (exit code 2 material).
Scenario parse_scenario_text(std::string_view json_text, const ParseOptions& options);
Scenario load_scenario_file(const std::string& path, ValidationScope scope = ValidationScope::Full);

// How a file's contents are read: relative paths against its folder, its stem as the default
// name, its path in syntax errors.
ParseOptions parse_options_for_file(const std::string& path);

// "2.18.0", "1.12", "2.8.0+cu130" -> the version; nullopt when it is none.
std::optional<Version> parse_version(const std::string& text);

// The top-level keys a scenario may have (for documentation and suggestions).
const std::vector<std::string>& scenario_top_level_keys();

}  // namespace hcpsim

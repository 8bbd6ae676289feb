// Parsing a scenario in a test: the scenario when it is valid, every diagnostic when not.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/diagnostics.hpp"
#include "scenario/parse.hpp"

namespace hcpsim::test {

struct Outcome {
  bool valid = false;
  Scenario scenario;
  std::vector<Diagnostic> errors;
};

// Relative paths (hf_config, calibration) resolve against `base_dir`.
inline Outcome parse(const nlohmann::json& j, const std::string& base_dir = HCPSIM_SOURCE_DIR "/scenarios") {
  Outcome o;
  try {
    ParseOptions opt;
    opt.base_dir = base_dir;
    o.scenario = parse_scenario_text(j.is_string() ? j.get<std::string>() : j.dump(), opt);
    o.valid = true;
  } catch (const InputError& e) {
    o.errors = e.diagnostics();
  }
  return o;
}

// Whether a diagnostic names `path`.
inline bool has_error_at(const Outcome& o, const std::string& path) {
  for (const Diagnostic& d : o.errors)
    if (d.path == path) return true;
  return false;
}

inline std::string describe(const Outcome& o) {
  std::string s = o.valid ? "valid" : "invalid:\n";
  for (const auto& d : o.errors) s += "  " + d.str() + "\n";
  return s;
}

}  // namespace hcpsim::test

#include "diagnostics.hpp"

namespace hcpsim {

std::string Diagnostic::str() const {
  std::string s = "error: " + (path.empty() ? std::string("<file>") : path) + ": " + what;
  if (!rule.empty()) s += " (" + rule + ")";
  if (!fix.empty()) s += " \u2014 " + fix;
  return s;
}

static std::string join(const std::vector<Diagnostic>& d) {
  std::string s;
  for (const auto& x : d) s += x.str() + "\n";
  return s;
}

ScenarioError::ScenarioError(std::vector<Diagnostic> diagnostics)
    : std::runtime_error(join(diagnostics)), diagnostics_(std::move(diagnostics)) {}

}  // namespace hcpsim

#include "common/diagnostics.hpp"

#include <algorithm>

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

bool DiagnosticSink::spoiled(const std::string& path) const {
  const std::string section = path.substr(0, path.find('.'));
  const size_t n = std::min(spoil_limit_, blocking_paths_.size());
  for (size_t i = 0; i < n; ++i) {
    const std::string& bad = blocking_paths_[i];
    if (bad == path || bad.empty()) return true;
    if (path.size() > bad.size() && path.compare(0, bad.size(), bad) == 0 && path[bad.size()] == '.') return true;
    if (bad == section + ".preset" || bad == section + ".hf_config") return true;
    // A broken part spoils the whole: "x.sizes[0]" spoils "x.sizes", "model.num_layers" spoils "model".
    if (bad.size() > path.size() && bad.compare(0, path.size(), path) == 0 &&
        (bad[path.size()] == '[' || bad[path.size()] == '.'))
      return true;
  }
  return false;
}

InputError::InputError(std::vector<Diagnostic> diagnostics)
    : std::runtime_error(join(diagnostics)), diagnostics_(std::move(diagnostics)) {}

}  // namespace hcpsim

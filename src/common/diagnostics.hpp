// User-input errors: each names the JSON path, what is wrong, the rule, and a fix.
// Printed as `error: <dotted.json.path>: <what> (<rule>) — <fix>`; the CLI exits 2.
// Internal invariants use assert, never these.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace hcpsim {

struct Diagnostic {
  std::string path;  // dotted JSON path, e.g. "parallel.context_parallel_size"
  std::string what;  // what is wrong, with the offending values
  std::string rule;  // the rule, short, e.g. "seq_length % (2*CP) == 0"
  std::string fix;   // how to fix it
  std::string str() const;  // "error: path: what (rule) — fix"
  friend bool operator==(const Diagnostic&, const Diagnostic&) = default;
};

// Thrown when user input is invalid (a scenario, a measurements or calibration file, a flag,
// a result file to merge); carries every problem found, not only the first. The CLI exits 2.
class InputError : public std::runtime_error {
 public:
  explicit InputError(std::vector<Diagnostic> diagnostics);
  const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }

 private:
  std::vector<Diagnostic> diagnostics_;
};

// Collects diagnostics while parsing/validating; throws them all at once.
class DiagnosticSink {
 public:
  void error(std::string path, std::string what, std::string rule, std::string fix) {
    blocking_paths_.push_back(path);
    list_.push_back({std::move(path), std::move(what), std::move(rule), std::move(fix)});
    ++blocking_;
  }
  // Whether the value at `path` is unusable: a blocking error at it, at one of
  // its parents ("model" for "model.hidden_size") or children ("model.num_layers"
  // for "model"), or at the source of its section (a bad "model.preset" spoils
  // every model field).
  bool spoiled(const std::string& path) const;
  // From now on, errors no longer spoil values: the rules checking
  // relationships between valid fields report problems, they do not create them.
  void freeze_spoiled() { spoil_limit_ = blocking_paths_.size(); }
  // The value at `path` is unusable although nothing is wrong with it as read: a mistyped
  // key that meant it left it at its default, which is not what the user wrote. Rules that
  // read it are skipped (spoiled), so that no error rests on a value nobody gave.
  void mark_spoiled(std::string path) { blocking_paths_.push_back(std::move(path)); }
  // An error that leaves the values read so far usable (an unknown key), so
  // that the cross-field rules still run and report their own problems.
  void non_blocking_error(std::string path, std::string what, std::string rule, std::string fix) {
    list_.push_back({std::move(path), std::move(what), std::move(rule), std::move(fix)});
  }
  // Runs `read`, a reader that throws InputError, and records its problems here instead;
  // nullopt when it threw.
  template <class Read>
  auto collect(Read&& read) -> std::optional<decltype(read())> {
    try {
      return read();
    } catch (const InputError& e) {
      for (const auto& d : e.diagnostics()) error(d.path, d.what, d.rule, d.fix);
      return std::nullopt;
    }
  }
  bool empty() const { return list_.empty(); }
  const std::vector<Diagnostic>& list() const { return list_; }
  size_t size() const { return list_.size(); }
  size_t blocking_count() const { return blocking_; }
  void throw_if_any() const {
    if (!list_.empty()) throw InputError(list_);
  }

 private:
  std::vector<Diagnostic> list_;
  std::vector<std::string> blocking_paths_;
  size_t blocking_ = 0;
  size_t spoil_limit_ = static_cast<size_t>(-1);
};

}  // namespace hcpsim

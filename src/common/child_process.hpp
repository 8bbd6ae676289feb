// Jobs in forked child processes: SimGrid runs one simulation per process, so every
// simulation runs in a child that sends its result back as text through a pipe. The class of
// an error crosses the boundary with it: an InputError in the child (a missing calibration
// file, say) comes back as that InputError, with its diagnostics, so the command still exits 2
// with the path, rule and fix; anything else comes back as a failure (exit 1).
//
// Wire format, one message per child: "R" + result, "I" + the diagnostics as JSON, or
// "E" + the error message.
#pragma once

#include <csignal>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "common/diagnostics.hpp"

namespace hcpsim {

// What a child that ran out of memory reports (a failed run's text; result_of_child throws
// std::bad_alloc for it).
inline constexpr const char* kChildOutOfMemory = "out of memory";

struct ChildOutcome {
  enum class Status { Ok, InputError, Failed };
  Status status = Status::Failed;
  std::string text;                     // Ok: the job's result; Failed: the exception's message or the signal
  std::vector<Diagnostic> diagnostics;  // InputError
  bool ok() const { return status == Status::Ok; }
};

// Runs `job` in a child process and returns how it ended.
ChildOutcome run_in_child(const std::function<std::string()>& job);

// The same, for a caller that wants the result or an exception: an InputError in the child is
// thrown again as an InputError, a failure as std::runtime_error.
std::string result_of_child(const std::function<std::string()>& job);

// Calls `work(i)` in a child for i in [0, n), at most `jobs` at once, and `done(i, outcome)`
// in the parent, in completion order. Stops starting jobs once `*stop` is set (a signal
// handler sets it); running children are then killed and not reported. Returns how many jobs
// were reported.
size_t run_pool(size_t n, int jobs, const std::function<std::string(size_t)>& work,
                const std::function<void(size_t, const ChildOutcome&)>& done, const volatile std::sig_atomic_t* stop);

}  // namespace hcpsim

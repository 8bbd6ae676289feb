// Runs many jobs, each in its own forked process (SimGrid: one simulation per
// process), at most `jobs` at once, and hands each result to the parent as it
// finishes. Children send their output through a pipe as run_in_child does
// ("R" + result, or "E" + error message).
#pragma once

#include <csignal>
#include <cstddef>
#include <functional>
#include <string>

namespace hcpsim {

struct PoolOutcome {
  bool ok = false;
  std::string text;  // the job's result, or the error (exception message, signal)
};

// Calls `work(i)` in a child for i in [0, n) and `done(i, outcome)` in the
// parent, in completion order. Stops starting jobs once `*stop` is set (a
// signal handler sets it); running children are then killed and not reported.
// Returns how many jobs were reported.
size_t run_pool(size_t n, int jobs, const std::function<std::string(size_t)>& work,
                const std::function<void(size_t, const PoolOutcome&)>& done, const volatile std::sig_atomic_t* stop);

}  // namespace hcpsim

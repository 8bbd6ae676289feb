// SimGrid runs one simulation per process, so every simulation after the
// first runs in a forked child that sends its result back as text.
#pragma once

#include <functional>
#include <string>

namespace hcpsim {

// Runs `job` in a child process and returns what it returned. A ScenarioError
// or std::exception in the child comes back as a std::runtime_error with its
// message; a crash (signal) as a std::runtime_error naming the signal.
std::string run_in_child(const std::function<std::string()>& job);

}  // namespace hcpsim

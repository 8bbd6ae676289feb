// --require-fit and --require-margin: the exit code a script tests, from the memory estimate.
#include <algorithm>
#include <iostream>

#include "cli/cli.hpp"
#include "cli/commands.hpp"
#include "common/strprintf.hpp"
#include "memory/allocator_margin_words.hpp"
#include "memory/estimate.hpp"
#include "run/result.hpp"

namespace hcpsim {

int fit_requirement_exit(const CliOptions& opt, const SimulationResult* r, const std::string& what) {
  if (!opt.require_fit && !opt.require_margin) return kExitOk;
  const char* flag = fit_requirement_flag(opt);
  if (!r) {  // `what` says why there is no recommendation: its first sentence (a dot inside a JSON path
             // or a number does not end one)
    size_t end = what.size();
    for (const char* stop : {". ", ".\n"}) end = std::min(end, what.find(stop));
    if (end == what.size() && !what.empty() && what.back() == '.') end = what.size() - 1;
    std::cerr << "hcpsim: " << flag << ": no recommendation: "
              << (what.empty() ? "no option fits in GPU memory" : what.substr(0, end)) << "\n";
    return kExitDoesNotFit;
  }
  const MemoryEstimate* m = &r->memory;
  if (!m->fits) {
    std::cerr << strprintf("hcpsim: %s: %s does not fit in GPU memory: peak %.1f GB of %.1f GB\n", flag, what.c_str(),
                           m->peak_bytes / 1e9, m->capacity_bytes / 1e9);
    return kExitDoesNotFit;
  }
  if (opt.require_margin && m->within_allocator_margin) {
    std::cerr << "hcpsim: " << flag << ": " << what << " fits, but " << allocator_margin_words(*m, r->scenario) << "\n";
    return kExitDoesNotFit;
  }
  return kExitOk;
}

}  // namespace hcpsim

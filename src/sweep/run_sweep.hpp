// Simulating a sweep's candidates: its shard of them, one forked process per
// simulation over the machine's cores, each finished result appended to the
// state folder at once (so an interrupted sweep keeps it and --resume skips it).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "sweep/outcome.hpp"
#include "sweep/space.hpp"

namespace hcpsim {

struct SweepRunOptions {
  int jobs = 1;
  int shard_index = 0;  // this run simulates candidates with index % shard_count == shard_index
  int shard_count = 1;
  std::string state_dir;
  bool resume = false;
  bool reproducible = false;
  bool progress = false;  // a progress bar on stderr
  // Simulate candidates whose memory estimate exceeds the GPU too (their step time, had they fit);
  // by default they are listed as Unfit with the estimate, which is what a simulation would report.
  bool simulate_unfit = false;
};

struct SweepRun {
  SweepOutcome outcome;   // this shard's candidates (rejected ones included)
  int reused = 0;         // results taken from the state folder (--resume)
  int simulated = 0;      // simulations run now
  bool interrupted = false;
  int64_t set_aside = 0;  // results of an earlier sweep in the state folder, kept as its previous log (no --resume)
  int64_t unreadable_set_aside = 0;  // lines of the state's log that are no result, moved to its previous log (--resume)
  // When every simulation run now failed on one and the same input error (a calibration
  // file that cannot be read, say): that error. The sweep then stops with it (exit 2)
  // instead of reporting that no option fits.
  std::optional<std::vector<Diagnostic>> common_input_error;
};

// The row of a candidate without a simulation: rejected, unfit (unless `simulate_unfit`), or
// before it runs.
SweepRow candidate_row(const SweepCandidate& c, bool simulate_unfit);

// `meta` becomes the outcome's meta (shard and digest are set here).
SweepRun run_sweep(const SweepSpace& space, const SweepRunOptions& opt, SweepMeta meta);

}  // namespace hcpsim

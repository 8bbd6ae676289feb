// Simulating a sweep's candidates: its shard of them, one forked process per
// simulation over the machine's cores, each finished result appended to the
// state folder at once (so an interrupted sweep keeps it and --resume skips it).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

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
};

struct SweepRun {
  SweepOutcome outcome;   // this shard's candidates (rejected ones included)
  int reused = 0;         // results taken from the state folder (--resume)
  int simulated = 0;      // simulations run now
  bool interrupted = false;
};

// The row of a candidate without a simulation (rejected, or before it runs).
nlohmann::json candidate_row(const SweepCandidate& c);

// `meta` becomes the outcome's meta (shard and digest are added).
SweepRun run_sweep(const SweepSpace& space, const SweepRunOptions& opt, nlohmann::json meta);

}  // namespace hcpsim

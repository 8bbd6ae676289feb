// What one simulation produced: every executed op with its simulated start and
// end, the bytes each link carried, and how much work SimGrid did. Plain data:
// metrics, reports and traces read it without including SimGrid.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "workload/workload.hpp"
#include "topology/cluster_graph.hpp"

namespace hcpsim {

struct OpRecord {
  int32_t phase = 0;  // index into the programs handed to the executor (0 = layer, 1 = step, ...)
  int32_t rank = 0;
  int32_t op = 0;     // Op::id in that rank's program of that phase
  double start_s = 0; // when the op started running (all deps done, stream free; for comms: transfer began)
  double ready_s = 0; // when its deps were done and its stream free (for comms: when this rank arrived)
  double end_s = 0;
};

struct LinkRecord {
  int32_t phase = 0;           // the phase whose flows these are
  std::string name;            // graph link name + "_UP"/"_DOWN"
  LinkClass cls = LinkClass::NvLink;
  double bandwidth_bytes_per_s = 0;
  double bytes = 0;            // total bytes that crossed this direction
  double busy_s = 0;           // time with at least one flow moving bytes on it (after its route latency)
};

// How one phase was simulated (replica folding, engine/replica_folding.hpp).
struct PhaseRecord {
  std::string name;
  int64_t simulated_ranks = 0;  // ranks with an actor in this phase
  bool folded = false;          // only some replicas ran; the others are identical copies
  int64_t replicas = 1;         // replicas the simulated ranks stand for (1 unless folded)
  std::string fold_note;        // why it was (not) folded; empty when folding was not asked for
  // Per global rank: the simulated rank whose records stand for it (itself when it ran), -1 where
  // the rank has no program in the phase.
  std::vector<int32_t> stand_in;
};

struct Timeline {
  std::vector<OpRecord> ops;         // every executed op of every simulated rank
  std::vector<double> phase_end_s;   // simulated time at which each phase finished (all ranks)
  std::vector<double> phase_start_s; // and started
  std::vector<PhaseRecord> phases;   // per phase: ranks simulated, folding
  std::vector<LinkRecord> links;     // per phase, only links that carried traffic (of the simulated ranks)
  std::vector<int32_t> simulated_ranks;  // ranks that ran (all, or one DP replica when folded)
  int64_t activities = 0;            // SimGrid activities (execs + comm flows) created
  double wall_s = 0;                 // host time spent simulating
};

}  // namespace hcpsim

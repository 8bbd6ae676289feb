// How hcpcal was launched and where its ranks are: plain logic, no CUDA, NCCL or MPI, so the
// CPU tests (tests/hcpcal/test_hcpcal_launch.cpp) cover it.
//
// Launch modes: one process per GPU under mpirun (OpenMPI: OMPI_COMM_WORLD_*; MPICH/Hydra:
// PMI_RANK/PMI_SIZE, MPI_LOCALRANKID) or srun (SLURM_PROCID/SLURM_NTASKS/SLURM_LOCALID), or a
// single process; in either, `-g N` makes each process drive N GPUs (global NCCL rank =
// process * N + slot, as nccl-tests' -g). Ranks are placed on nodes from the hostnames every
// process reports (first appearance order), not from the launcher's mapping policy.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "rules/collective.hpp"

namespace hcpcal {

using hcpsim::CollectiveLayout;
using hcpsim::CommPattern;
namespace collective = hcpsim::collective;

enum class Launcher { kSingle, kOpenMpi, kPmi, kSlurm };
const char* launcher_name(Launcher l);  // "single" | "openmpi" | "pmi" | "slurm"

struct LaunchInfo {
  Launcher launcher = Launcher::kSingle;
  int processes = 1;        // world size of the launcher
  int process = 0;          // this process's rank among them
  int local_process = 0;    // its rank among the processes of its node
  int local_processes = 1;  // processes on its node (1 when the launcher does not say)
  int gpus_per_process = 1; // -g
  int ranks() const { return processes * gpus_per_process; }
  int first_rank() const { return process * gpus_per_process; }
};

// Reads the launcher's variables through `env` (std::getenv in hcpcal; a map in tests).
// Throws std::invalid_argument naming the variable when one is present but not a valid rank.
using EnvLookup = std::function<const char*(const char*)>;
LaunchInfo detect_launch(const EnvLookup& env, int gpus_per_process);

// The CUDA device of slot `slot` (0..gpus_per_process-1) of this process, given how many
// devices it sees: with every GPU of the node visible, local_process * gpus_per_process +
// slot; with only its own visible (srun --gpus-per-task, CUDA_VISIBLE_DEVICES per rank), slot.
// Throws std::invalid_argument when it sees too few.
int device_for_slot(const LaunchInfo& l, int slot, int visible_devices);

struct RankPlace {
  int node = 0;       // index of the node, in order of first appearance
  int local_gpu = 0;  // index among the node's ranks, in rank order (the rail)
};

struct Placement {
  std::vector<RankPlace> ranks;     // by global rank
  std::vector<std::string> nodes;   // hostnames by node index
  int gpus_per_node = 0;            // ranks on the fullest node
  bool uniform = true;              // every node has gpus_per_node ranks
  int node_count() const { return static_cast<int>(nodes.size()); }
};

// `process_hosts[p]` is process p's hostname; each process drives gpus_per_process ranks.
Placement place_ranks(const std::vector<std::string>& process_hosts, int gpus_per_process);

// The group layouts the NCCL suite measures. Every rank belongs to exactly one group of a
// layout; all groups of a layout run at once (as a job's TP/CP groups do).
// (The layouts and collectives, their names, bus bandwidth factors and buffer sizes are
// hcpsim's rules/collective.hpp, shared with the fit that reads the measurements.)
struct GroupLayout {
  CollectiveLayout layout;
  std::vector<int> color;  // by global rank: the group it joins (ncclCommSplit's color)
  std::vector<int> key;    // by global rank: its position in that group
  int group_size = 0;
};

// intra-node: the ranks of one node (needs >= 2 per node); cross-node same rail: the ranks
// of one local GPU index across nodes (needs >= 2 nodes); cross-node cross rail: one rank per
// node, each on a different rail: node n, rail (c + n) mod G for group c (needs >= 2 nodes,
// nodes <= G, G >= 2). With one rank: one intra-node group of 1. `why_not` gets, for each
// layout left out, why.
std::vector<GroupLayout> group_layouts(const Placement& p, std::vector<std::string>* why_not);

// Members of group `color` of a layout, in key order.
std::vector<int> group_members(const GroupLayout& g, int color);

// A CP exchange names one group (CpGroup: global ranks in group order), but ncclCommSplit is
// collective over every rank: the whole partition its siblings form must be known. The CP
// groups are of three families, recognised from the one group: the whole world (every rank,
// any order), a block of n consecutive ranks (the a2a+p2p inner groups: color r / n), or n
// ranks of stride world / n (the outer rings: color r mod stride). Siblings are translates of
// the group, in the same order: key[r] = position of r's counterpart in `group`. Throws
// std::invalid_argument for any other group.
struct SplitPlan {
  std::vector<int> color, key;  // by global rank
};
SplitPlan split_plan(const std::vector<int>& group, int world);

// Message sizes -b..-e by -f, each rounded down to a multiple of `granule` bytes (at least one
// granule), duplicates dropped: the NCCL suite's sizes (granule = 2 bytes x ranks so every
// rank's share is whole bf16 elements).
std::vector<long long> message_sizes(long long min_bytes, long long max_bytes, double factor, long long granule);

// Per-rank timings of one measurement merged into one: the collective ends when its slowest
// rank ends, so median = max over ranks of each rank's median (nccl-tests averages by default,
// -a 1; the max is the conservative choice), min = min of mins, max = max of maxes, wrong summed.
struct RankTiming {
  double median_s = 0, min_s = 0, max_s = 0;
  long long wrong = 0;
};
RankTiming merge_rank_timings(const std::vector<RankTiming>& per_rank);

// The CP suite on real ranks: each process summarises its local ranks' results of one pass
// configuration (pass times on the rank's own streams, its check, its pool peak, each
// attention kernel's median/min/max), sends them to process 0 as text (encode/decode: one
// line per rank and per kernel, numbers exact, labels last so they may hold spaces), and
// process 0 merges every process's text into the table row and the record.
struct CpKernelStat {
  std::string label;
  double median_s = 0, min_s = 0, max_s = 0;
};
struct CpRankResult {
  int rank = 0;                       // global CP rank
  RankTiming pass;                    // its pass times and wrong count
  unsigned long long peak_bytes = 0;  // its pool's high-water mark
  std::vector<CpKernelStat> kernels;  // in launch order
};
std::string encode_cp_results(const std::vector<CpRankResult>& ranks);
// Throws std::invalid_argument on text encode_cp_results did not write.
std::vector<CpRankResult> decode_cp_results(const std::string& text);

struct CpMerged {
  RankTiming pass;                       // merge_rank_timings over the ranks: the slowest median
  double kernels_s = 0;                  // the slowest rank's sum of its kernels' medians
  std::vector<unsigned long long> peak_bytes;  // by rank
  std::vector<CpRankResult> ranks;       // by rank
};
// `per_process[p]` is process p's encode_cp_results text; every rank 0..world-1 must appear
// exactly once (throws std::invalid_argument naming the rank otherwise).
CpMerged merge_cp_results(const std::vector<std::string>& per_process, int world);

}  // namespace hcpcal

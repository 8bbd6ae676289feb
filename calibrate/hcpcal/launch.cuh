// hcpcal's NCCL ranks: the NCCL world of the ranks this process drives (-g slots), bootstrapped
// through the process group (launch_mpi.h), with communicators split per group layout, cached.
#pragma once
#include <cuda_runtime.h>
#include <nccl.h>

#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "device_util.cuh"
#include "launch.h"
#include "launch_mpi.h"

namespace hcpcal {

void check_nccl(ncclResult_t r, const char* expr, const char* file, int line);
#define HCPCAL_NCCL_CHECK(expr) ::hcpcal::check_nccl((expr), #expr, __FILE__, __LINE__)

// "2.28.9" from ncclGetVersion.
std::string nccl_version_text();

// The ranks this process drives: slot s is global rank first_rank + s on devices[s].
class NcclWorld {
 public:
  NcclWorld(const ProcessGroup& pg, const LaunchInfo& l, Placement placement);
  ~NcclWorld();
  NcclWorld(const NcclWorld&) = delete;
  NcclWorld& operator=(const NcclWorld&) = delete;

  int ranks() const { return launch_.ranks(); }
  int slots() const { return launch_.gpus_per_process; }
  int rank_of(int slot) const { return launch_.first_rank() + slot; }
  int device(int slot) const { return devices_[slot]; }
  cudaStream_t stream(int slot) const { return streams_[slot]; }
  ncclComm_t world_comm(int slot) const { return world_[slot]; }
  const Placement& placement() const { return placement_; }
  const ProcessGroup& processes() const { return pg_; }
  bool writer() const { return pg_.rank() == 0; }  // the process that prints and writes the file

  // The communicators (by slot) of `layout`'s groups: ncclCommSplit of the world by color and
  // key, made once and cached under `name`. A layout whose one group is the world uses it.
  const std::vector<ncclComm_t>& split(const std::string& name, const std::vector<int>& color,
                                       const std::vector<int>& key);

 private:
  const ProcessGroup& pg_;
  LaunchInfo launch_;
  Placement placement_;
  std::vector<int> devices_;
  std::vector<cudaStream_t> streams_;
  std::vector<ncclComm_t> world_;
  std::map<std::string, std::vector<ncclComm_t>> splits_;
};

// Median, min and max of per-iteration times (not empty).
TimeStats stats_of(std::vector<double> t);

// The largest of every process's `mine`.
double max_over_processes(const NcclWorld& w, double mine);

// Runs `run(call)` (which enqueues the work of every slot, NCCL calls inside one group)
// warmup_runs(o, the first run's time on the slowest rank of all processes) times (the first
// included; the same count in every process), then o.iters times between events on each
// slot's `streams[slot]`; one TimeStats per slot.
std::vector<TimeStats> time_on_slots(const NcclWorld& w, const std::vector<cudaStream_t>& streams,
                                     const std::function<void(int)>& run, const Options& o);

// Every rank's timing and wrong count (this process's by slot) merged over all processes
// (merge_rank_timings: the slowest rank's median).
RankTiming merge_over_ranks(const NcclWorld& w, const std::vector<TimeStats>& per_slot,
                            const std::vector<long long>& wrong_per_slot);

}  // namespace hcpcal

#include "launch.cuh"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <set>

#include "cuda_check.h"

namespace hcpcal {

void check_nccl(ncclResult_t r, const char* expr, const char* file, int line) {
  if (r == ncclSuccess || r == ncclInProgress) return;
  throw std::runtime_error(std::string(expr) + " failed at " + file + ":" + std::to_string(line) + ": " +
                           ncclGetErrorString(r));
}

std::string nccl_version_text() {
  int v = 0;
  if (ncclGetVersion(&v) != ncclSuccess) return "";
  // NCCL_VERSION(X,Y,Z) = X*10000 + Y*100 + Z since 2.9.
  return std::to_string(v / 10000) + "." + std::to_string(v / 100 % 100) + "." + std::to_string(v % 100);
}

NcclWorld::NcclWorld(const ProcessGroup& pg, const LaunchInfo& l, Placement placement)
    : pg_(pg), launch_(l), placement_(std::move(placement)) {
  int visible = 0;
  HCPSIM_CUDA_CHECK(cudaGetDeviceCount(&visible));
  for (int s = 0; s < slots(); ++s) devices_.push_back(device_for_slot(l, s, visible));
  ncclUniqueId id{};
  if (pg_.rank() == 0) HCPCAL_NCCL_CHECK(ncclGetUniqueId(&id));
  pg_.broadcast(&id, sizeof id);  // the bootstrap over MPI
  world_.resize(slots());
  streams_.resize(slots());
  for (int s = 0; s < slots(); ++s) {
    HCPSIM_CUDA_CHECK(cudaSetDevice(devices_[s]));
    HCPSIM_CUDA_CHECK(cudaStreamCreateWithFlags(&streams_[s], cudaStreamNonBlocking));
  }
  HCPCAL_NCCL_CHECK(ncclGroupStart());
  for (int s = 0; s < slots(); ++s) {
    HCPSIM_CUDA_CHECK(cudaSetDevice(devices_[s]));
    HCPCAL_NCCL_CHECK(ncclCommInitRank(&world_[s], ranks(), id, rank_of(s)));
  }
  HCPCAL_NCCL_CHECK(ncclGroupEnd());
  HCPSIM_CUDA_CHECK(cudaSetDevice(devices_[0]));
}

NcclWorld::~NcclWorld() {
  for (auto& [name, comms] : splits_)
    if (comms != world_)
      for (ncclComm_t c : comms) ncclCommDestroy(c);
  for (ncclComm_t c : world_) ncclCommDestroy(c);
  for (cudaStream_t s : streams_) cudaStreamDestroy(s);
}

const std::vector<ncclComm_t>& NcclWorld::split(const std::string& name, const std::vector<int>& color,
                                                const std::vector<int>& key) {
  const auto it = splits_.find(name);
  if (it != splits_.end()) return it->second;
  bool is_world = std::set<int>(color.begin(), color.end()).size() == 1;
  for (size_t r = 0; r < key.size(); ++r) is_world = is_world && key[r] == int(r);
  if (is_world) return splits_.emplace(name, world_).first->second;
  std::vector<ncclComm_t> comms(slots());
  HCPCAL_NCCL_CHECK(ncclGroupStart());
  for (int s = 0; s < slots(); ++s) {
    HCPSIM_CUDA_CHECK(cudaSetDevice(devices_[s]));
    HCPCAL_NCCL_CHECK(ncclCommSplit(world_[s], color[rank_of(s)], key[rank_of(s)], &comms[s], nullptr));
  }
  HCPCAL_NCCL_CHECK(ncclGroupEnd());
  HCPSIM_CUDA_CHECK(cudaSetDevice(devices_[0]));
  return splits_.emplace(name, std::move(comms)).first->second;
}

TimeStats stats_of(std::vector<double> t) {
  assert(!t.empty());
  std::sort(t.begin(), t.end());
  TimeStats st;
  st.iterations = int(t.size());
  st.min_s = t.front();
  st.max_s = t.back();
  st.median_s = t.size() % 2 ? t[t.size() / 2] : 0.5 * (t[t.size() / 2 - 1] + t[t.size() / 2]);
  return st;
}

double max_over_processes(const NcclWorld& w, double mine) {
  double m = mine;
  for (double v : w.processes().allgather(std::vector<double>{mine})) m = std::max(m, v);
  return m;
}

std::vector<TimeStats> time_on_slots(const NcclWorld& w, const std::vector<cudaStream_t>& streams,
                                     const std::function<void(int)>& run, const Options& o) {
  const int n = w.slots();
  std::vector<cudaEvent_t> a(n), b(n);
  for (int s = 0; s < n; ++s) {
    HCPSIM_CUDA_CHECK(cudaSetDevice(w.device(s)));
    HCPSIM_CUDA_CHECK(cudaEventCreate(&a[s]));
    HCPSIM_CUDA_CHECK(cudaEventCreate(&b[s]));
  }
  int call = 0;
  auto timed_run = [&] {  // seconds on each slot
    for (int s = 0; s < n; ++s) {
      HCPSIM_CUDA_CHECK(cudaSetDevice(w.device(s)));
      HCPSIM_CUDA_CHECK(cudaEventRecord(a[s], streams[s]));
    }
    run(call++);
    for (int s = 0; s < n; ++s) {
      HCPSIM_CUDA_CHECK(cudaSetDevice(w.device(s)));
      HCPSIM_CUDA_CHECK(cudaEventRecord(b[s], streams[s]));
    }
    std::vector<double> secs(n);
    for (int s = 0; s < n; ++s) {
      HCPSIM_CUDA_CHECK(cudaEventSynchronize(b[s]));
      float ms = 0;
      HCPSIM_CUDA_CHECK(cudaEventElapsedTime(&ms, a[s], b[s]));
      secs[s] = ms * 1e-3;
    }
    return secs;
  };
  // The first warm-up run sizes the warm-up; every process runs as many (NCCL calls must
  // match), sized by the slowest rank's first run.
  const std::vector<double> first = timed_run();
  const double first_s = max_over_processes(w, *std::max_element(first.begin(), first.end()));
  for (int i = 1, runs = warmup_runs(o, first_s); i < runs; ++i) run(call++);
  std::vector<std::vector<double>> t(n);
  for (int i = 0; i < o.iters; ++i) {
    const std::vector<double> secs = timed_run();
    for (int s = 0; s < n; ++s) t[s].push_back(secs[s]);
  }
  std::vector<TimeStats> out;
  for (int s = 0; s < n; ++s) {
    cudaEventDestroy(a[s]);
    cudaEventDestroy(b[s]);
    out.push_back(stats_of(std::move(t[s])));
  }
  HCPSIM_CUDA_CHECK(cudaSetDevice(w.device(0)));
  return out;
}

RankTiming merge_over_ranks(const NcclWorld& w, const std::vector<TimeStats>& per_slot,
                            const std::vector<long long>& wrong_per_slot) {
  std::vector<double> mine;
  for (int s = 0; s < w.slots(); ++s)
    mine.insert(mine.end(), {per_slot[s].median_s, per_slot[s].min_s, per_slot[s].max_s, double(wrong_per_slot[s])});
  const std::vector<double> all = w.processes().allgather(mine);
  std::vector<RankTiming> ranks;
  for (size_t i = 0; i + 3 < all.size(); i += 4) ranks.push_back({all[i], all[i + 1], all[i + 2], (long long)all[i + 3]});
  return merge_rank_timings(ranks);
}

}  // namespace hcpcal

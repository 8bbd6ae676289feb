#include "launch.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>
#include <stdexcept>

namespace hcpcal {

namespace {

// The integer value of variable `name`, or `fallback` when unset; throws when set but not an
// integer in [lo, hi).
int env_int(const EnvLookup& env, const char* name, int fallback, int lo, int hi) {
  const char* v = env(name);
  if (!v) return fallback;
  const std::string text(v);
  size_t used = 0;
  long long x = -1;
  try {
    x = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (text.empty() || used != text.size() || x < lo || x >= hi)
    throw std::invalid_argument(std::string("environment ") + name + "='" + text + "' is not an integer in [" +
                                std::to_string(lo) + ", " + std::to_string(hi) + ") (check the launcher)");
  return int(x);
}

constexpr int kMaxProcesses = 1 << 20;

// SLURM_TASKS_PER_NODE looks like "8(x2),4": the leading count is this job's first node's.
int slurm_tasks_per_node(const EnvLookup& env) {
  if (env("SLURM_NTASKS_PER_NODE")) return env_int(env, "SLURM_NTASKS_PER_NODE", 1, 1, kMaxProcesses);
  const char* v = env("SLURM_TASKS_PER_NODE");
  if (!v) return 1;
  const std::string text(v);
  const size_t digits = text.find_first_not_of("0123456789");
  if (digits == 0) return 1;
  return std::max(1, std::stoi(text.substr(0, digits)));
}

}  // namespace

const char* launcher_name(Launcher l) {
  switch (l) {
    case Launcher::kSingle: return "single";
    case Launcher::kOpenMpi: return "openmpi";
    case Launcher::kPmi: return "pmi";
    case Launcher::kSlurm: return "slurm";
  }
  return "?";
}

LaunchInfo detect_launch(const EnvLookup& env, int gpus_per_process) {
  if (gpus_per_process < 1) throw std::invalid_argument("-g: GPUs per process must be >= 1");
  LaunchInfo l;
  l.gpus_per_process = gpus_per_process;
  const char *size_var = nullptr, *rank_var = nullptr, *local_var = nullptr, *local_size_var = nullptr;
  if (env("OMPI_COMM_WORLD_SIZE")) {
    l.launcher = Launcher::kOpenMpi;
    size_var = "OMPI_COMM_WORLD_SIZE", rank_var = "OMPI_COMM_WORLD_RANK";
    local_var = "OMPI_COMM_WORLD_LOCAL_RANK", local_size_var = "OMPI_COMM_WORLD_LOCAL_SIZE";
  } else if (env("PMI_SIZE")) {
    l.launcher = Launcher::kPmi;
    size_var = "PMI_SIZE", rank_var = "PMI_RANK", local_var = "MPI_LOCALRANKID", local_size_var = "MPI_LOCALNRANKS";
  } else if (env("SLURM_NTASKS") && env("SLURM_PROCID")) {
    l.launcher = Launcher::kSlurm;
    size_var = "SLURM_NTASKS", rank_var = "SLURM_PROCID", local_var = "SLURM_LOCALID";
  } else {
    return l;
  }
  l.processes = env_int(env, size_var, 1, 1, kMaxProcesses);
  if (!env(rank_var)) throw std::invalid_argument(std::string("environment ") + size_var + " is set but " + rank_var +
                                                  " is not (check the launcher)");
  l.process = env_int(env, rank_var, 0, 0, l.processes);
  l.local_processes = local_size_var ? env_int(env, local_size_var, 1, 1, l.processes + 1) : slurm_tasks_per_node(env);
  l.local_processes = std::min(l.local_processes, l.processes);
  l.local_process = env_int(env, local_var, 0, 0, l.processes);
  if (l.local_process >= l.local_processes) l.local_processes = l.local_process + 1;  // the launcher undercounted
  return l;
}

int device_for_slot(const LaunchInfo& l, int slot, int visible_devices) {
  assert(slot >= 0 && slot < l.gpus_per_process);
  const int node_wide = l.local_process * l.gpus_per_process + slot;
  if (visible_devices >= l.local_processes * l.gpus_per_process && node_wide < visible_devices) return node_wide;
  if (visible_devices >= l.gpus_per_process) return slot;  // each process sees only its own GPUs
  throw std::invalid_argument("process " + std::to_string(l.process) + " sees " + std::to_string(visible_devices) +
                              " GPU(s) but drives " + std::to_string(l.gpus_per_process) +
                              " (-g); lower -g or make more GPUs visible (CUDA_VISIBLE_DEVICES)");
}

Placement place_ranks(const std::vector<std::string>& process_hosts, int gpus_per_process) {
  Placement p;
  std::map<std::string, int> node_of;
  std::vector<int> used;  // ranks placed so far, by node
  for (const auto& host : process_hosts) {
    auto it = node_of.find(host);
    if (it == node_of.end()) {
      it = node_of.emplace(host, p.node_count()).first;
      p.nodes.push_back(host);
      used.push_back(0);
    }
    for (int s = 0; s < gpus_per_process; ++s) p.ranks.push_back({it->second, used[it->second]++});
  }
  p.gpus_per_node = used.empty() ? 0 : *std::max_element(used.begin(), used.end());
  p.uniform = std::all_of(used.begin(), used.end(), [&](int n) { return n == p.gpus_per_node; });
  return p;
}

std::vector<GroupLayout> group_layouts(const Placement& p, std::vector<std::string>* why_not) {
  std::vector<GroupLayout> out;
  auto skip = [&](const std::string& why) {
    if (why_not) why_not->push_back(why);
  };
  const int ranks = int(p.ranks.size()), N = p.node_count(), G = p.gpus_per_node;
  if (ranks == 1) {
    out.push_back({CollectiveLayout::IntraNode, {0}, {0}, 1});
    skip("group layouts need >= 2 ranks: every collective runs over one group of 1 rank (labelled intra-node)");
    return out;
  }
  if (!p.uniform) {
    skip("nodes hold different numbers of ranks: no group layout is measured (launch the same count on each node)");
    return out;
  }
  auto make = [&](CollectiveLayout l, int size, auto color_of) {
    GroupLayout g{l, {}, {}, size};
    for (const RankPlace& r : p.ranks) {
      g.color.push_back(color_of(r));
      g.key.push_back(l == CollectiveLayout::IntraNode ? r.local_gpu : r.node);
    }
    out.push_back(std::move(g));
  };
  if (G >= 2)
    make(CollectiveLayout::IntraNode, G, [](const RankPlace& r) { return r.node; });
  else
    skip("intra-node needs >= 2 ranks per node");
  if (N >= 2)
    make(CollectiveLayout::CrossNodeSameRail, N, [](const RankPlace& r) { return r.local_gpu; });
  else
    skip("cross-node layouts need >= 2 nodes");
  if (N >= 2 && G >= 2 && N <= G)
    make(CollectiveLayout::CrossNodeCrossRail, N, [G](const RankPlace& r) { return ((r.local_gpu - r.node) % G + G) % G; });
  else if (N >= 2)
    skip("cross-node-cross-rail needs >= 2 ranks per node and no more nodes than ranks per node");
  return out;
}

std::vector<int> group_members(const GroupLayout& g, int color) {
  std::vector<std::pair<int, int>> by_key;
  for (size_t r = 0; r < g.color.size(); ++r)
    if (g.color[r] == color) by_key.push_back({g.key[r], int(r)});
  std::sort(by_key.begin(), by_key.end());
  std::vector<int> out;
  for (const auto& kr : by_key) out.push_back(kr.second);
  return out;
}

SplitPlan split_plan(const std::vector<int>& group, int world) {
  const int n = int(group.size());
  auto fail = [&](const std::string& why) {
    std::string g;
    for (int r : group) g += (g.empty() ? "" : ",") + std::to_string(r);
    return std::invalid_argument("CP group {" + g + "} of " + std::to_string(world) + " ranks: " + why);
  };
  if (n < 1 || world % n != 0) throw fail("its size does not divide the world");
  std::vector<int> sorted = group;
  std::sort(sorted.begin(), sorted.end());
  for (int i = 0; i < n; ++i)
    if (sorted[i] < 0 || sorted[i] >= world || (i && sorted[i] == sorted[i - 1])) throw fail("ranks out of range or repeated");
  // The counterpart in `group` of rank r of a sibling: translate r by a multiple of the family's step.
  auto plan = [&](auto color_of, auto counterpart_of) {
    SplitPlan p;
    for (int r = 0; r < world; ++r) {
      p.color.push_back(color_of(r));
      const int c = counterpart_of(r);
      p.key.push_back(int(std::find(group.begin(), group.end(), c) - group.begin()));
    }
    return p;
  };
  const int stride = world / n;
  bool block = true, strided = true;
  for (int i = 0; i < n; ++i) {
    block = block && sorted[i] == sorted[0] + i && sorted[0] % n == 0;
    strided = strided && sorted[i] == sorted[0] + i * stride && sorted[0] < stride;
  }
  if (block) {  // also the whole world (n == world)
    const int base = sorted[0];
    return plan([n](int r) { return r / n; }, [n, base](int r) { return base + r % n; });
  }
  if (strided) {
    const int first = sorted[0];
    return plan([stride](int r) { return r % stride; }, [stride, first](int r) { return first + (r / stride) * stride; });
  }
  throw fail("neither consecutive ranks (a2a+p2p inner group) nor a stride of world / size (outer ring)");
}

std::vector<long long> message_sizes(long long min_bytes, long long max_bytes, double factor, long long granule) {
  assert(granule >= 1 && factor > 1);
  std::vector<long long> out;
  for (double x = double(min_bytes); x <= double(max_bytes) * 1.0001; x *= factor) {
    const long long want = std::min(static_cast<long long>(x), max_bytes);
    const long long b = std::max(granule, want / granule * granule);
    if (out.empty() || b > out.back()) out.push_back(b);
  }
  return out;
}

RankTiming merge_rank_timings(const std::vector<RankTiming>& per_rank) {
  assert(!per_rank.empty());
  RankTiming m = per_rank.front();
  m.wrong = 0;
  for (const RankTiming& r : per_rank) {
    m.median_s = std::max(m.median_s, r.median_s);
    m.min_s = std::min(m.min_s, r.min_s);
    m.max_s = std::max(m.max_s, r.max_s);
    m.wrong += r.wrong;
  }
  return m;
}

namespace {

// %.17g: a double survives the trip through text unchanged.
std::string exact(double x) {
  char b[40];
  std::snprintf(b, sizeof b, "%.17g", x);
  return b;
}

}  // namespace

std::string encode_cp_results(const std::vector<CpRankResult>& ranks) {
  std::string s;
  for (const CpRankResult& r : ranks) {
    s += "rank " + std::to_string(r.rank) + " " + exact(r.pass.median_s) + " " + exact(r.pass.min_s) + " " +
         exact(r.pass.max_s) + " " + std::to_string(r.pass.wrong) + " " + std::to_string(r.peak_bytes) + "\n";
    for (const CpKernelStat& k : r.kernels) {
      assert(k.label.find('\n') == std::string::npos);
      s += "kernel " + exact(k.median_s) + " " + exact(k.min_s) + " " + exact(k.max_s) + " " + k.label + "\n";
    }
  }
  return s;
}

std::vector<CpRankResult> decode_cp_results(const std::string& text) {
  std::vector<CpRankResult> out;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream in(line);
    std::string tag;
    in >> tag;
    bool ok = false;
    if (tag == "rank") {
      CpRankResult r;
      ok = bool(in >> r.rank >> r.pass.median_s >> r.pass.min_s >> r.pass.max_s >> r.pass.wrong >> r.peak_bytes) &&
           (in >> std::ws).eof();
      out.push_back(r);
    } else if (tag == "kernel" && !out.empty()) {
      CpKernelStat k;
      ok = bool(in >> k.median_s >> k.min_s >> k.max_s) && in.get() == ' ' && std::getline(in, k.label) &&
           !k.label.empty();
      out.back().kernels.push_back(k);
    }
    if (!ok) throw std::invalid_argument("CP results: unreadable line '" + line + "'");
  }
  return out;
}

CpMerged merge_cp_results(const std::vector<std::string>& per_process, int world) {
  CpMerged m;
  std::vector<bool> seen(world, false);
  m.ranks.resize(world);
  for (const std::string& text : per_process)
    for (CpRankResult& r : decode_cp_results(text)) {
      if (r.rank < 0 || r.rank >= world || seen[r.rank])
        throw std::invalid_argument("CP results: rank " + std::to_string(r.rank) + " is outside 0.." +
                                    std::to_string(world - 1) + " or reported twice");
      seen[r.rank] = true;
      m.ranks[r.rank] = std::move(r);
    }
  std::vector<RankTiming> pass;
  for (int r = 0; r < world; ++r) {
    if (!seen[r]) throw std::invalid_argument("CP results: no process reported rank " + std::to_string(r));
    pass.push_back(m.ranks[r].pass);
    m.peak_bytes.push_back(m.ranks[r].peak_bytes);
    double sum = 0;
    for (const CpKernelStat& k : m.ranks[r].kernels) sum += k.median_s;
    m.kernels_s = std::max(m.kernels_s, sum);
  }
  m.pass = merge_rank_timings(pass);
  return m;
}

}  // namespace hcpcal

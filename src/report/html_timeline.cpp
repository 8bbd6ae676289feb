#include "report/html_timeline.hpp"

#include <algorithm>
#include <map>

#include "run/metrics.hpp"

namespace hcpsim {

namespace {

constexpr double kMsPerS = 1e3;
constexpr int32_t kLayerPhase = 0;  // the executor's first phase is the layer

const char* kind_of(const Op& op) {
  if (op.kind == OpKind::Compute) return op.area == OpArea::Attention && !op.recompute ? "attention" : "compute";
  switch (op.stream) {
    case Stream::NcclCp:
    case Stream::NcclCpInner: return "cp comm";
    case Stream::NcclTp: return "tp comm";
    default: return "dp comm";
  }
}

// Parts of the sorted disjoint intervals `a` not covered by the sorted disjoint `b`.
std::vector<Interval> minus(const std::vector<Interval>& a, const std::vector<Interval>& b) {
  std::vector<Interval> out;
  for (auto [s, e] : a) {
    for (const auto& [bs, be] : b) {
      if (be <= s || bs >= e) continue;
      if (bs > s) out.push_back({s, bs});
      s = std::max(s, be);
      if (s >= e) break;
    }
    if (s < e) out.push_back({s, e});
  }
  return out;
}

}  // namespace

nlohmann::json layer_timeline_json(const Timeline& t, const Workload& w, size_t max_ranks) {
  std::vector<int32_t> ranks = t.simulated_ranks;
  std::sort(ranks.begin(), ranks.end());
  if (ranks.size() > max_ranks) ranks.resize(max_ranks);
  std::map<std::pair<int32_t, int>, int> track_of;  // (rank, stream) -> track
  std::map<int32_t, std::vector<Interval>> kernels, cp_comm;
  struct Bar {
    int32_t rank;
    int stream;
    double s, e;
    const char* kind;
    const std::string* label;
  };
  std::vector<Bar> bars;
  const double t0 = t.phase_start_s.empty() ? 0 : t.phase_start_s[kLayerPhase];
  for (const OpRecord& r : t.ops) {
    if (r.phase != kLayerPhase || !std::binary_search(ranks.begin(), ranks.end(), r.rank)) continue;
    const Op& op = w.layer.at(r.rank).ops.at(r.op);
    const char* kind = kind_of(op);
    bars.push_back({r.rank, static_cast<int>(op.stream), r.start_s - t0, r.end_s - t0, kind, &op.label});
    track_of[{r.rank, static_cast<int>(op.stream)}] = 0;
    if (op.kind == OpKind::Compute) kernels[r.rank].push_back({r.start_s - t0, r.end_s - t0});
    else if (std::string(kind) == "cp comm") cp_comm[r.rank].push_back({r.start_s - t0, r.end_s - t0});
  }
  nlohmann::json tracks = nlohmann::json::array();
  for (auto& [key, index] : track_of) {
    index = static_cast<int>(tracks.size());
    tracks.push_back("rank " + std::to_string(key.first) + " " + to_string(static_cast<Stream>(key.second)));
  }
  nlohmann::json jb = nlohmann::json::array();
  for (const Bar& b : bars)
    jb.push_back({{"t", track_of[{b.rank, b.stream}]}, {"s", b.s * kMsPerS}, {"e", b.e * kMsPerS}, {"k", b.kind}, {"n", *b.label}});
  nlohmann::json exposed = nlohmann::json::array();
  for (auto& [rank, comm] : cp_comm) {
    const auto gaps = minus(interval_union(comm), interval_union(kernels[rank]));
    const int track = track_of.count({rank, static_cast<int>(Stream::Compute)}) ? track_of[{rank, static_cast<int>(Stream::Compute)}]
                                                                                 : track_of.begin()->second;
    for (const auto& [s, e] : gaps) exposed.push_back({{"t", track}, {"s", s * kMsPerS}, {"e", e * kMsPerS}});
  }
  return {{"ranks_shown", ranks.size()}, {"ranks_simulated", t.simulated_ranks.size()}, {"tracks", tracks},
          {"bars", jb}, {"exposed", exposed}};
}

}  // namespace hcpsim

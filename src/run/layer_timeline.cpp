#include "run/layer_timeline.hpp"

#include <algorithm>
#include <map>

#include "run/metrics.hpp"
#include "run/phases.hpp"

namespace hcpsim {

namespace {

constexpr double kMsPerS = 1e3;

const char* kind_of(const Op& op) {
  if (op.kind == OpKind::Compute) return op.area == OpArea::Attention && !op.recompute ? "attention" : "compute";
  switch (op.stream) {
    case Stream::NcclCp:
    case Stream::NcclCpInner: return "cp comm";
    case Stream::NcclTp: return "tp comm";
    default: return "dp comm";
  }
}

}  // namespace

LayerTimeline layer_timeline(const Timeline& t, const Workload& w, size_t max_ranks) {
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
  LayerTimeline out;
  out.ranks_shown = static_cast<int64_t>(ranks.size());
  out.ranks_simulated = static_cast<int64_t>(t.simulated_ranks.size());
  for (auto& [key, index] : track_of) {
    index = static_cast<int>(out.tracks.size());
    out.tracks.push_back("rank " + std::to_string(key.first) + " " + to_string(static_cast<Stream>(key.second)));
  }
  for (const Bar& b : bars)
    out.bars.push_back({track_of[{b.rank, b.stream}], b.s * kMsPerS, b.e * kMsPerS, b.kind, *b.label});
  for (auto& [rank, comm] : cp_comm) {
    const auto gaps = interval_difference(interval_union(comm), interval_union(kernels[rank]));
    const int track = track_of.count({rank, static_cast<int>(Stream::Compute)}) ? track_of[{rank, static_cast<int>(Stream::Compute)}]
                                                                                 : track_of.begin()->second;
    for (const auto& [s, e] : gaps) out.exposed.push_back({track, s * kMsPerS, e * kMsPerS});
  }
  return out;
}

nlohmann::json to_json(const LayerTimeline& t) {
  nlohmann::json bars = nlohmann::json::array(), exposed = nlohmann::json::array();
  for (const TimelineBar& b : t.bars) bars.push_back({{"t", b.track}, {"s", b.start_ms}, {"e", b.end_ms}, {"k", b.kind}, {"n", b.label}});
  for (const TimelineSpan& x : t.exposed) exposed.push_back({{"t", x.track}, {"s", x.start_ms}, {"e", x.end_ms}});
  return {{"ranks_shown", t.ranks_shown}, {"ranks_simulated", t.ranks_simulated}, {"tracks", t.tracks},
          {"bars", bars}, {"exposed", exposed}};
}

// Read back in the process that reports: written by to_json in the child that simulated.
LayerTimeline layer_timeline_from_json(const nlohmann::json& j) {
  LayerTimeline t;
  t.ranks_shown = j.at("ranks_shown").get<int64_t>();
  t.ranks_simulated = j.at("ranks_simulated").get<int64_t>();
  t.tracks = j.at("tracks").get<std::vector<std::string>>();
  for (const auto& b : j.at("bars"))
    t.bars.push_back({b.at("t").get<int32_t>(), b.at("s").get<double>(), b.at("e").get<double>(), b.at("k").get<std::string>(),
                      b.at("n").get<std::string>()});
  for (const auto& x : j.at("exposed"))
    t.exposed.push_back({x.at("t").get<int32_t>(), x.at("s").get<double>(), x.at("e").get<double>()});
  return t;
}

}  // namespace hcpsim

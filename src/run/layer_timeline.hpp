// One simulated layer (forward + backward) per rank, as the HTML report draws it: a track per
// (rank, stream), a bar per op, and the exposed CP comm (CP comm in flight while no kernel of
// that rank runs, as attention_metrics counts it). Computed where the simulation ran, from its
// Timeline and Workload; crosses to the reporting process as JSON.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/timeline.hpp"
#include "workload/workload.hpp"

namespace hcpsim {

struct TimelineBar {
  int32_t track = 0;
  double start_ms = 0, end_ms = 0;  // since the layer started
  std::string kind;                 // "attention", "compute", "cp comm", "tp comm", "dp comm"
  std::string label;                // the op's label
  friend bool operator==(const TimelineBar&, const TimelineBar&) = default;
};

struct TimelineSpan {
  int32_t track = 0;
  double start_ms = 0, end_ms = 0;
  friend bool operator==(const TimelineSpan&, const TimelineSpan&) = default;
};

struct LayerTimeline {
  int64_t ranks_shown = 0, ranks_simulated = 0;
  std::vector<std::string> tracks;  // "rank 0 compute", ...
  std::vector<TimelineBar> bars;
  std::vector<TimelineSpan> exposed;  // exposed CP comm, on the rank's compute track
  friend bool operator==(const LayerTimeline&, const LayerTimeline&) = default;
};

// The first `max_ranks` simulated ranks of the layer phase.
LayerTimeline layer_timeline(const Timeline& t, const Workload& w, size_t max_ranks);

// {ranks_shown, ranks_simulated, tracks, bars: [{t, s, e, k, n}], exposed: [{t, s, e}]}: the
// compact form the report's page draws from.
nlohmann::json to_json(const LayerTimeline& t);
LayerTimeline layer_timeline_from_json(const nlohmann::json& j);

}  // namespace hcpsim

// One simulated layer (forward + backward) per rank, as the HTML report draws
// it: a track per (rank, stream), a bar per op, and the exposed CP comm (CP
// comm in flight while no kernel of that rank runs, as attention_metrics counts it).
#pragma once

#include <nlohmann/json.hpp>

#include "workload/workload.hpp"
#include "engine/timeline.hpp"

namespace hcpsim {

// {ranks_shown, ranks_simulated, tracks: ["rank 0 compute", ...],
//  bars: [{t: track, s: start_ms, e: end_ms, k: kind, n: label}], exposed: [{t, s, e}]}
// kinds: "attention", "compute", "cp comm", "tp comm", "dp comm"; the first
// `max_ranks` simulated ranks are kept.
nlohmann::json layer_timeline_json(const Timeline& t, const Workload& w, size_t max_ranks);

}  // namespace hcpsim

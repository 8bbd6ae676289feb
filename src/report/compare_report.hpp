// The HTML report of `hcpsim compare --report DIR`: DIR/index.html, self-contained (Chart.js
// inlined), read at a glance: the recommendation; cost against time to train, one point per
// option with its bands as error bars (GPU-hours where no option has a price); per-option bars of
// time to train and tokens/s per GPU; the winning layout's timeline (one layer, simulated again:
// sweep/timelines.hpp); and the table of options.
#pragma once

#include <optional>
#include <string>

#include "compare/compare.hpp"
#include "run/layer_timeline.hpp"
#include "sweep/outcome.hpp"

namespace hcpsim {

void write_compare_report(const std::string& dir, const Study& st, const ComparePlan& plan, const SweepOutcome& o,
                          const CompareResult& r, const std::optional<LayerTimeline>& winner_timeline);

}  // namespace hcpsim

// `--report DIR`: a self-contained HTML page (DIR/index.html; Chart.js is embedded at build
// time, nothing is fetched when it opens) with the ranked table, a chart of throughput and
// memory headroom per configuration, and the layer timelines (compute, each comm stream,
// exposed CP comm highlighted) of the rows it is handed. It simulates nothing.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "run/layer_timeline.hpp"
#include "sweep/outcome.hpp"

namespace hcpsim {

// Configurations the page's chart shows (one labelled row each), besides the recommendation;
// the ranked table lists every one.
inline constexpr int kChartRows = 30;

// Whether this hcpsim was built with Chart.js (libjs-chart.js) to embed.
bool html_report_available();

// The rows whose timelines the page shows: the `top` best fitting configurations, and the
// recommended one wherever it ranks.
std::vector<int> rows_with_timelines(const SweepOutcome& o, const SweepRecommendation& rec, int top);

// Writes DIR/index.html atomically; `timelines` by row index (rows_with_timelines's).
void write_sweep_report(const std::string& dir, const SweepOutcome& o, const SweepRecommendation& rec,
                        const std::map<int, LayerTimeline>& timelines);

}  // namespace hcpsim

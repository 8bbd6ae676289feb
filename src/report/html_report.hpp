// `--report DIR`: a self-contained HTML page (DIR/index.html; Chart.js is
// embedded at build time, nothing is fetched when it opens) with the ranked
// table, a chart of throughput and memory headroom per configuration, and for
// the top configurations a timeline of one layer on every simulated rank
// (compute, each comm stream, exposed CP comm highlighted).
#pragma once

#include <string>

#include "sweep/outcome.hpp"

namespace hcpsim {

// Whether this hcpsim was built with Chart.js (libjs-chart.js) to embed.
bool html_report_available();

// Re-simulates the `top` best fitting configurations (one forked process
// each) for their timelines, then writes DIR/index.html atomically.
void write_sweep_report(const std::string& dir, const SweepOutcome& o, const SweepRecommendation& rec, int top);

}  // namespace hcpsim

// The layer timelines a sweep's report shows, simulated again (the sweep's results keep only
// numbers), one forked process per row, `jobs` at once. A report does not simulate: it is
// handed these.
#pragma once

#include <cstddef>
#include <map>
#include <vector>

#include "run/layer_timeline.hpp"
#include "sweep/outcome.hpp"

namespace hcpsim {

// Ranks drawn per timeline (one CP group of a large run).
inline constexpr size_t kTimelineRanks = 16;

// Timelines of rows `rows` (indexes into o.rows, each simulated: status ok), by row index.
// Each row's scenario is rebuilt from its input document (relative paths against
// o.meta.base_dir). Throws InputError when a row's input no longer parses, std::runtime_error
// when a simulation fails.
std::map<int, LayerTimeline> simulate_timelines(const SweepOutcome& o, const std::vector<int>& rows, int jobs);

}  // namespace hcpsim

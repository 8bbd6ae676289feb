// A sweep's results as the user reads them: the ranked table with the recommendation, the
// JSON document (which `hcpsim merge` reads back) and CSV (one row per candidate, every
// metric of a single run flattened to dotted columns).
#pragma once

#include <string>

#include "sweep/outcome.hpp"

namespace hcpsim {

// The "format" of the JSON document, which `hcpsim merge` checks.
inline constexpr const char* kSweepFormat = "hcpsim-sweep/1";

std::string format_sweep_table(const SweepOutcome& o, const SweepRecommendation& rec);
std::string sweep_to_json(const SweepOutcome& o, const SweepRecommendation& rec);  // the document `merge` reads
std::string sweep_to_csv(const SweepOutcome& o);

}  // namespace hcpsim

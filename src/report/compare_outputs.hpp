// A comparison as the user reads it: the ranked table of options with the recommendation, the
// JSON document (which `hcpsim compare --merge` reads back: it carries every candidate row), and
// CSV (one row per option).
#pragma once

#include <string>

#include "compare/compare.hpp"
#include "sweep/outcome.hpp"

namespace hcpsim {

inline constexpr const char* kCompareFormat = "hcpsim-compare/1";

std::string format_compare_table(const Study& st, const ComparePlan& plan, const SweepOutcome& o, const CompareResult& r);
std::string compare_to_json(const Study& st, const ComparePlan& plan, const SweepOutcome& o, const CompareResult& r);
std::string compare_to_csv(const Study& st, const ComparePlan& plan, const SweepOutcome& o, const CompareResult& r);

}  // namespace hcpsim

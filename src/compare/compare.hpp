// `hcpsim compare`: one sweep over every option of a study (sweep/ runs it: pool, state folder,
// --resume, --shard), then per option its best layout, time to train, cost and energy, and the
// options ranked by time or cost with a recommendation worded from the numbers.
//
// Each option is one group of candidates; where its GPU count is not a power of two (144 =
// 2 x 72), a second group runs the job on the largest power-of-two subset (64 GPUs of each
// NVL72 rack, or the largest power-of-two number of nodes), whose idle GPUs are still paid
// for: TP, CP and the global batch rarely divide an odd factor, and the subset often admits the
// layouts the whole cannot. The option keeps whichever group trains faster.
#pragma once

#include <string>
#include <vector>

#include "compare/economics.hpp"
#include "compare/study.hpp"
#include "sweep/outcome.hpp"
#include "sweep/space.hpp"

namespace hcpsim {

struct CompareGroup {
  int option = 0;      // into Study::options
  bool subset = false;
  int64_t nodes = 0, gpus_used = 0, gpus_paid = 0;
  std::string key_prefix;  // "o2." (the whole), "o2s." (the subset): candidate keys begin with it
  Scenario base;           // the job on the GPUs this group uses (layout-free)
};

struct ComparePlan {
  std::vector<CompareGroup> groups;
  std::vector<std::string> notes;  // a subset that could not be formed, and why
  SweepSpace space;                // every group's candidates, keys prefixed by their group
};

// Throws InputError where an option's base cannot be swept.
ComparePlan plan_compare(const Study& st, const ParseOptions& opt);

enum class CompareRank { Time, Cost };

// Times to train this close are the same time: far inside any band, the simulation's own noise
// (a fabric variant that moves no critical traffic changes a step by parts per million).
inline constexpr double kSameTrainingTime = 1e-3;
bool same_time(double a_s, double b_s);

struct OptionVerdict {
  int option = 0;
  int group = -1;               // the group its best layout comes from; -1: none fits
  int row = -1;                 // that layout's row in the outcome; -1: none fits
  std::vector<int> runner_ups;  // next best fitting rows of the same group, best first (at most 3)
  int whole_row = -1;           // the best layout on all of the option's GPUs (-1: none fits)
  std::string layout_reasons;   // why this layout (the sweep's recommendation words)
  std::string none_why;         // where no layout fits or is valid
  int64_t valid = 0, fitting = 0, candidates = 0;
  TrainingEconomics econ;       // where row >= 0
};

struct CompareResult {
  std::vector<OptionVerdict> verdicts;  // one per study option, in study order
  std::vector<int> ranking;             // options with a layout, best first; then those without
  CompareRank rank = CompareRank::Time;
  std::string recommendation;           // in words, from the numbers
  std::vector<std::string> notes;       // e.g. a fabric variant that changes no layout's time
};

CompareResult decide_compare(const Study& st, const ComparePlan& plan, const SweepOutcome& outcome, CompareRank rank);

// The group a row belongs to (by its key's prefix); -1 when none.
int group_of_row(const ComparePlan& plan, const SweepRow& row);

}  // namespace hcpsim

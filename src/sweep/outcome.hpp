// A sweep's results, however they were obtained (one run, a resumed run, or
// shards merged): one row per candidate, ranked, tabled, exported, explained.
//
// A row is {index, key, label, digest, status, input, result | rejected_by | error}:
//   status "ok"        simulated; `result` is result_to_json of a single run
//   status "rejected"  `rejected_by` lists the validation rules it breaks
//   status "failed"    the simulation raised `error`
//   status "missing"   (merge only) no shard produced it
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace hcpsim {

struct SweepOutcome {
  // {scenario, source, base_dir, summary, space_digest, candidates_total, shard: {index, count} | shards: [...]}
  nlohmann::json meta;
  std::vector<nlohmann::json> rows;  // by "index"
};

struct SweepRecommendation {
  int row = -1;          // index into rows; -1 when nothing fits
  std::string reasons;   // plain words from the numbers
};

// Rows that fit, best tokens/s per GPU first (ties: enumeration order), then
// the simulated ones that do not fit, smallest shortfall first.
std::vector<int> ranked_rows(const SweepOutcome& o);

SweepRecommendation recommend_sweep(const SweepOutcome& o);

// Row accessors.
bool row_ok(const nlohmann::json& row);
bool row_fits(const nlohmann::json& row);
double row_tokens_per_s_per_gpu(const nlohmann::json& row);
double row_headroom_gb(const nlohmann::json& row);

}  // namespace hcpsim

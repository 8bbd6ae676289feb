// A sweep's results, however they were obtained (one run, a resumed run, or shards merged):
// one typed row per candidate, ranked and recommended here; tabled and exported by report/.
// Rows cross processes and files as JSON (sweep/outcome_json.hpp), read back once.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/diagnostics.hpp"
#include "run/result.hpp"

namespace hcpsim {

enum class RowStatus : uint8_t {
  Ok,        // simulated: `result`
  Rejected,  // `rejected_by` lists the validation rules it breaks
  Failed,    // the simulation raised `error`
  Missing,   // (merge only) no shard produced it
  Unfit,     // valid, but its memory estimate exceeds the GPU (`unfit`); not simulated
};
const char* to_string(RowStatus s);  // "ok", "rejected", "failed", "missing", "unfit"
inline constexpr RowStatus kRowStatuses[] = {RowStatus::Ok, RowStatus::Rejected, RowStatus::Failed, RowStatus::Missing,
                                             RowStatus::Unfit};

// Why a valid candidate was not simulated: its per-GPU memory estimate (memory/estimate.hpp, the
// same one a simulation reports) exceeds the GPU's capacity.
struct MemoryShortfall {
  double peak_bytes = 0, capacity_bytes = 0;
  std::string peak_phase;
  friend bool operator==(const MemoryShortfall&, const MemoryShortfall&) = default;
};

struct SweepRow {
  int index = 0;               // position in the enumeration
  std::string key, label, digest;
  nlohmann::json input;        // the candidate's scenario document (hcpsim runs it alone as it is)
  RowStatus status = RowStatus::Missing;
  std::optional<SimulationResult> result;  // status Ok
  std::vector<Diagnostic> rejected_by;     // status Rejected
  std::string error;                       // status Failed
  std::optional<MemoryShortfall> unfit;    // status Unfit

  bool ok() const { return status == RowStatus::Ok && result.has_value(); }
  bool fits() const { return ok() && result->memory.fits; }
  double tokens_per_s_per_gpu() const;     // requires a step result
  double headroom_gb() const;              // requires a result or `unfit`
  friend bool operator==(const SweepRow&, const SweepRow&) = default;
};

// Where the rows came from.
struct SweepShard {
  int index = 1, count = 1;  // 1-based shard i of N
  friend bool operator==(const SweepShard&, const SweepShard&) = default;
};
struct SweepShardFile {
  std::string file;
  SweepShard shard;
  friend bool operator==(const SweepShardFile&, const SweepShardFile&) = default;
};

struct SweepMeta {
  std::string scenario;   // the base scenario's name
  std::string source;     // its file, as given
  std::string base_dir;   // resolves the candidates' relative paths
  std::string summary;    // the base scenario in words, less its layout
  std::string space_digest;  // shards of one sweep share it
  int64_t candidates_total = 0;
  SweepShard shard;                     // one run's shard
  std::vector<SweepShardFile> shards;   // merge: the files joined (empty for one run)
  int64_t missing_candidates = 0;       // merge: candidates in none of the files
  friend bool operator==(const SweepMeta&, const SweepMeta&) = default;
};

struct SweepOutcome {
  SweepMeta meta;
  std::vector<SweepRow> rows;  // by index
};

struct SweepRecommendation {
  int row = -1;          // index into rows; -1 when nothing fits
  std::string reasons;   // plain words from the numbers
};

// Rows that fit, best tokens/s per GPU first (ties: enumeration order), then
// the simulated ones that do not fit, smallest shortfall first (Unfit rows, which were not
// simulated, are not ranked).
std::vector<int> ranked_rows(const SweepOutcome& o);

SweepRecommendation recommend_sweep(const SweepOutcome& o);

}  // namespace hcpsim

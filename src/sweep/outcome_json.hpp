// A sweep's rows and meta as JSON: the lines of the state folder's results.jsonl, the
// `candidates` of `hcpsim sweep --format json` and what `hcpsim merge` reads back.
//
// A row is {index, key, label, digest, input, status, result | rejected_by | error}; the meta
// sits at the top of the document: scenario, source, base_dir, summary, space_digest,
// candidates_total, shard {index, count} (one run) or shards [{file, shard}] (merged), and
// missing_candidates (merged, when some are missing).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "sweep/outcome.hpp"

namespace hcpsim {

nlohmann::json row_to_json(const SweepRow& row);
// Every problem is an InputError at its path under `json_path` (rows come from files).
SweepRow row_from_json(const nlohmann::json& j, const std::string& json_path);

// The meta's keys written into (and read from) a sweep document's top level.
void meta_to_json(const SweepMeta& m, nlohmann::json& doc);
SweepMeta meta_from_json(const nlohmann::json& doc, const std::string& json_path);

}  // namespace hcpsim

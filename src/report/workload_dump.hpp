// Readable and JSON views of a Workload (`hcpsim --dump-workload FILE [--format json]`).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "run/comm_routes.hpp"
#include "scenario/scenario.hpp"
#include "workload/workload.hpp"

namespace hcpsim {

struct WorkloadDumpOptions {
  std::vector<int32_t> ranks = {0};  // ranks whose ops are listed
  bool summary = true;               // per-rank totals for the listed ranks
  const CommRouteTable* routes = nullptr;  // how each comm op runs (NCCL algorithm, protocol, channels, flows)
};

// Per op one line: id, stream, phase, label, shape / pattern details, FLOPs,
// bytes, deps; then per rank FLOPs by compute class and bytes sent by group.
std::string dump_workload_text(const Workload& w, const Scenario& s,
                               const WorkloadDumpOptions& o = {});
nlohmann::json workload_to_json(const Workload& w, const Scenario& s,
                                const WorkloadDumpOptions& o = {});

// A varlen launch's groups after the first ([{batch, sq, skv}, ...]; empty where not ragged), as the
// dump's and the trace's attention records list them.
nlohmann::json varlen_groups_json(const AttentionShape& a);

}  // namespace hcpsim

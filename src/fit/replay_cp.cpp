#include "fit/replay_cp.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <nlohmann/json.hpp>

#include "fit/replay.hpp"
#include "rules/flash_bwd_workspace.hpp"
#include "common/diagnostics.hpp"
#include "memory/cp_buffers.hpp"
#include "scenario/parse.hpp"
#include "workload/builder.hpp"

namespace hcpsim {

namespace {

constexpr int64_t kGpusPerNode = 8;  // dgx-h200

nlohmann::json scenario_json(const CpRunConfig& cp, const std::string& name) {
  const int64_t hidden = cp.heads_q * cp.head_dim;
  nlohmann::json parallel = {{"tensor_model_parallel_size", 1},
                             {"context_parallel_size", cp.ranks},
                             {"cp_comm_type", to_string(cp.transport)}};
  if (!cp.hcp.empty()) parallel["hierarchical_context_parallel_sizes"] = cp.hcp;
  // The fewest nodes whose GPUs R divides (the other GPUs are DP replicas, not looked at).
  const int64_t nodes = cp.ranks / std::gcd(cp.ranks, kGpusPerNode);
  return {{"name", name},
          {"model",
           {{"num_layers", 1},
            {"hidden_size", hidden},
            {"ffn_hidden_size", 4 * hidden},
            {"num_attention_heads", cp.heads_q},
            {"num_query_groups", cp.heads_kv},
            {"kv_channels", cp.head_dim},
            {"vocab_size", 32000}}},
          {"training",
           {{"seq_length", cp.seq},
            {"micro_batch_size", cp.batch},
            {"attn_mask_type", cp.causal ? "causal" : "no_mask"}}},
          {"parallel", parallel},
          {"cluster", {{"preset", "dgx-h200"}, {"num_nodes", nodes}}},
          // hcpcal's cp suite runs TE 2.17's all_gather: one output, not 2.18's second, zeroed one
          // (rules/cp_schedule.hpp); nothing else of the CP attention it times differs between them.
          {"software", {{"transformer_engine_version", "2.17.0"}}},
          {"workload", "attention"},
          {"passes", cp.backward ? "fwd+bwd" : "fwd"}};
}

Workload cp_workload(const Measurement& m) {
  return build_workload(cp_run_scenario(m), {.qkv_format = QkvFormat::Bshd});
}

// hcpsim's flash backward workspace for a tile (rules/flash_bwd_workspace.hpp, as the kernels size it).
double flash_bwd_workspace_bytes(const AttentionShape& a) {
  return double(kernels::bwd_workspace_bytes(a.batch, a.sq, a.skv, a.heads_q, a.heads_kv, a.head_dim_qk));
}

bool in_pass(const Op& op, bool backward) {
  return op.kind == OpKind::Compute && op.compute_class == ComputeClass::Attention &&
         op.phase == (backward ? Phase::Backward : Phase::Forward) && !op.recompute;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return "[" + s + "]";
}

}  // namespace

Scenario cp_run_scenario(const Measurement& m) {
  ParseOptions opt;
  opt.source_name = m.path;
  try {
    return parse_scenario_text(scenario_json(m.cp, m.name).dump(), opt);
  } catch (const InputError& e) {
    std::vector<Diagnostic> d;
    for (auto x : e.diagnostics()) {
      x.path = m.path + ".config (as scenario " + x.path + ")";
      d.push_back(x);
    }
    throw InputError(d);
  }
}

std::vector<std::string> cp_kernel_labels(const Measurement& m, int64_t rank) {
  const Workload w = cp_workload(m);
  std::vector<std::string> out;
  for (const Op& op : w.layer.at(size_t(rank)).ops)
    if (in_pass(op, m.cp.backward)) out.push_back(op.label);
  return out;
}

CpReplay replay_cp_run(const Measurement& m, const CostModel& model) {
  const Scenario sc = cp_run_scenario(m);
  const Workload w = build_workload(sc, {.qkv_format = QkvFormat::Bshd});
  std::map<int64_t, std::map<std::string, const CpKernelTime*>> measured;
  std::vector<Diagnostic> problems;
  for (const auto& k : m.cp.kernels) {
    if (measured[k.rank].count(k.label))
      problems.push_back({k.path, "label \"" + k.label + "\" appears twice for rank " + std::to_string(k.rank),
                          "one entry per kernel and rank", "write each kernel once"});
    measured[k.rank][k.label] = &k;
  }
  CpReplay r;
  for (int64_t rank = 0; rank < m.cp.ranks; ++rank) {
    std::vector<std::string> predicted_labels, measured_labels;
    for (const auto& [label, k] : measured[rank]) measured_labels.push_back(label);
    CpRankReplay rr;
    rr.rank = rank;
    std::vector<CpKernelReplay> rows;
    for (const Op& op : w.layer.at(size_t(rank)).ops) {
      if (!in_pass(op, m.cp.backward)) continue;
      predicted_labels.push_back(op.label);
      auto it = measured[rank].find(op.label);
      if (it == measured[rank].end()) continue;
      // At the kernel's own clock where the record gives one (a long chunk sustains a lower clock
      // than the record's median), else at the record's.
      const double clock_mhz = it->second->sm_clock_mhz > 0 ? it->second->sm_clock_mhz : m.sm_clock_mhz;
      rows.push_back({rank, op.label, it->second->median_s, predicted_at_clock_s(model, op, clock_mhz)});
      rr.measured_compute_s += rows.back().measured_s;
      rr.predicted_compute_s += rows.back().predicted_s;
    }
    std::vector<std::string> sorted = predicted_labels;
    std::sort(sorted.begin(), sorted.end());
    if (sorted != measured_labels) {
      problems.push_back({m.path + ".results.kernels",
                          "rank " + std::to_string(rank) + "'s measured kernels " + join(measured_labels) +
                              " are not the kernels the workload builder emits for " + to_string(m.cp.transport) +
                              " R=" + std::to_string(m.cp.ranks) + " " + (m.cp.backward ? "bwd" : "fwd") + ": " +
                              join(predicted_labels),
                          "one measured kernel per attention op of the rank, labelled as the builder labels it",
                          "align hcpcal's cp suite with workload/attention_*.cpp (or the model with TE)"});
      continue;
    }
    r.kernels.insert(r.kernels.end(), rows.begin(), rows.end());
    rr.predicted_peak_bytes = cp_pass_peak_bytes(sc, rank, m.cp.backward, flash_bwd_workspace_bytes);
    if (!m.cp.peak_bytes.empty()) rr.measured_peak_bytes = m.cp.peak_bytes.at(size_t(rank));
    r.ranks.push_back(rr);
  }
  if (!problems.empty()) throw InputError(problems);
  return r;
}

}  // namespace hcpsim

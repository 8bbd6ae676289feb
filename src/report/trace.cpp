#include "report/trace.hpp"
#include "report/workload_dump.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

namespace hcpsim {

namespace {

constexpr double kMicrosecondsPerSecond = 1e6;

nlohmann::json op_args(const Op& op, const std::vector<ProcessGroup>& groups) {
  nlohmann::json a;
  if (op.kind == OpKind::Compute) {
    a["class"] = to_string(op.compute_class);
    a["flops"] = op.flops;
    a["bytes"] = op.bytes;
    if (op.compute_class == ComputeClass::Gemm) {
      a["gemm_mnk"] = {op.gemm.m, op.gemm.n, op.gemm.k};
      if (op.gemm_sm_margin) a["gemm_sm_margin"] = op.gemm_sm_margin;
      if (op.gemm_whole_flops > 0) a["gemm_whole_flops"] = op.gemm_whole_flops;
    }
    if (op.compute_class == ComputeClass::Attention) {
      a["attention"] = {{"batch", op.attn.batch}, {"sq", op.attn.sq}, {"skv", op.attn.skv}, {"heads_q", op.attn.heads_q},
                        {"heads_kv", op.attn.heads_kv}, {"mask", to_string(op.attn.mask)}};
      if (op.attn.ragged()) a["attention"]["more"] = varlen_groups_json(op.attn);
    }
  } else {
    a["pattern"] = to_string(op.pattern);
    a["message_bytes"] = op.message_bytes;
    if (op.pattern == CommPattern::SendRecv) {
      a["send_to"] = op.send_peer;
      a["recv_from"] = op.recv_peer;
      a["recv_bytes"] = op.recv_bytes;
    } else if (op.group >= 0) {
      const ProcessGroup& g = groups.at(op.group);
      a["group"] = g.name;
      a["group_size"] = g.ranks.size();
    }
  }
  if (op.userbuffers) a["userbuffers"] = true;
  // A DP bucket simulated once for equal ones: the step times it that many times (step_ops.hpp).
  if (op.repeats > 1) a["repeats"] = op.repeats;
  return a;
}

}  // namespace

std::string chrome_trace_json(const Timeline& t, const std::vector<TracePhase>& phases,
                              const std::vector<ProcessGroup>& groups, const CommRouteTable* routes,
                              const PipelineTiming* schedule) {
  nlohmann::json events = nlohmann::json::array();
  std::set<std::pair<int32_t, int>> tracks;
  std::vector<OpRecord> recs = t.ops;
  std::sort(recs.begin(), recs.end(), [](const OpRecord& a, const OpRecord& b) {
    return std::tie(a.rank, a.phase, a.start_s, a.op) < std::tie(b.rank, b.phase, b.start_s, b.op);
  });
  for (const OpRecord& r : recs) {
    const TracePhase& ph = phases.at(r.phase);
    const Op& op = ph.programs->at(r.rank).ops.at(r.op);
    const int tid = static_cast<int>(op.stream);
    tracks.insert({r.rank, tid});
    nlohmann::json args = op_args(op, groups);
    args["phase"] = ph.name;
    if (routes != nullptr && op.kind == OpKind::Comm)
      if (auto it = routes->find({r.phase, r.rank, r.op}); it != routes->end()) args["nccl"] = comm_route_json(it->second);
    if (r.start_s > r.ready_s) args["waited_us"] = (r.start_s - r.ready_s) * kMicrosecondsPerSecond;
    events.push_back({{"name", op.label},
                      {"cat", std::string(ph.name) + (op.kind == OpKind::Comm ? ",comm" : ",compute")},
                      {"ph", "X"},
                      {"pid", r.rank},
                      {"tid", tid},
                      {"ts", r.start_s * kMicrosecondsPerSecond},
                      {"dur", (r.end_s - r.start_s) * kMicrosecondsPerSecond},
                      {"args", args}});
  }
  for (const auto& [rank, tid] : tracks) {
    events.push_back({{"name", "thread_name"}, {"ph", "M"}, {"pid", rank}, {"tid", tid},
                      {"args", {{"name", to_string(static_cast<Stream>(tid))}}}});
    events.push_back({{"name", "thread_sort_index"}, {"ph", "M"}, {"pid", rank}, {"tid", tid},
                      {"args", {{"sort_index", tid}}}});
  }
  std::set<int32_t> ranks;
  for (const auto& [rank, tid] : tracks) ranks.insert(rank);
  for (int32_t rank : ranks)
    events.push_back({{"name", "process_name"}, {"ph", "M"}, {"pid", rank},
                      {"args", {{"name", "GPU rank " + std::to_string(rank)}}}});
  if (schedule != nullptr && !schedule->events.empty()) {
    // One process after the GPU ranks: the composed pipeline, a track per stage.
    const int32_t pid = ranks.empty() ? 0 : *ranks.rbegin() + 1;
    std::set<int64_t> stages;
    for (const PipelineEvent& e : schedule->events) {
      stages.insert(e.stage);
      events.push_back({{"name", std::string(e.slot.forward ? "F" : "B") + std::to_string(e.slot.microbatch) +
                                     "." + std::to_string(e.slot.chunk)},
                        {"cat", "pipeline"},
                        {"ph", "X"},
                        {"pid", pid},
                        {"tid", e.stage},
                        {"ts", e.start_s * kMicrosecondsPerSecond},
                        {"dur", (e.end_s - e.start_s) * kMicrosecondsPerSecond},
                        {"args", {{"stage", e.stage}, {"microbatch", e.slot.microbatch}, {"chunk", e.slot.chunk},
                                  {"pass", e.slot.forward ? "forward" : "backward"}}}});
    }
    for (int64_t st : stages)
      events.push_back({{"name", "thread_name"}, {"ph", "M"}, {"pid", pid}, {"tid", st},
                        {"args", {{"name", "stage " + std::to_string(st)}}}});
    events.push_back({{"name", "process_name"}, {"ph", "M"}, {"pid", pid},
                      {"args", {{"name", "pipeline schedule (composed step: F<micro batch>.<chunk>, B<micro batch>.<chunk>)"}}}});
  }
  nlohmann::json doc = {{"traceEvents", events}, {"displayTimeUnit", "ms"}};
  return doc.dump() + "\n";
}

}  // namespace hcpsim

#include "report/workload_dump.hpp"
#include "common/strprintf.hpp"
#include "scenario/rank_layout.hpp"

#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>

namespace hcpsim {

namespace {

std::string fmt(const char* f, double v) { return strprintf(f, v); }

std::string op_details(const Workload& w, const Op& op) {
  std::string s;
  if (op.kind == OpKind::Compute) {
    s += to_string(op.compute_class);
    if (op.compute_class == ComputeClass::Gemm)
      s += " " + std::to_string(op.gemm.m) + "x" + std::to_string(op.gemm.n) + "x" +
           std::to_string(op.gemm.k) + (op.gemm_sm_margin ? " sm_margin" + std::to_string(op.gemm_sm_margin) : "") +
           (op.userbuffers ? " userbuffers" : "");
    if (op.compute_class == ComputeClass::Attention) {
      const AttentionShape& a = op.attn;
      s += " b" + std::to_string(a.batch) + " " + std::to_string(a.sq) + "x" + std::to_string(a.skv);
      for (const SequenceTile& t : a.more)  // a varlen launch's further groups
        s += " + b" + std::to_string(t.batch) + " " + std::to_string(t.sq) + "x" + std::to_string(t.skv);
      s += " hq" + std::to_string(a.heads_q) + " hk" +
           std::to_string(a.heads_kv) + " d" + std::to_string(a.head_dim_qk) + " " +
           to_string(a.mask) + (a.window ? " win" + std::to_string(a.window) : "");
    }
    s += fmt(" flops=%.4g", op.flops) + fmt(" bytes=%.4g", op.bytes);
    if (!op.own_launch) s += " no-launch";  // issued by TE's C++ inside another op's call (Op::own_launch)
    return s;
  }
  s += to_string(op.pattern);
  if (op.pattern == CommPattern::SendRecv) {
    s += " to " + std::to_string(op.send_peer) + " from " + std::to_string(op.recv_peer);
  } else {
    const ProcessGroup& g = w.groups[op.group];
    s += " " + g.name + "#" + std::to_string(op.group) + "(" + std::to_string(g.ranks.size()) + ")";
  }
  s += fmt(" msg=%.4g", op.message_bytes) + " tag=" + std::to_string(op.tag);
  if (op.repeats > 1) s += " x" + std::to_string(op.repeats) + " (equal DP buckets)";
  if (op.userbuffers) s += " userbuffers";
  if (!op.own_launch) s += " no-launch";
  return s;
}

struct RankTotals {
  std::map<std::string, double> flops;  // by compute class
  std::map<std::string, double> sent;   // bytes on the wire by group name ("p2p" for SendRecv)
};

RankTotals totals(const Workload& w, const RankProgram& p) {
  RankTotals t;
  for (const Op& op : p.ops) {
    if (op.kind == OpKind::Compute) {
      t.flops[to_string(op.compute_class)] += op.flops;
    } else {
      const bool p2p = op.pattern == CommPattern::SendRecv;
      const int64_t n = p2p ? 2 : int64_t(w.groups[op.group].ranks.size());
      t.sent[p2p ? "p2p" : w.groups[op.group].name] += double(op.repeats) * bytes_sent_per_rank(op, n);
    }
  }
  return t;
}

const CommRoute* route_of(const WorkloadDumpOptions& o, int phase, int32_t rank, const Op& op) {
  if (o.routes == nullptr || op.kind != OpKind::Comm) return nullptr;
  auto it = o.routes->find({phase, rank, op.id});
  return it == o.routes->end() ? nullptr : &it->second;
}

void dump_program(std::string& out, const Workload& w, const RankProgram& p, const std::string& what, int phase,
                  const WorkloadDumpOptions& o) {
  out += "## rank " + std::to_string(p.rank) + " " + what + " (" + std::to_string(p.ops.size()) +
         " ops)\n";
  for (const Op& op : p.ops) {
    char head[96];
    std::snprintf(head, sizeof head, "%5d %-13s %-3s ", op.id, to_string(op.stream), to_string(op.phase));
    out += head + op.label + "  " + op_details(w, op);
    if (const CommRoute* r = route_of(o, phase, p.rank, op)) out += "  [" + r->summary + "]";
    out += "  deps[";
    for (size_t i = 0; i < op.deps.size(); ++i) out += (i ? "," : "") + std::to_string(op.deps[i]);
    out += "]\n";
  }
  const RankTotals t = totals(w, p);
  out += "#  totals:";
  for (auto& [k, v] : t.flops) out += " " + k + fmt("=%.4g FLOP", v);
  for (auto& [k, v] : t.sent) out += " sent[" + k + fmt("]=%.4g B", v);
  out += "\n";
}

nlohmann::json op_json(const Op& op) {
  nlohmann::json j = {{"id", op.id},       {"stream", to_string(op.stream)},
                      {"phase", to_string(op.phase)}, {"label", op.label},
                      {"kind", to_string(op.kind)},   {"deps", op.deps}};
  if (op.kind == OpKind::Compute) {
    j["class"] = to_string(op.compute_class);
    j["flops"] = op.flops;
    j["bytes"] = op.bytes;
    if (op.compute_class == ComputeClass::Gemm) j["gemm"] = {op.gemm.m, op.gemm.n, op.gemm.k};
    if (op.gemm_sm_margin) j["gemm_sm_margin"] = op.gemm_sm_margin;
    if (op.gemm_whole_flops > 0) j["gemm_whole_flops"] = op.gemm_whole_flops;
    if (op.compute_class == ComputeClass::Attention)
      j["attention"] = {{"batch", op.attn.batch},       {"sq", op.attn.sq},
                        {"skv", op.attn.skv},           {"heads_q", op.attn.heads_q},
                        {"heads_kv", op.attn.heads_kv}, {"head_dim", op.attn.head_dim_qk},
                        {"mask", to_string(op.attn.mask)}, {"window", op.attn.window},
                        {"backward", op.attn.backward}};
    if (op.compute_class == ComputeClass::Attention && op.attn.ragged()) j["attention"]["more"] = varlen_groups_json(op.attn);
  } else {
    j["pattern"] = to_string(op.pattern);
    j["message_bytes"] = op.message_bytes;
    j["tag"] = op.tag;
    if (op.repeats > 1) j["repeats"] = op.repeats;
    if (op.pattern == CommPattern::SendRecv) {
      j["send_peer"] = op.send_peer;
      j["recv_peer"] = op.recv_peer;
      j["recv_bytes"] = op.recv_bytes;
    }
    if (op.group >= 0) j["group"] = op.group;
  }
  if (op.userbuffers) j["userbuffers"] = true;
  if (!op.own_launch) j["own_launch"] = false;
  return j;
}

}  // namespace

std::string dump_workload_text(const Workload& w, const Scenario& s, const WorkloadDumpOptions& o) {
  std::string out = "# workload of '" + s.name + "': " + to_string(s.workload) + ", " +
                    to_string(s.passes) + ", cp_comm_type " + to_string(s.parallel.cp_comm_type) +
                    ", " + std::to_string(w.layer.size()) + " ranks, " +
                    std::to_string(w.layers_per_step) + " layers x " +
                    std::to_string(w.microbatches) + " micro batches per step" +
                    (w.pipeline_spec.stages > 1 ? ", " + std::to_string(w.pipeline_spec.stages) + " pipeline stages" : "") + "\n";
  out += std::string("# columns: id stream phase label  details") +
         (o.routes ? "  [NCCL algorithm/protocol, channels, flows]" : "") + "  deps[...]\n";
  for (int32_t r : o.ranks) {
    if (r < 0 || r >= int32_t(w.layer.size())) continue;
    dump_program(out, w, w.layer[r], "layer", 0, o);
    if (!w.step.empty()) dump_program(out, w, w.step[r], "step (fwd/bwd per micro batch, opt per step)", 1, o);
    if (!w.pipeline.empty())
      dump_program(out, w, w.pipeline[r], "pipeline (stage " + std::to_string(rank_layout_of(s.parallel).coord_of(r).pp) +
                                              ": transfers of one micro batch)", 2, o);
  }
  if (o.summary) {
    size_t ops = 0;
    for (const RankProgram& p : w.layer) ops += p.ops.size();
    for (const RankProgram& p : w.step) ops += p.ops.size();
    for (const RankProgram& p : w.pipeline) ops += p.ops.size();
    out += "# " + std::to_string(ops) + " ops on all ranks, " + std::to_string(w.groups.size()) +
           " process groups\n";
  }
  return out;
}

nlohmann::json varlen_groups_json(const AttentionShape& a) {
  nlohmann::json out = nlohmann::json::array();
  for (const SequenceTile& t : a.more) out.push_back({{"batch", t.batch}, {"sq", t.sq}, {"skv", t.skv}});
  return out;
}

nlohmann::json workload_to_json(const Workload& w, const Scenario& s, const WorkloadDumpOptions& o) {
  nlohmann::json j;
  j["scenario"] = s.name;
  j["layers_per_step"] = w.layers_per_step;
  j["microbatches"] = w.microbatches;
  j["groups"] = nlohmann::json::array();
  for (const ProcessGroup& g : w.groups) j["groups"].push_back({{"name", g.name}, {"ranks", g.ranks}});
  j["ranks"] = nlohmann::json::array();
  for (int32_t r : o.ranks) {
    if (r < 0 || r >= int32_t(w.layer.size())) continue;
    nlohmann::json rj = {{"rank", r}};
    auto programs = [&](const char* key, const std::vector<RankProgram>& ps, int phase) {
      if (ps.empty()) return;
      nlohmann::json ops = nlohmann::json::array();
      for (const Op& op : ps[r].ops) {
        nlohmann::json oj = op_json(op);
        if (const CommRoute* route = route_of(o, phase, r, op)) {
          oj["algorithm"] = route->algorithm;
          oj["protocol"] = route->protocol;
          oj["nccl"] = comm_route_json(*route);
        }
        ops.push_back(std::move(oj));
      }
      const RankTotals t = totals(w, ps[r]);
      rj[key] = {{"ops", ops}, {"flops_by_class", t.flops}, {"bytes_sent_by_group", t.sent}};
    };
    programs("layer", w.layer, 0);
    programs("step", w.step, 1);
    programs("pipeline", w.pipeline, 2);
    j["ranks"].push_back(rj);
  }
  return j;
}

}  // namespace hcpsim

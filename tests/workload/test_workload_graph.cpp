// Structure of the op graphs: comm pairing across ranks, DAG dependencies,
// layer GEMM FLOPs, recomputation and the step ops.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <tuple>
#include <map>
#include <set>

#include "scenario/model_params.hpp"
#include "workload/builder.hpp"
#include "report/workload_dump.hpp"
#include "workload/step_ops.hpp"
#include "tests/workload/workload_helpers.hpp"

using namespace hcpsim;
using namespace hcpsim::test;

namespace {

std::vector<Shape> graph_shapes() {
  std::vector<Shape> v;
  for (CpCommType t : {CpCommType::P2P, CpCommType::AllGather, CpCommType::A2A})
    v.push_back({.tp = 2, .cp = 4, .dp = 2, .type = t, .kind = WorkloadKind::Step});
  v.push_back({.tp = 2, .cp = 8, .dp = 2, .type = CpCommType::A2AP2P, .hcp = {2, 4},
               .kind = WorkloadKind::Step, .recompute = RecomputeGranularity::Full});
  v.push_back({.tp = 1, .cp = 4, .dp = 1, .type = CpCommType::A2AP2P, .hcp = {2, 2},
               .groups = 8, .sp = false, .kind = WorkloadKind::Layer,
               .recompute = RecomputeGranularity::Selective});
  return v;
}

void check_pairing(const Workload& w, const std::vector<RankProgram>& progs) {
  // (rank, send_peer, tag) -> bytes of every SendRecv; (group, tag) -> members seen.
  std::map<std::tuple<int32_t, int32_t, int64_t>, double> sends;
  std::map<std::pair<int32_t, int64_t>, std::multiset<int32_t>> coll;
  for (const RankProgram& p : progs)
    for (const Op& op : p.ops) {
      if (op.kind != OpKind::Comm) continue;
      if (op.pattern == CommPattern::SendRecv) sends[{p.rank, op.send_peer, op.tag}] = op.message_bytes;
      else coll[{op.group, op.tag}].insert(p.rank);
    }
  for (const RankProgram& p : progs)
    for (const Op& op : p.ops) {
      if (op.kind != OpKind::Comm || op.pattern != CommPattern::SendRecv) continue;
      // Our receive comes from recv_peer's send to us with the same tag and size.
      auto it = sends.find({op.recv_peer, p.rank, op.tag});
      REQUIRE(it != sends.end());
      REQUIRE(it->second == op.recv_bytes);
      // Our send is received by send_peer: its op with recv_peer == us.
      bool found = false;
      for (const Op& o : progs[op.send_peer].ops)
        if (o.tag == op.tag && o.pattern == CommPattern::SendRecv && o.recv_peer == p.rank) {
          found = true;
          REQUIRE(o.recv_bytes == op.message_bytes);
        }
      REQUIRE(found);
    }
  for (const auto& [key, members] : coll) {
    const ProcessGroup& g = w.groups[key.first];
    REQUIRE(members.size() == g.ranks.size());
    for (int32_t r : g.ranks) REQUIRE(members.count(r) == 1);
  }
}

double gemm_flops(const RankProgram& p, Phase ph) {
  double f = 0;
  for (const Op& op : p.ops)
    if (op.compute_class == ComputeClass::Gemm && op.phase == ph && op.label.rfind("recompute.", 0) != 0)
      f += op.flops;
  return f;
}

}  // namespace

TEST_CASE("comm ops pair across ranks by peer/group and tag", "[model][workload]") {
  for (const Shape& sh : graph_shapes()) {
    CAPTURE(to_string(sh.type), sh.cp, sh.tp, sh.hcp);
    const Workload w = build_workload(make_scenario(sh));
    check_pairing(w, w.layer);
    if (!w.step.empty()) check_pairing(w, w.step);
  }
}

TEST_CASE("dependencies form a DAG of existing earlier ops", "[model][workload]") {
  for (const Shape& sh : graph_shapes()) {
    const Workload w = build_workload(make_scenario(sh));
    for (const auto* progs : {&w.layer, &w.step})
      for (const RankProgram& p : *progs)
        for (size_t i = 0; i < p.ops.size(); ++i) {
          REQUIRE(p.ops[i].id == int32_t(i));
          for (int32_t d : p.ops[i].deps) {
            REQUIRE(d >= 0);
            REQUIRE(d < p.ops[i].id);
          }
        }
  }
}

TEST_CASE("layer GEMM FLOPs are 2 * tokens * params / TP forward, twice that backward",
          "[model][workload]") {
  for (int64_t tp : {1, 2, 4, 8})
    for (bool sp : {false, true}) {
      Shape sh{.tp = tp, .cp = 2, .seq = 8192, .batch = 2, .heads = 64, .groups = 8,
               .hidden = 8192, .ffn = 28672, .sp = sp, .kind = WorkloadKind::Layer};
      const Workload w = build_workload(make_scenario(sh));
      // Linear weights of one layer (Llama-70B-like): QKV h*(nh + 2 ng)*d,
      // proj nh*d*h, SwiGLU MLP 3*h*ffn; tokens per rank b*S/CP.
      const double h = 8192, d = 128;
      const double params = h * (64 + 2 * 8) * d + 64 * d * h + 3 * h * 28672;
      const double tokens = 2.0 * 8192 / 2;
      for (const RankProgram& p : w.layer) {
        REQUIRE(gemm_flops(p, Phase::Forward) == Approx(2 * tokens * params / double(tp)));
        REQUIRE(gemm_flops(p, Phase::Backward) == Approx(4 * tokens * params / double(tp)));
      }
    }
}

TEST_CASE("fewer KV groups than TP ranks: QKV split by columns, its output gathered over TP", "[model][workload]") {
  // 32 query heads, 4 KV groups of 128, TP 8 with SP, 8192 tokens (CP 1). Megatron's linear_qkv is
  // column-parallel: (32 + 2 x 4) x 128 / 8 = 640 columns a rank (not 4 query heads + 2 x 1 KV head
  // = 768); with 4 groups < 8 ranks its output [8192, 640] is all-gathered over TP (each rank's
  // 8192 x 640 x 2 B shard) and, in the backward, its gradient reduce-scattered back.
  Shape sh{.tp = 8, .seq = 8192, .heads = 32, .groups = 4, .kind = WorkloadKind::Layer};
  const Workload w = build_workload(make_scenario(sh));
  const RankProgram& p = w.layer.at(0);
  const double shard_bytes = 8192.0 * 640 * 2;
  int gathers = 0, scatters = 0, qkv_gemms = 0;
  for (const Op& op : p.ops) {
    if (contains(op.label, "fwd.qkv_gemm")) {
      ++qkv_gemms;
      CHECK(op.flops == Approx(2.0 * 8192 * 640 * 4096));
    }
    if (contains(op.label, "tp_ag_qkv_columns")) {
      ++gathers;
      CHECK(op.pattern == CommPattern::AllGather);
      CHECK(op.message_bytes == Approx(shard_bytes));
    }
    if (contains(op.label, "tp_rs_qkv_columns")) {
      ++scatters;
      CHECK(op.pattern == CommPattern::ReduceScatter);
      CHECK(op.message_bytes == Approx(shard_bytes));
    }
  }
  CHECK(qkv_gemms == 1);
  CHECK(gathers == 1);
  CHECK(scatters == 1);
  // With as many groups as ranks (8 at TP 8) neither.
  sh.groups = 8;
  const Workload even = build_workload(make_scenario(sh));
  for (const Op& op : even.layer.at(0).ops) CHECK(op.label.find("qkv_columns") == std::string::npos);
}

TEST_CASE("recomputation re-runs the layer (full) or core attention (selective)", "[model][workload]") {
  auto count = [](const RankProgram& p, const char* prefix) {
    int n = 0;
    for (const Op& op : p.ops) n += op.label.rfind(prefix, 0) == 0;
    return n;
  };
  Shape sh{.tp = 2, .cp = 2, .type = CpCommType::P2P, .kind = WorkloadKind::Layer};
  sh.recompute = RecomputeGranularity::None;
  const Workload none = build_workload(make_scenario(sh));
  REQUIRE(count(none.layer[0], "recompute.") == 0);
  sh.recompute = RecomputeGranularity::Selective;
  const Workload sel = build_workload(make_scenario(sh));
  REQUIRE(count(sel.layer[0], "recompute.attn.fwd.") == count(none.layer[0], "attn.fwd."));
  REQUIRE(count(sel.layer[0], "recompute.layer.") == 0);
  sh.recompute = RecomputeGranularity::Full;
  const Workload full = build_workload(make_scenario(sh));
  REQUIRE(count(full.layer[0], "recompute.layer.fwd.") == count(none.layer[0], "layer.fwd."));
  REQUIRE(count(full.layer[0], "recompute.attn.fwd.") == count(none.layer[0], "attn.fwd."));
  for (const Op& op : full.layer[0].ops)
    if (op.label.rfind("recompute.", 0) == 0) REQUIRE(op.phase == Phase::Backward);
}

TEST_CASE("step ops: embedding, LM head, DP x CP gradient sync, optimizer", "[model][workload]") {
  for (bool dist : {true, false})
    for (bool fp32_grads : {true, false}) {
      Shape sh{.tp = 2, .cp = 2, .dp = 4, .kind = WorkloadKind::Step};
      Scenario s = make_scenario(sh);
      s.parallel.use_distributed_optimizer = dist;
      s.parallel.grad_reduce_in_fp32 = fp32_grads;
      const Workload w = build_workload(s);
      REQUIRE(w.layers_per_step == 32);
      REQUIRE(w.microbatches == 1);
      REQUIRE(w.step.size() == 16);
      const double params = double(count_params_per_tp_rank(s.model, 2).total());
      const double n = 8;  // |DP x CP| = 4 * 2
      double cast = 0;
      for (const Op& op : w.step[0].ops) {
        if (contains(op.label, "grad_to_fp32")) cast += op.bytes;
        if (op.kind != OpKind::Comm || op.stream != Stream::NcclDp) continue;
        REQUIRE(op.phase == Phase::Optimizer);
        REQUIRE(w.groups[op.group].name == "dp_cp");
        REQUIRE(w.groups[op.group].ranks.size() == 8);
      }
      // Every bucket of the stage at the op that times it (equal buckets share one): their
      // messages summed over the buckets.
      REQUIRE(w.dp_buckets.size() == 1);
      const std::vector<DpBucketOps>& buckets = w.dp_buckets[0];
      REQUIRE(buckets.size() > 2);
      double rs = 0, ag = 0, ar = 0;
      std::set<int32_t> reduce_ops;
      for (size_t i = 0; i < buckets.size(); ++i) {
        const DpBucketOps& b = buckets[i];
        // Megatron closes a bucket at 40M parameters (DP 4: max(40M, 4M)); the last takes the rest.
        if (i + 1 < buckets.size()) REQUIRE(b.bucket.params >= 40'000'000);
        const Op& reduce = w.step[0].ops.at(size_t(b.reduce_op));
        REQUIRE(reduce.area == OpArea::GradReduce);
        reduce_ops.insert(b.reduce_op);
        (reduce.pattern == CommPattern::ReduceScatter ? rs : ar) += reduce.message_bytes;
        REQUIRE((b.gather_op >= 0) == dist);
        if (dist) ag += w.step[0].ops.at(size_t(b.gather_op)).message_bytes;
      }
      REQUIRE(reduce_ops.size() < buckets.size());  // the layers' repeating buckets simulated once
      // The ops' repeats count the buckets each stands for: summed over the program, the same bytes.
      double rs_ops = 0, ar_ops = 0;
      for (const Op& op : w.step[0].ops)
        if (op.area == OpArea::GradReduce)
          (op.pattern == CommPattern::ReduceScatter ? rs_ops : ar_ops) += op.repeats * op.message_bytes;
      REQUIRE(rs_ops == Approx(rs));
      REQUIRE(ar_ops == Approx(ar));
      // Gradients in the grad buffer's type (fp32: 4 B, bf16: 2 B a parameter): the RS shards sum
      // to that x params / |dp_cp|, the AR is the whole buffer; parameters are gathered in bf16.
      const double grad_bytes = fp32_grads ? 4 : 2;
      if (dist) {
        REQUIRE(rs == Approx(grad_bytes * params / n));
        REQUIRE(ag == Approx(2 * params / n));
      } else {
        REQUIRE(ar == Approx(grad_bytes * params));
      }
      // bf16 gradients: the optimizer first casts its shard to fp32 (read 2 B, write 4 B a parameter).
      REQUIRE(cast == Approx(fp32_grads ? 0.0 : 6 * params / (dist ? n : 1)));
    }
}

TEST_CASE("dump lists ops and totals, JSON has the rank's ops", "[model][workload]") {
  Shape sh{.tp = 2, .cp = 4, .type = CpCommType::A2AP2P, .hcp = {2, 2}, .kind = WorkloadKind::Step};
  const Scenario s = make_scenario(sh);
  const Workload w = build_workload(s);
  const std::string text = dump_workload_text(w, s);
  REQUIRE(contains(text, "attn.fwd.step0.diag"));
  REQUIRE(contains(text, "attn.fwd.a2a_q"));
  REQUIRE(contains(text, "totals:"));
  const nlohmann::json j = workload_to_json(w, s, {.ranks = {0, 3}});
  REQUIRE(j["ranks"].size() == 2);
  REQUIRE(j["ranks"][1]["layer"]["ops"].size() == w.layer[3].ops.size());
}

TEST_CASE("workload build time at 1024 and 8192 ranks", "[.][perf]") {
  struct Run {
    int64_t cp, dp;
    CpCommType type;
    std::vector<int64_t> hcp;
  };
  for (const Run& run : {Run{4, 32, CpCommType::A2AP2P, {2, 2}}, Run{4, 256, CpCommType::A2AP2P, {2, 2}},
                         Run{32, 32, CpCommType::P2P, {}}}) {
    Shape sh{.tp = 8, .cp = run.cp, .dp = run.dp, .type = run.type, .hcp = run.hcp,
             .seq = 131072, .kind = WorkloadKind::Step};
    const Scenario s = make_scenario(sh);
    const auto t0 = std::chrono::steady_clock::now();
    const Workload w = build_workload(s);
    const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    size_t ops = 0;
    for (const auto& p : w.layer) ops += p.ops.size();
    WARN(w.layer.size() << " ranks, " << to_string(run.type) << " CP" << run.cp << ", " << ops
                         << " layer ops: " << sec << " s");
  }
}

TEST_CASE("tp_comm_overlap: TE's userbuffers schedule, work unchanged", "[model][workload]") {
  // TP t with SP, TE's defaults (rules/tp_comm_overlap.hpp): qkv and fc1 forward and the fc2 and
  // proj dgrad run as a ring exchange (t GEMM chunks of T/t rows, t - 1 sends of the [T/t, h] shard
  // to the next TP rank, chunk i waiting for send i-1, chunk 0 for none); proj and fc2 forward in 4
  // chunks of h/4 output features, each followed by the reduce-scatter of its [T, h/4] output (a
  // [T/t, h/4] shard per rank) and on 16 fewer SMs, the residual add waiting for the last; qkv and
  // fc1 dgrad and wgrad on 16 fewer SMs beside their bulk all-gather and reduce-scatter.
  // Tokens T = 8192 / 2 (CP 2), h = 4096. Full recompute re-runs the overlapped forward.
  for (int64_t tp : {2, 4})
    for (RecomputeGranularity recompute : {RecomputeGranularity::None, RecomputeGranularity::Full}) {
      CAPTURE(tp, to_string(recompute));
      Shape sh{.tp = tp, .cp = 2, .seq = 8192, .kind = WorkloadKind::Layer, .recompute = recompute};
      Scenario off = make_scenario(sh);
      Scenario on = off;
      on.parallel.tp_comm_overlap = true;
      const Workload w_off = build_workload(off), w = build_workload(on);
      check_pairing(w, w.layer);
      const double T = 4096, h = 4096, e = 2, t = double(tp);
      for (const RankProgram& p : w.layer) {
        // The same GEMM FLOPs as without the overlap.
        REQUIRE(gemm_flops(p, Phase::Forward) == Approx(gemm_flops(w_off.layer[size_t(p.rank)], Phase::Forward)));
        REQUIRE(gemm_flops(p, Phase::Backward) == Approx(gemm_flops(w_off.layer[size_t(p.rank)], Phase::Backward)));
        const int32_t next = int32_t((p.rank % tp + 1) % tp + p.rank / tp * tp);  // TP ranks are consecutive
        std::map<std::string, std::vector<const Op*>> chunks, sends, reductions;
        std::map<std::string, const Op*> by_label;
        for (const Op& op : p.ops) {
          const std::string& l = op.label;
          by_label[l] = &op;
          const std::string base = l.substr(0, l.rfind('.'));
          if (op.compute_class == ComputeClass::Gemm && op.kind == OpKind::Compute && contains(l, ".chunk"))
            chunks[base].push_back(&op);
          if (op.kind == OpKind::Comm && op.pattern == CommPattern::SendRecv && contains(l, ".ring")) {
            REQUIRE(op.userbuffers);
            REQUIRE(op.send_peer == next);
            REQUIRE(op.message_bytes == T / t * h * e);
            sends[base].push_back(&op);
          }
          if (op.kind == OpKind::Comm && op.pattern == CommPattern::ReduceScatter && contains(l, ".chunk"))
            reductions[base].push_back(&op);
        }
        const size_t n = size_t(tp);
        for (const char* ring : {"layer.fwd.qkv_gemm", "layer.fwd.fc1_gemm", "layer.bwd.fc2_dgrad", "layer.bwd.proj_dgrad"}) {
          CAPTURE(ring);
          REQUIRE(chunks[ring].size() == n);
          REQUIRE(sends[ring].size() == n - 1);
          for (size_t i = 0; i < n; ++i) {
            REQUIRE(chunks[ring][i]->gemm.m == int64_t(T / t));
            REQUIRE(chunks[ring][i]->gemm_sm_margin == 0);
            const std::vector<int32_t>& deps = chunks[ring][i]->deps;
            for (size_t j = 0; j + 1 < n; ++j) {
              const bool waits = std::find(deps.begin(), deps.end(), sends[ring][j]->id) != deps.end();
              REQUIRE(waits == (i > 0 && j == i - 1));  // chunk i on the shard send i-1 delivered
            }
          }
        }
        for (const auto& [gemm, rs, add] :
             {std::tuple{"layer.fwd.proj_gemm", "layer.fwd.tp_rs_proj", "layer.fwd.residual_add_attn"},
              std::tuple{"layer.fwd.fc2_gemm", "layer.fwd.tp_rs_fc2", "layer.fwd.residual_add_mlp"}}) {
          CAPTURE(gemm);
          REQUIRE(chunks[gemm].size() == 4);
          REQUIRE(reductions[rs].size() == 4);
          for (size_t i = 0; i < 4; ++i) {
            REQUIRE(chunks[gemm][i]->gemm_sm_margin == 16);
            REQUIRE(chunks[gemm][i]->gemm.n == int64_t(h) / 4);
            REQUIRE(chunks[gemm][i]->gemm.m == int64_t(T));
            REQUIRE(reductions[rs][i]->message_bytes == T / t * h / 4 * e);
            REQUIRE(reductions[rs][i]->userbuffers);
            // Issued after its own chunk (the issuing stream's last op), not after the next one.
            REQUIRE(std::find(reductions[rs][i]->deps.begin(), reductions[rs][i]->deps.end(), chunks[gemm][i]->id) !=
                    reductions[rs][i]->deps.end());
          }
          const std::vector<int32_t>& deps = by_label.at(add)->deps;  // the residual add needs the whole output
          REQUIRE(std::find(deps.begin(), deps.end(), reductions[rs][3]->id) != deps.end());
        }
        for (const Op& op : p.ops) {
          const bool bulk_gemm = op.compute_class == ComputeClass::Gemm && op.kind == OpKind::Compute &&
                                 (contains(op.label, "bwd.qkv_") || contains(op.label, "bwd.fc1_"));
          if (bulk_gemm) REQUIRE(op.gemm_sm_margin == 16);
          if (op.kind == OpKind::Comm && (contains(op.label, "_input_ag") || contains(op.label, "_dgrad_rs")))
            REQUIRE(op.userbuffers);
        }
        if (recompute == RecomputeGranularity::Full) {  // the re-run forward is overlapped as the forward is
          int64_t rerun_chunks = 0;
          for (const Op& op : p.ops)
            rerun_chunks += op.recompute && contains(op.label, "qkv_gemm.chunk") && op.compute_class == ComputeClass::Gemm;
          REQUIRE(rerun_chunks == tp);
        }
      }
      // Without the switch nothing is split or moved by userbuffers.
      for (const Op& op : w_off.layer[0].ops) {
        REQUIRE_FALSE(op.userbuffers);
        REQUIRE(op.gemm_sm_margin == 0);
        REQUIRE_FALSE(contains(op.label, ".chunk"));
        REQUIRE(op.own_launch);
      }
      // The CPU's launches (Op::own_launch), from TE's calls (module/linear.py, layernorm_linear.py,
      // base.py): a split GEMM is one call whose C++ launches its chunks and its userbuffers comm
      // (the ring's sends, the pipeline's reduce-scatters, the bulk all-gather and reduce-scatter);
      // each gathered shard is first copied into the buffer by a call of its own
      // (fill_userbuffers_buffer_for_all_gather), and the bulk reduce-scatter's dgrad is cloned out
      // of it. Against the unsplit layer, by hand: qkv and fc1 forward, all-gather + GEMM -> fill +
      // GEMM (even); proj and fc2 forward, GEMM + reduce-scatter -> GEMM (1 fewer each): 2 fewer
      // forward. proj and fc2 dgrad, all-gather + GEMM -> fill + GEMM (even); qkv and fc1 backward,
      // all-gather + dgrad + reduce-scatter + wgrad -> fill + dgrad + wgrad + clone (even): as many
      // backward. A fill or clone moves a [T/t, h] bf16 shard: read and written.
      const auto launches = [](const RankProgram& p, Phase phase, bool rerun) {
        int64_t n = 0;
        for (const Op& op : p.ops) n += op.own_launch && op.phase == phase && op.recompute == rerun;
        return n;
      };
      for (const RankProgram& p : w.layer) {
        const RankProgram& q = w_off.layer[size_t(p.rank)];
        CHECK(launches(p, Phase::Forward, false) == launches(q, Phase::Forward, false) - 2);
        CHECK(launches(p, Phase::Backward, false) == launches(q, Phase::Backward, false));
        const int64_t rerun_fewer = recompute == RecomputeGranularity::Full ? 2 : 0;  // the re-run forward
        CHECK(launches(p, Phase::Backward, true) == launches(q, Phase::Backward, true) - rerun_fewer);
        int64_t fills = 0, clones = 0;
        for (const Op& op : p.ops) {
          const std::string& l = op.label;
          const bool later_chunk = op.kind == OpKind::Compute && contains(l, ".chunk") && !l.ends_with(".chunk0");
          const bool inside = later_chunk || contains(l, ".ring") || contains(l, "tp_rs_") ||
                              contains(l, "_input_ag") || contains(l, "_dgrad_rs");
          CAPTURE(l);
          CHECK(op.own_launch == !inside);
          if (contains(l, ".ub_fill") && ++fills) CHECK(op.bytes == 2 * T / t * h * e);
          if (contains(l, ".ub_clone") && ++clones) CHECK(op.bytes == 2 * T / t * h * e);
        }
        // qkv and fc1 forward, proj and fc2 dgrad, qkv and fc1 input re-gathers (each re-run forward too)
        CHECK(fills == 6 + (recompute == RecomputeGranularity::Full ? 2 : 0));
        CHECK(clones == 2);
      }
    }
}

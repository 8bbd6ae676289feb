// The cost model reproduces the H200 reference figures it is built from and interpolates between them.
#include <catch2/catch.hpp>
#include <cmath>
#include <set>
#include <string>

#include "cost/cost_model.hpp"

using namespace hcpsim;

namespace {

GpuSpec h200() { return {"H200", 989e12, 1979e12, 141e9, 4.8e12}; }

Op attention_op(double seq, bool causal, bool backward) {
  Op op;
  op.kind = OpKind::Compute;
  op.compute_class = ComputeClass::Attention;
  op.attn.batch = 1;
  op.attn.sq = op.attn.skv = static_cast<int64_t>(seq);
  op.attn.heads_q = op.attn.heads_kv = 32;
  op.attn.head_dim_qk = op.attn.head_dim_v = 128;
  op.attn.mask = causal ? KernelMask::CausalTopLeft : KernelMask::None;
  op.attn.backward = backward;
  // docs/cost-model.md's FLOP count: 4*h*sq*skv*d, halved when causal, x2.5 backward.
  op.flops = 4.0 * 32 * seq * seq * 128 * (causal ? 0.5 : 1.0) * (backward ? 2.5 : 1.0);
  return op;
}

}  // namespace

TEST_CASE("attention times reproduce the H200 anchors exactly", "[model][cost]") {
  const CostModel m(h200(), Precision::BF16, default_cost_params());
  // docs/cost-model.md [H200-SDPA], cuDNN: 16K causal fwd 3.762 ms, bwd 10.785 ms; 4K no-mask fwd 0.441 ms.
  // The tables store the TFLOP/s rounded to 3 digits, so the times agree to ~0.2%.
  CHECK(m.compute_time_s(attention_op(16384, true, false)) == Approx(3.762e-3).epsilon(0.002));
  CHECK(m.compute_time_s(attention_op(16384, true, true)) == Approx(10.785e-3).epsilon(0.002));
  CHECK(m.compute_time_s(attention_op(4096, false, false)) == Approx(0.441e-3).epsilon(0.002));
}

TEST_CASE("efficiency interpolates in log FLOPs and clamps at the ends", "[model][cost]") {
  EfficiencyTable t;
  t.points = {{1e9, 0.2}, {1e11, 0.6}};
  CHECK(t.at(1e8) == 0.2);                     // clamped below
  CHECK(t.at(1e12) == 0.6);                    // clamped above
  CHECK(t.at(1e10) == Approx(0.4));            // halfway in log10: 9 -> 11
  CHECK(t.at(std::pow(10.0, 9.5)) == Approx(0.3));
}

TEST_CASE("GEMM, elementwise, fp8 and the launch floor", "[model][cost]") {
  const CostParams p = default_cost_params();
  const CostModel bf16(h200(), Precision::BF16, p);
  const CostModel fp8(h200(), Precision::FP8, p);
  Op g;
  g.kind = OpKind::Compute;
  g.compute_class = ComputeClass::Gemm;
  g.flops = 2.0 * 8192 * 8192 * 8192;
  // docs/cost-model.md [H200-SDPA]: 8192^3 bf16 GEMM at 702 TFLOP/s.
  CHECK(bf16.compute_time_s(g) == Approx(g.flops / 702e12));
  // A bf16 GEMM (the LM head's) stays on the bf16 peak under fp8 training; an fp8 one without an
  // fp8 table of this GPU takes the bf16 fraction on the fp8 peak: exactly half the time here
  // (1979 vs 989; tests/cost/test_fp8_gemm.cpp has the measured tables).
  const double t_bf16 = bf16.compute_time_s(g);
  CHECK(fp8.compute_time_s(g) == Approx(t_bf16));
  g.gemm_type = rules::GemmType::Fp8SplitAccum;  // the op's type decides, not the model's precision
  CHECK(fp8.compute_time_s(g) == Approx(t_bf16 * 989.0 / 1979.0));
  CHECK(bf16.compute_time_s(g) == Approx(t_bf16 * 989.0 / 1979.0));
  g.gemm_type = rules::GemmType::Bf16;

  Op e;
  e.kind = OpKind::Compute;
  e.compute_class = ComputeClass::Elementwise;
  e.bytes = 4.3e9;  // 4.3 GB at the measured 4.3 TB/s copy rate: 1 ms
  CHECK(bf16.compute_time_s(e) == Approx(1e-3));
  e.bytes = 10;
  CHECK(bf16.compute_time_s(e) == p.kernel_floor_s);

  Op c;
  c.kind = OpKind::Comm;
  CHECK(bf16.compute_time_s(c) == 0);
}

TEST_CASE("a GEMM beside userbuffers' comm kernels runs on the SMs they leave", "[model][cost]") {
  // TE's set_sm_margin gives cuBLAS 132 - 16 = 116 of an H200's SMs: a GEMM of many waves takes
  // 132 / 116 of its time on all of them. Without an SM count the margin cannot be applied.
  GpuSpec gpu = h200();
  gpu.sm_count = 132;
  const CostModel m(gpu, Precision::BF16, default_cost_params());
  Op g;
  g.kind = OpKind::Compute;
  g.compute_class = ComputeClass::Gemm;
  g.flops = 2.0 * 8192 * 8192 * 8192;
  const double all_sms_s = m.compute_time_s(g);
  g.gemm_sm_margin = 16;
  CHECK(m.compute_time_s(g) == Approx(all_sms_s * 132.0 / 116.0));
  CHECK(gemm_sm_margin_factor(16, 132) == Approx(132.0 / 116.0));
  CHECK(gemm_sm_margin_factor(0, 132) == 1);
  CHECK(gemm_sm_margin_factor(16, 0) == 1);
}

TEST_CASE("effective cluster scales line rates by NCCL efficiency", "[model][cost]") {
  ClusterSpec c;
  c.intra_node.bandwidth_bytes_per_s = 450e9;
  c.inter_node.nic_bandwidth_bytes_per_s = 50e9;
  const ClusterSpec e = effective_cluster(c, default_cost_params());
  CHECK(e.intra_node.bandwidth_bytes_per_s == Approx(370e9));  // nccl-tests #212
  CHECK(e.inter_node.nic_bandwidth_bytes_per_s == Approx(47.5e9));
}

TEST_CASE("each attention pass and mask takes its own table, by the name calibration files use", "[model][cost]") {
  // Written out by hand: the pass picks fwd/bwd, any causal mask (top-left or bottom-right)
  // the causal table, no mask the nomask table.
  CHECK(std::string(attention_table_parameter(false, KernelMask::CausalTopLeft).name) == "attention_fwd_causal");
  CHECK(std::string(attention_table_parameter(false, KernelMask::CausalBottomRight).name) == "attention_fwd_causal");
  CHECK(std::string(attention_table_parameter(false, KernelMask::None).name) == "attention_fwd_nomask");
  CHECK(std::string(attention_table_parameter(true, KernelMask::CausalTopLeft).name) == "attention_bwd_causal");
  CHECK(std::string(attention_table_parameter(true, KernelMask::None).name) == "attention_bwd_nomask");
  CHECK(attention_table_parameter(true, KernelMask::None).member == &CostParams::attention_bwd_nomask);
  // Every name is one parameter; the scalars likewise.
  std::set<std::string> names;
  for (const auto& t : cost_table_parameters()) names.insert(t.name);
  for (const auto& s : cost_scalar_parameters()) names.insert(s.name);
  CHECK(names.size() == cost_table_parameters().size() + cost_scalar_parameters().size());
}

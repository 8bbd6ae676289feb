// Attention at head dims other than 128 (cost/head_dim_rates.hpp): the rates recomputed from the
// committed H100 records, their error on the held-out records, and the softmax-exponential model's
// error on both, each against the constant the cost model and the band use.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

#include "cost/cost_model.hpp"
#include "cost/head_dim_rates.hpp"
#include "fit/measurements.hpp"
#include "scenario/presets.hpp"

using namespace hcpsim;

namespace {

// (backend, backward, causal, sq, heads, head dim) -> FLOP/s, from hcpcal_torch-schema records. FLOPs
// as the harness counts them: 4 x heads x d x visible scores (causal square: s (s + 1) / 2), the
// backward 2.5x.
using Key = std::tuple<AttentionBackend, bool, bool, int64_t, int64_t, int64_t>;

std::map<Key, double> rates_of(const std::string& file) {
  const MeasurementSet set = read_measurements_file(std::string(HCPSIM_SOURCE_DIR) + "/calibrate/results/h100-v41/" + file);
  std::map<Key, double> out;
  for (const Measurement& m : set.items) {
    REQUIRE(m.kind == MeasurementKind::Attention);
    const AttentionShape& a = m.attention;
    REQUIRE(a.sq == a.skv);
    const bool causal = a.mask != KernelMask::None;
    const double visible = causal ? double(a.sq) * double(a.sq + 1) / 2 : double(a.sq) * double(a.sq);
    const double flops = 4.0 * double(a.heads_q) * double(a.head_dim_qk) * visible * (a.backward ? 2.5 : 1.0);
    out[{*attention_backend_of(m), a.backward, causal, a.sq, a.heads_q, a.head_dim_qk}] = flops / m.median_s;
  }
  return out;
}

// A 16K-token MHA attention of 32 heads at head dim d: FLOPs 4 x heads x d x visible scores, the
// causal half, the backward 2.5x.
Op attention_op_of_head_dim(int64_t d, bool causal, bool backward) {
  Op op;
  op.kind = OpKind::Compute;
  op.compute_class = ComputeClass::Attention;
  op.attn.batch = 1;
  op.attn.sq = op.attn.skv = 16384;
  op.attn.heads_q = op.attn.heads_kv = 32;
  op.attn.head_dim_qk = op.attn.head_dim_v = d;
  op.attn.mask = causal ? KernelMask::CausalTopLeft : KernelMask::None;
  op.attn.backward = backward;
  op.flops = 4.0 * 32 * 16384.0 * 16384.0 * double(d) * (causal ? 0.5 : 1.0) * (backward ? 2.5 : 1.0);
  return op;
}

}  // namespace

TEST_CASE("head dims: the measured rates are the committed records' and hold on held-out shapes", "[cost]") {
  const auto in = rates_of("h100-v41-head-dim.json"), out = rates_of("h100-v41-head-dim-heldout.json");
  REQUIRE(in.size() == 80);
  REQUIRE(out.size() == 80);
  const GpuSpec h100 = find_cluster_preset("dgx-h100")->spec.gpu;
  for (const size_t di : {0, 1, 3, 4}) {  // 64, 96, 192, 256
    const int64_t d = kMeasuredHeadDims[di];
    double worst_heldout = 0, worst_model = 0;
    for (const AttentionBackend b : {AttentionBackend::CuDNN, AttentionBackend::Flash})
      for (const bool bwd : {false, true})
        for (const bool causal : {false, true}) {
          INFO(to_string(b) << (bwd ? " bwd" : " fwd") << (causal ? " causal" : " none") << " d " << d);
          // The rate: TFLOP/s at d over TFLOP/s at 128, same length, the mean over 8K and 16K (32 heads).
          double sum = 0;
          for (const int64_t s : {8192, 16384}) sum += in.at({b, bwd, causal, s, 32, d}) / in.at({b, bwd, causal, s, 32, 128});
          const auto rate = measured_head_dim_rate(b, bwd, causal, d);
          REQUIRE(rate);
          CHECK(*rate == Approx(sum / 2).margin(0.0005));
          // Held out: 4K and 32K tokens, 16 heads. Errors are of the time: measured rate / predicted - 1.
          for (const int64_t s : {4096, 32768})
            worst_heldout = std::max(worst_heldout,
                                     std::abs(out.at({b, bwd, causal, s, 16, d}) / out.at({b, bwd, causal, s, 16, 128}) / *rate - 1));
          // The exponential model's rate, at the head-dim-128 kernel's measured efficiency of each shape.
          for (const auto* set : {&in, &out})
            for (const auto& [k, r128] : *set) {
              const auto& [kb, kbwd, kcausal, s, h, kd] = k;
              if (kb != b || kbwd != bwd || kcausal != causal || kd != 128) continue;
              const double model = 1 / head_dim_factor(h100, 989.4e12, r128 / 989.4e12, d, bwd);
              worst_model = std::max(worst_model, std::abs(set->at({b, bwd, causal, s, h, d}) / r128 / model - 1));
            }
        }
    INFO("head dim " << d);
    CHECK(kHeadDimRateBands[di] >= worst_heldout);
    CHECK(kHeadDimRateBands[di] <= worst_heldout + 0.01);
    CHECK(kHeadDimModelBands[di] >= worst_model);
    CHECK(kHeadDimModelBands[di] <= worst_model + 0.01);
    CHECK(head_dim_band(true, d) == kHeadDimRateBands[di]);
  }
  // Between measured head dims the rate is the straight line or the upper head dim's time (a kernel
  // that pads), the slower: cuDNN's no-mask backward at 224, halfway from 192 (0.592) to 256 (0.693):
  // the line 0.6425, padded to 256 0.693 x 224 / 256 = 0.6064.
  CHECK(*measured_head_dim_rate(AttentionBackend::CuDNN, true, false, 224) == Approx(0.693 * 224 / 256));
  // At 80 (halfway from 64 to 96, padded to 96: x 80/96) the band is the wider neighbour's plus the
  // largest gap between the two readings over every kernel; the model's widest outside 64-256.
  double gap = 0;
  for (const AttentionBackend b : {AttentionBackend::CuDNN, AttentionBackend::Flash})
    for (const bool bwd : {false, true})
      for (const bool causal : {false, true}) {
        const double lo = *measured_head_dim_rate(b, bwd, causal, 64), up = *measured_head_dim_rate(b, bwd, causal, 96);
        const double line = (lo + up) / 2, padded = up * 80 / 96;
        gap = std::max(gap, std::max(line, padded) / std::min(line, padded) - 1);
        CHECK(*measured_head_dim_rate(b, bwd, causal, 80) == Approx(std::min(line, padded)));
      }
  CHECK(head_dim_band(true, 80) == Approx(std::max(kHeadDimRateBands[0], kHeadDimRateBands[1]) + gap));
  CHECK(head_dim_band(false, 80) == std::max(kHeadDimModelBands[0], kHeadDimModelBands[1]));
  CHECK(head_dim_band(false, 32) == 0.47);
  // Outside 64-256, and for hcpsim's kernels, no rate.
  CHECK_FALSE(measured_head_dim_rate(AttentionBackend::CuDNN, false, true, 32));
  CHECK_FALSE(measured_head_dim_rate(AttentionBackend::CuDNN, false, true, 512));
  CHECK_FALSE(measured_head_dim_rate(AttentionBackend::Hcpsim, false, true, 64));
}

TEST_CASE("head dims: on a Hopper GPU attention at head dim d takes the 128 tables' time of its scores over the measured rate",
          "[cost]") {
  // A no-mask 16K backward on an H100 (cuDNN defaults, no shape model at d != 128): at head dim 192 the
  // same scores cost 192/128 the FLOPs, looked up where the head-dim-128 kernel of those scores sits,
  // then divided by the measured rate (0.592 for cuDNN's no-mask backward at 192); on a B200 the
  // exponential model instead. The B200's ratio is head_dim_factor's.
  const auto op_at = [](int64_t d) { return attention_op_of_head_dim(d, false, true); };
  const GpuSpec h100 = find_cluster_preset("dgx-h100")->spec.gpu;
  CostParams p = default_cost_params(h100, AttentionBackend::CuDNN);
  p.attention_shape.reset();  // the tables alone at 128 too, for the ratio
  const CostModel m(h100, Precision::BF16, p);
  const double rate = *measured_head_dim_rate(AttentionBackend::CuDNN, true, false, 192);
  CHECK(rate == Approx(0.592));
  CHECK(m.compute_time_s(op_at(192)) / m.compute_time_s(op_at(128)) == Approx(192.0 / 128 / rate).epsilon(1e-9));
  const GpuSpec b200 = find_cluster_preset("dgx-b200")->spec.gpu;
  const CostParams pb = default_cost_params(b200, AttentionBackend::CuDNN);
  const CostModel mb(b200, Precision::BF16, pb);
  const Op o128 = op_at(128);
  const double eff = 4.0 * 32 * 16384.0 * 16384.0 * 128 * 2.5 / mb.compute_time_s(o128) / b200.peak_bf16_flops_per_s;
  CHECK(mb.compute_time_s(op_at(192)) / mb.compute_time_s(o128) ==
        Approx(192.0 / 128 * head_dim_factor(b200, b200.peak_bf16_flops_per_s, eff, 192, true)).epsilon(1e-6));
}

TEST_CASE("head dims: the rates are the measured die's, and on another Hopper the model times them",
          "[cost]") {
  // An H20-like Hopper (78 SMs, 148 dense TFLOP/s): not the die the rates were measured on, so the
  // exponential model times head dim 64.
  GpuSpec h20 = find_cluster_preset("dgx-h100")->spec.gpu;
  h20.name = "H20";
  h20.sm_count = 78;
  h20.peak_bf16_flops_per_s = 148e12;
  h20.peak_fp8_flops_per_s = 296e12;
  const Op op = attention_op_of_head_dim(64, true, false);
  const CostModel m(h20, Precision::BF16, default_cost_params(h20, AttentionBackend::CuDNN));
  const Op at128 = attention_op_of_head_dim(128, true, false);
  const double eff = at128.flops / m.compute_time_s(at128) / h20.peak_bf16_flops_per_s;
  CHECK(m.compute_time_s(op) / m.compute_time_s(at128) == Approx(0.5 * head_dim_factor(h20, 148e12, eff, 64, false)));
}

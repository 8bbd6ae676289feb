// NVFP4 training (Transformer Engine's NVFP4BlockScaling; training.precision "nvfp4"): the GEMM each
// linear runs, its rate on the fp4 peak, the quantize kernels and gathers of the layer, the memory it
// keeps and the primary weights' gather (rules/fp8_gemm.hpp; docs/cost-model.md, "NVFP4"). Every
// expected value is worked out here from the format (E2M1 with an E4M3 scale per 16 elements), the
// B300 profiling figures and the layer's shapes, not read back from the code.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

#include "cost/cost_model.hpp"
#include "memory/activations.hpp"
#include "memory/model_states.hpp"
#include "rules/fp8_gemm.hpp"
#include "rules/te_norm_quantize.hpp"
#include "scenario/presets.hpp"
#include "scenario/scenario_json.hpp"
#include "workload/builder.hpp"
#include "../scenario/parse_outcome.hpp"
#include "gemm_op.hpp"

using namespace hcpsim;
using rules::GemmType;
using test::gemm_op;

namespace {

// One NVFP4 byte count: half a byte of E2M1 and one E4M3 scale byte per 16 elements.
constexpr double kNv = 0.5 + 1.0 / 16;

nlohmann::json nvfp4_step(const char* cluster, int gpus) {
  return {{"model", {{"preset", "llama3.1-8b"}}},
          {"training", {{"seq_length", 8192}, {"micro_batch_size", 1}, {"global_batch_size", gpus}, {"precision", "nvfp4"}}},
          {"parallel", {{"tensor_model_parallel_size", 1}, {"context_parallel_size", 1}}},
          {"cluster", {{"preset", cluster}, {"num_nodes", 1}, {"gpus_per_node", gpus}}},
          {"workload", "step"}};
}

}  // namespace

TEST_CASE("NVFP4 rules: the format's bytes, its GEMM, its amax pass and what TE's norm leaves it", "[rules]") {
  using rules::QuantFormat;
  CHECK(rules::quantized_element_bytes(QuantFormat::Nvfp4) == 0.5625);
  CHECK(rules::quantized_both_ways(QuantFormat::Nvfp4));
  // Both quantizations from one bf16 read: 2 + 2 x 0.5625 bytes an element, on any Blackwell.
  CHECK(rules::quantize_bytes_per_element(100, QuantFormat::Nvfp4) == 3.125);
  CHECK(rules::quantized_copy_bytes_per_element(103, QuantFormat::Nvfp4) == 1.125);
  // fprop, dgrad and wgrad alike (the recipe quantizes all three), never the split/fast accumulator.
  CHECK(rules::te_linear_gemm_type(true, true, QuantFormat::Nvfp4) == GemmType::Nvfp4);
  CHECK(rules::te_linear_gemm_type(true, false, QuantFormat::Nvfp4) == GemmType::Nvfp4);
  CHECK(rules::is_fp4(GemmType::Nvfp4));
  CHECK_FALSE(rules::is_fp8(GemmType::Nvfp4));
  CHECK(std::string(rules::gemm_table_name(GemmType::Nvfp4)) == "gemm_nvfp4");
  // A per-tensor scale from the amax: a pass of its own, as tensorwise fp8 but unlike delayed or MXFP8.
  CHECK(rules::amax_pass_before_cast(QuantFormat::Nvfp4, false));
  CHECK_FALSE(rules::amax_pass_before_cast(QuantFormat::Mxfp8, false));
  CHECK_FALSE(rules::amax_pass_before_cast(QuantFormat::Fp8PerTensor, false));
  // The Hadamard-transform amax keeps TE's norm from fusing it, with either norm kernel.
  for (const bool cudnn : {false, true})
    CHECK(rules::te_norm_fp8_output(rules::Fp8Scaling::Nvfp4Block, cudnn, 8192, 4096) == rules::NormFp8Output::Bf16);
  CHECK(rules::nvfp4_supported(100));
  CHECK(rules::nvfp4_supported(103));
  CHECK_FALSE(rules::nvfp4_supported(90));
  // TE's B300 profiling: 6.812 ms a layer in fp8 current scaling, 3.764 in NVFP4, kernels alone;
  // the B300's dense peaks 4.5 (fp8) and 12.6 (fp4) PFLOP/s.
  CHECK(rules::kNvfp4FractionOverFp8 == Approx(6.812 / 3.764 * 4.5 / 12.6));
  CHECK(rules::kNvfp4FractionOverFp8 == Approx(0.6464).epsilon(1e-3));
}

TEST_CASE("NVFP4 GEMMs: the B300's NVFP4/fp8 rate read as a rate and as a fraction of the peak, their geometric mean",
          "[cost][roofline]") {
  // A GEMM far past the tables' falloff (FC1 at 1M tokens: the NVFP4 table's falloff sits at the fp8
  // one's equal time, a GEMM 1.3-1.9x larger, so 64K tokens would still be on it). On each GPU the
  // fp8 time is the fp8 cost model's own. TE's B300 profiling: 6.812 ms a layer in fp8, 3.764 in
  // NVFP4, where the B300's dense peaks are 4.5 (fp8) and 12.6 (fp4) PFLOP/s. Read as a rate, NVFP4
  // runs 1.810x fp8 on every GPU; read as a fraction of the peak, 1.810 x 4.5 / 12.6 x fp4 / fp8
  // peak. hcpsim takes the geometric mean of the two: sqrt(1.810 x 1.293) = 1.530 on a B200 or
  // GB200, 1.810 on a B300, sqrt(1.810 x 1.939) = 1.873 on a GB300.
  const double m = 1048576, n = 28672, k = 4096;
  const double as_rate = 6.812 / 3.764, as_fraction = 6.812 / 3.764 * 4.5 / 12.6;
  for (const auto& [cluster, fp8_pflops, fp4_pflops, expected] :
       {std::tuple{"dgx-b200", 4.5, 9.0, 1.530}, std::tuple{"gb200-nvl72", 5.0, 10.0, 1.530},
        std::tuple{"dgx-b300", 4.5, 12.6, 1.810}, std::tuple{"gb300-nvl72", 5.0, 15.0, 1.873}}) {
    INFO(cluster);
    const test::Outcome o = test::parse(nvfp4_step(cluster, 1));
    REQUIRE(o.valid);
    const GpuSpec& gpu = o.scenario.cluster.gpu;
    CHECK(gpu.peak_fp4_flops_per_s == Approx(fp4_pflops * 1e15));
    const double rate = std::sqrt(as_rate * as_fraction * fp4_pflops / fp8_pflops);
    CHECK(rate == Approx(expected).epsilon(1e-3));
    const CostModel fp8(gpu, Precision::FP8, default_cost_params(gpu, AttentionBackend::CuDNN));
    const CostModel nvfp4(gpu, Precision::NVFP4, cost_params_for(o.scenario));
    const double fp8_s = fp8.compute_time_s(gemm_op(m, n, k, GemmType::Fp8SplitAccum));
    CHECK(nvfp4.compute_time_s(gemm_op(m, n, k, GemmType::Nvfp4)) == Approx(fp8_s / rate).epsilon(1e-6));
    // The bf16 LM head keeps its bf16 time; MFU divides by the fp4 peak.
    CHECK(nvfp4.compute_time_s(gemm_op(m, n, k, GemmType::Bf16)) == Approx(fp8.compute_time_s(gemm_op(m, n, k, GemmType::Bf16))));
    CHECK(nvfp4.gemm_peak_flops_per_s() == Approx(fp4_pflops * 1e15));
  }
  // The band: the fp8 GEMMs' roofline margin (10 % on a B200), the measured rate's 15 % and half
  // the two readings' log-ratio, ln(1.810 / 1.293) / 2 = 0.168, independent; a warning says the rate
  // is carried from one B300.
  const CostParams b200 = cost_params_for(test::parse(nvfp4_step("dgx-b200", 1)).scenario);
  const double gap = std::log(as_rate / (as_fraction * 2)) / 2;
  CHECK(gap == Approx(0.168).epsilon(1e-2));
  CHECK(b200.evidence_for("gemm")->relative == Approx(std::sqrt(0.10 * 0.10 + 0.15 * 0.15 + gap * gap)));
  CHECK(std::any_of(b200.warnings.begin(), b200.warnings.end(),
                    [](const std::string& w) { return w.find("NVFP4 GEMMs: ") != std::string::npos; }));
  // On a GB300 the readings part by ln(1.873... ): ln(1.810 / 1.939) / 2 = -0.0345 in size, beside the
  // fp8 GEMMs' 15 % carried margin.
  const CostParams gb300 = cost_params_for(test::parse(nvfp4_step("gb300-nvl72", 1)).scenario);
  const double gap300 = std::log((as_fraction * 3) / as_rate) / 2;
  CHECK(gap300 == Approx(0.0345).epsilon(2e-2));
  CHECK(gb300.evidence_for("gemm")->relative == Approx(std::sqrt(0.15 * 0.15 + 0.15 * 0.15 + gap300 * gap300)));
  // On the B300 itself the readings agree: the band is the fp8 GEMMs' and the rate's alone. The rule's
  // B300 peaks are the preset's (one datasheet figure in two places: a preset edit must move both).
  const test::Outcome b300_run = test::parse(nvfp4_step("dgx-b300", 1));
  CHECK(b300_run.scenario.cluster.gpu.peak_fp8_flops_per_s == rules::kB300DenseFp8Tflops * 1e12);
  CHECK(b300_run.scenario.cluster.gpu.peak_fp4_flops_per_s == rules::kB300DenseFp4Tflops * 1e12);
  const CostParams b300 = cost_params_for(b300_run.scenario);
  CHECK(b300.evidence_for("gemm")->relative == Approx(std::hypot(0.10, 0.15)));
}

TEST_CASE("NVFP4 in the layer: every TE Linear's GEMM, an amax pass and both quantizations of each operand, gathered "
          "with their scales",
          "[workload]") {
  // Llama-3.1-8B at 8K on 2 B200s, TP 2 with SP, no userbuffers: T = 8192 rows, SP shards of 4096;
  // per rank QKV output 3072, attention output 2048, ffn 7168 (FC1 out 14336).
  nlohmann::json j = nvfp4_step("dgx-b200", 2);
  j["parallel"] = {{"tensor_model_parallel_size", 2}, {"context_parallel_size", 1}, {"sequence_parallel", true}};
  j["training"]["global_batch_size"] = 1;
  const test::Outcome o = test::parse(j);
  REQUIRE(o.valid);
  const Workload w = build_workload(o.scenario);
  double quantize = 0, amax = 0, gathered = 0, swapped = 0;
  int gemms = 0, amax_reductions = 0;
  for (const Op& op : w.layer.at(0).ops) {
    if (op.compute_class == ComputeClass::Gemm && op.kind == OpKind::Compute) {
      CHECK(op.gemm_type == GemmType::Nvfp4);
      ++gemms;
    }
    CHECK(op.label.find("transpose") == std::string::npos);  // both layouts quantized from bf16
    const bool quantizer = op.label.find("fp8") != std::string::npos;
    if (op.kind == OpKind::Compute && op.label.find("colwise_swap") != std::string::npos) swapped += op.bytes;
    if (op.kind == OpKind::Compute && quantizer)
      (op.label.find("_amax") != std::string::npos ? amax : quantize) += op.bytes;
    if (op.kind == OpKind::Comm && op.label.find("_amax_ar") != std::string::npos) {
      CHECK(op.message_bytes == 4);  // one fp32 amax
      ++amax_reductions;
    } else if (op.kind == OpKind::Comm && op.pattern == CommPattern::AllGather) {
      gathered += op.message_bytes;
    }
  }
  CHECK(gemms == 12);
  // The quantized tensors: the projection's and FC2's inputs [T, 2048] and [T, 7168], FC1's and QKV's
  // output gradients [T, 14336] and [T, 3072], and on their SP shards the two norms' outputs and
  // the two row-parallel output gradients, 4 x [4096, 4096].
  const double elements = 8192.0 * 2048 + 8192.0 * 7168 + 8192.0 * 14336 + 8192.0 * 3072 + 4 * 4096.0 * 4096;
  // The projection keeps O (Megatron's set_save_original_input under fp4): O is quantized row-wise in
  // the forward and column-wise in the backward, each after its own amax pass: one more bf16 read of
  // [8192, 2048] for each.
  const double o_elements = 8192.0 * 2048;
  CHECK(quantize == Approx((2 + 2 * kNv) * elements + 2 * o_elements));
  CHECK(amax == Approx(2 * (elements + o_elements)));  // each read once in bf16 for its amax, O twice
  // The four tensors SP gathers have their amax all-reduced over TP (a tensor-wide scale).
  CHECK(amax_reductions == 4);
  // Six gathers of the shards in NVFP4, and the row-parallel gradients' column-wise copies: 8 x [4096, 4096].
  CHECK(gathered == Approx(8 * 4096.0 * 4096 * kNv));
  // The four column-wise copies gathered for wgrad (two row-parallel output gradients, two re-gathered
  // column-parallel inputs), [8192, 4096] each, swapped back into order: read and written.
  CHECK(swapped == Approx(4 * 8192.0 * 4096 * 2 * kNv));
}

TEST_CASE("NVFP4 memory: weights quantized both ways, saved GEMM inputs at 9/16 of a byte, the projection saving O itself",
          "[memory]") {
  const test::Outcome o = test::parse(nvfp4_step("dgx-b200", 1));
  REQUIRE(o.valid);
  // Llama-3.1-8B's layer GEMM weights: 32 x (4096 x 6144 + 4096 x 4096 + 4096 x 28672 + 14336 x 4096).
  const double gemm_params = 32.0 * (4096.0 * 6144 + 4096.0 * 4096 + 4096.0 * 28672 + 14336.0 * 4096);
  const ModelStateBytes m = model_state_bytes(o.scenario, 0);
  CHECK(m.quantized_weight_copies_bytes == Approx(2 * kNv * gemm_params));
  CHECK(m.weights_bytes == Approx(2 * m.params_per_gpu));  // bf16 primaries without fp4_param_gather
  nlohmann::json jp = nvfp4_step("dgx-b200", 1);
  jp["training"]["fp4_param_gather"] = true;
  const test::Outcome op = test::parse(jp);
  REQUIRE(op.valid);
  CHECK(model_state_bytes(op.scenario, 0).weights_bytes == Approx(2 * (m.params_per_gpu - gemm_params)));
  // T = 8192, h = 4096, 32 query and 8 KV heads of 128, ffn 14336; e = 2, each Linear's saved input at kNv.
  const LayerActivationBytes a = layer_activation_bytes(o.scenario);
  const double T = 8192, h = 4096, d = 128, ffn = 14336;
  CHECK(a.attn_pre_bytes == Approx(T * (2 * h + kNv * h + 2 * (32 + 2 * 8) * d)));
  CHECK(a.mlp_bytes == Approx(T * (2 * h + kNv * h + 2 * 2 * ffn + kNv * ffn)));
  CHECK(a.proj_input_fp8_bytes == 0);  // Megatron's linear_proj saves O itself under fp4 (TE >= 2.7)
}

TEST_CASE("NVFP4 primary weights: the tile amaxes all-reduced, the packed E2M1 bytes gathered, the column-wise copy made after",
          "[workload][memory]") {
  nlohmann::json j = nvfp4_step("dgx-b200", 8);  // DP 8
  j["training"]["fp4_param_gather"] = true;
  const test::Outcome o = test::parse(j);
  REQUIRE(o.valid);
  const Workload w = build_workload(o.scenario);
  double ag = 0, columnwise = 0, amax = 0;
  for (const Op& op : w.step.at(0).ops) {
    if (op.kind == OpKind::Comm && op.label.find("param_ag") != std::string::npos) ag += op.repeats * op.message_bytes;
    if (op.kind == OpKind::Comm && op.label.find("nvfp4_tile_amax_ar") != std::string::npos) {
      CHECK(op.pattern == CommPattern::AllReduce);
      amax += op.message_bytes;
    }
    if (op.label.find("nvfp4_weight_columnwise") != std::string::npos) columnwise += op.bytes;
  }
  const double all = model_state_bytes(o.scenario, 0).params_per_gpu;
  const double gemm = 32.0 * (4096.0 * 6144 + 4096.0 * 4096 + 4096.0 * 28672 + 14336.0 * 4096);
  // The rest in bf16 (2 B), the GEMM weights' packed E2M1 at 1/2 B (each rank rebuilds the scales);
  // each rank's output shard of 8. Before it, one fp32 amax per 16 x 16 tile of every GEMM weight.
  CHECK(ag == Approx((2 * (all - gemm) + 0.5 * gemm) / 8));
  CHECK(amax == Approx(4 * gemm / 256));
  CHECK(columnwise == Approx(2 * kNv * gemm));  // one copy read, the other written
  // The switch reads back from the result's scenario JSON.
  CHECK(scenario_from_json(scenario_to_json(o.scenario), "scenario").training.fp4_param_gather);
  CHECK(scenario_from_json(scenario_to_json(o.scenario), "scenario").training.precision == Precision::NVFP4);
}

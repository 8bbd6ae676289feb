// Transformer Engine's fp8 GEMMs: which GEMM each of the layer's linears runs, the tables and peak
// they are timed by, the band where a GPU model's fp8 GEMMs are not measured, and the records that
// measure them (rules/fp8_gemm.hpp; docs/cost-model.md, "fp8 GEMMs").
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>

#include "cost/cost_model.hpp"
#include "fit/measurements.hpp"
#include "memory/model_states.hpp"
#include "rules/fp8_gemm.hpp"
#include "scenario/presets.hpp"
#include "scenario/scenario_json.hpp"
#include "workload/builder.hpp"
#include "../scenario/parse_outcome.hpp"
#include "gemm_op.hpp"

using namespace hcpsim;
using rules::GemmType;
using test::gemm_op;

namespace {

nlohmann::json fp8_layer(const char* cluster) {
  return {{"model", {{"preset", "llama3.1-8b"}}},
          {"training", {{"seq_length", 8192}, {"micro_batch_size", 1}, {"global_batch_size", 1}, {"precision", "fp8"}}},
          {"parallel", {{"tensor_model_parallel_size", 1}, {"context_parallel_size", 1}}},
          {"cluster", {{"preset", cluster}, {"num_nodes", 1}, {"gpus_per_node", 1}}},
          {"workload", "step"}};
}

nlohmann::json committed(const std::string& path) {
  std::ifstream in(std::string(HCPSIM_SOURCE_DIR) + "/" + path);
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}

EfficiencyTable table_of(const nlohmann::json& parameter) {
  EfficiencyTable t;
  for (const auto& p : parameter.at("points")) t.points.emplace_back(p[0].get<double>(), p[1].get<double>());
  return t;
}

}  // namespace

TEST_CASE("fp8 GEMMs: TE's Linears run fp8 (fast-accumulated forward and split-accumulated dgrad and wgrad) and the head stays bf16",
          "[cost][workload]") {
  const test::Outcome o = test::parse(fp8_layer("dgx-h100"));
  REQUIRE(o.valid);
  const Workload w = build_workload(o.scenario);
  int fast = 0, split = 0;
  for (const Op& op : w.layer.at(0).ops) {
    if (op.compute_class != ComputeClass::Gemm) continue;
    const bool forward = op.phase == Phase::Forward || op.recompute;
    CHECK(op.gemm_type == (forward ? GemmType::Fp8FastAccum : GemmType::Fp8SplitAccum));
    (forward ? fast : split) += 1;
  }
  CHECK(fast == 4);   // QKV, projection, FC1, FC2
  CHECK(split == 8);  // their dgrad and wgrad
  int head = 0;
  for (const Op& op : w.step.at(0).ops)
    if (op.compute_class == ComputeClass::Gemm) {
      CHECK(op.gemm_type == GemmType::Bf16);
      ++head;
    }
  CHECK(head == 3);  // Megatron's output layer: not a TE module
  // TE's quantize kernels (cast_transpose: 2 B read, 1 + 1 B written an element): forward, the
  // row-parallel GEMMs' inputs, [8192, 32 x 128] (projection) and [8192, 14336] (FC2), and the
  // transposed copies (1 B read, 1 B written) of the two norms' fp8 outputs [8192, 4096], QKV's and
  // FC1's inputs; backward, every output gradient: FC2 and projection [8192, 4096], FC1
  // [8192, 2 x 14336], QKV [8192, 6144].
  double quantize_fwd = 0, quantize_bwd = 0;
  for (const Op& op : w.layer.at(0).ops)
    if (op.label.find("fp8") != std::string::npos) (op.phase == Phase::Forward ? quantize_fwd : quantize_bwd) += op.bytes;
  CHECK(quantize_fwd == Approx(4.0 * 8192 * (4096 + 14336) + 2.0 * 2 * 8192 * 4096));
  CHECK(quantize_bwd == Approx(4.0 * 8192 * (4096 + 2 * 14336 + 4096 + 6144)));
  // A B200 (sm_100) runs fp8 GEMMs in any layout: TE's quantize writes one fp8 copy, 2 + 1 B an
  // element, and no transposed copy is made.
  const Workload wb = build_workload(test::parse(fp8_layer("dgx-b200")).scenario);
  double quantize_b200 = 0;
  for (const Op& op : wb.layer.at(0).ops)
    if (op.label.find("fp8") != std::string::npos) quantize_b200 += op.bytes;
  CHECK(quantize_b200 == Approx(3.0 * 8192 * (4096 + 14336 + 4096 + 2 * 14336 + 4096 + 6144)));
  // bf16 training: every GEMM bf16, no quantize kernel.
  nlohmann::json bf16 = fp8_layer("dgx-h100");
  bf16["training"]["precision"] = "bf16";
  const Workload w16 = build_workload(test::parse(bf16).scenario);  // kept: the loop reads into it
  for (const Op& op : w16.layer.at(0).ops) {
    CHECK(op.gemm_type == GemmType::Bf16);
    CHECK(op.label.find("fp8") == std::string::npos);
  }
}

TEST_CASE("fp8 with sequence parallelism: GEMM inputs gathered over TP in fp8, quantized on the shard", "[cost][workload]") {
  // Llama-3.1-8B at 8K on 2 H100s, TP 2 with SP, no userbuffers: T = 8192 rows, shards of 4096.
  nlohmann::json j = fp8_layer("dgx-h100");
  j["parallel"] = {{"tensor_model_parallel_size", 2}, {"context_parallel_size", 1}, {"sequence_parallel", true}};
  j["cluster"]["gpus_per_node"] = 2;
  const Workload w8 = build_workload(test::parse(j).scenario);
  j["training"]["precision"] = "bf16";
  const Workload w16 = build_workload(test::parse(j).scenario);
  const auto comm_bytes = [](const Workload& w, CommPattern p) {
    double sum = 0;
    for (const Op& op : w.layer.at(0).ops)
      if (op.kind == OpKind::Comm && op.pattern == p) sum += op.message_bytes;
    return sum;
  };
  // The all-gathers (QKV's and FC1's inputs, the projection's and FC2's output gradients, the
  // wgrad re-gathers of QKV's and FC1's inputs) move 1 B an element in fp8, 2 in bf16; the
  // reduce-scatters move bf16 outputs either way.
  CHECK(comm_bytes(w8, CommPattern::AllGather) == Approx(0.5 * comm_bytes(w16, CommPattern::AllGather)));
  CHECK(comm_bytes(w16, CommPattern::AllGather) == Approx(6 * 4096.0 * 4096 * 2));
  CHECK(comm_bytes(w8, CommPattern::ReduceScatter) == Approx(comm_bytes(w16, CommPattern::ReduceScatter)));
  // FC2's output gradient: cast on the [4096, 4096] shard (2 B read, 1 B written), gathered, then
  // transposed on the gathered [8192, 4096] for wgrad (1 B read, 1 B written; the H100 is TN-only).
  double cast = 0, transpose = 0;
  for (const Op& op : w8.layer.at(0).ops) {
    if (op.label.find("fc2_grad_fp8_transpose") != std::string::npos) transpose += op.bytes;
    else if (op.label.find("fc2_grad_fp8") != std::string::npos) cast += op.bytes;
  }
  CHECK(cast == Approx(3.0 * 4096 * 4096));
  CHECK(transpose == Approx(2.0 * 8192 * 4096));
}

TEST_CASE("fp8 GEMMs: a transposed fp8 copy only where the GPU's fp8 GEMMs are TN-only", "[cost][memory]") {
  // TE's nvte_is_non_tn_fp8_gemm_supported: sm_100 to sm_119 and from sm_130 run any layout.
  for (int64_t cc : {89, 90, 120, 121}) CHECK(rules::fp8_needs_transposed_copy(cc));
  for (int64_t cc : {100, 103, 110, 119, 130}) CHECK_FALSE(rules::fp8_needs_transposed_copy(cc));
  // Llama-3.1-8B on one GPU: 32 layers x (QKV 4096 x 6144 + proj 4096 x 4096 + FC1 4096 x 28672 +
  // FC2 14336 x 4096) GEMM weights, kept in fp8 twice on an H100 and once on a B200.
  const double gemm_params = 32.0 * (4096.0 * 6144 + 4096.0 * 4096 + 4096.0 * 28672 + 14336.0 * 4096);
  CHECK(model_state_bytes(test::parse(fp8_layer("dgx-h100")).scenario, 0).quantized_weight_copies_bytes == Approx(2 * gemm_params));
  CHECK(model_state_bytes(test::parse(fp8_layer("dgx-b200")).scenario, 0).quantized_weight_copies_bytes == Approx(gemm_params));
}

TEST_CASE("fp8 GEMMs: each type at its own table on the fp8 peak where measured (H100, H200), the bf16 table where not (H800)",
          "[cost]") {
  const GpuSpec h100 = find_cluster_preset("dgx-h100")->spec.gpu, h800 = find_cluster_preset("hgx-h800")->spec.gpu;
  const nlohmann::json file = committed("src/cost/defaults/h100-fp8-gemm.json").at("parameters");
  const EfficiencyTable fast = table_of(file.at("gemm_fp8_fast_accum")), split = table_of(file.at("gemm_fp8_split_accum"));
  const EfficiencyTable bf16 = table_of(committed("src/cost/defaults/h100-hcpsim.json").at("parameters").at("gemm"));
  const CostModel on_h100(h100, Precision::FP8, default_cost_params(h100, AttentionBackend::CuDNN));
  // FC1 at 8K tokens of Llama-3.1-8B: 2 x 8192 x 28672 x 4096 FLOPs; time = FLOPs / (peak x table).
  const double m = 8192, n = 28672, k = 4096, f = 2 * m * n * k;
  CHECK(on_h100.compute_time_s(gemm_op(m, n, k, GemmType::Fp8FastAccum)) == Approx(f / (1979e12 * fast.at(f))));
  CHECK(on_h100.compute_time_s(gemm_op(m, n, k, GemmType::Fp8SplitAccum)) == Approx(f / (1979e12 * split.at(f))));
  CHECK(on_h100.compute_time_s(gemm_op(m, n, k, GemmType::Bf16)) == Approx(f / (989e12 * bf16.at(f))));
  // Measured [v38]: at this shape the fp8 GEMM ran 1.45-1.63 ms, the bf16 one 2.79 ms: fp8 is not twice as fast.
  const double t_fast = on_h100.compute_time_s(gemm_op(m, n, k, GemmType::Fp8FastAccum));
  CHECK(t_fast > 0.5 * on_h100.compute_time_s(gemm_op(m, n, k, GemmType::Bf16)));
  CHECK(on_h100.compute_time_s(gemm_op(m, n, k, GemmType::Fp8SplitAccum)) > t_fast);
  // The H200's own fp8 tables ([v39]), not the H100's.
  const GpuSpec h200 = find_cluster_preset("dgx-h200")->spec.gpu;
  const EfficiencyTable split200 =
      table_of(committed("src/cost/defaults/h200-fp8-gemm.json").at("parameters").at("gemm_fp8_split_accum"));
  const CostModel on_h200(h200, Precision::FP8, default_cost_params(h200, AttentionBackend::CuDNN));
  CHECK(on_h200.compute_time_s(gemm_op(m, n, k, GemmType::Fp8SplitAccum)) == Approx(f / (1979e12 * split200.at(f))));
  CHECK(split200.at(f) != Approx(split.at(f)).epsilon(1e-6));
  // The H800 has no fp8 measurement (a calibration of one GPU model is not applied to another): its
  // bf16 table's fraction on the fp8 peak.
  const CostParams p800 = default_cost_params(h800, AttentionBackend::CuDNN);
  const CostModel on_h800(h800, Precision::FP8, p800);
  CHECK(on_h800.compute_time_s(gemm_op(m, n, k, GemmType::Fp8SplitAccum)) == Approx(f / (1979e12 * p800.gemm.at(f))));
}

TEST_CASE("fp8 GEMMs: the band of the bf16 fractions on the fp8 peak is their worst error on the measured fp8 GEMMs",
          "[cost][validation]") {
  // Recomputed from the committed data: each GPU's bf16 GEMM default on the fp8 peak against every
  // fp8 record of its gemm suite run (hcpcal_torch, 36 shapes x fast and split accumulation): the
  // H100's ([v36] fit, [v38] records) and the H200's ([v6] fit, [v39] records).
  double worst = 0;
  int n = 0;
  for (const auto& [defaults, records] : {std::pair{"h100-hcpsim.json", "h100-v38/h100-v38-gemm-fp8.json"},
                                          std::pair{"h200-hcpsim.json", "h200-v39/h200-v39-gemm-fp8.json"}}) {
    const EfficiencyTable bf16 =
        table_of(committed(std::string("src/cost/defaults/") + defaults).at("parameters").at("gemm"));
    const MeasurementSet set =
        read_measurements_file(std::string(HCPSIM_SOURCE_DIR) + "/calibrate/results/" + records);
    for (const Measurement& r : set.items) {
      REQUIRE(r.kind == MeasurementKind::Gemm);
      REQUIRE(rules::is_fp8(r.gemm_type));
      const double f = 2.0 * double(r.gemm.m) * double(r.gemm.n) * double(r.gemm.k);
      worst = std::max(worst, std::abs(f / (1979e12 * bf16.at(f)) / r.median_s - 1));
      ++n;
    }
  }
  CHECK(n == 144);
  CHECK(rules::kFp8FromBf16Band >= worst);
  CHECK(rules::kFp8FromBf16Band <= worst + 0.01);
  // A scenario training in fp8 on the H800 carries that band on its GEMMs, and says so.
  const test::Outcome o = test::parse(fp8_layer("hgx-h800"));
  REQUIRE(o.valid);
  const CostParams p = cost_params_for(o.scenario);
  CHECK(p.evidence_for("gemm")->relative == Approx(rules::kFp8FromBf16Band));
  CHECK(std::any_of(p.warnings.begin(), p.warnings.end(),
                    [](const std::string& w) { return w.find("fp8 GEMMs not measured on H800") != std::string::npos; }));
  // The H100 and the H200 measured them: their own fits' residual, no warning.
  for (const char* cluster : {"dgx-h100", "dgx-h200"}) {
    const CostParams own = cost_params_for(test::parse(fp8_layer(cluster)).scenario);
    CHECK(own.evidence_for("gemm")->relative < 0.05);
    CHECK(own.evidence_for("gemm")->basis.find("fp8 GEMM") != std::string::npos);
    CHECK(std::none_of(own.warnings.begin(), own.warnings.end(),
                       [](const std::string& w) { return w.find("fp8 GEMMs not measured") != std::string::npos; }));
  }
}

TEST_CASE("fp8 GEMM records: the dtype names the operands, fast_accum is required for fp8 and refused for bf16",
          "[fit]") {
  const auto one = [](nlohmann::json config) {
    nlohmann::json doc = {{"format", "hcpsim-measurements/1"},
                          {"environment", {{"gpu_model", "NVIDIA H100 80GB HBM3"}}},
                          {"measurements", {{{"kind", "gemm"}, {"config", config}, {"median_s", 1e-3}}}}};
    return parse_measurements_text(doc.dump(), "test.json");
  };
  const nlohmann::json shape = {{"m", 4096}, {"n", 4096}, {"k", 4096}};
  nlohmann::json fp8 = shape;
  fp8["dtype"] = "fp8_e5m2_e4m3";
  fp8["fast_accum"] = false;
  CHECK(one(fp8).items.at(0).gemm_type == GemmType::Fp8SplitAccum);
  fp8["fast_accum"] = true;
  CHECK(one(fp8).items.at(0).gemm_type == GemmType::Fp8FastAccum);
  CHECK(one(shape).items.at(0).gemm_type == GemmType::Bf16);
  const auto error_at = [&](nlohmann::json config, const std::string& path) {
    try {
      one(config);
    } catch (const InputError& e) {
      for (const auto& d : e.diagnostics())
        if (d.path.find(path) != std::string::npos) return true;
    }
    return false;
  };
  nlohmann::json missing = shape;
  missing["dtype"] = "fp8_e4m3_e4m3";
  CHECK(error_at(missing, "config.fast_accum"));
  nlohmann::json both_e5m2 = missing;
  both_e5m2["dtype"] = "fp8_e5m2_e5m2";  // cuBLASLt has no such kernel
  both_e5m2["fast_accum"] = true;
  CHECK(error_at(both_e5m2, "config.dtype"));
  nlohmann::json bf16_fast = shape;
  bf16_fast["fast_accum"] = true;
  CHECK(error_at(bf16_fast, "config.fast_accum"));
}

TEST_CASE("fp8 primary weights (training.fp8_param_gather): 2 bytes a GEMM weight, gathered in fp8", "[memory][workload]") {
  // Llama-3.1-8B at TP1: 32 layers x (218,112,000 - 8,192) GEMM weights, a layer's parameters less
  // its two norms' 4096 each (test_memory_properties: fp8 copies 2 B each = 13,958,643,712 B). With fp8 primary weights their bf16 copy goes: weights shrink by
  // 2 B a GEMM weight and the fp8 tensor and its transpose (2 B) stay.
  nlohmann::json j = fp8_layer("dgx-h100");
  j["cluster"]["gpus_per_node"] = 8;  // DP 8: the parameter all-gather runs
  j["training"]["global_batch_size"] = 8;
  const test::Outcome plain = test::parse(j);
  j["training"]["fp8_param_gather"] = true;
  const test::Outcome fp8 = test::parse(j);
  REQUIRE(plain.valid);
  REQUIRE(fp8.valid);
  const double gemm_params = 32.0 * (218112000 - 8192);
  const ModelStateBytes a = model_state_bytes(plain.scenario), b = model_state_bytes(fp8.scenario);
  CHECK(a.weights_bytes - b.weights_bytes == Approx(2 * gemm_params));
  CHECK(b.quantized_weight_copies_bytes == Approx(2 * gemm_params));
  // The distributed optimizer's all-gather: bf16 parameters (2 B), the GEMM weights in fp8 (1 B).
  const auto gathered = [](const Workload& w) {
    double bytes = 0;
    for (const Op& op : w.step.at(0).ops)
      if (op.kind == OpKind::Comm && op.pattern == CommPattern::AllGather && op.label.find("param_ag") != std::string::npos)
        bytes += op.repeats * op.message_bytes;  // each op its equal buckets
    return bytes;
  };
  const double all = a.params_per_gpu;
  CHECK(gathered(build_workload(plain.scenario)) == Approx(2 * all / 8));
  CHECK(gathered(build_workload(fp8.scenario)) == Approx((2 * all - gemm_params) / 8));
  // Without fp8 training: an error naming the field.
  j["training"]["precision"] = "bf16";
  const test::Outcome wrong = test::parse(j);
  REQUIRE_FALSE(wrong.valid);
  CHECK(wrong.errors.at(0).path == "training.fp8_param_gather");
}

TEST_CASE("fp8 tensorwise scaling: an amax pass before each cast, the gathered tensors' amax all-reduced over TP",
          "[workload]") {
  // Llama-3.1-8B at 8K on 2 H100s, TP 2 with SP, no userbuffers: T = 8192 rows, SP shards of 4096;
  // per rank 16 query and 4 KV heads x 128 (QKV output 3072, attention output 2048), ffn 7168.
  nlohmann::json j = fp8_layer("dgx-h100");
  j["parallel"] = {{"tensor_model_parallel_size", 2}, {"context_parallel_size", 1}, {"sequence_parallel", true}};
  j["cluster"]["gpus_per_node"] = 2;
  const Workload delayed = build_workload(test::parse(j).scenario);
  j["training"]["fp8_recipe"] = "tensorwise";
  const test::Outcome o = test::parse(j);
  REQUIRE(o.valid);
  const Workload tensorwise = build_workload(o.scenario);
  double amax = 0, norm_casts = 0;
  int amax_reductions = 0;
  for (const Op& op : tensorwise.layer.at(0).ops) {
    if (op.kind == OpKind::Comm && op.label.find("_amax_ar") != std::string::npos) {
      CHECK(op.pattern == CommPattern::AllReduce);
      CHECK(op.message_bytes == 4);
      ++amax_reductions;
    } else if (op.label.find("_amax") != std::string::npos) {
      amax += op.bytes;
    } else if (op.label.find("gemm.input_fp8") != std::string::npos &&
               (op.label.find("qkv") != std::string::npos || op.label.find("fc1") != std::string::npos)) {
      norm_casts += op.bytes;
    }
  }
  // One amax read (2 B an element) of each tensor cast without a fused amax: the projection's and
  // FC2's inputs [8192, 2048] and [8192, 7168]; the output gradients of FC2 and the projection on
  // their SP shards [4096, 4096]; FC1's [8192, 2 x 7168] and QKV's [8192, 3072]; and the projection's
  // input O again in the backward, which Megatron has it keep in bf16 under current scaling with TE
  // >= 2.6 and quantize column-wise for wgrad then (set_save_original_input).
  CHECK(amax == Approx(2.0 * (2 * 8192.0 * 2048 + 8192.0 * 7168 + 2 * 4096.0 * 4096 + 8192.0 * 14336 + 8192.0 * 3072)));
  // With TE 2.5 the projection saves its fp8 copy instead: O is quantized once, in the forward.
  nlohmann::json old_te = j;
  old_te["software"]["transformer_engine_version"] = "2.5.0";
  const test::Outcome oo = test::parse(old_te);
  INFO(test::describe(oo));
  REQUIRE(oo.valid);
  const Workload w_old_te = build_workload(oo.scenario);
  double amax_old_te = 0;
  for (const Op& op : w_old_te.layer.at(0).ops)
    if (op.kind != OpKind::Comm && op.label.find("_amax") != std::string::npos) amax_old_te += op.bytes;
  CHECK(amax_old_te == Approx(2.0 * (8192.0 * 2048 + 8192.0 * 7168 + 2 * 4096.0 * 4096 + 8192.0 * 14336 + 8192.0 * 3072)));
  // The two norms' outputs: their amax comes with the norm, the cast (2 B read, 1 B written) on the shard.
  CHECK(norm_casts == Approx(2 * 3.0 * 4096 * 4096));
  // Reduced over TP: the two gathered inputs (QKV's, FC1's) and the two gathered output gradients.
  CHECK(amax_reductions == 4);
  // cuDNN's norm (NVTE_NORM_FWD_USE_CUDNN) writes no amax: the two norms' shards get a pass each too.
  nlohmann::json jc = j;
  jc["software"]["norm_fwd_use_cudnn"] = true;
  const test::Outcome oc = test::parse(jc);
  REQUIRE(oc.valid);
  const Workload wc = build_workload(oc.scenario);
  double amax_cudnn = 0;
  int reductions_cudnn = 0;
  for (const Op& op : wc.layer.at(0).ops) {
    if (op.kind == OpKind::Comm && op.label.find("_amax_ar") != std::string::npos) ++reductions_cudnn;
    else if (op.label.find("_amax") != std::string::npos) amax_cudnn += op.bytes;
  }
  CHECK(amax_cudnn == Approx(amax + 2.0 * 2 * 4096 * 4096));
  CHECK(reductions_cudnn == 4);
  // Delayed scaling has neither.
  for (const Op& op : delayed.layer.at(0).ops) CHECK(op.label.find("_amax") == std::string::npos);
  // Without fp8 training: an error naming the field; the block-scaled recipes: not modelled.
  j["training"]["precision"] = "bf16";
  const test::Outcome wrong = test::parse(j);
  REQUIRE_FALSE(wrong.valid);
  CHECK(wrong.errors.at(0).path == "training.fp8_recipe");
  j["training"]["fp8_recipe"] = "delayed";  // the default recipe, named: still no fp8 training
  const test::Outcome named_default = test::parse(j);
  REQUIRE_FALSE(named_default.valid);
  CHECK(named_default.errors.at(0).path == "training.fp8_recipe");
  j["training"].erase("fp8_recipe");  // not named: bf16 is fine
  CHECK(test::parse(j).valid);
  j["training"]["precision"] = "fp8";
  j["training"]["fp8_recipe"] = "blockwise";
  const test::Outcome blockwise = test::parse(j);
  REQUIRE_FALSE(blockwise.valid);
  CHECK(blockwise.errors.at(0).path == "training.fp8_recipe");
  CHECK(blockwise.errors.at(0).fix.find("not modelled") != std::string::npos);
}

TEST_CASE("MXFP8 on Blackwell: block-scaled GEMMs, both quantizations from one read, gathered with their scales",
          "[cost][workload][memory]") {
  // Llama-3.1-8B at 8K on 2 B200s, TP 2 with SP, no userbuffers: T = 8192 rows, SP shards of 4096;
  // per rank QKV output 3072, attention output 2048, ffn 7168. One MXFP8 copy of an element is
  // 1 + 1/32 bytes (an E8M0 scale per 32); a tensor used in two layouts is quantized both ways.
  nlohmann::json j = fp8_layer("dgx-b200");
  j["parallel"] = {{"tensor_model_parallel_size", 2}, {"context_parallel_size", 1}, {"sequence_parallel", true}};
  j["cluster"]["gpus_per_node"] = 2;
  j["training"]["fp8_recipe"] = "mxfp8";
  const test::Outcome o = test::parse(j);
  REQUIRE(o.valid);
  const Workload w = build_workload(o.scenario);
  const double mx = 1.0 + 1.0 / 32;
  double quantize = 0, gathered = 0;
  int gemms = 0;
  for (const Op& op : w.layer.at(0).ops) {
    if (op.compute_class == ComputeClass::Gemm && op.kind == OpKind::Compute) {
      CHECK(op.gemm_type == GemmType::Mxfp8);
      ++gemms;
    }
    CHECK(op.label.find("transpose") == std::string::npos);  // no transposed copies
    CHECK(op.label.find("_amax") == std::string::npos);      // block scales need no amax pass
    if (op.kind == OpKind::Compute && op.label.find("fp8") != std::string::npos) quantize += op.bytes;
    if (op.kind == OpKind::Comm && op.pattern == CommPattern::AllGather) gathered += op.message_bytes;
  }
  CHECK(gemms == 12);
  // Read 2 B, write 2 x (1 + 1/32): the projection's and FC2's inputs, the two row-parallel output
  // gradients on their shards, FC1's and QKV's output gradients; and the two norms' outputs on their
  // shards: TE's norm writes bf16 under MXFP8 unless NVTE_NORM_FWD_USE_CUDNN is set (normalization.cpp).
  // The projection keeps its input O (current scaling, TE >= 2.6: set_save_original_input), so O is
  // quantized one way in the forward and the other in the backward: one more bf16 read, 2 B an element.
  const double others = 8192.0 * 2048 + 8192.0 * 7168 + 2 * 4096.0 * 4096 + 8192.0 * 14336 + 8192.0 * 3072;
  const double o_again = 2 * 8192.0 * 2048;
  CHECK(quantize == Approx((2 + 2 * mx) * (others + 2 * 4096.0 * 4096) + o_again));
  // The quantize kernels' bytes of a variant of this scenario.
  const auto quantize_bytes_of = [](const test::Outcome& variant) {
    REQUIRE(variant.valid);
    const Workload wv = build_workload(variant.scenario);
    double bytes = 0;
    for (const Op& op : wv.layer.at(0).ops)
      if (op.kind == OpKind::Compute && op.label.find("fp8") != std::string::npos) bytes += op.bytes;
    return bytes;
  };
  // With cuDNN's norm (4096 x 4096 shards: whole 128 x 128 tiles) the norms write MXFP8 themselves.
  nlohmann::json jc = j;
  jc["software"]["norm_fwd_use_cudnn"] = true;
  const test::Outcome oc = test::parse(jc);
  CHECK(quantize_bytes_of(oc) == Approx((2 + 2 * mx) * others + o_again));
  // With userbuffers, which move one usage of a tensor at a time, each row-parallel output gradient
  // shard [4096, 4096] is quantized twice from bf16, (2 + mx) each way, not once both ways (2 + 2 mx).
  nlohmann::json ju = j;
  ju["parallel"]["tp_comm_overlap"] = true;
  CHECK(quantize_bytes_of(test::parse(ju)) == Approx((2 + 2 * mx) * (others + 2 * 4096.0 * 4096) + 2 * 4096.0 * 4096 * 2 + o_again));
  // There the row-parallel gradients' column-wise gathers stay TE's own calls (linear.py:
  // bulk_overlap_ag_with_external_gemm, after fill_userbuffers_buffer_for_all_gather). Every
  // userbuffers gather moves MXFP8's data alone, 1 B an element: its fill copies the [4096, 4096]
  // shard's data into the buffer (read and written), and TE all-gathers the shard's E8M0 scales,
  // 1/32 B an element, with NCCL (module/base.py, all_gather_into_tensor), a launch of its own.
  const Workload wu = build_workload(test::parse(ju).scenario);
  int colwise = 0, fills = 0, scale_gathers = 0;
  for (const Op& op : wu.layer.at(0).ops) {
    if (op.label.find("_grad_colwise_ag") != std::string::npos) {
      ++colwise;
      CHECK(op.userbuffers);
      CHECK(op.own_launch);
      CHECK(op.message_bytes == Approx(4096.0 * 4096 * 1));
    }
    if (op.label.find(".ub_fill") != std::string::npos && ++fills) CHECK(op.bytes == Approx(2 * 4096.0 * 4096 * 1));
    if (op.label.find(".ub_scales_ag") != std::string::npos && ++scale_gathers) {
      CHECK(op.message_bytes == Approx(4096.0 * 4096 / 32));
      CHECK(op.own_launch);
    }
    if (op.label.find(".ring") != std::string::npos) CHECK(op.message_bytes == Approx(4096.0 * 4096 * 1));
  }
  CHECK(colwise == 2);  // proj and fc2
  // A fill and a scale gather each: the qkv and fc1 inputs forward, the proj and fc2 gradients
  // (row-wise for dgrad's ring, column-wise for wgrad), the qkv and fc1 inputs' re-gathers.
  CHECK(fills == 8);
  CHECK(scale_gathers == 8);
  // The switch reads back from the result's scenario JSON (it is written only when on).
  CHECK(scenario_from_json(scenario_to_json(oc.scenario), "scenario").software.norm_fwd_use_cudnn);
  CHECK_FALSE(scenario_from_json(scenario_to_json(o.scenario), "scenario").software.norm_fwd_use_cudnn);
  // The six gathers of per-tensor fp8 in MXFP8, and the row-parallel gradients' column-wise copies.
  CHECK(gathered == Approx(8 * 4096.0 * 4096 * mx));
  // Memory: the weights quantized both ways, 2 x (1 + 1/32) B a GEMM weight (16 x 128 x 4096 +
  // ... : Llama-3.1-8B's layer GEMM weights over TP 2); saved inputs at 1 + 1/32 B an element.
  const double gemm_params = 32.0 * (4096.0 * 6144 + 4096.0 * 4096 + 4096.0 * 28672 + 14336.0 * 4096) / 2;
  CHECK(model_state_bytes(o.scenario, 0).quantized_weight_copies_bytes == Approx(2 * mx * gemm_params));
  // Megatron's MXFP8 primary weights: gathered in bf16 into the gradient buffer, then cast.
  nlohmann::json dp = fp8_layer("dgx-b200");
  dp["training"]["fp8_recipe"] = "mxfp8";
  dp["training"]["fp8_param_gather"] = true;
  dp["training"]["global_batch_size"] = 8;
  dp["cluster"]["gpus_per_node"] = 8;  // DP 8
  const test::Outcome od = test::parse(dp);
  REQUIRE(od.valid);
  const Workload wd = build_workload(od.scenario);
  double ag = 0, cast = 0;
  for (const Op& op : wd.step.at(0).ops) {
    if (op.kind == OpKind::Comm && op.label.find("param_ag") != std::string::npos) ag += op.repeats * op.message_bytes;
    if (op.label.find("mxfp8_weight_cast") != std::string::npos) cast += op.bytes;
  }
  const double all = model_state_bytes(od.scenario, 0).params_per_gpu, gemm8 = 2.0 * gemm_params;
  CHECK(ag == Approx(2 * all / 8));
  CHECK(cast == Approx((2 + 2 * mx) * gemm8));
}

TEST_CASE("fp8 GEMMs on Blackwell: the fp8 matmul benchmark brought to the sustained clock, MXFP8 at TE's measured rate of it",
          "[cost][roofline]") {
  // The H200's fp8 MAMF, 1453.4 of 1979 TFLOP/s (torch._scaled_mm with its split accumulator), against
  // its sustained split-accumulator fit's plateau (built-in h200-fp8-gemm): the benchmark-to-training
  // ratio, applied to each Blackwell GPU's own fp8 MAMF (B200 3432.5 of 4500, GB200 3615.6 of 5000).
  const nlohmann::json h200 = committed("src/cost/defaults/h200-fp8-gemm.json").at("parameters");
  const EfficiencyTable split = table_of(h200.at("gemm_fp8_split_accum"));
  double plateau = 0;
  for (const auto& pt : split.points) plateau = std::max(plateau, pt.second);
  const double ratio = plateau / (1453.4 / 1979.0);
  CHECK(ratio == Approx(0.84).epsilon(0.01));  // what bf16 shows: 0.671 / (794.5 / 989) = 0.836
  // A large GEMM, past the tables' falloff on either GPU: FC1 at 64K tokens.
  const double m = 65536, n = 28672, k = 4096, f = 2 * m * n * k;
  for (const auto& [cluster, mamf, peak] : {std::tuple{"dgx-b200", 3432.5 / 4500, 4500e12},
                                            std::tuple{"gb200-nvl72", 3615.6 / 5000, 5000e12}}) {
    INFO(cluster);
    const GpuSpec gpu = find_cluster_preset(cluster)->spec.gpu;
    const CostModel model(gpu, Precision::FP8, default_cost_params(gpu, AttentionBackend::CuDNN));
    const double fp8_s = f / (peak * mamf * ratio);
    // Blackwell's tensor cores accumulate in fp32: TE's forward and gradient GEMMs alike.
    CHECK(model.compute_time_s(gemm_op(m, n, k, GemmType::Fp8FastAccum)) == Approx(fp8_s).epsilon(1e-6));
    CHECK(model.compute_time_s(gemm_op(m, n, k, GemmType::Fp8SplitAccum)) == Approx(fp8_s).epsilon(1e-6));
    // MXFP8: TE's B300 GEMM profiling, 6.812 ms a layer in fp8 current scaling, 7.161 in MXFP8.
    CHECK(model.compute_time_s(gemm_op(m, n, k, GemmType::Mxfp8)) == Approx(fp8_s * 7.161 / 6.812).epsilon(1e-6));
  }
  // The evidence is the roofline's GEMM margin, and no "not measured" warning; a GPU with no fp8
  // benchmark figure (L40S) keeps the bf16 fractions, their band and the warning.
  const CostParams b200 = cost_params_for(test::parse(fp8_layer("dgx-b200")).scenario);
  CHECK(b200.evidence_for("gemm")->relative == Approx(0.10));
  CHECK_THAT(b200.evidence_for("gemm")->basis, Catch::Contains("fp8 GEMM measured on B200"));
  CHECK(std::none_of(b200.warnings.begin(), b200.warnings.end(),
                     [](const std::string& w) { return w.find("fp8 GEMMs not measured") != std::string::npos; }));
  nlohmann::json ada = fp8_layer("l40s-pcie");
  ada["cluster"]["gpus_per_node"] = 4;  // its node's 4 NICs serve whole GPUs
  ada["parallel"]["tensor_model_parallel_size"] = 4;
  const test::Outcome o = test::parse(ada);
  REQUIRE(o.valid);
  const CostParams l40s = cost_params_for(o.scenario);
  CHECK(l40s.gemm_fp8_split_accum.points.empty());
  CHECK(std::any_of(l40s.warnings.begin(), l40s.warnings.end(),
                    [](const std::string& w) { return w.find("fp8 GEMMs not measured") != std::string::npos; }));
}

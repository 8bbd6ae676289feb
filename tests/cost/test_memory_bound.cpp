// Issue 14: the layer's memory-bound kernels cost what they were measured to cost (PyTorch's
// forms on the H200, per kind and pass), Megatron's fusion switches make them fused kernels
// (tests/cost/test_fused_kernels.cpp times those), and the scenario names the attention backend and
// the switches.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>

#include "cost/calibration_file.hpp"
#include "cost/cost_model.hpp"
#include "rules/memory_bound_transfer.hpp"
#include "scenario/parse.hpp"
#include "scenario/presets.hpp"
#include "workload/builder.hpp"
#include "../scenario/parse_outcome.hpp"

using namespace hcpsim;

namespace {

nlohmann::json layer_scenario() {
  return {{"model", {{"preset", "llama3.1-8b"}}},
          {"training", {{"seq_length", 8192}, {"micro_batch_size", 1}, {"global_batch_size", 1}}},
          {"parallel", {{"tensor_model_parallel_size", 1}, {"context_parallel_size", 1}}},
          {"cluster", {{"preset", "dgx-h200"}, {"num_nodes", 1}, {"gpus_per_node", 1}}},
          {"workload", "layer"}};
}

// The op labelled `what` (layer area, forward or backward) in rank 0's layer program.
const Op& op_named(const Workload& w, const std::string& label) {
  for (const Op& op : w.layer.at(0).ops)
    if (op.label == label) return op;
  FAIL("no op " << label);
  return w.layer.at(0).ops.front();
}

}  // namespace

TEST_CASE("memory-bound kernels: each kind and pass at its measured fraction of HBM bandwidth", "[cost][memory]") {
  const GpuSpec h200 = find_cluster_preset("dgx-h200")->spec.gpu;
  const CostParams p = default_cost_params(h200, AttentionBackend::CuDNN);
  // The built-in h200-memory-bound fit (calibrate/results/h200-v25-torch-measurements.json): PyTorch's
  // unfused RoPE moved its minimum traffic (forward 4 x T x 40 x 128 + 4 x T x 128 bytes: 172 MB at
  // 8K tokens) at 289-318 GB/s forward over 8K-128K tokens, of the H200's 4.8 TB/s (0.060-0.066; the
  // least-squares constant on relative error 0.064), its backward (206 MB at 8K) at 387-412 GB/s
  // (0.081-0.086; 0.0836); the residual add at the copy's ~4.1-4.4 TB/s (0.86-0.91).
  CHECK(p.elementwise_efficiency_of(ElementwiseKind::Rope, false) == Approx(0.064).epsilon(0.01));
  CHECK(p.elementwise_efficiency_of(ElementwiseKind::Rope, true) == Approx(0.0836).epsilon(0.01));
  CHECK(p.elementwise_efficiency_of(ElementwiseKind::Add, true) == p.elementwise_efficiency_of(ElementwiseKind::Add, false));
  CHECK(p.elementwise_efficiency_of(ElementwiseKind::Fused, true) == p.memory_efficiency);
  // An op's time is its bytes over HBM bandwidth x the efficiency of its kind and pass.
  const CostModel m(h200, Precision::BF16, p);
  Op rope;
  rope.kind = OpKind::Compute;
  rope.compute_class = ComputeClass::Elementwise;
  rope.elementwise = ElementwiseKind::Rope;
  rope.bytes = 1e9;
  rope.phase = Phase::Backward;
  CHECK(m.compute_time_s(rope) == Approx(1e9 / (4.8e12 * p.elementwise_efficiency_of(ElementwiseKind::Rope, true))));
  rope.recompute = true;  // a recomputed forward in the backward is a forward kernel
  CHECK(m.compute_time_s(rope) == Approx(1e9 / (4.8e12 * p.elementwise_efficiency_of(ElementwiseKind::Rope, false))));
}

TEST_CASE("memory-bound kernels: Megatron's fusion switches pick the fused kernel", "[cost][memory][scenario]") {
  // Megatron-LM's defaults (arguments.py): RoPE and SwiGLU fused, cross entropy not.
  const Scenario defaults = parse_scenario_text(layer_scenario().dump(), ParseOptions{});
  CHECK(defaults.software.fusions.rope);
  CHECK(defaults.software.fusions.swiglu);
  CHECK_FALSE(defaults.software.fusions.cross_entropy);
  CHECK(defaults.software.attention_backend == AttentionBackend::CuDNN);
  const Workload fused = build_workload(defaults);
  CHECK(op_named(fused, "layer.fwd.rope").elementwise == ElementwiseKind::Fused);
  CHECK(op_named(fused, "layer.fwd.swiglu").elementwise == ElementwiseKind::Fused);
  CHECK(op_named(fused, "layer.fwd.input_norm").elementwise == ElementwiseKind::Norm);
  nlohmann::json j = layer_scenario();
  j["software"] = {{"fusions", {{"rope", false}, {"swiglu", false}}}};
  const Workload unfused = build_workload(parse_scenario_text(j.dump(), ParseOptions{}));
  CHECK(op_named(unfused, "layer.fwd.rope").elementwise == ElementwiseKind::Rope);
  CHECK(op_named(unfused, "layer.bwd.swiglu").elementwise == ElementwiseKind::Activation);
  // Same bytes either way: the minimum traffic; the kind decides the rate.
  CHECK(op_named(unfused, "layer.fwd.rope").bytes == op_named(fused, "layer.fwd.rope").bytes);
}

TEST_CASE("software.attention_backend: a known name, or an error that says which", "[scenario]") {
  nlohmann::json j = layer_scenario();
  j["software"] = {{"attention_backend", "flash"}};
  CHECK(test::parse(j).scenario.software.attention_backend == AttentionBackend::Flash);
  j["software"] = {{"attention_backend", "FusedAttention"}};
  const auto o = test::parse(j);
  REQUIRE(o.errors.size() == 1);
  CHECK(o.errors[0].path == "software.attention_backend");
  CHECK_THAT(o.errors[0].fix, Catch::Contains("write \"cudnn\""));
}

namespace {

// A built-in calibration's parameter, read from its committed file (not through hcpsim's parser).
nlohmann::json committed_parameter(const std::string& file, const std::string& name) {
  std::ifstream in(std::string(HCPSIM_SOURCE_DIR) + "/src/cost/defaults/" + file);
  REQUIRE(in.good());
  return nlohmann::json::parse(in).at("parameters").at(name);
}

double committed_scalar(const std::string& file, const std::string& name) {
  return committed_parameter(file, name).at("value").get<double>();
}

}  // namespace

TEST_CASE("memory-bound kernels: the H100 keeps its own, a GPU not measured gets the H200's carried by each kernel's share",
          "[cost][memory]") {
  const GpuSpec h100 = find_cluster_preset("dgx-h100")->spec.gpu;
  const GpuSpec b200 = find_cluster_preset("dgx-b200")->spec.gpu;
  const CostParams on_h100 = default_cost_params(h100, AttentionBackend::CuDNN);
  const CostParams on_b200 = default_cost_params(b200, AttentionBackend::CuDNN);
  const double e_h200 = committed_scalar("h200-memory-bound.json", "memory_efficiency_rope_fwd");
  const double e_h100 = committed_scalar("h100-memory-bound.json", "memory_efficiency_rope_fwd");
  // The H100 was measured: its own fraction, and its own GEMM and copy (h100-hcpsim.json).
  CHECK(on_h100.elementwise_efficiency_of(ElementwiseKind::Rope, false) == Approx(e_h100).epsilon(1e-12));
  CHECK(on_h100.memory_efficiency == Approx(committed_scalar("h100-hcpsim.json", "memory_efficiency")).epsilon(1e-12));
  CHECK(on_h100.evidence_for("elementwise")->basis.find("on an H100") != std::string::npos);
  // The B200, by time: H100 and H200 share SMs and clocks, so RoPE's H100 / H200 time ratio
  // rho = (e_h200 x 4.8) / (e_h100 x 3.35) = s x 4.8 / 3.35 + (1 - s), s = (rho - 1) / (4.8 / 3.35 - 1);
  // on the B200, t_B200 / t_H200 = s x 4.8 / 8 + (1 - s) x (132 x 1830) / (148 x 1850), and its
  // fraction of the B200's 8 TB/s is e_h200 x (4.8 / 8) / that ratio.
  const double rho = (e_h200 * 4.8) / (e_h100 * 3.35);
  const double s = std::clamp((rho - 1) / (4.8 / 3.35 - 1), 0.0, 1.0);
  REQUIRE(s > 0.05);  // RoPE is mostly SM-bound: otherwise this case tells nothing
  REQUIRE(s < 0.95);
  const double ratio = s * 4.8 / 8 + (1 - s) * (132.0 * 1830) / (148.0 * 1850);
  CHECK(on_b200.elementwise_efficiency_of(ElementwiseKind::Rope, false) == Approx(e_h200 * (4.8 / 8) / ratio).epsilon(1e-9));
  CHECK(on_b200.evidence_for("elementwise")->basis.find("by each kernel's HBM share") != std::string::npos);
  // A GPU given without SM count or clock: the H200's fraction of its own bandwidth (HBM-bound).
  GpuSpec bare = b200;
  bare.name = "custom";
  bare.sm_count = 0;
  bare.sm_clock_mhz = 0;
  const CostParams on_bare = default_cost_params(bare, AttentionBackend::CuDNN);
  CHECK(on_bare.elementwise_efficiency_of(ElementwiseKind::Rope, false) == Approx(e_h200).epsilon(1e-12));
  CHECK(on_bare.evidence_for("elementwise")->basis.find("SM count or clock is not given") != std::string::npos);
  // The H200 itself: its own.
  const CostParams on_h200 = default_cost_params(find_cluster_preset("dgx-h200")->spec.gpu, AttentionBackend::CuDNN);
  CHECK(on_h200.elementwise_efficiency_of(ElementwiseKind::Rope, false) == Approx(e_h200).epsilon(1e-12));
}

TEST_CASE("GEMM: the H100 is timed by its own cuBLAS fit, the H200 by the H200's", "[cost]") {
  const CostParams h100 = default_cost_params(find_cluster_preset("dgx-h100")->spec.gpu, AttentionBackend::CuDNN);
  const CostParams h200 = default_cost_params(find_cluster_preset("dgx-h200")->spec.gpu, AttentionBackend::CuDNN);
  const nlohmann::json points = committed_parameter("h100-hcpsim.json", "gemm").at("points");
  // The H100's table, point for point, and not the H200's (whose plateau is lower: the H200 holds a
  // lower clock under GEMMs at the same 700 W).
  REQUIRE(h100.gemm.points.size() == points.size());
  for (size_t i = 0; i < points.size(); ++i) CHECK(h100.gemm.points[i].second == Approx(points[i][1].get<double>()));
  CHECK(h100.gemm.points.back().second > h200.gemm.points.back().second);
  CHECK(h100.source.find("h100-hcpsim") != std::string::npos);
}

TEST_CASE("memory-bound kernels carried to Blackwell: against NVIDIA's PyTorch RMSNorm on H200, GB200 and GB300",
          "[cost][memory][validation]") {
  // NVIDIA/cudnn-frontend benchmark/norms/results/{h200,gb200,gb300}/all_models_*.csv (commit 3929da2,
  // cuDNN frontend 1.19): the `pytorch` backend's RMSNorm, bf16, N tokens x C, its GB/s forward and
  // backward, at the shapes whose input is at least 64 MiB (N x C x 2 bytes; smaller ones sit in L2).
  // The same kernel on each GPU and the same bytes: t_G / t_H200 = GB/s_H200 / GB/s_G. hcpsim's
  // carried fractions say t_G / t_H200 = (e_H200 x 4.8 TB/s) / (e_G x B_G). Never fitted on these rows.
  struct Row { const char* model; int n, c; double h200_fwd, h200_bwd, gb200_fwd, gb200_bwd, gb300_fwd, gb300_bwd; };
  const Row rows[] = {
      {"llama3-8b", 16384, 4096, 3364.5, 1807.3, 5341.4, 2266.9, 5466.4, 2329.4},
      {"llama3-70b", 8192, 8192, 2627.6, 1548.0, 5000.1, 2269.5, 5122.3, 2333.7},
      {"llama31-405b", 4096, 16384, 2395.9, 1542.0, 3799.9, 2036.5, 3882.5, 2073.7},
      {"llama4-e16", 8192, 5120, 3121.6, 1465.9, 4528.8, 1945.1, 4628.7, 1996.9},
      {"mixtral-8x7b", 8192, 4096, 3114.8, 1761.7, 4625.5, 2096.2, 4708.8, 2153.6},
      {"nemotronh-56b", 4096, 8192, 2522.7, 1521.2, 4166.2, 2124.7, 4343.0, 2193.3},
      {"qwen3-235b", 8192, 5120, 3093.9, 1467.0, 4516.7, 1947.4, 4645.0, 2002.0},
  };
  const GpuSpec h200 = find_cluster_preset("dgx-h200")->spec.gpu;
  const CostParams ref = default_cost_params(h200, AttentionBackend::CuDNN);
  double worst = 0, band = 0;
  for (const char* preset : {"gb200-nvl72", "gb300-nvl72"}) {
    const GpuSpec g = find_cluster_preset(preset)->spec.gpu;
    const CostParams p = default_cost_params(g, AttentionBackend::CuDNN);
    band = p.evidence_for("elementwise")->relative;
    for (const bool bwd : {false, true}) {
      const double modelled = (ref.elementwise_efficiency_of(ElementwiseKind::Norm, bwd) * h200.hbm_bytes_per_s) /
                              (p.elementwise_efficiency_of(ElementwiseKind::Norm, bwd) * g.hbm_bytes_per_s);
      for (const Row& r : rows) {
        const bool gb300 = std::string(preset) == "gb300-nvl72";
        const double h = bwd ? r.h200_bwd : r.h200_fwd;
        const double o = gb300 ? (bwd ? r.gb300_bwd : r.gb300_fwd) : (bwd ? r.gb200_bwd : r.gb200_fwd);
        const double error = modelled / (h / o) - 1;
        INFO(preset << " " << r.model << (bwd ? " bwd" : " fwd") << ": measured " << h / o << ", hcpsim " << modelled);
        CHECK(std::abs(error) <= band);  // the band of a carried memory-bound kernel covers every row
        worst = std::max(worst, std::abs(error));
      }
    }
  }
  // and is this validation's own largest error (rules::kCarriedMemoryBoundBand), not a looser one
  CHECK(band == Approx(worst).margin(0.01));
}

TEST_CASE("memory-bound kernels: a calibration of the scenario's GPU sets their band, the kinds it lacks keep the defaults'",
          "[cost][memory]") {
  const GpuSpec b200 = find_cluster_preset("dgx-b200")->spec.gpu;
  const CostParams defaults = default_cost_params(b200, AttentionBackend::CuDNN);
  REQUIRE(defaults.evidence_for("elementwise")->relative == Approx(rules::kCarriedMemoryBoundBand));  // carried from the H200
  // A B200 file with every kind, each fit's rms residual 0.03 but the SwiGLU backward's 0.05: the band is 0.05.
  nlohmann::json all = {{"format", "hcpsim-calibration/5"}, {"gpu", "NVIDIA B200"}, {"parameters", nlohmann::json::object()}};
  for (const CostScalarParameter& q : cost_scalar_parameters()) {
    const std::string n = q.name;
    if (n.rfind("memory_efficiency_", 0) != 0) continue;
    all["parameters"][n] = {{"value", 0.5}, {"rms_error", n == "memory_efficiency_activation_bwd" ? 0.05 : 0.03},
                            {"max_error", 0.1}, {"samples", 3}, {"range", {1e8, 1e9}}, {"backend", "torch"}};
  }
  const CostParams whole = apply_calibration(parse_calibration_text(all.dump(), "b200.json"), defaults, "b200.json", b200);
  CHECK(whole.evidence_for("elementwise")->relative == Approx(0.05));
  CHECK(whole.evidence_for("elementwise")->basis == "rms residual of the memory-bound kernel fits in b200.json");
  CHECK(whole.elementwise_efficiency_of(ElementwiseKind::Rope, false) == 0.5);
  // Only the norms: their residual is 0.03, the other kinds are still carried (the carry's band).
  nlohmann::json norms = all;
  norms["parameters"] = {{"memory_efficiency_norm_fwd", all["parameters"]["memory_efficiency_norm_fwd"]},
                         {"memory_efficiency_norm_bwd", all["parameters"]["memory_efficiency_norm_bwd"]}};
  const CostParams part = apply_calibration(parse_calibration_text(norms.dump(), "b200.json"), defaults, "b200.json", b200);
  CHECK(part.evidence_for("elementwise")->relative == Approx(rules::kCarriedMemoryBoundBand));
  CHECK(part.evidence_for("elementwise")->basis.find("(2 of 10 kinds); the others: ") != std::string::npos);
}

// Issue 14: the attention backend a scenario names picks its kernels' defaults; a calibration
// of one backend never replaces another's; a GPU hcpsim has not measured gets a roofline from
// its own peak and public achievable fractions (cost/roofline.hpp), never the H200's fractions.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "cost/calibration_file.hpp"
#include "cost/cost_model.hpp"
#include "cost/roofline.hpp"
#include "scenario/parse.hpp"
#include "scenario/presets.hpp"

using namespace hcpsim;

namespace {

GpuSpec preset_gpu(const char* preset) { return find_cluster_preset(preset)->spec.gpu; }

// A GEMM op of `flops` FLOPs (large enough to sit past every table's last point).
Op gemm_op(double flops) {
  Op op;
  op.kind = OpKind::Compute;
  op.compute_class = ComputeClass::Gemm;
  op.flops = flops;
  return op;
}

}  // namespace

TEST_CASE("backends: cuDNN, FlashAttention and hcpsim's kernels have their own H200 defaults", "[cost][backend]") {
  const GpuSpec h200 = preset_gpu("dgx-h200");
  const CostParams cudnn = default_cost_params(h200, AttentionBackend::CuDNN);
  const CostParams flash = default_cost_params(h200, AttentionBackend::Flash);
  const CostParams ours = default_cost_params(h200, AttentionBackend::Hcpsim);
  CHECK(cudnn.attention_backend == AttentionBackend::CuDNN);
  CHECK(flash.attention_backend == AttentionBackend::Flash);
  // Measured (calibrate/torch/README.md, 64K x 64K causal forward): cuDNN 607 TFLOP/s, PyTorch's
  // FlashAttention-2 345: cuDNN's efficiency at large shapes is 1.6-1.9x FlashAttention-2's.
  const double big = 1e14;
  const double ratio = cudnn.attention_fwd_causal.at(big) / flash.attention_fwd_causal.at(big);
  CHECK(ratio > 1.6);
  CHECK(ratio < 1.9);
  // Every backend comes with a shape model of both passes: cuDNN's since its defaults were fitted
  // on records whose SM clock the GPU counted (v25; rules/cudnn_persistent.hpp).
  REQUIRE(ours.attention_shape.has_value());
  CHECK(ours.attention_shape->backward);
  REQUIRE(flash.attention_shape.has_value());
  CHECK(flash.attention_shape->backward);
  REQUIRE(cudnn.attention_shape.has_value());
  CHECK(cudnn.attention_shape->backend == AttentionBackend::CuDNN);
  CHECK(cudnn.attention_shape->backward);
  // GEMM and copies are the same kernels whatever the attention backend.
  CHECK(cudnn.gemm.at(1e13) == flash.gemm.at(1e13));
}

TEST_CASE("backends: a calibration of another backend leaves attention at this backend's defaults", "[cost][backend]") {
  nlohmann::json cal = {{"format", "hcpsim-calibration/4"},
                        {"gpu", "NVIDIA H200"},
                        {"attention_backend", "flash"},
                        {"parameters",
                         {{"gemm", {{"points", {{1e9, 0.4}}}}}, {"attention_fwd_causal", {{"points", {{1e9, 0.3}}}}}}}};
  const CalibrationFile c = parse_calibration_text(cal.dump(), "flash.json");
  REQUIRE(c.attention_backend == AttentionBackend::Flash);
  const GpuSpec h200 = preset_gpu("dgx-h200");
  const CostParams base = default_cost_params(h200, AttentionBackend::CuDNN);
  const CostParams p = apply_calibration(c, base, "flash.json", h200);
  CHECK(p.attention_fwd_causal.at(1e12) == base.attention_fwd_causal.at(1e12));  // cuDNN's kept
  CHECK(p.gemm.at(1e12) == 0.4);                                                // not an attention parameter
  REQUIRE(p.warnings.size() == 1);
  CHECK(p.warnings[0].find("calibrates the flash attention backend") != std::string::npos);
  // The same file for a FlashAttention scenario applies whole.
  const CostParams q = apply_calibration(c, default_cost_params(h200, AttentionBackend::Flash), "flash.json", h200);
  CHECK(q.attention_fwd_causal.at(1e12) == 0.3);
  CHECK(q.warnings.empty());
}

TEST_CASE("backends: files before /4 name their backend on the tables", "[cost][backend]") {
  nlohmann::json cal = {{"format", "hcpsim-calibration/3"},
                        {"gpu", "NVIDIA H200"},
                        {"parameters", {{"attention_fwd_causal", {{"points", {{1e9, 0.3}}}, {"backend", "hcpsim-flash"}}}}}};
  CHECK(parse_calibration_text(cal.dump(), "old.json").attention_backend == AttentionBackend::Hcpsim);
  cal["parameters"]["attention_fwd_causal"].erase("backend");  // naming none: it applies to any backend
  CHECK_FALSE(parse_calibration_text(cal.dump(), "old.json").attention_backend.has_value());
}

TEST_CASE("roofline: a B200 GEMM runs at the measured B200 fraction of the B200's own peak", "[cost][roofline]") {
  const GpuSpec b200 = preset_gpu("dgx-b200");
  const auto fig = roofline_figures(b200, AttentionBackend::CuDNN);
  REQUIRE(fig.has_value());
  CHECK(std::string(fig->gpu) == "B200");
  const CostParams p = default_cost_params(b200, AttentionBackend::CuDNN);
  REQUIRE(p.roofline.has_value());
  // The B200's matmul benchmark (ml-engineering's MAMF table) reaches 1745 of 2250 TFLOP/s (0.776)
  // at the boost clock on its best shape; on Hopper the same benchmark gives 794.5 of 989 (0.803)
  // where hcpsim's own sustained, training-shape GEMM fit plateaus at P_h (the built-in H200 fit's
  // last point). The B200's sustained plateau is 0.776 x P_h / 0.803, and past the table's last
  // point t = F / (2250e12 x that).
  const CostParams h = default_cost_params(preset_gpu("dgx-h200"), AttentionBackend::CuDNN);
  const double hopper_plateau = h.gemm.points.back().second;
  const double b200_plateau = (1745.0 / 2250.0) * hopper_plateau / (794.5 / 989.0);
  CHECK(b200_plateau == Approx(0.648).epsilon(0.01));  // 0.776 x 0.671 / 0.803
  const double flops = 1e17;
  const CostModel m(b200, Precision::BF16, p);
  CHECK(m.compute_time_s(gemm_op(flops)) == Approx(flops / (2250e12 * b200_plateau)).epsilon(1e-3));
  // Small kernels fall off as the H200's at equal time at peak: efficiency at F on the B200 =
  // the B200 plateau x (H200 efficiency at F x 989/2250) / (H200 plateau).
  const double f_small = 1e11;
  const double expected = b200_plateau * h.gemm.at(f_small * 989e12 / 2250e12) / hopper_plateau;
  CHECK(p.gemm.at(f_small) == Approx(expected).epsilon(1e-3));
  CHECK(p.source.find("GEMM 65% (matmul benchmark 78%") != std::string::npos);
  // cuDNN attention on the B200 carries GB200's figures from NVIDIA's cuDNN benchmark (the same die):
  // the highest of 8K-32K tokens, causal forward 1708 of 2500 TFLOP/s, brought to the sustained clock
  // by that benchmark's H200 figure (688 of 989.4) against hcpsim's sustained H200 cuDNN plateau of
  // the same table: the highest point of the rooflined table is 1708 / 2500 x P_cudnn / (688 / 989.4).
  auto highest = [](const EfficiencyTable& t) {
    double e = 0;
    for (const auto& pt : t.points) e = std::max(e, pt.second);
    return e;
  };
  const CostParams hc = default_cost_params(preset_gpu("dgx-h200"), AttentionBackend::CuDNN);
  CHECK(highest(p.attention_fwd_causal) == Approx(1708.0 / 2500 * highest(hc.attention_fwd_causal) / (688 / 989.4)));
  CHECK(highest(p.attention_fwd_nomask) == Approx(1771.0 / 2500 * highest(hc.attention_fwd_nomask) / (702 / 989.4)));
  CHECK(highest(p.attention_bwd_causal) == Approx(1332.0 / 2500 * highest(hc.attention_bwd_causal) / (581 / 989.4)));
  CHECK(highest(p.attention_bwd_nomask) == Approx(1404.0 / 2500 * highest(hc.attention_bwd_nomask) / (612 / 989.4)));
  // (hcpsim's H200 fit sustains 0.86 of that benchmark forward, 0.92 backward: the B200's causal
  // forward is about 0.58 of its peak, its backward 0.49.)
  CHECK(highest(p.attention_fwd_causal) == Approx(0.58).epsilon(0.02));
  CHECK(highest(p.attention_bwd_causal) == Approx(0.49).epsilon(0.02));
  // FlashAttention-2 has no Blackwell kernels: its published B200 figures, used as published
  // (362 of 2250 forward, 334 backward), whatever the mask.
  const CostParams f = default_cost_params(b200, AttentionBackend::Flash);
  CHECK(highest(f.attention_fwd_causal) == Approx(362.0 / 2250));
  CHECK(highest(f.attention_fwd_nomask) == Approx(362.0 / 2250));
  CHECK(highest(f.attention_bwd_causal) == Approx(334.0 / 2250));
  REQUIRE(f.evidence_for("attention"));
  CHECK(f.evidence_for("attention")->relative == 0.25);
  // L40S has no public matmul figure: it is put at the A100/H100 benchmark level, 0.84, which the
  // same ratio brings to 0.84 x P_h / 0.803 = 0.70 (its former estimate, now with the cap counted once).
  const CostParams l40s = default_cost_params(preset_gpu("l40s-pcie"), AttentionBackend::CuDNN);
  CHECK(highest(l40s.gemm) == Approx(0.84 * hopper_plateau / (794.5 / 989.0)).epsilon(1e-9));
  // The band of its kernels is the figures' margin (GEMM 10%: measured on the B200; cuDNN 15%:
  // carried from GB200), and the user is told.
  REQUIRE(p.evidence_for("gemm"));
  CHECK(p.evidence_for("gemm")->relative == 0.10);
  REQUIRE(p.evidence_for("attention"));
  CHECK(p.evidence_for("attention")->relative == 0.15);
  CHECK(p.source.find("roofline for B200") != std::string::npos);
  // A scenario on B200s is told, with the figures' basis and margin.
  const nlohmann::json j = {{"model", {{"preset", "llama3.1-8b"}}},
                            {"training", {{"seq_length", 8192}, {"micro_batch_size", 1}, {"global_batch_size", 8}}},
                            {"parallel", {{"tensor_model_parallel_size", 1}, {"context_parallel_size", 1}}},
                            {"cluster", {{"preset", "dgx-b200"}, {"num_nodes", 1}}}};
  const CostParams q = cost_params_for(parse_scenario_text(j.dump(), ParseOptions{}));
  REQUIRE(q.warnings.size() == 1);
  // It names the clock assumed (the full power limit's: a DGX B200 may boot capped lower) and each
  // kernel class's basis with its margin.
  CHECK(q.warnings[0].find("roofline at the clock it sustains at its full power limit (GEMM measured on B200, +-10%; "
                           "cuDNN carried from GB200") != std::string::npos);
  CHECK(q.warnings[0].find("+-15%") != std::string::npos);
  // and the memory-bound kernels: the H200's carried by their HBM share, with the carry's validated band
  CHECK(q.warnings[0].find("memory-bound kernels: the H200's, carried by each kernel's HBM share, +-26%") !=
        std::string::npos);
}

TEST_CASE("roofline: GB200 is not taken for B200, Hopper is measured, an unknown GPU gets a wide generic margin",
          "[cost][roofline]") {
  const auto cudnn = AttentionBackend::CuDNN;
  CHECK(std::string(roofline_figures(preset_gpu("gb200-nvl72"), cudnn)->gpu) == "GB200");
  CHECK(std::string(roofline_figures(preset_gpu("dgx-a100"), cudnn)->gpu) == "A100");
  CHECK_FALSE(roofline_figures(preset_gpu("dgx-h100"), cudnn).has_value());
  GpuSpec unknown;
  unknown.name = "RTX-PRO-6000";
  unknown.compute_capability = 120;
  unknown.peak_bf16_flops_per_s = 500e12;
  const auto fig = roofline_figures(unknown, cudnn);
  REQUIRE(fig.has_value());
  CHECK(fig->gemm_margin == 0.30);
  CHECK(fig->attention.margin == 0.30);
  // A Hopper GPU unlike the measured die (an H20: 78 SMs, 148 dense bf16 TFLOP/s) is not timed by
  // the H200's attention shape model, which knows the H200's SMs and clock, not this GPU's: the
  // H200's sustained fractions on its own peak, at a 20 % margin. Its big kernels then take the
  // H200's time x 989.4 / 148 (the same fraction of a peak 6.7x smaller): equal efficiencies.
  GpuSpec h20 = preset_gpu("dgx-h100");
  h20.name = "H20-96GB";
  h20.sm_count = 78;
  h20.peak_bf16_flops_per_s = 148e12;
  CHECK(measured_hopper_die(preset_gpu("dgx-h100")));
  CHECK(measured_hopper_die(preset_gpu("dgx-h200")));
  CHECK_FALSE(measured_hopper_die(h20));
  for (const AttentionBackend backend : {cudnn, AttentionBackend::Flash, AttentionBackend::Hcpsim}) {
    const auto h = roofline_figures(h20, backend);
    REQUIRE(h.has_value());
    CHECK(std::string(h->gpu) == "Hopper");
    CHECK(h->attention.h200_fractions);
    CHECK(h->attention.margin == 0.20);
    const CostParams on_h20 = default_cost_params(h20, backend), on_h200 = default_cost_params(preset_gpu("dgx-h200"), backend);
    CHECK_FALSE(on_h20.attention_shape.has_value());
    const double big = 1e15;  // FLOPs: past every table's last point on either GPU
    CHECK(on_h20.attention_fwd_causal.at(big) == Approx(on_h200.attention_fwd_causal.at(big)).epsilon(0.01));
    CHECK(on_h20.attention_bwd_causal.at(big) == Approx(on_h200.attention_bwd_causal.at(big)).epsilon(0.01));
  }
  // Same generation as a known GPU, another name: that generation's figures.
  GpuSpec sm100;
  sm100.name = "custom-blackwell";
  sm100.compute_capability = 100;
  CHECK(std::string(roofline_figures(sm100, cudnn)->gpu) == "B200");
}

TEST_CASE("head dims: the softmax's exponentials do not shrink with the head dim", "[cost][roofline]") {
  // A100: 108 SMs x 1410 MHz x 16 exp per clock = 2.436e12 exp/s. At head dim 128 and efficiency
  // 0.70 of 312 TFLOP/s, a forward score costs 512 / (312e12 x 0.70) = 2.344 ps, of which the exp
  // 1 / 2.436e12 = 0.4105 ps: x = 0.1751. Head dim 64: (1 - x) + 2x = 1.1751, i.e. 0.851 of the
  // head-dim-128 TFLOP/s (FlashAttention-2 on A100: about 0.87, arXiv:2307.08691 figure 4).
  const GpuSpec a100 = preset_gpu("dgx-a100");
  CHECK(exp_ops_per_s(a100) == Approx(108 * 1410e6 * 16));
  const double x = (1 / (108 * 1410e6 * 16)) / (512 / (312e12 * 0.70));
  CHECK(x == Approx(0.1751).epsilon(1e-3));
  CHECK(head_dim_factor(a100, 312e12, 0.70, 64, false) == Approx(1 + x));
  CHECK(head_dim_factor(a100, 312e12, 0.70, 32, false) == Approx(1 + 3 * x));
  CHECK(head_dim_factor(a100, 312e12, 0.70, 128, false) == 1);
  // Backward: 10 d FLOPs per score, one exponential (the recomputed P): x_bwd = x x 512 / 1280.
  CHECK(head_dim_factor(a100, 312e12, 0.70, 64, true) == Approx(1 + x * 512 / 1280));
  // A GPU of unknown SM count: no correction (and no guess).
  GpuSpec bare = a100;
  bare.sm_count = 0;
  CHECK(head_dim_factor(bare, 312e12, 0.70, 32, false) == 1);
}

TEST_CASE("roofline: the Blackwell Ultra presets get their own figures (B300, GB300), not B200's or GB200's") {
  // The figures are found by a model token in the GPU's name (roofline.cpp): the presets' names
  // must carry "B300" and "GB300" so that neither falls back to the compute-capability default.
  const auto b300 = roofline_figures(find_cluster_preset("dgx-b300")->spec.gpu, AttentionBackend::CuDNN);
  const auto gb300 = roofline_figures(find_cluster_preset("gb300-nvl72")->spec.gpu, AttentionBackend::CuDNN);
  REQUIRE(b300.has_value());
  REQUIRE(gb300.has_value());
  CHECK(std::string(b300->gpu) == "B300");
  CHECK(std::string(gb300->gpu) == "GB300");
}

TEST_CASE("roofline: each backend has its own figures, and hcpsim's kernels are not taken off Hopper", "[cost][roofline]") {
  // GB300 from NVIDIA's cuDNN benchmark (measured there: 10%), with Blackwell Ultra's own fractions
  // (its forward runs 1953 of 2500 TFLOP/s causal, above GB200's 1708: the doubled exponential rate);
  // B300 carries them (15%).
  const auto gb300 = roofline_figures(find_cluster_preset("gb300-nvl72")->spec.gpu, AttentionBackend::CuDNN);
  const auto b300 = roofline_figures(find_cluster_preset("dgx-b300")->spec.gpu, AttentionBackend::CuDNN);
  REQUIRE(gb300.has_value());
  REQUIRE(b300.has_value());
  CHECK(gb300->attention.published.fwd_causal == Approx(1953.0 / 2500));
  CHECK(gb300->attention.margin == 0.10);
  CHECK(b300->attention.published.fwd_causal == gb300->attention.published.fwd_causal);
  CHECK(b300->attention.margin == 0.15);
  // NVIDIA's benchmark converts by its H200 ratio; FlashAttention-2's figures are used as published.
  CHECK(sustained_attention_fraction(gb300->attention, false, true, 0.6) == Approx(1953.0 / 2500 * 0.6 / (688 / 989.4)));
  const auto a100_flash = roofline_figures(preset_gpu("dgx-a100"), AttentionBackend::Flash);
  REQUIRE(a100_flash.has_value());
  CHECK(sustained_attention_fraction(a100_flash->attention, true, false, 0.6) == 0.60);
  CHECK(a100_flash->attention.margin == 0.10);
  CHECK(roofline_figures(preset_gpu("dgx-a100"), AttentionBackend::CuDNN)->attention.margin == 0.25);  // estimated
  // hcpsim's kernels are sm_90a only: a scenario asking for them on a B200 is an error naming the key.
  const nlohmann::json j = {{"model", {{"preset", "llama3.1-8b"}}},
                            {"training", {{"seq_length", 8192}, {"micro_batch_size", 1}, {"global_batch_size", 8}}},
                            {"parallel", {{"tensor_model_parallel_size", 1}, {"context_parallel_size", 1}}},
                            {"cluster", {{"preset", "dgx-b200"}, {"num_nodes", 1}}},
                            {"software", {{"attention_backend", "hcpsim"}}}};
  nlohmann::json flash = j;
  flash["software"]["attention_backend"] = "flash";  // accepted, with a word on what FlashAttention-2 does there
  const Scenario fl = parse_scenario_text(flash.dump(), ParseOptions{});
  bool warned = false;
  for (const std::string& w : fl.warnings) warned = warned || w.find("FlashAttention-2 has no Blackwell kernels") != std::string::npos;
  CHECK(warned);
  try {
    parse_scenario_text(j.dump(), ParseOptions{});
    FAIL("hcpsim's kernels on a B200 were accepted");
  } catch (const std::exception& e) {
    CHECK(std::string(e.what()).find("software.attention_backend") != std::string::npos);
  }
}

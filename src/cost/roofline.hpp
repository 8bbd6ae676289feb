// Kernel efficiencies for a GPU hcpsim has no measurement of: a roofline per kernel class
// (docs/cost-model.md §3). A kernel reaches `fraction` of the GPU's own tensor-core peak on large
// shapes, the achievable fraction public measurements give for that generation (FlashAttention and
// cuDNN papers and blogs, matmul benchmarks; each figure with its source and whether it was
// measured on that GPU, carried from a sibling or estimated). How efficiency falls off on small
// kernels follows the measured backend's curve taken at equal time at peak: a kernel of F FLOPs
// on a GPU of peak P behaves as one of F x P_ref / P on the reference GPU (launch, waves and tails
// are time, not FLOPs). The H200's fractions themselves are never applied to another generation.
#pragma once

#include <optional>
#include <string>

#include "scenario/scenario.hpp"

namespace hcpsim {

// Large-kernel attention fractions of the dense bf16 peak (head dim 128), one per kernel table.
struct AttentionFractions {
  double fwd_causal = 0, fwd_nomask = 0, bwd_causal = 0, bwd_nomask = 0;  // backward FLOPs: 2.5x the forward's
  double of(bool backward, bool causal) const;
};

// What a backend's attention kernels reach on a GPU, as the source times them (briefly, at or near
// the boost clock).
struct AttentionFigures {
  AttentionFractions published;
  // From NVIDIA's cuDNN SDPA training benchmark: brought to training's sustained clock by the ratio
  // that benchmark's H200 figures bear to hcpsim's sustained H200 cuDNN fit
  // (sustained_attention_fraction); otherwise used as published.
  bool cudnn_benchmark = false;
  double margin = 0;   // relative extrapolation margin (uncertainty band)
  const char* basis;   // measured on it / carried from a sibling / estimated
  const char* source;  // where (docs/cost-model.md, the roofline, lists the URLs)
  // A Hopper GPU unlike the measured die: the backend's own sustained H200 fractions, not `published`.
  bool h200_fractions = false;
  // Carried from a sibling (the same die): the GPU token whose measured figures these are; null
  // where measured on this GPU or estimated.
  const char* from = nullptr;
};

struct RooflineFigures {
  const char* gpu;           // the model token the figures are for ("B200", "A100", ...)
  double gemm_mamf = 0;      // maximum achievable matmul fraction of the dense bf16 peak (MAMF, below)
  double gemm_margin = 0;    // relative extrapolation margin of the GEMM figure
  const char* gemm_basis;    // measured on it / carried / estimated
  const char* gemm_source;
  // The same benchmark in fp8 (torch._scaled_mm, per-tensor E4M3), fraction of the dense fp8 peak;
  // 0 where none was published: fp8 GEMMs then take the bf16 fractions (rules/fp8_gemm.hpp).
  double gemm_fp8_mamf = 0;
  double gemm_fp8_margin = 0;
  const char* gemm_fp8_basis = nullptr;
  AttentionFigures attention;  // the scenario's attention backend's
  // The measurement each figure rests on and its margin, shared by every GPU that rests on it (a
  // figure carried from a sibling rests on the sibling's; run/uncertainty.hpp, ratio_band).
  std::string attention_shared_basis, gemm_shared_basis;
  double attention_shared_margin = 0, gemm_shared_margin = 0;
};

// NVIDIA's cuDNN SDPA training benchmark on the H200 (NVIDIA/cudnn-frontend
// benchmark/sdpa_benchmark_training, results/h200_919_only_cudnn, cuDNN 9.19, 2026-02: Llama 3.1
// GQA 64 / 8 heads x 128, batch 1, 10 iterations): the highest of 8K-32K tokens, causal 688 (fwd) and
// 581 (bwd), no mask 702 and 612 TFLOP/s, of 989.4.
inline constexpr AttentionFractions kCudnnBenchmarkH200{688 / 989.4, 702 / 989.4, 581 / 989.4, 612 / 989.4};

// A published fraction brought to training's sustained clock: for NVIDIA's cuDNN benchmark, x (hcpsim's
// sustained H200 cuDNN plateau of that table / the benchmark's H200 figure), the gap one method shows
// where hcpsim has both (0.86 forward, 0.92 backward); other sources as published.
double sustained_attention_fraction(const AttentionFigures& f, bool backward, bool causal, double h200_sustained_plateau);

// The H100/H200's maximum achievable matmul (MAMF) fraction: 794.5 of 989 TFLOP/s in
// ml-engineering's MAMF table ("H200 is the same"), the table every roofline GEMM figure comes from.
// MAMF is the fastest single call of the best shape of a search, each shape 50 warm-up and 100 timed
// calls: a maximum over shapes and calls, at shapes training rarely has (on an H100 its big shapes
// read within 1 % of the same GEMM sustained, and the maximum came from mid-size shapes' fastest
// calls: calibrate/RESULTS.md, twenty-fourth run). hcpsim's GEMMs are training's shapes at the
// sustained, power-capped clock: the built-in H200 GEMM fit's plateau is 0.67 of peak, 0.84 of
// MAMF (docs/cost-model.md, "the roofline"). The table's own H100 figure is used, not a measurement
// here: the ratio is then between figures of one method, one search and one source.
constexpr double kHopperMamfFraction = 794.5 / 989.0;

// The H200's fp8 MAMF fraction: 1453.4 of 1979 TFLOP/s in the same table's fp8 rows, torch._scaled_mm
// with its default split accumulator (use_fast_accum false). Against it the built-in H200 fp8 fit of
// Transformer Engine's split-accumulator GEMMs (sustained, Llama's layer shapes) plateaus at 0.618
// of the fp8 peak: 0.84 of the benchmark, the ratio bf16 shows (0.836).
constexpr double kHopperFp8MamfFraction = 1453.4 / 1979.0;

// The fraction of its fp8 peak a GPU's training fp8 GEMMs reach at the sustained clock: its fp8 MAMF
// fraction x (the H200's sustained split-accumulator plateau / kHopperFp8MamfFraction).
double sustained_fp8_gemm_fraction(const RooflineFigures& f, double h200_split_plateau);

// The fraction of its peak a GPU's training GEMMs reach at the sustained clock: its MAMF fraction
// x (Hopper's sustained plateau / Hopper's MAMF fraction). The ratio is the benchmark's, measured
// where hcpsim has both; no fraction of one GPU is applied to another.
double sustained_gemm_fraction(const RooflineFigures& f, double hopper_sustained_plateau);

// Whether `gpu` is the Hopper die hcpsim measured (H100 and H200 SXM, H800, GH200: 132 SMs, 989.4
// dense bf16 TFLOP/s), whose kernels the built-in defaults time, attention by its SMs and clock.
bool measured_hopper_die(const GpuSpec& gpu);

// The figures for `gpu` and the attention `backend`: by its model token (GB300, B300, GB200, B200,
// A100, L40S), else by its compute capability (80, 89, 100, 103), else a generic estimate with a
// 30% margin; nullopt for the measured Hopper die. Another Hopper GPU (H20, H100 PCIe or NVL: other
// SM counts, clocks or power) gets the H200's sustained fractions on its own peak, with a 20% margin. hcpsim's own kernels are built
// for sm_90a alone (validation rejects them elsewhere): asked for them, this gives cuDNN's figures
// at the widest margin.
std::optional<RooflineFigures> roofline_figures(const GpuSpec& gpu, AttentionBackend backend);

}  // namespace hcpsim

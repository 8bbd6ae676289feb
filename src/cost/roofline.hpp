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

struct RooflineFigures {
  const char* gpu;                  // the model token the figures are for ("B200", "A100", ...)
  double gemm_mamf = 0;             // maximum achievable matmul fraction of the dense bf16 peak (MAMF, below)
  double attention_fwd = 0;         // large fused attention forward, head dim 128
  double attention_bwd = 0;         // its backward (FLOPs counted as 2.5x the forward)
  double margin = 0;                // relative extrapolation margin of these figures (uncertainty band)
  const char* basis;                // what the figures rest on (measured on it / carried / estimated)
  const char* source;               // where (docs/cost-model.md §3 lists the URLs)
};

// The H100/H200's maximum achievable matmul (MAMF) fraction: 794.5 of 989 TFLOP/s in
// ml-engineering's MAMF table ("H200 is the same"), the table every roofline GEMM figure comes from.
// MAMF is the best shape of a search, each shape 50 warm-up and 100 timed calls: mostly at the
// boost clock, and a shape training rarely has. hcpsim's GEMMs are training's shapes at the
// sustained, power-capped clock: the built-in H200 GEMM fit's plateau is 0.67 of peak, 0.84 of
// MAMF (docs/cost-model.md, "the roofline").
constexpr double kHopperMamfFraction = 794.5 / 989.0;

// The fraction of its peak a GPU's training GEMMs reach at the sustained clock: its MAMF fraction
// x (Hopper's sustained plateau / Hopper's MAMF fraction). The ratio is the benchmark's, measured
// where hcpsim has both; no fraction of one GPU is applied to another.
double sustained_gemm_fraction(const RooflineFigures& f, double hopper_sustained_plateau);

// The figures for `gpu`: by its model token (GB300, B300, GB200, B200, A100, L40S), else by its
// compute capability (80, 89, 100, 103), else a generic estimate with a 30% margin; nullopt for
// Hopper (sm_90), which hcpsim has measured.
std::optional<RooflineFigures> roofline_figures(const GpuSpec& gpu);

}  // namespace hcpsim

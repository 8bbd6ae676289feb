#include "cost/roofline.hpp"

#include <algorithm>
#include <cctype>

namespace hcpsim {

namespace {

// Achievable fractions (docs/cost-model.md §3, sources there). GEMM: the maximum achievable matmul
// (MAMF) fraction of ml-engineering's table (bf16, each the best shape of its search; converted to
// the sustained clock by sustained_gemm_fraction). Attention FLOPs as hcpsim counts them (4 h sq skv d,
// halved when causal; backward 2.5x) = the FlashAttention papers' convention.
//   A100: MAMF 271.2 of 312 (0.869); FlashAttention-2 up to 73% fwd, 63% bwd (Dao 2023,
//         arXiv:2307.08691); measured on it.
//   B200: MAMF 1745 of 2250 (0.776); FlashAttention-4 1613 fwd (0.71, arXiv:2603.05451), bwd 1237
//         (0.55, Colfax); measured on it.
//   GB200: MAMF 1822 of 2500 (0.729, measured); attention B200's TFLOP/s x 1.04 (the MAMF ratio)
//         against its 2.5 PF peak: 0.65 / 0.50 (estimated).
//   B300: MAMF 1769 of 2250 (0.786, measured); attention carried from B200 (its doubled exponent
//         unit helps the forward: upside, not modelled).
//   GB300: carried from GB200 (no public measurement).
//   L40S: no public kernel measurement: GEMM at the MAMF level of A100 and H100 (0.80-0.87, taken
//         as 0.84; the conversion to the sustained clock then takes off what Hopper loses to its
//         power cap, 0.70 in all), FlashAttention-2 on Ada (less shared memory per SM than A100)
//         0.55 / 0.45 (estimated).
// Margins: 10% where measured on the GPU, 15% carried from a sibling, 25% estimated.
constexpr RooflineFigures kFigures[] = {
    {"GB300", 0.729, 0.65, 0.50, 0.25, "estimated (GB200's figures; no public measurement on GB300)",
     "GB200 matmul benchmark (ml-engineering), FlashAttention-4 on B200"},
    {"B300", 0.786, 0.70, 0.55, 0.15, "GEMM measured on B300; attention carried from B200",
     "ml-engineering matmul benchmark; FlashAttention-4 (arXiv:2603.05451) on B200"},
    {"GB200", 0.729, 0.65, 0.50, 0.15, "GEMM measured on GB200; attention estimated from B200 x the GEMM ratio",
     "ml-engineering matmul benchmark; FlashAttention-4 (arXiv:2603.05451) on B200"},
    {"B200", 0.776, 0.70, 0.55, 0.10, "measured on B200 (matmul benchmark, FlashAttention-4)",
     "ml-engineering matmul benchmark; FlashAttention-4 (arXiv:2603.05451); Colfax FA4 backward"},
    {"A100", 0.869, 0.70, 0.60, 0.10, "measured on A100 (matmul benchmark, FlashAttention-2 paper)",
     "ml-engineering matmul benchmark; FlashAttention-2 (arXiv:2307.08691)"},
    {"L40S", 0.84, 0.55, 0.45, 0.25, "estimated (no public kernel measurement on L40S)",
     "NVIDIA L40S datasheet peaks; A100 FlashAttention-2 fractions discounted"},
};

// Compute capability -> the figures of its generation for GPUs of no known model.
constexpr std::pair<int64_t, const char*> kByCapability[] = {{80, "A100"}, {89, "L40S"}, {100, "B200"}, {103, "B300"}};

bool has_token(const std::string& name, const std::string& token) {
  std::string up;
  for (char c : name) up += char(std::toupper(static_cast<unsigned char>(c)));
  for (size_t at = up.find(token); at != std::string::npos; at = up.find(token, at + 1)) {
    const bool start = at == 0 || !std::isalnum(static_cast<unsigned char>(up[at - 1]));
    const size_t end = at + token.size();
    const bool stop = end == up.size() || !std::isdigit(static_cast<unsigned char>(up[end]));
    if (start && stop) return true;
  }
  return false;
}

}  // namespace

double sustained_gemm_fraction(const RooflineFigures& f, double hopper_sustained_plateau) {
  return f.gemm_mamf * hopper_sustained_plateau / kHopperMamfFraction;
}

std::optional<RooflineFigures> roofline_figures(const GpuSpec& gpu) {
  if (gpu.compute_capability == 90) return std::nullopt;  // Hopper: measured (src/cost/defaults/)
  for (const RooflineFigures& f : kFigures)
    if (has_token(gpu.name, f.gpu)) return f;
  for (const auto& [cc, model] : kByCapability)
    if (gpu.compute_capability == cc)
      for (const RooflineFigures& f : kFigures)
        if (std::string(f.gpu) == model) return f;
  // No figures for this GPU or its generation: a generic estimate, with a wide margin.
  return RooflineFigures{"(unknown)", 0.84, 0.55, 0.45, 0.30,
                         "no figures for this GPU or its generation: a generic estimate",
                         "typical fractions of recent NVIDIA GPUs (docs/cost-model.md §3)"};
}

}  // namespace hcpsim

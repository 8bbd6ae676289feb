#include "cost/roofline.hpp"

#include <cassert>

#include <algorithm>
#include <cctype>
#include <cmath>

namespace hcpsim {

namespace {

// GEMM: the maximum achievable matmul (MAMF) fraction of ml-engineering's table (bf16, each the best
// shape of its search; converted to the sustained clock by sustained_gemm_fraction).
//   A100 271.2 of 312 (0.869), B200 1745 of 2250 (0.776), GB200 1822 of 2500 (0.729), B300 1769 of
//   2250 (0.786): measured on each; GB300: GB200's (no public measurement); L40S: no public figure,
//   put at the A100/H100 level (0.80-0.87, taken as 0.84).
// Attention FLOPs as hcpsim counts them (4 h sq skv d, halved when causal; backward 2.5x) = the
// FlashAttention papers' and NVIDIA's benchmark's convention. Per backend:
//   cudnn: NVIDIA's cuDNN SDPA training benchmark (NVIDIA/cudnn-frontend
//     benchmark/sdpa_benchmark_training/results/llama3.1/{gb200,gb300}, cuDNN 9.22, 2026-04; Llama 3.1
//     GQA 64 / 8 heads x 128, batch 2): the highest TFLOP/s of 8K-32K tokens, of the preset's peak,
//     then brought to the sustained clock (sustained_attention_fraction). B200 and B300 carry their
//     Grace siblings' fractions (the same dies). A100: cuDNN's Ampere SDPA is a FlashAttention-2
//     kernel (cuDNN frontend docs): FlashAttention-2's figures, estimated.
//   flash (FlashAttention-2, as PyTorch's SDPA and flash-attn 2 run it): A100: up to 73% forward and
//     63% backward (Dao 2023, arXiv:2307.08691), taken as 0.70 / 0.60. Blackwell: FlashAttention-2
//     has no Blackwell kernels and runs Ampere's mma.sync path: 352-362 TFLOP/s forward at head dim
//     128, 2K-8K tokens, no mask (meta-pytorch/tritonbench PR #171, B200), 302-334 backward at head
//     dim 64 (Dao-AILab/flash-attention issue #1589, B200): 0.16 / 0.15 of 2250, the same fraction on
//     its siblings (the same SMs at their own clocks). FlashAttention-3 does not run on Blackwell;
//     FlashAttention-4 runs about as cuDNN does there (arXiv:2603.05451: up to 1.3x over cuDNN 9.13;
//     cuDNN 9.19 ahead of it on long non-causal shapes, sgl-project/sglang PR #33655): `cudnn`.
//   L40S and other GPUs: estimated.
constexpr AttentionFractions uniform(double fwd, double bwd) { return {fwd, fwd, bwd, bwd}; }
constexpr AttentionFractions kCudnnGb200{1708 / 2500.0, 1771 / 2500.0, 1332 / 2500.0, 1404 / 2500.0};
constexpr AttentionFractions kCudnnGb300{1953 / 2500.0, 2017 / 2500.0, 1507 / 2500.0, 1536 / 2500.0};
constexpr AttentionFractions kFlash2Blackwell = uniform(362 / 2250.0, 334 / 2250.0);
constexpr AttentionFractions kFlash2A100 = uniform(0.70, 0.60);
constexpr AttentionFractions kEstimated = uniform(0.55, 0.45);

constexpr const char* kCudnnBenchmark = "NVIDIA's cuDNN SDPA benchmark (cudnn-frontend)";
constexpr const char* kFlash2OnBlackwell = "FlashAttention-2 on B200 (tritonbench PR #171, flash-attention #1589)";

// fp8 GEMM: the same table's fp8 rows (torch._scaled_mm, per-tensor E4M3; mamf-finder.py, ml-engineering
// 744d01e): B200 3432.5 of 4500 (0.763), B300 3353.3 of 4500 (0.745), GB200 3615.6 of 5000 (0.723),
// each 1.90-1.98x the same GPU's bf16 figure (Hopper's split accumulator: 1.77-1.83x); GB300: GB200's.
struct Fp8Gemm {
  double mamf = 0, margin = 0;
  const char* basis = nullptr;
};
constexpr Fp8Gemm kNoFp8Figure{};

struct GpuFigures {
  const char* gpu;
  double gemm_mamf, gemm_margin;
  const char *gemm_basis, *gemm_source;
  AttentionFigures cudnn, flash;
  Fp8Gemm fp8 = kNoFp8Figure;
  const char* gemm_from = nullptr;  // carried from a sibling: its token (AttentionFigures::from)
};

const GpuFigures kFigures[] = {
    {"GB300", 0.729, 0.15, "GEMM carried from GB200 (no public measurement on GB300)", "ml-engineering matmul benchmark (GB200)",
     {kCudnnGb300, true, 0.10, "cuDNN measured on GB300", kCudnnBenchmark},
     {kFlash2Blackwell, false, 0.25, "FlashAttention-2 carried from B200", kFlash2OnBlackwell, false, "B200"},
     {3615.6 / 5000, 0.15, "fp8 GEMM carried from GB200 (no public measurement on GB300)"},
     "GB200"},
    {"B300", 0.786, 0.10, "GEMM measured on B300", "ml-engineering matmul benchmark",
     {kCudnnGb300, true, 0.15, "cuDNN carried from GB300 (the same die)", kCudnnBenchmark, false, "GB300"},
     {kFlash2Blackwell, false, 0.25, "FlashAttention-2 carried from B200", kFlash2OnBlackwell, false, "B200"},
     {3353.3 / 4500, 0.10, "fp8 GEMM measured on B300"}},
    {"GB200", 0.729, 0.10, "GEMM measured on GB200", "ml-engineering matmul benchmark",
     {kCudnnGb200, true, 0.10, "cuDNN measured on GB200", kCudnnBenchmark},
     {kFlash2Blackwell, false, 0.25, "FlashAttention-2 carried from B200", kFlash2OnBlackwell, false, "B200"},
     {3615.6 / 5000, 0.10, "fp8 GEMM measured on GB200"}},
    {"B200", 0.776, 0.10, "GEMM measured on B200", "ml-engineering matmul benchmark",
     {kCudnnGb200, true, 0.15, "cuDNN carried from GB200 (the same die)", kCudnnBenchmark, false, "GB200"},
     {kFlash2Blackwell, false, 0.25, "FlashAttention-2 measured on B200 (briefly; backward at head dim 64)",
      kFlash2OnBlackwell},
     {3432.5 / 4500, 0.10, "fp8 GEMM measured on B200"}},
    {"A100", 0.869, 0.10, "GEMM measured on A100", "ml-engineering matmul benchmark",
     {kFlash2A100, false, 0.25, "cuDNN estimated from FlashAttention-2 on A100 (its Ampere kernel's algorithm)",
      "FlashAttention-2 (arXiv:2307.08691)"},
     {kFlash2A100, false, 0.10, "FlashAttention-2 measured on A100", "FlashAttention-2 (arXiv:2307.08691)"}},
    {"L40S", 0.84, 0.25, "GEMM estimated (no public kernel measurement on L40S)", "NVIDIA L40S datasheet peaks",
     {kEstimated, false, 0.25, "attention estimated (no public kernel measurement on L40S)",
      "A100 FlashAttention-2 fractions discounted for Ada's smaller shared memory"},
     {kEstimated, false, 0.25, "attention estimated (no public kernel measurement on L40S)",
      "A100 FlashAttention-2 fractions discounted for Ada's smaller shared memory"}},
};

// A Hopper GPU other than the measured die: the H200's own sustained fractions on its peak.
constexpr const char* kOtherHopperBasis =
    "a Hopper GPU unlike the measured H100/H200 (its SMs or peak): the H200's sustained fractions on its own peak";
const GpuFigures kOtherHopper = {"Hopper", kHopperMamfFraction, 0.20, kOtherHopperBasis, "hcpsim's H200 measurements",
                                 {kEstimated, false, 0.20, kOtherHopperBasis, "hcpsim's H200 measurements", true},
                                 {kEstimated, false, 0.20, kOtherHopperBasis, "hcpsim's H200 measurements", true}};

// No figures for this GPU or its generation: a generic estimate, with a wide margin.
const GpuFigures kGeneric = {"(unknown)", 0.84, 0.30, "no figures for this GPU or its generation: a generic estimate",
                             "typical fractions of recent NVIDIA GPUs (docs/cost-model.md, the roofline)",
                             {kEstimated, false, 0.30, "attention: a generic estimate", "typical fractions"},
                             {kEstimated, false, 0.30, "attention: a generic estimate", "typical fractions"}};

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

RooflineFigures figures_for(const GpuFigures& g, AttentionBackend backend) {
  RooflineFigures f{g.gpu, g.gemm_mamf, g.gemm_margin, g.gemm_basis, g.gemm_source, g.fp8.mamf, g.fp8.margin, g.fp8.basis,
                    g.cudnn};
  if (backend == AttentionBackend::Flash) f.attention = g.flash;
  const bool stand_in = backend == AttentionBackend::Hcpsim && !f.attention.h200_fractions;
  if (stand_in) {  // not built for this GPU: cuDNN's, at the widest margin, sharing nothing
    f.attention.margin = 0.30;
    f.attention.basis = "hcpsim's kernels are built for sm_90a only: cuDNN's figures stand in";
  }
  // What a figure rests on in common with another GPU's: a measurement carried between siblings.
  // The carried figure names its sibling (`from`); the sibling's own figure is that measurement.
  // An estimate, or a measurement no other GPU rests on, shares nothing (its basis names its GPU).
  const auto attention_of = [backend](const GpuFigures& x) -> const AttentionFigures& {
    return backend == AttentionBackend::Flash ? x.flash : x.cudnn;
  };
  const auto sibling = [](const char* token) -> const GpuFigures& {
    for (const GpuFigures& s : kFigures)
      if (std::string(s.gpu) == token) return s;
    assert(false && "a figure carried from a GPU that has none");
    return kGeneric;
  };
  bool attention_carried_from_it = false, gemm_carried_from_it = false;
  for (const GpuFigures& x : kFigures) {
    attention_carried_from_it = attention_carried_from_it || (attention_of(x).from && std::string(attention_of(x).from) == g.gpu);
    gemm_carried_from_it = gemm_carried_from_it || (x.gemm_from && std::string(x.gemm_from) == g.gpu);
  }
  if (!stand_in && (f.attention.from || attention_carried_from_it)) {
    const AttentionFigures& a = f.attention.from ? attention_of(sibling(f.attention.from)) : f.attention;
    f.attention_shared_basis = std::string(a.basis) + " (" + a.source + ")";
    f.attention_shared_margin = a.margin;
  }
  if (g.gemm_from || gemm_carried_from_it) {
    const GpuFigures& gemm = g.gemm_from ? sibling(g.gemm_from) : g;
    f.gemm_shared_basis = std::string(gemm.gemm_basis) + " (" + gemm.gemm_source + ")";
    f.gemm_shared_margin = gemm.gemm_margin;
  }
  return f;
}

}  // namespace

double sustained_gemm_fraction(const RooflineFigures& f, double hopper_sustained_plateau) {
  return f.gemm_mamf * hopper_sustained_plateau / kHopperMamfFraction;
}

double sustained_fp8_gemm_fraction(const RooflineFigures& f, double h200_split_plateau) {
  return f.gemm_fp8_mamf * h200_split_plateau / kHopperFp8MamfFraction;
}

double AttentionFractions::of(bool backward, bool causal) const {
  return backward ? (causal ? bwd_causal : bwd_nomask) : (causal ? fwd_causal : fwd_nomask);
}

double sustained_attention_fraction(const AttentionFigures& f, bool backward, bool causal, double h200_sustained_plateau) {
  const double published = f.published.of(backward, causal);
  if (!f.cudnn_benchmark) return published;
  return published * h200_sustained_plateau / kCudnnBenchmarkH200.of(backward, causal);
}

bool measured_hopper_die(const GpuSpec& gpu) {
  constexpr double kPeak = 989.4e12;  // H100/H200 SXM dense bf16
  return gpu.compute_capability == 90 && (gpu.sm_count == 0 || gpu.sm_count == 132) &&
         std::abs(gpu.peak_bf16_flops_per_s - kPeak) <= 0.01 * kPeak;
}

std::optional<RooflineFigures> roofline_figures(const GpuSpec& gpu, AttentionBackend backend) {
  if (measured_hopper_die(gpu)) return std::nullopt;  // measured (src/cost/defaults/)
  if (gpu.compute_capability == 90) return figures_for(kOtherHopper, backend);
  for (const GpuFigures& g : kFigures)
    if (has_token(gpu.name, g.gpu)) return figures_for(g, backend);
  for (const auto& [cc, model] : kByCapability)
    if (gpu.compute_capability == cc)
      for (const GpuFigures& g : kFigures)
        if (std::string(g.gpu) == model) return figures_for(g, backend);
  return figures_for(kGeneric, backend);
}

}  // namespace hcpsim

// Which GEMM a layer's linear runs: bf16, or under fp8 training Transformer Engine's fp8 GEMM with
// or without the split accumulator. One definition for the workload builder (workload/layer_ops.cpp),
// the measurements reader and fit (fit/measurements.cpp, hcpcal_torch's gemm suite records) and the
// cost model's tables (cost/cost_model.cpp).
//
// Transformer Engine runs every TE Linear's GEMMs in fp8 under fp8_autocast, per-tensor scaled on
// Hopper (DelayedScaling, Float8CurrentScaling): its recipes ask for the split accumulator in the
// data- and weight-gradient GEMMs and not in the forward (transformer_engine/common/recipe/
// __init__.py: fp8_gemm_fprop use_split_accumulator=False, fp8_gemm_dgrad and fp8_gemm_wgrad True;
// module/base.py _2X_ACC_FPROP False, _2X_ACC_DGRAD and _2X_ACC_WGRAD True). cuBLASLt's fast
// accumulation (CUBLASLT_MATMUL_DESC_FAST_ACCUM) is the forward's; the split accumulator promotes
// partial sums to fp32 and costs time (calibrate/RESULTS.md, twenty-third run). A recomputed
// forward runs the forward's GEMM. Megatron's output layer (the LM head) is a plain
// ColumnParallelLinear, not a TE module: it stays bf16 (GemmType::Bf16, the builder's default).
// MXFP8 (Blackwell's MXFP8BlockScaling) runs every TE Linear's GEMMs block-scaled: one E8M0 scale
// per 32 elements along the reduction dimension, no fast/split accumulator distinction (Blackwell's
// tensor cores accumulate in fp32). NVFP4 (Transformer Engine's NVFP4BlockScaling, Megatron's --fp4-format
// e2m1 --fp4-recipe nvfp4) runs every TE Linear's GEMMs in 4-bit E2M1 with one E4M3 scale per 16
// elements and a per-tensor fp32 scale, fprop, dgrad and wgrad alike (TE recipe/__init__.py,
// NVFP4BlockScaling; arXiv:2509.25149). The 1x128 / 128x128 blockwise fp8 recipe is not modelled.
#pragma once

#include <cmath>
#include <cstdint>

namespace hcpsim::rules {

enum class GemmType : uint8_t { Bf16, Fp8FastAccum, Fp8SplitAccum, Mxfp8, Nvfp4 };

// The format TE quantizes a Linear's GEMM operands to: per-tensor-scaled fp8 (delayed or current
// scaling), MXFP8 (E4M3, one E8M0 scale per 32 elements) or NVFP4 (E2M1, one E4M3 scale per 16 and a
// per-tensor fp32 scale).
enum class QuantFormat : uint8_t { Fp8PerTensor, Mxfp8, Nvfp4 };

// Whether a format's scales run along the GEMM's reduction dimension in blocks, so that the two
// layouts a tensor is read in (row-wise for fprop and dgrad's operand, column-wise for wgrad) are
// two quantizations from the bf16 tensor, each gathered over TP in its own right (MXFP8Quantizer,
// NVFP4Quantizer: rowwise and columnwise data; distributed.py, _all_gather_mxfp8 and
// _all_gather_nvfp4), and the GEMMs take any layout.
inline bool quantized_both_ways(QuantFormat f) { return f != QuantFormat::Fp8PerTensor; }

// The GEMM a TE Linear runs: bf16 without quantized training; the block-scaled GEMM of MXFP8 or
// NVFP4 under those recipes; else (per-tensor fp8 recipes) fast accumulation in the forward (or its
// recompute), the split accumulator in dgrad and wgrad.
inline GemmType te_linear_gemm_type(bool quantized, bool forward, QuantFormat f = QuantFormat::Fp8PerTensor) {
  if (!quantized) return GemmType::Bf16;
  if (f == QuantFormat::Mxfp8) return GemmType::Mxfp8;
  if (f == QuantFormat::Nvfp4) return GemmType::Nvfp4;
  return forward ? GemmType::Fp8FastAccum : GemmType::Fp8SplitAccum;
}

// The efficiency table of each GEMM type, by the name calibration files, fit and check use.
inline const char* gemm_table_name(GemmType t) {
  switch (t) {
    case GemmType::Bf16: return "gemm";
    case GemmType::Fp8FastAccum: return "gemm_fp8_fast_accum";
    case GemmType::Fp8SplitAccum: return "gemm_fp8_split_accum";
    case GemmType::Mxfp8: return "gemm_mxfp8";
    case GemmType::Nvfp4: return "gemm_nvfp4";
  }
  return "gemm";
}

// Whether a GEMM runs on the fp8 tensor-core peak (per-tensor fp8 and MXFP8) or on the fp4 one (NVFP4).
inline bool is_fp8(GemmType t) { return t != GemmType::Bf16 && t != GemmType::Nvfp4; }
inline bool is_fp4(GemmType t) { return t == GemmType::Nvfp4; }
inline bool is_quantized(GemmType t) { return t != GemmType::Bf16; }

// Whether a GPU's fp8 GEMMs take only the "TN" layout, so that Transformer Engine keeps a second,
// transposed fp8 copy of every operand a GEMM reads in the other layout (the weights for dgrad, the
// saved inputs and the output gradients for wgrad): Ada and Hopper do, and so does the consumer
// Blackwell (sm_120); the data-centre Blackwell (sm_100 to sm_119, and from sm_130) runs fp8 GEMMs
// in any layout and TE keeps one copy (transformer_engine/common/transformer_engine.cpp,
// nvte_is_non_tn_fp8_gemm_supported; pytorch/csrc/quantizer.cpp: with_transpose = columnwise_usage
// && !is_non_tn_fp8_gemm_supported). One definition for the memory estimate (the weights' fp8
// copies) and the workload (the bytes of TE's quantize kernels).
inline bool fp8_needs_transposed_copy(int64_t compute_capability) {
  const bool any_layout = (compute_capability >= 100 && compute_capability < 120) || compute_capability >= 130;
  return !any_layout;
}

// Whether Transformer Engine runs MXFP8 on a GPU: compute capability 10.x and 11.x (quantization.py,
// _compute_mxfp8_support: 10.0 or newer, "not supported on 12.0+ architectures yet").
inline bool mxfp8_supported(int64_t compute_capability) { return compute_capability >= 100 && compute_capability < 120; }
// Whether Transformer Engine runs NVFP4 on a GPU: compute capability 10.0 and newer (quantization.py,
// _compute_nvfp4_support).
inline bool nvfp4_supported(int64_t compute_capability) { return compute_capability >= 100; }
// MXFP8: one E8M0 byte of scale per 32 elements beside each fp8 byte. Its scales run along the
// GEMM's reduction dimension, so the two layouts a tensor is read in (row-wise for fprop and dgrad's
// operand, column-wise for wgrad) are two quantizations, each 1 + 1/32 bytes an element
// (MXFP8Quantizer's rowwise and columnwise data), on any GPU.
inline constexpr double kMxfp8BytesPerElement = 1.0 + 1.0 / 32.0;
// NVFP4: half a byte of E2M1 and one E4M3 scale byte per 16 elements, per quantization
// (NVFP4Quantizer's rowwise and columnwise data and scale_inv; the per-tensor fp32 amax aside).
inline constexpr double kNvfp4BytesPerElement = 0.5 + 1.0 / 16.0;
// NVFP4 primary weights (Megatron's --fp4-param-gather): the distributed optimizer gathers their
// packed row-wise E2M1 bytes alone, half a byte a weight (param_and_grad_buffer.py: the packed param
// buffer, "half the logical numel"); each rank rebuilds the scales, from one fp32 amax per 16 x 16
// tile all-reduced (MAX) over the data-parallel group (TE tensor/utils.py, the NVFP4 shard
// quantization): 4 bytes per 256 weights, the whole model's tiles on every rank.
inline constexpr double kNvfp4PackedBytesPerElement = 0.5;
inline constexpr double kNvfp4TileAmaxBytesPerElement = 4.0 / 256.0;

// MXFP8's block-scaled GEMMs against per-tensor fp8 ones on Blackwell, kernels alone: Transformer
// Engine's GEMM profiling guide on a B300 (docs/examples/gemm_profiling/gemm_profiling.rst,
// --pre-quantize: the 12 GEMMs of a hidden-4096, FFN-16384 layer at 15872 tokens, 10 warm-up and
// 100 timed calls) takes 7.161 ms a layer in MXFP8 and 6.812 ms in fp8 current scaling. The rate of
// the one over the other: 0.951. (cuDNN's batched fp8 GEMMs through flashinfer read 0.99 on a B200.)
inline constexpr double kMxfp8OverFp8Rate = 6.812 / 7.161;
// NVFP4's GEMMs against per-tensor fp8 ones, the same profiling, kernels alone: 3.764 ms a layer in
// NVFP4. The rate of the one over the other on that B300: 1.810, where its dense peaks differ by
// 2.8x (fp4 12.6 and fp8 4.5 PFLOP/s, the DGX B300 datasheet as ml-engineering's accelerator table
// gives it): the 4-bit GEMMs reach a smaller fraction of their peak than fp8's of theirs.
inline constexpr double kNvfp4OverFp8Rate = 6.812 / 3.764;
inline constexpr double kB300DenseFp8Tflops = 4500, kB300DenseFp4Tflops = 12600;
// The same measurement as fractions of the two peaks: NVFP4's fraction of the fp4 peak is 0.646 of
// fp8's fraction of the fp8 peak (1.810 x 4.5 / 12.6).
inline constexpr double kNvfp4FractionOverFp8 = kNvfp4OverFp8Rate * kB300DenseFp8Tflops / kB300DenseFp4Tflops;
// On another GPU the one measurement reads two ways. If what holds the 4-bit GEMMs back is shared by
// the dies (power, the operand and scale traffic), the rate over fp8 carries: 1.81x everywhere. If it
// scales with the fp4 datapath (the roofline's rule for every other kernel class), the fraction of
// the peak carries: 0.646 x fp4 peak / fp8 peak, 1.29x on a B200 or GB200 (fp4 twice fp8) and 1.94x
// on a GB300 (three times). The two agree on a B300. hcpsim takes their geometric mean and widens
// the band by half their log-ratio (nvfp4_reading_gap): 1.53x and +-17 % on a GB200, 1.87x and
// +-3 % on a GB300.
inline double nvfp4_over_fp8_rate(double fp8_peak, double fp4_peak) {
  return std::sqrt(kNvfp4OverFp8Rate * kNvfp4FractionOverFp8 * fp4_peak / fp8_peak);
}
inline double nvfp4_reading_gap(double fp8_peak, double fp4_peak) {
  return std::abs(std::log(kNvfp4OverFp8Rate / (kNvfp4FractionOverFp8 * fp4_peak / fp8_peak))) / 2;
}
// The band of the measured rate itself: one GPU, one layer's 12 GEMM shapes (hidden 4096, FFN 16384),
// carried to every shape, and the B300's fp4 peak quoted 12.6 to 13.1 PFLOP/s (4 %); wider than the
// fp8 GEMMs' own 10 % margins (docs/cost-model.md, NVFP4).
inline constexpr double kNvfp4RateBand = 0.15;

// Bytes of one quantized copy of an element: what a quantized all-gather moves and a saved
// quantized input keeps (fp8 1; MXFP8 1 + 1/32; NVFP4 1/2 + 1/16).
inline double quantized_element_bytes(QuantFormat f) {
  switch (f) {
    case QuantFormat::Fp8PerTensor: return 1.0;
    case QuantFormat::Mxfp8: return kMxfp8BytesPerElement;
    case QuantFormat::Nvfp4: return kNvfp4BytesPerElement;
  }
  return 1.0;
}

// Of quantized_element_bytes, the block scales': MXFP8's E8M0 byte per 32 elements, NVFP4's E4M3
// byte per 16; per-tensor fp8 has one scale a tensor (none an element). Userbuffers move the data
// alone and TE all-gathers the scales with NCCL beside them (module/base.py,
// fill_userbuffers_buffer_for_all_gather).
inline double quantized_scale_bytes_per_element(QuantFormat f) {
  switch (f) {
    case QuantFormat::Fp8PerTensor: return 0.0;
    case QuantFormat::Mxfp8: return 1.0 / 32.0;
    case QuantFormat::Nvfp4: return 1.0 / 16.0;
  }
  return 0.0;
}

// Quantized bytes TE keeps of one element of a GEMM operand: the row-wise fp8 copy, and the
// transposed one where the GPU's fp8 GEMMs need it; MXFP8's and NVFP4's row-wise and column-wise
// quantizations.
inline double quantized_copy_bytes_per_element(int64_t compute_capability, QuantFormat f = QuantFormat::Fp8PerTensor) {
  if (quantized_both_ways(f)) return 2.0 * quantized_element_bytes(f);
  return fp8_needs_transposed_copy(compute_capability) ? 2.0 : 1.0;
}

// HBM bytes per element of TE's quantize kernels: a cast reads bf16 (2) and writes one quantized
// copy; a transpose of an fp8 tensor reads one copy and writes the other (1 + 1).
inline double quantized_cast_bytes_per_element(QuantFormat f) { return 2.0 + quantized_element_bytes(f); }
inline constexpr double kFp8AmaxBytes = 4.0;  // one fp32 amax, all-reduced under tensorwise scaling
inline constexpr double kFp8TransposeBytesPerElement = 2.0;

// A quantize that writes every copy TE keeps: cast_transpose on TN-only GPUs, a plain cast elsewhere;
// MXFP8's and NVFP4's kernels write both of their quantizations from one read (NVFP4's column-wise one
// through the random Hadamard transform, in the same kernel).
inline double quantize_bytes_per_element(int64_t compute_capability, QuantFormat f = QuantFormat::Fp8PerTensor) {
  return 2.0 + quantized_copy_bytes_per_element(compute_capability, f);
}

// Whether Megatron has linear_proj keep its original input, the attention output O that the core
// attention keeps anyway, rather than a quantized copy of it: under the current-scaling fp8 recipes
// (tensorwise, MXFP8) with TE 2.6 or newer and under NVFP4 (TE 2.7 or newer, which validation asks
// for) (attention.py, set_save_original_input); never under delayed scaling. TE then quantizes O
// row-wise alone for the forward GEMM and again, column-wise, in the backward for wgrad (linear.py:
// the input's column-wise usage off with save_original_input). One definition for the memory
// estimate (no saved copy) and the workload (the two casts).
inline bool proj_saves_original_input(bool quantized, bool delayed_fp8_scaling, bool te_2_6_or_newer) {
  return quantized && !delayed_fp8_scaling && te_2_6_or_newer;
}

// Whether a format's quantizer measures the tensor's amax in a pass of its own before the cast:
// current (tensorwise) fp8 scaling, and NVFP4, whose per-tensor fp32 scale comes from the amax (and
// the amax after the Hadamard transform for the column-wise copy, one kernel reading the bf16 tensor:
// NVFP4Quantizer with with_post_rht_amax, which also keeps TE's norm from fusing it).
inline bool amax_pass_before_cast(QuantFormat f, bool tensorwise_fp8) {
  return f == QuantFormat::Nvfp4 || (f == QuantFormat::Fp8PerTensor && tensorwise_fp8);
}

// Where a GPU model's fp8 GEMMs are not measured, they take its bf16 GEMM's fractions of peak on
// the fp8 peak. That puts TE's fp8 GEMMs fast: each GPU's bf16 default on the fp8 peak against the
// fp8 GEMMs measured (the layer's 36 shapes each way; calibrate/RESULTS.md, twenty-third run) is,
// on the H100 ([v36] fit, [v38]), -3.5 % (median; -10.5 to +2.3 %) with fast accumulation and
// -10.2 % (-16.0 to -6.8 %) with the split accumulator; on the H200 ([v6], [v39]) -3.4 % (-8.8 to
// +1.3 %) and -9.7 % (-13.0 to -5.8 %). The band of such a GEMM is the worst error, rounded up;
// tests/cost/test_fp8_gemm.cpp recomputes it from the committed data.
inline constexpr double kFp8FromBf16Band = 0.16;

}  // namespace hcpsim::rules

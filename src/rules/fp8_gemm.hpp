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
// tensor cores accumulate in fp32). NVFP4 and the 1x128 / 128x128 blockwise recipe are not modelled.
#pragma once

#include <cstdint>

namespace hcpsim::rules {

enum class GemmType : uint8_t { Bf16, Fp8FastAccum, Fp8SplitAccum, Mxfp8 };

// The GEMM a TE Linear runs: bf16 without fp8 training; MXFP8's block-scaled GEMM under that recipe;
// else (per-tensor recipes) fast accumulation in the forward (or its recompute), the split
// accumulator in dgrad and wgrad.
inline GemmType te_linear_gemm_type(bool fp8_training, bool forward, bool mxfp8 = false) {
  if (!fp8_training) return GemmType::Bf16;
  if (mxfp8) return GemmType::Mxfp8;
  return forward ? GemmType::Fp8FastAccum : GemmType::Fp8SplitAccum;
}

// The efficiency table of each GEMM type, by the name calibration files, fit and check use.
inline const char* gemm_table_name(GemmType t) {
  switch (t) {
    case GemmType::Bf16: return "gemm";
    case GemmType::Fp8FastAccum: return "gemm_fp8_fast_accum";
    case GemmType::Fp8SplitAccum: return "gemm_fp8_split_accum";
    case GemmType::Mxfp8: return "gemm_mxfp8";
  }
  return "gemm";
}

inline bool is_fp8(GemmType t) { return t != GemmType::Bf16; }

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
// MXFP8: one E8M0 byte of scale per 32 elements beside each fp8 byte. Its scales run along the
// GEMM's reduction dimension, so the two layouts a tensor is read in (row-wise for fprop and dgrad's
// operand, column-wise for wgrad) are two quantizations, each 1 + 1/32 bytes an element
// (MXFP8Quantizer's rowwise and columnwise data), on any GPU.
inline constexpr double kMxfp8BytesPerElement = 1.0 + 1.0 / 32.0;

// MXFP8's block-scaled GEMMs against per-tensor fp8 ones on Blackwell, kernels alone: Transformer
// Engine's GEMM profiling guide on a B300 (docs/examples/gemm_profiling/gemm_profiling.rst,
// --pre-quantize: the 12 GEMMs of a hidden-4096, FFN-16384 layer at 15872 tokens, 10 warm-up and
// 100 timed calls) takes 7.161 ms a layer in MXFP8 and 6.812 ms in fp8 current scaling. The rate of
// the one over the other: 0.951. (cuDNN's batched fp8 GEMMs through flashinfer read 0.99 on a B200.)
inline constexpr double kMxfp8OverFp8Rate = 6.812 / 7.161;

// Bytes of one fp8 copy of an element: what an fp8 all-gather moves and a saved fp8 input keeps.
inline double fp8_element_bytes(bool mxfp8) { return mxfp8 ? kMxfp8BytesPerElement : 1.0; }

// fp8 bytes TE keeps of one element of a GEMM operand: the row-wise copy, and the transposed one
// where the GPU's fp8 GEMMs need it; MXFP8's row-wise and column-wise quantizations.
inline double fp8_copy_bytes_per_element(int64_t compute_capability, bool mxfp8 = false) {
  if (mxfp8) return 2.0 * kMxfp8BytesPerElement;
  return fp8_needs_transposed_copy(compute_capability) ? 2.0 : 1.0;
}

// HBM bytes per element of TE's quantize kernels: a cast reads bf16 (2) and writes one fp8 copy (1;
// MXFP8: one of its quantizations, 1 + 1/32); a transpose of an fp8 tensor reads one copy and writes
// the other (1 + 1).
inline double fp8_cast_bytes_per_element(bool mxfp8) { return 2.0 + fp8_element_bytes(mxfp8); }
inline constexpr double kFp8AmaxBytes = 4.0;  // one fp32 amax, all-reduced under tensorwise scaling
inline constexpr double kFp8TransposeBytesPerElement = 2.0;

// A quantize that writes every copy TE keeps: cast_transpose on TN-only GPUs, a plain cast elsewhere;
// MXFP8's kernel writes both of its quantizations from one read.
inline double fp8_quantize_bytes_per_element(int64_t compute_capability, bool mxfp8 = false) {
  return 2.0 + fp8_copy_bytes_per_element(compute_capability, mxfp8);
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

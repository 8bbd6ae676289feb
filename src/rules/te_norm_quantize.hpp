// How Transformer Engine's LayerNormLinear hands the norm's output to its fp8 GEMM: what the norm
// kernel writes and what quantize work is left after it. One definition for the workload builder
// (workload/layer_ops.cpp, column_forward) and its tests.
//
// TE picks one of three paths per call (transformer_engine/pytorch/csrc/extensions/normalization.cpp,
// layernorm_fwd and rmsnorm_fwd, "Choose implementation"), from the input quantizer and the
// environment variable NVTE_NORM_FWD_USE_CUDNN (the cuDNN norm kernels instead of TE's own; unset
// by default, set by Megatron-Bridge's performance launcher for some recipes):
// - per-tensor delayed scaling (Float8Quantizer): FULLY_FUSED, the norm writes fp8 with the scale it
//   already has;
// - MXFP8 (MXFP8Quantizer): FULLY_FUSED only with NVTE_NORM_FWD_USE_CUDNN and both dimensions of the
//   [rows, hidden] input multiples of 128 (cuDNN's MXFP8 kernel takes whole 128 x 128 tiles); else
//   UNFUSED: the norm writes bf16 and MXFP8's quantize kernel runs on it;
// - per-tensor current scaling (Float8CurrentScalingQuantizer, Megatron's "tensorwise"):
//   FUSED_NORM_AMAX_FP8 with TE's norm (it writes bf16 and the tensor's amax; the cast follows),
//   UNFUSED with NVTE_NORM_FWD_USE_CUDNN (cuDNN's norm has no amax output: the quantizer measures the
//   amax in a pass of its own, then casts);
// - NVFP4 (NVFP4Quantizer, the default NVFP4BlockScaling recipe): UNFUSED. Its input quantizer
//   applies the random Hadamard transform to the column-wise copy and measures the amax after it
//   (with_rht and with_post_rht_amax), which TE's norm cannot: the norm writes bf16 and the quantizer
//   runs whole (its amax pass, then the cast).
#pragma once

#include <cstdint>

namespace hcpsim::rules {

// The scaling a TE Linear's input quantizer uses (fp8, or NVFP4's 4-bit blocks).
enum class Fp8Scaling : uint8_t { DelayedPerTensor, CurrentPerTensor, Mxfp8Block, Nvfp4Block };

// What the norm kernel leaves its GEMM.
enum class NormFp8Output : uint8_t {
  Quantized,      // FULLY_FUSED: the norm wrote the fp8 tensor; no cast of its own
  Bf16WithAmax,   // FUSED_NORM_AMAX_FP8: bf16 and its amax; one cast kernel follows
  Bf16,           // UNFUSED: bf16; the quantizer runs whole (current scaling: amax pass, then cast)
};

inline constexpr int64_t kCudnnMxfp8NormTile = 128;

inline NormFp8Output te_norm_fp8_output(Fp8Scaling scaling, bool norm_fwd_use_cudnn, int64_t rows, int64_t hidden) {
  switch (scaling) {
    case Fp8Scaling::DelayedPerTensor: return NormFp8Output::Quantized;
    case Fp8Scaling::Mxfp8Block:
      return norm_fwd_use_cudnn && rows % kCudnnMxfp8NormTile == 0 && hidden % kCudnnMxfp8NormTile == 0
                 ? NormFp8Output::Quantized
                 : NormFp8Output::Bf16;
    case Fp8Scaling::CurrentPerTensor:
      return norm_fwd_use_cudnn ? NormFp8Output::Bf16 : NormFp8Output::Bf16WithAmax;
    case Fp8Scaling::Nvfp4Block: return NormFp8Output::Bf16;
  }
  return NormFp8Output::Bf16;
}

}  // namespace hcpsim::rules

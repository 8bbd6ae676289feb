// What TE's norm leaves its fp8 GEMM (rules/te_norm_quantize.hpp), case by case from the branches of
// transformer_engine/pytorch/csrc/extensions/normalization.cpp (rmsnorm_fwd, "Choose implementation").
#include <catch2/catch.hpp>

#include "rules/te_norm_quantize.hpp"

using namespace hcpsim::rules;

TEST_CASE("TE's norm under fp8: fused, amax-fused or unfused by recipe and NVTE_NORM_FWD_USE_CUDNN", "[rules]") {
  // Delayed scaling: the norm always writes fp8 (FULLY_FUSED for a Float8Quantizer).
  CHECK(te_norm_fp8_output(Fp8Scaling::DelayedPerTensor, false, 4096, 4096) == NormFp8Output::Quantized);
  CHECK(te_norm_fp8_output(Fp8Scaling::DelayedPerTensor, true, 4100, 4096) == NormFp8Output::Quantized);
  // Current scaling: TE's norm writes bf16 and its amax; cuDNN's has no amax output.
  CHECK(te_norm_fp8_output(Fp8Scaling::CurrentPerTensor, false, 4096, 4096) == NormFp8Output::Bf16WithAmax);
  CHECK(te_norm_fp8_output(Fp8Scaling::CurrentPerTensor, true, 4096, 4096) == NormFp8Output::Bf16);
  // MXFP8: fused only by cuDNN and only on whole 128 x 128 tiles (both dimensions multiples of 128).
  CHECK(te_norm_fp8_output(Fp8Scaling::Mxfp8Block, false, 4096, 4096) == NormFp8Output::Bf16);
  CHECK(te_norm_fp8_output(Fp8Scaling::Mxfp8Block, true, 4096, 4096) == NormFp8Output::Quantized);
  CHECK(te_norm_fp8_output(Fp8Scaling::Mxfp8Block, true, 4096 + 64, 4096) == NormFp8Output::Bf16);
  CHECK(te_norm_fp8_output(Fp8Scaling::Mxfp8Block, true, 4096, 4096 + 64) == NormFp8Output::Bf16);
}

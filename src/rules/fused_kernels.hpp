// Megatron's fused memory-bound kernels (software.fusions): each pass is its bytes (every tensor it
// reads and writes, once) at the HBM copy's efficiency times the fraction of the copy its kernels
// were measured at. The fractions are ratios of two HBM-streaming kernels timed in one process
// (calibrate/torch/probe_fused_ce.py on an H100, calibrate/RESULTS.md, twenty-eighth run), carried to
// every GPU as the copy's own efficiency is.
//
// The cross entropy, fused (cross_entropy_loss_fusion), over logits of e bytes an element; grad_output
// is Megatron's per-token tensor, never the scalar 1.0, so no backward skips its scaling:
// - "te" (cross_entropy_fusion_impl te; Transformer Engine's parallel_cross_entropy, Triton, read at
//   TE d0067d0): forward: an online-softmax pass reads the logits for each row's max and sum of
//   exp, a second reads them again and writes the gradient (softmax - onehot) and the loss.
//   TE >= 2.18 (PR #3193) writes that gradient in fp32: forward e + e + 4 B; backward scales it in
//   place (4 + 4) and the autograd engine casts it to the logits' dtype (4 + e). Before 2.18 it is
//   written over the logits: forward 3e, backward scaled in place, 2e.
// - "native" (Megatron-core's fused_vocab_parallel_cross_entropy, each step torch.compile'd, read at
//   Megatron-LM d98e8a6; the kernels Inductor made, by the probe's profile): forward: fp32 copy of
//   the logits with the row max (e + 4), subtract-exp-sum in place (4 + 4), divide in place (4 + 4);
//   backward: subtract the onehot and scale in place, written back, and cast (4 + 4 + e).
// Measured fractions of the copy (medians over 4K-16K tokens of vocabularies 8016-128256; the ranges
// are the rule's error): te fp32 gradient 0.92 forward (0.74-0.93: rows of 8016, Llama 3 at TP16,
// run at 0.74) and 0.99 backward (0.98-1.01); te in place 0.90 (0.72-0.92) and 0.98 (0.96-0.98);
// native 0.70 forward (0.70-0.82: rows of 32K or fewer run faster) and 0.98 (0.97-0.98).
//
// SwiGLU, fused (Megatron's bias_swiglu_impl without a bias, torch.compile'd): one kernel each way,
// forward 1.01 (1.007-1.014) and backward 0.92 (0.91-0.92) of the copy at 8K-16K tokens, FFN 7168-28672:
// the copy's efficiency forward, 0.92 backward.
//
// TE's fused RoPE (a CUDA kernel of TE) was not measured: the copy's efficiency.
#pragma once

#include <cstdint>

namespace hcpsim::rules {

// The widest error of the measured fused kernels' rule above (the cross entropy's forward at 8016-
// and 32064-element rows): their part of the band.
inline constexpr double kMeasuredFusedKernelBand = 0.2;

enum class CrossEntropyFusion : uint8_t { Native, Te };
inline constexpr CrossEntropyFusion kCrossEntropyFusions[] = {CrossEntropyFusion::Native, CrossEntropyFusion::Te};
inline const char* to_string(CrossEntropyFusion f) { return f == CrossEntropyFusion::Te ? "te" : "native"; }  // Megatron's names

struct FusedPass {
  double bytes_per_element = 0;  // HBM bytes read + written per logit
  double of_copy = 1;            // the measured fraction of the copy's efficiency
};

struct FusedCrossEntropy {
  FusedPass forward, backward;
  // Bytes per logit alive at the loss's peak: the logits and, beside them, the fp32 tensor the
  // backward needs (TE >= 2.18's gradient, native's softmax); TE before 2.18 keeps the logits alone.
  double peak_bytes_per_element = 0;
};

// TE writes the cross entropy's gradient in fp32 from 2.18 (PR #3193).
inline bool te_cross_entropy_fp32_gradient(int te_major, int te_minor) {
  return te_major > 2 || (te_major == 2 && te_minor >= 18);
}

// The fused loss `impl` under Transformer Engine te_major.te_minor, over logits of e bytes.
inline FusedCrossEntropy fused_cross_entropy(CrossEntropyFusion impl, int te_major, int te_minor, double e) {
  if (impl == CrossEntropyFusion::Native)
    return {.forward = {e + 4 + 8 + 8, 0.70}, .backward = {8 + e, 0.98}, .peak_bytes_per_element = e + 4};
  if (te_cross_entropy_fp32_gradient(te_major, te_minor))
    return {.forward = {2 * e + 4, 0.92}, .backward = {8 + 4 + e, 0.99}, .peak_bytes_per_element = e + 4};
  return {.forward = {3 * e, 0.90}, .backward = {2 * e, 0.98}, .peak_bytes_per_element = e};
}

inline constexpr double swiglu_fused_of_copy(bool backward) { return backward ? 0.92 : 1.0; }

}  // namespace hcpsim::rules

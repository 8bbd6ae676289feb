// Activation memory per rank and per transformer layer.
//
// Source: Korthikanti et al. 2022, "Reducing Activation Recomputation in Large Transformer
// Models" (arXiv 2205.05198), §4: per layer s*b*h*(34 + 5*a*s/h) bytes (fp16, GeLU MLP,
// dropout, materialised softmax), divided by t with tensor + sequence parallelism:
//   attention 11sbh + 5as^2b: QKV input 2sbh, Q,K 4sbh, V 2sbh, softmax 2as^2b,
//             softmax-dropout mask as^2b and output 2as^2b, proj input 2sbh, dropout mask sbh
//   MLP 19sbh: FC1 input 2sbh, GeLU input 8sbh, FC2 input 8sbh, dropout mask sbh
//   norms 4sbh: the two LayerNorm inputs.
// Adapted here (e = 2 bytes, per rank):
//   T = mbs * S / CP tokens (CP splits the sequence), h/t_sp where t_sp = TP with sequence
//   parallelism (norm inputs/outputs are SP-sharded, GEMM inputs are saved sharded and
//   re-gathered in backward) and 1 without; hq_r = hq/TP, hk_r = KV heads per TP rank,
//   ffn_r = ffn/TP, d = kv_channels.
//   - flash attention: no s^2 terms; it saves Q, K, V, O and the fp32 LSE.
//   - GQA: K and V have hk_r heads.
//   - SwiGLU: FC1 output (gate and up, 2*ffn_r) and the activation output (ffn_r) are saved.
//   - no dropout (Llama-style recipes set hidden/attention dropout to 0); fused RoPE saves
//     nothing beyond Q and K.
//   attn_pre  = T*e*(2h/t_sp + (hq_r + 2hk_r)*d)   norm1 input, norm1 output (QKV input), Q, K, V
//   attn_out  = T*e*hq_r*d                          O (flash output = output-proj input)
//   lse       = T*hq_r*4                            fp32 softmax LSE
//   mlp       = T*e*(2h/t_sp + 3*ffn_r)             norm2 in/out, FC1 output, SwiGLU output
//                                                   (non-gated: 2*ffn_r)
//   Check: MHA, GeLU (2*ffn_r = 8h), t = 1: 32sbh = Korthikanti's 34sbh minus the two dropout masks.
// fp8 training (Transformer Engine's per-tensor recipes): each TE Linear saves its input quantized,
// 1 byte an element (MXFP8: its column-wise copy with a scale byte per 32, 1 + 1/32), in place of
// the bf16 tensor (module/linear.py and layernorm_linear.py: the
// quantized input, kept row-wise where sequence parallelism re-gathers it in backward, else only
// its column-wise copy for wgrad; one byte either way). So the norms' outputs (QKV's and FC1's
// inputs) and FC2's input (the activation's output) drop to 1 byte; the projection's input is the
// attention output O, which the core attention keeps in bf16 for its own backward, so under the
// delayed recipe the projection's fp8 copy of it is one more tensor (proj_input_fp8 = T*1*hq_r*d).
// Under the current-scaling recipes (tensorwise, MXFP8) with TE >= 2.6 Megatron has linear_proj save
// its original input (attention.py, Attention.__init__: set_save_original_input; TE linear.py: the
// input kept as given, the fp8 copy for the forward GEMM only), which is O itself: no extra tensor,
// and it re-quantizes O in the backward (proj_saves_fp8_copy). The norms' inputs, Q, K, V, O and
// the activation's input (FC1's output) stay bf16. NVFP4 (TE >= 2.7) is as the current-scaling
// recipes: each saved GEMM input is its column-wise NVFP4 copy, 1/2 + 1/16 B an element, and
// linear_proj saves O itself (attention.py: config.fp4).
//   attn_pre  = T*(e*h/t_sp + 1*h/t_sp + e*(hq_r + 2hk_r)*d)
//   mlp       = T*(e*h/t_sp + 1*h/t_sp + e*2*ffn_r + 1*ffn_r)
// The CP transport may save one more tensor per layer (a2a-based: the post-a2a out, see
// memory_cp.hpp); it is added by the caller.
//
// Saved per layer for each recompute_granularity (Megatron):
//   none       attn_pre + attn_out + lse (+ transport extra) + mlp
//   selective  Megatron's default recompute_modules = ["core_attn"]: the core attention is a
//              checkpoint whose inputs Q, K, V are saved and whose internals (LSE, the
//              transport's own saved tensors) are dropped; O stays as the proj input:
//              attn_pre + attn_out + mlp (fp8 with the projection's fp8 copy: that copy in
//              place of O, attn_pre + proj_input_fp8 + mlp)
//   full       recompute_method uniform, 1 layer per checkpoint: only the layer input,
//              T*e*h/t_sp; the layer's full set is rebuilt during its backward.
#pragma once

#include "scenario/scenario.hpp"

namespace hcpsim {

// Whether the attention output projection saves an fp8 copy of its input (O) for its backward:
// fp8 training under the delayed recipe, or with Transformer Engine before 2.6 (see above).
bool proj_saves_fp8_copy(const Scenario& s);

struct LayerActivationBytes {
  double tokens_per_rank = 0;  // T = mbs * S / CP
  double layer_input_bytes = 0;  // residual stream entering the layer, T*e*h/t_sp
  double attn_pre_bytes = 0;
  double attn_out_bytes = 0;
  double proj_input_fp8_bytes = 0;  // the projection's quantized copy of O, where it keeps one
  double lse_bytes = 0;
  double mlp_bytes = 0;
  double no_recompute_bytes() const {
    return attn_pre_bytes + attn_out_bytes + proj_input_fp8_bytes + lse_bytes + mlp_bytes;
  }
};

// Under fp8 training a saved GEMM input is one fp8 copy: 1 byte an element, MXFP8's 1 + 1/32
// (rules::quantized_element_bytes).

LayerActivationBytes layer_activation_bytes(const Scenario& s);

// Bytes kept from forward to backward for one layer under recompute granularity r,
// given the transport's extra saved bytes per layer (memory_cp.hpp).
double saved_bytes_per_layer(const LayerActivationBytes& a, RecomputeGranularity r,
                             double cp_saved_extra_bytes);

}  // namespace hcpsim

// Host API of the context-parallel helper kernels: LSE merge and output correction of the
// forward ring, gradient accumulation into (half-)row ranges of the backward ring, and the
// pack/unpack kernels around the a2a (Ulysses) exchange with the DualChunkSwap reorder.
// Views are the bshd / LSE views of attn_api.h; "half rows" are addressed by offsetting the
// view's pointer by c rows (see cp_steps.h), so every kernel works on whole views.
#pragma once
#include <cuda_runtime.h>

#include "attn_api.h"

namespace hcpsim::kernels {

// lse_acc[b, h, i] = log(exp(lse_acc) + exp(lse_step)) for i < rows (TE's
// flash_attn_fwd_softmax_lse_correction; pass lse_acc offset by c for the second half).
void lse_merge(LseView lse_acc, LseView lse_step, int batch, int heads, int rows, cudaStream_t stream);

enum class OutAccum {
  kBf16,     // accumulator in the input dtype, as Transformer Engine's non-FP8 path does
  kFloat32,  // fp32 accumulator (finish with cast_f32_to_bf16)
};

struct OutCorrectionArgs {
  BshdView out_acc;     // bf16 or fp32 elements (per `accum`), heads x head_dim
  BshdView out_step;    // bf16 partial output of one step
  LseView lse_step;     // that step's LSE
  LseView lse_final;    // the merged LSE
  int batch = 1, rows = 0, heads = 0, head_dim = 0;
  OutAccum accum = OutAccum::kBf16;
  bool init = false;    // true: out_acc = term (first step), false: out_acc += term
};

// out_acc[b, i, h, :] (+)= exp(lse_step[b, h, i] - lse_final[b, h, i]) * out_step[b, i, h, :]
void out_correction(const OutCorrectionArgs& args, cudaStream_t stream);

// dst[b, i, h, :] = bf16(src) for an fp32 bshd view (head_dim elements per head).
void cast_f32_to_bf16(BshdView dst, BshdView src_f32, int batch, int rows, int heads, int head_dim,
                      cudaStream_t stream);

struct GradAccumArgs {
  BshdView dst;  // bf16, or fp32 when dst_f32
  BshdView src;  // bf16 kernel output (dQ, dK or dV of one step)
  int batch = 1, rows = 0, heads = 0, head_dim = 0;
  bool dst_f32 = false;
  bool copy = false;  // true: dst = src (first step), false: dst += src (fp32 math)
};

// Backward ring accumulation of dQ or dK/dV into the rows that took part in a step.
void grad_accumulate(const GradAccumArgs& args, cudaStream_t stream);

// a2a buffers are [N][batch][L][heads/N][head_dim] contiguous bf16 (L = local tokens = 2c):
// slot j is what goes to (pack) or came from (unpack) rank j of the a2a group.
struct A2aArgs {
  BshdView local;   // [batch, L, heads, d]: the rank's tokens in DualChunkSwap order
  BshdView full;    // [batch, N*L, heads/N, d]: the whole sequence in natural order
  void* buffer = nullptr;
  int batch = 1, local_rows = 0, heads = 0, head_dim = 0, ranks = 1;
};

// Before attention: local -> send buffer, slot j holds heads [j*h/N, (j+1)*h/N).
void a2a_pack_seq_to_heads(const A2aArgs& args, cudaStream_t stream);
// After the exchange: receive buffer -> full; rank r's chunk 0 becomes sequence chunk r and
// its chunk 1 sequence chunk 2N-1-r (TE's get_seq_chunk_ids_for_reordering_before_attn).
void a2a_unpack_seq_to_heads(const A2aArgs& args, cudaStream_t stream);
// After attention: full -> send buffer, slot r holds sequence chunks r and 2N-1-r.
void a2a_pack_heads_to_seq(const A2aArgs& args, cudaStream_t stream);
// After the exchange: receive buffer -> local, slot j filling heads [j*h/N, (j+1)*h/N).
void a2a_unpack_heads_to_seq(const A2aArgs& args, cudaStream_t stream);

}  // namespace hcpsim::kernels

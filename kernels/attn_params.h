// Device-side parameter blocks of the attention kernels and their construction from the
// host API's views (shared by the forward and backward launchers).
#pragma once
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <cuda_bf16.h>

#include "attn_api.h"

namespace hcpsim::kernels::detail {

// Strides of one bshd tensor, in elements.
struct Strides {
  int64_t batch, row, head;
};

inline Strides strides_of(const BshdView& v) { return {v.batch_stride, v.row_stride, v.head_stride}; }

inline float effective_scale(const AttnShape& s) {
  return s.softmax_scale > 0.f ? s.softmax_scale : 1.0f / std::sqrt(static_cast<float>(s.head_dim));
}

// The kernels copy 16-byte row segments: pointers and strides must allow that.
inline void check_view(const BshdView& v, const char* name) {
  const bool aligned = reinterpret_cast<uintptr_t>(v.ptr) % 16 == 0 && v.batch_stride % 8 == 0 &&
                       v.row_stride % 8 == 0 && v.head_stride % 8 == 0;
  if (v.ptr == nullptr || !aligned) {
    throw std::invalid_argument(std::string("attention: tensor '") + name +
                                "' must be non-null with 16-byte aligned pointer and strides");
  }
}

inline void check_shape(const AttnShape& s) {
  if (s.head_dim != 64 && s.head_dim != 128) throw std::invalid_argument("attention: head_dim must be 64 or 128");
  if (s.batch < 1 || s.seqlen_q < 0 || s.seqlen_kv < 0 || s.heads_q < 1 || s.heads_kv < 1 ||
      s.heads_q % s.heads_kv != 0) {
    throw std::invalid_argument("attention: need batch >= 1, seqlens >= 0, heads_q a multiple of heads_kv");
  }
  if (s.causal_offset < 0) throw std::invalid_argument("attention: causal_offset must be >= 0");
}

struct FwdParams {
  const __nv_bfloat16 *q, *k, *v;
  __nv_bfloat16* o;
  float* lse;
  Strides qs, ks, vs, os;
  int64_t lse_batch, lse_head;
  int seqlen_q, seqlen_kv, heads_q, group;  // group = query heads per KV head
  int causal_offset;                        // AttnShape::causal_offset (0 unless causal)
  int heads_fastest;                        // launch order, see launch_order_heads_fastest()
  float scale_log2;                         // softmax_scale * log2(e)
};

// Launch order of the (head, block) grid. Heads-fastest starts every head's heaviest causal
// block first, which shortens the tail of small grids; block-fastest keeps one head's K/V hot
// in L2 while its blocks run, which wins for large grids (measured, kernels/NOTES.md v5).
inline int num_sms() {
  int device = 0, sms = 0;
  HCPSIM_CUDA_CHECK(cudaGetDevice(&device));
  HCPSIM_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  return sms;
}

inline bool launch_order_heads_fastest(int64_t ctas, int ctas_per_wave) { return ctas <= 4 * ctas_per_wave; }

struct BwdParams {
  const __nv_bfloat16 *q, *k, *v, *o, *d_o;
  const float* lse;
  __nv_bfloat16 *dq, *dk, *dv;
  float* dq_accum;  // [b, sq, hq, d] fp32, zeroed before the main kernel
  float* delta;     // [b, hq, stat_stride] fp32: rowsum(dO * O)
  float* lse_log2;  // [b, hq, stat_stride] fp32: lse * log2(e), copied to shared memory asynchronously
  int stat_stride;  // seqlen_q rounded up to 4 floats: TMA row strides are multiples of 16 bytes
  float *dk_accum, *dv_accum;  // [b, skv, hk, d] fp32, zeroed; used when head_split > 1
  int head_split;              // CTAs per KV head, each taking group / head_split query heads
  Strides qs, ks, vs, os, dos, dqs, dks, dvs;
  int64_t lse_batch, lse_head;
  int seqlen_q, seqlen_kv, heads_q, heads_kv, group, head_dim;
  int causal_offset;  // AttnShape::causal_offset (0 unless causal)
  int heads_fastest;  // launch order, see launch_order_heads_fastest()
  float scale, scale_log2;
};

}  // namespace hcpsim::kernels::detail

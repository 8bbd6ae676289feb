// Device helpers shared by the two backward main kernels (mma.sync and wgmma).
#pragma once
#include <cstdint>

#include "attn_params.h"
#include "mma.cuh"

namespace hcpsim::kernels::detail {

// *addr += (a, b) in fp32, one 8-byte reduction in L2 (the dQ accumulator).
__device__ __forceinline__ void red_add_v2(float* addr, float a, float b) {
  asm volatile("red.global.add.v2.f32 [%0], {%1, %2};\n" ::"l"(addr), "f"(a), "f"(b) : "memory");
}

// Stages lse*log2(e) and delta of query rows [m0, m0 + kRows) of head h into shared memory
// with cp.async (threads 0 .. 2*kRows-1 issue one 4-byte copy each). Rows past the end read
// as 0: their Q and dO rows are zero-filled too, so they add nothing to dK/dV, and their dQ
// is never stored.
template <int kRows>
__device__ __forceinline__ void load_row_stats(const BwdParams& p, int b, int h, int m0, float* s_lse, float* s_delta,
                                               int tid) {
  if (tid >= 2 * kRows) return;
  const int r = tid % kRows;
  const bool valid = m0 + r < p.seqlen_q;
  const int64_t stat = (static_cast<int64_t>(b) * p.heads_q + h) * p.stat_stride + (valid ? m0 + r : 0);
  float* dst = (tid < kRows ? s_lse : s_delta) + r;
  cp_async_4(smem_u32(dst), (tid < kRows ? p.lse_log2 : p.delta) + stat, valid);
}

}  // namespace hcpsim::kernels::detail

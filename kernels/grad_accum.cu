// Backward-ring accumulation (docs/cp-transports.md §2.5): a step's dQ (or dK/dV) is copied or
// added into the rows of the running buffer that took part in the step. TE keeps those
// buffers in the input dtype (bf16); the fp32 option measures the alternative.
#include <stdexcept>
#include <cuda_bf16.h>

#include "cp_ops.h"
#include "elementwise.cuh"

namespace hcpsim::kernels {
namespace {

// dst[b, i, h, c:c+8] = (copy ? 0 : dst) + src      fp32 math, 8 elements per thread
template <bool kDstF32>
__global__ void grad_accumulate_kernel(const GradAccumArgs a) {
  const int b = blockIdx.y;
  detail::for_each_vec8(a.rows, a.heads, a.head_dim, [&](int64_t i, int64_t h, int64_t c) {
    const uint4 raw = *reinterpret_cast<const uint4*>(static_cast<const __nv_bfloat16*>(a.src.ptr) +
                                                      b * a.src.batch_stride + i * a.src.row_stride +
                                                      h * a.src.head_stride + c);
    const auto* sv = reinterpret_cast<const __nv_bfloat162*>(&raw);
    const int64_t off = b * a.dst.batch_stride + i * a.dst.row_stride + h * a.dst.head_stride + c;
    if constexpr (kDstF32) {
      auto* dst = reinterpret_cast<float2*>(static_cast<float*>(a.dst.ptr) + off);
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        const float2 s = __bfloat1622float2(sv[j]);
        const float2 d = a.copy ? make_float2(0.f, 0.f) : dst[j];
        dst[j] = make_float2(d.x + s.x, d.y + s.y);
      }
    } else {
      auto* dst = reinterpret_cast<uint4*>(static_cast<__nv_bfloat16*>(a.dst.ptr) + off);
      if (a.copy) {
        *dst = raw;
        return;
      }
      uint4 cur = *dst;
      auto* cv = reinterpret_cast<__nv_bfloat162*>(&cur);
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        const float2 s = __bfloat1622float2(sv[j]);
        const float2 d = __bfloat1622float2(cv[j]);
        cv[j] = __floats2bfloat162_rn(d.x + s.x, d.y + s.y);
      }
      *dst = cur;
    }
  });
}

}  // namespace

void grad_accumulate(const GradAccumArgs& a, cudaStream_t stream) {
  if (a.dst.ptr == nullptr || a.src.ptr == nullptr || a.batch < 1 || a.rows < 0 || a.heads < 1 ||
      a.head_dim < 8 || a.head_dim % 8 != 0) {
    throw std::invalid_argument("grad_accumulate: null view or bad dimensions");
  }
  if (a.rows == 0) return;
  const dim3 grid = detail::vec8_grid(a.rows, a.heads, a.head_dim, a.batch);
  if (a.dst_f32) {
    grad_accumulate_kernel<true><<<grid, 256, 0, stream>>>(a);
  } else {
    grad_accumulate_kernel<false><<<grid, 256, 0, stream>>>(a);
  }
  HCPSIM_CUDA_CHECK_LAUNCH();
}

}  // namespace hcpsim::kernels

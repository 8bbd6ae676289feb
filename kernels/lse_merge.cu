// Forward-ring merge kernels (docs/cp-transports.md §2.4): the running LSE update and the final
// output correction, fp32 math, with the accumulator in bf16 (TE's behaviour) or fp32.
#include <cmath>
#include <stdexcept>
#include <cuda_bf16.h>

#include "cp_ops.h"
#include "elementwise.cuh"

namespace hcpsim::kernels {
namespace {
using detail::for_each_vec8;
using detail::vec8_grid;

// lse = max(a, b) + log1p(exp(min(a, b) - max(a, b)))   one thread per (b, h, i)
__global__ void lse_merge_kernel(LseView acc, LseView step, int heads, int rows) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  const int h = blockIdx.y, b = blockIdx.z;
  if (i >= rows) return;
  float* a = acc.ptr + b * acc.batch_stride + h * acc.head_stride + i;
  const float s = step.ptr[b * step.batch_stride + h * step.head_stride + i];
  const float hi = fmaxf(*a, s), lo = fminf(*a, s);
  // Both -inf (a row that saw no key yet) stays -inf instead of NaN.
  *a = hi == -INFINITY ? -INFINITY : hi + log1pf(expf(lo - hi));
}

// 8 elements per thread: out_acc[b, i, h, c:c+8] (+)= exp(lse_step - lse_final) * out_step[...]
template <bool kAccF32>
__global__ void out_correction_kernel(const OutCorrectionArgs a) {
  const int b = blockIdx.y;
  for_each_vec8(a.rows, a.heads, a.head_dim, [&](int64_t i, int64_t h, int64_t c) {
    const float w = expf(a.lse_step.ptr[b * a.lse_step.batch_stride + h * a.lse_step.head_stride + i] -
                         a.lse_final.ptr[b * a.lse_final.batch_stride + h * a.lse_final.head_stride + i]);
    const auto* src = static_cast<const __nv_bfloat16*>(a.out_step.ptr) + b * a.out_step.batch_stride +
                      i * a.out_step.row_stride + h * a.out_step.head_stride + c;
    const uint4 raw = *reinterpret_cast<const uint4*>(src);
    const auto* sv = reinterpret_cast<const __nv_bfloat162*>(&raw);
    float term[8];
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const float2 f = __bfloat1622float2(sv[j]);
      term[2 * j] = w * f.x;
      term[2 * j + 1] = w * f.y;
    }
    const int64_t off = b * a.out_acc.batch_stride + i * a.out_acc.row_stride + h * a.out_acc.head_stride + c;
    if constexpr (kAccF32) {
      auto* dst = reinterpret_cast<float4*>(static_cast<float*>(a.out_acc.ptr) + off);
      float4 x = a.init ? make_float4(0.f, 0.f, 0.f, 0.f) : dst[0];
      float4 y = a.init ? make_float4(0.f, 0.f, 0.f, 0.f) : dst[1];
      dst[0] = make_float4(x.x + term[0], x.y + term[1], x.z + term[2], x.w + term[3]);
      dst[1] = make_float4(y.x + term[4], y.y + term[5], y.z + term[6], y.w + term[7]);
    } else {
      auto* dst = reinterpret_cast<uint4*>(static_cast<__nv_bfloat16*>(a.out_acc.ptr) + off);
      uint4 cur = a.init ? make_uint4(0, 0, 0, 0) : *dst;
      auto* cv = reinterpret_cast<__nv_bfloat162*>(&cur);
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        const float2 f = __bfloat1622float2(cv[j]);
        // out += term in the input dtype: one bf16 rounding per step, as torch's bf16 add
        cv[j] = __floats2bfloat162_rn(f.x + term[2 * j], f.y + term[2 * j + 1]);
      }
      *dst = cur;
    }
  });
}

__global__ void cast_kernel(BshdView dst, BshdView src, int rows, int heads, int head_dim) {
  const int b = blockIdx.y;
  for_each_vec8(rows, heads, head_dim, [&](int64_t i, int64_t h, int64_t c) {
    const auto* s = reinterpret_cast<const float4*>(static_cast<const float*>(src.ptr) + b * src.batch_stride +
                                                    i * src.row_stride + h * src.head_stride + c);
    const float4 x = s[0], y = s[1];
    uint4 out;
    auto* ov = reinterpret_cast<__nv_bfloat162*>(&out);
    ov[0] = __floats2bfloat162_rn(x.x, x.y);
    ov[1] = __floats2bfloat162_rn(x.z, x.w);
    ov[2] = __floats2bfloat162_rn(y.x, y.y);
    ov[3] = __floats2bfloat162_rn(y.z, y.w);
    *reinterpret_cast<uint4*>(static_cast<__nv_bfloat16*>(dst.ptr) + b * dst.batch_stride + i * dst.row_stride +
                              h * dst.head_stride + c) = out;
  });
}

void check_dims(int batch, int rows, int heads, int head_dim) {
  if (batch < 1 || rows < 0 || heads < 1 || head_dim < 8 || head_dim % 8 != 0) {
    throw std::invalid_argument("cp merge: need batch, heads >= 1 and head_dim a multiple of 8");
  }
}

}  // namespace

void lse_merge(LseView acc, LseView step, int batch, int heads, int rows, cudaStream_t stream) {
  if (acc.ptr == nullptr || step.ptr == nullptr || batch < 1 || heads < 1 || rows < 0) {
    throw std::invalid_argument("lse_merge: null view or bad dimensions");
  }
  if (rows == 0) return;
  lse_merge_kernel<<<dim3((rows + 255) / 256, heads, batch), 256, 0, stream>>>(acc, step, heads, rows);
  HCPSIM_CUDA_CHECK_LAUNCH();
}

void out_correction(const OutCorrectionArgs& a, cudaStream_t stream) {
  check_dims(a.batch, a.rows, a.heads, a.head_dim);
  if (a.out_acc.ptr == nullptr || a.out_step.ptr == nullptr || a.lse_step.ptr == nullptr || a.lse_final.ptr == nullptr) {
    throw std::invalid_argument("out_correction: null view");
  }
  if (a.rows == 0) return;
  const dim3 grid = vec8_grid(a.rows, a.heads, a.head_dim, a.batch);
  if (a.accum == OutAccum::kFloat32) {
    out_correction_kernel<true><<<grid, 256, 0, stream>>>(a);
  } else {
    out_correction_kernel<false><<<grid, 256, 0, stream>>>(a);
  }
  HCPSIM_CUDA_CHECK_LAUNCH();
}

void cast_f32_to_bf16(BshdView dst, BshdView src, int batch, int rows, int heads, int head_dim, cudaStream_t stream) {
  check_dims(batch, rows, heads, head_dim);
  if (rows == 0) return;
  cast_kernel<<<vec8_grid(rows, heads, head_dim, batch), 256, 0, stream>>>(
      dst, src, rows, heads, head_dim);
  HCPSIM_CUDA_CHECK_LAUNCH();
}

}  // namespace hcpsim::kernels

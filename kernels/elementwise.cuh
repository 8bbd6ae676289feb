// Grid-stride iteration shared by the memory-bound CP kernels: each thread handles 8
// consecutive head_dim elements (16 bytes of bf16) of a [rows, heads, head_dim] slab of the
// batch entry blockIdx.y.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cuda_runtime.h>

namespace hcpsim::kernels::detail {

// fn(row, head, col) for every 8-element vector; col is the vector's first column.
template <class Fn>
__device__ __forceinline__ void for_each_vec8(int rows, int heads, int head_dim, Fn fn) {
  const int64_t vec = head_dim / 8;
  const int64_t total = static_cast<int64_t>(rows) * heads * vec;
  for (int64_t idx = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; idx < total;
       idx += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    fn(idx / (vec * heads), (idx / vec) % heads, (idx % vec) * 8);
  }
}

// Launch grid for for_each_vec8 with 256-thread blocks (capped; the loop strides over the rest).
inline dim3 vec8_grid(int rows, int heads, int head_dim, int batch) {
  const int64_t vectors = static_cast<int64_t>(rows) * heads * (head_dim / 8);
  return dim3(static_cast<unsigned>(std::max<int64_t>(1, std::min<int64_t>((vectors + 255) / 256, 8192))), batch);
}

}  // namespace hcpsim::kernels::detail

// Tiles in the 128-byte-swizzled shared-memory layout that wgmma descriptors read
// (PTX ISA "Shared memory matrix layout", swizzle mode 128B): a [kRows][128] bf16 tile is two
// 64-column halves of [kRows][128 bytes]; 16-byte chunk c of row r lands in half c/8 at byte
// r*128 + ((c%8) ^ (r%8))*16. The tile base must be 1024-byte aligned.
#pragma once
#include <cstdint>
#include <cuda_bf16.h>

#include "mma.cuh"

namespace hcpsim::kernels::detail {

template <int kRows>
__host__ __device__ constexpr uint32_t sw128_half_bytes() {
  return kRows * 128;
}

// Byte offset of (row, 16-byte chunk of a 128-column row) in a [kRows][128] tile.
template <int kRows>
__device__ __forceinline__ uint32_t sw128_offset(int row, int chunk) {
  return (chunk / 8) * sw128_half_bytes<kRows>() + row * 128 + (((chunk % 8) ^ (row % 8)) * 16);
}

// cp.async copy of a [kRows][128] bf16 tile; rows at or past valid_rows are zero-filled.
template <int kRows, int kThreads>
__device__ __forceinline__ void load_tile_sw128(uint32_t base, const __nv_bfloat16* gmem, int64_t row_stride,
                                                int valid_rows, int tid) {
  constexpr int kRowStep = kThreads / 16;
  static_assert(kRowStep % 8 == 0 && kRows % kRowStep == 0, "each thread's rows must share one swizzle phase");
  const int row0 = tid / 16, chunk = tid % 16;
  const __nv_bfloat16* src = gmem + row0 * row_stride + chunk * 8;
  const uint32_t dst = base + sw128_offset<kRows>(row0, chunk);
#pragma unroll
  for (int i = 0; i < kRows / kRowStep; ++i) {
    const bool valid = row0 + i * kRowStep < valid_rows;
    cp_async_16(dst + i * kRowStep * 128, valid ? src + i * kRowStep * row_stride : gmem, valid);
  }
}

}  // namespace hcpsim::kernels::detail

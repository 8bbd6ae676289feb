// Tiles in the 128-byte-swizzled shared-memory layout that wgmma descriptors read and TMA
// writes (PTX ISA "Shared memory matrix layout", swizzle mode 128B; CU_TENSOR_MAP_SWIZZLE_128B):
// a [kRows][128] bf16 tile is two 64-column halves of [kRows][128 bytes]; 16-byte chunk c of
// row r lands in half c/8 at byte r*128 + ((c%8) ^ (r%8))*16. Tile bases are 1024-byte aligned.
#pragma once
#include <cstdint>

namespace hcpsim::kernels::detail {

// Bytes of one 64-column half of a [kRows][128] tile: the offset between the halves, which is
// the leading byte offset of an MN-major descriptor whose N spans both halves.
template <int kRows>
__host__ __device__ constexpr uint32_t sw128_half_bytes() {
  return kRows * 128;
}

}  // namespace hcpsim::kernels::detail

// Warp-level tensor-core and copy primitives for the sm_90 attention kernels.
// Fragment layouts are those of mma.sync.m16n8k16 (PTX ISA, "Matrix fragments for mma.m16n8k16"):
//   A 16x16 row-major: a0 (r, 2q..2q+1), a1 (r+8, ..), a2 (r, 8+2q..), a3 (r+8, 8+2q..)
//   B 16x8:            b0 (k=2q..2q+1, n=r), b1 (k=8+2q.., n=r)
//   C 16x8 fp32:       c0,c1 (r, 2q..2q+1), c2,c3 (r+8, 2q..2q+1)
// with r = lane/4 and q = lane%4.
#pragma once
#include <cstdint>
#include <cuda_bf16.h>

namespace hcpsim::kernels::detail {

constexpr float kLog2e = 1.4426950408889634f;
constexpr float kLn2 = 0.6931471805599453f;

__device__ __forceinline__ uint32_t smem_u32(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

// 16-byte global->shared copy; src_bytes = 0 zero-fills (rows past the sequence end).
__device__ __forceinline__ void cp_async_16(uint32_t dst, const void* src, bool valid) {
  const int src_bytes = valid ? 16 : 0;
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src), "r"(src_bytes));
}
// 4-byte variant (row statistics); src_bytes = 0 zero-fills.
__device__ __forceinline__ void cp_async_4(uint32_t dst, const void* src, bool valid) {
  const int src_bytes = valid ? 4 : 0;
  asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;\n" ::"r"(dst), "l"(src), "r"(src_bytes));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N>
__device__ __forceinline__ void cp_async_wait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(N)); }

__device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], uint32_t addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(addr));
}
__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t (&r)[4], uint32_t addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(addr));
}

// c += a * b, bf16 inputs, fp32 accumulators.
__device__ __forceinline__ void mma_bf16(float (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// Both n8 halves of one 16x16 B fragment: c0 += a x (b[0], b[1]), c1 += a x (b[2], b[3]).
__device__ __forceinline__ void mma_bf16_pair(float (&c0)[4], float (&c1)[4], const uint32_t (&a)[4],
                                              const uint32_t (&b)[4]) {
  mma_bf16(c0, a, b[0], b[1]);
  mma_bf16(c1, a, b[2], b[3]);
}

__device__ __forceinline__ uint32_t pack_bf16(float lo, float hi) {
  __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
  return *reinterpret_cast<uint32_t*>(&v);
}

// Shared tiles hold rows of `kChunks` 16-byte chunks; chunk c of row r is stored at
// chunk c ^ (r % 8), so the 8 row addresses of one ldmatrix hit 8 different bank groups.
template <int kChunks>
__device__ __forceinline__ uint32_t swz(int row, int chunk) {
  return static_cast<uint32_t>((row * kChunks + (chunk ^ (row & 7))) * 16);
}

// Byte offset, inside a [rows][kChunks*8] bf16 tile, of the 16-byte row segment this lane
// hands to ldmatrix for the 16x16 block at (row0, col0), in the four address patterns used.
// A operand, tile stored [m][k]:                 matrices (m0,k0) (m8,k0) (m0,k8) (m8,k8)
template <int kChunks>
__device__ __forceinline__ uint32_t lds_a(int lane, int row0, int col0) {
  return swz<kChunks>(row0 + (lane & 15), (col0 >> 3) + (lane >> 4));
}
// B operand (two n8 tiles), tile stored [n][k]:  matrices (n0,k0) (n0,k8) (n8,k0) (n8,k8)
template <int kChunks>
__device__ __forceinline__ uint32_t lds_b(int lane, int n0, int k0) {
  return swz<kChunks>(n0 + (lane & 7) + ((lane >> 4) << 3), (k0 >> 3) + ((lane >> 3) & 1));
}
// B operand (two n8 tiles), tile stored [k][n], used with ldmatrix .trans.
template <int kChunks>
__device__ __forceinline__ uint32_t lds_b_trans(int lane, int k0, int n0) {
  return swz<kChunks>(k0 + (lane & 7) + (((lane >> 3) & 1) << 3), (n0 >> 3) + (lane >> 4));
}
// A operand, tile stored [k][m], used with ldmatrix .trans.
template <int kChunks>
__device__ __forceinline__ uint32_t lds_a_trans(int lane, int k0, int m0) {
  return swz<kChunks>(k0 + (lane & 7) + ((lane >> 4) << 3), (m0 >> 3) + ((lane >> 3) & 1));
}

// acc[mt][n] += A B^T for a warp's MT x 2 NN tiles of 16x8: A rows a_row0 + 16 mt + [0, 16),
// B rows b_row0 + 8 n + [0, 8), both stored row-major over the K columns ([rows][K]) in
// swizzled shared memory of kChunksA / kChunksB 16-byte chunks per row.
//   s = q @ k.T (forward scores), st = k @ q.T and dpt = v @ dO.T (backward)
template <int MT, int NN, int K, int kChunksA, int kChunksB>
__device__ __forceinline__ void warp_mma_abt(float (&acc)[MT][2 * NN][4], uint32_t sA, int a_row0, uint32_t sB,
                                             int b_row0, int lane) {
#pragma unroll
  for (int kk = 0; kk < K / 16; ++kk) {
    uint32_t a[MT][4];
#pragma unroll
    for (int mt = 0; mt < MT; ++mt) ldmatrix_x4(a[mt], sA + lds_a<kChunksA>(lane, a_row0 + 16 * mt, kk * 16));
#pragma unroll
    for (int nn = 0; nn < NN; ++nn) {
      uint32_t b[4];
      ldmatrix_x4(b, sB + lds_b<kChunksB>(lane, b_row0 + 16 * nn, kk * 16));
#pragma unroll
      for (int mt = 0; mt < MT; ++mt) mma_bf16_pair(acc[mt][2 * nn], acc[mt][2 * nn + 1], a[mt], b);
    }
  }
}

// Copies a [rows][kChunks*8] bf16 tile from global (row stride in elements) into the
// swizzled shared layout; rows at or past `valid_rows` are zero-filled. Each thread keeps
// one chunk column and steps down by kRowStep rows, so its addresses are one base plus a
// constant stride (few live registers) and its swizzle term (row % 8) never changes.
template <int kRows, int kChunks, int kThreads>
__device__ __forceinline__ void load_tile(uint32_t smem_base, const __nv_bfloat16* gmem, int64_t row_stride,
                                          int valid_rows, int tid) {
  constexpr int kRowStep = kThreads / kChunks;
  static_assert(kThreads % kChunks == 0 && kRowStep % 8 == 0 && kRows % kRowStep == 0,
                "tile copy must divide evenly among threads");
  const int row0 = tid / kChunks;
  const int chunk = tid % kChunks;
  const __nv_bfloat16* src = gmem + row0 * row_stride + chunk * 8;
  const uint32_t dst = smem_base + swz<kChunks>(row0, chunk);
#pragma unroll
  for (int i = 0; i < kRows / kRowStep; ++i) {
    const bool valid = row0 + i * kRowStep < valid_rows;
    cp_async_16(dst + i * kRowStep * kChunks * 16, valid ? src + i * kRowStep * row_stride : gmem, valid);
  }
}

}  // namespace hcpsim::kernels::detail

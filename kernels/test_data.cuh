// Device kernels that make and check test data, shared by hcpcal and the kernel benchmark.
#pragma once
#include <cstddef>
#include <cstdint>

#include <cuda_bf16.h>

namespace hcpsim::kernels {

// Deterministic pseudo-random bf16 values of unit variance (a sum of 4 xorshift uniforms,
// roughly normal): never zeros, which hide unwritten outputs and run faster than real data.
static __global__ void fill_random_bf16_kernel(__nv_bfloat16* p, size_t n, uint32_t seed) {
  for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<size_t>(gridDim.x) * blockDim.x) {
    uint32_t x = static_cast<uint32_t>(i) * 2654435761u ^ seed ^ static_cast<uint32_t>(i >> 32) * 40503u;
    float acc = 0.f;
    for (int k = 0; k < 4; ++k) {
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      acc += (x & 0xffffff) / 16777216.0f - 0.5f;
    }
    p[i] = __float2bfloat16(acc * 1.7320508f);  // unit variance
  }
}

// Adds the number of non-finite elements of p[0, n) to *count (outputs are poisoned with NaN
// before a checked call, so a non-finite element is one the kernel did not write).
static __global__ void count_nonfinite_bf16_kernel(const __nv_bfloat16* p, size_t n, unsigned long long* count) {
  unsigned long long local = 0;
  for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<size_t>(gridDim.x) * blockDim.x)
    local += !isfinite(__bfloat162float(p[i]));
  if (local) atomicAdd(count, local);
}

}  // namespace hcpsim::kernels

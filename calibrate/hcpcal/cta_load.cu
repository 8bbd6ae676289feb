// Loads that occupy k CTAs (cta_load.cuh).
#include "cta_load.cuh"
#include "cuda_check.h"

namespace hcpcal {

namespace {

__global__ void cta_copy_kernel(const int4* __restrict__ src, int4* __restrict__ dst, size_t n16) {
  const size_t stride = size_t(gridDim.x) * blockDim.x;
  for (size_t i = size_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n16; i += stride) dst[i] = src[i];
}

__global__ void cta_spin_kernel(long long cycles) {
  const long long t0 = clock64();
  while (clock64() - t0 < cycles) {
  }
}

}  // namespace

void cta_copy(const void* src, void* dst, size_t bytes, int ctas, cudaStream_t s) {
  cta_copy_kernel<<<ctas, kCtaLoadThreads, 0, s>>>(static_cast<const int4*>(src), static_cast<int4*>(dst), bytes / 16);
  HCPSIM_CUDA_CHECK(cudaGetLastError());
}

void cta_spin(long long cycles, int ctas, cudaStream_t s) {
  cta_spin_kernel<<<ctas, kCtaLoadThreads, 0, s>>>(cycles);
  HCPSIM_CUDA_CHECK(cudaGetLastError());
}

}  // namespace hcpcal

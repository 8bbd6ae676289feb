#include "cp_check.h"

#include <cuda_bf16.h>

#include "cuda_check.h"

namespace hcpcal {

namespace {

__global__ void count_far_kernel(const __nv_bfloat16* a, const __nv_bfloat16* ref, size_t n, float atol, float rtol,
                                 unsigned long long* count) {
  unsigned long long local = 0;
  for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<size_t>(gridDim.x) * blockDim.x) {
    const float x = __bfloat162float(a[i]), y = __bfloat162float(ref[i]);
    local += !(fabsf(x - y) <= atol + rtol * fabsf(y));
  }
  if (local) atomicAdd(count, local);
}

}  // namespace

long long count_far_bf16(const void* a, const void* ref, size_t n, float atol, float rtol, cudaStream_t s) {
  unsigned long long* d = nullptr;
  HCPSIM_CUDA_CHECK(cudaMallocAsync(&d, sizeof *d, s));
  HCPSIM_CUDA_CHECK(cudaMemsetAsync(d, 0, sizeof *d, s));
  count_far_kernel<<<1024, 256, 0, s>>>(static_cast<const __nv_bfloat16*>(a), static_cast<const __nv_bfloat16*>(ref),
                                        n, atol, rtol, d);
  HCPSIM_CUDA_CHECK_LAUNCH();
  unsigned long long h = 0;
  HCPSIM_CUDA_CHECK(cudaMemcpyAsync(&h, d, sizeof h, cudaMemcpyDeviceToHost, s));
  HCPSIM_CUDA_CHECK(cudaFreeAsync(d, s));
  HCPSIM_CUDA_CHECK(cudaStreamSynchronize(s));
  return static_cast<long long>(h);
}

}  // namespace hcpcal

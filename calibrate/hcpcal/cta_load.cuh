// Loads that occupy a chosen number of CTAs, standing in for NCCL's kernels beside compute
// (NCCL runs one CTA per channel; docs/nccl.md): a copy of `bytes` through k CTAs (HBM
// traffic at the rate k CTAs reach: it reads and writes every byte), and a spin that holds
// k CTAs busy for `cycles` SM cycles without touching memory (SM share only).
#pragma once
#include <cuda_runtime.h>

#include <cstddef>

namespace hcpcal {

constexpr int kCtaLoadThreads = 512;  // NCCL's Simple/LL kernels run 512 threads per CTA

// dst[0, bytes) = src[0, bytes) by `ctas` CTAs of kCtaLoadThreads; bytes % 16 == 0.
void cta_copy(const void* src, void* dst, size_t bytes, int ctas, cudaStream_t s);
// `ctas` CTAs of kCtaLoadThreads spin for `cycles` SM cycles each.
void cta_spin(long long cycles, int ctas, cudaStream_t s);

}  // namespace hcpcal

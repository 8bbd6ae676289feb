// Element check of CP attention outputs against the single-GPU reference.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>

namespace hcpcal {

// Number of bf16 elements with |a - ref| > atol + rtol |ref| (NaN counts as wrong).
long long count_far_bf16(const void* a, const void* ref, size_t n, float atol, float rtol, cudaStream_t s);

}  // namespace hcpcal

// Device buffers, random inputs and timing shared by hcpcal's suites.
#pragma once
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "cuda_check.h"
#include "options.h"
#include "results.h"

namespace hcpcal {

// One cudaMalloc'ed buffer (plain device memory, never managed).
struct DeviceBuffer {
  void* ptr = nullptr;
  size_t bytes = 0;
  explicit DeviceBuffer(size_t b);
  ~DeviceBuffer();
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  __nv_bfloat16* bf16() const { return static_cast<__nv_bfloat16*>(ptr); }
};

// Fills with pseudo-random bf16 values of unit variance, never all zero (seeded per buffer).
void fill_random_bf16(DeviceBuffer& b, uint32_t seed, cudaStream_t s);
// Sets every byte to 0xFF (bf16 NaN) so unwritten outputs are caught by count_nonfinite.
void poison(DeviceBuffer& b, cudaStream_t s);
// Number of non-finite bf16 elements in the first `elements` of `p`.
long long count_nonfinite_bf16(const __nv_bfloat16* p, size_t elements, cudaStream_t s);
// Number of 32-bit words that differ between two buffers of `bytes` (bytes % 4 == 0).
long long count_mismatched_words(const void* a, const void* b, size_t bytes, cudaStream_t s);

struct TimeStats {
  double median_s = 0, min_s = 0, max_s = 0;
  int iterations = 0;
  double sm_clock_mhz = 0;  // the SM clock right after the timed runs (sm_clock_mhz()); 0: not probed
};

// The SM clock now, in MHz: one thread counts SM cycles (clock64) against the global
// nanosecond timer over about 200 us. A GPU at its power limit runs its kernels at a lower
// clock than its boost clock (RESULTS.md); probed right after a measurement, this is the
// clock the measurement ran at, so hcpsim can compare runs made in different power states.
double sm_clock_mhz(cudaStream_t s);

// Runs `run(i)` warmup_runs(o, first run's time) times back to back (the first run
// included), then o.iters times each between two CUDA events on `s`; `i` counts every call
// so the caller can rotate its input sets.
TimeStats time_on_stream(const std::function<void(int)>& run, const Options& o, cudaStream_t s);

// How many copies of a working set of `bytes` make the rotation larger than twice the L2,
// so every timed call reads its inputs from HBM; at least 1, at most `cap`.
int rotation_sets(size_t bytes, int cap);

float bf16_to_float(__nv_bfloat16 v);

// One measurements.json row from a timing and its check.
Record make_record(std::string kind, std::string backend, std::vector<std::pair<std::string, std::string>> config,
                   const TimeStats& t, bool checked, long long wrong);

}  // namespace hcpcal

#include "device_util.cuh"

#include "test_data.cuh"

#include <algorithm>

namespace hcpcal {

namespace {

using hcpsim::kernels::count_nonfinite_bf16_kernel;
using hcpsim::kernels::fill_random_bf16_kernel;

__global__ void mismatch_kernel(const uint32_t* a, const uint32_t* b, size_t n, unsigned long long* count) {
  unsigned long long local = 0;
  for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<size_t>(gridDim.x) * blockDim.x)
    local += a[i] != b[i];
  if (local) atomicAdd(count, local);
}

long long read_counter(unsigned long long* d, cudaStream_t s) {
  unsigned long long h = 0;
  HCPSIM_CUDA_CHECK(cudaMemcpyAsync(&h, d, sizeof h, cudaMemcpyDeviceToHost, s));
  HCPSIM_CUDA_CHECK(cudaStreamSynchronize(s));
  HCPSIM_CUDA_CHECK(cudaFree(d));
  return static_cast<long long>(h);
}

unsigned long long* new_counter(cudaStream_t s) {
  unsigned long long* d = nullptr;
  HCPSIM_CUDA_CHECK(cudaMalloc(&d, sizeof *d));
  HCPSIM_CUDA_CHECK(cudaMemsetAsync(d, 0, sizeof *d, s));
  return d;
}

}  // namespace

DeviceBuffer::DeviceBuffer(size_t b) : bytes(b) { HCPSIM_CUDA_CHECK(cudaMalloc(&ptr, std::max<size_t>(b, 256))); }
DeviceBuffer::~DeviceBuffer() { cudaFree(ptr); }

void fill_random_bf16(DeviceBuffer& b, uint32_t seed, cudaStream_t s) {
  fill_random_bf16_kernel<<<2048, 256, 0, s>>>(b.bf16(), b.bytes / 2, 0x9e3779b9u * (seed + 1));
  HCPSIM_CUDA_CHECK_LAUNCH();
}

void poison(DeviceBuffer& b, cudaStream_t s) { HCPSIM_CUDA_CHECK(cudaMemsetAsync(b.ptr, 0xFF, b.bytes, s)); }

long long count_nonfinite_bf16(const __nv_bfloat16* p, size_t elements, cudaStream_t s) {
  unsigned long long* d = new_counter(s);
  count_nonfinite_bf16_kernel<<<1024, 256, 0, s>>>(p, elements, d);
  HCPSIM_CUDA_CHECK_LAUNCH();
  return read_counter(d, s);
}

long long count_mismatched_words(const void* a, const void* b, size_t bytes, cudaStream_t s) {
  unsigned long long* d = new_counter(s);
  mismatch_kernel<<<1024, 256, 0, s>>>(static_cast<const uint32_t*>(a), static_cast<const uint32_t*>(b), bytes / 4, d);
  HCPSIM_CUDA_CHECK_LAUNCH();
  return read_counter(d, s);
}

namespace {

__global__ void clock_probe_kernel(long long spin_cycles, unsigned long long* out) {
  unsigned long long t0 = 0, t1 = 0;
  const long long c0 = clock64();
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t0));
  long long c = c0;
  while (c - c0 < spin_cycles) c = clock64();
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t1));
  out[0] = static_cast<unsigned long long>(c - c0);
  out[1] = t1 - t0;
}

}  // namespace

double sm_clock_mhz(cudaStream_t s) {
  constexpr long long kSpinCycles = 400000;  // ~200 us at 2 GHz: the timer's granularity is < 0.5% of it
  unsigned long long* d = nullptr;
  HCPSIM_CUDA_CHECK(cudaMallocAsync(&d, 2 * sizeof(unsigned long long), s));
  clock_probe_kernel<<<1, 1, 0, s>>>(kSpinCycles, d);
  HCPSIM_CUDA_CHECK_LAUNCH();
  unsigned long long h[2] = {0, 0};
  HCPSIM_CUDA_CHECK(cudaMemcpyAsync(h, d, sizeof h, cudaMemcpyDeviceToHost, s));
  HCPSIM_CUDA_CHECK(cudaFreeAsync(d, s));
  HCPSIM_CUDA_CHECK(cudaStreamSynchronize(s));
  return h[1] > 0 ? double(h[0]) / double(h[1]) * 1e3 : 0.0;
}

TimeStats time_on_stream(const std::function<void(int)>& run, const Options& o, cudaStream_t s) {
  const int iters = o.iters;
  cudaEvent_t a, b;
  HCPSIM_CUDA_CHECK(cudaEventCreate(&a));
  HCPSIM_CUDA_CHECK(cudaEventCreate(&b));
  int call = 0;
  HCPSIM_CUDA_CHECK(cudaEventRecord(a, s));  // the first warm-up run sizes the warm-up
  run(call++);
  HCPSIM_CUDA_CHECK(cudaEventRecord(b, s));
  HCPSIM_CUDA_CHECK(cudaEventSynchronize(b));
  float first_ms = 0.f;
  HCPSIM_CUDA_CHECK(cudaEventElapsedTime(&first_ms, a, b));
  for (int i = 1, n = warmup_runs(o, first_ms * 1e-3); i < n; ++i) run(call++);
  std::vector<double> t;
  for (int i = 0; i < iters; ++i) {
    HCPSIM_CUDA_CHECK(cudaEventRecord(a, s));
    run(call++);
    HCPSIM_CUDA_CHECK(cudaEventRecord(b, s));
    HCPSIM_CUDA_CHECK(cudaEventSynchronize(b));
    float ms = 0.f;
    HCPSIM_CUDA_CHECK(cudaEventElapsedTime(&ms, a, b));
    t.push_back(ms * 1e-3);
  }
  const double clock_mhz = sm_clock_mhz(s);
  HCPSIM_CUDA_CHECK(cudaEventDestroy(a));
  HCPSIM_CUDA_CHECK(cudaEventDestroy(b));
  std::sort(t.begin(), t.end());
  TimeStats st;
  st.sm_clock_mhz = clock_mhz;
  st.iterations = iters;
  st.min_s = t.front();
  st.max_s = t.back();
  st.median_s = t.size() % 2 ? t[t.size() / 2] : 0.5 * (t[t.size() / 2 - 1] + t[t.size() / 2]);
  return st;
}

int rotation_sets(size_t bytes, int cap) {
  int device = 0, l2 = 0;
  HCPSIM_CUDA_CHECK(cudaGetDevice(&device));
  HCPSIM_CUDA_CHECK(cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, device));
  const size_t want = 2 * static_cast<size_t>(l2);
  const size_t sets = bytes == 0 ? 1 : (want + bytes - 1) / bytes;
  return static_cast<int>(std::clamp<size_t>(sets, 1, static_cast<size_t>(cap)));
}

float bf16_to_float(__nv_bfloat16 v) { return __bfloat162float(v); }

Record make_record(std::string kind, std::string backend, std::vector<std::pair<std::string, std::string>> config,
                   const TimeStats& t, bool checked, long long wrong) {
  Record r;
  r.kind = std::move(kind);
  r.backend = std::move(backend);
  r.config = std::move(config);
  r.iterations = t.iterations;
  r.median_s = t.median_s;
  r.min_s = t.min_s;
  r.max_s = t.max_s;
  r.sm_clock_mhz = t.sm_clock_mhz;
  r.checked = checked;
  r.wrong = wrong;
  return r;
}

}  // namespace hcpcal

// A small self-contained test harness for the GPU kernel tests (the device machine has no
// Catch2): GPU_TEST registers a case, CHECK records a failure without stopping the case,
// and device buffers are RAII wrappers whose every CUDA call is checked.
#pragma once
#include <cstdint>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include <cuda_runtime.h>

#include "cuda_check.h"

namespace hcpsim::test {

struct Context {
  std::mt19937_64 rng;
  int failures = 0;
  int checks = 0;
  void check(bool ok, const std::string& what) {
    ++checks;
    if (!ok) {
      ++failures;
      std::printf("    FAILED: %s\n", what.c_str());
    }
  }
};

struct Registry {
  struct Entry {
    std::string name;
    std::function<void(Context&)> fn;
  };
  static std::vector<Entry>& all() {
    static std::vector<Entry> entries;
    return entries;
  }
};

struct Registrar {
  Registrar(const char* name, std::function<void(Context&)> fn) { Registry::all().push_back({name, std::move(fn)}); }
};

#define GPU_TEST(name)                                                   \
  static void name(::hcpsim::test::Context& ctx);                        \
  static ::hcpsim::test::Registrar registrar_##name(#name, name);        \
  static void name(::hcpsim::test::Context& ctx)

// Owning device allocation (cudaMalloc; never managed memory).
class DeviceBuffer {
 public:
  explicit DeviceBuffer(size_t bytes) : bytes_(bytes) { HCPSIM_CUDA_CHECK(cudaMalloc(&ptr_, bytes == 0 ? 16 : bytes)); }
  ~DeviceBuffer() { cudaFree(ptr_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  void* get() const { return ptr_; }
  size_t bytes() const { return bytes_; }
  // 0xFF bytes are NaN in both bf16 and fp32: any element a kernel fails to write stays NaN.
  void poison() { HCPSIM_CUDA_CHECK(cudaMemset(ptr_, 0xFF, bytes_)); }
  void upload(const void* src) { HCPSIM_CUDA_CHECK(cudaMemcpy(ptr_, src, bytes_, cudaMemcpyHostToDevice)); }
  void download(void* dst) const { HCPSIM_CUDA_CHECK(cudaMemcpy(dst, ptr_, bytes_, cudaMemcpyDeviceToHost)); }

 private:
  void* ptr_ = nullptr;
  size_t bytes_;
};

// Random normal values already rounded to bf16 (what the kernels see), as floats and bits.
struct Bf16Host {
  std::vector<float> values;
  std::vector<uint16_t> bits;
};
Bf16Host random_bf16(Context& ctx, size_t n, double stddev = 1.0);
std::vector<float> bf16_to_float(const std::vector<uint16_t>& bits);
std::vector<uint16_t> download_bf16(const DeviceBuffer& buf);
std::vector<float> download_f32(const DeviceBuffer& buf);

// max |got - ref| over the elements, +inf if any `got` is not finite.
double max_abs_err(const std::vector<float>& got, const std::vector<double>& ref);
double max_abs_err(const std::vector<double>& got, const std::vector<double>& ref);
double max_abs(const std::vector<double>& ref);

// Flash-attention style bound: kernel error <= 2 * naive-bf16 error + atol.
void check_tolerance(Context& ctx, const std::string& what, double kernel_err, double naive_err, double atol);

}  // namespace hcpsim::test

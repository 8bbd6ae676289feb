// CUDA error reporting for the kernels' host code: every runtime call and every launch is
// checked, and a failure becomes a CudaError carrying the call, file and line (no exit()).
#pragma once
#include <stdexcept>
#include <string>
#include <cuda_runtime.h>

namespace hcpsim::kernels {

class CudaError : public std::runtime_error {
 public:
  CudaError(cudaError_t code, const std::string& what) : std::runtime_error(what), code_(code) {}
  cudaError_t code() const { return code_; }

 private:
  cudaError_t code_;
};

inline void check_cuda(cudaError_t code, const char* expr, const char* file, int line) {
  if (code != cudaSuccess) {
    throw CudaError(code, std::string(expr) + " failed at " + file + ":" + std::to_string(line) + ": " +
                              cudaGetErrorName(code) + " (" + cudaGetErrorString(code) + ")");
  }
}

}  // namespace hcpsim::kernels

#define HCPSIM_CUDA_CHECK(expr) ::hcpsim::kernels::check_cuda((expr), #expr, __FILE__, __LINE__)
// After a <<<>>> launch: reports bad launch configurations (the kernel itself runs async).
#define HCPSIM_CUDA_CHECK_LAUNCH() ::hcpsim::kernels::check_cuda(cudaGetLastError(), "kernel launch", __FILE__, __LINE__)

// The environment block of measurements.json: host, GPU, driver and library versions, and
// `nvidia-smi topo -m` as text (empty where nvidia-smi is missing).
#include <cublas_v2.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "cuda_check.h"
#include "environment.h"
#include "results.h"

namespace hcpcal {

namespace {

std::string command_output(const char* cmd) {
  std::string out;
  FILE* p = popen(cmd, "r");
  if (!p) return out;
  char buf[512];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  pclose(p);
  return out;
}

std::string version_text(int v) { return std::to_string(v / 1000) + "." + std::to_string(v % 1000 / 10); }

}  // namespace

std::string environment_json(std::string* summary) {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  int count = 0, device = 0, driver = 0, runtime = 0, cublas = 0;
  HCPSIM_CUDA_CHECK(cudaGetDeviceCount(&count));
  HCPSIM_CUDA_CHECK(cudaGetDevice(&device));
  HCPSIM_CUDA_CHECK(cudaDriverGetVersion(&driver));
  HCPSIM_CUDA_CHECK(cudaRuntimeGetVersion(&runtime));
  cudaDeviceProp prop{};
  HCPSIM_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  cublasHandle_t h;
  if (cublasCreate(&h) == CUBLAS_STATUS_SUCCESS) {
    cublasGetVersion(h, &cublas);
    cublasDestroy(h);
  }
  const std::string topo = command_output("nvidia-smi topo -m 2>/dev/null");
  const std::string smi = command_output("nvidia-smi --query-gpu=driver_version --format=csv,noheader 2>/dev/null");
  std::string driver_text = smi.substr(0, smi.find('\n'));
  if (driver_text.empty()) driver_text = "cuda " + version_text(driver);
  const std::string cc = std::to_string(prop.major) + "." + std::to_string(prop.minor);
  std::string j = "{\"hostname\": " + json_string(host) + ", \"gpu_model\": " + json_string(prop.name) +
                  ", \"gpu_count\": " + std::to_string(count) + ", \"device\": " + std::to_string(device) +
                  ", \"compute_capability\": " + json_string(cc) + ", \"sm_count\": " +
                  std::to_string(prop.multiProcessorCount) + ", \"l2_bytes\": " + std::to_string(prop.l2CacheSize) +
                  ", \"memory_bytes\": " + std::to_string(prop.totalGlobalMem) + ", \"driver\": " +
                  json_string(driver_text) + ", \"cuda_driver_api\": " + json_string(version_text(driver)) +
                  ", \"cuda_runtime\": " + json_string(version_text(runtime)) + ", \"cublas\": " +
                  std::to_string(cublas) + ", \"nccl\": null, \"cudnn\": null, \"ranks\": 1, \"topology\": " +
                  json_string(topo) + "}";
  if (summary)
    *summary = std::string(host) + ": " + std::to_string(count) + " x " + prop.name + " (cc " + cc + ", " +
               std::to_string(prop.multiProcessorCount) + " SMs), driver " + driver_text + ", CUDA runtime " +
               version_text(runtime) + ", cuBLAS " + std::to_string(cublas);
  return j;
}

}  // namespace hcpcal

// The environment block of measurements.json: host, GPU, driver and library versions (NCCL
// from ncclGetVersion, cuDNN from its header when present), `nvidia-smi topo -m` as text
// (empty where nvidia-smi is missing), and every rank's host and GPU.
#include <cublas_v2.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "cuda_check.h"
#include "environment.h"
#include "launch.cuh"
#if __has_include(<cudnn_version.h>)
#include <cudnn_version.h>
#define HCPCAL_CUDNN_HEADER \
  (std::to_string(CUDNN_MAJOR) + "." + std::to_string(CUDNN_MINOR) + "." + std::to_string(CUDNN_PATCHLEVEL))
#endif
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

std::string json_strings(const std::vector<std::string>& v) {
  std::string t = "[";
  for (size_t i = 0; i < v.size(); ++i) t += (i ? ", " : "") + json_string(v[i]);
  return t + "]";
}

}  // namespace

std::string host_name() {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  return host;
}

std::string environment_json(const RunInfo& run, std::string* summary) {
  const std::string host = host_name();
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
#ifdef HCPCAL_CUDNN_HEADER
  const std::string cudnn = json_string(HCPCAL_CUDNN_HEADER);
#else
  const std::string cudnn = "null";
#endif
  const std::string nccl = nccl_version_text();
  std::string j = "{\"hostname\": " + json_string(host) + ", \"gpu_model\": " + json_string(prop.name) +
                  ", \"gpu_count\": " + std::to_string(count) + ", \"device\": " + std::to_string(device) +
                  ", \"compute_capability\": " + json_string(cc) + ", \"sm_count\": " +
                  std::to_string(prop.multiProcessorCount) + ", \"l2_bytes\": " + std::to_string(prop.l2CacheSize) +
                  ", \"memory_bytes\": " + std::to_string(prop.totalGlobalMem) + ", \"driver\": " +
                  json_string(driver_text) + ", \"cuda_driver_api\": " + json_string(version_text(driver)) +
                  ", \"cuda_runtime\": " + json_string(version_text(runtime)) + ", \"cublas\": " +
                  std::to_string(cublas) + ", \"nccl\": " + (nccl.empty() ? "null" : json_string(nccl)) +
                  ", \"cudnn\": " + cudnn + ", \"launch\": " + json_string(run.launch) +
                  ", \"mpi\": " + (run.mpi ? "true" : "false") + ", \"processes\": " +
                  std::to_string(run.processes) + ", \"gpus_per_process\": " + std::to_string(run.gpus_per_process) +
                  ", \"ranks\": " + std::to_string(run.ranks) + ", \"rank_hostnames\": " +
                  json_strings(run.rank_hosts) + ", \"rank_gpu_models\": " + json_strings(run.rank_gpus) +
                  ", \"topology\": " + json_string(topo) + "}";
  if (summary)
    *summary = host + ": " + std::to_string(count) + " x " + prop.name + " (cc " + cc + ", " +
               std::to_string(prop.multiProcessorCount) + " SMs), driver " + driver_text + ", CUDA runtime " +
               version_text(runtime) + ", cuBLAS " + std::to_string(cublas) + ", NCCL " + nccl + "; " + run.launch +
               " launch, " + std::to_string(run.processes) + " process(es) x " + std::to_string(run.gpus_per_process) +
               " GPU(s) = " + std::to_string(run.ranks) + " rank(s)";
  return j;
}

}  // namespace hcpcal

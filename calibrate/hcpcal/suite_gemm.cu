// Suite 2: cuBLAS bf16 GEMMs (fp32 accumulate, bf16 out), C[m,n] = A[m,k] B[k,n] row-major,
// at the shapes of one transformer layer: by default Llama-3.1-8B's four linears (QKV,
// output projection, MLP gate+up, MLP down) for forward (tokens x out x in), data gradient
// (tokens x in x out) and weight gradient (in x out x tokens) at each --gemm-tokens count.
// Check: 16 sampled elements of C against a double-precision CPU dot product.
#include <cublas_v2.h>

#include <cmath>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "device_util.cuh"
#include "suites.h"

namespace hcpcal {

namespace {

void cublas_check(cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS) throw std::runtime_error(std::string(what) + ": cuBLAS status " + std::to_string(int(s)));
}

struct NamedGemm {
  std::string name;
  GemmShape s;
};

std::vector<NamedGemm> gemm_cases(const Options& o) {
  std::vector<NamedGemm> out;
  if (!o.gemms.empty()) {
    for (const auto& g : o.gemms) out.push_back({"user", g});
    return out;
  }
  // Llama-3.1-8B: hidden 4096, 32 q heads + 8 kv heads of 128 (QKV out 6144), FFN 14336.
  struct Linear {
    const char* name;
    int64_t in, out;
  };
  const Linear linears[] = {{"qkv", 4096, 6144}, {"proj", 4096, 4096}, {"fc1", 4096, 2 * 14336}, {"fc2", 14336, 4096}};
  for (int64_t t : o.gemm_tokens)
    for (const auto& l : linears) {
      const std::string tag = std::string(l.name) + "_t" + std::to_string(t);
      out.push_back({tag + "_fwd", {t, l.out, l.in}});
      out.push_back({tag + "_dgrad", {t, l.in, l.out}});
      out.push_back({tag + "_wgrad", {l.in, l.out, t}});
    }
  return out;
}

struct GemmSet {
  DeviceBuffer a, b;
  GemmSet(const GemmShape& s) : a(size_t(s.m) * s.k * 2), b(size_t(s.k) * s.n * 2) {}
};

void gemm(cublasHandle_t h, const GemmShape& s, const void* a, const void* b, void* c) {
  const float alpha = 1.f, beta = 0.f;
  // Row-major C = A B is column-major C^T = B^T A^T.
  cublas_check(cublasGemmEx(h, CUBLAS_OP_N, CUBLAS_OP_N, int(s.n), int(s.m), int(s.k), &alpha, b, CUDA_R_16BF, int(s.n), a,
                            CUDA_R_16BF, int(s.k), &beta, c, CUDA_R_16BF, int(s.n), CUBLAS_COMPUTE_32F,
                            CUBLAS_GEMM_DEFAULT),
               "cublasGemmEx");
}

long long check_gemm(const GemmShape& s, const GemmSet& set, const DeviceBuffer& c) {
  long long wrong = 0;
  for (int i = 0; i < 16; ++i) {
    const int64_t row = (i * 7919LL) % s.m, col = (i * 104729LL) % s.n;
    std::vector<__nv_bfloat16> arow(s.k), bcol(s.k);
    __nv_bfloat16 cv;
    HCPSIM_CUDA_CHECK(cudaMemcpy(arow.data(), set.a.bf16() + row * s.k, s.k * 2, cudaMemcpyDeviceToHost));
    HCPSIM_CUDA_CHECK(cudaMemcpy2D(bcol.data(), 2, set.b.bf16() + col, s.n * 2, 2, s.k, cudaMemcpyDeviceToHost));
    HCPSIM_CUDA_CHECK(cudaMemcpy(&cv, c.bf16() + row * s.n + col, 2, cudaMemcpyDeviceToHost));
    double ref = 0, mag = 0;
    for (int64_t e = 0; e < s.k; ++e) {
      const double p = double(bf16_to_float(arow[e])) * bf16_to_float(bcol[e]);
      ref += p;
      mag += std::fabs(p);
    }
    // bf16 output rounding (2^-8 relative) plus fp32 accumulation error over k terms.
    wrong += !(std::fabs(bf16_to_float(cv) - ref) <= 1e-2 * std::fabs(ref) + 1e-5 * mag + 1e-3);
  }
  return wrong;
}

}  // namespace

void run_gemm_suite(const Options& o, MeasurementLog& log) {
  cudaStream_t stream;
  HCPSIM_CUDA_CHECK(cudaStreamCreate(&stream));
  cublasHandle_t h;
  cublas_check(cublasCreate(&h), "cublasCreate");
  cublas_check(cublasSetStream(h, stream), "cublasSetStream");
  std::printf("#\n# gemm: cuBLAS cublasGemmEx bf16 in/out, fp32 compute, row-major C[m,n] = A[m,k] B[k,n]\n");
  std::printf("# %-24s %7s %7s %7s %10s %8s %6s %4s\n", "name", "m", "n", "k", "time", "rate", "#wrong", "sets");
  std::printf("# %-24s %7s %7s %7s %10s %8s %6s %4s\n", "", "", "", "", "(us)", "(TF/s)", "", "");
  for (const auto& g : gemm_cases(o)) {
    const GemmShape& s = g.s;
    const int nsets = rotation_sets(size_t(s.m) * s.k * 2 + size_t(s.k) * s.n * 2, 4);
    std::vector<std::unique_ptr<GemmSet>> sets;
    for (int i = 0; i < nsets; ++i) {
      sets.push_back(std::make_unique<GemmSet>(s));
      fill_random_bf16(sets[i]->a, 2 * i, stream);
      fill_random_bf16(sets[i]->b, 2 * i + 1, stream);
    }
    DeviceBuffer c(size_t(s.m) * s.n * 2);
    long long wrong = 0;
    if (o.check) {
      poison(c, stream);
      gemm(h, s, sets[0]->a.ptr, sets[0]->b.ptr, c.ptr);
      HCPSIM_CUDA_CHECK(cudaStreamSynchronize(stream));
      wrong = count_nonfinite_bf16(c.bf16(), size_t(s.m) * s.n, stream) + check_gemm(s, *sets[0], c);
    }
    const TimeStats t = time_on_stream(
        [&](int i) { gemm(h, s, sets[i % nsets]->a.ptr, sets[i % nsets]->b.ptr, c.ptr); }, o, stream);
    const double flops = 2.0 * s.m * s.n * s.k;
    std::printf("  %-24s %7lld %7lld %7lld %10.1f %8.1f %6lld %4d\n", g.name.c_str(), (long long)s.m, (long long)s.n,
                (long long)s.k, t.median_s * 1e6, flops / t.median_s * 1e-12, wrong, nsets);
    std::fflush(stdout);
    log.add(make_record("gemm", "cublas",
                        {{"name", json_string(g.name)}, {"m", std::to_string(s.m)}, {"n", std::to_string(s.n)},
                         {"k", std::to_string(s.k)}, {"dtype", json_string("bf16")}},
                        t, o.check, wrong));
  }
  cublasDestroy(h);
  HCPSIM_CUDA_CHECK(cudaStreamDestroy(stream));
}

}  // namespace hcpcal

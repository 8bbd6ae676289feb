// hcpsim_attn_bench: times hcpsim's flash forward and backward (CUDA events, warm-up,
// median) on the shapes of shapes.h and prints TFLOP/s next to PyTorch SDPA's FlashAttention-2
// and cuDNN backends read from sdpa_bench.py's CSV (--torch-csv). Outputs are poisoned
// before each shape and checked for unwritten (non-finite) elements; any makes it exit 1.
// Usage: hcpsim_attn_bench [--torch-csv FILE] [--filter SUBSTR] [--reps N] [--warmup N] [--impl mma]
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <cuda_bf16.h>

#include "attn_api.h"
#include "shapes.h"
#include "test_data.cuh"

namespace {
using namespace hcpsim;
using kernels::BshdView;

using kernels::count_nonfinite_bf16_kernel;
using kernels::fill_random_bf16_kernel;

struct Buf {
  void* p = nullptr;
  size_t bytes = 0;
  explicit Buf(size_t b) : bytes(b) { HCPSIM_CUDA_CHECK(cudaMalloc(&p, b)); }
  ~Buf() { cudaFree(p); }
};

double median_ms(const std::vector<float>& v) {
  std::vector<float> s = v;
  std::sort(s.begin(), s.end());
  return s.size() % 2 ? s[s.size() / 2] : 0.5 * (s[s.size() / 2 - 1] + s[s.size() / 2]);
}

template <class Fn>
double time_ms(Fn fn, int warmup, int reps) {
  cudaEvent_t a, b;
  HCPSIM_CUDA_CHECK(cudaEventCreate(&a));
  HCPSIM_CUDA_CHECK(cudaEventCreate(&b));
  for (int i = 0; i < warmup; ++i) fn();
  std::vector<float> t;
  for (int i = 0; i < reps; ++i) {
    HCPSIM_CUDA_CHECK(cudaEventRecord(a));
    fn();
    HCPSIM_CUDA_CHECK(cudaEventRecord(b));
    HCPSIM_CUDA_CHECK(cudaEventSynchronize(b));
    float ms = 0.f;
    HCPSIM_CUDA_CHECK(cudaEventElapsedTime(&ms, a, b));
    t.push_back(ms);
  }
  HCPSIM_CUDA_CHECK(cudaEventDestroy(a));
  HCPSIM_CUDA_CHECK(cudaEventDestroy(b));
  return median_ms(t);
}

struct TorchTimes {
  double fwd_ms = 0, bwd_ms = 0;
};

std::map<std::string, TorchTimes> read_torch_csv(const std::string& path) {
  std::map<std::string, TorchTimes> out;
  if (path.empty()) return out;
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::string name, backend, f, b;
    std::getline(ss, name, ',');
    std::getline(ss, backend, ',');
    std::getline(ss, f, ',');
    std::getline(ss, b, ',');
    out[name + "/" + backend] = {std::stod(f), std::stod(b)};
  }
  return out;
}

unsigned long long nonfinite(const Buf& b, unsigned long long* dcount) {
  HCPSIM_CUDA_CHECK(cudaMemset(dcount, 0, sizeof(unsigned long long)));
  count_nonfinite_bf16_kernel<<<1024, 256>>>(static_cast<const __nv_bfloat16*>(b.p), b.bytes / 2, dcount);
  HCPSIM_CUDA_CHECK_LAUNCH();
  unsigned long long h = 0;
  HCPSIM_CUDA_CHECK(cudaMemcpy(&h, dcount, sizeof h, cudaMemcpyDeviceToHost));
  return h;
}

}  // namespace

int main(int argc, char** argv) {
  std::string csv, filter;
  int reps = 10, warmup = 3;
  kernels::AttnImpl impl = kernels::AttnImpl::kAuto;  // --impl mma: the mma.sync kernels
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--torch-csv")) csv = argv[i + 1];
    else if (!std::strcmp(argv[i], "--filter")) filter = argv[i + 1];
    else if (!std::strcmp(argv[i], "--reps")) reps = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--warmup")) warmup = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--impl")) impl = !std::strcmp(argv[i + 1], "mma") ? kernels::AttnImpl::kMmaSync : kernels::AttnImpl::kAuto;
  }
  try {
    const auto torch = read_torch_csv(csv);
    unsigned long long* dcount = nullptr;
    HCPSIM_CUDA_CHECK(cudaMalloc(&dcount, sizeof(unsigned long long)));
    std::printf("# hcpsim attention benchmark: bf16, batch 1, median of %d after %d warm-up; TFLOP/s from 4*h*sq*skv*d (causal /2), bwd x2.5\n",
                reps, warmup);
    std::printf("# %-22s %9s %7s %7s %7s %6s %6s | %9s %7s %7s %7s %6s %6s | %s\n", "shape", "fwd_ms", "ours",
                "fa2", "cudnn", "x_fa2", "x_cdnn", "bwd_ms", "ours", "fa2", "cudnn", "x_fa2", "x_cdnn", "#wrong");
    unsigned long long total_wrong = 0;
    for (const auto& s : bench::bench_shapes()) {
      if (!filter.empty() && s.name.find(filter) == std::string::npos) continue;
      const size_t qn = static_cast<size_t>(s.seqlen_q) * s.heads_q * s.head_dim;
      const size_t kn = static_cast<size_t>(s.seqlen_kv) * s.heads_kv * s.head_dim;
      Buf q(qn * 2), k(kn * 2), v(kn * 2), o(qn * 2), d_o(qn * 2), dq(qn * 2), dk(kn * 2), dv(kn * 2);
      Buf lse(static_cast<size_t>(s.heads_q) * s.seqlen_q * 4);
      const kernels::AttnShape shape{1, s.seqlen_q, s.seqlen_kv, s.heads_q, s.heads_kv, s.head_dim, s.causal, 0.f};
      Buf ws(kernels::flash_bwd_workspace_bytes(shape));
      uint32_t seed = 1;
      for (Buf* b : {&q, &k, &v, &d_o}) {
        fill_random_bf16_kernel<<<2048, 256>>>(static_cast<__nv_bfloat16*>(b->p), b->bytes / 2, 0x9e3779b9u * seed++);
        HCPSIM_CUDA_CHECK_LAUNCH();
      }
      for (Buf* b : {&o, &dq, &dk, &dv}) HCPSIM_CUDA_CHECK(cudaMemset(b->p, 0xFF, b->bytes));
      auto view = [&](const Buf& b, int heads) {
        return BshdView{b.p, 0, static_cast<int64_t>(heads) * s.head_dim, s.head_dim};
      };
      kernels::FwdArgs fa{shape, view(q, s.heads_q), view(k, s.heads_kv), view(v, s.heads_kv), view(o, s.heads_q),
                          {static_cast<float*>(lse.p), 0, s.seqlen_q}, impl};
      kernels::BwdArgs ba{shape,           view(q, s.heads_q),  view(k, s.heads_kv),  view(v, s.heads_kv),
                          view(o, s.heads_q), view(d_o, s.heads_q), fa.lse,              view(dq, s.heads_q),
                          view(dk, s.heads_kv), view(dv, s.heads_kv), ws.p, impl};
      const double fwd_ms = time_ms([&] { kernels::flash_fwd(fa, nullptr); }, warmup, reps);
      const double bwd_ms = time_ms([&] { kernels::flash_bwd(ba, nullptr); }, warmup, reps);
      HCPSIM_CUDA_CHECK(cudaDeviceSynchronize());
      const unsigned long long wrong = nonfinite(o, dcount) + nonfinite(dq, dcount) + nonfinite(dk, dcount) +
                                       nonfinite(dv, dcount);
      total_wrong += wrong;
      const double ff = bench::fwd_flops(s), bf = bench::bwd_flops(s);
      auto tf = [](double flops, double ms) { return ms > 0 ? flops / (ms * 1e-3) / 1e12 : 0.0; };
      const auto fa2 = torch.count(s.name + "/flash") ? torch.at(s.name + "/flash") : TorchTimes{};
      const auto cdn = torch.count(s.name + "/cudnn") ? torch.at(s.name + "/cudnn") : TorchTimes{};
      auto ratio = [](double ours_ms, double other_ms) { return other_ms > 0 ? other_ms / ours_ms : 0.0; };
      std::printf("  %-22s %9.3f %7.1f %7.1f %7.1f %6.2f %6.2f | %9.3f %7.1f %7.1f %7.1f %6.2f %6.2f | %llu\n",
                  s.name.c_str(), fwd_ms, tf(ff, fwd_ms), tf(ff, fa2.fwd_ms), tf(ff, cdn.fwd_ms),
                  ratio(fwd_ms, fa2.fwd_ms), ratio(fwd_ms, cdn.fwd_ms), bwd_ms, tf(bf, bwd_ms), tf(bf, fa2.bwd_ms),
                  tf(bf, cdn.bwd_ms), ratio(bwd_ms, fa2.bwd_ms), ratio(bwd_ms, cdn.bwd_ms), wrong);
      std::fflush(stdout);
    }
    cudaFree(dcount);
    if (total_wrong) {
      std::printf("# FAILED: %llu unwritten or non-finite output elements\n", total_wrong);
      return 1;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hcpsim_attn_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}

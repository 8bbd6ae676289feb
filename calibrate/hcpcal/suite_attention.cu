// Suite 1: hcpsim's flash attention (kernels/attn_api.h), forward and backward, bf16,
// batch 1, head dim 128, over the shapes the CP transports run (docs/cp-transports.md):
//   square shapes, causal and not, 32 query heads (CP = 1, the p2p diagonal step);
//   the p2p lower (2c x c) and upper (c x 2c) steps, no mask;
//   all_gather's chunks: c queries against a gathered KV prefix of m*c keys, bottom-right
//   causal (the chunk's own keys masked, the earlier ones all visible), m = 2, 4, 8;
//   a2a's full-sequence kernel with 32/R query heads and 8/R KV heads, R = 2, 4, 8, causal. Check: outputs are poisoned before one
// checked call; non-finite elements count as wrong, and for the forward, sampled rows of O
// are compared with a double-precision CPU reference.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "attn_api.h"
#include "device_util.cuh"
#include "suites.h"

namespace hcpcal {

namespace {

using hcpsim::kernels::AttnShape;
using hcpsim::kernels::BshdView;
using hcpsim::kernels::LseView;

constexpr int kHeadsQ = 32;  // of the square and step shapes; a2a's kernels have 32/R
constexpr int kHeadDim = 128;
constexpr double kBwdFlopRatio = 2.5;  // as workload/attention_common.hpp counts the backward

struct AttnCase {
  std::string name;
  int sq, skv, hq, hk;
  bool causal;
  bool bottom_right = false;  // causal with query row i seeing keys 0..i + (skv - sq)
  int offset() const { return causal && bottom_right ? skv - sq : 0; }
};

// Lengths from `lo` to `hi`, each `factor` times the last, rounded to a multiple of 128 tokens.
std::vector<int64_t> lengths(int64_t lo, int64_t hi, double factor) {
  std::vector<int64_t> out;
  for (double x = double(lo); x <= double(hi) * 1.0001; x *= factor) {
    const int64_t len = std::max<int64_t>(128, (int64_t(x + 64) / 128) * 128);
    if (len <= hi && (out.empty() || len > out.back())) out.push_back(len);
  }
  return out;
}

std::vector<AttnCase> attention_cases(const Options& o) {
  std::vector<AttnCase> out;
  for (int hk : o.heads_kv) {
    const std::string tag = "_hk" + std::to_string(hk);
    for (int64_t s : lengths(o.min_seq, o.max_seq, o.seq_factor))
      for (bool causal : {false, true})
        out.push_back({"s" + std::to_string(s) + (causal ? "_causal" : "_full") + tag, int(s), int(s), kHeadsQ, hk,
                           causal});
    for (int64_t c : lengths(o.min_seq, o.max_seq / 2, o.seq_factor)) {
      out.push_back({"c" + std::to_string(c) + "_lower" + tag, int(2 * c), int(c), kHeadsQ, hk, false});
      out.push_back({"c" + std::to_string(c) + "_upper" + tag, int(c), int(2 * c), kHeadsQ, hk, false});
    }
  }
  // all_gather chunks and a2a kernels with GQA 4 (8 KV heads for 32 query heads), as the cp
  // suite runs them; every other length of the grid, so the suite stays a few minutes long.
  for (int m : {2, 4, 8})
    for (int64_t c : lengths(o.min_seq, o.max_seq / m, o.seq_factor * o.seq_factor))
      out.push_back({"c" + std::to_string(c) + "_prefix" + std::to_string(m), int(c), int(m * c), kHeadsQ, 8, true, true});
  for (int r : {2, 4, 8})
    for (int64_t s : lengths(o.min_seq, o.max_seq, o.seq_factor * o.seq_factor))
      out.push_back({"s" + std::to_string(s) + "_causal_hq" + std::to_string(kHeadsQ / r), int(s), int(s), kHeadsQ / r,
                     8 / r, true});
  return out;
}

// Score elements the kernel computes: sq*skv, or row i sees keys 0..min(i + offset, skv-1).
double visible(const AttnCase& c) {
  if (!c.causal) return double(c.sq) * c.skv;
  double n = 0;
  for (int i = 0; i < c.sq; ++i) n += std::min(c.skv, std::max(0, i + 1 + c.offset()));
  return n;
}

double fwd_flops(const AttnCase& c) { return 4.0 * c.hq * kHeadDim * visible(c); }

// One input set: what a forward reads and writes and a backward reads.
struct AttnSet {
  DeviceBuffer q, k, v, o, d_o, lse;
  AttnSet(size_t qn, size_t kn, size_t lsen) : q(qn * 2), k(kn * 2), v(kn * 2), o(qn * 2), d_o(qn * 2), lse(lsen * 4) {}
};

BshdView view(const DeviceBuffer& b, int rows, int heads) {
  return BshdView{b.ptr, int64_t(rows) * heads * kHeadDim, int64_t(heads) * kHeadDim, kHeadDim};
}

// One column (head) of a bshd tensor as rows x d floats on the host.
std::vector<float> fetch_head(const DeviceBuffer& b, int rows, int heads, int head, int first_row, int nrows) {
  std::vector<__nv_bfloat16> h(size_t(nrows) * kHeadDim);
  const size_t pitch = size_t(heads) * kHeadDim * 2;
  const char* src = static_cast<const char*>(b.ptr) + size_t(first_row) * pitch + size_t(head) * kHeadDim * 2;
  HCPSIM_CUDA_CHECK(cudaMemcpy2D(h.data(), kHeadDim * 2, src, pitch, kHeadDim * 2, nrows, cudaMemcpyDeviceToHost));
  (void)rows;
  std::vector<float> f(h.size());
  for (size_t i = 0; i < h.size(); ++i) f[i] = bf16_to_float(h[i]);
  return f;
}

// Elements of sampled forward output rows farther than 0.02 + 0.02|ref| from a double reference.
long long check_forward_rows(const AttnCase& c, const AttnSet& s) {
  long long wrong = 0;
  const int group = c.hq / c.hk;
  const double scale = 1.0 / std::sqrt(double(kHeadDim));
  for (int head : {0, c.hq - 1}) {
    const int kvh = head / group;
    const auto k = fetch_head(s.k, c.skv, c.hk, kvh, 0, c.skv);
    const auto v = fetch_head(s.v, c.skv, c.hk, kvh, 0, c.skv);
    for (int row : {0, c.sq / 3, c.sq - 1}) {
      const auto q = fetch_head(s.q, c.sq, c.hq, head, row, 1);
      const auto o = fetch_head(s.o, c.sq, c.hq, head, row, 1);
      const int keys = c.causal ? std::min(row + 1 + c.offset(), c.skv) : c.skv;
      std::vector<double> p(keys);
      double mx = -1e300, sum = 0;
      for (int j = 0; j < keys; ++j) {
        double d = 0;
        for (int e = 0; e < kHeadDim; ++e) d += double(q[e]) * k[size_t(j) * kHeadDim + e];
        p[j] = d * scale;
        mx = std::max(mx, p[j]);
      }
      for (int j = 0; j < keys; ++j) sum += (p[j] = std::exp(p[j] - mx));
      for (int e = 0; e < kHeadDim; ++e) {
        double ref = 0;
        for (int j = 0; j < keys; ++j) ref += p[j] * v[size_t(j) * kHeadDim + e];
        ref /= sum;
        wrong += !(std::fabs(o[e] - ref) <= 0.02 + 0.02 * std::fabs(ref));
      }
    }
  }
  return wrong;
}

Record attention_record(const AttnCase& c, bool backward, const TimeStats& t, bool checked, long long wrong) {
  return make_record("attention", "hcpsim-flash",
                     {{"name", json_string(c.name)},     {"pass", json_string(backward ? "bwd" : "fwd")},
                      {"batch", "1"},                     {"sq", std::to_string(c.sq)},
                      {"skv", std::to_string(c.skv)},     {"heads_q", std::to_string(c.hq)},
                      {"heads_kv", std::to_string(c.hk)}, {"head_dim", std::to_string(kHeadDim)},
                      {"mask", json_string(!c.causal ? "none" : c.bottom_right ? "causal_bottom_right" : "causal")}},
                     t, checked, wrong);
}

void run_case(const Options& o, const AttnCase& c, MeasurementLog& log, cudaStream_t stream) {
  const size_t qn = size_t(c.sq) * c.hq * kHeadDim, kn = size_t(c.skv) * c.hk * kHeadDim;
  const size_t lsen = size_t(c.hq) * c.sq;
  AttnShape shape{1, c.sq, c.skv, c.hq, c.hk, kHeadDim, c.causal, 0.f};
  shape.causal_offset = c.offset();
  const int nsets = rotation_sets(2 * (3 * qn + 2 * kn) + 4 * lsen, 4);
  std::vector<std::unique_ptr<AttnSet>> sets;
  for (int i = 0; i < nsets; ++i) {
    sets.push_back(std::make_unique<AttnSet>(qn, kn, lsen));
    uint32_t seed = 16 * i;
    for (DeviceBuffer* b : {&sets[i]->q, &sets[i]->k, &sets[i]->v, &sets[i]->d_o}) fill_random_bf16(*b, seed++, stream);
  }
  DeviceBuffer dq(qn * 2), dk(kn * 2), dv(kn * 2), ws(hcpsim::kernels::flash_bwd_workspace_bytes(shape));
  auto fwd_args = [&](int i) {
    const AttnSet& s = *sets[i % nsets];
    hcpsim::kernels::FwdArgs a;
    a.shape = shape;
    a.q = view(s.q, c.sq, c.hq);
    a.k = view(s.k, c.skv, c.hk);
    a.v = view(s.v, c.skv, c.hk);
    a.o = view(s.o, c.sq, c.hq);
    a.lse = LseView{static_cast<float*>(s.lse.ptr), int64_t(lsen), c.sq};
    return a;
  };
  auto bwd_args = [&](int i) {
    const auto f = fwd_args(i);
    hcpsim::kernels::BwdArgs a;
    a.shape = shape;
    a.q = f.q, a.k = f.k, a.v = f.v, a.o = f.o, a.lse = f.lse;
    a.d_o = view(sets[i % nsets]->d_o, c.sq, c.hq);
    a.dq = view(dq, c.sq, c.hq);
    a.dk = view(dk, c.skv, c.hk);
    a.dv = view(dv, c.skv, c.hk);
    a.workspace = ws.ptr;
    return a;
  };
  long long fwd_wrong = 0, bwd_wrong = 0;
  for (int i = 0; i < nsets; ++i) {  // each set's O and LSE, which the backward reads
    if (o.check) poison(sets[i]->o, stream);
    hcpsim::kernels::flash_fwd(fwd_args(i), stream);
  }
  HCPSIM_CUDA_CHECK(cudaStreamSynchronize(stream));
  if (o.check) {
    fwd_wrong = count_nonfinite_bf16(sets[0]->o.bf16(), qn, stream) + check_forward_rows(c, *sets[0]);
    for (DeviceBuffer* b : {&dq, &dk, &dv}) poison(*b, stream);
    hcpsim::kernels::flash_bwd(bwd_args(0), stream);
    for (DeviceBuffer* b : {&dq, &dk, &dv}) bwd_wrong += count_nonfinite_bf16(b->bf16(), b->bytes / 2, stream);
  }
  const TimeStats tf = time_on_stream([&](int i) { hcpsim::kernels::flash_fwd(fwd_args(i), stream); }, o, stream);
  const TimeStats tb = time_on_stream([&](int i) { hcpsim::kernels::flash_bwd(bwd_args(i), stream); }, o, stream);
  const double ff = fwd_flops(c), bf = kBwdFlopRatio * ff;
  std::printf("  %-20s %6d %6d %3d %3d %6s %10.1f %8.1f %5.0f %10.1f %8.1f %5.0f %6lld %4d\n", c.name.c_str(), c.sq,
              c.skv, c.hq, c.hk, !c.causal ? "none" : c.bottom_right ? "causbr" : "causal", tf.median_s * 1e6,
              ff / tf.median_s * 1e-12, tf.sm_clock_mhz, tb.median_s * 1e6, bf / tb.median_s * 1e-12, tb.sm_clock_mhz,
              fwd_wrong + bwd_wrong, nsets);
  std::fflush(stdout);
  log.add(attention_record(c, false, tf, o.check, fwd_wrong));
  log.add(attention_record(c, true, tb, o.check, bwd_wrong));
}

}  // namespace

void run_attention_suite(const Options& o, MeasurementLog& log) {
  cudaStream_t stream;
  HCPSIM_CUDA_CHECK(cudaStreamCreate(&stream));
  std::printf("#\n# attention: hcpsim flash (kernels/), bf16, batch 1, head dim %d; TFLOP/s = 4*hq*d*visible (bwd x%.1f) / time\n",
              kHeadDim, kBwdFlopRatio);
  std::printf("# %-20s %6s %6s %3s %3s %6s %10s %8s %5s %10s %8s %5s %6s %4s\n", "name", "sq", "skv", "hq", "hkv",
              "mask", "fwd", "fwd", "clock", "bwd", "bwd", "clock", "#wrong", "sets");
  std::printf("# %-20s %6s %6s %3s %3s %6s %10s %8s %5s %10s %8s %5s %6s %4s\n", "", "(tok)", "(tok)", "", "", "", "(us)",
              "(TF/s)", "(MHz)", "(us)", "(TF/s)", "(MHz)", "", "");
  for (const auto& c : attention_cases(o)) run_case(o, c, log, stream);
  HCPSIM_CUDA_CHECK(cudaStreamDestroy(stream));
}

}  // namespace hcpcal

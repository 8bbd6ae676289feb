// Suite 6 (one GPU): the CP attention of every transport (p2p, all_gather, a2a, a2a+p2p),
// forward and backward, with R virtual ranks on this device (cp_transport_virtual.cu: K/V
// move between per-rank buffers with device copies on a second stream while every rank's
// kernels run on one compute stream). The algorithm is cp_attention.h's, the same one the
// NCCL launch runs.
// Per configuration: the whole pass (all ranks, first op to last, CUDA events), every
// attention kernel of every rank (labelled as hcpsim's workload builder names it), and each
// rank's peak pool memory (cudaMemPoolAttrUsedMemHigh; scope in results.h).
// Check (first pass): forward output and backward dQ, dK, dV of every rank against
// single-GPU causal attention over the whole sequence (flash_fwd / flash_bwd with the same
// dO); |x - ref| > 0.02 + (0.02 + n 2^-8) |ref| is wrong, n the bf16 accumulations TE does
// into the checked tensor (see bf16_adds()).
#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cp_attention.h"
#include "cp_check.h"
#include "device_util.cuh"
#include "suites.h"

namespace hcpcal {

namespace {

constexpr int kHeadsQ = 32, kHeadsKv = 8, kHeadDim = 128;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

// The whole sequence's inputs and single-GPU results, shared by every configuration.
struct Reference {
  int64_t S;
  std::unique_ptr<DeviceBuffer> q, k, v, dout, o, lse, dq, dk, dv;

  explicit Reference(int64_t seq) : S(seq) {
    const size_t qb = size_t(S) * kHeadsQ * kHeadDim * 2, kb = size_t(S) * kHeadsKv * kHeadDim * 2;
    for (auto* p : {&q, &dout, &o, &dq}) *p = std::make_unique<DeviceBuffer>(qb);
    for (auto* p : {&k, &v, &dk, &dv}) *p = std::make_unique<DeviceBuffer>(kb);
    lse = std::make_unique<DeviceBuffer>(size_t(S) * kHeadsQ * 4);
    cudaStream_t s = nullptr;
    fill_random_bf16(*q, 101, s);
    fill_random_bf16(*k, 102, s);
    fill_random_bf16(*v, 103, s);
    fill_random_bf16(*dout, 104, s);
    const int n = int(S);
    hcpsim::kernels::FwdArgs a;
    a.shape = {1, n, n, kHeadsQ, kHeadsKv, kHeadDim, true, 0.f};
    a.q = view(q->ptr, kHeadsQ);
    a.k = view(k->ptr, kHeadsKv);
    a.v = view(v->ptr, kHeadsKv);
    a.o = view(o->ptr, kHeadsQ);
    a.lse = hcpsim::kernels::LseView{static_cast<float*>(lse->ptr), int64_t(n) * kHeadsQ, n};
    hcpsim::kernels::flash_fwd(a, s);
    hcpsim::kernels::BwdArgs b;
    b.shape = a.shape;
    b.q = a.q;
    b.k = a.k;
    b.v = a.v;
    b.o = a.o;
    b.lse = a.lse;
    b.d_o = view(dout->ptr, kHeadsQ);
    b.dq = view(dq->ptr, kHeadsQ);
    b.dk = view(dk->ptr, kHeadsKv);
    b.dv = view(dv->ptr, kHeadsKv);
    DeviceBuffer ws(hcpsim::kernels::flash_bwd_workspace_bytes(b.shape));
    b.workspace = ws.ptr;
    hcpsim::kernels::flash_bwd(b, s);
    HCPSIM_CUDA_CHECK(cudaStreamSynchronize(s));
  }
  hcpsim::kernels::BshdView view(void* p, int heads) const {
    return {p, int64_t(S) * heads * kHeadDim, int64_t(heads) * kHeadDim, kHeadDim};
  }
};

// bf16 roundings TE applies to a running sum of the checked tensor: the forward's output
// correction and the backward's dQ/dKV accumulation over the ring (N or P steps); all_gather
// adds two chunks' dK/dV into bf16 buffers and reduce-scatters them (one more rounding);
// a2a runs one kernel. Each rounding of a sum s errs by at most |s| 2^-8 (bf16 keeps 8
// significant bits), so n of them add n 2^-8 to the relative bound (partial sums taken no
// larger than the result).
int bf16_adds(const CpShape& sh, bool backward) {
  switch (sh.kind) {
    case CpKind::kP2p: return sh.ranks;
    case CpKind::kAllGather: return backward ? 3 : 0;
    case CpKind::kA2a: return 0;
    case CpKind::kA2aP2p: return sh.p2p;
  }
  return 0;
}

struct Outcome {
  TimeStats t;
  long long wrong = 0;
  std::vector<size_t> peak;
  // (rank, label) -> per-iteration times, in first-seen order
  std::vector<std::pair<std::pair<int, std::string>, std::vector<double>>> kernels;
};

class CpRunner {
 public:
  CpRunner(const Reference& ref, const CpShape& sh)
      : ref_(ref), sh_(sh), t_(make_virtual_transport(sh.ranks)), ranks_(sh.ranks),
        ctx_{*t_, sh, log_, ranks_} {
    const int L = sh.local();
    for (int r = 0; r < sh.ranks; ++r) {
      CpRank& k = ranks_[r];
      k.rank = r;
      k.q = ctx_.alloc(r, size_t(L) * kHeadsQ * kHeadDim * 2);
      k.k = ctx_.alloc(r, size_t(L) * kHeadsKv * kHeadDim * 2);
      k.v = ctx_.alloc(r, size_t(L) * kHeadsKv * kHeadDim * 2);
      load(k.q, *ref.q, r, kHeadsQ);
      load(k.k, *ref.k, r, kHeadsKv);
      load(k.v, *ref.v, r, kHeadsKv);
    }
    sync();
  }

  Outcome run(bool backward, const Options& o) {
    if (backward) prepare_backward();
    Outcome out;
    out.peak.assign(sh_.ranks, 0);
    std::vector<double> total;
    const int first_timed = (o.check ? 1 : 0) + o.warmup;
    for (int it = 0; it < first_timed + o.iters; ++it) {
      for (int r = 0; r < sh_.ranks; ++r) t_->reset_peak(r);
      log_.start_pass();
      cudaStream_t s = t_->compute_stream(0), c = t_->comm_stream(0);
      HCPSIM_CUDA_CHECK(cudaEventRecord(start_, s));
      HCPSIM_CUDA_CHECK(cudaStreamWaitEvent(c, start_));
      backward ? cp_backward(ctx_) : cp_forward(ctx_);
      HCPSIM_CUDA_CHECK(cudaEventRecord(comm_end_, c));
      HCPSIM_CUDA_CHECK(cudaStreamWaitEvent(s, comm_end_));
      HCPSIM_CUDA_CHECK(cudaEventRecord(end_, s));
      HCPSIM_CUDA_CHECK(cudaEventSynchronize(end_));
      if (o.check && it == 0) out.wrong = backward ? check_backward() : check_forward();
      if (it >= first_timed) {
        float ms = 0;
        HCPSIM_CUDA_CHECK(cudaEventElapsedTime(&ms, start_, end_));
        total.push_back(ms * 1e-3);
        for (int r = 0; r < sh_.ranks; ++r) out.peak[r] = std::max(out.peak[r], t_->peak_bytes(r));
        for (const auto& e : log_.read()) {
          auto key = std::make_pair(e.rank, e.label);
          auto at = std::find_if(out.kernels.begin(), out.kernels.end(), [&](const auto& x) { return x.first == key; });
          if (at == out.kernels.end()) {
            out.kernels.push_back({key, {}});
            at = out.kernels.end() - 1;
          }
          at->second.push_back(e.s);
        }
      }
      backward ? release_backward() : release_forward();
      sync();
    }
    std::sort(total.begin(), total.end());
    out.t.iterations = o.iters;
    out.t.median_s = median(total);
    out.t.min_s = total.front();
    out.t.max_s = total.back();
    return out;
  }

  size_t granularity() const { return t_->pool_granularity_bytes(); }
  const char* launch() const { return t_->launch(); }

  ~CpRunner() {
    sync();
    for (cudaEvent_t e : {start_, end_, comm_end_}) cudaEventDestroy(e);
  }
  CpRunner(const CpRunner&) = delete;
  CpRunner& operator=(const CpRunner&) = delete;

 private:
  size_t row_bytes(int heads) const { return size_t(heads) * kHeadDim * 2; }
  // Rows of rank r's half h (chunk r, then 2R-1-r) in the whole sequence.
  size_t chunk_row(int r, int h) const {
    const size_t c = sh_.local() / 2;
    return (h == 0 ? size_t(r) : size_t(2 * sh_.ranks - 1 - r)) * c;
  }
  void load(const Buf& dst, const DeviceBuffer& src, int r, int heads) {
    const size_t c = sh_.local() / 2, rb = row_bytes(heads);
    for (int h = 0; h < 2; ++h)
      HCPSIM_CUDA_CHECK(cudaMemcpyAsync(dst.c() + h * c * rb, static_cast<const char*>(src.ptr) + chunk_row(r, h) * rb,
                                        c * rb, cudaMemcpyDeviceToDevice, t_->compute_stream(r)));
  }
  long long count(const Buf& got, const DeviceBuffer& want, int r, int heads, bool backward) {
    const size_t c = sh_.local() / 2, rb = row_bytes(heads);
    const float rtol = 0.02f + bf16_adds(sh_, backward) / 256.f;
    long long n = 0;
    for (int h = 0; h < 2; ++h)
      n += count_far_bf16(got.c() + h * c * rb, static_cast<const char*>(want.ptr) + chunk_row(r, h) * rb,
                          c * rb / 2, 0.02f, rtol, t_->compute_stream(r));
    return n;
  }
  long long check_forward() {
    long long n = 0;
    for (const CpRank& k : ranks_) n += count(k.o, *ref_.o, k.rank, kHeadsQ, false);
    return n;
  }
  long long check_backward() {
    long long n = 0;
    for (const CpRank& k : ranks_)
      n += count(k.dq, *ref_.dq, k.rank, kHeadsQ, true) + count(k.dk, *ref_.dk, k.rank, kHeadsKv, true) +
           count(k.dv, *ref_.dv, k.rank, kHeadsKv, true);
    return n;
  }
  // Frees the forward's outputs (o and what it saved beyond the inputs).
  void release_forward() {
    for (CpRank& k : ranks_) {
      for (Buf* b : {&k.saved.q, &k.saved.k, &k.saved.v, &k.saved.o, &k.saved.lse})
        if (b->p != k.q.p && b->p != k.k.p && b->p != k.v.p && b->p != k.o.p) ctx_.free(k.rank, *b);
      k.saved = Saved{};
      ctx_.free(k.rank, k.o);
    }
  }
  void release_backward() {
    for (CpRank& k : ranks_) {
      for (Buf* b : {&k.dq, &k.dk, &k.dv}) ctx_.free(k.rank, *b);
      for (Buf& b : k.keep) ctx_.free(k.rank, b);
      k.keep.clear();
    }
  }
  // One untimed forward; then only what TE saved for the backward, plus dO, stays in the
  // pools: the backward's inputs.
  void prepare_backward() {
    if (backward_ready_) return;
    log_.start_pass();
    cp_forward(ctx_);
    sync();
    for (CpRank& k : ranks_) {
      if (k.saved.q.p != k.q.p) ctx_.free(k.rank, k.q);
      if (k.saved.k.p != k.k.p) ctx_.free(k.rank, k.k);
      if (k.saved.v.p != k.v.p) ctx_.free(k.rank, k.v);
      if (k.saved.o.p != k.o.p) ctx_.free(k.rank, k.o);
      k.dout = ctx_.alloc(k.rank, size_t(sh_.local()) * kHeadsQ * kHeadDim * 2);
      load(k.dout, *ref_.dout, k.rank, kHeadsQ);
    }
    sync();
    backward_ready_ = true;
  }
  void sync() {
    HCPSIM_CUDA_CHECK(cudaStreamSynchronize(t_->compute_stream(0)));
    HCPSIM_CUDA_CHECK(cudaStreamSynchronize(t_->comm_stream(0)));
  }

  const Reference& ref_;
  CpShape sh_;
  std::unique_ptr<CpTransport> t_;
  KernelLog log_;
  std::vector<CpRank> ranks_;
  CpContext ctx_;
  bool backward_ready_ = false;
  cudaEvent_t start_ = make_event(), end_ = make_event(), comm_end_ = make_event();
  static cudaEvent_t make_event() {
    cudaEvent_t e{};
    HCPSIM_CUDA_CHECK(cudaEventCreate(&e));
    return e;
  }
};

CpKind kind_of(const std::string& t) {
  if (t == "p2p") return CpKind::kP2p;
  if (t == "all_gather") return CpKind::kAllGather;
  if (t == "a2a") return CpKind::kA2a;
  return CpKind::kA2aP2p;
}

// The configurations of one transport; a2a ones the heads do not allow are reported and skipped.
std::vector<CpShape> shapes_of(const Options& o, CpKind kind) {
  std::vector<CpShape> out;
  auto base = [&](int ranks) {
    CpShape s;
    s.kind = kind;
    s.ranks = ranks;
    s.seq = o.cp_seq;
    s.heads_q = kHeadsQ;
    s.heads_kv = kHeadsKv;
    s.head_dim = kHeadDim;
    return s;
  };
  if (kind == CpKind::kA2aP2p) {
    for (const auto& [a, p] : o.hcp) {
      if (kHeadsKv % a != 0 || kHeadsQ % a != 0) {
        std::printf("# a2a+p2p %dx%d skipped: %d KV heads do not split over an a2a group of %d\n", a, p, kHeadsKv, a);
        continue;
      }
      CpShape s = base(a * p);
      s.a2a = a;
      s.p2p = p;
      out.push_back(s);
    }
    return out;
  }
  for (int r : o.cp_ranks) {
    if (r < 2) {
      std::printf("# %s with %d rank skipped: CP needs 2 or more ranks\n", to_string(kind), r);
      continue;
    }
    if (kind == CpKind::kA2a && (kHeadsKv % r != 0 || kHeadsQ % r != 0)) {
      std::printf("# a2a with %d ranks skipped: %d KV heads are not divisible by %d (TE asserts hk %% CP == 0)\n", r,
                  kHeadsKv, r);
      continue;
    }
    out.push_back(base(r));
  }
  return out;
}

std::string kernels_json(const Outcome& out) {
  std::string s = "[";
  bool first = true;
  for (const auto& [key, times] : out.kernels) {
    std::vector<double> t = times;
    std::sort(t.begin(), t.end());
    s += std::string(first ? "" : ", ") + "{\"rank\": " + std::to_string(key.first) +
         ", \"label\": " + json_string(key.second) + ", \"median_s\": " + json_number(median(t)) +
         ", \"min_s\": " + json_number(t.front()) + ", \"max_s\": " + json_number(t.back()) + "}";
    first = false;
  }
  return s + "]";
}

// The slowest rank's sum of its kernels' medians.
double compute_s(const Outcome& out, int ranks) {
  std::vector<double> per(ranks, 0.0);
  for (const auto& [key, times] : out.kernels) per[key.first] += median(times);
  return *std::max_element(per.begin(), per.end());
}

}  // namespace

void run_cp_suite(const Options& o, MeasurementLog& log) {
  std::unique_ptr<Reference> ref;
  for (const std::string& name : o.cp_transports) {
    const CpKind kind = kind_of(name);
    std::printf("#\n# cp: %s, causal, bshd, R virtual ranks on this GPU (device copies on a second stream); hq %d,"
                " hkv %d, d %d, seq %lld\n# pass = all ranks, first op to last; kernels = slowest rank's sum of its"
                " attention kernels (medians); peak = largest rank's pool high-water mark\n",
                name.c_str(), kHeadsQ, kHeadsKv, kHeadDim, static_cast<long long>(o.cp_seq));
    const std::vector<CpShape> shapes = shapes_of(o, kind);
    std::printf("# %6s %5s %5s %4s %10s %10s %10s %10s %6s\n", "seq", "ranks", "AxP", "pass", "pass", "min",
                "kernels", "peak", "#wrong");
    std::printf("# %6s %5s %5s %4s %10s %10s %10s %10s %6s\n", "(tok)", "", "", "", "(us)", "(us)", "(us)", "(MiB)",
                "");
    for (const CpShape& sh : shapes) {
      if (!ref) ref = std::make_unique<Reference>(o.cp_seq);
      CpRunner runner(*ref, sh);
      if (&sh == &shapes.front())
        std::printf("# memory pools count %zu byte(s) for a 1-byte allocation: peak_bytes are the bytes TE-order"
                    " allocations hold\n", runner.granularity());
      for (const std::string pass : {"fwd", "bwd"}) {  // the backward runs on a forward's saved tensors
        if (std::find(o.cp_passes.begin(), o.cp_passes.end(), pass) == o.cp_passes.end()) continue;
        const bool backward = pass == "bwd";
        const Outcome out = runner.run(backward, o);
        const size_t peak = *std::max_element(out.peak.begin(), out.peak.end());
        const std::string split =
            sh.kind == CpKind::kA2aP2p ? std::to_string(sh.a2a) + "x" + std::to_string(sh.p2p) : "-";
        std::printf("  %6lld %5d %5s %4s %10.1f %10.1f %10.1f %10.1f %6lld\n", static_cast<long long>(sh.seq),
                    sh.ranks, split.c_str(), pass.c_str(), out.t.median_s * 1e6, out.t.min_s * 1e6,
                    compute_s(out, sh.ranks) * 1e6, peak / 1048576.0, out.wrong);
        std::fflush(stdout);
        std::vector<std::pair<std::string, std::string>> config = {
            {"transport", json_string(name)}, {"pass", json_string(pass)}, {"ranks", std::to_string(sh.ranks)}};
        if (sh.kind == CpKind::kA2aP2p)
          config.push_back({"hcp", "[" + std::to_string(sh.a2a) + ", " + std::to_string(sh.p2p) + "]"});
        for (const auto& kv : std::vector<std::pair<std::string, std::string>>{
                 {"seq", std::to_string(sh.seq)},
                 {"batch", "1"},
                 {"heads_q", std::to_string(kHeadsQ)},
                 {"heads_kv", std::to_string(kHeadsKv)},
                 {"head_dim", std::to_string(kHeadDim)},
                 {"mask", json_string("causal")},
                 {"format", json_string("bshd")},
                 {"launch", json_string(runner.launch())}})
          config.push_back(kv);
        Record rec = make_record("cp_attention", "hcpsim-flash+device-copy", config, out.t, o.check, out.wrong);
        std::string peaks = "[";
        for (size_t r = 0; r < out.peak.size(); ++r) peaks += (r ? ", " : "") + std::to_string(out.peak[r]);
        rec.results = {{"kernels", kernels_json(out)}, {"peak_bytes", peaks + "]"}};
        log.add(rec);
      }
    }
  }
}

}  // namespace hcpcal

// Suite 6: the CP attention of every transport (p2p, all_gather, a2a, a2a+p2p), forward and
// backward. One rank in all (one process, one GPU): R virtual ranks on this device
// (cp_transport_virtual.cu: K/V move between per-rank buffers with device copies on a second
// stream while every rank's kernels run on one compute stream). Several ranks (mpirun/srun,
// or -g N): one CP group of every rank over NCCL (cp_transport_nccl.cu), R = world size
// (a2a+p2p: A x P = world); sizes the world does not allow are skipped with a '#' line.
// The algorithm is cp_attention.h's in both.
// Per configuration: the whole pass (first op to last, CUDA events; virtual: all ranks on one
// stream; NCCL: on each rank's streams, then the slowest rank's median, launch.h:
// merge_cp_results), every attention kernel of every rank (labelled as hcpsim's workload
// builder names it), and each rank's peak pool memory (cudaMemPoolAttrUsedMemHigh; scope in
// results.h). NCCL: every process sends its ranks' results to process 0, which prints and
// writes them.
// Check (first pass): forward output and backward dQ, dK, dV of every rank against
// single-GPU causal attention over the whole sequence (flash_fwd / flash_bwd with the same
// dO; NCCL: computed on each local GPU from the same seeded inputs); |x - ref| > 0.02 +
// (0.02 + n 2^-8) |ref| is wrong, n the bf16 accumulations TE does into the checked tensor
// (see bf16_adds()).
#include <algorithm>
#include <cassert>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "cp_attention.h"
#include "cp_check.h"
#include "cp_transport_nccl.h"
#include "device_util.cuh"
#include "launch.cuh"
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

// The reference on each local rank's device, by CUDA device.
using References = std::map<int, std::unique_ptr<Reference>>;

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
  TimeStats t;  // the first span's (virtual: the whole pass of every rank)
  long long wrong = 0;
  std::vector<TimeStats> span_t;    // by span (CpRunner: one per compute stream)
  double sm_clock_mhz = 0;          // mean over the local ranks' GPUs, right after the timed passes
  std::vector<long long> wrong_of;  // by local rank index
  std::vector<size_t> peak;         // by local rank index
  // (rank, label) -> per-iteration times, in first-seen order
  std::vector<std::pair<std::pair<int, std::string>, std::vector<double>>> kernels;
};

class CpRunner {
 public:
  // `refs` holds a reference on every device of `t`'s local ranks.
  CpRunner(const References& refs, const CpShape& sh, std::unique_ptr<CpTransport> t)
      : refs_(refs), sh_(sh), t_(std::move(t)), ranks_(t_->local_ranks().size()), ctx_{*t_, sh, log_, ranks_} {
    const int L = sh.local();
    const std::vector<int> local = t_->local_ranks();
    for (size_t i = 0; i < local.size(); ++i) {
      CpRank& k = ranks_[i];
      const int r = k.rank = local[i];
      t_->use(r);
      k.q = ctx_.alloc(r, size_t(L) * kHeadsQ * kHeadDim * 2);
      k.k = ctx_.alloc(r, size_t(L) * kHeadsKv * kHeadDim * 2);
      k.v = ctx_.alloc(r, size_t(L) * kHeadsKv * kHeadDim * 2);
      load(k.q, *ref(r).q, r, kHeadsQ);
      load(k.k, *ref(r).k, r, kHeadsKv);
      load(k.v, *ref(r).v, r, kHeadsKv);
      // One timing span per compute stream: virtual ranks share one, NCCL ranks have their own.
      const bool seen = std::any_of(spans_.begin(), spans_.end(), [&](const Span& sp) {
        return t_->compute_stream(sp.rank) == t_->compute_stream(r);
      });
      if (!seen) spans_.push_back(Span{r, make_event(), make_event(), make_event(), make_event()});
    }
    sync();
  }

  // `align` runs on the host before each pass (NCCL: a barrier of the processes, so that no
  // rank's pass starts early and counts its wait for the others). `agree` turns this
  // process's first-pass seconds into the value every process sizes its warm-up by (NCCL:
  // the slowest process's), so all run the same passes.
  Outcome run(bool backward, const Options& o, const std::function<void()>& align,
              const std::function<double(double)>& agree) {
    if (backward) prepare_backward();
    Outcome out;
    out.peak.assign(ranks_.size(), 0);
    out.wrong_of.assign(ranks_.size(), 0);
    std::vector<std::vector<double>> total(spans_.size());
    // Pass 0 is the checked pass (with the check on) or the first warm-up pass; its time sizes
    // the warm-up (warmup_runs), and passes from first_timed on are timed.
    int first_timed = o.check ? 1 : 0;
    for (int it = 0; it < first_timed + o.iters; ++it) {
      for (const CpRank& k : ranks_) {
        t_->use(k.rank);
        t_->reset_peak(k.rank);
      }
      log_.start_pass();
      if (align) align();
      for (const Span& sp : spans_) {  // the pass starts on every stream of the span's rank at once
        t_->use(sp.rank);
        cudaStream_t s = t_->compute_stream(sp.rank), c = t_->comm_stream(sp.rank), d = t_->side_stream(sp.rank);
        HCPSIM_CUDA_CHECK(cudaEventRecord(sp.start, s));
        HCPSIM_CUDA_CHECK(cudaStreamWaitEvent(c, sp.start));
        if (d != s) HCPSIM_CUDA_CHECK(cudaStreamWaitEvent(d, sp.start));
      }
      backward ? cp_backward(ctx_) : cp_forward(ctx_);
      for (const Span& sp : spans_) {  // and ends when all of them are done
        t_->use(sp.rank);
        cudaStream_t s = t_->compute_stream(sp.rank), c = t_->comm_stream(sp.rank), d = t_->side_stream(sp.rank);
        HCPSIM_CUDA_CHECK(cudaEventRecord(sp.comm_end, c));
        HCPSIM_CUDA_CHECK(cudaStreamWaitEvent(s, sp.comm_end));
        if (d != s) {
          HCPSIM_CUDA_CHECK(cudaEventRecord(sp.side_end, d));
          HCPSIM_CUDA_CHECK(cudaStreamWaitEvent(s, sp.side_end));
        }
        HCPSIM_CUDA_CHECK(cudaEventRecord(sp.end, s));
      }
      for (const Span& sp : spans_) HCPSIM_CUDA_CHECK(cudaEventSynchronize(sp.end));
      if (it == 0) {
        double first_s = 0;
        for (const Span& sp : spans_) {
          float ms = 0;
          HCPSIM_CUDA_CHECK(cudaEventElapsedTime(&ms, sp.start, sp.end));
          first_s = std::max(first_s, ms * 1e-3);
        }
        const int warmup = warmup_runs(o, agree ? agree(first_s) : first_s);
        first_timed = o.check ? 1 + warmup : warmup;
      }
      if (o.check && it == 0) {
        out.wrong_of = backward ? check_backward() : check_forward();
        for (long long w : out.wrong_of) out.wrong += w;
      }
      if (it >= first_timed) {
        for (size_t i = 0; i < spans_.size(); ++i) {
          float ms = 0;
          HCPSIM_CUDA_CHECK(cudaEventElapsedTime(&ms, spans_[i].start, spans_[i].end));
          total[i].push_back(ms * 1e-3);
        }
        for (size_t i = 0; i < ranks_.size(); ++i) out.peak[i] = std::max(out.peak[i], t_->peak_bytes(ranks_[i].rank));
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
    for (auto& t : total) out.span_t.push_back(stats_of(std::move(t)));
    out.t = out.span_t.front();
    std::set<int> probed;  // one probe per GPU (virtual ranks share one)
    for (const CpRank& k : ranks_) {
      if (!probed.insert(t_->device_of(k.rank)).second) continue;
      t_->use(k.rank);
      out.sm_clock_mhz += sm_clock_mhz(t_->compute_stream(k.rank));
    }
    out.sm_clock_mhz /= double(std::max<size_t>(probed.size(), 1));
    out.t.sm_clock_mhz = out.sm_clock_mhz;
    return out;
  }

  // What this process sends to process 0: each local rank's pass (its span), check, peak and
  // kernels (median, min, max over the timed passes, in launch order). One span per rank.
  std::vector<CpRankResult> rank_results(const Outcome& out) const {
    assert(spans_.size() == ranks_.size());
    std::vector<CpRankResult> res;
    for (size_t i = 0; i < ranks_.size(); ++i) {
      CpRankResult r;
      r.rank = ranks_[i].rank;
      const TimeStats& t = out.span_t[i];
      r.pass = RankTiming{t.median_s, t.min_s, t.max_s, out.wrong_of[i]};
      r.peak_bytes = out.peak[i];
      for (const auto& [key, times] : out.kernels) {
        if (key.first != r.rank) continue;
        const TimeStats k = stats_of(times);
        r.kernels.push_back({key.second, k.median_s, k.min_s, k.max_s});
      }
      res.push_back(std::move(r));
    }
    return res;
  }

  size_t granularity() const { return t_->pool_granularity_bytes(); }
  const char* launch() const { return t_->launch(); }

  ~CpRunner() {
    sync();
    for (const Span& sp : spans_) {
      t_->use(sp.rank);
      for (cudaEvent_t e : {sp.start, sp.end, sp.comm_end, sp.side_end}) cudaEventDestroy(e);
    }
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
  const Reference& ref(int rank) const { return *refs_.at(t_->device_of(rank)); }
  // Rank r's device is current.
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
  // Wrong elements by local rank index.
  std::vector<long long> check_forward() {
    std::vector<long long> n;
    for (const CpRank& k : ranks_) {
      t_->use(k.rank);
      n.push_back(count(k.o, *ref(k.rank).o, k.rank, kHeadsQ, false));
    }
    return n;
  }
  std::vector<long long> check_backward() {
    std::vector<long long> n;
    for (const CpRank& k : ranks_) {
      t_->use(k.rank);
      const Reference& r = ref(k.rank);
      n.push_back(count(k.dq, *r.dq, k.rank, kHeadsQ, true) + count(k.dk, *r.dk, k.rank, kHeadsKv, true) +
                  count(k.dv, *r.dv, k.rank, kHeadsKv, true));
    }
    return n;
  }
  // Frees the forward's outputs (o and what it saved beyond the inputs).
  void release_forward() {
    for (CpRank& k : ranks_) {
      t_->use(k.rank);
      for (Buf* b : {&k.saved.q, &k.saved.k, &k.saved.v, &k.saved.o, &k.saved.lse})
        if (b->p != k.q.p && b->p != k.k.p && b->p != k.v.p && b->p != k.o.p) ctx_.free(k.rank, *b);
      k.saved = Saved{};
      ctx_.free(k.rank, k.o);
    }
  }
  void release_backward() {
    for (CpRank& k : ranks_) {
      t_->use(k.rank);
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
      t_->use(k.rank);
      if (k.saved.q.p != k.q.p) ctx_.free(k.rank, k.q);
      if (k.saved.k.p != k.k.p) ctx_.free(k.rank, k.k);
      if (k.saved.v.p != k.v.p) ctx_.free(k.rank, k.v);
      if (k.saved.o.p != k.o.p) ctx_.free(k.rank, k.o);
      k.dout = ctx_.alloc(k.rank, size_t(sh_.local()) * kHeadsQ * kHeadDim * 2);
      load(k.dout, *ref(k.rank).dout, k.rank, kHeadsQ);
    }
    sync();
    backward_ready_ = true;
  }
  void sync() {
    for (const CpRank& k : ranks_) {
      t_->use(k.rank);
      for (cudaStream_t s : {t_->compute_stream(k.rank), t_->side_stream(k.rank), t_->comm_stream(k.rank)})
        HCPSIM_CUDA_CHECK(cudaStreamSynchronize(s));
    }
  }

  // Events of one timing span, made on its rank's device.
  struct Span {
    int rank;
    cudaEvent_t start, end, comm_end, side_end;
  };

  const References& refs_;
  CpShape sh_;
  std::unique_ptr<CpTransport> t_;
  KernelLog log_;
  std::vector<CpRank> ranks_;
  CpContext ctx_;
  bool backward_ready_ = false;
  std::vector<Span> spans_;
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

// The configurations of one transport; a2a ones the heads do not allow are reported and skipped,
// and so, on real ranks (world > 0), are CP sizes other than the world's (one CP group of every
// rank). `say` false: skip silently (processes other than 0).
std::vector<CpShape> shapes_of(const Options& o, CpKind kind, int world, bool say) {
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
      if (world > 0 && a * p != world) {
        if (say) std::printf("# a2a+p2p %dx%d skipped: the CP group is all %d ranks of the launch (pass --hcp AxP with A*P = %d)\n",
                             a, p, world, world);
        continue;
      }
      if (kHeadsKv % a != 0 || kHeadsQ % a != 0) {
        if (say) std::printf("# a2a+p2p %dx%d skipped: %d KV heads do not split over an a2a group of %d\n", a, p, kHeadsKv, a);
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
    if (world > 0 && r != world) {
      if (say) std::printf("# %s with %d ranks skipped: the CP group is all %d ranks of the launch (pass --cp-ranks %d)\n",
                           to_string(kind), r, world, world);
      continue;
    }
    if (r < 2) {
      if (say) std::printf("# %s with %d rank skipped: CP needs 2 or more ranks\n", to_string(kind), r);
      continue;
    }
    if (kind == CpKind::kA2a && (kHeadsKv % r != 0 || kHeadsQ % r != 0)) {
      if (say) std::printf("# a2a with %d ranks skipped: %d KV heads are not divisible by %d (TE asserts hk %% CP == 0)\n", r,
                  kHeadsKv, r);
      continue;
    }
    out.push_back(base(r));
  }
  return out;
}

// One entry of the record's "kernels" list.
std::string kernel_json(int rank, const std::string& label, double median_s, double min_s, double max_s) {
  return "{\"rank\": " + std::to_string(rank) + ", \"label\": " + json_string(label) +
         ", \"median_s\": " + json_number(median_s) + ", \"min_s\": " + json_number(min_s) +
         ", \"max_s\": " + json_number(max_s) + "}";
}

std::string kernels_json(const Outcome& out) {
  std::string s = "[";
  bool first = true;
  for (const auto& [key, times] : out.kernels) {
    std::vector<double> t = times;
    std::sort(t.begin(), t.end());
    s += std::string(first ? "" : ", ") + kernel_json(key.first, key.second, median(t), t.front(), t.back());
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

// One configuration's row and record, from either launch.
struct Row {
  TimeStats t;
  long long wrong = 0;
  double kernels_s = 0;
  std::vector<unsigned long long> peak;  // by rank
  std::string kernels;                   // the record's JSON list
};

Row virtual_row(const Outcome& out, int ranks) {
  Row r{out.t, out.wrong, compute_s(out, ranks), {}, kernels_json(out)};
  r.peak.assign(out.peak.begin(), out.peak.end());
  return r;
}

Row merged_row(const CpMerged& m, int iters) {
  Row r;
  r.t.iterations = iters;
  r.t.median_s = m.pass.median_s;
  r.t.min_s = m.pass.min_s;
  r.t.max_s = m.pass.max_s;
  r.wrong = m.pass.wrong;
  r.kernels_s = m.kernels_s;
  r.peak = m.peak_bytes;
  r.kernels = "[";
  for (const CpRankResult& rank : m.ranks)
    for (const CpKernelStat& k : rank.kernels)
      r.kernels += std::string(r.kernels.size() > 1 ? ", " : "") +
                   kernel_json(rank.rank, k.label, k.median_s, k.min_s, k.max_s);
  r.kernels += "]";
  return r;
}

void report(const std::string& name, const CpShape& sh, const std::string& pass, const Row& row, const char* launch,
            bool checked, MeasurementLog& log) {
  const unsigned long long peak = *std::max_element(row.peak.begin(), row.peak.end());
  const std::string split = sh.kind == CpKind::kA2aP2p ? std::to_string(sh.a2a) + "x" + std::to_string(sh.p2p) : "-";
  std::printf("  %6lld %5d %5s %4s %10.1f %10.1f %10.1f %10.1f %6lld\n", static_cast<long long>(sh.seq), sh.ranks,
              split.c_str(), pass.c_str(), row.t.median_s * 1e6, row.t.min_s * 1e6, row.kernels_s * 1e6,
              peak / 1048576.0, row.wrong);
  std::fflush(stdout);
  std::vector<std::pair<std::string, std::string>> config = {
      {"transport", json_string(name)}, {"pass", json_string(pass)}, {"ranks", std::to_string(sh.ranks)}};
  if (sh.kind == CpKind::kA2aP2p)
    config.push_back({"hcp", "[" + std::to_string(sh.a2a) + ", " + std::to_string(sh.p2p) + "]"});
  for (const auto& kv : std::vector<std::pair<std::string, std::string>>{{"seq", std::to_string(sh.seq)},
                                                                          {"batch", "1"},
                                                                          {"heads_q", std::to_string(kHeadsQ)},
                                                                          {"heads_kv", std::to_string(kHeadsKv)},
                                                                          {"head_dim", std::to_string(kHeadDim)},
                                                                          {"mask", json_string("causal")},
                                                                          {"format", json_string("bshd")},
                                                                          {"launch", json_string(launch)}})
    config.push_back(kv);
  const bool nccl = std::string(launch) == "nccl";
  Record rec = make_record("cp_attention", nccl ? "hcpsim-flash+nccl" : "hcpsim-flash+device-copy", config, row.t,
                           checked, row.wrong);
  std::string peaks = "[";
  for (size_t r = 0; r < row.peak.size(); ++r) peaks += (r ? ", " : "") + std::to_string(row.peak[r]);
  rec.results = {{"kernels", row.kernels}, {"peak_bytes", peaks + "]"}};
  log.add(rec);
}

// Both launches: `w` null = virtual ranks on this GPU (process 0 only); otherwise every
// process runs it and `log` is process 0's (null elsewhere).
void run_cp(const Options& o, NcclWorld* w, MeasurementLog* log) {
  const bool say = !w || w->writer();
  const int world = w ? w->ranks() : 0;
  References refs;
  for (const std::string& name : o.cp_transports) {
    const CpKind kind = kind_of(name);
    if (say) {
      if (w)
        std::printf("#\n# cp: %s, causal, bshd, %d ranks over NCCL (%d process(es) x %d GPU(s)), one CP group; hq %d,"
                    " hkv %d, d %d, seq %lld\n# pass = each rank's first op to last, slowest rank's median; kernels ="
                    " slowest rank's sum of its attention kernels (medians); peak = largest rank's pool high-water"
                    " mark\n",
                    name.c_str(), world, w->processes().size(), w->slots(), kHeadsQ, kHeadsKv, kHeadDim,
                    static_cast<long long>(o.cp_seq));
      else
        std::printf("#\n# cp: %s, causal, bshd, R virtual ranks on this GPU (device copies on a second stream); hq %d,"
                    " hkv %d, d %d, seq %lld\n# pass = all ranks, first op to last; kernels = slowest rank's sum of its"
                    " attention kernels (medians); peak = largest rank's pool high-water mark\n",
                    name.c_str(), kHeadsQ, kHeadsKv, kHeadDim, static_cast<long long>(o.cp_seq));
    }
    const std::vector<CpShape> shapes = shapes_of(o, kind, world, say);
    if (say) {
      std::printf("# %6s %5s %5s %4s %10s %10s %10s %10s %6s\n", "seq", "ranks", "AxP", "pass", "pass", "min",
                  "kernels", "peak", "#wrong");
      std::printf("# %6s %5s %5s %4s %10s %10s %10s %10s %6s\n", "(tok)", "", "", "", "(us)", "(us)", "(us)", "(MiB)",
                  "");
    }
    for (const CpShape& sh : shapes) {
      std::unique_ptr<CpTransport> t = w ? make_nccl_transport(*w) : make_virtual_transport(sh.ranks);
      for (int r : t->local_ranks()) {  // the whole sequence's reference on every local GPU, once
        const int dev = t->device_of(r);
        if (refs.count(dev)) continue;
        HCPSIM_CUDA_CHECK(cudaSetDevice(dev));
        refs[dev] = std::make_unique<Reference>(o.cp_seq);
      }
      CpRunner runner(refs, sh, std::move(t));
      if (say && &sh == &shapes.front())
        std::printf("# memory pools count %zu byte(s) for a 1-byte allocation: peak_bytes are the bytes TE-order"
                    " allocations hold\n", runner.granularity());
      for (const std::string pass : {"fwd", "bwd"}) {  // the backward runs on a forward's saved tensors
        if (std::find(o.cp_passes.begin(), o.cp_passes.end(), pass) == o.cp_passes.end()) continue;
        const Outcome out =
            runner.run(pass == "bwd", o, w ? std::function<void()>([w] { w->processes().barrier(); }) : nullptr,
                       w ? std::function<double(double)>([w](double s) { return max_over_processes(*w, s); }) : nullptr);
        if (!w) {
          report(name, sh, pass, virtual_row(out, sh.ranks), runner.launch(), o.check, *log);
          continue;
        }
        const std::vector<std::string> all = w->processes().allgather(encode_cp_results(runner.rank_results(out)));
        if (say) report(name, sh, pass, merged_row(merge_cp_results(all, world), o.iters), runner.launch(), o.check, *log);
      }
    }
  }
  if (w) HCPSIM_CUDA_CHECK(cudaSetDevice(w->device(0)));
}

}  // namespace

void run_cp_suite(const Options& o, MeasurementLog& log) { run_cp(o, nullptr, &log); }

void run_cp_suite(const Options& o, NcclWorld& w, MeasurementLog* log) { run_cp(o, &w, log); }

}  // namespace hcpcal

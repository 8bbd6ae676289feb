// Suite 6 (one GPU): the p2p (ring) causal CP attention forward with R virtual ranks on this
// device. Rank r holds sequence chunks r and 2R-1-r (DualChunkSwap, cp-semantics.md §2);
// at step i it attends to the KV of rank (r - i) mod R: step 0 its own KV (diagonal,
// causal), then a lower rank's first chunk (lower, 2c x c) or a higher rank's whole KV
// (upper, c x 2c). The transport forwards K/V around the ring with device copies on a
// separate stream, one step ahead of the compute (double-buffered), as the NCCL ring
// overlaps its send/recv with the step's kernel. Partial outputs are merged with
// lse_merge and out_correction (fp32 accumulator) from kernels/cp_ops.h.
// Check: every output element against single-GPU full causal attention over the whole
// sequence (|o - ref| > 0.02 + 0.02 |ref| counts as wrong; non-zero fails the run).
// Timing: the whole forward (first copy to last cast), and each rank's step kernel.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cp_ops.h"
#include "cp_steps.h"
#include "device_util.cuh"
#include "suites.h"

namespace hcpcal {

namespace {

using hcpsim::kernels::BshdView;
using hcpsim::kernels::CpStep;
using hcpsim::kernels::LseView;
using hcpsim::kernels::offset_rows;

constexpr int kHeadsQ = 32, kHeadsKv = 8, kHeadDim = 128;

__global__ void count_far_kernel(const __nv_bfloat16* a, const __nv_bfloat16* ref, size_t n, unsigned long long* count) {
  unsigned long long local = 0;
  for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<size_t>(gridDim.x) * blockDim.x) {
    const float x = __bfloat162float(a[i]), y = __bfloat162float(ref[i]);
    local += !(fabsf(x - y) <= 0.02f + 0.02f * fabsf(y));
  }
  if (local) atomicAdd(count, local);
}

long long count_far(const void* a, const void* ref, size_t n, cudaStream_t s) {
  unsigned long long* d = nullptr;
  HCPSIM_CUDA_CHECK(cudaMalloc(&d, sizeof *d));
  HCPSIM_CUDA_CHECK(cudaMemsetAsync(d, 0, sizeof *d, s));
  count_far_kernel<<<1024, 256, 0, s>>>(static_cast<const __nv_bfloat16*>(a), static_cast<const __nv_bfloat16*>(ref), n, d);
  HCPSIM_CUDA_CHECK_LAUNCH();
  unsigned long long h = 0;
  HCPSIM_CUDA_CHECK(cudaMemcpyAsync(&h, d, sizeof h, cudaMemcpyDeviceToHost, s));
  HCPSIM_CUDA_CHECK(cudaStreamSynchronize(s));
  HCPSIM_CUDA_CHECK(cudaFree(d));
  return static_cast<long long>(h);
}

struct Rank {
  std::unique_ptr<DeviceBuffer> q, k, v, out, out_acc, lse_acc;
  std::unique_ptr<DeviceBuffer> recv_k[2], recv_v[2];  // KV of the step, double-buffered
  std::vector<std::unique_ptr<DeviceBuffer>> o_step, lse_step;  // one per step
};

class VirtualRing {
 public:
  VirtualRing(int ranks, int64_t seq) : R_(ranks), c_(int(seq / (2 * ranks))), S_(int(seq)) {
    HCPSIM_CUDA_CHECK(cudaStreamCreate(&compute_));
    HCPSIM_CUDA_CHECK(cudaStreamCreate(&comm_));
    const size_t qrow = size_t(kHeadsQ) * kHeadDim, krow = size_t(kHeadsKv) * kHeadDim;
    q_ = std::make_unique<DeviceBuffer>(S_ * qrow * 2);
    k_ = std::make_unique<DeviceBuffer>(S_ * krow * 2);
    v_ = std::make_unique<DeviceBuffer>(S_ * krow * 2);
    ref_ = std::make_unique<DeviceBuffer>(S_ * qrow * 2);
    ref_lse_ = std::make_unique<DeviceBuffer>(size_t(S_) * kHeadsQ * 4);
    fill_random_bf16(*q_, 101, compute_);
    fill_random_bf16(*k_, 102, compute_);
    fill_random_bf16(*v_, 103, compute_);
    const size_t L = 2 * size_t(c_);
    ranks_.resize(R_);
    for (int r = 0; r < R_; ++r) {
      Rank& k = ranks_[r];
      k.q = std::make_unique<DeviceBuffer>(L * qrow * 2);
      k.k = std::make_unique<DeviceBuffer>(L * krow * 2);
      k.v = std::make_unique<DeviceBuffer>(L * krow * 2);
      k.out = std::make_unique<DeviceBuffer>(L * qrow * 2);
      k.out_acc = std::make_unique<DeviceBuffer>(L * qrow * 4);
      k.lse_acc = std::make_unique<DeviceBuffer>(L * kHeadsQ * 4);
      for (int b = 0; b < 2; ++b) {
        k.recv_k[b] = std::make_unique<DeviceBuffer>(L * krow * 2);
        k.recv_v[b] = std::make_unique<DeviceBuffer>(L * krow * 2);
      }
      for (int i = 0; i < R_; ++i) {
        k.o_step.push_back(std::make_unique<DeviceBuffer>(L * qrow * 2));
        k.lse_step.push_back(std::make_unique<DeviceBuffer>(L * kHeadsQ * 4));
      }
      // Local rows: chunk r, then chunk 2R-1-r, of Q, K and V.
      for (int half = 0; half < 2; ++half) {
        const size_t chunk = half == 0 ? size_t(r) : size_t(2 * R_ - 1 - r);
        copy_rows(*k.q, half * c_, *q_, chunk * c_, c_, qrow);
        copy_rows(*k.k, half * c_, *k_, chunk * c_, c_, krow);
        copy_rows(*k.v, half * c_, *v_, chunk * c_, c_, krow);
      }
    }
    step_start_.resize(R_ * R_);
    step_end_.resize(R_ * R_);
    for (auto* v : {&step_start_, &step_end_})
      for (auto& e : *v) HCPSIM_CUDA_CHECK(cudaEventCreate(&e));
    for (auto* e : {&all_start_, &all_end_}) HCPSIM_CUDA_CHECK(cudaEventCreate(e));
    comm_done_.resize(R_ + 1);
    compute_done_.resize(R_);
    for (auto& e : comm_done_) HCPSIM_CUDA_CHECK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
    for (auto& e : compute_done_) HCPSIM_CUDA_CHECK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
    HCPSIM_CUDA_CHECK(cudaStreamSynchronize(compute_));
  }

  ~VirtualRing() {
    for (auto* v : {&step_start_, &step_end_, &comm_done_, &compute_done_})
      for (auto& e : *v) cudaEventDestroy(e);
    cudaEventDestroy(all_start_);
    cudaEventDestroy(all_end_);
    cudaStreamDestroy(compute_);
    cudaStreamDestroy(comm_);
  }
  VirtualRing(const VirtualRing&) = delete;
  VirtualRing& operator=(const VirtualRing&) = delete;

  // Full causal attention over the whole sequence on one GPU: the reference.
  void reference() {
    hcpsim::kernels::FwdArgs a;
    a.shape = {1, S_, S_, kHeadsQ, kHeadsKv, kHeadDim, true, 0.f};
    a.q = view(q_->ptr, S_, kHeadsQ);
    a.k = view(k_->ptr, S_, kHeadsKv);
    a.v = view(v_->ptr, S_, kHeadsKv);
    a.o = view(ref_->ptr, S_, kHeadsQ);
    a.lse = LseView{static_cast<float*>(ref_lse_->ptr), int64_t(S_) * kHeadsQ, S_};
    hcpsim::kernels::flash_fwd(a, compute_);
    HCPSIM_CUDA_CHECK(cudaStreamSynchronize(compute_));
  }

  // One CP forward of every rank; returns after the device finished.
  void forward() {
    HCPSIM_CUDA_CHECK(cudaEventRecord(all_start_, compute_));
    HCPSIM_CUDA_CHECK(cudaStreamWaitEvent(comm_, all_start_));
    if (R_ > 1) send_step(1);
    for (int i = 0; i < R_; ++i) {
      if (i >= 1 && i + 1 < R_) {
        HCPSIM_CUDA_CHECK(cudaStreamWaitEvent(comm_, compute_done_[i - 1]));  // recv[(i+1)%2] was read at i-1
        send_step(i + 1);
      }
      if (i >= 1) HCPSIM_CUDA_CHECK(cudaStreamWaitEvent(compute_, comm_done_[i]));
      for (int r = 0; r < R_; ++r) compute_step(r, i);
      HCPSIM_CUDA_CHECK(cudaEventRecord(compute_done_[i], compute_));
    }
    for (int r = 0; r < R_; ++r) finish(r);
    HCPSIM_CUDA_CHECK(cudaEventRecord(all_end_, compute_));
    HCPSIM_CUDA_CHECK(cudaEventSynchronize(all_end_));
  }

  double total_s() const { return elapsed_s(all_start_, all_end_); }
  double step_kernel_s(int r, int i) const { return elapsed_s(step_start_[r * R_ + i], step_end_[r * R_ + i]); }

  long long wrong() {
    long long n = 0;
    const size_t qrow = size_t(kHeadsQ) * kHeadDim;
    for (int r = 0; r < R_; ++r)
      for (int half = 0; half < 2; ++half) {
        const size_t chunk = half == 0 ? size_t(r) : size_t(2 * R_ - 1 - r);
        n += count_far(static_cast<char*>(ranks_[r].out->ptr) + half * c_ * qrow * 2,
                       static_cast<char*>(ref_->ptr) + chunk * c_ * qrow * 2, c_ * qrow, compute_);
      }
    return n;
  }

  int c() const { return c_; }

 private:
  static double elapsed_s(cudaEvent_t a, cudaEvent_t b) {
    float ms = 0;
    HCPSIM_CUDA_CHECK(cudaEventElapsedTime(&ms, a, b));
    return ms * 1e-3;
  }

  BshdView view(void* p, int rows, int heads) const {
    return BshdView{p, int64_t(rows) * heads * kHeadDim, int64_t(heads) * kHeadDim, kHeadDim};
  }

  void copy_rows(DeviceBuffer& dst, size_t dst_row, const DeviceBuffer& src, size_t src_row, size_t rows, size_t row_elems) {
    HCPSIM_CUDA_CHECK(cudaMemcpyAsync(static_cast<char*>(dst.ptr) + dst_row * row_elems * 2,
                                      static_cast<const char*>(src.ptr) + src_row * row_elems * 2, rows * row_elems * 2,
                                      cudaMemcpyDeviceToDevice, compute_));
  }

  // The KV rank r attends to at step i.
  std::pair<void*, void*> kv_of(int r, int i) const {
    const Rank& k = ranks_[r];
    if (i == 0) return {k.k->ptr, k.v->ptr};
    return {k.recv_k[i % 2]->ptr, k.recv_v[i % 2]->ptr};
  }

  // Ring transport for step i: every rank receives from rank r-1 the KV that rank used at step i-1.
  void send_step(int i) {
    const size_t bytes = 2 * size_t(c_) * kHeadsKv * kHeadDim * 2;
    for (int r = 0; r < R_; ++r) {
      const auto [sk, sv] = kv_of((r + R_ - 1) % R_, i - 1);
      HCPSIM_CUDA_CHECK(cudaMemcpyAsync(ranks_[r].recv_k[i % 2]->ptr, sk, bytes, cudaMemcpyDeviceToDevice, comm_));
      HCPSIM_CUDA_CHECK(cudaMemcpyAsync(ranks_[r].recv_v[i % 2]->ptr, sv, bytes, cudaMemcpyDeviceToDevice, comm_));
    }
    HCPSIM_CUDA_CHECK(cudaEventRecord(comm_done_[i], comm_));
  }

  static CpStep step_of(int r, int i) { return i == 0 ? CpStep::kDiagonal : (i <= r ? CpStep::kLower : CpStep::kUpper); }

  void compute_step(int r, int i) {
    Rank& k = ranks_[r];
    const int L = 2 * c_;
    const auto [kp, vp] = kv_of(r, i);
    hcpsim::kernels::FwdArgs local;
    local.shape = {1, L, L, kHeadsQ, kHeadsKv, kHeadDim, false, 0.f};
    local.q = view(k.q->ptr, L, kHeadsQ);
    local.k = view(kp, L, kHeadsKv);
    local.v = view(vp, L, kHeadsKv);
    local.o = view(k.o_step[i]->ptr, L, kHeadsQ);
    local.lse = LseView{static_cast<float*>(k.lse_step[i]->ptr), int64_t(L) * kHeadsQ, L};
    const CpStep step = step_of(r, i);
    HCPSIM_CUDA_CHECK(cudaEventRecord(step_start_[r * R_ + i], compute_));
    hcpsim::kernels::flash_fwd(hcpsim::kernels::step_args(local, step), compute_);
    HCPSIM_CUDA_CHECK(cudaEventRecord(step_end_[r * R_ + i], compute_));
    const LseView acc{static_cast<float*>(k.lse_acc->ptr), int64_t(L) * kHeadsQ, L};
    if (step == CpStep::kDiagonal)
      HCPSIM_CUDA_CHECK(cudaMemcpyAsync(k.lse_acc->ptr, k.lse_step[i]->ptr, k.lse_acc->bytes, cudaMemcpyDeviceToDevice,
                                        compute_));
    else if (step == CpStep::kLower)
      hcpsim::kernels::lse_merge(acc, local.lse, 1, kHeadsQ, L, compute_);
    else
      hcpsim::kernels::lse_merge(offset_rows(acc, c_), offset_rows(local.lse, c_), 1, kHeadsQ, c_, compute_);
  }

  // out = sum over steps of exp(lse_step - lse_final) * o_step, in fp32, then cast to bf16.
  void finish(int r) {
    Rank& k = ranks_[r];
    const int L = 2 * c_;
    const LseView fin{static_cast<float*>(k.lse_acc->ptr), int64_t(L) * kHeadsQ, L};
    const BshdView acc{k.out_acc->ptr, int64_t(L) * kHeadsQ * kHeadDim, int64_t(kHeadsQ) * kHeadDim, kHeadDim};
    for (int i = 0; i < R_; ++i) {
      const bool upper = step_of(r, i) == CpStep::kUpper;
      const int off = upper ? c_ : 0;
      hcpsim::kernels::OutCorrectionArgs a;
      a.out_acc = offset_rows(acc, off, 4);
      a.out_step = offset_rows(view(k.o_step[i]->ptr, L, kHeadsQ), off);
      a.lse_step = offset_rows(LseView{static_cast<float*>(k.lse_step[i]->ptr), int64_t(L) * kHeadsQ, L}, off);
      a.lse_final = offset_rows(fin, off);
      a.batch = 1;
      a.rows = upper ? c_ : L;
      a.heads = kHeadsQ;
      a.head_dim = kHeadDim;
      a.accum = hcpsim::kernels::OutAccum::kFloat32;
      a.init = i == 0;
      hcpsim::kernels::out_correction(a, compute_);
    }
    hcpsim::kernels::cast_f32_to_bf16(view(k.out->ptr, L, kHeadsQ), acc, 1, L, kHeadsQ, kHeadDim, compute_);
  }

  int R_, c_, S_;
  cudaStream_t compute_{}, comm_{};
  std::unique_ptr<DeviceBuffer> q_, k_, v_, ref_, ref_lse_;
  std::vector<Rank> ranks_;
  std::vector<cudaEvent_t> step_start_, step_end_, comm_done_, compute_done_;
  cudaEvent_t all_start_{}, all_end_{};
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

}  // namespace

void run_cp_suite(const Options& o, MeasurementLog& log) {
  std::printf("#\n# cp: p2p ring, causal, forward, R virtual ranks on this GPU (K/V moved by device copies on a\n"
              "# second stream); hq %d, hkv %d, d %d; step kernel = median over ranks and iterations\n",
              kHeadsQ, kHeadsKv, kHeadDim);
  std::printf("# %6s %5s %7s %6s %10s %10s %10s %6s\n", "seq", "ranks", "chunk", "steps", "forward", "diag", "off-diag",
              "#wrong");
  std::printf("# %6s %5s %7s %6s %10s %10s %10s %6s\n", "(tok)", "", "(tok)", "", "(us)", "(us)", "(us)", "");
  for (int R : o.cp_ranks) {
    VirtualRing ring(R, o.cp_seq);
    long long wrong = 0;
    if (o.check) {
      ring.reference();
      ring.forward();
      wrong = ring.wrong();
    }
    for (int i = 0; i < o.warmup; ++i) ring.forward();
    std::vector<double> total;
    std::vector<std::vector<double>> step(R);
    for (int it = 0; it < o.iters; ++it) {
      ring.forward();
      total.push_back(ring.total_s());
      for (int i = 0; i < R; ++i)
        for (int r = 0; r < R; ++r) step[i].push_back(ring.step_kernel_s(r, i));
    }
    std::vector<double> step_med;
    std::vector<double> off_diag;
    for (int i = 0; i < R; ++i) {
      step_med.push_back(median(step[i]));
      if (i > 0) off_diag.insert(off_diag.end(), step[i].begin(), step[i].end());
    }
    std::sort(total.begin(), total.end());
    TimeStats t;
    t.iterations = o.iters;
    t.median_s = median(total);
    t.min_s = total.front();
    t.max_s = total.back();
    const double off = off_diag.empty() ? 0 : median(off_diag);
    std::printf("  %6lld %5d %7d %6d %10.1f %10.1f %10.1f %6lld\n", (long long)o.cp_seq, R, ring.c(), R,
                t.median_s * 1e6, step_med[0] * 1e6, off * 1e6, wrong);
    std::fflush(stdout);
    std::string steps = "[";
    for (int i = 0; i < R; ++i) steps += (i ? ", " : "") + json_number(step_med[i]);
    steps += "]";
    Record rec = make_record("cp_attention", "hcpsim-flash+device-copy",
                             {{"transport", json_string("p2p")}, {"pass", json_string("fwd")},
                              {"ranks", std::to_string(R)}, {"seq", std::to_string(o.cp_seq)},
                              {"heads_q", std::to_string(kHeadsQ)}, {"heads_kv", std::to_string(kHeadsKv)},
                              {"head_dim", std::to_string(kHeadDim)}, {"mask", json_string("causal")}},
                             t, o.check, wrong);
    rec.results = {{"step_kernel_median_s", steps}};
    log.add(rec);
  }
}

}  // namespace hcpcal

// Suite 5: interference between attention kernels and communication on one GPU.
//  (a) victim = our attention (kernels/attn_api.h flash_fwd, flash_bwd) of a CP-step-like
//      shape (4096 x 4096, 32 query / 8 KV heads, d 128, no mask), alone and while a transfer
//      runs on another stream: an NCCL all-gather over every rank when there are >= 2, with one
//      rank a device-to-device cudaMemcpyAsync standing in for it (HBM traffic only, no NVLink
//      or network; said on a '#' line and in config.aggressor_op);
//  (b) victim = that transfer, alone and while attention kernels run.
// The aggressor is enqueued first, as a chain of `repeats` operations long enough (1.5 x the
// victim's warm-up + timed window, from the alone times) to cover the whole timed window; events
// around the chain and each timed victim call prove it (aggressor start <= first timed start,
// aggressor end >= last timed end, on every rank); else the chain is doubled, up to 3 tries, and
// results.overlap_verified says whether it held. Times merge over ranks as the NCCL suite does.
// Check: attention outputs are poisoned before the overlapped run and counted non-finite after;
// a transfer's own block of the destination is compared word by word with its source.
//  (c) the mechanisms behind (a) and (b), on every rank's GPU alone: victims attention fwd/bwd,
//      a cuBLAS GEMM and a full-GPU device copy (memory-bound), each beside k CTAs (k = 1..32,
//      NCCL's channel counts) that either copy HBM to HBM (SM share + HBM traffic) or spin
//      (SM share only); and the k-CTA copy as victim beside attention and the GEMM (how compute
//      slows a transfer), launched after the kernel (the kernel holds the SMs first) and, in
//      rows marked launch_order "transfer_first", launched before it (the copy's CTAs are
//      resident first, as a NCCL send issued before a kernel). The k-CTA copy's rate alone is
//      recorded with each row.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <cublas_v2.h>

#include "attn_api.h"
#include "cta_load.cuh"
#include "device_util.cuh"
#include "launch.cuh"
#include "suites.h"

namespace hcpcal {

namespace {

using hcpsim::kernels::BshdView;
using hcpsim::kernels::LseView;

constexpr int kSeq = 4096, kHeadsQ = 32, kHeadsKv = 8, kHeadDim = 128;
constexpr long long kTransferBytes = 256LL << 20;  // the transfer's nccl-tests size (all-gather output)

BshdView view(const DeviceBuffer& b, int heads) {
  return BshdView{b.ptr, int64_t(kSeq) * heads * kHeadDim, int64_t(heads) * kHeadDim, kHeadDim};
}

// One slot's attention: inputs, outputs, and the forward / backward arguments over them.
struct Attention {
  static constexpr size_t qn = size_t(kSeq) * kHeadsQ * kHeadDim, kn = size_t(kSeq) * kHeadsKv * kHeadDim;
  hcpsim::kernels::AttnShape shape{1, kSeq, kSeq, kHeadsQ, kHeadsKv, kHeadDim, false, 0.f};
  DeviceBuffer q{qn * 2}, k{kn * 2}, v{kn * 2}, o{qn * 2}, d_o{qn * 2}, lse{size_t(kSeq) * kHeadsQ * 4};
  DeviceBuffer dq{qn * 2}, dk{kn * 2}, dv{kn * 2}, ws{hcpsim::kernels::flash_bwd_workspace_bytes(shape)};
  hcpsim::kernels::FwdArgs fwd;
  hcpsim::kernels::BwdArgs bwd;

  explicit Attention(cudaStream_t s) {
    fill_random_bf16(q, 11, s);
    fill_random_bf16(k, 12, s);
    fill_random_bf16(v, 13, s);
    fill_random_bf16(d_o, 14, s);
    fwd.shape = shape;
    fwd.q = view(q, kHeadsQ), fwd.k = view(k, kHeadsKv), fwd.v = view(v, kHeadsKv), fwd.o = view(o, kHeadsQ);
    fwd.lse = LseView{static_cast<float*>(lse.ptr), int64_t(kSeq) * kHeadsQ, kSeq};
    bwd.shape = shape;
    bwd.q = fwd.q, bwd.k = fwd.k, bwd.v = fwd.v, bwd.o = fwd.o, bwd.lse = fwd.lse, bwd.d_o = view(d_o, kHeadsQ);
    bwd.dq = view(dq, kHeadsQ), bwd.dk = view(dk, kHeadsKv), bwd.dv = view(dv, kHeadsKv);
    bwd.workspace = ws.ptr;
    hcpsim::kernels::flash_fwd(fwd, s);  // O and LSE for the backward
  }
  void run(bool backward, cudaStream_t s) const {
    if (backward)
      hcpsim::kernels::flash_bwd(bwd, s);
    else
      hcpsim::kernels::flash_fwd(fwd, s);
  }
  const DeviceBuffer& output(bool backward) const { return backward ? dq : o; }
};

// Every rank's verdict: true only when all processes say true.
bool all_true(const NcclWorld& w, bool mine) {
  for (double v : w.processes().allgather(std::vector<double>{mine ? 1.0 : 0.0}))
    if (v == 0) return false;
  return true;
}

struct Overlapped {
  RankTiming victim;
  bool verified = false;
  int repeats = 0;
};

double elapsed_s(cudaEvent_t a, cudaEvent_t b) {
  float ms = 0;
  HCPSIM_CUDA_CHECK(cudaEventElapsedTime(&ms, a, b));
  return ms * 1e-3;
}

// Victim timed while `repeats` aggressor operations run; see the file comment.
Overlapped overlapped(const NcclWorld& w, const std::vector<cudaStream_t>& victim_streams,
                      const std::function<void()>& victim, const std::vector<cudaStream_t>& aggressor_streams,
                      const std::function<void()>& aggressor, int repeats, int warmup, int iters,
                      const std::function<long long(int)>& wrong_of_slot) {
  const int n = w.slots();
  Overlapped out;
  for (int attempt = 0; attempt < 3; ++attempt, repeats *= 2) {
    std::vector<cudaEvent_t> agg_a(n), agg_b(n), va(size_t(n) * iters), vb(size_t(n) * iters);
    for (int s = 0; s < n; ++s) {
      HCPSIM_CUDA_CHECK(cudaSetDevice(w.device(s)));
      for (auto* e : {&agg_a[s], &agg_b[s]}) HCPSIM_CUDA_CHECK(cudaEventCreate(e));
      for (int i = 0; i < iters; ++i) {
        HCPSIM_CUDA_CHECK(cudaEventCreate(&va[s * iters + i]));
        HCPSIM_CUDA_CHECK(cudaEventCreate(&vb[s * iters + i]));
      }
      HCPSIM_CUDA_CHECK(cudaDeviceSynchronize());
    }
    w.processes().barrier();
    auto record = [&](std::vector<cudaEvent_t>& ev, size_t stride, size_t i, const std::vector<cudaStream_t>& st) {
      for (int s = 0; s < n; ++s) {
        HCPSIM_CUDA_CHECK(cudaSetDevice(w.device(s)));
        HCPSIM_CUDA_CHECK(cudaEventRecord(ev[s * stride + i], st[s]));
      }
    };
    record(agg_a, 1, 0, aggressor_streams);
    for (int k = 0; k < repeats; ++k) aggressor();
    record(agg_b, 1, 0, aggressor_streams);
    for (int i = 0; i < warmup; ++i) victim();
    for (int i = 0; i < iters; ++i) {
      record(va, iters, i, victim_streams);
      victim();
      record(vb, iters, i, victim_streams);
    }
    bool covered = true;
    std::vector<TimeStats> stats(n);
    std::vector<long long> wrong(n);
    for (int s = 0; s < n; ++s) {
      HCPSIM_CUDA_CHECK(cudaSetDevice(w.device(s)));
      HCPSIM_CUDA_CHECK(cudaDeviceSynchronize());
      std::vector<double> t;
      for (int i = 0; i < iters; ++i) t.push_back(elapsed_s(va[s * iters + i], vb[s * iters + i]));
      covered = covered && elapsed_s(agg_a[s], va[s * iters]) >= 0 &&
                elapsed_s(vb[s * iters + iters - 1], agg_b[s]) >= 0;
      stats[s] = stats_of(std::move(t));
      wrong[s] = wrong_of_slot(s);
      for (auto* v : {&agg_a, &agg_b}) cudaEventDestroy((*v)[s]);
      for (int i = 0; i < iters; ++i) cudaEventDestroy(va[s * iters + i]), cudaEventDestroy(vb[s * iters + i]);
    }
    out.victim = merge_over_ranks(w, stats, wrong);
    out.verified = all_true(w, covered);
    out.repeats = repeats;
    if (out.verified) break;
  }
  HCPSIM_CUDA_CHECK(cudaSetDevice(w.device(0)));
  return out;
}

// The transfer launched first, then `repeats` kernels on the compute streams, iteration by
// iteration from an idle GPU: the transfer's time (events around it on its own streams), and
// whether the kernels were still running when it ended on every rank.
Overlapped transfer_first(const NcclWorld& w, const std::vector<cudaStream_t>& transfer_streams,
                          const std::function<void()>& transfer, const std::vector<cudaStream_t>& kernel_streams,
                          const std::function<void()>& kernel, int repeats, int warmup, int iters,
                          const std::function<long long(int)>& wrong_of_slot) {
  const int n = w.slots();
  std::vector<std::vector<double>> t(n);
  bool covered = true;
  for (int it = 0; it < warmup + iters; ++it) {
    std::vector<cudaEvent_t> a(n), b(n), c(n);
    for (int s = 0; s < n; ++s) {
      HCPSIM_CUDA_CHECK(cudaSetDevice(w.device(s)));
      for (auto* e : {&a[s], &b[s], &c[s]}) HCPSIM_CUDA_CHECK(cudaEventCreate(e));
      HCPSIM_CUDA_CHECK(cudaEventRecord(a[s], transfer_streams[s]));
    }
    transfer();
    for (int s = 0; s < n; ++s) {
      HCPSIM_CUDA_CHECK(cudaSetDevice(w.device(s)));
      HCPSIM_CUDA_CHECK(cudaEventRecord(b[s], transfer_streams[s]));
    }
    for (int k = 0; k < repeats; ++k) kernel();
    for (int s = 0; s < n; ++s) {
      HCPSIM_CUDA_CHECK(cudaSetDevice(w.device(s)));
      HCPSIM_CUDA_CHECK(cudaEventRecord(c[s], kernel_streams[s]));
      HCPSIM_CUDA_CHECK(cudaDeviceSynchronize());
      if (it >= warmup) t[s].push_back(elapsed_s(a[s], b[s]));
      if (it >= warmup) covered = covered && elapsed_s(b[s], c[s]) >= 0;
      for (auto* e : {&a[s], &b[s], &c[s]}) cudaEventDestroy(*e);
    }
  }
  std::vector<TimeStats> stats(n);
  std::vector<long long> wrong(n);
  for (int s = 0; s < n; ++s) {
    stats[s] = stats_of(std::move(t[s]));
    wrong[s] = wrong_of_slot(s);
  }
  Overlapped out;
  out.victim = merge_over_ranks(w, stats, wrong);
  out.verified = all_true(w, covered);
  out.repeats = repeats;
  HCPSIM_CUDA_CHECK(cudaSetDevice(w.device(0)));
  return out;
}

TimeStats as_stats(const RankTiming& t, int iters) {
  TimeStats s;
  s.iterations = iters;
  s.median_s = t.median_s, s.min_s = t.min_s, s.max_s = t.max_s;
  return s;
}

// One cuBLAS bf16 GEMM (fp32 accumulate) of m = n = k = kGemmDim, the compute-bound victim.
constexpr int kGemmDim = 8192;
struct Gemm {
  cublasHandle_t handle{};
  DeviceBuffer a{size_t(kGemmDim) * kGemmDim * 2}, b{size_t(kGemmDim) * kGemmDim * 2}, c{size_t(kGemmDim) * kGemmDim * 2};
  explicit Gemm(cudaStream_t s) {
    if (cublasCreate(&handle) != CUBLAS_STATUS_SUCCESS) throw std::runtime_error("cublasCreate failed");
    cublasSetStream(handle, s);
    fill_random_bf16(a, 31, s);
    fill_random_bf16(b, 32, s);
  }
  ~Gemm() { cublasDestroy(handle); }
  void run() const {
    const float alpha = 1.f, beta = 0.f;
    if (cublasGemmEx(handle, CUBLAS_OP_N, CUBLAS_OP_N, kGemmDim, kGemmDim, kGemmDim, &alpha, b.ptr, CUDA_R_16BF,
                     kGemmDim, a.ptr, CUDA_R_16BF, kGemmDim, &beta, c.ptr, CUDA_R_16BF, kGemmDim, CUBLAS_COMPUTE_32F,
                     CUBLAS_GEMM_DEFAULT) != CUBLAS_STATUS_SUCCESS)
      throw std::runtime_error("cublasGemmEx failed");
  }
};

constexpr long long kSpinCycles = 2'000'000;  // ~1 ms at H200 clocks: one spin launch
constexpr int kCtaCounts[] = {1, 2, 4, 8, 16, 32};

}  // namespace

namespace {

// Part (c): see the file comment.
void run_cta_interference(const Options& o, NcclWorld& w, MeasurementLog* log, std::vector<cudaStream_t>& compute,
                          std::vector<std::unique_ptr<Attention>>& attn) {
  const int n = w.slots();
  std::vector<cudaStream_t> side(n);
  std::vector<std::unique_ptr<Gemm>> gemm(n);
  std::vector<std::unique_ptr<DeviceBuffer>> lsrc(n), ldst(n), vsrc(n), vdst(n);
  for (int s = 0; s < n; ++s) {
    HCPSIM_CUDA_CHECK(cudaSetDevice(w.device(s)));
    HCPSIM_CUDA_CHECK(cudaStreamCreateWithFlags(&side[s], cudaStreamNonBlocking));
    gemm[s] = std::make_unique<Gemm>(compute[s]);
    for (auto* b : {&lsrc[s], &ldst[s], &vsrc[s], &vdst[s]}) *b = std::make_unique<DeviceBuffer>(size_t(kTransferBytes));
    fill_random_bf16(*lsrc[s], 41, compute[s]);
    fill_random_bf16(*vsrc[s], 42, compute[s]);
    HCPSIM_CUDA_CHECK(cudaStreamSynchronize(compute[s]));
  }
  auto on_slots = [&](const std::function<void(int)>& f) {
    for (int s = 0; s < n; ++s) {
      HCPSIM_CUDA_CHECK(cudaSetDevice(w.device(s)));
      f(s);
    }
  };
  struct Victim {
    std::string name;
    std::function<void(int)> run;  // enqueues the victim on one slot (on_slots runs it on every slot)
  };
  const std::vector<Victim> victims = {
      {"attention_fwd", [&](int s) { attn[s]->run(false, compute[s]); }},
      {"attention_bwd", [&](int s) { attn[s]->run(true, compute[s]); }},
      {"gemm", [&](int s) { gemm[s]->run(); }},
      {"hbm_copy", [&](int s) {
         HCPSIM_CUDA_CHECK(cudaMemcpyAsync(vdst[s]->ptr, vsrc[s]->ptr, size_t(kTransferBytes), cudaMemcpyDeviceToDevice,
                                           compute[s]));
       }}};
  std::vector<long long> zero(n, 0);
  auto none_wrong = [](int) -> long long { return 0; };
  const bool out = w.writer();
  if (out) {
    std::printf("#\n# interference (c): victims beside k CTAs of %d threads that copy %lld bytes HBM to HBM (cta_copy) "
                "or spin %lld cycles (cta_spin); the k-CTA copy beside compute\n",
                kCtaLoadThreads, kTransferBytes, kSpinCycles);
    std::printf("# %16s %10s %5s %10s %10s %8s %12s %8s\n", "victim", "aggressor", "ctas", "alone", "with", "slowdown",
                "copy_alone", "covered");
    std::printf("# %16s %10s %5s %10s %10s %8s %12s %8s\n", "", "", "", "(us)", "(us)", "(x)", "(GB/s)", "");
  }
  const int window = o.warmup + o.iters;
  for (int k : kCtaCounts) {
    auto copy_k = [&](int s) { cta_copy(lsrc[s]->ptr, ldst[s]->ptr, size_t(kTransferBytes), k, side[s]); };
    auto spin_k = [&](int s) { cta_spin(kSpinCycles, k, side[s]); };
    const RankTiming copy_alone = merge_over_ranks(w, time_on_slots(w, side, [&](int) { on_slots(copy_k); }, o), zero);
    const RankTiming spin_alone = merge_over_ranks(w, time_on_slots(w, side, [&](int) { on_slots(spin_k); }, o), zero);
    const double copy_Bps = kTransferBytes / copy_alone.median_s;
    auto emit = [&](const std::string& victim, const std::string& aggressor, const RankTiming& alone,
                    const Overlapped& with, const char* launch_order = "aggressor_first") {
      const double slowdown = with.victim.median_s / alone.median_s;
      if (!out) return;
      std::printf("  %16s %10s %5d %10.1f %10.1f %8.3f %12.1f %8s%s\n", victim.c_str(), aggressor.c_str(), k,
                  alone.median_s * 1e6, with.victim.median_s * 1e6, slowdown, copy_Bps / 1e9,
                  with.verified ? "yes" : "NO",
                  std::string(launch_order) == "transfer_first" ? "  (transfer launched first)" : "");
      std::fflush(stdout);
      const std::string shape =
          "{\"ctas\": " + std::to_string(k) + ", \"threads_per_cta\": " + std::to_string(kCtaLoadThreads) +
          ", \"cta_copy_bytes\": " + std::to_string(kTransferBytes) + ", \"cta_copy_alone_Bps\": " +
          json_number(copy_Bps) + ", \"spin_cycles\": " + std::to_string(kSpinCycles) + ", \"attention\": {\"seq\": " +
          std::to_string(kSeq) + ", \"heads_q\": " + std::to_string(kHeadsQ) + ", \"heads_kv\": " +
          std::to_string(kHeadsKv) + ", \"head_dim\": " + std::to_string(kHeadDim) + "}, \"gemm_mnk\": " +
          std::to_string(kGemmDim) + ", \"ranks\": " + std::to_string(w.ranks()) + ", \"overlap_verified\": " +
          (with.verified ? "true" : "false") + ", \"aggressor_repeats\": " + std::to_string(with.repeats) +
          ", \"launch_order\": " + json_string(launch_order) + "}";
      Record r = make_record("interference", "hcpsim-flash+cta_load",
                             {{"victim", json_string(victim)},
                              {"aggressor", json_string(aggressor)},
                              {"shape", shape},
                              {"bytes", std::to_string(kTransferBytes)}},
                             as_stats(with.victim, o.iters), o.check && victim == "cta_copy", with.victim.wrong);
      r.results = {{"alone_median_s", json_number(alone.median_s)}, {"slowdown", json_number(slowdown)}};
      log->add(std::move(r));
    };
    for (const Victim& v : victims) {
      const RankTiming alone = merge_over_ranks(w, time_on_slots(w, compute, [&](int) { on_slots(v.run); }, o), zero);
      for (const bool copy : {true, false}) {
        const RankTiming& agg_alone = copy ? copy_alone : spin_alone;
        const int repeats = int(std::ceil(max_over_processes(w, 1.5 * window * alone.median_s / agg_alone.median_s))) + 2;
        const Overlapped with = overlapped(
            w, compute, [&] { on_slots(v.run); }, side, [&] { on_slots(copy ? std::function<void(int)>(copy_k) : spin_k); },
            repeats, o.warmup, o.iters, none_wrong);
        emit(v.name, copy ? "cta_copy" : "cta_spin", alone, with);
      }
    }
    // The k-CTA copy (the transfer) beside compute.
    for (size_t vi = 0; vi < 3; ++vi) {
      const Victim& agg = victims[vi];
      const RankTiming agg_alone = merge_over_ranks(w, time_on_slots(w, compute, [&](int) { on_slots(agg.run); }, o), zero);
      const int repeats = int(std::ceil(max_over_processes(w, 1.5 * window * copy_alone.median_s / agg_alone.median_s))) + 2;
      const Overlapped with = overlapped(
          w, side, [&] { on_slots(copy_k); }, compute, [&] { on_slots(agg.run); }, repeats, o.warmup, o.iters,
          [&](int s) -> long long {
            HCPSIM_CUDA_CHECK(cudaSetDevice(w.device(s)));
            return o.check ? count_mismatched_words(ldst[s]->ptr, lsrc[s]->ptr, size_t(kTransferBytes), side[s]) : 0;
          });
      emit("cta_copy", agg.name, copy_alone, with);
      // The same, the transfer launched first (its CTAs resident before the kernel's).
      const auto copy_wrong = [&](int s) -> long long {
        HCPSIM_CUDA_CHECK(cudaSetDevice(w.device(s)));
        return o.check ? count_mismatched_words(ldst[s]->ptr, lsrc[s]->ptr, size_t(kTransferBytes), side[s]) : 0;
      };
      const int kernels = int(std::ceil(max_over_processes(w, 1.5 * copy_alone.median_s / agg_alone.median_s))) + 1;
      const Overlapped first = transfer_first(w, side, [&] { on_slots(copy_k); }, compute, [&] { on_slots(agg.run); },
                                              kernels, o.warmup, o.iters, copy_wrong);
      emit("cta_copy", agg.name, copy_alone, first, "transfer_first");
    }
  }
  on_slots([&](int s) {
    HCPSIM_CUDA_CHECK(cudaDeviceSynchronize());
    HCPSIM_CUDA_CHECK(cudaStreamDestroy(side[s]));
  });
  HCPSIM_CUDA_CHECK(cudaSetDevice(w.device(0)));
}

}  // namespace

void run_interference_suite(const Options& options, NcclWorld& w, MeasurementLog* log) {
  // Warm-up by count only: the runs beside a transfer (overlapped) are counted runs inside
  // the transfer's window, so the runs alone are counted the same way, and each factor
  // compares two runs in the same state.
  Options o = options;
  o.warmup_ms = 0;
  const int n = w.slots();
  const bool nccl = w.ranks() > 1;
  // Record names (fit/measurements.cpp): the aggressor is "collective" or "copy"; as a
  // victim the transfer is "collective" either way, config.shape.transfer_op says which ran.
  const std::string aggressor_transfer = nccl ? "collective" : "copy";
  const std::string transfer_op = nccl ? "nccl_all_gather" : "cudaMemcpyAsync_d2d";
  const long long per_rank_elems = kTransferBytes / 2 / w.ranks();
  std::vector<cudaStream_t> compute(n), comm(n);
  std::vector<std::unique_ptr<Attention>> attn(n);
  std::vector<std::unique_ptr<DeviceBuffer>> src(n), dst(n);
  for (int s = 0; s < n; ++s) {
    HCPSIM_CUDA_CHECK(cudaSetDevice(w.device(s)));
    HCPSIM_CUDA_CHECK(cudaStreamCreateWithFlags(&compute[s], cudaStreamNonBlocking));
    comm[s] = w.stream(s);
    attn[s] = std::make_unique<Attention>(compute[s]);
    src[s] = std::make_unique<DeviceBuffer>(size_t(per_rank_elems) * 2);
    dst[s] = std::make_unique<DeviceBuffer>(size_t(kTransferBytes));
    fill_random_bf16(*src[s], 21 + w.rank_of(s), compute[s]);
    HCPSIM_CUDA_CHECK(cudaStreamSynchronize(compute[s]));
  }
  auto attention = [&](bool backward) {
    for (int s = 0; s < n; ++s) {
      HCPSIM_CUDA_CHECK(cudaSetDevice(w.device(s)));
      attn[s]->run(backward, compute[s]);
    }
  };
  auto move = [&] {
    if (nccl) {
      HCPCAL_NCCL_CHECK(ncclGroupStart());
      for (int s = 0; s < n; ++s)
        HCPCAL_NCCL_CHECK(ncclAllGather(src[s]->ptr, dst[s]->ptr, size_t(per_rank_elems), ncclBfloat16,
                                        w.world_comm(s), comm[s]));
      HCPCAL_NCCL_CHECK(ncclGroupEnd());
    } else {
      HCPSIM_CUDA_CHECK(cudaMemcpyAsync(dst[0]->ptr, src[0]->ptr, size_t(kTransferBytes), cudaMemcpyDeviceToDevice,
                                        comm[0]));
    }
  };
  // A transfer's own block of the destination against its source.
  auto transfer_wrong = [&](int s) -> long long {
    if (!o.check) return 0;
    HCPSIM_CUDA_CHECK(cudaSetDevice(w.device(s)));
    const size_t block = size_t(per_rank_elems) * 2;
    return count_mismatched_words(static_cast<char*>(dst[s]->ptr) + size_t(w.rank_of(s)) * block, src[s]->ptr, block,
                                  comm[s]);
  };
  std::vector<long long> zero(n, 0);
  const RankTiming move_alone =
      merge_over_ranks(w, time_on_slots(w, comm, [&](int) { move(); }, o), zero);
  const bool out = w.writer();
  if (out) {
    std::printf("#\n# interference: attention %d x %d, hq %d, hkv %d, d %d, no mask, vs a %lld-byte %s on another "
                "stream\n",
                kSeq, kSeq, kHeadsQ, kHeadsKv, kHeadDim, kTransferBytes, transfer_op.c_str());
    if (!nccl)
      std::printf("# one rank: a device-to-device copy stands in for the NCCL transfer (HBM traffic, no link)\n");
    std::printf("# %20s %20s %10s %10s %8s %7s %8s %6s\n", "victim", "aggressor", "alone", "with", "slowdown",
                "repeats", "covered", "#wrong");
    std::printf("# %20s %20s %10s %10s %8s %7s %8s %6s\n", "", "", "(us)", "(us)", "(x)", "", "", "");
  }
  auto emit = [&](const std::string& victim, const std::string& aggressor, const std::string& pass,
                  const RankTiming& alone, const Overlapped& with) {
    const double slowdown = with.victim.median_s / alone.median_s;
    if (!out) return;
    const std::string vname = victim == "collective" ? transfer_op : victim;
    const std::string aname = aggressor == "attention" ? pass : aggressor == "collective" || aggressor == "copy" ? transfer_op : aggressor;
    std::printf("  %20s %20s %10.1f %10.1f %8.3f %7d %8s %6lld\n", vname.c_str(), aname.c_str(),
                alone.median_s * 1e6, with.victim.median_s * 1e6, slowdown, with.repeats, with.verified ? "yes" : "NO",
                with.victim.wrong);
    std::fflush(stdout);
    // config.shape: the attention shape, the transfer, and how the overlap was made sure of.
    const std::string shape = "{\"seq\": " + std::to_string(kSeq) + ", \"heads_q\": " + std::to_string(kHeadsQ) +
                              ", \"heads_kv\": " + std::to_string(kHeadsKv) + ", \"head_dim\": " +
                              std::to_string(kHeadDim) + ", \"mask\": \"none\", \"attention_pass\": " +
                              json_string(pass) + ", \"transfer_op\": " + json_string(transfer_op) +
                              ", \"ranks\": " + std::to_string(w.ranks()) + ", \"overlap_verified\": " +
                              (with.verified ? "true" : "false") + ", \"aggressor_repeats\": " +
                              std::to_string(with.repeats) + "}";
    Record r = make_record("interference", nccl ? "hcpsim-flash+nccl" : "hcpsim-flash+cudaMemcpy",
                           {{"victim", json_string(victim)},
                            {"aggressor", json_string(aggressor)},
                            {"shape", shape},
                            {"bytes", std::to_string(kTransferBytes)}},
                           as_stats(with.victim, o.iters), o.check, with.victim.wrong);
    r.results = {{"alone_median_s", json_number(alone.median_s)}, {"slowdown", json_number(slowdown)}};
    log->add(std::move(r));
  };
  const int window = o.warmup + o.iters;
  for (bool backward : {false, true}) {
    const std::string pass = backward ? "attention_bwd" : "attention_fwd";
    const RankTiming attn_alone =
        merge_over_ranks(w, time_on_slots(w, compute, [&](int) { attention(backward); }, o), zero);
    // (a) attention while the transfer runs.
    for (int s = 0; s < n; ++s) {
      HCPSIM_CUDA_CHECK(cudaSetDevice(w.device(s)));
      poison(const_cast<DeviceBuffer&>(attn[s]->output(backward)), compute[s]);
    }
    const int move_repeats =
        int(std::ceil(max_over_processes(w, 1.5 * window * attn_alone.median_s / move_alone.median_s))) + 2;
    const Overlapped a = overlapped(
        w, compute, [&] { attention(backward); }, comm, move, move_repeats, o.warmup, o.iters, [&](int s) -> long long {
          if (!o.check) return 0;
          HCPSIM_CUDA_CHECK(cudaSetDevice(w.device(s)));
          const DeviceBuffer& b = attn[s]->output(backward);
          return count_nonfinite_bf16(b.bf16(), b.bytes / 2, compute[s]);
        });
    emit(pass, aggressor_transfer, pass, attn_alone, a);
    // (b) the transfer while attention runs.
    const int attn_repeats =
        int(std::ceil(max_over_processes(w, 1.5 * window * move_alone.median_s / attn_alone.median_s))) + 2;
    const Overlapped b = overlapped(
        w, comm, move, compute, [&] { attention(backward); }, attn_repeats, o.warmup, o.iters, transfer_wrong);
    emit("collective", "attention", pass, move_alone, b);
  }
  run_cta_interference(o, w, log, compute, attn);
  for (int s = 0; s < n; ++s) {
    HCPSIM_CUDA_CHECK(cudaSetDevice(w.device(s)));
    HCPSIM_CUDA_CHECK(cudaDeviceSynchronize());
    HCPSIM_CUDA_CHECK(cudaStreamDestroy(compute[s]));
  }
  HCPSIM_CUDA_CHECK(cudaSetDevice(w.device(0)));
}

}  // namespace hcpcal

// The p2p ring (docs/cp-transports.md §2): forward §2.2-2.4 and backward §2.5, for every local
// rank's ring at once (p2p: one ring of R ranks; a2a+p2p: A rings of P ranks, stride A).
#include <functional>
#include <string>

#include "cp_detail.h"
#include "cp_ops.h"
#include "cp_steps.h"
#include "cuda_check.h"
#include "rules/cp_schedule.hpp"
#include "rules/op_label.hpp"

namespace hcpcal::cpd {

namespace {

using hcpsim::kernels::BwdArgs;
using hcpsim::kernels::FwdArgs;
using hcpsim::kernels::GradAccumArgs;
using hcpsim::kernels::offset_rows;

using Sec = hcpsim::RingSection;

// Forward step i of ring rank p attends to the KV of rank (p - i) mod N.
Sec fwd_sec(int n, int p, int i) { return hcpsim::ring_forward_section(n, p, i, true); }
// Backward step i is forward step N-1-i: rank p holds the KV of rank (p + 1 + i) mod N.
Sec bwd_sec(int n, int p, int i) { return hcpsim::ring_backward_section(n, p, i, true); }

// The kernel's label as the workload builder names the op (rules/op_label.hpp).
std::string label(bool backward, int i, Sec s) { return hcpsim::attention_kernel_label(backward, hcpsim::ring_step_what(i, s)); }

cudaEvent_t record(cudaStream_t s) {
  cudaEvent_t e{};
  HCPSIM_CUDA_CHECK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
  HCPSIM_CUDA_CHECK(cudaEventRecord(e, s));
  return e;
}
void wait_and_destroy(cudaStream_t s, cudaEvent_t& e) {
  HCPSIM_CUDA_CHECK(cudaStreamWaitEvent(s, e));
  HCPSIM_CUDA_CHECK(cudaEventDestroy(e));
  e = nullptr;
}

// Ring send/recv of `bytes` at `offset` in each member's buffers, grouped by ring; with
// `only` >= 0, the receive of member `only` alone (CpTransport::exchanges_per_rank).
void ring_exchange(CpContext& ctx, const std::vector<RingMember>& m, int shift, const std::vector<Buf>& send,
                   const std::vector<Buf>& recv, size_t offset, size_t bytes, int only = -1) {
  std::vector<bool> done(m.size(), false);
  for (size_t a = 0; a < m.size(); ++a) {
    if (done[a] || (only >= 0 && m[a].ring.ranks != m[size_t(only)].ring.ranks)) continue;
    const CpGroup& g = m[a].ring;
    std::vector<const void*> s(g.size(), nullptr);
    std::vector<void*> r(g.size(), nullptr);
    for (size_t b = a; b < m.size(); ++b) {
      if (m[b].ring.ranks != g.ranks) continue;
      done[b] = true;
      s[m[b].pos] = send[b].c() + offset;
      if (only < 0 || b == size_t(only)) r[m[b].pos] = recv[b].c() + offset;
    }
    ctx.t.send_recv(g, shift, s, r, bytes);
  }
}

// A ring step's transfer: each receiving member's comm stream waits for its compute stream,
// then the exchange, then arrived[j] marks member j's receive. All members at once (only < 0,
// TE's grouped send/recv) or member `only` alone (CpTransport::exchanges_per_rank).
void issue_exchange(CpContext& ctx, const std::vector<RingMember>& m, int shift, const std::vector<Buf>& send,
                    const std::vector<Buf>& recv, size_t offset, size_t bytes, int only,
                    std::vector<cudaEvent_t>& arrived) {
  auto members = [&](const std::function<void(size_t, int)>& f) {
    for (size_t j = 0; j < m.size(); ++j)
      if (only < 0 || j == size_t(only)) {
        const int r = ctx.ranks[m[j].local].rank;
        ctx.t.use(r);
        f(j, r);
      }
  };
  members([&](size_t, int r) { stream_wait(ctx.t.comm_stream(r), ctx.t.compute_stream(r)); });
  ring_exchange(ctx, m, shift, send, recv, offset, bytes, only);
  members([&](size_t j, int r) { arrived[j] = record(ctx.t.comm_stream(r)); });
}

// grad_accumulate over `rows` rows starting at dst_row / src_row (bf16, TE's input dtype).
void accumulate(void* dst, int dst_rows, int dst_row, void* src, int src_rows, int src_row, int rows, int heads,
                int d, bool copy, cudaStream_t s) {
  GradAccumArgs a;
  a.dst = offset_rows(bshd(dst, dst_rows, heads, d), dst_row);
  a.src = offset_rows(bshd(src, src_rows, heads, d), src_row);
  a.rows = rows;
  a.heads = heads;
  a.head_dim = d;
  a.copy = copy;
  hcpsim::kernels::grad_accumulate(a, s);
}

}  // namespace

void ring_forward(CpContext& ctx, const Dims& dm, const std::vector<RingMember>& m, std::vector<RingFwdIo>& io) {
  const int N = m.front().ring.size(), L = dm.len, c = L / 2;
  const size_t kb = dm.k_bytes();
  const size_t M = m.size();
  std::vector<std::vector<Buf>> kv(M, std::vector<Buf>(N)), o_step(M, std::vector<Buf>(N)),
      lse_step(M, std::vector<Buf>(N));
  std::vector<std::vector<cudaEvent_t>> arrived(N, std::vector<cudaEvent_t>(M, nullptr));  // [step][member]
  for (size_t j = 0; j < M; ++j) {  // torch.cat(k, v): the first send buffer
    const int r = ctx.ranks[m[j].local].rank;
    ctx.t.use(r);
    const cudaStream_t s = ctx.t.compute_stream(r);
    kv[j][0] = ctx.alloc(r, 2 * kb);
    copy_async(kv[j][0].c(), io[j].k.p, kb, s);
    copy_async(kv[j][0].c() + kb, io[j].v.p, kb, s);
  }
  for (int i = 0; i < N; ++i) {
    for (size_t j = 0; j < M; ++j)
      if (i >= 1) {
        ctx.t.use(ctx.ranks[m[j].local].rank);
        wait_and_destroy(ctx.t.compute_stream(ctx.ranks[m[j].local].rank), arrived[size_t(i)][j]);
      }
    // The transfer for step i+1, issued before the step-i kernel: grouped, or rank by rank
    // right before each rank's kernel (exchanges_per_rank).
    const bool transfer = i < N - 1, per_rank = ctx.t.exchanges_per_rank();
    std::vector<Buf> send(M), recv(M);
    auto issue = [&](int only) { issue_exchange(ctx, m, +1, send, recv, 0, 2 * kb, only, arrived[size_t(i) + 1]); };
    if (transfer) {
      for (size_t j = 0; j < M; ++j) {
        const int r = ctx.ranks[m[j].local].rank;
        ctx.t.use(r);
        kv[j][i + 1] = ctx.alloc(r, 2 * kb);  // a new receive buffer every step, all kept
        send[j] = kv[j][i];
        recv[j] = kv[j][i + 1];
      }
      if (!per_rank) issue(-1);
    }
    for (size_t j = 0; j < M; ++j) {
      if (transfer && per_rank) issue(int(j));
      const int r = ctx.ranks[m[j].local].rank;
      ctx.t.use(r);
      const cudaStream_t s = i % 2 ? ctx.t.side_stream(r) : ctx.t.compute_stream(r);
      if (s != ctx.t.compute_stream(r)) stream_wait(s, ctx.t.compute_stream(r));
      const Sec sec = fwd_sec(N, m[j].pos, i);
      const int rows = sec == Sec::Upper ? c : L;
      o_step[j][i] = ctx.alloc(r, size_t(rows) * dm.hq * dm.d * 2);
      lse_step[j][i] = ctx.alloc(r, size_t(rows) * dm.hq * 4);
      FwdArgs a;
      a.shape = {1, sec == Sec::Upper ? c : L, sec == Sec::Lower ? c : L, dm.hq, dm.hk, dm.d, sec == Sec::Diagonal, 0.f};
      a.q = offset_rows(bshd(io[j].q.p, L, dm.hq, dm.d), sec == Sec::Upper ? c : 0);
      a.k = bshd(kv[j][i].p, L, dm.hk, dm.d);
      a.v = bshd(kv[j][i].c() + kb, L, dm.hk, dm.d);
      a.o = bshd(o_step[j][i].p, rows, dm.hq, dm.d);
      a.lse = lse_view(lse_step[j][i].p, rows, dm.hq);
      timed_fwd(ctx, r, label(false, i, sec), a, s);
      if (s != ctx.t.compute_stream(r)) stream_wait(ctx.t.compute_stream(r), s);
    }
    // LSE merge of step i-1 (and of the last step after the loop), serialized.
    for (int k = i - 1; k <= (i == N - 1 ? i : i - 1); ++k) {
      if (k < 0) continue;
      for (size_t j = 0; j < M; ++j) {
        const int r = ctx.ranks[m[j].local].rank;
        ctx.t.use(r);
        const cudaStream_t s = ctx.t.compute_stream(r);
        if (k == 0) {
          io[j].lse = ctx.alloc(r, dm.lse_bytes());  // lse = lse_0.clone()
          copy_async(io[j].lse.p, lse_step[j][0].p, dm.lse_bytes(), s);
          continue;
        }
        const LseView acc = lse_view(io[j].lse.p, L, dm.hq);
        if (fwd_sec(N, m[j].pos, k) == Sec::Upper)
          hcpsim::kernels::lse_merge(offset_rows(acc, c), lse_view(lse_step[j][k].p, c, dm.hq), 1, dm.hq, c, s);
        else
          hcpsim::kernels::lse_merge(acc, lse_view(lse_step[j][k].p, L, dm.hq), 1, dm.hq, L, s);
      }
    }
  }
  for (size_t j = 0; j < M; ++j) {  // out = sum of exp(lse_i - lse) out_i, in bf16 like TE
    const int r = ctx.ranks[m[j].local].rank;
    ctx.t.use(r);
    const cudaStream_t s = ctx.t.compute_stream(r);
    io[j].o = ctx.alloc(r, dm.q_bytes());
    for (int i = 0; i < N; ++i) {
      const bool upper = fwd_sec(N, m[j].pos, i) == Sec::Upper;
      const int off = upper ? c : 0, rows = upper ? c : L;
      hcpsim::kernels::OutCorrectionArgs a;
      a.out_acc = offset_rows(bshd(io[j].o.p, L, dm.hq, dm.d), off);
      a.out_step = bshd(o_step[j][i].p, rows, dm.hq, dm.d);
      a.lse_step = lse_view(lse_step[j][i].p, rows, dm.hq);
      a.lse_final = offset_rows(lse_view(io[j].lse.p, L, dm.hq), off);
      a.rows = rows;
      a.heads = dm.hq;
      a.head_dim = dm.d;
      a.accum = hcpsim::kernels::OutAccum::kBf16;
      a.init = i == 0;
      hcpsim::kernels::out_correction(a, s);
    }
    for (int i = 0; i < N; ++i) {
      ctx.free(r, o_step[j][i]);
      ctx.free(r, lse_step[j][i]);
      if (i < N - 1) ctx.free(r, kv[j][i]);
    }
    io[j].kv_saved = kv[j][N - 1];  // the KV of rank p+1, saved for backward
  }
}

void ring_backward(CpContext& ctx, const Dims& dm, const std::vector<RingMember>& m, std::vector<RingBwdIo>& io) {
  const int N = m.front().ring.size(), L = dm.len, c = L / 2, hq = dm.hq, hk = dm.hk, d = dm.d;
  const size_t kb = dm.k_bytes();
  const size_t M = m.size();
  std::vector<Buf> lse_half(M), b0(M), b1(M);
  for (size_t j = 0; j < M; ++j) {
    const int r = ctx.ranks[m[j].local].rank;
    ctx.t.use(r);
    const cudaStream_t s = ctx.t.compute_stream(r);
    lse_half[j] = ctx.alloc(r, dm.lse_bytes() / 2);  // contiguous second half for upper steps
    HCPSIM_CUDA_CHECK(cudaMemcpy2DAsync(lse_half[j].p, c * 4, io[j].lse.c() + c * 4, L * 4, c * 4, hq,
                                        cudaMemcpyDeviceToDevice, s));
    b0[j] = ctx.alloc(r, 4 * kb);  // p2p_comm_buffers: two [2, KV] tensors, (KV, dKV)
    b1[j] = ctx.alloc(r, 4 * kb);
    copy_async(b0[j].p, io[j].kv.p, 2 * kb, s);
    io[j].dq = ctx.alloc(r, dm.q_bytes());  // dq_buffer
  }
  auto buf = [&](size_t j, int k) -> Buf& { return k % 2 ? b1[j] : b0[j]; };
  for (int i = 0; i < N; ++i) {
    // Step i's transfer: KV (i = 0), KV + dKV (0 < i < N-1), dKV (i = N-1), to ring rank p-1;
    // grouped before the step's kernels, or rank by rank before each (exchanges_per_rank).
    std::vector<Buf> send(M), recv(M);
    for (size_t j = 0; j < M; ++j) {
      send[j] = buf(j, i);
      recv[j] = buf(j, i + 1);
    }
    const size_t off = i == N - 1 ? 2 * kb : 0;
    const size_t bytes = (i == 0 || i == N - 1) ? 2 * kb : 4 * kb;
    const bool per_rank = ctx.t.exchanges_per_rank();
    std::vector<cudaEvent_t> arrived(M);
    if (!per_rank) issue_exchange(ctx, m, -1, send, recv, off, bytes, -1, arrived);
    for (size_t j = 0; j < M; ++j) {
      if (per_rank) issue_exchange(ctx, m, -1, send, recv, off, bytes, int(j), arrived);
      const int r = ctx.ranks[m[j].local].rank, p = m[j].pos;
      ctx.t.use(r);
      const cudaStream_t s = ctx.t.compute_stream(r);
      const Sec sec = bwd_sec(N, p, i);
      const int sq = sec == Sec::Upper ? c : L, skv = sec == Sec::Lower ? c : L, qoff = sec == Sec::Upper ? c : 0;
      Buf dq_ = ctx.alloc(r, size_t(sq) * hq * d * 2);
      Buf dk_ = ctx.alloc(r, size_t(skv) * hk * d * 2);
      Buf dv_ = ctx.alloc(r, size_t(skv) * hk * d * 2);
      BwdArgs a;
      a.shape = {1, sq, skv, hq, hk, d, sec == Sec::Diagonal, 0.f};
      Buf ws = ctx.alloc(r, hcpsim::kernels::flash_bwd_workspace_bytes(a.shape));
      a.q = offset_rows(bshd(io[j].q.p, L, hq, d), qoff);
      a.o = offset_rows(bshd(io[j].o.p, L, hq, d), qoff);
      a.d_o = offset_rows(bshd(io[j].dout.p, L, hq, d), qoff);
      a.k = bshd(buf(j, i).p, L, hk, d);
      a.v = bshd(buf(j, i).c() + kb, L, hk, d);
      a.lse = sec == Sec::Upper ? lse_view(lse_half[j].p, c, hq) : lse_view(io[j].lse.p, L, hq);
      a.dq = bshd(dq_.p, sq, hq, d);
      a.dk = bshd(dk_.p, skv, hk, d);
      a.dv = bshd(dv_.p, skv, hk, d);
      a.workspace = ws.p;
      timed_bwd(ctx, r, label(true, i, sec), a, s);
      // dQ into dq_buffer (TE's branches: halves are copied when first written).
      void* dq = io[j].dq.p;
      if (i < N - 1 - p) {
        accumulate(dq, L, c, dq_.p, c, 0, c, hq, d, i == 0, s);
      } else if (i == N - 1 - p) {
        if (p == N - 1) {
          accumulate(dq, L, 0, dq_.p, L, 0, L, hq, d, true, s);
        } else {
          accumulate(dq, L, 0, dq_.p, L, 0, c, hq, d, true, s);
          accumulate(dq, L, c, dq_.p, L, c, c, hq, d, false, s);
        }
      } else {
        accumulate(dq, L, 0, dq_.p, L, 0, L, hq, d, false, s);
      }
      wait_and_destroy(s, arrived[j]);
      // dK/dV into the received dKV slot.
      Buf& dst = buf(j, i + 1);
      for (int t = 0; t < 2; ++t) {
        void* slot = dst.c() + (2 + t) * kb;
        void* src = t ? dv_.p : dk_.p;
        if (sec == Sec::Diagonal) {
          if (p == 0) {
            accumulate(slot, L, 0, src, L, 0, c, hk, d, false, s);
            accumulate(slot, L, c, src, L, c, c, hk, d, true, s);
          } else {
            accumulate(slot, L, 0, src, L, 0, L, hk, d, false, s);
          }
        } else if (sec == Sec::Lower) {
          accumulate(slot, L, 0, src, c, 0, c, hk, d, i == 0 && p == N - 1, s);
        } else {
          accumulate(slot, L, 0, src, L, 0, L, hk, d, i == 0, s);
        }
      }
      for (Buf* b : {&dq_, &dk_, &dv_, &ws}) ctx.free(r, *b);
    }
  }
  for (size_t j = 0; j < M; ++j) {
    const int r = ctx.ranks[m[j].local].rank;
    ctx.t.use(r);
    io[j].dkv_owner = buf(j, N);
    io[j].dk = Buf{io[j].dkv_owner.c() + 2 * kb, kb, false};
    io[j].dv = Buf{io[j].dkv_owner.c() + 3 * kb, kb, false};
    ctx.free(r, buf(j, N + 1));
    ctx.free(r, lse_half[j]);
  }
}

void p2p_forward(CpContext& ctx) {
  const CpShape& sh = ctx.shape;
  const Dims dm{sh.local(), sh.heads_q, sh.heads_kv, sh.head_dim};
  const auto m = ring_members(ctx);
  std::vector<RingFwdIo> io(m.size());
  for (size_t j = 0; j < m.size(); ++j) {
    const CpRank& k = ctx.ranks[m[j].local];
    ctx.t.use(k.rank);
    io[j].q = k.q;
    io[j].k = k.k;
    io[j].v = k.v;
  }
  ring_forward(ctx, dm, m, io);
  for (size_t j = 0; j < m.size(); ++j) {
    CpRank& k = ctx.ranks[m[j].local];
    ctx.t.use(k.rank);
    k.o = io[j].o;
    k.saved.q = Buf{k.q.p, k.q.bytes, false};
    k.saved.k = io[j].kv_saved;  // packed [K | V]
    k.saved.v = Buf{io[j].kv_saved.c() + dm.k_bytes(), dm.k_bytes(), false};
    k.saved.o = Buf{k.o.p, k.o.bytes, false};
    k.saved.lse = io[j].lse;
  }
}

void p2p_backward(CpContext& ctx) {
  const CpShape& sh = ctx.shape;
  const Dims dm{sh.local(), sh.heads_q, sh.heads_kv, sh.head_dim};
  const auto m = ring_members(ctx);
  std::vector<RingBwdIo> io(m.size());
  for (size_t j = 0; j < m.size(); ++j) {
    const CpRank& k = ctx.ranks[m[j].local];
    ctx.t.use(k.rank);
    io[j] = ring_bwd_inputs(k.saved, k.dout);
  }
  ring_backward(ctx, dm, m, io);
  for (size_t j = 0; j < m.size(); ++j) {
    CpRank& k = ctx.ranks[m[j].local];
    ctx.t.use(k.rank);
    k.dq = io[j].dq;
    k.dk = io[j].dk;
    k.dv = io[j].dv;
    k.keep = {io[j].dkv_owner};
  }
}

}  // namespace hcpcal::cpd

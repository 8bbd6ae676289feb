// all_gather CP (docs/cp-transports.md §3): two synchronous all-gathers (K, then V), the reorder to
// natural order, one kernel per local Q chunk over the KV prefix it can see (bottom-right
// causal); backward: re-gather, per-chunk backward, dK/dV summed into zeroed full-length
// buffers, reordered back and reduce-scattered (dK, then dV).
#include <string>

#include "cp_detail.h"
#include "cp_ops.h"
#include "cp_steps.h"
#include "cuda_check.h"
#include "rules/cp_schedule.hpp"
#include "rules/op_label.hpp"

namespace hcpcal::cpd {

namespace {

using hcpsim::kernels::offset_rows;

CpGroup whole(const CpContext& ctx) {
  CpGroup g;
  for (int r = 0; r < ctx.shape.ranks; ++r) g.ranks.push_back(r);
  return g;
}

// Rank-major [rank][2 chunks] <-> natural chunk order (TE's chunk ids before/after attention):
// natural chunk x < N is rank x's first chunk, natural chunk 2N-1-x is rank x's second.
void reorder(void* dst, const void* src, int n, size_t chunk_bytes, bool to_natural, cudaStream_t s) {
  for (int x = 0; x < n; ++x)
    for (int h = 0; h < 2; ++h) {
      const size_t natural = h == 0 ? x : 2 * n - 1 - x, rank_major = 2 * x + h;
      const size_t d = to_natural ? natural : rank_major, f = to_natural ? rank_major : natural;
      copy_async(static_cast<char*>(dst) + d * chunk_bytes, static_cast<const char*>(src) + f * chunk_bytes,
                 chunk_bytes, s);
    }
}

// One synchronous all-gather of every local rank's `part` (kb bytes) into a new N*kb buffer.
std::vector<Buf> gather(CpContext& ctx, const std::vector<Buf>& part, size_t kb) {
  const CpGroup g = whole(ctx);
  std::vector<Buf> out(ctx.ranks.size());
  std::vector<const void*> send(g.size(), nullptr);
  std::vector<void*> recv(g.size(), nullptr);
  for (size_t j = 0; j < ctx.ranks.size(); ++j) {
    const int r = ctx.ranks[j].rank;
    ctx.t.use(r);
    out[j] = ctx.alloc(r, g.size() * kb);
    stream_wait(ctx.t.comm_stream(r), ctx.t.compute_stream(r));
    send[r] = part[j].p;
    recv[r] = out[j].p;
  }
  ctx.t.all_gather(g, send, recv, kb);
  for (const CpRank& k : ctx.ranks) wait_on(ctx, k.rank, ctx.t.compute_stream(k.rank), ctx.t.comm_stream(k.rank));
  return out;
}

// K and V to sequence-first (a copy), gathered, reordered: the full-sequence K and V.
void gather_kv(CpContext& ctx, std::vector<Buf>& k_full, std::vector<Buf>& v_full) {
  const CpShape& sh = ctx.shape;
  const int N = sh.ranks, L = sh.local();
  const size_t kb = size_t(L) * sh.heads_kv * sh.head_dim * 2;
  std::vector<Buf> ks(ctx.ranks.size()), vs(ctx.ranks.size());
  for (size_t j = 0; j < ctx.ranks.size(); ++j) {
    const CpRank& k = ctx.ranks[j];
    ctx.t.use(k.rank);
    ks[j] = ctx.alloc(k.rank, kb);
    vs[j] = ctx.alloc(k.rank, kb);
    copy_async(ks[j].p, k.k.p, kb, ctx.t.compute_stream(k.rank));
    copy_async(vs[j].p, k.v.p, kb, ctx.t.compute_stream(k.rank));
  }
  std::vector<Buf> kg = gather(ctx, ks, kb);
  std::vector<Buf> vg = gather(ctx, vs, kb);
  k_full.resize(ctx.ranks.size());
  v_full.resize(ctx.ranks.size());
  for (size_t j = 0; j < ctx.ranks.size(); ++j) {
    const int r = ctx.ranks[j].rank;
    ctx.t.use(r);
    ctx.free(r, ks[j]);
    ctx.free(r, vs[j]);
    for (int t = 0; t < 2; ++t) {
      std::vector<Buf>& g = t ? vg : kg;
      Buf& full = t ? v_full[j] : k_full[j];
      full = ctx.alloc(r, N * kb);
      reorder(full.p, g[j].p, N, kb / 2, true, ctx.t.compute_stream(r));
      ctx.free(r, g[j]);
    }
  }
}

int chunk_id(const CpShape& sh, int rank, int j) { return int(hcpsim::dual_chunk_id(sh.ranks, rank, j)); }

}  // namespace

void all_gather_forward(CpContext& ctx) {
  const CpShape& sh = ctx.shape;
  const int L = sh.local(), c = L / 2, hq = sh.heads_q, hk = sh.heads_kv, d = sh.head_dim;
  std::vector<Buf> kf, vf;
  gather_kv(ctx, kf, vf);
  for (size_t j = 0; j < ctx.ranks.size(); ++j) {
    CpRank& k = ctx.ranks[j];
    const int r = k.rank;
    ctx.t.use(r);
    const cudaStream_t cs = ctx.t.compute_stream(r);
    k.o = ctx.alloc(r, size_t(L) * hq * d * 2);
    k.saved.lse = ctx.alloc(r, size_t(L) * hq * 4);  // the two chunks' LSEs, [hq, L]
    Buf o_step[2];
    for (int h = 0; h < 2; ++h) {
      const cudaStream_t s = h ? ctx.t.side_stream(r) : cs;
      const int id = chunk_id(sh, r, h), skv = (id + 1) * c;
      o_step[h] = ctx.alloc(r, size_t(c) * hq * d * 2);
      hcpsim::kernels::FwdArgs a;
      a.shape = {1, c, skv, hq, hk, d, true, 0.f, skv - c};  // bottom-right causal
      a.q = offset_rows(bshd(k.q.p, L, hq, d), h * c);
      a.k = bshd(kf[j].p, skv, hk, d);
      a.v = bshd(vf[j].p, skv, hk, d);
      a.o = bshd(o_step[h].p, c, hq, d);
      a.lse = offset_rows(lse_view(k.saved.lse.p, L, hq), h * c);
      if (h) stream_wait(s, cs);  // chunk 2N-1-r on TE's cp_stream
      timed_fwd(ctx, r, hcpsim::attention_kernel_label(false, hcpsim::chunk_what(id)), a, s);
      copy_async(k.o.c() + size_t(h) * c * hq * d * 2, o_step[h].p, o_step[h].bytes, s);
    }
    stream_wait(cs, ctx.t.side_stream(r));
    for (Buf& b : o_step) ctx.free(r, b);
    ctx.free(r, kf[j]);
    ctx.free(r, vf[j]);
    k.saved.q = Buf{k.q.p, k.q.bytes, false};
    k.saved.k = Buf{k.k.p, k.k.bytes, false};
    k.saved.v = Buf{k.v.p, k.v.bytes, false};
    k.saved.o = Buf{k.o.p, k.o.bytes, false};
  }
}

void all_gather_backward(CpContext& ctx) {
  const CpShape& sh = ctx.shape;
  const int N = sh.ranks, L = sh.local(), c = L / 2, hq = sh.heads_q, hk = sh.heads_kv, d = sh.head_dim;
  const size_t kb = size_t(L) * hk * d * 2;
  std::vector<Buf> kf, vf;
  gather_kv(ctx, kf, vf);  // only the local K and V were saved
  const size_t M = ctx.ranks.size();
  std::vector<Buf> dkf(M), dvf(M), dq_part(2 * M);
  for (size_t j = 0; j < M; ++j) {
    CpRank& k = ctx.ranks[j];
    const int r = k.rank;
    ctx.t.use(r);
    const cudaStream_t cs = ctx.t.compute_stream(r);
    dkf[j] = ctx.alloc(r, N * kb);  // zeroed full-length dK, dV in bf16
    dvf[j] = ctx.alloc(r, N * kb);
    HCPSIM_CUDA_CHECK(cudaMemsetAsync(dkf[j].p, 0, N * kb, cs));
    HCPSIM_CUDA_CHECK(cudaMemsetAsync(dvf[j].p, 0, N * kb, cs));
    for (int h = 0; h < 2; ++h) {
      const cudaStream_t s = h ? ctx.t.side_stream(r) : cs;
      const int id = chunk_id(sh, r, h), skv = (id + 1) * c;
      Buf& dq_ = dq_part[2 * j + h];
      dq_ = ctx.alloc(r, size_t(c) * hq * d * 2);
      Buf dk_ = ctx.alloc(r, size_t(skv) * hk * d * 2), dv_ = ctx.alloc(r, size_t(skv) * hk * d * 2);
      hcpsim::kernels::BwdArgs a;
      a.shape = {1, c, skv, hq, hk, d, true, 0.f, skv - c};
      Buf ws = ctx.alloc(r, hcpsim::kernels::flash_bwd_workspace_bytes(a.shape));
      a.q = offset_rows(bshd(k.saved.q.p, L, hq, d), h * c);
      a.o = offset_rows(bshd(k.saved.o.p, L, hq, d), h * c);
      a.d_o = offset_rows(bshd(k.dout.p, L, hq, d), h * c);
      a.lse = offset_rows(lse_view(k.saved.lse.p, L, hq), h * c);
      a.k = bshd(kf[j].p, skv, hk, d);
      a.v = bshd(vf[j].p, skv, hk, d);
      a.dq = bshd(dq_.p, c, hq, d);
      a.dk = bshd(dk_.p, skv, hk, d);
      a.dv = bshd(dv_.p, skv, hk, d);
      a.workspace = ws.p;
      if (h) stream_wait(s, cs);
      timed_bwd(ctx, r, hcpsim::attention_kernel_label(true, hcpsim::chunk_what(id)), a, s);
      if (h) stream_wait(cs, s);  // the dK/dV adds are serialized
      for (int t = 0; t < 2; ++t) {
        hcpsim::kernels::GradAccumArgs g;
        g.dst = bshd(t ? dvf[j].p : dkf[j].p, N * L, hk, d);
        g.src = bshd(t ? dv_.p : dk_.p, skv, hk, d);
        g.rows = skv;
        g.heads = hk;
        g.head_dim = d;
        hcpsim::kernels::grad_accumulate(g, cs);
      }
      for (Buf* b : {&dk_, &dv_, &ws}) ctx.free(r, *b);
    }
    ctx.free(r, kf[j]);
    ctx.free(r, vf[j]);
    for (int t = 0; t < 2; ++t) {  // back to rank order
      Buf& full = t ? dvf[j] : dkf[j];
      Buf ranked = ctx.alloc(r, N * kb);
      reorder(ranked.p, full.p, N, kb / 2, false, cs);
      ctx.free(r, full);
      full = ranked;
    }
  }
  const CpGroup g = whole(ctx);
  for (int t = 0; t < 2; ++t) {  // reduce-scatter dK, then dV
    std::vector<const void*> send(N, nullptr);
    std::vector<void*> recv(N, nullptr);
    for (size_t j = 0; j < M; ++j) {
      CpRank& k = ctx.ranks[j];
      ctx.t.use(k.rank);
      Buf& out = t ? k.dv : k.dk;
      out = ctx.alloc(k.rank, kb);
      stream_wait(ctx.t.comm_stream(k.rank), ctx.t.compute_stream(k.rank));
      send[k.rank] = (t ? dvf[j] : dkf[j]).p;
      recv[k.rank] = out.p;
    }
    ctx.t.reduce_scatter_bf16_sum(g, send, recv, kb / 2);
    for (const CpRank& k : ctx.ranks) wait_on(ctx, k.rank, ctx.t.compute_stream(k.rank), ctx.t.comm_stream(k.rank));
  }
  for (size_t j = 0; j < M; ++j) {
    CpRank& k = ctx.ranks[j];
    ctx.t.use(k.rank);
    const cudaStream_t cs = ctx.t.compute_stream(k.rank);
    ctx.free(k.rank, dkf[j]);
    ctx.free(k.rank, dvf[j]);
    k.dq = ctx.alloc(k.rank, size_t(L) * hq * d * 2);
    for (int h = 0; h < 2; ++h) {  // dQ chunks into place
      copy_async(k.dq.c() + size_t(h) * c * hq * d * 2, dq_part[2 * j + h].p, dq_part[2 * j + h].bytes, cs);
      ctx.free(k.rank, dq_part[2 * j + h]);
    }
    k.keep.clear();
  }
}

}  // namespace hcpcal::cpd

// a2a (Ulysses, docs/cp-transports.md §4) and a2a+p2p (§5): Q, K, V all-to-all from sequence to
// heads over the a2a group (all R ranks; a2a+p2p: A consecutive ranks), then one
// full-sequence kernel (a2a) or the p2p ring over P ranks with stride A (a2a+p2p), then the
// output all-to-all back. Backward: dO all-to-all, the kernel or ring, dQ dK dV back.
#include <string>

#include "cp_detail.h"
#include "cp_ops.h"
#include "cp_steps.h"
#include "cuda_check.h"
#include "rules/op_label.hpp"

namespace hcpcal::cpd {

namespace {

using hcpsim::kernels::A2aArgs;

int group_size(const CpShape& sh) { return sh.kind == CpKind::kA2aP2p ? sh.a2a : sh.ranks; }

CpGroup a2a_group(const CpShape& sh, int rank) {
  const int n = group_size(sh);
  CpGroup g;
  for (int i = 0; i < n; ++i) g.ranks.push_back(rank / n * n + i);
  return g;
}

// One all-to-all per a2a group over the local ranks' send/recv buffers, ordered after and
// before each rank's compute stream (TE waits for the a2a before using its output).
void exchange(CpContext& ctx, const std::vector<Buf>& send, const std::vector<Buf>& recv, size_t bytes_per_peer) {
  const CpShape& sh = ctx.shape;
  std::vector<bool> done(ctx.ranks.size(), false);
  for (const CpRank& k : ctx.ranks) wait_on(ctx, k.rank, ctx.t.comm_stream(k.rank), ctx.t.compute_stream(k.rank));
  for (size_t a = 0; a < ctx.ranks.size(); ++a) {
    if (done[a]) continue;
    const CpGroup g = a2a_group(sh, ctx.ranks[a].rank);
    std::vector<const void*> s(g.size(), nullptr);
    std::vector<void*> r(g.size(), nullptr);
    for (size_t b = a; b < ctx.ranks.size(); ++b) {
      const int i = g.index_of(ctx.ranks[b].rank);
      if (i < 0) continue;
      done[b] = true;
      s[i] = send[b].p;
      r[i] = recv[b].p;
    }
    ctx.t.all_to_all(g, s, r, bytes_per_peer);
  }
  for (const CpRank& k : ctx.ranks) wait_on(ctx, k.rank, ctx.t.compute_stream(k.rank), ctx.t.comm_stream(k.rank));
}

A2aArgs args(const CpShape& sh, void* local, void* full, void* buffer, int heads) {
  const int n = group_size(sh), L = sh.local(), d = sh.head_dim;
  A2aArgs a;
  a.local = bshd(local, L, heads, d);
  a.full = bshd(full, n * L, heads / n, d);
  a.buffer = buffer;
  a.local_rows = L;
  a.heads = heads;
  a.head_dim = d;
  a.ranks = n;
  return a;
}

// to_heads: [L, heads] in DualChunkSwap order -> [n L, heads / n] in natural order; else the
// inverse. Per local rank: pack into a send buffer, all-to-all, unpack into a new tensor.
std::vector<Buf> a2a_move(CpContext& ctx, const std::vector<Buf>& in, int heads, bool to_heads) {
  const CpShape& sh = ctx.shape;
  const size_t bytes = size_t(sh.local()) * heads * sh.head_dim * 2;
  const size_t M = ctx.ranks.size();
  std::vector<Buf> send(M), recv(M), out(M);
  for (size_t j = 0; j < M; ++j) {
    const int r = ctx.ranks[j].rank;
    ctx.t.use(r);
    send[j] = ctx.alloc(r, bytes);
    if (to_heads)
      hcpsim::kernels::a2a_pack_seq_to_heads(args(sh, in[j].p, nullptr, send[j].p, heads), ctx.t.compute_stream(r));
    else
      hcpsim::kernels::a2a_pack_heads_to_seq(args(sh, nullptr, in[j].p, send[j].p, heads), ctx.t.compute_stream(r));
    recv[j] = ctx.alloc(r, bytes);
  }
  exchange(ctx, send, recv, bytes / group_size(sh));
  for (size_t j = 0; j < M; ++j) {
    const int r = ctx.ranks[j].rank;
    ctx.t.use(r);
    ctx.free(r, send[j]);
    out[j] = ctx.alloc(r, bytes);
    if (to_heads)
      hcpsim::kernels::a2a_unpack_seq_to_heads(args(sh, nullptr, out[j].p, recv[j].p, heads), ctx.t.compute_stream(r));
    else
      hcpsim::kernels::a2a_unpack_heads_to_seq(args(sh, out[j].p, nullptr, recv[j].p, heads), ctx.t.compute_stream(r));
    ctx.free(r, recv[j]);
  }
  return out;
}
std::vector<Buf> to_heads(CpContext& ctx, const std::vector<Buf>& local, int heads) {
  return a2a_move(ctx, local, heads, true);
}
std::vector<Buf> to_seq(CpContext& ctx, const std::vector<Buf>& full, int heads) {
  return a2a_move(ctx, full, heads, false);
}

Dims post_a2a(const CpShape& sh) {
  const int n = group_size(sh);
  return Dims{n * sh.local(), sh.heads_q / n, sh.heads_kv / n, sh.head_dim};
}

template <class F>
std::vector<Buf> each(const CpContext& ctx, F f) {
  std::vector<Buf> out;
  for (const CpRank& k : ctx.ranks) out.push_back(f(k));
  return out;
}

}  // namespace

void a2a_forward(CpContext& ctx) {
  const CpShape& sh = ctx.shape;
  const Dims dm = post_a2a(sh);
  const size_t M = ctx.ranks.size();
  std::vector<Buf> qh = to_heads(ctx, each(ctx, [](const CpRank& k) { return k.q; }), sh.heads_q);
  std::vector<Buf> kh = to_heads(ctx, each(ctx, [](const CpRank& k) { return k.k; }), sh.heads_kv);
  std::vector<Buf> vh = to_heads(ctx, each(ctx, [](const CpRank& k) { return k.v; }), sh.heads_kv);
  std::vector<Buf> oh(M), lh(M);
  if (sh.kind == CpKind::kA2a) {
    for (size_t j = 0; j < M; ++j) {
      CpRank& k = ctx.ranks[j];
      ctx.t.use(k.rank);
      oh[j] = ctx.alloc(k.rank, dm.q_bytes());
      lh[j] = ctx.alloc(k.rank, dm.lse_bytes());
      hcpsim::kernels::FwdArgs a;
      a.shape = {1, dm.len, dm.len, dm.hq, dm.hk, dm.d, true, 0.f};
      a.q = bshd(qh[j].p, dm.len, dm.hq, dm.d);
      a.k = bshd(kh[j].p, dm.len, dm.hk, dm.d);
      a.v = bshd(vh[j].p, dm.len, dm.hk, dm.d);
      a.o = bshd(oh[j].p, dm.len, dm.hq, dm.d);
      a.lse = lse_view(lh[j].p, dm.len, dm.hq);
      timed_fwd(ctx, k.rank, hcpsim::attention_kernel_label(false, hcpsim::kWholeKernelWhat), a, ctx.t.compute_stream(k.rank));
      k.saved.k = kh[j];
      k.saved.v = vh[j];
    }
  } else {
    const auto m = ring_members(ctx);
    std::vector<RingFwdIo> io(M);
    for (size_t j = 0; j < M; ++j) {
      io[j].q = qh[m[j].local];
      io[j].k = kh[m[j].local];
      io[j].v = vh[m[j].local];
    }
    ring_forward(ctx, dm, m, io);
    for (size_t j = 0; j < M; ++j) {
      CpRank& k = ctx.ranks[m[j].local];
      ctx.t.use(k.rank);
      oh[m[j].local] = io[j].o;
      lh[m[j].local] = io[j].lse;
      k.saved.k = io[j].kv_saved;  // packed [K | V] of ring rank p+1
      k.saved.v = Buf{io[j].kv_saved.c() + dm.k_bytes(), dm.k_bytes(), false};
      ctx.free(k.rank, kh[m[j].local]);
      ctx.free(k.rank, vh[m[j].local]);
    }
  }
  std::vector<Buf> o = to_seq(ctx, oh, sh.heads_q);
  for (size_t j = 0; j < M; ++j) {
    CpRank& k = ctx.ranks[j];
    ctx.t.use(k.rank);
    k.o = o[j];
    k.saved.q = qh[j];
    k.saved.o = oh[j];
    k.saved.lse = lh[j];
  }
}

void a2a_backward(CpContext& ctx) {
  const CpShape& sh = ctx.shape;
  const Dims dm = post_a2a(sh);
  const size_t M = ctx.ranks.size();
  std::vector<Buf> doh = to_heads(ctx, each(ctx, [](const CpRank& k) { return k.dout; }), sh.heads_q);
  std::vector<Buf> dqh(M), dkh(M), dvh(M), owner(M);
  if (sh.kind == CpKind::kA2a) {
    for (size_t j = 0; j < M; ++j) {
      CpRank& k = ctx.ranks[j];
      ctx.t.use(k.rank);
      dqh[j] = ctx.alloc(k.rank, dm.q_bytes());
      dkh[j] = ctx.alloc(k.rank, dm.k_bytes());
      dvh[j] = ctx.alloc(k.rank, dm.k_bytes());
      hcpsim::kernels::BwdArgs a;
      a.shape = {1, dm.len, dm.len, dm.hq, dm.hk, dm.d, true, 0.f};
      Buf ws = ctx.alloc(k.rank, hcpsim::kernels::flash_bwd_workspace_bytes(a.shape));
      a.q = bshd(k.saved.q.p, dm.len, dm.hq, dm.d);
      a.k = bshd(k.saved.k.p, dm.len, dm.hk, dm.d);
      a.v = bshd(k.saved.v.p, dm.len, dm.hk, dm.d);
      a.o = bshd(k.saved.o.p, dm.len, dm.hq, dm.d);
      a.d_o = bshd(doh[j].p, dm.len, dm.hq, dm.d);
      a.lse = lse_view(k.saved.lse.p, dm.len, dm.hq);
      a.dq = bshd(dqh[j].p, dm.len, dm.hq, dm.d);
      a.dk = bshd(dkh[j].p, dm.len, dm.hk, dm.d);
      a.dv = bshd(dvh[j].p, dm.len, dm.hk, dm.d);
      a.workspace = ws.p;
      timed_bwd(ctx, k.rank, hcpsim::attention_kernel_label(true, hcpsim::kWholeKernelWhat), a, ctx.t.compute_stream(k.rank));
      ctx.free(k.rank, ws);
    }
  } else {
    const auto m = ring_members(ctx);
    std::vector<RingBwdIo> io(M);
    for (size_t j = 0; j < M; ++j) {
      const CpRank& k = ctx.ranks[m[j].local];
      ctx.t.use(k.rank);
      io[j] = ring_bwd_inputs(k.saved, doh[m[j].local]);
    }
    ring_backward(ctx, dm, m, io);
    for (size_t j = 0; j < M; ++j) {
      const int l = m[j].local;
      dqh[l] = io[j].dq;
      dkh[l] = io[j].dk;
      dvh[l] = io[j].dv;
      owner[l] = io[j].dkv_owner;
    }
  }
  for (size_t j = 0; j < M; ++j) {
    ctx.t.use(ctx.ranks[j].rank);
    ctx.free(ctx.ranks[j].rank, doh[j]);
  }
  std::vector<Buf> dq = to_seq(ctx, dqh, sh.heads_q);
  std::vector<Buf> dk = to_seq(ctx, dkh, sh.heads_kv);
  std::vector<Buf> dv = to_seq(ctx, dvh, sh.heads_kv);
  for (size_t j = 0; j < M; ++j) {
    CpRank& k = ctx.ranks[j];
    ctx.t.use(k.rank);
    for (Buf* b : {&dqh[j], &dkh[j], &dvh[j], &owner[j]}) ctx.free(k.rank, *b);
    k.dq = dq[j];
    k.dk = dk[j];
    k.dv = dv[j];
    k.keep.clear();
  }
}

}  // namespace hcpcal::cpd

// Internals shared by the CP attention's transport files (cp_p2p.cu, cp_all_gather.cu,
// cp_a2a.cu): views, stream joins and the p2p ring that p2p and a2a+p2p both run.
#pragma once
#include <string>
#include <vector>

#include "attn_api.h"
#include "cp_attention.h"

namespace hcpcal::cpd {

using hcpsim::kernels::BshdView;
using hcpsim::kernels::LseView;

// Contiguous [rows, heads, d] bf16 (or fp32 with elem 4: strides are in elements).
inline BshdView bshd(void* p, int rows, int heads, int d) {
  return BshdView{p, int64_t(rows) * heads * d, int64_t(heads) * d, d};
}
// [heads, rows] fp32, rows contiguous.
inline LseView lse_view(void* p, int rows, int heads) {
  return LseView{static_cast<float*>(p), int64_t(rows) * heads, rows};
}

// `waiter` runs what follows only after everything enqueued on `on` so far.
void stream_wait(cudaStream_t waiter, cudaStream_t on);
void copy_async(void* dst, const void* src, size_t bytes, cudaStream_t s);
// stream_wait with the rank's device current (events belong to the current device).
void wait_on(CpContext& ctx, int rank, cudaStream_t waiter, cudaStream_t on);

// Per-rank problem sizes of a ring (after the inner a2a for a2a+p2p): L' tokens, heads.
struct Dims {
  int len = 0, hq = 0, hk = 0, d = 0;
  size_t q_bytes() const { return size_t(len) * hq * d * 2; }
  size_t k_bytes() const { return size_t(len) * hk * d * 2; }
  size_t lse_bytes() const { return size_t(len) * hq * 4; }
};

// One local rank's place in a ring (p2p: the whole CP group; a2a+p2p: P ranks, stride A).
struct RingMember {
  int local = 0;  // index into ctx.ranks
  int pos = 0;    // ring rank
  CpGroup ring;
};
std::vector<RingMember> ring_members(const CpContext& ctx);

// §2.2-2.4 for every member: reads q, k, v (Dims), returns o and the merged LSE (pool
// allocations) and the packed KV buffer TE saves (rank pos+1's [K | V]).
struct RingFwdIo {
  Buf q, k, v;
  Buf o, lse, kv_saved;
};
void ring_forward(CpContext& ctx, const Dims& dm, const std::vector<RingMember>& m, std::vector<RingFwdIo>& io);

// §2.5: reads q, kv (packed), o, lse, dout; returns dq (dq_buffer) and the dKV buffer TE
// returns dK/dV from (dkv_owner: the whole [KV | dKV] allocation; dk, dv views into it).
struct RingBwdIo {
  Buf q, kv, o, lse, dout;
  Buf dq, dkv_owner, dk, dv;
};
// The inputs from what a rank's forward saved (q, packed kv, o, lse) and its output gradient.
inline RingBwdIo ring_bwd_inputs(const Saved& s, const Buf& dout) {
  RingBwdIo io;
  io.q = s.q;
  io.kv = s.k;
  io.o = s.o;
  io.lse = s.lse;
  io.dout = dout;
  return io;
}
void ring_backward(CpContext& ctx, const Dims& dm, const std::vector<RingMember>& m, std::vector<RingBwdIo>& io);

// Forward/backward of p2p, all_gather, a2a and a2a+p2p over the local ranks.
void p2p_forward(CpContext& ctx);
void p2p_backward(CpContext& ctx);
void all_gather_forward(CpContext& ctx);
void all_gather_backward(CpContext& ctx);
void a2a_forward(CpContext& ctx);  // a2a and a2a+p2p
void a2a_backward(CpContext& ctx);

// Timed attention kernels (labels as hcpsim's workload builder names them).
void timed_fwd(CpContext& ctx, int rank, const std::string& label, const hcpsim::kernels::FwdArgs& a, cudaStream_t s);
void timed_bwd(CpContext& ctx, int rank, const std::string& label, const hcpsim::kernels::BwdArgs& a, cudaStream_t s);

}  // namespace hcpcal::cpd

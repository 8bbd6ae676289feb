#include "workload/attention_cp.hpp"

#include <cassert>

#include "workload/attention_a2a.hpp"
#include "workload/attention_ring.hpp"

namespace hcpsim {

namespace {

enum class Plan { Single, Ring, A2a, A2aRing, AllGather };

// TE falls back to pure p2p / a2a when one HCP group has size 1 (§5.1).
Plan plan_of(const CpAttention& a) {
  if (a.cp == 1) return Plan::Single;
  switch (a.type) {
    case CpCommType::P2P: return Plan::Ring;
    case CpCommType::AllGather: return Plan::AllGather;
    case CpCommType::A2A: return Plan::A2a;
    case CpCommType::A2AP2P:
      if (a.a2a_size == 1) return Plan::Ring;
      if (a.p2p_size == 1) return Plan::A2a;
      return Plan::A2aRing;
  }
  return Plan::Single;
}

KernelMask user_mask(const CpAttention& a) {
  return a.causal ? KernelMask::CausalTopLeft : KernelMask::None;
}

// The group and NCCL stream of the a2a: the flat CP group for `a2a`, the inner
// group (HIERARCHICAL_CONTEXT_PARALLEL_GROUP_L0) for `a2a+p2p`.
int32_t a2a_group(const CpAttention& a) {
  return a.type == CpCommType::A2AP2P ? a.a2a_group : a.cp_group;
}
Stream a2a_stream(const CpAttention& a) {
  return a.type == CpCommType::A2AP2P ? Stream::NcclCpInner : Stream::NcclCp;
}

// Heads and tokens after an a2a over `n` ranks: n times the tokens, 1/n heads.
AttnDims after_a2a(const AttnDims& d, int64_t n) {
  AttnDims r = d;
  r.len = d.len * n;
  for (auto& doc : r.documents) doc.length *= n;
  r.hq = d.hq / n;
  r.hk = d.hk / n;
  return r;
}

RingAttention ring_of(const CpAttention& a, int64_t inner) {
  RingAttention r;
  r.dims = after_a2a(a.local, inner);
  r.n = a.cp / inner;
  r.rank = a.cp_rank / inner;  // flat CP rank c -> ring rank c div A
  r.next = a.ring_next;
  r.prev = a.ring_prev;
  r.group = a.ring_group;
  r.causal = a.causal;
  r.order = a.order;
  r.format = a.format;
  return r;
}

std::vector<A2aTensor> qkv(const AttnDims& d, const char* q, const char* k, const char* v) {
  return {{q, d.q_bytes()}, {k, d.k_bytes()}, {v, d.k_bytes()}};
}

void single_kernel(ProgramBuilder& b, const CpAttention& a, const AttnDims& d, bool backward) {
  const AttentionShape whole = over_documents(
      d, [&](const AttnDims& g) { return attention_shape(g, g.len, g.len, user_mask(a), backward); });
  attention_call(b, Stream::Compute, kWholeKernelWhat, d, whole, a.window);
}

}  // namespace

void core_attention_forward(ProgramBuilder& b, const CpAttention& a) {
  const AreaScope attention(b, OpArea::Attention);
  switch (plan_of(a)) {
    case Plan::Single: single_kernel(b, a, a.local, false); return;
    case Plan::Ring: ring_forward(b, ring_of(a, 1)); return;
    case Plan::AllGather: all_gather_forward(b, a); return;
    case Plan::A2a:
    case Plan::A2aRing:
      a2a_communicate(b, a2a_stream(a), a2a_group(a), qkv(a.local, "q", "k", "v"),
                      true, a.format);
      if (plan_of(a) == Plan::A2a) single_kernel(b, a, after_a2a(a.local, a.cp), false);
      else ring_forward(b, ring_of(a, a.a2a_size));
      a2a_communicate(b, a2a_stream(a), a2a_group(a), {{"o", a.local.q_bytes()}},
                      false, a.format);
      return;
  }
}

void core_attention_backward(ProgramBuilder& b, const CpAttention& a) {
  const AreaScope attention(b, OpArea::Attention);
  switch (plan_of(a)) {
    case Plan::Single: single_kernel(b, a, a.local, true); return;
    case Plan::Ring: ring_backward(b, ring_of(a, 1)); return;
    case Plan::AllGather: all_gather_backward(b, a); return;
    case Plan::A2a:
    case Plan::A2aRing:
      a2a_communicate(b, a2a_stream(a), a2a_group(a), {{"do", a.local.q_bytes()}},
                      true, a.format);
      if (plan_of(a) == Plan::A2a) single_kernel(b, a, after_a2a(a.local, a.cp), true);
      else ring_backward(b, ring_of(a, a.a2a_size));
      a2a_communicate(b, a2a_stream(a), a2a_group(a), qkv(a.local, "dq", "dk", "dv"), false, a.format);
      return;
  }
}

}  // namespace hcpsim

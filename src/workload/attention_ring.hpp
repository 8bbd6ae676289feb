// The p2p ring of AttnFuncWithCPAndKVP2P (docs/cp-transports.md §2), used by `p2p`
// (ring = flat CP group) and by `a2a+p2p` (ring of P ranks A apart, on the
// post-a2a tensors).
#pragma once

#include "rules/cp_schedule.hpp"
#include "workload/attention_common.hpp"

namespace hcpsim {


struct RingAttention {
  AttnDims dims;       // tensors on this rank: len = 2c tokens, hq/hk heads
  int64_t n = 1;       // ring size N
  int64_t rank = 0;    // ring rank r
  int32_t next = -1;   // forward sends here (r+1), backward receives from here
  int32_t prev = -1;   // forward receives from here (r-1), backward sends here
  int32_t group = -1;  // the ring's communicator (its channels and per-peer limits)
  bool causal = true;
  CpLoadBalance order = CpLoadBalance::Zigzag;  // which tokens the rank holds: the steps' sections
  QkvFormat format = QkvFormat::Sbhd;
};

// Section of forward step i / backward step i on ring rank r (§2.3, §2.5).
RingSection ring_forward_section(const RingAttention& ring, int64_t step);
RingSection ring_backward_section(const RingAttention& ring, int64_t step);

// The kernel shape of a section: diag 2c x 2c causal, lower 2c x c, upper c x 2c, full 2c x 2c
// without mask, below (2c - 1) x (2c - 1) causal; a skipped step has none.
AttentionShape ring_tile(const RingAttention& ring, RingSection s, bool backward);

void ring_forward(ProgramBuilder& b, const RingAttention& ring);
void ring_backward(ProgramBuilder& b, const RingAttention& ring);

}  // namespace hcpsim

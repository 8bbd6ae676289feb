// Core attention of one rank for its cp_comm_type (docs/cp-transports.md §2-§5),
// forward and backward. With CP = 1 it is one plain kernel over the sequence.
//
// Not modelled exactly: a sliding window together with attn_mask_type no_mask
// under all_gather is counted as full attention (TE passes (left, right)
// windows relative to each chunk; causal windows are exact everywhere).
#pragma once

#include "workload/attention_common.hpp"

namespace hcpsim {

void core_attention_forward(ProgramBuilder& b, const CpAttention& a);
void core_attention_backward(ProgramBuilder& b, const CpAttention& a);

// Per transport; called by the two functions above.
void all_gather_forward(ProgramBuilder& b, const CpAttention& a);
void all_gather_backward(ProgramBuilder& b, const CpAttention& a);

}  // namespace hcpsim

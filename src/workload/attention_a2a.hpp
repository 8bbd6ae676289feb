// TE's flash_attn_a2a_communicate (docs/cp-transports.md §4): one all_to_all_single
// per tensor over a group of n ranks, pipelined with the layout copies.
#pragma once

#include <string>
#include <vector>

#include "workload/attention_common.hpp"

namespace hcpsim {

struct A2aTensor {
  std::string name;  // "q", "k", "v", "o", "do", "dq", ...
  double bytes = 0;  // the rank's whole input buffer (= output buffer)
};

// before_attn: "gather s, split h" (Q, K, V, dO); otherwise "split s, gather h"
// (O, dQ, dK, dV). Ops are named "a2a_<tensor>[.pre_copy|.post_copy]". Returns the a2a op ids.
std::vector<int32_t> a2a_communicate(ProgramBuilder& b, Stream nccl, int32_t group,
                                     const std::vector<A2aTensor>& tensors, bool before_attn, QkvFormat format);

}  // namespace hcpsim

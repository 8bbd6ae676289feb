// One attention test case on the GPU: local tensors of Lq query rows and Lkv key rows, a
// step that uses query rows [q_off, q_off + sq) and key rows [0, skv) of them (the CP step
// shapes, or a whole tensor), run forward and backward and compare with the CPU references.
#pragma once
#include <string>

#include "cp_steps.h"
#include "gpu_test.h"

namespace hcpsim::test {

struct AttnCase {
  int batch = 1, heads_q = 1, heads_kv = 1, head_dim = 64;
  int local_q = 0, local_kv = 0;  // rows of the local tensors
  bool use_step = false;          // build views with kernels::step_args (needs local_q == local_kv)
  kernels::CpStep step = kernels::CpStep::kFull;
  int seqlen_q = 0, seqlen_kv = 0;  // used when !use_step (whole tensors)
  bool causal = false;              // used when !use_step
  int causal_offset = 0;            // used when !use_step and causal (skv - sq: bottom-right)
  float softmax_scale = 0.f;        // 0: the kernels' default 1/sqrt(head_dim)
  bool packed_qkv = false;          // q, k, v as views into one [b, s, 3, h, d] tensor (needs hq == hk)
  kernels::AttnImpl impl = kernels::AttnImpl::kAuto;
  std::string name() const;
};

void run_attn_case(Context& ctx, const AttnCase& c);

}  // namespace hcpsim::test

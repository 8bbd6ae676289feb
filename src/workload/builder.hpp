// Builds every rank's operation graph for a valid Scenario (docs/cp-transports.md):
// `layer` = one transformer layer forward (and backward with passes fwd+bwd);
// core attention only for workload "attention"; `step` = embedding, LM head,
// loss, gradient sync and optimizer for workload "step".
//
// Every op carries its area, phase and recompute flag; its label is spelled by
// rules/op_label.hpp ("layer.fwd.qkv_gemm", "attn.fwd.step2.lower", "attn.bwd.kv_dkv_send1",
// "recompute.attn.fwd.a2a_q.pre_copy", "embed.fwd.tp_rs", "dp.grad_rs.bucket0",
// "optimizer.adam"). Process groups: "tp", "cp", "cp_a2a" (HCP inner, L0), "cp_p2p" (HCP
// outer ring, L1), "dp_cp".
#pragma once

#include "workload/attention_common.hpp"
#include "scenario/scenario.hpp"
#include "workload/workload.hpp"

namespace hcpsim {

struct WorkloadOptions {
  QkvFormat qkv_format = QkvFormat::Sbhd;  // Megatron's TEDotProductAttention uses sbhd
};

Workload build_workload(const Scenario& s, const WorkloadOptions& options = {});

}  // namespace hcpsim

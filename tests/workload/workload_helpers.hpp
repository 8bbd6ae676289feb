// Scenario construction and graph queries shared by the workload tests.
#pragma once

#include <string>
#include <vector>

#include "scenario/scenario.hpp"
#include "workload/workload.hpp"

namespace hcpsim::test {

struct Shape {
  int64_t tp = 1, cp = 1, dp = 1;
  CpCommType type = CpCommType::P2P;
  std::vector<int64_t> hcp = {};  // [A, P] for a2a+p2p
  CpLoadBalance order = CpLoadBalance::Zigzag;
  int64_t seq = 4096, batch = 1;
  int64_t document_length = 0;  // packed documents (THD); 0: one a sequence
  std::vector<int64_t> document_lengths = {};  // packed documents of unequal lengths
  int64_t heads = 32, groups = 8, head_dim = 128, hidden = 4096, ffn = 14336;
  bool causal = true, sp = true;
  WorkloadKind kind = WorkloadKind::Attention;
  RecomputeGranularity recompute = RecomputeGranularity::None;
};

inline Scenario make_scenario(const Shape& s) {
  Scenario sc;
  sc.name = "test";
  sc.model.name = "custom";
  sc.model.num_layers = 32;
  sc.model.hidden_size = s.hidden;
  sc.model.ffn_hidden_size = s.ffn;
  sc.model.num_attention_heads = s.heads;
  sc.model.num_query_groups = s.groups;
  sc.model.kv_channels = s.head_dim;
  sc.model.vocab_size = 128256;
  sc.training.seq_length = s.seq;
  sc.training.micro_batch_size = s.batch;
  sc.training.global_batch_size = s.batch * s.dp;
  sc.training.attn_mask_type = s.causal ? AttnMaskType::Causal : AttnMaskType::NoMask;
  sc.training.document_length = s.document_length;
  sc.training.document_lengths = s.document_lengths;
  sc.training.recompute_granularity = s.recompute;
  sc.parallel.tensor_model_parallel_size = s.tp;
  sc.parallel.context_parallel_size = s.cp;
  sc.parallel.data_parallel_size = s.dp;
  sc.parallel.cp_comm_type = s.type;
  sc.parallel.hierarchical_context_parallel_sizes = s.hcp;
  sc.parallel.cp_load_balance = s.order;
  sc.parallel.sequence_parallel = s.sp && s.tp > 1;
  sc.cluster.num_nodes = 1;
  sc.cluster.gpus_per_node = s.tp * s.cp * s.dp;
  sc.workload = s.kind;
  return sc;
}

inline bool contains(const std::string& s, const char* what) { return s.find(what) != std::string::npos; }

}  // namespace hcpsim::test

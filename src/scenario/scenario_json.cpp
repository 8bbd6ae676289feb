#include "scenario/scenario_json.hpp"

namespace hcpsim {

nlohmann::json parallel_to_json(const Scenario& sc) {
  const ParallelSpec& p = sc.parallel;
  return {{"tp", p.tensor_model_parallel_size},
          {"cp", p.context_parallel_size},
          {"dp", p.data_parallel_size},
          {"pp", p.pipeline_model_parallel_size},
          {"cp_comm_type", to_string(p.cp_comm_type)},
          {"hcp_sizes", p.cp_comm_type == CpCommType::A2AP2P ? nlohmann::json(p.hierarchical_context_parallel_sizes)
                                                             : nlohmann::json(nullptr)},
          {"sequence_parallel", p.sequence_parallel},
          {"use_distributed_optimizer", p.use_distributed_optimizer}};
}

nlohmann::json scenario_to_json(const Scenario& sc) {
  const ModelSpec& m = sc.model;
  const ClusterSpec& c = sc.cluster;
  nlohmann::json j;
  j["name"] = sc.name;
  j["model"] = {{"name", m.name},
                {"num_layers", m.num_layers},
                {"hidden_size", m.hidden_size},
                {"ffn_hidden_size", m.ffn_hidden_size},
                {"num_attention_heads", m.num_attention_heads},
                {"num_query_groups", m.num_query_groups},
                {"kv_channels", m.kv_channels},
                {"vocab_size", m.vocab_size},
                {"sliding_window", m.sliding_window ? nlohmann::json(*m.sliding_window) : nlohmann::json(nullptr)}};
  j["training"] = {{"seq_length", sc.training.seq_length},
                   {"micro_batch_size", sc.training.micro_batch_size},
                   {"global_batch_size", sc.training.global_batch_size},
                   {"precision", to_string(sc.training.precision)},
                   {"recompute_granularity", to_string(sc.training.recompute_granularity)},
                   {"attn_mask_type", to_string(sc.training.attn_mask_type)}};
  j["parallel"] = parallel_to_json(sc);
  j["cluster"] = {{"preset", c.preset},
                  {"num_nodes", c.num_nodes},
                  {"gpus_per_node", c.gpus_per_node},
                  {"gpu",
                   {{"name", c.gpu.name},
                    {"peak_bf16_flops_per_s", c.gpu.peak_bf16_flops_per_s},
                    {"peak_fp8_flops_per_s", c.gpu.peak_fp8_flops_per_s},
                    {"memory_bytes", c.gpu.memory_bytes},
                    {"hbm_bytes_per_s", c.gpu.hbm_bytes_per_s}}},
                  {"intra_node",
                   {{"kind", to_string(c.intra_node.kind)},
                    {"bandwidth_bytes_per_s", c.intra_node.bandwidth_bytes_per_s},
                    {"latency_s", c.intra_node.latency_s}}},
                  {"inter_node",
                   {{"nics_per_node", c.inter_node.nics_per_node},
                    {"nic_bandwidth_bytes_per_s", c.inter_node.nic_bandwidth_bytes_per_s},
                    {"latency_s", c.inter_node.latency_s},
                    {"rail_optimized", c.inter_node.rail_optimized},
                    {"oversubscription", c.inter_node.oversubscription}}}};
  j["software"] = {{"transformer_engine_version", sc.software.transformer_engine_version.str()},
                   {"use_decentralized_pg", sc.software.use_decentralized_pg}};
  j["workload"] = to_string(sc.workload);
  j["passes"] = to_string(sc.passes);
  j["warnings"] = sc.warnings;
  return j;
}

}  // namespace hcpsim

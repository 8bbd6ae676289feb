#include "report/scenario_summary.hpp"

#include <sstream>

namespace hcpsim {

namespace {

std::string gb(double bytes) {
  std::ostringstream s;
  s.precision(4);
  s << bytes / 1e9;
  return s.str();
}

std::string list(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s + "]";
}

}  // namespace

std::string format_scenario_summary(const Scenario& sc) {
  const ModelSpec& m = sc.model;
  const ParallelSpec& p = sc.parallel;
  const ClusterSpec& c = sc.cluster;
  std::ostringstream o;
  o << "scenario: " << sc.name << "\n";
  o << "  model:    " << m.name << ": " << m.num_layers << " layers, hidden " << m.hidden_size << ", ffn "
    << m.ffn_hidden_size << (m.gated_linear_unit ? " (gated)" : " (not gated)") << ", " << m.num_attention_heads << " heads / " << m.num_query_groups << " KV heads x "
    << m.kv_channels << ", vocab " << m.vocab_size;
  if (m.sliding_window) o << ", sliding window " << *m.sliding_window;
  o << "\n";
  o << "  training: seq " << sc.training.seq_length;
  if (sc.training.packed_documents()) o << " (packed: " << sc.training.documents_text() << ")";
  o << ", micro batch " << sc.training.micro_batch_size;
  if (sc.parallel.data_parallel_size > 0)
    o << ", global batch " << sc.training.global_batch_size << " (" << sc.num_microbatches() << " micro batches per DP rank)";
  else if (sc.training.global_batch_size > 0)
    o << ", global batch " << sc.training.global_batch_size;
  else
    o << ", global batch one micro batch per DP rank";
  o << ", " << to_string(sc.training.precision);
  if (sc.training.precision == Precision::FP8)
    o << " (" << to_string(sc.training.fp8_recipe) << " scaling" << (sc.training.fp8_param_gather ? ", fp8 weights" : "") << ")";
  if (sc.training.precision == Precision::NVFP4)
    o << " (NVFP4BlockScaling: 16-element blocks, Hadamard-transformed wgrad operands, stochastic rounding of gradients"
      << (sc.training.fp4_param_gather ? ", NVFP4 weights" : "") << ")";
  o << ", recompute " << to_string(sc.training.recompute_granularity);
  if (const TrainingSpec& t = sc.training; t.full_recompute() && (t.recompute_method != RecomputeMethod::Uniform ||
                                                                  t.recompute_num_layers != 1))
    o << (t.recompute_method == RecomputeMethod::Block ? " (block: the first " : " (uniform: units of ")
      << t.recompute_num_layers << (t.recompute_method == RecomputeMethod::Block ? " layers of each chunk)" : " layers)");
  if (sc.training.cpu_offloading_num_layers > 0)
    o << ", activations of " << sc.training.cpu_offloading_num_layers << " layers offloaded to the host";
  o << ", mask " << to_string(sc.training.attn_mask_type) << "\n";
  o << "  parallel: TP" << p.tensor_model_parallel_size << " x CP" << p.context_parallel_size << " x DP"
    << p.data_parallel_size << " x PP" << p.pipeline_model_parallel_size << ", cp_comm_type "
    << to_string(p.cp_comm_type);
  if (p.cp_comm_type == CpCommType::A2AP2P)
    o << " " << list(p.hierarchical_context_parallel_sizes) << " (a2a " << p.a2a_size() << " inside, p2p ring "
      << p.p2p_size() << ")";
  if (p.cp_load_balance != CpLoadBalance::Zigzag && p.p2p_size() > 1) o << ", " << to_string(p.cp_load_balance) << " token order";
  o << (p.sequence_parallel ? ", sequence parallel" : "") << (p.tp_comm_overlap ? ", TP comm overlap (userbuffers)" : "")
    << (p.fsdp_sharded() ? ", Megatron-FSDP (optim_grads_params), bf16 gradients"
        : std::string(p.use_distributed_optimizer ? ", distributed optimizer" : "") +
              (p.grad_reduce_in_fp32 ? ", fp32 gradients" : ", bf16 gradients") +
              (p.use_megatron_fsdp ? " (Megatron-FSDP over one DP x CP rank: nothing to shard)" : ""))
    << "\n";
  o << "  cluster:  " << c.num_nodes << " x " << (c.preset.empty() ? std::string("custom node") : c.preset) << " ("
    << c.world_size() << " GPUs: " << c.gpu.name << ", " << gb(c.gpu.memory_bytes) << " GB; "
    << to_string(c.intra_node.kind) << " " << gb(c.intra_node.bandwidth_bytes_per_s) << " GB/s; "
    << c.inter_node.nics_per_node << " NICs x " << gb(c.inter_node.nic_bandwidth_bytes_per_s) << " GB/s"
    << (c.inter_node.rail_optimized ? ", rail-optimized" : "")
    << (c.inter_node.oversubscription > 1 ? ", " + gb(c.inter_node.oversubscription * 1e9) + ":1 oversubscribed" : "")
    << ")\n";
  const FusionSettings& f = sc.software.fusions;
  std::string fused;
  const char* loss = f.cross_entropy_impl == rules::CrossEntropyFusion::Te ? "cross entropy (TE's)" : "cross entropy";
  for (const auto& [on, name] : {std::pair{f.rope, "RoPE"}, std::pair{f.swiglu, "SwiGLU"}, std::pair{f.cross_entropy, loss}})
    if (on) fused += (fused.empty() ? "" : ", ") + std::string(name);
  o << "  software: Transformer Engine " << sc.software.transformer_engine_version.str() << ", attention "
    << to_string(sc.software.attention_backend) << ", fused " << (fused.empty() ? "none" : fused)
    << (sc.software.cuda_graph_impl == CudaGraphImpl::None ? "" : std::string(", CUDA graphs ") + to_string(sc.software.cuda_graph_impl))
    << (sc.software.norm_fwd_use_cudnn ? ", cuDNN norm forward" : "")
    << (sc.software.expandable_segments ? ", expandable segments" : "")
    << "; workload "
    << to_string(sc.workload) << ", passes " << to_string(sc.passes) << "\n";
  for (const auto& w : sc.warnings) o << "  warning:  " << w << "\n";
  return o.str();
}

}  // namespace hcpsim

#include "scenario/scenario_json.hpp"

#include <algorithm>

#include "common/json_reader.hpp"
#include "scenario/parse.hpp"

namespace hcpsim {

nlohmann::json parallel_to_json(const Scenario& sc) {
  const ParallelSpec& p = sc.parallel;
  nlohmann::json j = {{"tp", p.tensor_model_parallel_size},
          {"cp", p.context_parallel_size},
          {"dp", p.data_parallel_size},
          {"pp", p.pipeline_model_parallel_size},
          {"cp_comm_type", to_string(p.cp_comm_type)},
          {"hcp_sizes", p.cp_comm_type == CpCommType::A2AP2P ? nlohmann::json(p.hierarchical_context_parallel_sizes)
                                                             : nlohmann::json(nullptr)},
          {"sequence_parallel", p.sequence_parallel},
          {"use_distributed_optimizer", p.use_distributed_optimizer},
          {"grad_reduce_in_fp32", p.grad_reduce_in_fp32}};
  if (p.tensor_model_parallel_size > 1) j["tp_comm_overlap"] = p.tp_comm_overlap;  // TP = 1 echoes stay as they were
  if (!p.overlap_grad_reduce) j["overlap_grad_reduce"] = false;  // written where off (echoes stay as they were)
  if (!p.overlap_param_gather) j["overlap_param_gather"] = false;
  if (p.use_megatron_fsdp) j["use_megatron_fsdp"] = true;  // written where on (echoes stay as they were)
  if (p.cp_load_balance != CpLoadBalance::Zigzag) j["cp_load_balance"] = to_string(p.cp_load_balance);  // likewise
  if (p.pipeline_model_parallel_size > 1) {  // the pipeline's options (PP = 1 echoes stay as they were)
    j["vpp"] = p.virtual_pipeline_model_parallel_size;
    // null: not given (the even split); Megatron's -1 stays inside
    const auto layers_or_null = [](int64_t n) { return n < 0 ? nlohmann::json(nullptr) : nlohmann::json(n); };
    j["first_stage_layers"] = layers_or_null(p.decoder_first_pipeline_num_layers);
    j["last_stage_layers"] = layers_or_null(p.decoder_last_pipeline_num_layers);
    j["account_for_embedding"] = p.account_for_embedding_in_pipeline_split;
    j["account_for_loss"] = p.account_for_loss_in_pipeline_split;
    j["microbatch_group"] = p.microbatch_group_size_per_vp_stage;
    j["overlap_p2p_comm"] = p.overlap_p2p_comm ? nlohmann::json(*p.overlap_p2p_comm) : nlohmann::json(nullptr);  // null: the default
  }
  return j;
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
                {"sliding_window", m.sliding_window ? nlohmann::json(*m.sliding_window) : nlohmann::json(nullptr)},
                {"gated_linear_unit", m.gated_linear_unit},
                {"untie_embeddings_and_output_weights", m.untie_embeddings_and_output_weights}};
  j["training"] = {{"seq_length", sc.training.seq_length},
                   {"micro_batch_size", sc.training.micro_batch_size},
                   {"global_batch_size", sc.training.global_batch_size},
                   {"precision", to_string(sc.training.precision)},
                   {"recompute_granularity", to_string(sc.training.recompute_granularity)},
                   {"attn_mask_type", to_string(sc.training.attn_mask_type)}};
  if (sc.training.precision == Precision::FP8) {
    j["training"]["fp8_param_gather"] = sc.training.fp8_param_gather;
    j["training"]["fp8_recipe"] = to_string(sc.training.fp8_recipe);
  }
  if (sc.training.precision == Precision::NVFP4) j["training"]["fp4_param_gather"] = sc.training.fp4_param_gather;
  if (sc.training.full_recompute()) {  // written where they apply (echoes stay as they were)
    j["training"]["recompute_method"] = to_string(sc.training.recompute_method);
    j["training"]["recompute_num_layers"] = sc.training.recompute_num_layers;
  }
  if (sc.training.cpu_offloading_num_layers > 0)  // written where on (echoes stay as they were)
    j["training"]["cpu_offloading_num_layers"] = sc.training.cpu_offloading_num_layers;
  if (sc.training.document_length > 0) j["training"]["document_length"] = sc.training.document_length;  // likewise
  if (!sc.training.document_lengths.empty()) j["training"]["document_lengths"] = sc.training.document_lengths;
  j["parallel"] = parallel_to_json(sc);
  j["cluster"] = {{"preset", c.preset},
                  {"num_nodes", c.num_nodes},
                  {"gpus_per_node", c.gpus_per_node},
                  {"gpu",
                   {{"name", c.gpu.name},
                    {"peak_bf16_flops_per_s", c.gpu.peak_bf16_flops_per_s},
                    {"peak_fp8_flops_per_s", c.gpu.peak_fp8_flops_per_s},
                    {"peak_fp4_flops_per_s", c.gpu.peak_fp4_flops_per_s},
                    {"memory_bytes", c.gpu.memory_bytes},
                    {"hbm_bytes_per_s", c.gpu.hbm_bytes_per_s},
                    {"compute_capability", c.gpu.compute_capability},
                    {"sm_count", c.gpu.sm_count},
                    {"sm_clock_mhz", c.gpu.sm_clock_mhz}}},
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
  if (c.host_link_bytes_per_s > 0) j["cluster"]["host_link_bytes_per_s"] = c.host_link_bytes_per_s;
  const NcclSettings& n = sc.software.nccl;
  nlohmann::json algos = nlohmann::json::array(), protos = nlohmann::json::array();
  for (NcclAlgorithm a : n.algorithms) algos.push_back(to_string(a));
  for (NcclProtocol p : n.protocols) protos.push_back(to_string(p));
  j["software"] = {{"transformer_engine_version", sc.software.transformer_engine_version.str()},
                   {"use_decentralized_pg", sc.software.use_decentralized_pg},
                   {"attention_backend", to_string(sc.software.attention_backend)},
                   {"fusions",
                    {{"rope", sc.software.fusions.rope},
                     {"swiglu", sc.software.fusions.swiglu},
                     {"cross_entropy", sc.software.fusions.cross_entropy},
                     {"cross_entropy_impl", rules::to_string(sc.software.fusions.cross_entropy_impl)}}},
                   {"nccl",
                    {{"algo", algos},
                     {"proto", protos},
                     {"min_ctas", n.min_ctas},
                     {"max_ctas", n.max_ctas},
                     {"nvls_enable", n.nvls},
                     {"pxn", n.pxn},
                     {"nchannels_per_net_peer", n.net_channels_per_peer}}}};
  if (sc.software.cuda_graph_impl != CudaGraphImpl::None)
    j["software"]["cuda_graph_impl"] = to_string(sc.software.cuda_graph_impl);
  if (sc.software.norm_fwd_use_cudnn) j["software"]["norm_fwd_use_cudnn"] = true;
  if (sc.software.expandable_segments) j["software"]["expandable_segments"] = true;
  j["workload"] = to_string(sc.workload);
  j["passes"] = to_string(sc.passes);
  j["calibration"] = sc.calibration_path ? nlohmann::json(*sc.calibration_path) : nlohmann::json(nullptr);
  if (sc.hf_config_path) j["hf_config"] = *sc.hf_config_path;  // the model's file, where it came from one
  j["warnings"] = sc.warnings;
  return j;
}

namespace {

constexpr int64_t kMax = int64_t{1} << 50;

// Every key of an echo is required: it was written by scenario_to_json.
void require(ObjectReader& r, const std::vector<std::string>& keys) {
  for (const auto& k : keys)
    if (!r.has(k)) r.sink().error(r.path_of(k), "missing", "a resolved scenario names every field", "write it with hcpsim");
}

template <class T>
void read(std::optional<T> v, T& field) {
  if (v) field = *v;
}

ModelSpec model_from_json(ObjectReader r) {
  ModelSpec m;
  read(r.string("name"), m.name);
  for (auto [key, field] : {std::pair{"num_layers", &ModelSpec::num_layers}, {"hidden_size", &ModelSpec::hidden_size},
                            {"ffn_hidden_size", &ModelSpec::ffn_hidden_size},
                            {"num_attention_heads", &ModelSpec::num_attention_heads},
                            {"num_query_groups", &ModelSpec::num_query_groups}, {"kv_channels", &ModelSpec::kv_channels},
                            {"vocab_size", &ModelSpec::vocab_size}})
    read(r.integer(key, 0, kMax), m.*field);
  if (const nlohmann::json* w = r.raw("sliding_window"); w && !w->is_null()) m.sliding_window = r.integer("sliding_window", 1, kMax);
  read(r.boolean("gated_linear_unit"), m.gated_linear_unit);
  read(r.boolean("untie_embeddings_and_output_weights"), m.untie_embeddings_and_output_weights);
  return m;
}

TrainingSpec training_from_json(ObjectReader r) {
  TrainingSpec t;
  read(r.integer("seq_length", 0, kMax), t.seq_length);
  read(r.integer("micro_batch_size", 0, kMax), t.micro_batch_size);
  read(r.integer("global_batch_size", 0, kMax), t.global_batch_size);
  read(r.choice("precision", named_choices(kPrecisions)), t.precision);
  read(r.choice("recompute_granularity", named_choices(kRecomputeGranularities)), t.recompute_granularity);
  read(r.choice("attn_mask_type", named_choices(kAttnMaskTypes)), t.attn_mask_type);
  if (r.has("fp8_param_gather")) read(r.boolean("fp8_param_gather"), t.fp8_param_gather);
  if (r.has("fp8_recipe")) read(r.choice("fp8_recipe", named_choices(kFp8Recipes)), t.fp8_recipe);
  if (r.has("fp4_param_gather")) read(r.boolean("fp4_param_gather"), t.fp4_param_gather);
  if (r.has("cpu_offloading_num_layers")) read(r.integer("cpu_offloading_num_layers", 0, kMax), t.cpu_offloading_num_layers);
  if (r.has("document_length")) read(r.integer("document_length", 1, kMax), t.document_length);
  if (r.has("document_lengths")) read(r.integer_list("document_lengths", 1, kMax), t.document_lengths);
  if (r.has("recompute_method")) read(r.choice("recompute_method", named_choices(kRecomputeMethods)), t.recompute_method);
  if (r.has("recompute_num_layers")) read(r.integer("recompute_num_layers", 1, kMax), t.recompute_num_layers);
  return t;
}

ParallelSpec parallel_from_json(ObjectReader r) {
  ParallelSpec p;
  read(r.integer("tp", 0, kMax), p.tensor_model_parallel_size);
  read(r.integer("cp", 0, kMax), p.context_parallel_size);
  read(r.integer("dp", 0, kMax), p.data_parallel_size);
  read(r.integer("pp", 0, kMax), p.pipeline_model_parallel_size);
  read(r.choice("cp_comm_type", named_choices(kCpCommTypes)), p.cp_comm_type);
  if (const nlohmann::json* h = r.raw("hcp_sizes"); h && !h->is_null())
    read(r.integer_list("hcp_sizes", 1, kMax), p.hierarchical_context_parallel_sizes);
  read(r.boolean("sequence_parallel"), p.sequence_parallel);
  read(r.boolean("use_distributed_optimizer"), p.use_distributed_optimizer);
  if (r.has("grad_reduce_in_fp32")) read(r.boolean("grad_reduce_in_fp32"), p.grad_reduce_in_fp32);  // older files: the default
  if (r.has("tp_comm_overlap")) read(r.boolean("tp_comm_overlap"), p.tp_comm_overlap);
  if (r.has("overlap_grad_reduce")) read(r.boolean("overlap_grad_reduce"), p.overlap_grad_reduce);
  if (r.has("overlap_param_gather")) read(r.boolean("overlap_param_gather"), p.overlap_param_gather);
  if (r.has("use_megatron_fsdp")) read(r.boolean("use_megatron_fsdp"), p.use_megatron_fsdp);
  if (r.has("cp_load_balance")) read(r.choice("cp_load_balance", named_choices(kCpLoadBalances)), p.cp_load_balance);
  if (r.has("vpp")) {
    read(r.integer("vpp", 1, kMax), p.virtual_pipeline_model_parallel_size);
    for (const auto& [key, field] : {std::pair{"first_stage_layers", &p.decoder_first_pipeline_num_layers},
                                     std::pair{"last_stage_layers", &p.decoder_last_pipeline_num_layers}}) {
      const nlohmann::json* v = r.raw(key);
      if (v && v->is_null()) *field = -1;  // not given (older files wrote -1, read as it was)
      else read(r.integer(key, -1, kMax), *field);
    }
    read(r.boolean("account_for_embedding"), p.account_for_embedding_in_pipeline_split);
    read(r.boolean("account_for_loss"), p.account_for_loss_in_pipeline_split);
    read(r.integer("microbatch_group", 0, kMax), p.microbatch_group_size_per_vp_stage);
    if (const nlohmann::json* o = r.raw("overlap_p2p_comm"); o && !o->is_null()) {
      bool v = false;
      read(r.boolean("overlap_p2p_comm"), v);
      p.overlap_p2p_comm = v;
    }
  }
  return p;
}

ClusterSpec cluster_from_json(ObjectReader r) {
  ClusterSpec c;
  read(r.string("preset"), c.preset);
  read(r.integer("num_nodes", 0, kMax), c.num_nodes);
  read(r.integer("gpus_per_node", 0, kMax), c.gpus_per_node);
  ObjectReader g = r.child("gpu", {"name", "peak_bf16_flops_per_s", "peak_fp8_flops_per_s", "peak_fp4_flops_per_s", "memory_bytes", "hbm_bytes_per_s",
                                   "compute_capability", "sm_count", "sm_clock_mhz"});
  read(g.string("name"), c.gpu.name);
  read(g.number("peak_bf16_flops_per_s", 0, 1e30), c.gpu.peak_bf16_flops_per_s);
  read(g.number("peak_fp8_flops_per_s", 0, 1e30), c.gpu.peak_fp8_flops_per_s);
  if (g.has("peak_fp4_flops_per_s")) read(g.number("peak_fp4_flops_per_s", 0, 1e30), c.gpu.peak_fp4_flops_per_s);
  read(g.number("memory_bytes", 0, 1e30), c.gpu.memory_bytes);
  read(g.number("hbm_bytes_per_s", 0, 1e30), c.gpu.hbm_bytes_per_s);
  read(g.integer("compute_capability", 0, 1000), c.gpu.compute_capability);
  read(g.integer("sm_count", 0, 1 << 20), c.gpu.sm_count);
  read(g.number("sm_clock_mhz", 0, 1e6), c.gpu.sm_clock_mhz);
  ObjectReader in = r.child("intra_node", {"kind", "bandwidth_bytes_per_s", "latency_s"});
  read(in.choice("kind", named_choices(kIntraNodeKinds)), c.intra_node.kind);
  read(in.number("bandwidth_bytes_per_s", 0, 1e30), c.intra_node.bandwidth_bytes_per_s);
  read(in.number("latency_s", 0, 1e30), c.intra_node.latency_s);
  ObjectReader ex = r.child("inter_node", {"nics_per_node", "nic_bandwidth_bytes_per_s", "latency_s", "rail_optimized",
                                           "oversubscription"});
  read(ex.integer("nics_per_node", 0, kMax), c.inter_node.nics_per_node);
  read(ex.number("nic_bandwidth_bytes_per_s", 0, 1e30), c.inter_node.nic_bandwidth_bytes_per_s);
  read(ex.number("latency_s", 0, 1e30), c.inter_node.latency_s);
  read(ex.boolean("rail_optimized"), c.inter_node.rail_optimized);
  read(ex.number("oversubscription", 0, 1e30), c.inter_node.oversubscription);
  if (r.has("host_link_bytes_per_s")) read(r.number("host_link_bytes_per_s", 0, 1e30), c.host_link_bytes_per_s);
  return c;
}

// An enum list written by scenario_to_json (names exactly as to_string spells them).
template <class E, size_t N>
std::vector<E> enum_list(ObjectReader& r, const std::string& key, const E (&all)[N]) {
  std::vector<E> out;
  const nlohmann::json* v = r.raw(key);
  if (!v) return out;
  bool ok = v->is_array();
  if (ok)
    for (const auto& e : *v) {
      const auto it = std::find_if(std::begin(all), std::end(all),
                                   [&](E x) { return e.is_string() && e.get<std::string>() == to_string(x); });
      if (it == std::end(all)) ok = false;
      else out.push_back(*it);
    }
  if (!ok) r.sink().error(r.path_of(key), "must be a list of names", "type", "write it with hcpsim");
  return out;
}

NcclSettings nccl_from_json(ObjectReader r) {
  NcclSettings n;
  n.algorithms = enum_list(r, "algo", kNcclAlgorithms);
  n.protocols = enum_list(r, "proto", kNcclProtocols);
  read(r.integer("min_ctas", 0, 64), n.min_ctas);
  read(r.integer("max_ctas", 0, 64), n.max_ctas);
  read(r.boolean("nvls_enable"), n.nvls);
  read(r.boolean("pxn"), n.pxn);
  read(r.integer("nchannels_per_net_peer", 0, 32), n.net_channels_per_peer);
  return n;
}

std::vector<std::string> string_list(ObjectReader& r, const std::string& key) {
  std::vector<std::string> out;
  const nlohmann::json* v = r.raw(key);
  if (!v) return out;
  if (!v->is_array()) {
    r.sink().error(r.path_of(key), "must be a list of strings", "type", "write it with hcpsim");
    return out;
  }
  for (const auto& e : *v) {
    if (e.is_string()) out.push_back(e.get<std::string>());
    else r.sink().error(r.path_of(key), "must be a list of strings", "type", "write it with hcpsim");
  }
  return out;
}

}  // namespace

Scenario scenario_from_json(const nlohmann::json& j, const std::string& json_path) {
  DiagnosticSink sink;
  ObjectReader r(j, json_path, sink,
                 {"name", "model", "training", "parallel", "cluster", "software", "workload", "passes", "calibration",
                  "hf_config", "warnings"});
  require(r, {"name", "model", "training", "parallel", "cluster", "software", "workload", "passes", "warnings"});
  Scenario sc;
  read(r.string("name"), sc.name);
  sc.model = model_from_json(r.child("model", {"name", "num_layers", "hidden_size", "ffn_hidden_size",
                                               "num_attention_heads", "num_query_groups", "kv_channels", "vocab_size",
                                               "sliding_window", "gated_linear_unit",
                                               "untie_embeddings_and_output_weights"}));
  sc.training = training_from_json(r.child("training", {"seq_length", "micro_batch_size", "global_batch_size", "precision", "fp8_param_gather", "fp8_recipe", "fp4_param_gather",
                                                        "recompute_granularity", "recompute_method", "recompute_num_layers",
                                                        "attn_mask_type", "cpu_offloading_num_layers", "document_length",
                                                        "document_lengths"}));
  sc.parallel = parallel_from_json(r.child("parallel", {"tp", "cp", "dp", "pp", "cp_comm_type", "hcp_sizes",
                                                        "sequence_parallel", "use_distributed_optimizer", "grad_reduce_in_fp32", "vpp",
                                                        "first_stage_layers", "last_stage_layers", "account_for_embedding",
                                                        "account_for_loss", "microbatch_group", "overlap_p2p_comm",
                                                        "tp_comm_overlap", "overlap_grad_reduce", "overlap_param_gather", "cp_load_balance",
                                                        "use_megatron_fsdp"}));
  sc.cluster = cluster_from_json(
      r.child("cluster", {"preset", "num_nodes", "gpus_per_node", "gpu", "intra_node", "inter_node", "host_link_bytes_per_s"}));
  ObjectReader sw =
      r.child("software", {"transformer_engine_version", "use_decentralized_pg", "attention_backend", "cuda_graph_impl",
                           "fusions", "nccl", "norm_fwd_use_cudnn", "expandable_segments"});
  {
    ObjectReader f = sw.child("fusions", {"rope", "swiglu", "cross_entropy", "cross_entropy_impl"});
    read(f.boolean("rope"), sc.software.fusions.rope);
    read(f.boolean("swiglu"), sc.software.fusions.swiglu);
    read(f.boolean("cross_entropy"), sc.software.fusions.cross_entropy);
    if (f.has("cross_entropy_impl"))
      read(f.choice("cross_entropy_impl", named_choices(rules::kCrossEntropyFusions)), sc.software.fusions.cross_entropy_impl);
  }
  if (auto v = sw.string("transformer_engine_version")) {
    if (auto ver = parse_version(*v)) sc.software.transformer_engine_version = *ver;
    else sink.error(sw.path_of("transformer_engine_version"), "\"" + *v + "\" is not a version", "MAJOR.MINOR.PATCH",
                    "write it with hcpsim");
  }
  read(sw.boolean("use_decentralized_pg"), sc.software.use_decentralized_pg);
  read(sw.choice("attention_backend", named_choices(kAttentionBackends)), sc.software.attention_backend);
  if (sw.has("cuda_graph_impl")) read(sw.choice("cuda_graph_impl", named_choices(kCudaGraphImpls)), sc.software.cuda_graph_impl);
  if (sw.has("norm_fwd_use_cudnn")) read(sw.boolean("norm_fwd_use_cudnn"), sc.software.norm_fwd_use_cudnn);
  if (sw.has("expandable_segments")) read(sw.boolean("expandable_segments"), sc.software.expandable_segments);
  sc.software.nccl = nccl_from_json(sw.child("nccl", {"algo", "proto", "min_ctas", "max_ctas", "nvls_enable", "pxn",
                                                      "nchannels_per_net_peer"}));
  read(r.choice("workload", named_choices(kWorkloadKinds)), sc.workload);
  read(r.choice("passes", named_choices(kPasses)), sc.passes);
  if (const nlohmann::json* c = r.raw("calibration"); c && !c->is_null()) sc.calibration_path = r.string("calibration");
  if (r.has("hf_config")) sc.hf_config_path = r.string("hf_config");
  sc.warnings = string_list(r, "warnings");
  sink.throw_if_any();
  return sc;
}

}  // namespace hcpsim

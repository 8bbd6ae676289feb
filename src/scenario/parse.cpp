// JSON sections -> Scenario fields, converting to SI units once. Structural
// problems (types, ranges, unknown keys, missing keys) are collected here;
// the rules that relate fields to each other live in validate.cpp.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "scenario/hf_config.hpp"
#include "common/join_words.hpp"
#include "common/json_reader.hpp"
#include "common/json_text.hpp"
#include "common/si_prefixes.hpp"
#include "scenario/presets.hpp"
#include "scenario/parse.hpp"
#include "scenario/sweep_spec.hpp"
#include "scenario/model_limits.hpp"
#include "scenario/validate.hpp"

namespace hcpsim {

namespace {

using model_limits::kMaxCount;  // sizes, heads, layers, nodes: beyond this is absurd

const std::vector<std::string> kTopKeys = {"name",    "description", "model",    "training",
                                           "parallel", "cluster",     "software", "workload",
                                           "passes",   "calibration", "sweep"};

template <class T>
void set_if(T& field, const std::optional<T>& v) {
  if (v) field = *v;
}

std::string resolve(const std::string& base_dir, const std::string& p) {
  std::filesystem::path path(p);
  if (path.is_absolute()) return p;
  return (std::filesystem::path(base_dir) / path).lexically_normal().string();
}

// ---- model ---------------------------------------------------------------

void parse_model(const nlohmann::json& j, const ParseOptions& opt, DiagnosticSink& sink,
                 ModelSpec& m) {
  // Megatron's (num_moe_experts, moe_*) and Hugging Face's (kMoeExpertCountKeys, num_experts_per_tok)
  // mixture-of-experts keys: known, and refused as not modelled where they ask for experts (not
  // "unknown, remove it", which would have the model simulated as dense); null, 0 or 1 is dense.
  static const char* const kMoeKeys[] = {kMoeExpertCountKeys[0], kMoeExpertCountKeys[1], kMoeExpertCountKeys[2],
                                         kMoeExpertCountKeys[3], "num_moe_experts",      "moe_ffn_hidden_size",
                                         "moe_router_topk",      "num_experts_per_tok"};
  static_assert(std::size(kMoeExpertCountKeys) == 4, "every expert-count key is a scenario key too");
  std::vector<std::string> known = {"preset", "hf_config", "num_layers", "hidden_size", "ffn_hidden_size",
                                    "num_attention_heads", "num_query_groups", "kv_channels", "vocab_size",
                                   "sliding_window", "gated_linear_unit", "untie_embeddings_and_output_weights"};
  known.insert(known.end(), std::begin(kMoeKeys), std::end(kMoeKeys));
  ObjectReader r(j, "model", sink, std::move(known));
  for (const char* key : kMoeKeys) {
    if (!j.is_object() || !j.contains(key)) continue;
    const nlohmann::json& v = j[key];
    if (v.is_null() || (v.is_number_integer() && v.get<int64_t>() <= 1)) continue;
    sink.error(std::string("model.") + key, "asks for mixture-of-experts layers: " + v.dump(),
               "mixture-of-experts layers are not modelled; dense layers only",
               "use a dense model; simulating it as dense would miss its expert weights and all-to-all traffic");
  }
  const auto preset = r.string("preset");
  bool own_head_dim = false;  // a Hugging Face file's head_dim: the model's own, whatever it equals
  const auto hf = r.string("hf_config");
  bool have_base = false;
  if (preset && hf) {
    sink.error("model.hf_config", "both \"preset\" and \"hf_config\" are given", "one model source",
               "keep one of them; put overrides as explicit keys");
  } else if (preset) {
    if (const ModelPreset* p = find_model_preset(*preset)) {
      m = p->spec;
      have_base = true;
    } else {
      auto names = model_preset_names();
      auto guess = did_you_mean(*preset, names);
      sink.error("model.preset", "unknown model preset \"" + *preset + "\"",
                 "must be one of " + join_words(names, "or"),
                 guess ? "did you mean \"" + *guess + "\"?" : "use hf_config or explicit keys for other models");
    }
  } else if (hf) {
    std::vector<std::string> given;  // the shape keys the scenario sets beside the file
    for (const char* k : {"num_layers", "hidden_size", "ffn_hidden_size", "num_attention_heads", "num_query_groups",
                          "kv_channels", "vocab_size", "gated_linear_unit", "sliding_window"})
      if (r.has(k)) given.push_back(k);
    have_base = read_hf_config(resolve(opt.base_dir, *hf), "model.hf_config", sink, m, given, &own_head_dim);
  }
  if (!preset && !hf) m.name = "custom";
  const ModelSpec base = m;  // the preset's or file's shape, before the scenario's keys

  struct IntKey {
    const char* key;
    int64_t ModelSpec::*field;
    int64_t max;
  };
  using namespace model_limits;
  const IntKey keys[] = {{"num_layers", &ModelSpec::num_layers, kMaxLayers},
                         {"hidden_size", &ModelSpec::hidden_size, kMaxHiddenSize},
                         {"ffn_hidden_size", &ModelSpec::ffn_hidden_size, kMaxFfnHiddenSize},
                         {"num_attention_heads", &ModelSpec::num_attention_heads, kMaxHeads},
                         {"num_query_groups", &ModelSpec::num_query_groups, kMaxHeads},
                         {"kv_channels", &ModelSpec::kv_channels, kMaxHeadDim},
                         {"vocab_size", &ModelSpec::vocab_size, kMaxVocabSize}};
  for (const auto& k : keys) {
    const bool present = r.has(k.key);
    if (auto v = r.integer(k.key, 1, k.max)) m.*(k.field) = *v;
    // Without a base model every shape key is required, except the two with Megatron defaults.
    const bool has_default = std::string(k.key) == "num_query_groups" || std::string(k.key) == "kv_channels";
    if (!present && !have_base && !preset && !hf && !has_default)
      sink.error(std::string("model.") + k.key, "missing", "required without model.preset or model.hf_config",
                 "add it, or name a preset such as \"llama3.1-8b\"");
  }
  // Megatron's kv_channels when it is not given: hidden_size / num_attention_heads, which must divide.
  const auto derive_kv_channels = [&] {
    if (m.num_attention_heads <= 0 || m.hidden_size <= 0) return;
    if (m.hidden_size % m.num_attention_heads != 0)
      sink.error("model.kv_channels",
                 "not given, and hidden_size " + std::to_string(m.hidden_size) + " is not a multiple of num_attention_heads " +
                     std::to_string(m.num_attention_heads),
                 "without kv_channels the head dim is hidden_size / num_attention_heads (Megatron's default)",
                 "give model.kv_channels (the head dim), or a hidden_size that the head count divides");
    m.kv_channels = m.hidden_size / m.num_attention_heads;
  };
  if (!have_base && !preset && !hf) {
    if (!r.has("num_query_groups")) m.num_query_groups = m.num_attention_heads;  // MHA
    if (!r.has("kv_channels")) derive_kv_channels();
  }
  if (hf && have_base) {  // what the file left to the scenario's keys
    if (m.num_query_groups == 0) m.num_query_groups = m.num_attention_heads;
    if (m.kv_channels == 0) derive_kv_channels();
  }
  // A base whose head dim is its hidden size over its heads (a preset: Llama, Qwen2.5) keeps that
  // relation when the scenario changes either, as Megatron derives kv_channels when it is not given; a
  // base with its own head dim keeps it: a Hugging Face file's head_dim, whatever it equals (Megatron-
  // Bridge carries it over as kv_channels), or a preset's unequal one. The model line prints the result.
  if (have_base && !own_head_dim && !r.has("kv_channels") && (r.has("hidden_size") || r.has("num_attention_heads")) &&
      base.num_attention_heads > 0 && base.kv_channels > 0 && base.kv_channels * base.num_attention_heads == base.hidden_size)
    derive_kv_channels();
  if (r.has("sliding_window") && r.raw("sliding_window")->is_null()) {
    m.sliding_window.reset();
  } else if (auto w = r.integer("sliding_window", 1, model_limits::kMaxSlidingWindow, "use a window in tokens, or null for none")) {
    m.sliding_window = *w;
  }
  set_if(m.gated_linear_unit, r.boolean("gated_linear_unit"));
  set_if(m.untie_embeddings_and_output_weights, r.boolean("untie_embeddings_and_output_weights"));
}

// ---- training ------------------------------------------------------------

void parse_training(const nlohmann::json& j, DiagnosticSink& sink, TrainingSpec& t,
                    bool& global_batch_given) {
  ObjectReader r(j, "training", sink,
                 {"seq_length", "micro_batch_size", "global_batch_size", "precision", "recompute_granularity",
                  "recompute_method", "recompute_num_layers", "attn_mask_type", "fp8_param_gather", "fp8_recipe",
                  "fp4_param_gather", "cpu_offloading_num_layers", "document_length", "document_lengths"});
  if (auto v = r.integer("seq_length", 1, int64_t{1} << 32)) t.seq_length = *v;
  else if (!r.has("seq_length"))
    sink.error("training.seq_length", "missing", "required", "add the global sequence length in tokens, e.g. 131072");
  set_if(t.micro_batch_size, r.integer("micro_batch_size", 1, kMaxCount));
  global_batch_given = r.has("global_batch_size");
  set_if(t.global_batch_size, r.integer("global_batch_size", 1, int64_t{1} << 40));
  set_if(t.precision, r.choice("precision", named_choices(kPrecisions),
                                          {{"bfloat16", "write \"bf16\""}, {"fp16", "fp16 is not modelled; use bf16"},
                                           {"fp4", "write \"nvfp4\" (Megatron's --fp4-recipe nvfp4)"},
                                           {"mxfp8", "MXFP8 is an fp8 recipe: write \"fp8\" with training.fp8_recipe \"mxfp8\""}}));
  set_if(t.fp8_param_gather, r.boolean("fp8_param_gather"));
  set_if(t.fp4_param_gather, r.boolean("fp4_param_gather"));
  t.fp8_recipe_given = r.has("fp8_recipe");
  set_if(t.fp8_recipe,
         r.choice("fp8_recipe", named_choices(kFp8Recipes),
                  {{"blockwise", "the block-scaled (1x128, 128x128) recipe is not modelled; use \"delayed\", \"tensorwise\" or \"mxfp8\""},
                   {"current", "Megatron names current scaling \"tensorwise\""},
                   {"nvfp4", "NVFP4 is a precision of its own: set training.precision to \"nvfp4\" and drop fp8_recipe"}}));
  set_if(t.recompute_granularity,
         r.choice("recompute_granularity", named_choices(kRecomputeGranularities)));
  t.recompute_method_given = r.has("recompute_method");
  set_if(t.recompute_method, r.choice("recompute_method", named_choices(kRecomputeMethods)));
  t.recompute_num_layers_given = r.has("recompute_num_layers");
  set_if(t.recompute_num_layers, r.integer("recompute_num_layers", 1, kMaxCount,
                                            "layers per checkpoint (uniform) or re-run per model chunk (block)"));
  set_if(t.cpu_offloading_num_layers, r.integer("cpu_offloading_num_layers", 0, kMaxCount,
                                                 "layers whose activations go to the host; 0 for none"));
  set_if(t.attn_mask_type, r.choice("attn_mask_type", named_choices(kAttnMaskTypes),
                                                  {{"padding_causal", "for packed documents (THD) write \"causal\" and give training.document_length"},
                                                   {"padding", "for packed documents (THD) write \"no_mask\" and give training.document_length"}}));
  set_if(t.document_length, r.integer("document_length", 1, int64_t{1} << 32,
                                      "the tokens of each packed document; leave it out for one document a sequence"));
  if (auto lengths = r.integer_list("document_lengths", 1, int64_t{1} << 32, "give each document's tokens")) {
    if (lengths->empty() || int64_t(lengths->size()) > model_limits::kMaxDocuments)
      sink.error("training.document_lengths", lengths->empty() ? "is empty" : std::to_string(lengths->size()) + " documents",
                 "1 to " + std::to_string(model_limits::kMaxDocuments) + " documents a sequence",
                 lengths->empty() ? "list the documents of one sequence, or drop document_lengths"
                                  : "merge short documents, or give the packing of a shorter sequence");
    t.document_lengths = *lengths;
  }
}

// ---- parallel ------------------------------------------------------------

void parse_parallel(const nlohmann::json& j, DiagnosticSink& sink, ParallelSpec& p) {
  ObjectReader r(j, "parallel", sink,
                 {"tensor_model_parallel_size", "context_parallel_size", "cp_comm_type",
                  "hierarchical_context_parallel_sizes", "cp_load_balance", "pipeline_model_parallel_size", "sequence_parallel",
                  "use_distributed_optimizer", "virtual_pipeline_model_parallel_size",
                  "decoder_first_pipeline_num_layers", "decoder_last_pipeline_num_layers",
                  "account_for_embedding_in_pipeline_split", "account_for_loss_in_pipeline_split",
                  "microbatch_group_size_per_vp_stage", "overlap_p2p_comm", "tp_comm_overlap",
                  "grad_reduce_in_fp32", "overlap_grad_reduce", "overlap_param_gather", "use_megatron_fsdp"});
  set_if(p.tensor_model_parallel_size, r.integer("tensor_model_parallel_size", 1, kMaxCount));
  set_if(p.context_parallel_size, r.integer("context_parallel_size", 1, kMaxCount));
  set_if(p.pipeline_model_parallel_size, r.integer("pipeline_model_parallel_size", 1, kMaxCount));
  set_if(p.virtual_pipeline_model_parallel_size, r.integer("virtual_pipeline_model_parallel_size", 1, kMaxCount));
  set_if(p.decoder_first_pipeline_num_layers, r.integer("decoder_first_pipeline_num_layers", 0, kMaxCount));
  set_if(p.decoder_last_pipeline_num_layers, r.integer("decoder_last_pipeline_num_layers", 0, kMaxCount));
  set_if(p.account_for_embedding_in_pipeline_split, r.boolean("account_for_embedding_in_pipeline_split"));
  set_if(p.account_for_loss_in_pipeline_split, r.boolean("account_for_loss_in_pipeline_split"));
  set_if(p.microbatch_group_size_per_vp_stage, r.integer("microbatch_group_size_per_vp_stage", 1, kMaxCount));
  if (const auto o = r.boolean("overlap_p2p_comm")) p.overlap_p2p_comm = *o;
  set_if(p.cp_comm_type,
         r.choice("cp_comm_type", named_choices(kCpCommTypes),
                              {{"allgather",
                                "use \"all_gather\": Megatron's --cp-comm-type help says \"allgather\" but Transformer "
                                "Engine only accepts all_gather (anything else raises \"Unsupported communication "
                                "type\")"},
                               {"a2a_p2p", "write \"a2a+p2p\""},
                               {"ring", "TE calls the ring \"p2p\""},
                               {"ulysses", "TE calls Ulysses \"a2a\""}}));
  set_if(p.cp_load_balance, r.choice("cp_load_balance", named_choices(kCpLoadBalances),
                                     {{"zigzag_ring", "write \"zigzag\""},
                                      {"dual_chunk_swap", "TE's DualChunkSwap is \"zigzag\""},
                                      {"basic", "ring-flash-attention's basic ring is \"contiguous\""},
                                      {"ring", "ring-flash-attention's ring_flash_attn is \"contiguous\""},
                                      {"striped", "write \"stripe\""}}));
  set_if(p.hierarchical_context_parallel_sizes, r.integer_list("hierarchical_context_parallel_sizes", 1, kMaxCount));
  set_if(p.sequence_parallel, r.boolean("sequence_parallel"));
  set_if(p.tp_comm_overlap, r.boolean("tp_comm_overlap"));
  set_if(p.use_distributed_optimizer, r.boolean("use_distributed_optimizer"));
  set_if(p.grad_reduce_in_fp32, r.boolean("grad_reduce_in_fp32"));
  set_if(p.overlap_grad_reduce, r.boolean("overlap_grad_reduce"));
  set_if(p.overlap_param_gather, r.boolean("overlap_param_gather"));
  set_if(p.use_megatron_fsdp, r.boolean("use_megatron_fsdp"));
  // Megatron overlaps the parameter gather only beside the bucketed gradient reduce, with a
  // distributed optimizer (validate.cpp, check_ddp_overlap): unset, it follows them.
  if (!r.has("overlap_param_gather"))
    p.overlap_param_gather = p.overlap_grad_reduce && (p.use_distributed_optimizer || p.use_megatron_fsdp);
}

// ---- cluster -------------------------------------------------------------

// Reads `key` (a user unit) into `field` (SI) with `scale`; required when there is no preset.
void cluster_number(ObjectReader& r, const char* key, double& field, double scale, double min, double max,
                    bool required, const std::string& fix) {
  if (auto v = r.number(key, min, max)) field = *v * scale;
  else if (required && !r.has(key))
    r.sink().error(r.path_of(key), "missing", "required without cluster.preset", fix);
}

void parse_cluster(const nlohmann::json& j, DiagnosticSink& sink, ClusterSpec& c) {
  ObjectReader r(j, "cluster", sink,
                 {"preset", "num_nodes", "gpus_per_node", "gpu", "intra_node", "inter_node", "host_link_GBps"});
  bool have_preset = false;
  if (auto name = r.string("preset")) {
    if (const ClusterPreset* p = find_cluster_preset(*name)) {
      c = p->spec;
      have_preset = true;
    } else {
      auto names = cluster_preset_names();
      auto guess = did_you_mean(*name, names);
      sink.error("cluster.preset", "unknown cluster preset \"" + *name + "\"", "must be one of " + join_words(names, "or"),
                 guess ? "did you mean \"" + *guess + "\"?" : "describe the node with gpu, intra_node and inter_node");
    }
  }
  const bool need = !have_preset && !r.has("preset");
  set_if(c.num_nodes, r.integer("num_nodes", 1, kMaxCount));
  if (auto g = r.integer("gpus_per_node", 1, 1024)) {
    // A preset describes NICs per GPU: a node of another size keeps the ratio (an explicit
    // inter_node.nics_per_node, read below, wins); where it gives no whole number of NICs,
    // the preset's count stays and the NIC rule says what to give.
    const int64_t scaled = *g * c.inter_node.nics_per_node;
    if (have_preset && scaled % c.gpus_per_node == 0) c.inter_node.nics_per_node = scaled / c.gpus_per_node;
    c.gpus_per_node = *g;
  } else if (need && !r.has("gpus_per_node"))
    sink.error("cluster.gpus_per_node", "missing", "required without cluster.preset", "add e.g. 8");

  ObjectReader g = r.child("gpu", {"name", "peak_bf16_tflops", "peak_fp8_tflops", "peak_fp4_tflops", "memory_gb", "hbm_GBps",
                                   "compute_capability", "sm_count", "sm_clock_mhz"});
  set_if(c.gpu.name, g.string("name"));
  cluster_number(g, "peak_bf16_tflops", c.gpu.peak_bf16_flops_per_s, kTera, 1e-3, 1e6, need, "add the dense bf16 rate");
  cluster_number(g, "peak_fp8_tflops", c.gpu.peak_fp8_flops_per_s, kTera, 0, 1e6, false, "");
  cluster_number(g, "peak_fp4_tflops", c.gpu.peak_fp4_flops_per_s, kTera, 0, 1e6, false, "");
  cluster_number(g, "memory_gb", c.gpu.memory_bytes, kGiga, 1e-3, 1e6, need, "add the GPU memory in GB");
  cluster_number(g, "hbm_GBps", c.gpu.hbm_bytes_per_s, kGiga, 1e-3, 1e7, need, "add the memory bandwidth in GB/s");
  if (auto sm = g.integer("compute_capability", 60, 200, "SM version x 10: 80 for A100, 90 for H100, 100 for B200"))
    c.gpu.compute_capability = *sm;
  else if (need && !g.has("compute_capability"))  // it picks NCCL's tables and the kernels' roofline: no guess
    sink.error("cluster.gpu.compute_capability", "missing", "required without cluster.preset",
               "add the GPU's SM version x 10, e.g. 90 for H100/H200, 100 for B200, 80 for A100");
  // A GPU renamed from a preset's without its own SM count and clock is another GPU: its
  // preset's are not carried over (unknown: attention at head dims other than 128 is then timed
  // as at 128, and validation says so).
  if (have_preset && g.has("name") && !g.has("sm_count") && !g.has("sm_clock_mhz")) {
    c.gpu.sm_count = 0;
    c.gpu.sm_clock_mhz = 0;
  }
  // Nor are its fp8 and fp4 peaks, where the scenario gives any peak of the renamed GPU but not
  // these: fp8 or NVFP4 training then asks for them (validation) rather than run at the preset's.
  const bool peaks_given = g.has("peak_bf16_tflops") || g.has("peak_fp8_tflops") || g.has("peak_fp4_tflops");
  if (have_preset && g.has("name") && peaks_given) {
    if (!g.has("peak_fp8_tflops")) c.gpu.peak_fp8_flops_per_s = 0;
    if (!g.has("peak_fp4_tflops")) c.gpu.peak_fp4_flops_per_s = 0;
  }
  set_if(c.gpu.sm_count, g.integer("sm_count", 1, 4096, "streaming multiprocessors, e.g. 132 for H100"));
  set_if(c.gpu.sm_clock_mhz, g.number("sm_clock_mhz", 100, 10000, "the SM clock its peaks are quoted at, e.g. 1830"));
  if (need && !g.has("name")) c.gpu.name = "custom";  // a name given empty is validation's error

  ObjectReader in = r.child("intra_node", {"kind", "bandwidth_GBps", "latency_us"});
  if (auto k = in.choice("kind", named_choices(kIntraNodeKinds)))
    c.intra_node.kind = *k;
  else if (need && !in.has("kind"))
    sink.error("cluster.intra_node.kind", "missing", "required without cluster.preset", "use nvswitch, pcie or nvl_domain");
  cluster_number(in, "bandwidth_GBps", c.intra_node.bandwidth_bytes_per_s, kGiga, 1e-3, 1e6, need,
                 "add the per-GPU, per-direction bandwidth in GB/s");
  cluster_number(in, "latency_us", c.intra_node.latency_s, kMicro, 0, 1e6, need, "add the latency in microseconds");

  ObjectReader ex = r.child("inter_node", {"nics_per_node", "nic_bandwidth_GBps", "latency_us", "rail_optimized",
                                           "oversubscription"});
  if (auto n = ex.integer("nics_per_node", 1, 1024)) c.inter_node.nics_per_node = *n;
  else if (need && !ex.has("nics_per_node"))
    sink.error("cluster.inter_node.nics_per_node", "missing", "required without cluster.preset", "add e.g. 8");
  cluster_number(ex, "nic_bandwidth_GBps", c.inter_node.nic_bandwidth_bytes_per_s, kGiga, 1e-3, 1e6, need,
                 "add the per-NIC, per-direction bandwidth in GB/s (400 Gb/s = 50)");
  cluster_number(ex, "latency_us", c.inter_node.latency_s, kMicro, 0, 1e6, need, "add the latency in microseconds");
  set_if(c.inter_node.rail_optimized, ex.boolean("rail_optimized"));
  if (auto o = ex.number("oversubscription", 1, 1000, "use 1 for a non-blocking fabric, 2 for 2:1, ..."))
    c.inter_node.oversubscription = *o;
  cluster_number(r, "host_link_GBps", c.host_link_bytes_per_s, kGiga, 1e-3, 1e6, false, "");
  if (!have_preset) c.preset.clear();
}

// ---- software ------------------------------------------------------------

// NCCL_ALGO / NCCL_PROTO: a name, a comma-separated list, "^..." for all but those, or a JSON
// list; names as NCCL matches them (case and underscores do not matter: "NVLSTree" = "nvls_tree").
template <class E, size_t N>
std::optional<std::vector<E>> nccl_name_list(ObjectReader& r, const std::string& key, const E (&all)[N]) {
  const nlohmann::json* v = r.raw(key);
  if (!v) return std::nullopt;
  const auto squash = [](std::string s) {
    std::string out;
    for (char ch : s)
      if (ch != '_' && ch != ' ') out += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return out;
  };
  std::vector<std::string> names, words;
  for (E e : all) names.push_back(to_string(e));
  bool exclude = false;
  if (v->is_string()) {
    std::string s = v->get<std::string>();
    if (!s.empty() && s[0] == '^') {
      exclude = true;
      s.erase(0, 1);
    }
    for (size_t start = 0; start <= s.size();) {
      const size_t comma = std::min(s.find(',', start), s.size());
      words.push_back(s.substr(start, comma - start));
      start = comma + 1;
    }
  } else if (v->is_array()) {
    for (const auto& e : *v) words.push_back(e.is_string() ? e.get<std::string>() : e.dump());
  } else {
    r.sink().error(r.path_of(key), "must be a name or a list of names", "type", "e.g. \"" + names[0] + "\"");
    return std::nullopt;
  }
  std::vector<E> picked;
  for (const std::string& w : words) {
    bool found = false;
    for (E e : all)
      if (squash(w) == squash(to_string(e))) {
        picked.push_back(e);
        found = true;
      }
    if (!found) {
      const auto guess = did_you_mean(w, names);
      r.sink().error(r.path_of(key), "unknown name \"" + w + "\"", "must be one of " + join_words(names, "or"),
                     guess ? "did you mean \"" + *guess + "\"?" : "use one of the names above");
      return std::nullopt;
    }
  }
  if (!exclude) return picked;
  std::vector<E> rest;
  for (E e : all)
    if (std::find(picked.begin(), picked.end(), e) == picked.end()) rest.push_back(e);
  return rest;
}

void parse_nccl(ObjectReader r, NcclSettings& n) {
  // A list that names an unknown word has its own error; one that reads leaves at least one.
  if (auto a = nccl_name_list(r, "algo", kNcclAlgorithms)) {
    n.algorithms = *a;
    if (n.algorithms.empty())
      r.sink().error(r.path_of("algo"), "excludes every algorithm", "NCCL needs at least one", "allow ring");
  }
  if (auto p = nccl_name_list(r, "proto", kNcclProtocols)) {
    n.protocols = *p;
    if (n.protocols.empty())
      r.sink().error(r.path_of("proto"), "excludes every protocol", "NCCL needs at least one", "allow Simple");
  }
  set_if(n.min_ctas, r.integer("min_ctas", 1, 64));
  set_if(n.max_ctas, r.integer("max_ctas", 1, 64));
  if (n.min_ctas > 0 && n.max_ctas > 0 && n.min_ctas > n.max_ctas)
    r.sink().error(r.path_of("min_ctas"), std::to_string(n.min_ctas) + " > max_ctas " + std::to_string(n.max_ctas),
                   "min_ctas <= max_ctas", "lower min_ctas or raise max_ctas");
  set_if(n.nvls, r.boolean("nvls_enable"));
  set_if(n.pxn, r.boolean("pxn"));
  set_if(n.net_channels_per_peer, r.integer("nchannels_per_net_peer", 1, 32));
}

void parse_software(const nlohmann::json& j, DiagnosticSink& sink, SoftwareSpec& s) {
  ObjectReader r(j, "software", sink,
                 {"transformer_engine_version", "use_decentralized_pg", "attention_backend", "cuda_graph_impl", "fusions",
                  "nccl", "norm_fwd_use_cudnn", "expandable_segments"});
  {
    ObjectReader f = r.child("fusions", {"rope", "swiglu", "cross_entropy", "cross_entropy_impl"});
    set_if(s.fusions.rope, f.boolean("rope"));
    set_if(s.fusions.swiglu, f.boolean("swiglu"));
    set_if(s.fusions.cross_entropy, f.boolean("cross_entropy"));
    set_if(s.fusions.cross_entropy_impl,
           f.choice("cross_entropy_impl", named_choices(rules::kCrossEntropyFusions),
                    {{"transformer_engine", "write \"te\""}, {"mcore", "Megatron-core's own is \"native\""}}));
  }
  parse_nccl(r.child("nccl", {"algo", "proto", "min_ctas", "max_ctas", "nvls_enable", "pxn", "nchannels_per_net_peer"}),
             s.nccl);
  if (auto v = r.string("transformer_engine_version")) {
    if (auto ver = parse_version(*v)) s.transformer_engine_version = *ver;
    else
      sink.error("software.transformer_engine_version", "\"" + *v + "\" is not a version", "MAJOR.MINOR[.PATCH]",
                 "write it like \"2.8.0\"");
  }
  set_if(s.use_decentralized_pg, r.boolean("use_decentralized_pg"));
  set_if(s.norm_fwd_use_cudnn, r.boolean("norm_fwd_use_cudnn"));
  set_if(s.expandable_segments, r.boolean("expandable_segments"));
  set_if(s.cuda_graph_impl, r.choice("cuda_graph_impl", named_choices(kCudaGraphImpls),
                                     {{"te", "write \"transformer_engine\""}, {"full", "write \"full_iteration\""}}));
  set_if(s.attention_backend,
         r.choice("attention_backend", named_choices(kAttentionBackends),
                  {{"fused", "Transformer Engine's FusedAttention is cuDNN's: write \"cudnn\""},
                   {"FusedAttention", "Transformer Engine's FusedAttention is cuDNN's: write \"cudnn\""},
                   {"flash_attn", "write \"flash\" (FlashAttention 2 or 3)"},
                   {"FlashAttention", "write \"flash\" (FlashAttention 2 or 3)"},
                   {"unfused", "TE's UnfusedDotProductAttention is not modelled; use cudnn or flash"}}));
}

}  // namespace

const std::vector<std::string>& scenario_top_level_keys() { return kTopKeys; }

std::optional<Version> parse_version(const std::string& s) {
  Version v;
  int parts[3] = {0, 0, 0};
  size_t i = 0;
  int n = 0;
  while (n < 3) {
    size_t start = i;
    int64_t x = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])) && i - start < 6) x = x * 10 + (s[i++] - '0');
    if (i == start) return std::nullopt;
    parts[n++] = static_cast<int>(x);
    if (i == s.size() || s[i] != '.') break;
    ++i;
  }
  // Allow a local suffix such as "2.8.0+cu130" or "1.12.0.dev0".
  if (n < 2 || (i < s.size() && s[i] != '+' && s[i] != '.' && s[i] != 'r' && s[i] != 'd')) return std::nullopt;
  v.major = parts[0];
  v.minor = parts[1];
  v.patch = parts[2];
  return v;
}


Scenario parse_scenario_text(std::string_view json_text, const ParseOptions& opt) {
  DiagnosticSink sink;
  auto doc = parse_json_text(json_text, opt.source_name, "", sink);
  sink.throw_if_any();

  Scenario sc;
  ParsedSections ok;
  bool global_batch_given = false;
  ObjectReader top(*doc, "", sink, kTopKeys);
  sc.name = top.string("name").value_or(opt.default_name);
  (void)top.string("description");
  const nlohmann::json empty = nlohmann::json::object();
  for (const char* section : {"model", "training", "parallel", "cluster"}) {
    if (doc->is_object() && !top.has(section))
      sink.error(section, "missing section", "a scenario names model, training, parallel and cluster",
                 std::string("add \"") + section + "\": { ... } (see scenarios/ for examples)");
  }
  const nlohmann::json* model = top.object("model");
  const nlohmann::json* training = top.object("training");
  const nlohmann::json* parallel = top.object("parallel");
  const nlohmann::json* cluster = top.object("cluster");
  const nlohmann::json* software = top.object("software");
  if (model) parse_model(*model, opt, sink, sc.model);
  if (model && model->is_object() && model->contains("hf_config") && model->at("hf_config").is_string())
    sc.hf_config_path = resolve(opt.base_dir, model->at("hf_config").get<std::string>());
  if (training) parse_training(*training, sink, sc.training, global_batch_given);
  if (parallel) parse_parallel(*parallel, sink, sc.parallel);
  if (cluster) parse_cluster(*cluster, sink, sc.cluster);
  parse_software(software ? *software : empty, sink, sc.software);
  ok.model_present = model != nullptr;
  ok.training_present = training != nullptr;
  ok.parallel_present = parallel != nullptr;
  ok.cluster_present = cluster != nullptr;

  set_if(sc.workload, top.choice("workload", named_choices(kWorkloadKinds)));
  set_if(sc.passes, top.choice("passes", named_choices(kPasses),
                                       {{"fwd_bwd", "write \"fwd+bwd\""}, {"bwd", "backward alone is not a workload; use fwd+bwd"}}));
  if (const nlohmann::json* sweep = top.object("sweep")) (void)parse_sweep_spec(*sweep, sink);  // bounds of `hcpsim sweep`
  if (auto cal = top.string("calibration")) sc.calibration_path = resolve(opt.base_dir, *cal);
  if (sc.workload == WorkloadKind::Step && sc.passes == Passes::Fwd && top.has("passes"))
    sink.error("passes", "\"fwd\" with workload \"step\"", "a training step runs forward and backward",
               "use \"fwd+bwd\", or set \"workload\" to \"layer\" or \"attention\"");

  validate_scenario(sc, ok, global_batch_given, sink, opt.scope);
  sink.throw_if_any();
  return sc;
}

Scenario load_scenario_file(const std::string& path, ValidationScope scope) {
  DiagnosticSink sink;
  auto text = read_text_file(path, "", sink);
  sink.throw_if_any();
  ParseOptions opt = parse_options_for_file(path);
  opt.scope = scope;
  return parse_scenario_text(*text, opt);
}

ParseOptions parse_options_for_file(const std::string& path) {
  ParseOptions opt;
  const std::filesystem::path p(path);
  opt.base_dir = p.has_parent_path() ? p.parent_path().string() : ".";
  opt.default_name = p.stem().string();
  opt.source_name = path;
  return opt;
}

}  // namespace hcpsim

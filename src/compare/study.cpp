#include "compare/study.hpp"

#include <cmath>
#include <map>

#include "common/json_reader.hpp"
#include "common/json_text.hpp"
#include "common/strprintf.hpp"
#include "scenario/presets.hpp"

namespace hcpsim {

namespace {

const std::vector<std::string> kTopKeys = {"name", "description", "job", "prices_source", "options", "sweep"};
const std::vector<std::string> kJobKeys = {"model", "training", "software", "parallel", "token_budget"};
// The parallel keys a job may set: how its layers split over pipeline stages (Megatron's
// account_for_*_in_pipeline_split: Llama-3.1-405B's 126 layers + embedding + loss split 128 ways);
// the layout itself is what compare sweeps.
const std::vector<std::string> kJobParallelKeys = {"account_for_embedding_in_pipeline_split",
                                                   "account_for_loss_in_pipeline_split", "use_megatron_fsdp"};
const std::vector<std::string> kOptionKeys = {"name", "cluster", "price_per_gpu_hour", "power", "fabric_variants"};
// The training keys a job may set: the layout's (micro batch, recompute) are what compare sweeps;
// the fp8 recipe and primary weights are the job's (each option's scenario validates them: MXFP8
// on a Hopper option is an error naming job.training.fp8_recipe).
const std::vector<std::string> kJobTrainingKeys = {"seq_length",     "global_batch_size", "global_batch_tokens",
                                                   "precision",      "attn_mask_type",    "fp8_recipe",
                                                   "fp8_param_gather", "fp4_param_gather", "cpu_offloading_num_layers"};

// A scenario diagnostic's path as a path in the study file.
std::string study_path(const std::string& scenario_path, const std::string& option_path) {
  for (const char* job_section : {"model", "training", "software"})
    if (scenario_path.rfind(job_section, 0) == 0) return "job." + scenario_path;
  for (const std::string& k : kJobParallelKeys)
    if (scenario_path == "parallel." + k) return "job." + scenario_path;
  if (scenario_path.rfind("cluster", 0) == 0) return option_path + "." + scenario_path;
  return option_path + " (" + scenario_path + ")";
}

std::optional<PowerSpec> read_power(ObjectReader& o, const std::string& option_path) {
  if (!o.has("power")) return std::nullopt;
  ObjectReader p = o.child("power", {"per_gpu_w", "per_node_w", "pue", "source"});
  PowerSpec s;
  const auto gpu = p.number("per_gpu_w", 1, 1e5, "watts per GPU under training load, e.g. 1000");
  const auto node = p.number("per_node_w", 1, 1e7, "watts per node (an NVL72: per rack), e.g. 10200");
  if (gpu.has_value() == node.has_value() && !p.sink().spoiled(option_path + ".power"))
    p.sink().error(option_path + ".power", gpu ? "gives both per_gpu_w and per_node_w" : "gives neither per_gpu_w nor per_node_w",
                   "power is per GPU or per node, one of the two", "keep one, e.g. \"per_node_w\": 10200");
  s.per_gpu_w = gpu.value_or(0);
  s.per_node_w = node.value_or(0);
  s.pue = p.number("pue", 1, 5, "the facility's power usage effectiveness, e.g. 1.2").value_or(1.0);
  s.source = p.string("source").value_or("the study");
  return s;
}

// The job on one cluster as a scenario document, with a placeholder layout the sweep replaces.
nlohmann::json base_document(const std::string& name, const nlohmann::json& job, const nlohmann::json& cluster,
                             int64_t global_batch_size) {
  nlohmann::json d = nlohmann::json::object();
  d["name"] = name;
  if (job.contains("model")) d["model"] = job["model"];
  nlohmann::json training = job.value("training", nlohmann::json::object());
  training.erase("global_batch_tokens");
  if (global_batch_size > 0) training["global_batch_size"] = global_batch_size;
  d["training"] = training;
  d["parallel"] = {{"tensor_model_parallel_size", 1}, {"context_parallel_size", 1}, {"use_distributed_optimizer", true}};
  if (job.contains("parallel") && job["parallel"].is_object()) d["parallel"].update(job["parallel"]);
  d["cluster"] = cluster;
  if (job.contains("software")) d["software"] = job["software"];
  return d;
}

// Adds the option; false where its scenario did not validate (its errors are in `sink`).
bool add_option(Study& st, const nlohmann::json& job, const std::string& name, const std::string& path,
                const nlohmann::json& cluster, std::optional<double> price, std::optional<PowerSpec> power,
                const ParseOptions& opt, DiagnosticSink& sink) {
  StudyOption o;
  o.name = name;
  o.path = path;
  o.price_per_gpu_hour = price;
  o.base_doc = base_document(name, job, cluster, st.global_batch_size);
  ParseOptions po = opt;
  po.scope = ValidationScope::LayoutFree;
  po.source_name = opt.source_name + " (" + path + ")";
  try {
    o.base = parse_scenario_text(o.base_doc.dump(), po);
  } catch (const InputError& e) {
    for (const Diagnostic& d : e.diagnostics()) {
      const std::string where = study_path(d.path, path);
      // A job error repeats for every option: reported once, naming the first option it failed on
      // (a job key can be valid on one option's GPU and not on another's), and not at all where the
      // study's own reading of the job reported that key already (a missing model, say).
      const bool job_key = where.rfind("job.", 0) == 0;
      const std::string what = job_key ? d.what + ", on " + path + " (\"" + name + "\")" : d.what;
      bool seen = false;
      for (const Diagnostic& s : sink.list())  // the same message, or the study's own (no option named) at that key
        seen = seen || (s.path == where && (s.what == d.what || s.what.rfind(d.what + ", on ", 0) == 0 ||
                                            (job_key && s.what.find(", on options[") == std::string::npos)));
      if (!seen) sink.error(where, what, d.rule, d.fix);
    }
    return false;
  }
  if (!power) {  // the preset's maximum power, where it has one
    if (const ClusterPreset* p = find_cluster_preset(o.base.cluster.preset); p && p->node_max_power_w > 0)
      power = PowerSpec{p->node_max_power_w / static_cast<double>(p->spec.gpus_per_node), 0, 1.0,
                        "the " + p->name + " preset's maximum power per node / its GPUs (an upper bound), PUE 1"};
  }
  o.power = power;
  st.options.push_back(std::move(o));
  return true;
}

}  // namespace

Study parse_study_text(std::string_view text, const ParseOptions& opt) {
  DiagnosticSink sink;
  auto doc = parse_json_text(text, opt.source_name, "", sink);
  sink.throw_if_any();
  Study st;
  st.base_dir = opt.base_dir;
  ObjectReader top(*doc, "", sink, kTopKeys);
  st.name = top.string("name").value_or(opt.default_name);
  st.description = top.string("description").value_or("");
  st.prices_source = top.string("prices_source").value_or("");
  if (const nlohmann::json* sweep = top.object("sweep")) st.sweep = parse_sweep_spec(*sweep, sink);

  const nlohmann::json empty = nlohmann::json::object();
  const nlohmann::json* job_doc = top.object("job");
  if (!job_doc && doc->is_object())
    sink.error("job", "missing", "a study names one training job", "add \"job\": {\"model\": ..., \"training\": ..., \"token_budget\": ...}");
  const nlohmann::json& job = job_doc ? *job_doc : empty;
  ObjectReader j(job, "job", sink, kJobKeys);
  st.token_budget = j.number("token_budget", 1, 1e16, "tokens to train, e.g. 100e9").value_or(0);
  if (job_doc && !j.has("token_budget"))
    sink.error("job.token_budget", "missing", "a study trains a token budget", "add e.g. \"token_budget\": 100e9");
  if (job_doc && !j.has("model"))
    sink.error("job.model", "missing", "a study names the model", "add e.g. \"model\": {\"preset\": \"llama3.1-70b\"}");
  ObjectReader t = j.child("training", kJobTrainingKeys);
  if (j.has("parallel")) {  // read for its types; each option's scenario validates the rest
    ObjectReader par = j.child("parallel", kJobParallelKeys);
    for (const std::string& k : kJobParallelKeys) (void)par.boolean(k);
  }
  if (job_doc && !j.has("training"))
    sink.error("job.training", "missing", "a study names the sequence length and the global batch",
               "add \"training\": {\"seq_length\": 262144, \"global_batch_tokens\": 4194304}");
  st.seq_length = t.integer("seq_length", 1, int64_t{1} << 32).value_or(0);
  const auto sequences = t.integer("global_batch_size", 1, int64_t{1} << 32, "sequences per step");
  const auto tokens = t.integer("global_batch_tokens", 1, int64_t{1} << 50, "tokens per step, e.g. 4194304");
  if (j.has("training") && sequences.has_value() == tokens.has_value() && !sink.spoiled("job.training"))
    sink.error("job.training", sequences ? "gives both global_batch_size and global_batch_tokens"
                                         : "gives neither global_batch_size nor global_batch_tokens",
               "the global batch is given once, in sequences or in tokens",
               "keep one, e.g. \"global_batch_tokens\": 4194304 (16 sequences of 256K)");
  if (sequences) st.global_batch_size = *sequences;
  if (tokens && st.seq_length > 0) {
    if (*tokens % st.seq_length != 0)
      sink.error("job.training.global_batch_tokens",
                 std::to_string(*tokens) + " tokens is not a whole number of " + std::to_string(st.seq_length) + "-token sequences",
                 "global_batch_tokens % seq_length == 0",
                 "use " + std::to_string(std::max<int64_t>(1, *tokens / st.seq_length) * st.seq_length));
    else
      st.global_batch_size = *tokens / st.seq_length;
  }
  // Training runs whole steps: a budget below one global batch would be charged a whole step.
  if (st.token_budget > 0 && st.global_batch_size > 0 && st.seq_length > 0 &&
      st.token_budget < double(st.global_batch_size) * double(st.seq_length))  // in doubles: no int64 overflow
    sink.error("job.token_budget",
               strprintf("%.4g", st.token_budget) + " tokens is less than one step's global batch (" +
                   strprintf("%.4g", double(st.global_batch_size) * double(st.seq_length)) + " tokens)",
               "a study trains at least one global batch",
               "give the budget in tokens (e.g. 100e9 for 100 billion), or a smaller global batch");

  const nlohmann::json* options = top.raw("options");
  if (!options || !options->is_array() || options->empty()) {
    sink.error("options", options ? "must be a non-empty list" : "missing", "a study compares at least one cluster option",
               "add \"options\": [{\"name\": \"16 x DGX H200\", \"cluster\": {\"preset\": \"dgx-h200\", \"num_nodes\": 16}}]");
    sink.throw_if_any();
  }
  bool any_price = false;
  std::map<std::string, std::string> named;  // name -> the path that named it first
  const auto unique_name = [&](const std::string& name, const std::string& path) {
    const auto [it, fresh] = named.try_emplace(name, path);
    if (!fresh)
      sink.error(path + ".name", "\"" + name + "\" also names " + it->second,
                 "each option's name is its row in the results", "give each option (and fabric variant) its own name");
  };
  for (size_t i = 0; i < options->size(); ++i) {
    const std::string path = "options[" + std::to_string(i) + "]";
    ObjectReader o((*options)[i], path, sink, kOptionKeys);
    std::string name = o.string("name").value_or("option " + std::to_string(i + 1));
    if (name.find_first_not_of(" \t\n\r") == std::string::npos) {  // every sentence about the option names it
      sink.error(path + ".name", "is empty", "an option's name labels its row and its sentences",
                 "name it, e.g. \"H200, 16 nodes\", or leave the key out (\"option " + std::to_string(i + 1) + "\")");
      name = "option " + std::to_string(i + 1);
    }
    unique_name(name, path);
    const nlohmann::json* cluster = o.object("cluster");
    if (!cluster && (*options)[i].is_object())
      sink.error(path + ".cluster", "missing", "each option names a cluster", "add \"cluster\": {\"preset\": \"dgx-h200\", \"num_nodes\": 16}");
    const auto price = o.number("price_per_gpu_hour", 1e-9, 1e6, "in your currency per GPU-hour, e.g. 3.50");
    any_price = any_price || price.has_value();
    const auto power = read_power(o, path);
    if (!cluster) continue;
    const bool option_ok = add_option(st, job, name, path, *cluster, price, power, opt, sink);
    const nlohmann::json* variants = o.raw("fabric_variants");
    if (!variants || !option_ok) continue;  // a broken option's errors are not repeated at each variant
    const int64_t option_gpus_per_node = st.options.back().base.cluster.gpus_per_node;
    if (!variants->is_array()) {
      sink.error(path + ".fabric_variants", "must be a list", "each variant is {\"name\": ..., \"cluster\": {...keys to change...}}",
                 "write e.g. [{\"name\": \"2:1 fabric\", \"cluster\": {\"inter_node\": {\"oversubscription\": 2}}}]");
      continue;
    }
    for (size_t v = 0; v < variants->size(); ++v) {
      const std::string vpath = path + ".fabric_variants[" + std::to_string(v) + "]";
      ObjectReader vr((*variants)[v], vpath, sink, {"name", "cluster", "price_per_gpu_hour", "power"});
      const std::string vname = name + " / " + vr.string("name").value_or("variant " + std::to_string(v + 1));
      unique_name(vname, vpath);
      const nlohmann::json* patch = vr.object("cluster");
      if (!patch) {
        if ((*variants)[v].is_object())
          sink.error(vpath + ".cluster", "missing", "a fabric variant changes the option's cluster",
                     "add e.g. \"cluster\": {\"inter_node\": {\"nics_per_node\": 4}}");
        continue;
      }
      // A variant's price and power default to its option's: it may change the fabric, not the GPU.
      const bool new_preset = patch->contains("preset") && (!cluster->contains("preset") || (*patch)["preset"] != (*cluster)["preset"]);
      // The node's GPU count is its type too: the option's power per node would be another node's.
      const bool new_node = patch->contains("gpus_per_node") && (*patch)["gpus_per_node"] != option_gpus_per_node;
      if (new_preset || new_node || patch->contains("gpu")) {
        const char* key = new_preset ? "preset" : new_node ? "gpus_per_node" : "gpu";
        sink.error(vpath + ".cluster." + key, std::string("changes the ") + (new_node ? "node" : "GPU") + " of option \"" + name + "\"",
                   "a fabric variant changes the fabric (intra_node, inter_node, num_nodes), not the GPU or node type",
                   "make it an option of its own, with its own price_per_gpu_hour");
        continue;
      }
      nlohmann::json merged = *cluster;
      merged.merge_patch(*patch);
      const auto vprice = vr.number("price_per_gpu_hour", 1e-9, 1e6, "in your currency per GPU-hour, e.g. 3.50");
      any_price = any_price || vprice.has_value();
      const auto vpower = read_power(vr, vpath);
      add_option(st, job, vname, vpath, merged, vprice ? vprice : price, vpower ? vpower : power, opt, sink);
    }
  }
  if (any_price && st.prices_source.empty())
    sink.error("prices_source", top.has("prices_source") ? "is empty" : "missing", "hcpsim ships no prices: a study with prices names where they come from",
               "add e.g. \"prices_source\": \"our cloud quote of 2026-11 (on-demand, per GPU-hour)\"");
  sink.throw_if_any();
  return st;
}

Study load_study_file(const std::string& path) {
  DiagnosticSink sink;
  auto text = read_text_file(path, "", sink);
  sink.throw_if_any();
  Study st = parse_study_text(*text, parse_options_for_file(path));
  st.source = path;
  return st;
}

}  // namespace hcpsim

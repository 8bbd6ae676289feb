#include "run/result_json.hpp"

#include <algorithm>
#include <limits>

#include "common/json_reader.hpp"
#include "scenario/scenario_json.hpp"

namespace hcpsim {

namespace {

template <class T>
void read(std::optional<T> v, T& field) {
  if (v) field = *v;
}

constexpr double kHuge = 1e300;

// Keys written only with pipeline parallelism (or, wall_s, outside reproducible output).
bool optional_key(const std::string& k) {
  return k == "wall_s" || k == "pipeline" || k == "peak_stage" || k == "stage_peak_bytes" || k == "dp_buckets" ||
         k == "offload_forward_s" || k == "offload_backward_s" || k == "rerun_forward_s";
}

// A reader of the object at `key` of `r` that knows `keys` and requires all but the optional ones.
ObjectReader sub(ObjectReader& r, const std::string& key, std::vector<std::string> keys) {
  if (!r.has(key)) r.sink().error(r.path_of(key), "missing", "a result names every field", "write it with hcpsim");
  ObjectReader s = r.child(key, keys);
  for (const auto& k : keys)
    if (r.has(key) && !s.has(k) && !optional_key(k))
      r.sink().error(s.path_of(k), "missing", "a result names every field", "write it with hcpsim");
  return s;
}

double number(ObjectReader& r, const char* key) { return r.number(key, -kHuge, kHuge).value_or(0); }

}  // namespace

nlohmann::json memory_to_json(const MemoryEstimate& m) {
  nlohmann::json breakdown = nlohmann::json::array();
  for (const auto& c : m.breakdown) breakdown.push_back({{"name", c.name}, {"bytes", c.bytes}, {"note", c.note}});
  nlohmann::json phases = nlohmann::json::array();
  for (const auto& p : m.phases) phases.push_back({{"name", p.name}, {"bytes", p.bytes}});
  nlohmann::json j = {{"peak_bytes", m.peak_bytes},         {"capacity_bytes", m.capacity_bytes},
                      {"headroom_bytes", m.headroom_bytes}, {"fits", m.fits},
                      {"peak_phase", m.peak_phase},         {"breakdown", breakdown},
                      {"phases", phases}};
  if (!m.stage_peak_bytes.empty()) {  // PP > 1
    j["peak_stage"] = m.peak_stage;
    j["stage_peak_bytes"] = m.stage_peak_bytes;
  }
  j["allocator"] = {{"margin_bytes", m.allocator_margin_bytes},
                    {"largest_allocation_bytes", m.largest_allocation_bytes},
                    {"largest_allocation", m.largest_allocation},
                    {"stage", m.allocator_margin_stage},
                    {"stage_headroom_bytes", m.allocator_stage_headroom_bytes},
                    {"expandable_segments", m.expandable_segments},
                    {"headroom_within_margin", m.within_allocator_margin}};
  return j;
}

// Stage values as the PP = 1 keys report them: embedding + head per micro batch, the longest
// DP sync (per stage with PP, "pipeline" holds each).
double sum_over(const StepInputs& in, double StageInputs::*field) {
  double v = 0;
  for (const StageInputs& s : in.stages) v += s.*field;
  return v;
}
double max_over(const StepInputs& in, double (StageInputs::*field)() const) {
  double v = 0;
  for (const StageInputs& s : in.stages) v = std::max(v, (s.*field)());
  return v;
}

nlohmann::json buckets_to_json(const StageInputs& st) {
  nlohmann::json list = nlohmann::json::array();
  for (const DpBucket& b : st.dp_buckets)
    list.push_back({{"chunk", b.chunk},
                    {"grad_ready", b.grad_ready},
                    {"first_used", b.first_used},
                    {"grad_reduce_s", b.grad_reduce_s},
                    {"param_gather_s", b.param_gather_s}});
  return list;
}

nlohmann::json pipeline_to_json(const StepMetrics& s) {
  const PipelineSpec& ps = s.inputs.pipeline;
  nlohmann::json stages = nlohmann::json::array();
  for (const StageInputs& st : s.inputs.stages)
    stages.push_back({{"chunk_layers", st.chunk_layers},
                      {"extra_forward_s", st.extra_forward_s},
                      {"extra_backward_s", st.extra_backward_s},
                      {"send_forward_s", st.send_forward_s},
                      {"send_backward_s", st.send_backward_s},
                      {"grad_reduce_s", st.grad_reduce_s()},
                      {"param_gather_s", st.param_gather_s()},
                      {"optimizer_s", st.optimizer_s},
                      {"forward_launches", st.forward_launches},
                      {"backward_launches", st.backward_launches},
                      {"grad_buckets", int64_t(st.dp_buckets.size())},
                      {"dp_buckets", buckets_to_json(st)}});
  return {{"schedule", ps.interleaved() ? "interleaved_1f1b" : "1f1b"},
          {"stages", ps.stages},
          {"virtual_stages", ps.virtual_stages},
          {"microbatch_group", ps.interleaved() ? ps.group() : 0},  // 0: 1F1B has no groups
          {"overlap_p2p_comm", ps.overlap_p2p_comm},
          {"pipeline_s", s.composed.pipeline_s},
          {"bubble_fraction", s.composed.bubble_fraction},
          {"per_stage", stages}};
}

nlohmann::json result_to_json(const SimulationResult& r) {
  const Scenario& sc = r.scenario;
  nlohmann::json j;
  j["name"] = sc.name;
  j["valid"] = true;
  j["warnings"] = sc.warnings;
  j["parallel"] = parallel_to_json(sc);
  if (r.step) {
    const StepMetrics& s = *r.step;
    j["step"] = {{"time_s", s.time_s},
                 {"tokens_per_s", s.tokens_per_s},
                 {"tokens_per_s_per_gpu", s.tokens_per_s_per_gpu},
                 {"mfu", s.mfu},
                 // what MFU divides by, per GPU: the dense peak of the GEMMs' precision (bf16, fp8 or fp4)
                 {"mfu_peak_flops_per_s", precision_peak_flops_per_s(sc.cluster.gpu, sc.training.precision)},
                 {"model_flops", s.model_flops},
                 {"microbatch_forward_s", s.composed.microbatch_forward_s},
                 {"microbatch_backward_s", s.composed.microbatch_backward_s},
                 {"layers", s.inputs.layers},
                 {"microbatches", s.inputs.microbatches},
                 {"embedding_head_forward_s", sum_over(s.inputs, &StageInputs::extra_forward_s)},
                 {"embedding_head_backward_s", sum_over(s.inputs, &StageInputs::extra_backward_s)},
                 {"grad_reduce_s", max_over(s.inputs, &StageInputs::grad_reduce_s)},
                 {"grad_reduce_exposed_s", s.composed.grad_reduce_exposed_s},
                 {"grad_buckets", s.inputs.stages.empty() ? int64_t{0} : int64_t(s.inputs.stages.front().dp_buckets.size())},
                 {"param_gather_s", max_over(s.inputs, &StageInputs::param_gather_s)},
                 {"param_gather_exposed_s", s.composed.param_gather_exposed_s},
                 {"optimizer_s", s.composed.optimizer_s},
                 {"host_per_launch_s", s.inputs.host_per_launch_s},
                 {"host_launches", s.composed.host_launches},
                 {"host_forward_launches", s.composed.host_forward_launches},
                 {"host_backward_launches", s.composed.host_backward_launches},
                 {"host_launch_s", s.composed.host_launch_s},
                 {"host_wait_s", s.composed.host_wait_s},
                 {"host_bound", s.composed.host_bound}};
    // The activation offload's waits (PP = 1), a micro batch's, each way: written where there are any.
    if (!s.inputs.stages.empty() && s.inputs.stages.front().offload_forward_s + s.inputs.stages.front().offload_backward_s > 0) {
      j["step"]["offload_forward_s"] = s.inputs.stages.front().offload_forward_s;
      j["step"]["offload_backward_s"] = s.inputs.stages.front().offload_backward_s;
    }
    if (s.inputs.pipeline.stages > 1) j["step"]["pipeline"] = pipeline_to_json(s);
    else if (!s.inputs.stages.empty()) j["step"]["dp_buckets"] = buckets_to_json(s.inputs.stages.front());
  } else {
    j["step"] = nullptr;
  }
  j["attention"] = {{"rank", r.attention.rank},
                    {"forward_s", r.attention.forward_s},
                    {"backward_s", r.attention.backward_s},
                    {"comm_s", r.attention.comm_s},
                    {"exposed_comm_s", r.attention.exposed_comm_s},
                    {"overlap_ratio", r.attention.overlap_ratio}};
  j["layer"] = {{"forward_s", r.layer.forward_s}, {"backward_s", r.layer.backward_s}, {"makespan_s", r.layer_makespan_s}};
  if (r.scenario.training.full_recompute()) j["layer"]["rerun_forward_s"] = r.layer.rerun_s;  // of backward_s
  j["memory"] = memory_to_json(r.memory);
  nlohmann::json links = nlohmann::json::array();
  for (const auto& l : r.links)
    links.push_back({{"name", l.name}, {"class", to_string(l.cls)}, {"bytes", l.bytes}, {"busy_s", l.busy_s},
                     {"utilisation", l.utilisation}});
  j["links"] = links;
  j["simulated"] = {{"gpus", r.simulated_gpus}, {"activities", r.activities}, {"what", r.simulated}};
  if (r.wall_s) j["simulated"]["wall_s"] = *r.wall_s;
  j["composed"] = r.composed;
  j["cost_model"] = r.cost_source;
  {
    const Uncertainty& u = r.uncertainty;
    nlohmann::json comps = nlohmann::json::array();
    for (const auto& c : u.components) {
      nlohmann::json k = {{"what", c.what}, {"share", c.share}, {"relative", c.relative}, {"basis", c.basis}};
      if (!c.shared_basis.empty())  // carried from another GPU's measurement: what it shares with that GPU's predictions
        k["shared_with"] = {{"basis", c.shared_basis}, {"relative", c.shared_relative}};
      comps.push_back(k);
    }
    j["uncertainty"] = {{"relative", u.relative},
                        {r.step ? "step_time_s" : "layer_time_s", {u.time_s.first, u.time_s.second}},
                        {"tokens_per_s", r.step ? nlohmann::json{u.tokens_per_s.first, u.tokens_per_s.second}
                                                : nlohmann::json(nullptr)},
                        {"components", comps}};
  }
  j["scenario"] = scenario_to_json(sc);
  return j;
}

namespace {

// The keys a stage's times are read under: a "per_stage" entry's own, or the step's PP = 1 keys.
struct StageKeys {
  const char *extra_forward, *extra_backward;
};
constexpr StageKeys kStageKeys{"extra_forward_s", "extra_backward_s"};
constexpr StageKeys kStepKeys{"embedding_head_forward_s", "embedding_head_backward_s"};

// A stage's inputs; its reduce and gather totals and bucket count are written for reading by
// people and follow from its "dp_buckets".
StageInputs stage_from_json(ObjectReader& r, const StageKeys& k) {
  StageInputs st;
  st.extra_forward_s = number(r, k.extra_forward);
  st.extra_backward_s = number(r, k.extra_backward);
  st.optimizer_s = number(r, "optimizer_s");
  const nlohmann::json* list = r.raw("dp_buckets");
  if (list && !list->is_array()) r.sink().error(r.path_of("dp_buckets"), "must be a list", "type", "write it with hcpsim");
  for (size_t i = 0; list && list->is_array() && i < list->size(); ++i) {
    ObjectReader e((*list)[i], r.path_of("dp_buckets") + "[" + std::to_string(i) + "]", r.sink(),
                   {"chunk", "grad_ready", "first_used", "grad_reduce_s", "param_gather_s"});
    DpBucket b;
    read(e.integer("chunk", 0, int64_t{1} << 20), b.chunk);
    read(e.number("grad_ready", 0, 1), b.grad_ready);
    read(e.number("first_used", 0, 1), b.first_used);
    read(e.number("grad_reduce_s", 0, kHuge), b.grad_reduce_s);
    read(e.number("param_gather_s", 0, kHuge), b.param_gather_s);
    st.dp_buckets.push_back(b);
  }
  return st;
}

// Each bucket belongs to one of the stage's chunks.
void check_bucket_chunks(ObjectReader& r, const StageInputs& st) {
  for (size_t i = 0; i < st.dp_buckets.size(); ++i)
    if (st.dp_buckets[i].chunk >= int64_t(st.chunk_layers.size()))
      r.sink().error(r.path_of("dp_buckets") + "[" + std::to_string(i) + "].chunk",
                     "names chunk " + std::to_string(st.dp_buckets[i].chunk) + " of a stage of " +
                         std::to_string(st.chunk_layers.size()),
                     "consistency", "write it with hcpsim");
}

StepMetrics step_from_json(ObjectReader s, const PassSpans& layer, const Scenario& scenario) {
  StepMetrics m;
  // A simulated step takes time, moves tokens and does some of the peak's work: a file that says
  // otherwise was not written by hcpsim, and ranking it would rank nonsense.
  const auto positive = [&](const char* key) {
    return s.number(key, std::numeric_limits<double>::min(), kHuge, "a step's figures are > 0: write the file with hcpsim")
        .value_or(0);
  };
  m.time_s = positive("time_s");
  m.tokens_per_s = positive("tokens_per_s");
  m.tokens_per_s_per_gpu = positive("tokens_per_s_per_gpu");
  m.mfu = s.number("mfu", 0, kHuge, "MFU is >= 0: write the file with hcpsim").value_or(0);
  m.model_flops = number(s, "model_flops");
  StepInputs& in = m.inputs;
  read(s.integer("layers", 0, int64_t{1} << 40), in.layers);
  read(s.integer("microbatches", 0, int64_t{1} << 24), in.microbatches);
  in.layer_forward_s = layer.forward_s;  // the composition's input is the simulated layer
  in.layer_backward_s = layer.backward_s;
  const TrainingSpec& tr = scenario.training;
  if (tr.full_recompute()) in.layer_rerun_s = layer.rerun_s;
  in.pipeline = scenario.parallel.pipeline();
  in.overlap_grad_reduce = scenario.parallel.overlap_grad_reduce;
  in.overlap_param_gather = scenario.parallel.overlap_param_gather;
  in.host_per_launch_s = number(s, "host_per_launch_s");
  if (const nlohmann::json* pj = s.raw("pipeline")) {
    ObjectReader p(*pj, s.path_of("pipeline"), s.sink(),
                   {"schedule", "stages", "virtual_stages", "microbatch_group", "overlap_p2p_comm", "pipeline_s",
                    "bubble_fraction", "per_stage"});
    const nlohmann::json* list = p.raw("per_stage");
    for (size_t i = 0; list && list->is_array() && i < list->size(); ++i) {
      ObjectReader e((*list)[i], p.path_of("per_stage") + "[" + std::to_string(i) + "]", s.sink(),
                     {"chunk_layers", "extra_forward_s", "extra_backward_s", "send_forward_s", "send_backward_s",
                      "grad_reduce_s", "param_gather_s", "optimizer_s", "forward_launches", "backward_launches",
                      "grad_buckets", "dp_buckets"});
      StageInputs st = stage_from_json(e, kStageKeys);
      read(e.integer_list("chunk_layers", 0, int64_t{1} << 40), st.chunk_layers);
      st.chunk_layers_without_rerun = rules::chunk_layers_without_rerun(tr.full_recompute(), tr.recompute_method,
                                                                        tr.recompute_num_layers, st.chunk_layers);
      check_bucket_chunks(e, st);
      read(e.integer_list("forward_launches", 0, int64_t{1} << 40), st.forward_launches);
      read(e.integer_list("backward_launches", 0, int64_t{1} << 40), st.backward_launches);
      if (st.forward_launches.size() != st.chunk_layers.size() || st.backward_launches.size() != st.chunk_layers.size())
        s.sink().error(e.path_of("forward_launches"), "one count per chunk each way", "consistency",
                       "write it with hcpsim");
      st.send_forward_s = number(e, "send_forward_s");
      st.send_backward_s = number(e, "send_backward_s");
      in.stages.push_back(std::move(st));
    }
    if (int64_t(in.stages.size()) != in.pipeline.stages)
      s.sink().error(p.path_of("per_stage"), "one entry per pipeline stage", "consistency", "write it with hcpsim");
    m.composed.pipeline_s = number(p, "pipeline_s");
    m.composed.bubble_fraction = number(p, "bubble_fraction");
  } else if (in.pipeline.stages > 1) {
    s.sink().error(s.path_of("pipeline"), "missing for a scenario with pipeline_model_parallel_size " +
                                              std::to_string(in.pipeline.stages),
                   "a pipelined result names its stages", "write it with hcpsim");
  } else {  // PP = 1: the one stage is the step's keys
    StageInputs st = stage_from_json(s, kStepKeys);
    st.chunk_layers = {in.layers};
    st.chunk_layers_without_rerun = rules::chunk_layers_without_rerun(tr.full_recompute(), tr.recompute_method,
                                                                      tr.recompute_num_layers, st.chunk_layers);
    if (s.has("offload_forward_s")) st.offload_forward_s = number(s, "offload_forward_s");
    if (s.has("offload_backward_s")) st.offload_backward_s = number(s, "offload_backward_s");
    check_bucket_chunks(s, st);
    int64_t forward = 0, backward = 0;  // the one chunk's: the step's counts (none: not modelled)
    read(s.integer("host_forward_launches", 0, int64_t{1} << 40), forward);
    read(s.integer("host_backward_launches", 0, int64_t{1} << 40), backward);
    if (forward > 0 || backward > 0) st.forward_launches = {forward}, st.backward_launches = {backward};
    in.stages.push_back(std::move(st));
    if (in.microbatches >= 1) m.composed.pipeline_s = compose_step(in).pipeline_s;
  }
  StepTime& t = m.composed;
  t.step_s = m.time_s;
  t.microbatch_forward_s = number(s, "microbatch_forward_s");
  t.microbatch_backward_s = number(s, "microbatch_backward_s");
  t.grad_reduce_exposed_s = number(s, "grad_reduce_exposed_s");
  t.param_gather_exposed_s = number(s, "param_gather_exposed_s");
  t.optimizer_s = number(s, "optimizer_s");
  t.host_launch_s = number(s, "host_launch_s");
  read(s.integer("host_launches", 0, int64_t{1} << 40), t.host_launches);
  read(s.integer("host_forward_launches", 0, int64_t{1} << 40), t.host_forward_launches);
  read(s.integer("host_backward_launches", 0, int64_t{1} << 40), t.host_backward_launches);
  t.host_wait_s = number(s, "host_wait_s");
  read(s.boolean("host_bound"), t.host_bound);
  return m;
}

MemoryEstimate memory_from_json(ObjectReader r) {
  MemoryEstimate m;
  m.peak_bytes = number(r, "peak_bytes");
  m.capacity_bytes = number(r, "capacity_bytes");
  m.headroom_bytes = number(r, "headroom_bytes");
  read(r.boolean("fits"), m.fits);
  read(r.string("peak_phase"), m.peak_phase);
  {
    ObjectReader a = sub(r, "allocator", {"margin_bytes", "largest_allocation_bytes", "largest_allocation", "stage",
                                           "stage_headroom_bytes", "expandable_segments", "headroom_within_margin"});
    m.allocator_margin_bytes = number(a, "margin_bytes");
    m.largest_allocation_bytes = number(a, "largest_allocation_bytes");
    read(a.string("largest_allocation"), m.largest_allocation);
    read(a.integer("stage", 0, int64_t{1} << 40), m.allocator_margin_stage);
    m.allocator_stage_headroom_bytes = number(a, "stage_headroom_bytes");
    read(a.boolean("expandable_segments"), m.expandable_segments);
    read(a.boolean("headroom_within_margin"), m.within_allocator_margin);
  }
  if (r.has("stage_peak_bytes")) {
    read(r.integer("peak_stage", 0, int64_t{1} << 40), m.peak_stage);
    if (const nlohmann::json* v = r.raw("stage_peak_bytes"); v && v->is_array())
      for (const nlohmann::json& b : *v)
        m.stage_peak_bytes.push_back(b.is_number() ? b.get<double>() : 0.0);
  }
  for (const char* list : {"breakdown", "phases"}) {
    const nlohmann::json* v = r.raw(list);
    if (!v || !v->is_array()) {
      r.sink().error(r.path_of(list), "must be a list", "type", "write it with hcpsim");
      continue;
    }
    for (size_t i = 0; i < v->size(); ++i) {
      const bool breakdown = std::string(list) == "breakdown";
      ObjectReader e((*v)[i], r.path_of(list) + "[" + std::to_string(i) + "]", r.sink(),
                     breakdown ? std::vector<std::string>{"name", "bytes", "note"} : std::vector<std::string>{"name", "bytes"});
      const std::string name = e.string("name").value_or("");
      const double bytes = number(e, "bytes");
      if (breakdown) m.breakdown.push_back({name, bytes, e.string("note").value_or("")});
      else m.phases.push_back({name, bytes});
    }
  }
  return m;
}

}  // namespace

SimulationResult result_from_json(const nlohmann::json& j, const std::string& json_path) {
  DiagnosticSink sink;
  ObjectReader r(j, json_path, sink,
                 {"name", "valid", "warnings", "parallel", "step", "attention", "layer", "memory", "links", "simulated",
                  "composed", "cost_model", "uncertainty", "scenario"});
  SimulationResult res;
  if (const nlohmann::json* s = r.raw("scenario")) {
    if (auto sc = sink.collect([&] { return scenario_from_json(*s, r.path_of("scenario")); })) res.scenario = *sc;
  } else {
    sink.error(r.path_of("scenario"), "missing", "a result names its scenario", "write it with hcpsim");
  }
  ObjectReader layer = sub(r, "layer", {"forward_s", "backward_s", "makespan_s", "rerun_forward_s"});
  res.layer.forward_s = number(layer, "forward_s");
  res.layer.backward_s = number(layer, "backward_s");
  if (layer.has("rerun_forward_s")) res.layer.rerun_s = number(layer, "rerun_forward_s");
  res.layer_makespan_s = number(layer, "makespan_s");
  if (!r.has("step"))  // null where only a layer was simulated; absent, the file lost it
    sink.error(r.path_of("step"), "missing", "a result names its step (null where only a layer was simulated)",
               "write it with hcpsim");
  if (const nlohmann::json* s = r.raw("step"); s && !s->is_null())
    res.step = step_from_json(sub(r, "step", {"time_s", "tokens_per_s", "tokens_per_s_per_gpu", "mfu", "mfu_peak_flops_per_s",
                                              "model_flops",
                                              "microbatch_forward_s", "microbatch_backward_s", "layers", "microbatches",
                                              "embedding_head_forward_s", "embedding_head_backward_s", "grad_reduce_s",
                                              "grad_reduce_exposed_s", "grad_buckets", "param_gather_s",
                                              "param_gather_exposed_s", "optimizer_s", "host_per_launch_s",
                                              "host_launches", "host_forward_launches", "host_backward_launches",
                                              "host_launch_s", "host_wait_s", "host_bound", "pipeline", "dp_buckets",
                                              "offload_forward_s", "offload_backward_s"}),
                              res.layer, res.scenario);
  ObjectReader a = sub(r, "attention", {"rank", "forward_s", "backward_s", "comm_s", "exposed_comm_s", "overlap_ratio"});
  res.attention.rank = int32_t(a.integer("rank", -1, int64_t{1} << 31).value_or(-1));
  res.attention.forward_s = number(a, "forward_s");
  res.attention.backward_s = number(a, "backward_s");
  res.attention.comm_s = number(a, "comm_s");
  res.attention.exposed_comm_s = number(a, "exposed_comm_s");
  res.attention.overlap_ratio = number(a, "overlap_ratio");
  res.memory = memory_from_json(sub(r, "memory", {"peak_bytes", "capacity_bytes", "headroom_bytes", "fits", "peak_phase",
                                                  "peak_stage", "stage_peak_bytes",
                                                  "breakdown", "phases", "allocator"}));
  if (const nlohmann::json* links = r.raw("links"); links && links->is_array()) {
    for (size_t i = 0; i < links->size(); ++i) {
      ObjectReader l((*links)[i], r.path_of("links") + "[" + std::to_string(i) + "]", sink,
                     {"name", "class", "bytes", "busy_s", "utilisation"});
      LinkUse u;
      read(l.string("name"), u.name);
      read(l.choice("class", named_choices(kLinkClasses)), u.cls);
      u.bytes = number(l, "bytes");
      u.busy_s = number(l, "busy_s");
      u.utilisation = number(l, "utilisation");
      res.links.push_back(u);
    }
  } else {
    sink.error(r.path_of("links"), "must be a list", "type", "write it with hcpsim");
  }
  ObjectReader sim = sub(r, "simulated", {"gpus", "activities", "what", "wall_s"});
  read(sim.integer("gpus", 0, int64_t{1} << 40), res.simulated_gpus);
  read(sim.integer("activities", 0, int64_t{1} << 60), res.activities);
  read(sim.string("what"), res.simulated);
  if (sim.has("wall_s")) res.wall_s = number(sim, "wall_s");
  read(r.string("composed"), res.composed);
  read(r.string("cost_model"), res.cost_source);
  {
    // The band's time is the step's, or the layer's where no step was simulated; with the step
    // missing (said above) it is read under the key the file has, not blamed a second time.
    const nlohmann::json* given = r.raw("uncertainty");
    const bool step_band = res.step || (!r.has("step") && given && given->is_object() && given->contains("step_time_s"));
    const char* time_key = step_band ? "step_time_s" : "layer_time_s";
    ObjectReader u = sub(r, "uncertainty", {"relative", time_key, "tokens_per_s", "components"});
    res.uncertainty.relative = number(u, "relative");
    const auto pair_of = [&](const char* key, std::pair<double, double>& out) {
      const nlohmann::json* v = u.raw(key);
      if (v && v->is_array() && v->size() == 2 && (*v)[0].is_number() && (*v)[1].is_number())
        out = {(*v)[0].get<double>(), (*v)[1].get<double>()};
      else if (v && !v->is_null())
        sink.error(u.path_of(key), "must be [low, high]", "type", "write it with hcpsim");
    };
    pair_of(time_key, res.uncertainty.time_s);
    pair_of("tokens_per_s", res.uncertainty.tokens_per_s);
    if (const nlohmann::json* comps = u.raw("components"); comps && comps->is_array()) {
      for (size_t i = 0; i < comps->size(); ++i) {
        ObjectReader c((*comps)[i], u.path_of("components") + "[" + std::to_string(i) + "]", sink,
                       {"what", "share", "relative", "basis", "shared_with"});
        UncertaintyComponent k;
        read(c.string("what"), k.what);
        k.share = number(c, "share");
        k.relative = number(c, "relative");
        read(c.string("basis"), k.basis);
        if (c.has("shared_with")) {
          ObjectReader w = c.child("shared_with", {"basis", "relative"});
          read(w.string("basis"), k.shared_basis);
          k.shared_relative = number(w, "relative");
        }
        res.uncertainty.components.push_back(k);
      }
    }
  }
  sink.throw_if_any();
  return res;
}

}  // namespace hcpsim

#include "memory/relief_words.hpp"

#include <algorithm>
#include <functional>
#include <vector>

#include "common/diagnostics.hpp"
#include "common/join_words.hpp"
#include "scenario/validate.hpp"

namespace hcpsim {

namespace {

using Pull = std::function<void(Scenario&)>;

// Errors that only say how the batch must follow a lever the user pulls: the global batch divides
// by micro batch x DP, and DP moves with PP.
bool batch_follows(const Diagnostic& d) {
  return d.path.rfind("training.global_batch_size", 0) == 0 || d.path.rfind("training.micro_batch_size", 0) == 0;
}

// Whether Megatron takes `sc` with `pull` applied: the validator's own rules (scenario/validate.cpp,
// their one definition), less the errors `follows` says only follow from it.
bool allowed(const Scenario& sc, const Pull& pull, bool (*follows)(const Diagnostic&) = batch_follows) {
  Scenario s = sc;
  pull(s);
  DiagnosticSink sink;
  validate_scenario(s, ParsedSections{true, true, true, true}, /*global_batch_given=*/true, sink);
  return std::all_of(sink.list().begin(), sink.list().end(), follows);
}

void without_pipeline(Scenario& s) {
  ParallelSpec& p = s.parallel;
  p.pipeline_model_parallel_size = p.virtual_pipeline_model_parallel_size = 1;
  p.decoder_first_pipeline_num_layers = p.decoder_last_pipeline_num_layers = -1;
  p.account_for_embedding_in_pipeline_split = p.account_for_loss_in_pipeline_split = false;
  p.microbatch_group_size_per_vp_stage = 0;
}

// "<what> (<key>)" where the scenario may pull the lever, "<what> (<key>, with PP 1 instead)" where
// only without its pipeline; nothing where not at all.
void offer(std::vector<std::string>& levers, const Scenario& sc, const std::string& what, const std::string& key,
           const Pull& pull) {
  if (allowed(sc, pull))
    levers.push_back(what + " (" + key + ")");
  else if (sc.parallel.pipeline_model_parallel_size > 1 && allowed(sc, [&](Scenario& s) {
             pull(s);
             without_pipeline(s);
           }))
    levers.push_back(what + " (" + key + ", with PP 1 instead)");
}

// Whether some deeper pipeline validates: PP' > PP stages, evenly split, on PP' times the nodes (so
// that TP x CP x PP' divides them), the size hcpsim simulates and the batch aside. Only the layer
// count's divisors are asked (an even split takes no other; the validator says the rest).
bool deeper_pipeline_allowed(const Scenario& sc) {
  const auto follows = [](const Diagnostic& d) { return batch_follows(d) || d.path == "cluster.num_nodes"; };
  const int64_t layers = sc.model.num_layers;
  for (int64_t p = sc.parallel.pipeline_model_parallel_size + 1; p <= layers; ++p)
    if (layers % p == 0 && allowed(
            sc,
            [p](Scenario& s) {
              without_pipeline(s);
              s.parallel.pipeline_model_parallel_size = p;
              s.cluster.num_nodes *= p;
            },
            follows))
      return true;
  return false;
}

void full_recompute_each_layer(Scenario& s) {
  s.training.recompute_granularity = RecomputeGranularity::Full;
  s.training.recompute_method = RecomputeMethod::Uniform;
  s.training.recompute_num_layers = 1;
}

// The levers a scenario may pull, each asked of the validator.
std::vector<std::string> levers_of(const Scenario& sc) {
  std::vector<std::string> levers;
  const TrainingSpec& t = sc.training;
  if (t.recompute_granularity == RecomputeGranularity::None) {
    if (allowed(sc, full_recompute_each_layer) ||
        allowed(sc, [](Scenario& s) { s.training.recompute_granularity = RecomputeGranularity::Selective; }))
      levers.push_back("add recompute (training.recompute_granularity)");
  } else if (!(t.full_recompute() && t.recompute_method == RecomputeMethod::Uniform && t.recompute_num_layers == 1) &&
             allowed(sc, full_recompute_each_layer)) {
    // Full recompute of every layer on its own (uniform, one layer a unit) keeps the least.
    levers.push_back("recompute more (full, uniform, training.recompute_num_layers 1)");
  }
  levers.push_back(deeper_pipeline_allowed(sc) ? "raise TP, CP or PP" : "raise TP or CP");
  if (!sc.parallel.use_megatron_fsdp)
    offer(levers, sc, "shard with Megatron-FSDP", "parallel.use_megatron_fsdp",
          [](Scenario& s) { s.parallel.use_megatron_fsdp = true; });
  const int64_t offloaded = t.cpu_offloading_num_layers;
  if (offloaded == 0)
    offer(levers, sc, "offload activations to the host", "training.cpu_offloading_num_layers",
          [](Scenario& s) { s.training.cpu_offloading_num_layers = 1; });
  else if (offloaded + 1 < sc.model.num_layers &&
           allowed(sc, [&](Scenario& s) { s.training.cpu_offloading_num_layers = offloaded + 1; }))
    levers.push_back("offload more layers (training.cpu_offloading_num_layers)");
  levers.push_back("use GPUs with more memory");
  return levers;
}

}  // namespace

std::string memory_relief_words(const Scenario* sc) {
  if (sc) return join_words(levers_of(*sc), "or");
  // The options of a sweep or a study: every lever, with the conditions Megatron puts on it.
  return join_words({"add recompute (training.recompute_granularity)", "raise TP, CP or PP",
                     "shard with Megatron-FSDP (parallel.use_megatron_fsdp, with PP 1, not under MXFP8 or NVFP4)",
                     "offload activations to the host (training.cpu_offloading_num_layers, with PP 1 and without recompute)",
                     "use GPUs with more memory"},
                    "or");
}

}  // namespace hcpsim

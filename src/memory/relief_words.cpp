#include "memory/relief_words.hpp"

#include <vector>

#include "common/join_words.hpp"

namespace hcpsim {

std::string memory_relief_words(const Scenario* sc) {
  std::vector<std::string> levers;
  const TrainingSpec* t = sc ? &sc->training : nullptr;
  // Full recompute of every layer on its own (uniform, one layer a unit) keeps the least.
  const bool recompute_at_most = t && t->full_recompute() && t->recompute_method == RecomputeMethod::Uniform &&
                                 t->recompute_num_layers == 1;
  const bool offloading = t && t->cpu_offloading_num_layers > 0;  // Megatron's offloading takes no recompute
  if (!t || (t->recompute_granularity == RecomputeGranularity::None && !offloading))
    levers.push_back("add recompute (training.recompute_granularity)");
  else if (!recompute_at_most && !offloading)
    levers.push_back("recompute more (full, uniform, training.recompute_num_layers 1)");
  // Megatron-FSDP and offloading run without a pipeline: there PP stays 1.
  levers.push_back(sc && (sc->parallel.use_megatron_fsdp || offloading) ? "raise TP or CP" : "raise TP, CP or PP");
  const bool fsdp_allowed = !t || !(t->mxfp8() || t->precision == Precision::NVFP4);
  if (!sc || (!sc->parallel.use_megatron_fsdp && fsdp_allowed && sc->parallel.overlap_grad_reduce))
    levers.push_back(std::string("shard with Megatron-FSDP (parallel.use_megatron_fsdp") +
                     (sc ? "" : ", with PP 1, not under MXFP8 or NVFP4") +
                     (sc && sc->parallel.pipeline_model_parallel_size > 1 ? ", with PP 1 instead" : "") + ")");
  if (!t || (t->cpu_offloading_num_layers == 0 && t->recompute_granularity == RecomputeGranularity::None))
    levers.push_back(std::string("offload activations to the host (training.cpu_offloading_num_layers") +
                     (sc ? (sc->parallel.pipeline_model_parallel_size > 1 ? ", with PP 1 instead" : "")
                         : ", with PP 1 and without recompute") +
                     ")");
  else if (t->cpu_offloading_num_layers > 0 && t->cpu_offloading_num_layers + 1 < sc->model.num_layers)
    levers.push_back("offload more layers (training.cpu_offloading_num_layers)");
  levers.push_back("use GPUs with more memory");
  return join_words(levers, "or");
}

}  // namespace hcpsim

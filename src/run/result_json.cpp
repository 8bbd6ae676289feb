#include "run/result_json.hpp"

#include "scenario/scenario_json.hpp"

namespace hcpsim {

nlohmann::json result_to_json(const Scenario& sc, const SimulationResult& r, bool reproducible) {
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
                 {"model_flops", s.model_flops},
                 {"microbatch_forward_s", s.composed.microbatch_forward_s},
                 {"microbatch_backward_s", s.composed.microbatch_backward_s},
                 {"layers", s.inputs.layers},
                 {"microbatches", s.inputs.microbatches},
                 {"embedding_head_forward_s", s.inputs.extra_forward_s},
                 {"embedding_head_backward_s", s.inputs.extra_backward_s},
                 {"grad_reduce_s", s.inputs.grad_reduce_s},
                 {"grad_reduce_exposed_s", s.composed.grad_reduce_exposed_s},
                 {"param_gather_s", s.inputs.param_gather_s},
                 {"param_gather_exposed_s", s.composed.param_gather_exposed_s},
                 {"optimizer_s", s.inputs.optimizer_s}};
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
  j["memory"] = memory_to_json(r.memory);
  nlohmann::json links = nlohmann::json::array();
  for (const auto& l : r.links)
    links.push_back({{"name", l.name}, {"class", to_string(l.cls)}, {"bytes", l.bytes}, {"busy_s", l.busy_s},
                     {"utilisation", l.utilisation}});
  j["links"] = links;
  j["simulated"] = {{"gpus", r.simulated_gpus}, {"activities", r.activities}, {"what", r.simulated}};
  if (!reproducible) j["simulated"]["wall_s"] = r.wall_s;
  j["composed"] = r.composed;
  j["cost_model"] = r.cost_source;
  j["scenario"] = scenario_to_json(sc);
  return j;
}

nlohmann::json memory_to_json(const MemoryEstimate& m) {
  nlohmann::json breakdown = nlohmann::json::array();
  for (const auto& c : m.breakdown) breakdown.push_back({{"name", c.name}, {"bytes", c.bytes}, {"note", c.note}});
  return {{"peak_bytes", m.peak_bytes},         {"capacity_bytes", m.capacity_bytes},
          {"headroom_bytes", m.headroom_bytes}, {"fits", m.fits},
          {"peak_phase", m.peak_phase},         {"breakdown", breakdown}};
}

}  // namespace hcpsim

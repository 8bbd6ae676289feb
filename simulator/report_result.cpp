#include "simulator/report_result.hpp"
#include "model/strprintf.hpp"

#include <cstdio>

#include "simulator/report_memory.hpp"
#include "simulator/report_scenario.hpp"

namespace hcpsim {

namespace {

std::string f(const char* format, double a) { return strprintf(format, a); }

}  // namespace

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

std::string format_result(const nlohmann::json& j) {
  std::string o;
  const auto& a = j["attention"];
  if (!j["step"].is_null()) {
    const auto& s = j["step"];
    o += "step:      " + f("%.3f s", s["time_s"].get<double>()) + ", " + f("%.0f tokens/s", s["tokens_per_s"].get<double>()) +
         " (" + f("%.1f", s["tokens_per_s_per_gpu"].get<double>()) + " per GPU), MFU " +
         f("%.1f%%", 100 * s["mfu"].get<double>()) + "\n";
    o += "           per micro batch: forward " + f("%.1f ms", 1e3 * s["microbatch_forward_s"].get<double>()) +
         ", backward " + f("%.1f ms", 1e3 * s["microbatch_backward_s"].get<double>()) + "; DP sync exposed " +
         f("%.1f ms", 1e3 * (s["grad_reduce_exposed_s"].get<double>() + s["param_gather_exposed_s"].get<double>())) +
         ", optimizer " + f("%.1f ms", 1e3 * s["optimizer_s"].get<double>()) + "\n";
  }
  o += "layer:     forward " + f("%.2f ms", 1e3 * j["layer"]["forward_s"].get<double>()) + ", backward " +
       f("%.2f ms", 1e3 * j["layer"]["backward_s"].get<double>()) + " (slowest rank)\n";
  o += "attention: forward " + f("%.2f ms", 1e3 * a["forward_s"].get<double>()) + ", backward " +
       f("%.2f ms", 1e3 * a["backward_s"].get<double>()) + " on rank " + std::to_string(a["rank"].get<int>()) +
       "; CP comm " + f("%.2f ms", 1e3 * a["comm_s"].get<double>()) + ", exposed " +
       f("%.2f ms", 1e3 * a["exposed_comm_s"].get<double>()) + " (overlap " +
       f("%.0f%%", 100 * a["overlap_ratio"].get<double>()) + ")\n";
  const auto& m = j["memory"];
  o += "memory:    peak " + f("%.1f GB", m["peak_bytes"].get<double>() / 1e9) + " of " +
       f("%.1f GB", m["capacity_bytes"].get<double>() / 1e9) + ", headroom " +
       f("%.1f GB", m["headroom_bytes"].get<double>() / 1e9) + (m["fits"].get<bool>() ? "" : "  DOES NOT FIT") +
       " (peak in " + m["peak_phase"].get<std::string>() + ")\n";
  if (!j["links"].empty()) {
    o += "links:     busiest during the layer:";
    int shown = 0;
    for (const auto& l : j["links"]) {
      if (shown++ == 4) break;
      o += " " + l["name"].get<std::string>() + " " + f("%.0f%%", 100 * l["utilisation"].get<double>());
    }
    o += "\n";
  }
  o += "simulated: " + j["simulated"]["what"].get<std::string>() + "\n";
  o += "composed:  " + j["composed"].get<std::string>() + "\n";
  o += "costs:     " + j["cost_model"].get<std::string>() + "\n";
  return o;
}

}  // namespace hcpsim

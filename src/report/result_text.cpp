#include "report/result_text.hpp"
#include "common/strprintf.hpp"

#include <cstdio>


namespace hcpsim {

namespace {

std::string f(const char* format, double a) { return strprintf(format, a); }

}  // namespace

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

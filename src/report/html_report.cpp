#include "report/html_report.hpp"

#include <cstdio>

#include "scenario/parse.hpp"
#include "common/child_process.hpp"
#include "common/output_file.hpp"
#include "report/chartjs.hpp"
#include "report/html_page.hpp"
#include "report/html_timeline.hpp"
#include "run/simulate.hpp"

namespace hcpsim {

namespace {

constexpr size_t kTimelineRanks = 16;  // ranks drawn per timeline (one CP group of a large run)

// One configuration's layer timeline, simulated again in a child process.
nlohmann::json timeline_of(const nlohmann::json& row, const std::string& base_dir) {
  const std::string text = run_in_child([&]() {
    ParseOptions opt;
    opt.base_dir = base_dir;
    opt.source_name = "<sweep candidate " + row["key"].get<std::string>() + ">";
    const Scenario sc = parse_scenario_text(row["input"].dump(), opt);
    SimulationArtifacts art;
    (void)simulate_scenario(sc, SimulateOptions{}, &art);
    return layer_timeline_json(art.timeline, art.workload, kTimelineRanks).dump();
  });
  return nlohmann::json::parse(text);
}

}  // namespace

bool html_report_available() { return chartjs_embedded(); }

void write_sweep_report(const std::string& dir, const SweepOutcome& o, const SweepRecommendation& rec, int top) {
  nlohmann::json data;
  data["scenario"] = o.meta.value("scenario", "");
  data["summary"] = o.meta.value("summary", "");
  data["recommendation"] = {{"label", rec.row >= 0 ? o.rows[rec.row]["label"] : nlohmann::json(nullptr)},
                            {"reasons", rec.reasons}};
  nlohmann::json ranked = nlohmann::json::array();
  int rank = 0;
  const std::string base_dir = o.meta.value("base_dir", ".");
  for (int i : ranked_rows(o)) {
    const auto& r = o.rows[i];
    const auto& res = r["result"];
    nlohmann::json e = {{"label", r["label"]},
                        {"key", r["key"]},
                        {"rank", row_fits(r) ? ++rank : 0},
                        {"recommended", i == rec.row},
                        {"layout", res["parallel"]},
                        {"step_s", res["step"]["time_s"]},
                        {"tokens_per_s_per_gpu", res["step"]["tokens_per_s_per_gpu"]},
                        {"mfu", res["step"]["mfu"]},
                        {"attention_ms", 1e3 * (res["attention"]["forward_s"].get<double>() +
                                                res["attention"]["backward_s"].get<double>())},
                        {"exposed_comm_ms", 1e3 * res["attention"]["exposed_comm_s"].get<double>()},
                        {"peak_gb", res["memory"]["peak_bytes"].get<double>() / 1e9},
                        {"headroom_gb", row_headroom_gb(r)},
                        {"fits", row_fits(r)}};
    if (row_fits(r) && rank <= top) e["timeline"] = timeline_of(r, base_dir);
    ranked.push_back(e);
  }
  data["ranked"] = ranked;
  nlohmann::json rejected = nlohmann::json::array();
  for (const auto& r : o.rows)
    if (r.value("status", "") != "ok")
      rejected.push_back({{"label", r["label"]},
                          {"why", r.contains("rejected_by") ? r["rejected_by"][0]["rule"] : r.value("error", nlohmann::json(""))}});
  data["not_simulated"] = rejected;
  write_file_atomically(dir + "/index.html", sweep_report_page(data, chartjs_source()));
}

}  // namespace hcpsim

#include "report/html_report.hpp"

#include <algorithm>
#include <cstdio>

#include "common/output_file.hpp"
#include "report/chartjs.hpp"
#include "report/html_page.hpp"

namespace hcpsim {

bool html_report_available() { return chartjs_embedded(); }

namespace {

std::string shortfall_words(const SweepRow& r) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "does not fit: short %.1f GB per GPU", -r.headroom_gb());
  return buf;
}

// The best `limit` ranked rows, and the recommendation wherever it ranks.
std::vector<int> best_and_recommended(const SweepOutcome& o, const SweepRecommendation& rec, int limit, bool fitting_only) {
  std::vector<int> rows;
  for (int i : ranked_rows(o))
    if ((!fitting_only || o.rows[i].fits()) && static_cast<int>(rows.size()) < limit) rows.push_back(i);
  if (rec.row >= 0 && std::find(rows.begin(), rows.end(), rec.row) == rows.end()) rows.push_back(rec.row);
  return rows;
}

}  // namespace

std::vector<int> rows_with_timelines(const SweepOutcome& o, const SweepRecommendation& rec, int top) {
  return best_and_recommended(o, rec, top, true);
}

void write_sweep_report(const std::string& dir, const SweepOutcome& o, const SweepRecommendation& rec,
                        const std::map<int, LayerTimeline>& timelines) {
  nlohmann::json data;
  data["scenario"] = o.meta.scenario;
  data["summary"] = o.meta.summary;
  data["recommendation"] = {{"label", rec.row >= 0 ? nlohmann::json(o.rows[rec.row].label) : nlohmann::json(nullptr)},
                            {"reasons", rec.reasons}};
  nlohmann::json ranked = nlohmann::json::array();
  const std::vector<int> in_chart = best_and_recommended(o, rec, kChartRows, false);
  int rank = 0;
  for (int i : ranked_rows(o)) {
    const SweepRow& r = o.rows[i];
    const SimulationResult& res = *r.result;
    const ParallelSpec& p = res.scenario.parallel;
    nlohmann::json e = {{"label", r.label},
                        {"key", r.key},
                        {"rank", r.fits() ? ++rank : 0},
                        {"recommended", i == rec.row},
                        {"layout", {{"tp", p.tensor_model_parallel_size}, {"cp", p.context_parallel_size},
                                    {"dp", p.data_parallel_size}, {"pp", p.pipeline_model_parallel_size},
                                    {"cp_comm_type", to_string(p.cp_comm_type)}}},
                        {"step_s", res.step->time_s},
                        {"tokens_per_s_per_gpu", res.step->tokens_per_s_per_gpu},
                        {"mfu", res.step->mfu},
                        {"attention_ms", 1e3 * (res.attention.forward_s + res.attention.backward_s)},
                        {"exposed_comm_ms", 1e3 * res.attention.exposed_comm_s},
                        {"peak_gb", res.memory.peak_bytes / 1e9},
                        {"headroom_gb", r.headroom_gb()},
                        {"fits", r.fits()},
                        {"in_chart", std::find(in_chart.begin(), in_chart.end(), i) != in_chart.end()}};
    if (const auto t = timelines.find(i); t != timelines.end()) e["timeline"] = to_json(t->second);
    ranked.push_back(e);
  }
  data["ranked"] = ranked;
  nlohmann::json rejected = nlohmann::json::array();
  for (const SweepRow& r : o.rows)
    if (r.status == RowStatus::Unfit)
      rejected.push_back({{"label", r.label}, {"why", shortfall_words(r)}});
    else if (r.status != RowStatus::Ok)
      rejected.push_back({{"label", r.label}, {"why", !r.rejected_by.empty() ? r.rejected_by.front().rule : r.error}});
  data["not_simulated"] = rejected;
  write_file_atomically(dir + "/index.html", sweep_report_page(data, chartjs_source()));
}

}  // namespace hcpsim

#include "sweep/timelines.hpp"

#include <stdexcept>

#include "common/child_process.hpp"
#include "run/simulate.hpp"
#include "scenario/parse.hpp"

namespace hcpsim {

std::map<int, LayerTimeline> simulate_timelines(const SweepOutcome& o, const std::vector<int>& rows, int jobs) {
  std::map<int, LayerTimeline> out;
  std::vector<ChildOutcome> failed;
  const auto work = [&](size_t i) {
    const SweepRow& row = o.rows.at(size_t(rows[i]));
    ParseOptions opt;
    opt.base_dir = o.meta.base_dir;
    opt.source_name = "<sweep candidate " + row.key + ">";
    const Scenario sc = parse_scenario_text(row.input.dump(), opt);
    SimulationArtifacts art;
    (void)simulate_scenario(sc, SimulateOptions{}, &art);
    return to_json(layer_timeline(art.timeline, art.workload, kTimelineRanks)).dump();
  };
  const volatile std::sig_atomic_t never = 0;
  run_pool(rows.size(), jobs, work,
           [&](size_t i, const ChildOutcome& c) {
             if (c.ok()) out[rows[i]] = layer_timeline_from_json(nlohmann::json::parse(c.text));
             else failed.push_back(c);
           },
           &never);
  for (const ChildOutcome& c : failed) {
    if (c.status == ChildOutcome::Status::InputError) throw InputError(c.diagnostics);
    throw std::runtime_error("simulating a timeline for the report: " + c.text);
  }
  return out;
}

}  // namespace hcpsim

#include "report/compare_outputs.hpp"

#include <algorithm>

#include "common/strprintf.hpp"
#include "compare/figures.hpp"
#include "sweep/outcome_json.hpp"

namespace hcpsim {

namespace {

// Days in the table, three significant digits (compare/figures): a short job's band would read
// "0.2-0.2" or "0.00-0.00" at a fixed number of decimals.
std::string days(double s) { return amount_words(s / 86400, false); }

// A figure right-aligned in a column `width` wide, at least one space before it: a figure wider
// than its column pushes the line on rather than touching its neighbour.
std::string column(const std::string& figure, size_t width) { return " " + pad_left(figure, width - 1); }

nlohmann::json band_json(const Band& b) { return nlohmann::json::array({b.first, b.second}); }

std::string gpus_of(const ComparePlan& plan, const OptionVerdict& v, const StudyOption& so) {
  if (v.group < 0) return std::to_string(so.base.cluster.world_size());
  const CompareGroup& g = plan.groups[v.group];
  return g.subset ? std::to_string(g.gpus_used) + "/" + std::to_string(g.gpus_paid) : std::to_string(g.gpus_paid);
}

nlohmann::json layout_json(const SweepRow& r) {
  const Scenario& sc = r.result->scenario;
  const ParallelSpec& p = sc.parallel;
  nlohmann::json j = {{"label", r.label},
                      {"key", r.key},
                      {"tp", p.tensor_model_parallel_size},
                      {"cp", p.context_parallel_size},
                      {"dp", p.data_parallel_size},
                      {"pp", p.pipeline_model_parallel_size},
                      {"vpp", p.virtual_pipeline_model_parallel_size},
                      {"cp_comm_type", to_string(p.cp_comm_type)},
                      {"micro_batch_size", sc.training.micro_batch_size},
                      {"recompute_granularity", to_string(sc.training.recompute_granularity)},
                      {"recompute", recompute_str(sc.training.recompute_granularity, sc.training.recompute_method,
                                                  sc.training.recompute_num_layers)},
                      {"tp_comm_overlap", p.tp_comm_overlap},
                      {"use_megatron_fsdp", p.use_megatron_fsdp},
                      {"cpu_offloading_num_layers", sc.training.cpu_offloading_num_layers},
                      {"step_time_s", r.result->step->time_s},
                      {"step_time_band_s", band_json(r.result->uncertainty.time_s)},
                      {"tokens_per_s_per_gpu", r.result->step->tokens_per_s_per_gpu},
                      {"tokens_per_s_band", band_json(r.result->uncertainty.tokens_per_s)},
                      {"mfu", r.result->step->mfu},
                      // MFU scales with 1 / step time: its band from the step time's
                      {"mfu_band", band_json({r.result->step->mfu * r.result->step->time_s / r.result->uncertainty.time_s.second,
                                              r.result->step->mfu * r.result->step->time_s / r.result->uncertainty.time_s.first})},
                      {"peak_memory_gb", r.result->memory.peak_bytes / 1e9},
                      {"headroom_gb", r.headroom_gb()}};
  if (!p.hierarchical_context_parallel_sizes.empty()) j["hierarchical_context_parallel_sizes"] = p.hierarchical_context_parallel_sizes;
  return j;
}

}  // namespace

std::string format_compare_table(const Study& st, const ComparePlan& plan, const SweepOutcome& o, const CompareResult& r) {
  std::string t = "hcpsim compare: " + st.name + " (" + st.source + ")\n";
  const Scenario& any = st.options.front().base;
  t += "  job:     " + any.model.name + ", seq " + std::to_string(st.seq_length) + ", global batch " +
       std::to_string(st.global_batch_size) + " sequences (" + strprintf("%.3g", double(st.tokens_per_step()) / 1e6) +
       "M tokens), " + to_string(any.training.precision) + ", attention " + to_string(any.software.attention_backend) +
       (any.parallel.use_megatron_fsdp ? ", Megatron-FSDP" : "") +
       (any.training.cpu_offloading_num_layers > 0
            ? ", activations of " + std::to_string(any.training.cpu_offloading_num_layers) + " layers offloaded"
            : std::string()) +
       "; token budget " + token_count_words(st.token_budget) + " tokens\n";
  if (!st.prices_source.empty()) t += "  prices:  " + st.prices_source + "\n";
  int64_t simulated = 0, unfit = 0, rejected = 0;
  for (const SweepRow& row : o.rows) {
    simulated += row.status == RowStatus::Ok;
    unfit += row.status == RowStatus::Unfit;
    rejected += row.status == RowStatus::Rejected;
  }
  t += std::to_string(st.options.size()) + (st.options.size() == 1 ? " option, " : " options, ") +
       std::to_string(o.rows.size()) + " candidate layouts: " +
       std::to_string(simulated) + " simulated, " + std::to_string(unfit) + " do not fit in memory, " + std::to_string(rejected) +
       " rejected by validation\n";
  for (const std::string& n : plan.notes) t += "  note: " + n + "\n";

  size_t w = 6, lw = 11;
  for (const StudyOption& so : st.options) w = std::max(w, so.name.size());
  for (const OptionVerdict& v : r.verdicts)
    if (v.row >= 0) lw = std::max(lw, o.rows[v.row].label.size());
  t += std::string("\nRanked by ") + (r.rank == CompareRank::Cost ? "cost" : "time to train") + ":\n";
  t += "rank  " + pad_right("option", w) + "  GPUs      " + pad_right("best layout", lw) +
       "  tok/s/GPU  MFU%  step s   +-%   days  (band)         GPU-hours      cost   MWh  headroom GB\n";
  int rank = 0;
  for (int oi : r.ranking) {
    const OptionVerdict& v = r.verdicts[oi];
    const StudyOption& so = st.options[oi];
    std::string line = pad_right(v.row >= 0 ? std::to_string(++rank) : "-", 6) + pad_right(so.name, w) + "  " + pad_right(gpus_of(plan, v, so), 8) + "  ";
    if (v.row < 0) {
      t += line + "no layout: " + v.none_why + "\n";
      continue;
    }
    const SweepRow& row = o.rows[v.row];
    const StepMetrics& s = *row.result->step;
    const TrainingEconomics& e = v.econ;
    line += pad_right(row.label, lw) + column(strprintf("%.1f", s.tokens_per_s_per_gpu), 11) +
            column(strprintf("%.1f", 100 * s.mfu), 6) + column(strprintf("%.2f", s.time_s), 8) +
            column(strprintf("%.1f", 100 * row.result->uncertainty.relative), 6) + column(days(e.time_s), 7) + "  " +
            pad_right("(" + days(e.time_s_band.first) + "-" + days(e.time_s_band.second) + ")", 13) +
            column(amount_words(e.gpu_hours, false), 11) + column(e.cost ? amount_words(*e.cost, false) : "-", 10) +
            column(e.energy_mwh ? amount_words(*e.energy_mwh, false) : "-", 6) +
            column(strprintf("%.1f", row.headroom_gb()), 13);
    t += line + "\n";
  }
  for (const std::string& n : r.notes) t += "  note: " + n + "\n";
  const bool any_layout = std::any_of(r.ranking.begin(), r.ranking.end(), [&r](int oi) { return r.verdicts[oi].row >= 0; });
  if (any_layout) t += "\nRunner-up layouts (same option, next best that fit):\n";
  for (int oi : r.ranking) {
    const OptionVerdict& v = r.verdicts[oi];
    if (v.row < 0) continue;
    t += "  " + st.options[oi].name + ":";
    if (v.runner_ups.empty()) t += " none";
    for (int k : v.runner_ups) {
      const SweepRow& row = o.rows[k];
      t += "\n    " + row.label + "  " + strprintf("%.1f", row.result->step->tokens_per_s_per_gpu) + " tok/s/GPU (" +
           strprintf("%.1f", 100 * row.result->step->tokens_per_s_per_gpu / o.rows[v.row].result->step->tokens_per_s_per_gpu) +
           "%), headroom " + strprintf("%.1f", row.headroom_gb()) + " GB";
    }
    t += "\n";
  }
  t += "\nRecommendation:\n  " + r.recommendation + "\n";
  t += "\nHow these are counted: time = steps x simulated step time (band: the step's), GPU-hours and cost count every GPU "
       "paid for (idle ones of a subset too), energy = power x time x PUE";
  bool preset_power = false;
  for (const StudyOption& so : st.options) preset_power = preset_power || (so.power && so.power->source.find("preset") != std::string::npos);
  if (preset_power) t += " (where the study gives no power: the preset's maximum power, an upper bound)";
  if (st.options.front().base.training.precision == Precision::FP8)
    t += "; MFU is of the fp8 peak (the GEMMs' precision)";
  if (st.options.front().base.training.precision == Precision::NVFP4)
    t += "; MFU is of the fp4 peak (the GEMMs' precision)";
  t += "; evaluation, checkpoints and failures are not included.\n";
  return t;
}

std::string compare_to_json(const Study& st, const ComparePlan& plan, const SweepOutcome& o, const CompareResult& r) {
  nlohmann::json doc = nlohmann::json::object();
  meta_to_json(o.meta, doc);
  doc["format"] = kCompareFormat;
  doc["study"] = {{"name", st.name},
                  {"token_budget", st.token_budget},
                  {"seq_length", st.seq_length},
                  {"global_batch_size", st.global_batch_size},
                  {"tokens_per_step", st.tokens_per_step()},
                  {"prices_source", st.prices_source}};
  doc["rank_by"] = r.rank == CompareRank::Cost ? "cost" : "time";
  nlohmann::json options = nlohmann::json::array();
  for (const OptionVerdict& v : r.verdicts) {
    const StudyOption& so = st.options[v.option];
    nlohmann::json j = {{"name", so.name}, {"path", so.path}, {"candidates", v.candidates}, {"valid", v.valid}, {"fitting", v.fitting}};
    j["price_per_gpu_hour"] = so.price_per_gpu_hour ? nlohmann::json(*so.price_per_gpu_hour) : nlohmann::json(nullptr);
    if (so.power)
      j["power"] = {{"per_gpu_w", so.power->per_gpu_w > 0 ? nlohmann::json(so.power->per_gpu_w) : nlohmann::json(nullptr)},
                    {"per_node_w", so.power->per_node_w > 0 ? nlohmann::json(so.power->per_node_w) : nlohmann::json(nullptr)},
                    {"pue", so.power->pue}, {"source", so.power->source}};  // the one not given: null, not 0 W
    if (v.row < 0) {
      j["gpus_paid"] = so.base.cluster.world_size();  // as the text and the CSV give it
      j["layout"] = nullptr;
      j["none_why"] = v.none_why;
    } else {
      const CompareGroup& g = plan.groups[v.group];
      const TrainingEconomics& e = v.econ;
      j["gpus_used"] = g.gpus_used;
      j["gpus_paid"] = g.gpus_paid;
      j["gpus_idle"] = g.gpus_paid - g.gpus_used;
      j["layout"] = layout_json(o.rows[v.row]);
      j["layout_reasons"] = v.layout_reasons;
      j["uncertainty_relative"] = o.rows[v.row].result->uncertainty.relative;
      j["steps"] = e.steps;
      j["time_to_train_s"] = e.time_s;
      j["time_to_train_band_s"] = band_json(e.time_s_band);
      j["gpu_hours"] = e.gpu_hours;
      j["gpu_hours_band"] = band_json(e.gpu_hours_band);
      j["cost"] = e.cost ? nlohmann::json(*e.cost) : nlohmann::json(nullptr);
      if (e.cost) j["cost_band"] = band_json(e.cost_band);
      j["energy_mwh"] = e.energy_mwh ? nlohmann::json(*e.energy_mwh) : nlohmann::json(nullptr);
      if (e.energy_mwh) j["energy_mwh_band"] = band_json(e.energy_mwh_band);
      nlohmann::json ru = nlohmann::json::array();
      for (int k : v.runner_ups) ru.push_back(layout_json(o.rows[k]));
      j["runner_ups"] = ru;
    }
    options.push_back(j);
  }
  doc["options"] = options;
  doc["ranking"] = nlohmann::json::array();
  for (int oi : r.ranking) doc["ranking"].push_back(st.options[oi].name);
  doc["recommendation"] = r.recommendation;
  doc["notes"] = plan.notes;
  for (const std::string& n : r.notes) doc["notes"].push_back(n);
  doc["candidates"] = nlohmann::json::array();
  for (const SweepRow& row : o.rows) doc["candidates"].push_back(row_to_json(row));
  return doc.dump(1) + "\n";
}

std::string compare_to_csv(const Study& st, const ComparePlan& plan, const SweepOutcome& o, const CompareResult& r) {
  std::string out =
      "rank,option,gpus_used,gpus_paid,layout,tp,cp,dp,pp,vpp,cp_comm_type,hcp_sizes,micro_batch_size,recompute,"
      "tokens_per_s_per_gpu,mfu,"
      "step_time_s,step_time_low_s,step_time_high_s,time_to_train_s,time_low_s,time_high_s,gpu_hours,gpu_hours_low,"
      "gpu_hours_high,cost,cost_low,cost_high,energy_mwh,energy_mwh_low,energy_mwh_high,headroom_gb,none_why\n";
  const auto cell = [](const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
  };
  int rank = 0;
  for (int oi : r.ranking) {
    const OptionVerdict& v = r.verdicts[oi];
    const StudyOption& so = st.options[oi];
    if (v.row < 0) {
      out += "," + cell(so.name) + ",," + std::to_string(so.base.cluster.world_size()) + std::string(29, ',') + cell(v.none_why) + "\n";
      continue;
    }
    const SweepRow& row = o.rows[v.row];
    const CompareGroup& g = plan.groups[v.group];
    const Scenario& sc = row.result->scenario;
    const TrainingEconomics& e = v.econ;
    const auto num = [](double x) { return strprintf("%.9g", x); };
    const std::vector<int64_t>& split = sc.parallel.hierarchical_context_parallel_sizes;  // a2a+p2p: "8x2"
    const std::string hcp = split.size() == 2 ? std::to_string(split[0]) + "x" + std::to_string(split[1]) : "";
    out += std::to_string(++rank) + "," + cell(so.name) + "," + std::to_string(g.gpus_used) + "," + std::to_string(g.gpus_paid) +
           "," + cell(row.label) + "," + std::to_string(sc.parallel.tensor_model_parallel_size) + "," +
           std::to_string(sc.parallel.context_parallel_size) + "," + std::to_string(sc.parallel.data_parallel_size) + "," +
           std::to_string(sc.parallel.pipeline_model_parallel_size) + "," +
           std::to_string(sc.parallel.virtual_pipeline_model_parallel_size) + "," + to_string(sc.parallel.cp_comm_type) +
           "," + hcp + "," + std::to_string(sc.training.micro_batch_size) + "," +
           recompute_str(sc.training.recompute_granularity, sc.training.recompute_method, sc.training.recompute_num_layers) +
           "," + num(row.result->step->tokens_per_s_per_gpu) + "," +
           num(row.result->step->mfu) + "," + num(row.result->step->time_s) + "," + num(row.result->uncertainty.time_s.first) +
           "," + num(row.result->uncertainty.time_s.second) + "," + num(e.time_s) + "," + num(e.time_s_band.first) + "," +
           num(e.time_s_band.second) + "," + num(e.gpu_hours) + "," + num(e.gpu_hours_band.first) + "," +
           num(e.gpu_hours_band.second) + "," + (e.cost ? num(*e.cost) : "") + "," + (e.cost ? num(e.cost_band.first) : "") +
           "," + (e.cost ? num(e.cost_band.second) : "") + "," + (e.energy_mwh ? num(*e.energy_mwh) : "") + "," +
           (e.energy_mwh ? num(e.energy_mwh_band.first) : "") + "," + (e.energy_mwh ? num(e.energy_mwh_band.second) : "") +
           "," + num(row.headroom_gb()) + ",\n";
  }
  return out;
}

}  // namespace hcpsim

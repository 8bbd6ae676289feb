#include "fit/check.hpp"
#include "fit/median.hpp"
#include "fit/fit_interference.hpp"
#include "common/child_process.hpp"
#include "run/collective_sweep.hpp"
#include "run/simulate.hpp"
#include "scenario/parse.hpp"
#include "scenario/presets.hpp"
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "fit/fit_attention.hpp"
#include "fit/fit_collective.hpp"
#include "fit/replay.hpp"
#include "fit/replay_cp.hpp"
#include "common/strprintf.hpp"

namespace hcpsim {

namespace {

constexpr double kRangeSlack = 1e-3;  // work this close to a range end counts as inside (rounding)

// The backend a record's summary rows are named by ("cudnn", "flash", "hcpsim").
const char* backend_name(const Measurement& m) { return to_string(attention_backend_of(m).value_or(AttentionBackend::Hcpsim)); }

std::string kind_label(const Measurement& m) {
  switch (m.kind) {
    case MeasurementKind::Attention:
      return std::string(backend_name(m)) + (m.attention.backward ? " attention bwd" : " attention fwd");
    case MeasurementKind::Gemm: return rules::gemm_table_name(m.gemm_type);
    case MeasurementKind::Copy: return "copy";
    case MeasurementKind::CpStep: return "cp steps";
    case MeasurementKind::CpRun: return std::string("cp ") + to_string(m.cp.transport);
    case MeasurementKind::Collective: return "collective";
    case MeasurementKind::Interference: return "interference";
    case MeasurementKind::Layer: return std::string(backend_name(m)) + " layer";
    case MeasurementKind::Elementwise: return "elementwise";
  }
  return {};
}

// Work by which fit_half orders a measurement's shapes: FLOPs or bytes of kernels, bytes
// of collectives, the alone time of interference victims.
double split_work(const Measurement& m) {
  switch (m.kind) {
    case MeasurementKind::Collective: return m.collective.bytes;
    case MeasurementKind::Interference: return m.interference.alone_median_s;
    default: return measured_size(m);
  }
}

ErrorSummary summary_of(const std::string& label, std::vector<double> e) {
  ErrorSummary s;
  s.label = label;
  s.cases = e.size();
  if (e.empty()) return s;
  s.median_abs_error = median(e);
  s.max_abs_error = *std::max_element(e.begin(), e.end());
  return s;
}

}  // namespace

size_t summarized_cases(const CheckReport& r) {
  return size_t(std::count_if(r.rows.begin(), r.rows.end(), [](const CheckRow& x) { return !x.listed_only; }));
}

namespace {

void summarize(CheckReport& r) {
  std::vector<double> all;
  std::map<std::string, std::vector<double>> by;
  std::vector<std::string> order;
  for (const auto& row : r.rows) {
    if (row.listed_only) continue;
    const std::string label = row.kind.empty() ? kind_label(*row.m) : row.kind;
    if (!by.count(label)) order.push_back(label);
    by[label].push_back(std::fabs(row.error));
    all.push_back(std::fabs(row.error));
  }
  const ErrorSummary s = summary_of("all", all);
  r.median_abs_error = s.median_abs_error;
  r.max_abs_error = s.max_abs_error;
  for (const auto& label : order) r.by_kind.push_back(summary_of(label, by[label]));
}

std::string shape_text(const Measurement& m) {
  char buf[96];
  switch (m.kind) {
    case MeasurementKind::Attention:
    case MeasurementKind::CpStep:
      std::snprintf(buf, sizeof buf, "%lldx%lld h%lld/%lld %s %s", (long long)m.attention.sq, (long long)m.attention.skv,
                    (long long)m.attention.heads_q, (long long)m.attention.heads_kv,
                    m.attention.mask == KernelMask::None                ? "none"
                    : m.attention.mask == KernelMask::CausalBottomRight ? "causbr"
                                                                        : "causal",
                    m.attention.backward ? "bwd" : "fwd");
      break;
    case MeasurementKind::Gemm:
      std::snprintf(buf, sizeof buf, "%lldx%lldx%lld", (long long)m.gemm.m, (long long)m.gemm.n, (long long)m.gemm.k);
      break;
    case MeasurementKind::Copy:
      std::snprintf(buf, sizeof buf, "%.0f B moved", m.copy_bytes_moved);
      break;
    case MeasurementKind::CpRun:
    case MeasurementKind::Collective:
    case MeasurementKind::Interference:
    case MeasurementKind::Layer:
    case MeasurementKind::Elementwise:
      std::snprintf(buf, sizeof buf, "%s", shape_group_key(m).c_str());  // rows give their own shape
      break;
  }
  return buf;
}

void add_row(CheckReport& r, const Measurement& m, const std::string& kind, const std::string& name,
             const std::string& shape, double measured, double predicted, bool bytes = false) {
  CheckRow row;
  row.m = &m;
  row.parameter = bytes ? "memory_cp" : parameter_of(m);
  row.kind = kind;
  row.name = name;
  row.shape = shape;
  row.bytes = bytes;
  row.measured_s = measured;
  row.predicted_s = predicted;
  row.error = predicted / measured - 1;
  r.rows.push_back(row);
}

void check_cp_run(const Measurement& m, const CostModel& model, CheckReport& r) {
  const std::string t = to_string(m.cp.transport);
  const std::string hcp = m.cp.hcp.empty() ? "" : strprintf(" [%lld,%lld]", (long long)m.cp.hcp[0], (long long)m.cp.hcp[1]);
  const std::string shape = strprintf("R%lld%s s%lld h%lld/%lld %s", (long long)m.cp.ranks, hcp.c_str(),
                                      (long long)m.cp.seq, (long long)m.cp.heads_q, (long long)m.cp.heads_kv,
                                      m.cp.backward ? "bwd" : "fwd");
  const CpReplay rep = replay_cp_run(m, model);
  auto rank = [](int64_t k, const std::string& what) { return strprintf("r%lld %s", (long long)k, what.c_str()); };
  const char* b = backend_name(m);
  for (const auto& k : rep.kernels)
    add_row(r, m, strprintf("%s cp kernels %s", b, t.c_str()), rank(k.rank, k.label), shape, k.measured_s, k.predicted_s);
  for (const auto& k : rep.ranks)
    add_row(r, m, strprintf("%s cp compute %s", b, t.c_str()), rank(k.rank, "compute"), shape, k.measured_compute_s,
            k.predicted_compute_s);
  for (const auto& k : rep.ranks)
    if (k.measured_peak_bytes > 0)
      add_row(r, m, strprintf("%s cp memory %s", b, t.c_str()), rank(k.rank, "peak"), shape, k.measured_peak_bytes,
              k.predicted_peak_bytes, true);
  if (m.cp.peak_bytes.empty()) r.warnings.push_back(m.path + " (" + m.name + "): no peak_bytes; memory not checked");
}

// A measured collective through the simulator's own path (run/collective_sweep.hpp): the
// record's ranks placed as its layout says on `node`'s preset (one node; or one rank per node on
// one rail, or on rail i mod GPUs), the calibration's cost parameters (its collectives
// included), SimGrid in a child process. 1-rank records: 0 (nothing moves).
double simulated_collective_s(const CollectiveConfig& k, const ClusterSpec& node, const CostParams& p) {
  if (k.ranks < 2) return 0;
  ClusterSpec cluster = node;
  const bool intra = k.layout == CollectiveLayout::IntraNode;
  cluster.num_nodes = intra ? std::max<int64_t>(1, (k.ranks + node.gpus_per_node - 1) / node.gpus_per_node) : k.ranks;
  std::vector<int32_t> members;
  for (int64_t r = 0; r < k.ranks; ++r) {
    const int64_t gpu = intra                                              ? r
                        : k.layout == CollectiveLayout::CrossNodeSameRail ? r * node.gpus_per_node
                                                                           : r * node.gpus_per_node + r % node.gpus_per_node;
    members.push_back(static_cast<int32_t>(gpu));
  }
  const std::string text = result_of_child([&] {
    const auto pts = simulate_collective_sweep(cluster, NcclSettings{}, p, k.op, {k.bytes}, members);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", pts.at(0).time_s);  // every digit across the process boundary
    return std::string(buf);
  });
  return std::stod(text);
}

// A measured layer through the simulator's own path: one layer of the record's model (its
// dimensions, SwiGLU, RMSNorm, causal, bf16) at TP1 CP1 DP1 on one GPU of `node`'s preset, with
// the record's attention backend and PyTorch's unfused RoPE and SwiGLU (software.fusions off: the
// layer suite runs them unfused), timed by `p`; the layer workload, simulated in a child process.
// Returns {forward_s, backward_s}.
std::pair<double, double> simulated_layer_s(const LayerConfig& l, AttentionBackend backend, const ClusterSpec& node,
                                            const CostParams& p) {
  std::string preset;
  for (const auto& c : cluster_presets())
    if (c.spec.gpu == node.gpu) preset = c.name;
  if (preset.empty())
    throw InputError({{"--gpu", "no cluster preset has the GPU " + node.gpu.name,
                       "a layer record is simulated on one GPU of a preset", "pass --gpu <cluster preset>"}});
  nlohmann::json j = {
      {"name", "layer check"},
      {"model",
       {{"num_layers", 1}, {"hidden_size", l.hidden}, {"ffn_hidden_size", l.ffn}, {"num_attention_heads", l.heads_q},
        {"num_query_groups", l.heads_kv}, {"kv_channels", l.head_dim}, {"vocab_size", 128256},
        {"gated_linear_unit", true}}},
      {"training",
       {{"seq_length", l.seq}, {"micro_batch_size", l.batch}, {"global_batch_size", l.batch}, {"precision", "bf16"},
        {"recompute_granularity", "none"}, {"attn_mask_type", "causal"}}},
      {"parallel", {{"tensor_model_parallel_size", 1}, {"context_parallel_size", 1}}},
      {"cluster", {{"preset", preset}, {"num_nodes", 1}, {"gpus_per_node", 1}}},
      {"software",
       {{"attention_backend", to_string(backend)}, {"fusions", {{"rope", false}, {"swiglu", false}, {"cross_entropy", false}}}}},
      {"workload", "layer"},
      {"passes", "fwd+bwd"}};
  const std::string text = result_of_child([&] {
    ParseOptions po;
    po.source_name = "<layer check>";
    Scenario sc = parse_scenario_text(j.dump(), po);
    SimulateOptions opt;
    opt.cost_params = p;
    const SimulationResult res = simulate_scenario(sc, opt);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g %.17g", res.layer.forward_s, res.layer.backward_s);
    return std::string(buf);
  });
  double f = 0, b = 0;
  std::sscanf(text.c_str(), "%lf %lf", &f, &b);
  return {f, b};
}

void check_layer(const Measurement& m, const ClusterSpec& node, const CostModel& model, CheckReport& r) {
  const LayerConfig& l = m.layer;
  const auto [fwd, bwd] = simulated_layer_s(l, model.params().attention_backend, node, model.params());
  const double predicted = l.pass == "fwd" ? fwd : l.pass == "bwd" ? bwd : fwd + bwd;
  const std::string shape = strprintf("%s s%lld b%lld %s", l.model.c_str(), (long long)l.seq, (long long)l.batch,
                                      l.pass.c_str());
  add_row(r, m, kind_label(m), m.name + "." + l.pass, shape, m.median_s, predicted);
}

void check_comm_or_cp(const Measurement& m, const CalibrationFile& calibration, const ClusterSpec& node,
                      const CostModel& model, CheckReport& r) {
  if (m.kind == MeasurementKind::CpRun) return check_cp_run(m, model, r);
  if (m.kind == MeasurementKind::Collective) {
    const CollectiveConfig& k = m.collective;
    const CalibratedCollective* fit = nullptr;
    for (const auto& c : calibration.collectives)
      if (c.op == k.op && c.layout == k.layout) fit = &c;
    const double predicted = simulated_collective_s(k, node, model.params());
    if (!fit) r.warnings.push_back(m.path + " (" + m.name + "): " + parameter_of(m) + " is not calibrated; predicted "
                                   "from NCCL's model on the preset node");
    if (k.ranks < 2) r.warnings.push_back(m.path + " (" + m.name + "): 1 rank, nothing moves; listed only");
    char shape[96];
    std::snprintf(shape, sizeof shape, "%s n%lld %.3g B", to_string(k.layout), (long long)k.ranks, k.bytes);
    add_row(r, m, "collective " + std::string(to_string(k.op)), m.name, shape, m.median_s, predicted);
    r.rows.back().listed_only = k.ranks < 2;
    const bool outside = fit && (k.bytes < fit->fit.range_lo * (1 - kRangeSlack) || k.bytes > fit->fit.range_hi * (1 + kRangeSlack));
    r.rows.back().extrapolated = outside;
    if (outside) r.warnings.push_back(m.path + " (" + m.name + "): size outside the range " + parameter_of(m) + " was fitted on");
    return;
  }
  const InterferenceConfig& f = m.interference;  // Interference: the engine's own model
  const std::optional<double> slowdown = predicted_interference_slowdown(model.params().interference, f);
  if (!slowdown) r.warnings.push_back(m.path + " (" + m.name + "): the interference model has no channel count for " +
                                      f.victim + " beside " + f.aggressor + "; listed, not predicted");
  add_row(r, m, "interference", m.name,
          f.victim + " + " + f.aggressor + (f.ctas > 0 ? " (" + std::to_string(f.ctas) + " CTAs)" : ""), m.median_s,
          f.alone_median_s * slowdown.value_or(1.0));
  r.rows.back().listed_only = !slowdown;
}

}  // namespace

std::set<std::string> fit_half(const MeasurementSet& set) {
  // parameter -> (work, group key) of each shape group, forward work for attention.
  std::map<std::string, std::map<std::string, double>> groups;
  for (const auto& m : set.items) {
    if (m.kind == MeasurementKind::CpStep || m.kind == MeasurementKind::CpRun || m.kind == MeasurementKind::Layer)
      continue;  // never fitted on: never in the fit half
    // Attention groups by the scores' mask, both passes of a shape together (one half or the
    // other). A cuDNN bottom-right shape's backward is fitted into the no-mask table
    // (executed_attention_shape) yet alternates here among the causal shapes: the halves stay
    // disjoint, only its place in the no-mask table's alternation is not planned.
    const std::string param = m.kind != MeasurementKind::Attention     ? parameter_of(m)
                              : m.attention.mask == KernelMask::None ? "attention_nomask"
                                                                     : "attention_causal";  // both passes
    auto& w = groups[param][shape_group_key(m)];
    w = std::max(w, split_work(m));
  }
  std::set<std::string> out;
  for (const auto& [param, by_key] : groups) {
    std::vector<std::pair<double, std::string>> sorted;
    for (const auto& [key, work] : by_key) sorted.emplace_back(work, key);
    std::sort(sorted.begin(), sorted.end());
    for (size_t i = 0; i < sorted.size(); ++i)
      if (i % 2 == 0 || i + 1 == sorted.size()) out.insert(sorted[i].second);
  }
  return out;
}

CheckReport check_against(const MeasurementSet& set, const CalibrationFile& calibration, const ClusterSpec& node,
                          const std::function<bool(const Measurement&)>& include) {
  const AttentionBackend backend = calibration.attention_backend.value_or(AttentionBackend::CuDNN);
  const GpuSpec gpu = measured_gpu(set, node.gpu);
  // A record is predicted with its own backend's defaults under the calibration (records of no
  // backend, e.g. GEMMs, with the calibration's).
  std::map<AttentionBackend, CostModel> models;
  const auto model_for = [&](const Measurement& m) -> const CostModel& {
    const AttentionBackend b = rules_backend(m, calibration.attention_backend);
    auto it = models.find(b);
    if (it == models.end())
      it = models.emplace(b, CostModel(gpu, Precision::BF16,
                                       apply_calibration(calibration, default_cost_params(node.gpu, b), "(fit)", node.gpu)))
               .first;
    return it->second;
  };
  CheckReport r;
  size_t other_backend = 0;
  for (const auto& m : set.items) {
    if (include && !include(m)) continue;
    if (!of_backend(m, calibration.attention_backend)) {
      ++other_backend;
      continue;
    }
    const CostModel& model = model_for(m);
    if (m.kind == MeasurementKind::Layer) {
      check_layer(m, node, model, r);
      continue;
    }
    if (!is_kernel_measurement(m)) {
      check_comm_or_cp(m, calibration, node, model, r);
      continue;
    }
    CheckRow row;
    row.m = &m;
    row.parameter = parameter_of(m, &gpu, calibration.attention_backend);
    row.measured_s = m.median_s;
    row.predicted_s = predicted_time_s(model, m);
    row.error = row.predicted_s / row.measured_s - 1;
    if (m.kind == MeasurementKind::Attention) row.placement_spread = model.placement_spread(measured_op(m));
    const FitSummary* fit = nullptr;
    for (const auto& t : calibration.tables)
      if (t.name == row.parameter) fit = &t.fit;
    for (const auto& s : calibration.scalars)
      if (s.name == row.parameter) fit = &s.fit;
    const double work = measured_work(m, gpu, calibration.attention_backend);
    if (!fit)
      r.warnings.push_back(m.path + ": " + row.parameter + " is not calibrated; predicted from its default");
    else
      row.extrapolated = work < fit->range_lo * (1 - kRangeSlack) || work > fit->range_hi * (1 + kRangeSlack);
    if (calibration.attention_shape && !row.extrapolated &&
        attention_shape_extrapolates(*calibration.attention_shape, m.attention, gpu.compute_capability, kRangeSlack)) {
      row.extrapolated = true;
      r.warnings.push_back(m.path + " (" + m.name + "): tiles on the busiest SM outside the range attention_shape was fitted on");
    }
    if (cache_resident_copy(m, set)) {
      row.listed_only = true;  // in the L2: memory_efficiency (HBM) does not describe it
      row.extrapolated = false;
    } else if (row.extrapolated) {
      r.warnings.push_back(m.path + " (" + m.name + "): work outside the range " + row.parameter + " was fitted on");
    }
    r.rows.push_back(row);
  }
  if (other_backend > 0)
    r.warnings.push_back(std::to_string(other_backend) + " records of other attention backends than " +
                         to_string(backend) + " (the calibration's) are not predicted from it");
  for (const UnsupportedCase& u : set.unsupported)
    if (!calibration.attention_backend || u.backend == to_string(*calibration.attention_backend))
      r.warnings.push_back(u.backend + " " + u.name + ": not measured (" + u.reason.substr(0, 160) + ")");
  summarize(r);
  return r;
}

CheckReport check_out_of_sample(const MeasurementSet& set, const ClusterSpec& node, const FitOptions& fit_opt,
                                const std::function<bool(const Measurement&)>& include) {
  const std::set<std::string> train = fit_half(set);
  // One fit and check per attention backend; records of no backend (GEMM, copies, collectives)
  // are checked once, with the first.
  std::vector<std::optional<AttentionBackend>> backends;
  if (fit_opt.backend) backends.push_back(fit_opt.backend);
  else for (AttentionBackend b : attention_backends_in(set)) backends.push_back(b);
  if (backends.empty()) backends.push_back(std::nullopt);
  CheckReport all;
  for (size_t i = 0; i < backends.size(); ++i) {
    const std::optional<AttentionBackend> b = backends[i];
    FitOptions opt = fit_opt;
    opt.backend = b;
    opt.use = [&](const Measurement& m) { return train.count(shape_group_key(m)) > 0; };
    FitResult fit = fit_calibration(set, node, opt);
    CheckReport r = check_against(set, fit.calibration, node, [&](const Measurement& m) {
      const std::optional<AttentionBackend> mb = attention_backend_of(m);
      return !train.count(shape_group_key(m)) && (!include || include(m)) && (mb ? mb == b : i == 0);
    });
    all.rows.insert(all.rows.end(), r.rows.begin(), r.rows.end());
    all.warnings.insert(all.warnings.end(), fit.warnings.begin(), fit.warnings.end());
    all.warnings.insert(all.warnings.end(), r.warnings.begin(), r.warnings.end());
  }
  summarize(all);
  return all;
}

// A kernel whose predicted time depends on its block placement by at least this much (relative
// half-range over the drawn placements) says so in its note.
constexpr double kNotedPlacementSpread = 0.01;

std::string format_check(const CheckReport& r, const std::string& title) {
  std::string t = "# " + title + "\n";
  char buf[320];
  std::snprintf(buf, sizeof buf, "# %-22s %-34s %-22s %12s %12s %8s %s\n", "name", "shape", "parameter", "measured",
                "predicted", "error", "note");
  t += buf;
  std::snprintf(buf, sizeof buf, "# %-22s %-34s %-22s %12s %12s %8s\n", "", "", "", "(us)", "(us)", "(%)");
  t += buf;
  for (const auto& row : r.rows) {
    const double scale = row.bytes ? 1.0 / (1 << 20) : 1e6;  // MiB for memory rows, else us
    const std::string name = row.name.empty() ? row.m->name : row.name;
    const std::string shape = row.shape.empty() ? shape_text(*row.m) : row.shape;
    std::string note = row.extrapolated ? "extrapolated" : row.bytes ? "MiB" : row.listed_only ? "listed only" : "";
    if (row.placement_spread >= kNotedPlacementSpread)  // the half-range over the drawn placements
      note += (note.empty() ? "" : "; ") + strprintf("placement +-%.0f%%", 100 * row.placement_spread);
    std::snprintf(buf, sizeof buf, "  %-22s %-34s %-22s %12.2f %12.2f %+8.2f %s\n", name.c_str(), shape.c_str(),
                  row.parameter.c_str(), row.measured_s * scale, row.predicted_s * scale, 100 * row.error, note.c_str());
    t += buf;
  }
  for (const auto& k : r.by_kind) {
    std::snprintf(buf, sizeof buf, "# %-14s cases %3zu  median |error| %6.2f%%  max |error| %6.2f%%\n", k.label.c_str(),
                  k.cases, 100 * k.median_abs_error, 100 * k.max_abs_error);
    t += buf;
  }
  const size_t cases = summarized_cases(r);
  std::snprintf(buf, sizeof buf, "# cases %zu  median |error| %.2f%%  max |error| %.2f%%\n", cases,
                100 * r.median_abs_error, 100 * r.max_abs_error);
  t += buf;
  return t;
}

}  // namespace hcpsim

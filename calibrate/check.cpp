#include "calibrate/check.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "calibrate/replay.hpp"

namespace hcpsim {

namespace {

constexpr double kRangeSlack = 1e-3;  // work this close to a range end counts as inside (rounding)

std::string kind_label(const Measurement& m) {
  switch (m.kind) {
    case MeasurementKind::Attention: return m.attention.backward ? "attention bwd" : "attention fwd";
    case MeasurementKind::Gemm: return "gemm";
    case MeasurementKind::Copy: return "copy";
    case MeasurementKind::CpStep: return "cp steps";
  }
  return {};
}

ErrorSummary summary_of(const std::string& label, std::vector<double> e) {
  ErrorSummary s;
  s.label = label;
  s.cases = e.size();
  if (e.empty()) return s;
  std::sort(e.begin(), e.end());
  s.median_abs_error = e.size() % 2 ? e[e.size() / 2] : 0.5 * (e[e.size() / 2 - 1] + e[e.size() / 2]);
  s.max_abs_error = e.back();
  return s;
}

void summarize(CheckReport& r) {
  std::vector<double> all;
  std::map<std::string, std::vector<double>> by;
  std::vector<std::string> order;
  for (const auto& row : r.rows) {
    const std::string label = kind_label(*row.m);
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
                    m.attention.mask == KernelMask::None ? "none" : "causal", m.attention.backward ? "bwd" : "fwd");
      break;
    case MeasurementKind::Gemm:
      std::snprintf(buf, sizeof buf, "%lldx%lldx%lld", (long long)m.gemm.m, (long long)m.gemm.n, (long long)m.gemm.k);
      break;
    case MeasurementKind::Copy:
      std::snprintf(buf, sizeof buf, "%.0f B moved", m.copy_bytes_moved);
      break;
  }
  return buf;
}

}  // namespace

std::set<std::string> fit_half(const MeasurementSet& set) {
  // parameter -> (work, group key) of each shape group, forward work for attention.
  std::map<std::string, std::map<std::string, double>> groups;
  for (const auto& m : set.items) {
    if (m.kind == MeasurementKind::CpStep) continue;  // never in the fit half
    const std::string param = m.kind != MeasurementKind::Attention     ? parameter_of(m)
                              : m.attention.mask == KernelMask::None ? "attention_nomask"
                                                                     : "attention_causal";  // both passes
    auto& w = groups[param][shape_group_key(m)];
    w = std::max(w, measured_work(m));
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

CheckReport check_against(const MeasurementSet& set, const CalibrationFile& calibration, const GpuSpec& gpu,
                          const std::function<bool(const Measurement&)>& include) {
  const CostModel model(gpu, Precision::BF16, apply_calibration(calibration, default_cost_params(), "(fit)"));
  CheckReport r;
  for (const auto& m : set.items) {
    if (include && !include(m)) continue;
    CheckRow row;
    row.m = &m;
    row.parameter = parameter_of(m);
    row.measured_s = m.median_s;
    row.predicted_s = predicted_time_s(model, m);
    row.error = row.predicted_s / row.measured_s - 1;
    const FitSummary* fit = nullptr;
    for (const auto& t : calibration.tables)
      if (t.name == row.parameter) fit = &t.fit;
    for (const auto& s : calibration.scalars)
      if (s.name == row.parameter) fit = &s.fit;
    const double work = measured_work(m);
    if (!fit)
      r.warnings.push_back(m.path + ": " + row.parameter + " is not calibrated; predicted from its default");
    else
      row.extrapolated = work < fit->range_lo * (1 - kRangeSlack) || work > fit->range_hi * (1 + kRangeSlack);
    if (row.extrapolated)
      r.warnings.push_back(m.path + " (" + m.name + "): work outside the range " + row.parameter + " was fitted on");
    r.rows.push_back(row);
  }
  summarize(r);
  return r;
}

CheckReport check_out_of_sample(const MeasurementSet& set, const GpuSpec& gpu, const FitOptions& fit_opt,
                                const std::function<bool(const Measurement&)>& include) {
  const std::set<std::string> train = fit_half(set);
  FitOptions opt = fit_opt;
  opt.use = [&](const Measurement& m) { return train.count(shape_group_key(m)) > 0; };
  FitResult fit = fit_calibration(set, gpu, opt);
  CheckReport r = check_against(set, fit.calibration, gpu, [&](const Measurement& m) {
    return !train.count(shape_group_key(m)) && (!include || include(m));
  });
  r.warnings.insert(r.warnings.begin(), fit.warnings.begin(), fit.warnings.end());
  return r;
}

std::string format_check(const CheckReport& r, const std::string& title) {
  std::string t = "# " + title + "\n";
  char buf[320];
  std::snprintf(buf, sizeof buf, "# %-22s %-34s %-22s %12s %12s %8s %s\n", "name", "shape", "parameter", "measured",
                "predicted", "error", "note");
  t += buf;
  std::snprintf(buf, sizeof buf, "# %-22s %-34s %-22s %12s %12s %8s\n", "", "", "", "(us)", "(us)", "(%)");
  t += buf;
  for (const auto& row : r.rows) {
    std::snprintf(buf, sizeof buf, "  %-22s %-34s %-22s %12.2f %12.2f %+8.2f %s\n", row.m->name.c_str(),
                  shape_text(*row.m).c_str(), row.parameter.c_str(), row.measured_s * 1e6, row.predicted_s * 1e6,
                  100 * row.error, row.extrapolated ? "extrapolated" : "");
    t += buf;
  }
  for (const auto& k : r.by_kind) {
    std::snprintf(buf, sizeof buf, "# %-14s cases %3zu  median |error| %6.2f%%  max |error| %6.2f%%\n", k.label.c_str(),
                  k.cases, 100 * k.median_abs_error, 100 * k.max_abs_error);
    t += buf;
  }
  std::snprintf(buf, sizeof buf, "# cases %zu  median |error| %.2f%%  max |error| %.2f%%\n", r.rows.size(),
                100 * r.median_abs_error, 100 * r.max_abs_error);
  t += buf;
  return t;
}

}  // namespace hcpsim

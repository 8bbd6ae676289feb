#include "fit/fit_interference.hpp"
#include "fit/median.hpp"

#include <algorithm>
#include <cmath>
#include <map>

namespace hcpsim {

namespace {

// Interference class of a kernel name; -1 for transfers (cta_copy, cta_spin, collective, copy).
int class_of(const std::string& name) {
  if (name == "gemm") return 0;
  if (name == "attention" || name == "attention_fwd" || name == "attention_bwd") return 1;
  if (name == "hbm_copy") return 2;
  return -1;
}

int knot_of(int64_t ctas) {
  for (int i = 0; i < kInterferenceKnots; ++i)
    if (kInterferenceChannels[i] == ctas) return i;
  return -1;
}

CalibratedScalar scalar(const std::string& name, const std::vector<double>& samples) {
  CalibratedScalar s;
  s.name = name;
  s.value = std::clamp(median(samples), 1.0, 10.0);
  s.fit.samples = static_cast<int>(samples.size());
  s.fit.range_lo = *std::min_element(samples.begin(), samples.end());
  s.fit.range_hi = *std::max_element(samples.begin(), samples.end());
  double sq = 0, worst = 0;
  for (double x : samples) {
    const double e = std::fabs(s.value / x - 1);
    sq += e * e, worst = std::max(worst, e);
  }
  s.fit.rms_error = std::sqrt(sq / static_cast<double>(samples.size()));
  s.fit.max_error = worst;
  s.fit.backend = "hcpcal interference (c)";
  return s;
}

}  // namespace

std::string interference_parameter(const InterferenceConfig& row) {
  const int victim = class_of(row.victim), aggressor = class_of(row.aggressor);
  if (row.victim == "cta_copy" && aggressor >= 0)
    return std::string(row.transfer_first ? "interference_comm_shared_" : "interference_comm_") +
           kInterferenceClassNames[aggressor] + "_k" + std::to_string(row.ctas);
  return "interference_compute_" + (victim >= 0 ? std::string(kInterferenceClassNames[victim])
                                                : row.victim.substr(0, row.victim.find('_')));
}

std::optional<double> predicted_interference_slowdown(const InterferenceModel& m, const InterferenceConfig& row) {
  const int victim = class_of(row.victim), aggressor = class_of(row.aggressor);
  if (victim >= 0) {
    if (row.aggressor == "cta_spin") return 1.0;
    // A copy-engine cudaMemcpyAsync at the full HBM rate (part (a) on one GPU) is not an NCCL
    // transfer: listed, not predicted.
    if (row.aggressor == "cta_copy" || row.aggressor == "collective") return compute_slowdown(m, victim);
    return std::nullopt;
  }
  if (row.victim == "cta_copy" && aggressor >= 0 && row.ctas > 0)
    return row.transfer_first ? comm_shared_slowdown(m, aggressor, row.ctas) : comm_slowdown(m, aggressor, row.ctas);
  return std::nullopt;
}

void fit_interference(const MeasurementSet& set, const FitOptions& opt, FitResult& out) {
  std::map<int, std::vector<double>> compute;                  // class -> slowdowns beside cta_copy
  std::map<std::pair<int, int>, std::vector<double>> comm, shared;  // (class, knot) -> cta_copy slowdowns
  for (const Measurement& m : set.items) {
    if (m.kind != MeasurementKind::Interference || (opt.use && !opt.use(m))) continue;
    if (m.wrong > 0 || !m.interference.overlap_verified) continue;  // fit_comm_parameters warns about these
    const InterferenceConfig& f = m.interference;
    const int victim = class_of(f.victim), aggressor = class_of(f.aggressor);
    if (victim >= 0 && f.aggressor == "cta_copy") compute[victim].push_back(f.slowdown);
    if (f.victim == "cta_copy" && aggressor >= 0 && knot_of(f.ctas) >= 0)
      (f.transfer_first ? shared : comm)[{aggressor, knot_of(f.ctas)}].push_back(f.slowdown);
  }
  for (const auto& [c, v] : compute)
    out.calibration.scalars.push_back(scalar(std::string("interference_compute_") + kInterferenceClassNames[c], v));
  for (const auto* table : {&comm, &shared})
    for (const auto& [key, v] : *table)
      out.calibration.scalars.push_back(
          scalar(std::string(table == &comm ? "interference_comm_" : "interference_comm_shared_") +
                     kInterferenceClassNames[key.first] + "_k" + std::to_string(kInterferenceChannels[key.second]),
                 v));
  if (!compute.empty() && comm.empty())
    out.warnings.push_back("interference: no k-CTA copy beside compute; the transfer slowdowns keep their defaults");
}

}  // namespace hcpsim

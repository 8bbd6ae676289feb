#include "fit/fit_collective.hpp"
#include "fit/median.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>

#include "scenario/presets.hpp"

namespace hcpsim {

namespace {

constexpr double kMaxLineError = 0.10;  // beyond this the measured points are kept as a table


}  // namespace

CalibratedCollective fit_collective_line(const std::vector<std::pair<double, double>>& xt, double max_line_error) {
  std::vector<std::pair<double, double>> s = xt;
  std::sort(s.begin(), s.end());
  if (s.size() < 2 || s.front().first == s.back().first)
    throw std::invalid_argument("a collective fit needs at least 2 distinct sizes");
  // Minimise sum ((alpha + x/beta)/t - 1)^2: rows [1/t, x/t] . [alpha, 1/beta] = 1.
  Eigen::MatrixXd A(s.size(), 2);
  Eigen::VectorXd b = Eigen::VectorXd::Ones(Eigen::Index(s.size()));
  for (size_t i = 0; i < s.size(); ++i) {
    A(Eigen::Index(i), 0) = 1 / s[i].second;
    A(Eigen::Index(i), 1) = s[i].first / s[i].second;
  }
  Eigen::Vector2d p = A.colPivHouseholderQr().solve(b);
  CalibratedCollective c;
  if (!(p[1] > 0)) {  // no positive bandwidth term: fit the slope alone through the origin
    const double inv = (A.col(1).transpose() * b)(0) / A.col(1).squaredNorm();
    p = {0, inv};
  }
  if (p[0] < 0) {  // a negative latency is unphysical: refit the slope with alpha = 0
    p[0] = 0;
    p[1] = (A.col(1).transpose() * b)(0) / A.col(1).squaredNorm();
  }
  c.latency_s = p[0];
  c.busbw_bytes_per_s = 1 / p[1];
  double sq = 0, worst = 0;
  for (const auto& [x, t] : s) {
    const double e = std::fabs(collective_time_s(c, x) / t - 1);  // the line: no table yet
    sq += e * e;
    worst = std::max(worst, e);
  }
  c.fit.samples = int(s.size());
  c.fit.rms_error = std::sqrt(sq / double(s.size()));
  c.fit.max_error = worst;
  if (worst > max_line_error) {
    // The table: one point per distinct size (the mean time where a size repeats); exact there.
    for (const auto& [x, t] : s) {
      if (!c.table.empty() && c.table.back().first == x) continue;
      double sum = 0;
      int n = 0;
      for (const auto& [x2, t2] : s)
        if (x2 == x) sum += t2, ++n;
      c.table.emplace_back(x, sum / n);
    }
    double sq2 = 0, worst2 = 0;
    for (const auto& [x, t] : s) {
      const double e = std::fabs(collective_time_s(c, x) / t - 1);
      sq2 += e * e;
      worst2 = std::max(worst2, e);
    }
    c.fit.rms_error = std::sqrt(sq2 / double(s.size()));
    c.fit.max_error = worst2;
  }
  return c;
}

double predicted_collective_s(const CalibratedCollective& c, const CollectiveConfig& k) {
  return collective_time_s(c, k.bytes * collective::bus_bandwidth_factor(k.op, k.ranks));
}


void fit_comm_parameters(const MeasurementSet& set, const ClusterSpec& node, const FitOptions& opt, FitResult& out) {
  CalibrationFile& c = out.calibration;
  std::map<std::pair<CommPattern, CollectiveLayout>, std::vector<std::pair<double, double>>> groups;
  std::map<std::pair<CommPattern, CollectiveLayout>, std::pair<double, double>> ranges;
  for (const auto& m : set.items) {
    if (opt.use && !opt.use(m)) continue;
    if ((m.kind == MeasurementKind::Collective || m.kind == MeasurementKind::Interference) && m.wrong > 0) {
      out.warnings.push_back(m.path + " (" + m.name + "): left out, its check found " + std::to_string(m.wrong) +
                             " wrong elements");
      continue;
    }
    if (m.kind == MeasurementKind::Interference && !m.interference.overlap_verified) {
      out.warnings.push_back(m.path + " (" + m.name + "): left out, the aggressor was not seen overlapping the victim");
      continue;
    }
    if (m.kind == MeasurementKind::Collective) {
      const CollectiveConfig& k = m.collective;
      if (k.ranks < 2) {
        out.warnings.push_back(m.path + " (" + m.name + "): 1 rank moves nothing; listed, not fitted");
        continue;
      }
      const auto key = std::make_pair(k.op, k.layout);
      groups[key].emplace_back(k.bytes * collective::bus_bandwidth_factor(k.op, k.ranks), m.median_s);
      auto& r = ranges.try_emplace(key, k.bytes, k.bytes).first->second;
      r = {std::min(r.first, k.bytes), std::max(r.second, k.bytes)};
    }
  }
  std::map<CollectiveLayout, std::vector<double>> efficiency;  // layout -> beta / line rate per op
  for (const auto& [key, samples] : groups) {
    size_t distinct = 0;
    for (size_t i = 0; i < samples.size(); ++i)
      distinct += std::none_of(samples.begin(), samples.begin() + long(i),
                               [&](const auto& s) { return s.first == samples[i].first; });
    if (distinct < 2) {
      out.warnings.push_back(std::string("collective ") + to_string(key.first) + " " + to_string(key.second) + ": one size only; not fitted");
      continue;
    }
    CalibratedCollective k = fit_collective_line(samples, kMaxLineError);
    k.op = key.first;
    k.layout = key.second;
    k.fit.range_lo = ranges[key].first;
    k.fit.range_hi = ranges[key].second;
    k.fit.backend = "nccl";
    if (!k.table.empty())
      out.warnings.push_back(std::string("collective ") + to_string(k.op) + " " + to_string(k.layout) + ": one alpha-beta line misses a size by more than " +
                             std::to_string(int(100 * kMaxLineError)) + "%; kept the measured sizes as a table");
    c.collectives.push_back(k);
    const double line = k.layout == CollectiveLayout::IntraNode ? node.intra_node.bandwidth_bytes_per_s
                                                 : node.inter_node.nic_bandwidth_bytes_per_s;
    if (k.layout != CollectiveLayout::CrossNodeCrossRail && line > 0) efficiency[k.layout].push_back(k.busbw_bytes_per_s / line);
  }
  for (const auto& [layout, e] : efficiency) {
    CalibratedScalar s;
    s.name = layout == CollectiveLayout::IntraNode ? "intra_node_efficiency" : "nic_efficiency";
    s.value = std::clamp(median(e), kMinEfficiency, kMaxEfficiency);
    s.fit.samples = int(e.size());
    s.fit.range_lo = *std::min_element(e.begin(), e.end());
    s.fit.range_hi = *std::max_element(e.begin(), e.end());
    s.fit.backend = "nccl";
    c.scalars.push_back(s);
  }
}

}  // namespace hcpsim

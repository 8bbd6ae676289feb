#include "fit/fit_table.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace hcpsim {

namespace {

constexpr double kSameDecade = 1e-3;  // log10 values closer than this are one knot position

void validate(const std::vector<EfficiencySample>& samples) {
  if (samples.empty()) throw std::invalid_argument("fit: no samples");
  for (const auto& s : samples)
    if (!(s.work > 0) || !(s.efficiency > 0)) throw std::invalid_argument("fit: work and efficiency must be > 0");
}

FitSummary summarize(const std::vector<EfficiencySample>& samples, auto&& fitted) {
  FitSummary f;
  f.samples = int(samples.size());
  f.range_lo = samples.front().work;
  f.range_hi = samples.front().work;
  double sq = 0;
  for (const auto& s : samples) {
    f.range_lo = std::min(f.range_lo, s.work);
    f.range_hi = std::max(f.range_hi, s.work);
    const double err = s.efficiency / fitted(s.work) - 1;  // predicted time / measured time - 1
    sq += err * err;
    f.max_error = std::max(f.max_error, std::fabs(err));
  }
  f.rms_error = std::sqrt(sq / samples.size());
  return f;
}

}  // namespace

TableFit fit_efficiency_table(const std::vector<EfficiencySample>& samples, int max_knots) {
  validate(samples);
  std::vector<double> xs;
  for (const auto& s : samples) xs.push_back(std::log10(s.work));
  std::sort(xs.begin(), xs.end());
  std::vector<double> distinct;
  for (double x : xs)
    if (distinct.empty() || x - distinct.back() > kSameDecade) distinct.push_back(x);
  const int k = std::max(1, std::min<int>(max_knots, int(distinct.size())));
  std::vector<double> knots;
  for (int j = 0; j < k; ++j)
    knots.push_back(k == 1 ? distinct.front() : distinct[size_t(std::lround(double(j) * (distinct.size() - 1) / (k - 1)))]);

  // Row i: hat-function weights of x_i on the knots, divided by e_i; right-hand side 1.
  Eigen::MatrixXd a = Eigen::MatrixXd::Zero(Eigen::Index(samples.size()), k);
  Eigen::VectorXd b = Eigen::VectorXd::Ones(Eigen::Index(samples.size()));
  for (size_t i = 0; i < samples.size(); ++i) {
    const double x = std::log10(samples[i].work), inv = 1.0 / samples[i].efficiency;
    if (k == 1 || x <= knots.front()) {
      a(Eigen::Index(i), 0) = inv;
    } else if (x >= knots.back()) {
      a(Eigen::Index(i), k - 1) = inv;
    } else {
      const int j = int(std::upper_bound(knots.begin(), knots.end(), x) - knots.begin()) - 1;
      const double u = (x - knots[j]) / (knots[j + 1] - knots[j]);
      a(Eigen::Index(i), j) = (1 - u) * inv;
      a(Eigen::Index(i), j + 1) = u * inv;
    }
  }
  const Eigen::VectorXd c = a.colPivHouseholderQr().solve(b);

  TableFit out;
  for (int j = 0; j < k; ++j) out.table.points.emplace_back(std::pow(10.0, knots[j]), std::clamp(c(j), kMinEfficiency, kMaxEfficiency));
  out.summary = summarize(samples, [&](double w) { return out.table.at(w); });
  return out;
}

TableFit fit_efficiency_curve(const std::vector<EfficiencySample>& samples) {
  validate(samples);
  constexpr double kRefWork = 1e10, kStepDecades = 0.125;
  double lo = samples.front().work, hi = lo;
  for (const auto& s : samples) lo = std::min(lo, s.work), hi = std::max(hi, s.work);
  const TableFit fallback = fit_efficiency_table(samples, 8);
  if (fallback.table.points.size() < 3) return fallback;

  const Eigen::Index n = Eigen::Index(samples.size());
  Eigen::VectorXd ones = Eigen::VectorXd::Ones(n);
  double best_sse = -1, best_k = 0;
  Eigen::Vector2d best_c;
  for (int step = 2; step <= 200; ++step) {  // k = 0.02 .. 2.00
    const double k = 0.01 * step;
    Eigen::MatrixXd a(n, 2);
    for (Eigen::Index i = 0; i < n; ++i) {
      const double inv = 1.0 / samples[size_t(i)].efficiency;
      a(i, 0) = inv;
      a(i, 1) = -std::pow(samples[size_t(i)].work / kRefWork, -k) * inv;
    }
    const Eigen::Vector2d c = a.colPivHouseholderQr().solve(ones);
    const double sse = (a * c - ones).squaredNorm();
    if (best_sse < 0 || sse < best_sse) best_sse = sse, best_k = k, best_c = c;
  }
  auto curve = [&](double w) { return std::clamp(best_c(0) - best_c(1) * std::pow(w / kRefWork, -best_k), kMinEfficiency, kMaxEfficiency); };
  TableFit out;
  const double x0 = std::log10(lo), x1 = std::log10(hi);
  const int steps = std::max(1, int(std::ceil((x1 - x0) / kStepDecades)));
  for (int j = 0; j <= steps; ++j) {
    const double w = std::pow(10.0, x0 + (x1 - x0) * j / steps);
    out.table.points.emplace_back(w, curve(w));
  }
  out.summary = summarize(samples, [&](double w) { return out.table.at(w); });
  return out;
}

CalibratedScalar fit_constant_efficiency(const std::vector<EfficiencySample>& samples, const char* name) {
  validate(samples);
  double s1 = 0, s2 = 0;
  for (const auto& s : samples) {
    s1 += 1 / s.efficiency;
    s2 += 1 / (s.efficiency * s.efficiency);
  }
  CalibratedScalar out;
  out.name = name;
  out.value = s1 / s2;
  out.fit = summarize(samples, [&](double) { return out.value; });
  return out;
}

}  // namespace hcpsim

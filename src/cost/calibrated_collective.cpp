#include "cost/calibrated_collective.hpp"

#include <algorithm>
#include <cmath>

namespace hcpsim {

namespace {

double line_s(const CalibratedCollective& c, double bus_bytes) { return c.latency_s + bus_bytes / c.busbw_bytes_per_s; }

}  // namespace

double collective_time_s(const CalibratedCollective& c, double x) {
  const auto& t = c.table;
  if (t.size() < 2 || x < t.front().first || x > t.back().first) return line_s(c, x);
  size_t i = 1;
  while (i + 1 < t.size() && t[i].first < x) ++i;
  const double u = std::log(x / t[i - 1].first) / std::log(t[i].first / t[i - 1].first);
  return std::exp(std::log(t[i - 1].second) + u * std::log(t[i].second / t[i - 1].second));
}

std::pair<double, double> collective_latency_and_bandwidth_s(const CalibratedCollective& c, double bus_bytes) {
  const double total = collective_time_s(c, bus_bytes);
  const double latency = std::clamp(c.latency_s, 0.0, total);
  return {latency, total - latency};
}

}  // namespace hcpsim

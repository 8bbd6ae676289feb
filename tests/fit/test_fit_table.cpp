// The least-squares table fit recovers known efficiency curves (closed forms derived here).
#include <catch2/catch.hpp>
#include <cmath>

#include "fit/fit_table.hpp"

using namespace hcpsim;

TEST_CASE("a curve linear in log10(work) is recovered exactly", "[calibrate]") {
  // e(w) = 0.30 + 0.05 * (log10 w - 9) on w = 1e9 .. 1e13: a piecewise-linear table with
  // knots anywhere on the data holds it exactly, so the fit must reproduce it at every w.
  std::vector<EfficiencySample> s;
  for (int i = 0; i <= 8; ++i) {
    const double w = std::pow(10.0, 9 + 0.5 * i);
    s.push_back({w, 0.30 + 0.05 * (std::log10(w) - 9)});
  }
  const TableFit f = fit_efficiency_table(s, 4);
  REQUIRE(f.table.points.size() == 4);
  for (const auto& x : s) CHECK(f.table.at(x.work) == Approx(x.efficiency).epsilon(1e-9));
  CHECK(f.summary.samples == 9);
  CHECK(f.summary.max_error < 1e-9);
  CHECK(f.summary.range_lo == Approx(1e9));
  CHECK(f.summary.range_hi == Approx(1e13));
}

TEST_CASE("a curve with a kink at a knot is recovered, one knot fewer cannot hold it", "[calibrate]") {
  // Rises from 0.2 at 1e9 to 0.5 at 1e11, flat after: the kink lies on the middle data point.
  std::vector<EfficiencySample> s;
  for (int i = 0; i <= 4; ++i) {
    const double x = 9 + i;
    s.push_back({std::pow(10.0, x), x <= 11 ? 0.2 + 0.15 * (x - 9) : 0.5});
  }
  const TableFit exact = fit_efficiency_table(s, 5);
  CHECK(exact.summary.max_error < 1e-9);
  const TableFit coarse = fit_efficiency_table(s, 2);  // a straight line through a kink
  CHECK(coarse.summary.max_error > 0.05);
}

TEST_CASE("the least-squares constant minimises relative error in closed form", "[calibrate]") {
  // c = sum(1/e) / sum(1/e^2): for e = {0.8, 0.9} that is (1.25 + 1.1111) / (1.5625 + 1.2346).
  const CalibratedScalar c = fit_constant_efficiency({{1e9, 0.8}, {2e9, 0.9}}, "memory_efficiency");
  const double expect = (1 / 0.8 + 1 / 0.9) / (1 / 0.64 + 1 / 0.81);
  CHECK(c.value == Approx(expect).epsilon(1e-12));
  CHECK(c.fit.max_error == Approx(std::max(std::fabs(0.8 / expect - 1), std::fabs(0.9 / expect - 1))));
  CHECK_THROWS_AS(fit_constant_efficiency({}, "x"), std::invalid_argument);
  CHECK_THROWS_AS(fit_efficiency_table({{0, 0.5}}, 3), std::invalid_argument);
}

TEST_CASE("the saturating curve is recovered from samples on it", "[calibrate]") {
  // eff(w) = 0.47 - 0.2 (w / 1e10)^-0.3 with k on the search grid: the least squares is
  // exact, and the table's points (every 1/8 decade over 1e10 .. 1e13) lie on the curve.
  auto curve = [](double w) { return 0.47 - 0.2 * std::pow(w / 1e10, -0.3); };
  std::vector<EfficiencySample> s;
  for (int i = 0; i <= 6; ++i) {
    const double w = std::pow(10.0, 10 + 0.5 * i);
    s.push_back({w, curve(w)});
  }
  const TableFit f = fit_efficiency_curve(s);
  REQUIRE(f.table.points.size() == 25);  // 3 decades in steps of 1/8
  for (const auto& [w, eff] : f.table.points) CHECK(eff == Approx(curve(w)).epsilon(1e-9));
  // Every sample sits on a table point (each 4th), so the table reproduces it.
  CHECK(f.summary.max_error < 1e-9);
}

TEST_CASE("the curve falls back to free knots below three distinct sizes", "[calibrate]") {
  const TableFit f = fit_efficiency_curve({{1e10, 0.3}, {1e12, 0.4}, {1e12, 0.4}});
  REQUIRE(f.table.points.size() == 2);
  CHECK(f.table.points[1].second == Approx(0.4));
}

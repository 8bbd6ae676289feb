// Time to train, GPU-hours, cost and energy against the arithmetic done by hand beside each check.
#include <catch2/catch.hpp>

#include "compare/economics.hpp"

using namespace hcpsim;

TEST_CASE("economics: a small job's time, GPU-hours, cost and energy by hand") {
  // 1e9 tokens at 4,194,304 tokens per step: 1e9 / 4194304 = 238.4 -> 239 steps (a partial step is a step).
  // Step 10 s, band [9, 11] s: time 2390 s, band [2151, 2629] s.
  // 144 GPUs paid: GPU-hours = 144 x 2390 / 3600 = 95.6; band 144 x [2151, 2629] / 3600 = [86.04, 105.16].
  // At 5.00 per GPU-hour: cost 478.0, band [430.2, 525.8].
  // Power 132,000 W per node x 2 nodes x PUE 1.25 = 330,000 W; energy 330,000 x 2390 / 3.6e9 = 0.219083 MWh.
  const PowerSpec power{0, 132000, 1.25, "test"};
  const TrainingEconomics e = economics_of(1e9, 4194304, 10.0, {9.0, 11.0}, 144, 2, 5.0, power);
  CHECK(e.steps == 239);
  CHECK(e.time_s == Approx(2390));
  CHECK(e.time_s_band.first == Approx(2151));
  CHECK(e.time_s_band.second == Approx(2629));
  CHECK(e.gpu_hours == Approx(95.6));
  CHECK(e.gpu_hours_band.first == Approx(86.04));
  CHECK(e.gpu_hours_band.second == Approx(105.16));
  REQUIRE(e.cost.has_value());
  CHECK(*e.cost == Approx(478.0));
  CHECK(e.cost_band.first == Approx(430.2));
  CHECK(e.cost_band.second == Approx(525.8));
  CHECK(e.power_w == Approx(330000));
  REQUIRE(e.energy_mwh.has_value());
  CHECK(*e.energy_mwh == Approx(330000.0 * 2390 / 3.6e9));
  CHECK(e.energy_mwh_band.second == Approx(330000.0 * 2629 / 3.6e9));
}

TEST_CASE("economics: power per GPU counts every GPU paid for, no price, no cost") {
  // 8 steps exactly (8 x 1000 tokens), 2 s each: 16 s. 16 GPUs x 700 W x PUE 1 = 11,200 W;
  // energy 11,200 x 16 / 3.6e9 MWh; no price -> no cost.
  const TrainingEconomics e = economics_of(8000, 1000, 2.0, {2.0, 2.0}, 16, 2, std::nullopt, PowerSpec{700, 0, 1.0, "t"});
  CHECK(e.steps == 8);
  CHECK(e.time_s == Approx(16));
  CHECK(e.gpu_hours == Approx(16.0 * 16 / 3600));
  CHECK_FALSE(e.cost.has_value());
  CHECK(e.power_w == Approx(11200));
  CHECK(*e.energy_mwh == Approx(11200.0 * 16 / 3.6e9));
  const TrainingEconomics none = economics_of(8000, 1000, 2.0, {2.0, 2.0}, 16, 2, 1.0, std::nullopt);
  CHECK_FALSE(none.energy_mwh.has_value());
  CHECK(*none.cost == Approx(16.0 * 16 / 3600));
}

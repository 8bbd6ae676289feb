#include "compare/economics.hpp"

#include <cassert>
#include <cmath>

namespace hcpsim {

TrainingEconomics economics_of(double token_budget, int64_t tokens_per_step, double step_time_s, Band step_time_band_s,
                               int64_t gpus_paid, int64_t nodes, std::optional<double> price_per_gpu_hour,
                               const std::optional<PowerSpec>& power) {
  assert(tokens_per_step > 0 && step_time_s > 0);
  constexpr double kSecondsPerHour = 3600, kJoulesPerMWh = 3.6e9;
  TrainingEconomics e;
  e.steps = static_cast<int64_t>(std::ceil(token_budget / static_cast<double>(tokens_per_step)));
  const double steps = static_cast<double>(e.steps);
  e.time_s = steps * step_time_s;
  e.time_s_band = {steps * step_time_band_s.first, steps * step_time_band_s.second};
  const auto gpu_hours = [&](double t) { return static_cast<double>(gpus_paid) * t / kSecondsPerHour; };
  e.gpu_hours = gpu_hours(e.time_s);
  e.gpu_hours_band = {gpu_hours(e.time_s_band.first), gpu_hours(e.time_s_band.second)};
  if (price_per_gpu_hour) {
    e.cost = e.gpu_hours * *price_per_gpu_hour;
    e.cost_band = {e.gpu_hours_band.first * *price_per_gpu_hour, e.gpu_hours_band.second * *price_per_gpu_hour};
  }
  if (power) {
    const double it_w = power->per_gpu_w > 0 ? power->per_gpu_w * static_cast<double>(gpus_paid)
                                             : power->per_node_w * static_cast<double>(nodes);
    e.power_w = it_w * power->pue;
    e.energy_mwh = e.power_w * e.time_s / kJoulesPerMWh;
    e.energy_mwh_band = {e.power_w * e.time_s_band.first / kJoulesPerMWh, e.power_w * e.time_s_band.second / kJoulesPerMWh};
  }
  return e;
}

}  // namespace hcpsim

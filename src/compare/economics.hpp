// What training a token budget takes on one option: time, GPU-hours, cost and energy, each with
// the band of the step time it rests on (run/uncertainty.hpp), so that every figure scales from
// one predicted quantity:
//   steps       = ceil(token_budget / tokens per step)
//   time        = steps x step time                        [steps x low, steps x high]
//   GPU-hours   = GPUs paid x time / 3600                  (idle GPUs of a subset are paid too)
//   cost        = GPU-hours x price per GPU-hour
//   energy      = power x time x PUE                       power: per GPU x GPUs paid, or per
//                                                          node x nodes; in MWh (3.6e9 J)
// Evaluation, checkpointing, restarts and failures are not counted (docs/compare.md).
#pragma once

#include <cstdint>
#include <optional>
#include <utility>

#include "compare/study.hpp"

namespace hcpsim {

using Band = std::pair<double, double>;  // [low, high]

struct TrainingEconomics {
  int64_t steps = 0;
  double time_s = 0;
  Band time_s_band{0, 0};
  double gpu_hours = 0;
  Band gpu_hours_band{0, 0};
  std::optional<double> cost;  // where the option has a price
  Band cost_band{0, 0};
  std::optional<double> energy_mwh;  // where the option has a power figure
  Band energy_mwh_band{0, 0};
  double power_w = 0;  // facility power while training (x PUE)
};

// `step_time_s` and its band [low, high] from the simulation; `gpus_paid` and `nodes` of the whole
// option (a subset's idle GPUs included).
TrainingEconomics economics_of(double token_budget, int64_t tokens_per_step, double step_time_s, Band step_time_band_s,
                               int64_t gpus_paid, int64_t nodes, std::optional<double> price_per_gpu_hour,
                               const std::optional<PowerSpec>& power);

}  // namespace hcpsim

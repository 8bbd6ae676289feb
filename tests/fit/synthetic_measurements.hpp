// Synthetic measurements.json text whose times come from a known efficiency curve, so a
// test can say in closed form what fit and check must find.
#pragma once

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>

namespace hcpsim::test {

constexpr double kH200Peak = 989e12;

// The attention curve the synthetic GPU follows: linear in log10(FLOPs), 0.25 at 1e10,
// +0.04 per decade (the backward 0.9x of it).
inline double synthetic_attention_efficiency(double flops, bool backward) {
  return (0.25 + 0.04 * (std::log10(flops) - 10)) * (backward ? 0.9 : 1.0);
}

// Square shapes s x s for s = 1K .. 32K, causal and not, forward and backward, 32 q heads
// and 32 KV heads (no GQA: no backend adds its group reductions), d = 128; FLOPs as
// workload/attention_common.cpp counts them.
inline nlohmann::json synthetic_attention_measurements() {
  nlohmann::json list = nlohmann::json::array();
  for (int s = 1024; s <= 32768; s *= 2)
    for (bool causal : {false, true})
      for (bool bwd : {false, true}) {
        const double visible = causal ? double(s) * (s + 1) / 2 : double(s) * s;
        const double flops = 4.0 * 32 * 128 * visible * (bwd ? 2.5 : 1.0);
        const double t = flops / (kH200Peak * synthetic_attention_efficiency(flops, bwd));
        list.push_back({{"kind", "attention"},
                        {"backend", "synthetic"},
                        {"config",
                         {{"name", "s" + std::to_string(s)}, {"pass", bwd ? "bwd" : "fwd"}, {"batch", 1}, {"sq", s},
                          {"skv", s}, {"heads_q", 32}, {"heads_kv", 32}, {"head_dim", 128},
                          {"mask", causal ? "causal" : "none"}}},
                        {"iterations", 10},
                        {"median_s", t},
                        {"min_s", t},
                        {"max_s", t},
                        {"check", {{"done", true}, {"wrong", 0}}}});
      }
  return list;
}

inline nlohmann::json synthetic_measurement_file(const nlohmann::json& list) {
  return {{"format", "hcpsim-measurements/1"},
          {"tool", "test"},
          {"complete", true},
          {"environment", {{"gpu_model", "NVIDIA H200"}, {"l2_bytes", 62914560}}},
          {"measurements", list}};
}

}  // namespace hcpsim::test

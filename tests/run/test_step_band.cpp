// The step's band where the CPU's launches and the GPUs' kernels run in turn (run/simulate.cpp).
#include <catch2/catch.hpp>

#include "run/simulate.hpp"
#include "scenario/parse.hpp"

using namespace hcpsim;

TEST_CASE("a host-bound 1F1B step's band holds the step, the CPU's part around it", "[run][uncertainty]") {
  // Llama-3.1-8B at 256 tokens, TP2 x PP4 1F1B, 4 micro batches on one DGX-H100: at each
  // stage-to-stage transfer the CPU waits for the GPU (Megatron's host synchronisation) and cannot
  // launch ahead, so the step (0.066 s) ends later than both the GPUs' schedule and the CPU's launches
  // alone would end it (each about 0.044 s with the optimizer). The band was once centred on those
  // (0.038-0.051 s, the step outside it); the CPU's band is now the step's own, +- its launches' 20 %
  // of their share: the band holds the step, symmetric about it where the CPU's part decides both
  // ends. (SimGrid runs once a process: one simulation.)
  const SimulationResult r = simulate_scenario(parse_scenario_text(R"({"model": {"preset": "llama3.1-8b"},
    "training": {"seq_length": 256, "micro_batch_size": 1, "global_batch_size": 4},
    "parallel": {"tensor_model_parallel_size": 2, "pipeline_model_parallel_size": 4, "sequence_parallel": true},
    "cluster": {"preset": "dgx-h100", "num_nodes": 1}})",
                                                                   ParseOptions{}));
  REQUIRE(r.step);
  const double t = r.step->time_s;
  REQUIRE(r.step->composed.host_wait_s > 0.2 * t);  // the CPU on the step's path
  const auto [low, high] = r.uncertainty.time_s;
  CHECK(low < t);
  CHECK(high > t);
  CHECK(high - t == Approx(t - low).epsilon(1e-9));
  REQUIRE_FALSE(r.uncertainty.components.empty());
  CHECK(r.uncertainty.components.front().what == "CPU launches");
  CHECK(r.uncertainty.components.front().relative == Approx(0.20));
}

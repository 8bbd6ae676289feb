// Activation offloading (training.cpu_offloading_num_layers; rules/activation_offload.hpp): the copies'
// waits against schedules worked out by hand, what stays on the GPU, the step's composition of the
// waits, and the rules Megatron sets on it.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "memory/estimate.hpp"
#include "rules/activation_offload.hpp"
#include "run/step_composition.hpp"
#include "../scenario/parse_outcome.hpp"

using namespace hcpsim;

namespace {

nlohmann::json offload_step(int64_t offloaded) {
  return {{"model", {{"preset", "llama3.1-8b"}}},
          {"training", {{"seq_length", 8192}, {"micro_batch_size", 1}, {"global_batch_size", 1},
                        {"cpu_offloading_num_layers", offloaded}}},
          {"parallel", {{"tensor_model_parallel_size", 1}, {"context_parallel_size", 1}}},
          {"cluster", {{"preset", "dgx-h100"}, {"num_nodes", 1}, {"gpus_per_node", 1}}},
          {"workload", "step"}};
}


}  // namespace

TEST_CASE("offload waits: copies shorter than a layer hide, longer ones queue", "[rules]") {
  // 80 layers, the first 40 offloaded; forward 12 ms, backward 26 ms, 20 ms a copy: layer i's copy
  // (queued from the end of layer 0 at 12 ms, one after another) ends at 12 + 20 (i + 1) ms, by
  // i = 39 at 812 ms, long before layer 40 + i starts at 12 (40 + i) ms. Backward: the reloads, 20 ms
  // each, are issued 39 layers (of 26 ms) ahead of their use.
  const rules::OffloadStalls hidden = rules::offload_stalls(80, 40, 0.012, 0.026, 0.020);
  CHECK(hidden.forward_s == 0);
  CHECK(hidden.backward_s == 0);
  // 3 layers, 2 offloaded (L - 1: no layer between), f = 1, b = 2, a copy 3. Forward: layer 0 ends
  // at 1, its copy at 4; layer 1 waits for it (starts at 4, ends 5), its copy ends at 8; layer 2
  // waits for that (8 to 9): 9 - 3 = 6. Backward: layer 2 runs 0-2; layer 1's reload is issued at 2
  // (its own backward's start, no lead), ends at 5, layer 1 runs 5-7; layer 0's reload issued at 7,
  // ends at 10, layer 0 runs 10-12: 12 - 6 = 6.
  const rules::OffloadStalls serial = rules::offload_stalls(3, 2, 1, 2, 3);
  CHECK(serial.forward_s == Approx(6));
  CHECK(serial.backward_s == Approx(6));
  // 4 layers, 1 offloaded, f = 1, b = 1, a copy 2.5: layer 0's copy ends at 3.5, layer 3 (its
  // release) would start at 3: it waits 0.5. Its reload, issued at layer 2's backward start
  // (lead 4 - 1 - 1 = 2, i.e. t = 1), ends at 3.5; layer 0's backward would start at 3: 0.5 more.
  const rules::OffloadStalls one = rules::offload_stalls(4, 1, 1, 1, 2.5);
  CHECK(one.forward_s == Approx(0.5));
  CHECK(one.backward_s == Approx(0.5));
  CHECK(rules::offload_stalls(4, 0, 1, 1, 10).forward_s == 0);
}

TEST_CASE("offload: the step adds each micro batch's waits", "[simulator][step]") {
  StepInputs in;
  in.layers = 4;
  in.microbatches = 3;
  in.layer_forward_s = 1;
  in.layer_backward_s = 2;
  in.stages.push_back(StageInputs{});
  in.stages[0].chunk_layers = {4};
  const double bare = compose_step(in).step_s;
  CHECK(bare == Approx(3 * (4 + 8)));
  in.stages[0].offload_forward_s = 0.5;
  in.stages[0].offload_backward_s = 0.25;
  CHECK(compose_step(in).step_s == Approx(bare + 3 * 0.75));
}

TEST_CASE("offload: L - N layers' activations stay on the GPU", "[memory]") {
  const test::Outcome none = test::parse(offload_step(0)), half = test::parse(offload_step(16));
  REQUIRE(none.valid);
  REQUIRE(half.valid);
  const auto saved = [](const MemoryEstimate& e) {
    for (const MemoryComponent& c : e.breakdown)
      if (c.name == "activations (saved)") return c.bytes;
    return -1.0;
  };
  const MemoryEstimate a = estimate_memory(none.scenario), b = estimate_memory(half.scenario);
  REQUIRE(a.peak_phase == "fwd.loss");  // every layer saved, the loss's buffers on top
  REQUIRE(b.peak_phase == "fwd.loss");
  // A Llama-3.1-8B layer's saved activations in bf16 at TP 1 without recomputation, per token
  // (memory/activations.hpp's terms, from the shapes): the norm's input and output and Q, K, V
  // 2 x (2 x 4096 + (32 + 2 x 8) x 128), O 2 x 4096, the fp32 LSE 4 x 32, the MLP's norm input and
  // output, fc1's gate and up and SwiGLU's output 2 x (2 x 4096 + 3 x 14336): 139392 B; 8192 tokens.
  const double per_layer = 8192.0 * (2 * (2 * 4096 + 48 * 128) + 2 * 4096 + 4 * 32 + 2 * (2 * 4096 + 3 * 14336));
  CHECK(saved_activation_bytes_per_layer(none.scenario) == Approx(per_layer));
  CHECK(saved(a) == Approx(32 * per_layer));
  CHECK(saved(b) == Approx(16 * per_layer));
  CHECK(a.peak_bytes - b.peak_bytes == Approx(16 * per_layer));
  // The preset's host link: PCIe Gen5 x16 at its measured 55 GB/s.
  CHECK(half.scenario.cluster.host_link_bytes_per_s == 55e9);
}

TEST_CASE("offload: Megatron's rules and the host link", "[validation]") {
  const char* key = "training.cpu_offloading_num_layers";
  CHECK(test::has_error_at(test::parse(offload_step(32)), key));  // all 32 layers
  CHECK(test::parse(offload_step(31)).valid);            // L - 1: valid, with a warning
  bool warned = false;
  for (const std::string& w : test::parse(offload_step(31)).scenario.warnings)
    warned = warned || w.find("do not overlap the compute") != std::string::npos;
  CHECK(warned);
  nlohmann::json rc = offload_step(8);
  rc["training"]["recompute_granularity"] = "selective";
  CHECK(test::has_error_at(test::parse(rc), key));
  nlohmann::json pp = offload_step(8);
  pp["parallel"]["pipeline_model_parallel_size"] = 2;
  pp["cluster"]["gpus_per_node"] = 2;
  pp["training"]["global_batch_size"] = 2;
  CHECK(test::has_error_at(test::parse(pp), key));
  nlohmann::json graphs = offload_step(8);
  graphs["software"] = {{"cuda_graph_impl", "transformer_engine"}};
  CHECK(test::has_error_at(test::parse(graphs), key));
  graphs["software"] = {{"cuda_graph_impl", "full_iteration"}};
  CHECK(test::parse(graphs).valid);
  // A cluster of its own names its host link, or offloading has nothing to copy over.
  nlohmann::json custom = offload_step(8);
  custom["cluster"] = {{"num_nodes", 1}, {"gpus_per_node", 1},
                       {"gpu", {{"peak_bf16_tflops", 989}, {"memory_gb", 80}, {"hbm_GBps", 3350}, {"compute_capability", 90}}},
                       {"intra_node", {{"kind", "nvswitch"}, {"bandwidth_GBps", 450}, {"latency_us", 2}}},
                       {"inter_node", {{"nics_per_node", 1}, {"nic_bandwidth_GBps", 50}, {"latency_us", 5}}}};
  CHECK(test::has_error_at(test::parse(custom), "cluster.host_link_GBps"));
  custom["cluster"]["host_link_GBps"] = 25;
  const test::Outcome ok = test::parse(custom);
  REQUIRE(ok.valid);
  CHECK(ok.scenario.cluster.host_link_bytes_per_s == 25e9);
}

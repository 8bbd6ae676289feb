// The cluster presets' numbers against the datasheet arithmetic they come from (issue "Presets
// with their numbers"): HGX/DGX B300 and GB300 NVL72, the 800 Gb/s NIC override, node power.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "scenario/parse.hpp"
#include "scenario/presets.hpp"
#include "tests/scenario/parse_outcome.hpp"

using namespace hcpsim;
using nlohmann::json;

namespace {

const ClusterPreset& preset(const char* name) {
  const ClusterPreset* p = find_cluster_preset(name);
  REQUIRE(p != nullptr);
  return *p;
}

json scenario_on(const char* cluster_preset, int64_t num_nodes, int64_t cp) {
  return {{"name", std::string("on ") + cluster_preset},
          {"model", {{"preset", "llama3.1-8b"}}},
          {"training", {{"seq_length", 131072}, {"micro_batch_size", 1}}},
          {"parallel", {{"tensor_model_parallel_size", 1}, {"context_parallel_size", cp}, {"cp_comm_type", "p2p"}}},
          {"cluster", {{"preset", cluster_preset}, {"num_nodes", num_nodes}}}};
}

constexpr double kFlopPerClockPerSm = 8192;  // Blackwell dense bf16 (B200: 148 x 1850 MHz x 8192 = 2.25 PFLOP/s)

}  // namespace

TEST_CASE("dgx-b300 carries the HGX/DGX B300 datasheet figures", "[scenario][presets]") {
  const ClusterPreset& p = preset("dgx-b300");
  const ClusterSpec& c = p.spec;
  CHECK(c.gpus_per_node == 8);
  // HGX B300: 36 PFLOP/s bf16 and 72 PFLOP/s fp8 per 8 GPUs, sparse: / 8 / 2 for dense per GPU.
  CHECK(c.gpu.peak_bf16_flops_per_s == Approx(36e15 / 8 / 2));  // 2.25 PFLOP/s
  CHECK(c.gpu.peak_fp8_flops_per_s == Approx(72e15 / 8 / 2));   // 4.5 PFLOP/s
  CHECK(c.gpu.memory_bytes == Approx(270e9));                   // datasheet 270 GB (288 GB chip max)
  CHECK(c.gpu.hbm_bytes_per_s == Approx(7.7e12));               // datasheet 7.7 TB/s (8 TB/s chip max)
  CHECK(c.gpu.compute_capability == 103);                       // Blackwell Ultra: sm_103
  CHECK(c.gpu.sm_count == 148);
  // The SM clock is derived from the peak: 2250e12 / (148 x 8192) = 1855.8 MHz.
  CHECK(c.gpu.sm_clock_mhz == Approx(2250e12 / (148 * kFlopPerClockPerSm) / 1e6).margin(0.5));
  CHECK(c.intra_node.kind == IntraNodeKind::NVSwitch);
  CHECK(c.intra_node.bandwidth_bytes_per_s == Approx(1800e9 / 2));  // NVLink5 1.8 TB/s bidirectional
  CHECK(c.inter_node.nics_per_node == 8);                            // one ConnectX-8 per GPU
  CHECK(c.inter_node.nic_bandwidth_bytes_per_s == Approx(800e9 / 8));  // 800 Gb/s = 100 GB/s
  CHECK(c.inter_node.rail_optimized);
  CHECK(p.node_max_power_w == Approx(14e3));  // DGX B300 ~14 kW
  // Its name carries roofline.cpp's B300 token, so the B300 figures (not the B200's) apply.
}

TEST_CASE("gb300-nvl72 carries the GB300 NVL72 datasheet figures", "[scenario][presets]") {
  const ClusterPreset& p = preset("gb300-nvl72");
  const ClusterSpec& c = p.spec;
  CHECK(c.gpus_per_node == 72);  // one hcpsim node = one NVL72 rack
  // GB300 NVL72: 360 PFLOP/s bf16 and 720 PFLOP/s fp8 per rack, sparse: / 72 / 2 for dense per GPU.
  CHECK(c.gpu.peak_bf16_flops_per_s == Approx(360e15 / 72 / 2));  // 2.5 PFLOP/s
  CHECK(c.gpu.peak_fp8_flops_per_s == Approx(720e15 / 72 / 2));   // 5 PFLOP/s
  CHECK(c.gpu.memory_bytes == Approx(279e9));    // datasheet 279 GB per GPU (~20 TB per rack)
  CHECK(c.gpu.memory_bytes * 72 == Approx(20e12).epsilon(0.01));
  CHECK(c.gpu.hbm_bytes_per_s == Approx(8e12));  // 8 TB/s per GPU
  CHECK(c.gpu.compute_capability == 103);
  CHECK(c.gpu.sm_count == 148);  // assumed equal to B300's
  // Derived from the peak: 2500e12 / (148 x 8192) = 2062.0 MHz.
  CHECK(c.gpu.sm_clock_mhz == Approx(2500e12 / (148 * kFlopPerClockPerSm) / 1e6).margin(0.5));
  CHECK(c.intra_node.kind == IntraNodeKind::NVLDomain);
  CHECK(c.intra_node.bandwidth_bytes_per_s == Approx(1800e9 / 2));  // NVLink5 1.8 TB/s bidirectional
  CHECK(c.inter_node.nics_per_node == 72);                           // one ConnectX-8 per GPU
  CHECK(c.inter_node.nic_bandwidth_bytes_per_s == Approx(800e9 / 8));
  CHECK(p.node_max_power_w == Approx(142e3));  // NVL72 AI factory RA: up to 142 kW per rack
  // roofline.cpp looks GB300 up before B300: the name must carry the GB300 token.
}

TEST_CASE("scenarios on dgx-b300 and gb300-nvl72 parse", "[scenario][presets]") {
  ParseOptions opt;
  const Scenario b300 = parse_scenario_text(scenario_on("dgx-b300", 2, 16).dump(), opt);  // 16 GPUs, CP16
  CHECK(b300.cluster.preset == "dgx-b300");
  CHECK(b300.cluster.world_size() == 16);
  CHECK(b300.cluster == [] {
    ClusterSpec c = find_cluster_preset("dgx-b300")->spec;
    c.num_nodes = 2;
    return c;
  }());
  const Scenario gb300 = parse_scenario_text(scenario_on("gb300-nvl72", 1, 8).dump(), opt);  // 72 GPUs: CP8 x DP9
  CHECK(gb300.cluster.preset == "gb300-nvl72");
  CHECK(gb300.cluster.world_size() == 72);
  CHECK(gb300.parallel.data_parallel_size == 9);
}

TEST_CASE("an 800 Gb/s NIC is the existing inter_node.nic_bandwidth_GBps override: 100", "[scenario][presets]") {
  // ConnectX-8 SuperNIC, 800 Gb/s = 100 GB/s per direction, on a node type that ships with 400 Gb/s.
  for (const char* name : {"dgx-h200", "dgx-b200"}) {
    INFO(name);
    json j = scenario_on(name, 2, 16);
    j["cluster"]["inter_node"] = {{"nic_bandwidth_GBps", 100}};
    const test::Outcome o = test::parse(j);
    INFO(test::describe(o));
    REQUIRE(o.valid);
    CHECK(o.scenario.cluster.inter_node.nic_bandwidth_bytes_per_s == 100e9);
    CHECK(o.scenario.cluster.inter_node.nics_per_node == 8);  // the preset's count stays
    CHECK(o.scenario.cluster.gpu == find_cluster_preset(name)->spec.gpu);
  }
}

TEST_CASE("every cluster preset gives its node's maximum power and cites it", "[scenario][presets]") {
  for (const auto& p : cluster_presets()) {
    INFO(p.name);
    CHECK(p.node_max_power_w > 0);
    CHECK(p.source.find(" kW") != std::string::npos);
    // Per GPU, between 300 W and 3 kW: the GPU itself plus its share of host, switches and fans.
    CHECK(p.node_max_power_w / p.spec.gpus_per_node >= 300);
    CHECK(p.node_max_power_w / p.spec.gpus_per_node <= 3000);
  }
  CHECK(preset("dgx-h100").node_max_power_w == Approx(10.2e3));
  CHECK(preset("dgx-h200").node_max_power_w == Approx(10.2e3));
  CHECK(preset("dgx-b200").node_max_power_w == Approx(14.3e3));
  CHECK(preset("gb200-nvl72").node_max_power_w == Approx(132e3));
  CHECK(preset("dgx-a100").node_max_power_w == Approx(6.5e3));
  CHECK(preset("hgx-h800").node_max_power_w == Approx(10.2e3));
  CHECK(preset("l40s-pcie").node_max_power_w == Approx(8 * 350 + 1500.0));  // an estimate: 8 x 350 W + host
}

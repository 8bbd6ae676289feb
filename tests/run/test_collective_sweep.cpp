// Collectives through the simulator's own path (workload op -> NCCL plan -> SimGrid), on an idle
// fabric, against NCCL's cost model worked out by hand from its published constants
// (docs/nccl.md), and the rail arithmetic of multi-node rings and all-to-alls.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "common/child_process.hpp"
#include "cost/cost_model.hpp"
#include "run/collective_sweep.hpp"
#include "scenario/parse.hpp"

using namespace hcpsim;

namespace {

Scenario on(const char* preset, int nodes, int nics = -1, const char* algo = nullptr) {
  nlohmann::json j = {{"name", "t"},
                      {"model", {{"preset", "llama3.1-8b"}}},
                      {"training", {{"seq_length", 4096}, {"micro_batch_size", 1}, {"global_batch_size", 3456},
                                    {"precision", "bf16"}}},
                      {"parallel", {{"tensor_model_parallel_size", 1}, {"context_parallel_size", 1}}},
                      {"cluster", {{"preset", preset}, {"num_nodes", nodes}}}};
  if (nics > 0) j["cluster"]["inter_node"] = {{"nics_per_node", nics}};
  if (algo) j["software"] = {{"nccl", {{"algo", algo}}}};
  return parse_scenario_text(j.dump(), {});
}

// (The global batch, 3456 = 2^7 x 27, divides every DP size used here: up to 128 GPUs, 72 a rack, 432.)
// (time_s, busbw_Bps, algorithm) of each size, simulated in a child (one SimGrid run per process).
std::vector<std::tuple<double, double, std::string>> sweep(const Scenario& sc, CommPattern p, std::vector<double> sizes,
                                                           int64_t ranks = 0) {
  const auto text = result_of_child([&] {
    nlohmann::json out = nlohmann::json::array();
    for (const CollectivePoint& c : simulate_collective_sweep(sc, p, sizes, ranks))
      out.push_back({c.time_s, c.busbw_Bps, c.route.algorithm});
    return out.dump();
  });
  std::vector<std::tuple<double, double, std::string>> r;
  for (const auto& v : nlohmann::json::parse(text)) r.emplace_back(v[0], v[1], v[2]);
  return r;
}

constexpr double kGiB = 1024.0 * 1024 * 1024;

}  // namespace

TEST_CASE("one node: NVLS all-reduce and ring all-gather take NCCL's own time on an idle fabric", "[run][nccl]") {
  // H200 node: NVLink line 450 GB/s, NCCL's sm90 figure 450 x 20.6 / 25 = 370.8 GB/s.
  // NVLS all-reduce, 8 ranks: one head per rank, per head the sm90 ladder's highest <= 370.8 / 9
  // = 41.2 -> 40; bus = heads x 40 x 0.85 (NVLS efficiency, Hopper) x 7/8 x 2 = 476 GB/s;
  // algbw = 476 x 8 / 14 = 272 GB/s; latency 25 us (NVLS, Simple, NVLink). The kernel's
  // pipeline: 16 CTAs, 64 MiB each, 128 KiB chunks x 8 heads per iteration: I = 64, and three
  // stages stretch the bandwidth term by (64 + 2) / 64.
  // 1 GiB: 25e-6 + (66 / 64) 2^30 / 272e9 s.
  const auto ar = sweep(on("dgx-h200", 1), CommPattern::AllReduce, {kGiB});
  CHECK(std::get<2>(ar[0]) == "nvls");
  CHECK(std::get<0>(ar[0]) == Approx(25e-6 + (66.0 / 64) * kGiB / 272e9).epsilon(1e-4));
  // Ring all-gather, H100 node: one-node search from 60 down to 30 (> 0.49 x 60) maximising
  // channels x speed <= 370.8: 6 x 60 = 360 (ties go to the higher speed), duplicated to 12
  // channels of 30; bus 360 GB/s, algbw 360 x 8 / 7; latency 8.4 + 7 x 3.4 us (ring Simple).
  const auto ag = sweep(on("dgx-h100", 1), CommPattern::AllGather, {8 * kGiB});
  CHECK(std::get<2>(ag[0]) == "ring");
  CHECK(std::get<0>(ag[0]) == Approx(32.2e-6 + 8 * kGiB / (360e9 * 8 / 7)).epsilon(1e-4));
  CHECK(std::get<1>(ag[0]) == Approx(360e9).epsilon(2e-3));
}

TEST_CASE("a multi-node ring leaves each node on every rail: cutting 8 NICs to 1 slows it ~8x", "[run][nccl]") {
  // 2 x DGX-H100, reduce-scatter of 8 GiB over 16 ranks: NCCL runs one ring channel per NIC, so a
  // node's boundary traffic splits over its NICs; with one NIC all of it crosses one 50 GB/s link.
  // Bandwidth-bound, the time scales with 1 / NICs: 8x, at least 4x (the target).
  const auto eight = sweep(on("dgx-h100", 2), CommPattern::ReduceScatter, {8 * kGiB});
  const auto one = sweep(on("dgx-h100", 2, 1), CommPattern::ReduceScatter, {8 * kGiB});
  const double ratio = std::get<0>(one[0]) / std::get<0>(eight[0]);
  CHECK(ratio >= 4);
  CHECK(ratio == Approx(8).epsilon(0.15));
}

TEST_CASE("an all-to-all across nodes does not aggregate NICs", "[run][nccl]") {
  // 2 x DGX-H100, 16 ranks, 1 GiB per rank: 8 of each rank's 15 peers are on the other node, and
  // that traffic leaves through the rank's own rail NIC (PXN relays cross-rail pairs over NVLink
  // to the NIC of the destination's rail, still one NIC's worth per GPU). What a GPU's NIC carries
  // is busbw x 8/15 and cannot exceed one NIC's 50 GB/s line rate.
  const auto a2a = sweep(on("dgx-h100", 2), CommPattern::AllToAll, {kGiB});
  const double per_nic_Bps = std::get<1>(a2a[0]) * 8.0 / 15.0;
  CHECK(per_nic_Bps <= 50e9 * 1.001);
  CHECK(per_nic_Bps >= 0.8 * 50e9 * 0.85);  // near a NIC's achievable rate, not a fraction of it
}

TEST_CASE("sendrecv between two GPUs of a node runs on NCCL's p2p channels", "[run][nccl]") {
  const auto s = sweep(on("dgx-h100", 1), CommPattern::SendRecv, {4096, 4 * kGiB}, 2);
  CHECK(std::get<2>(s[0]) == "p2p");
  // 4 KiB: one channel, latency-bound: well below the link's rate.
  CHECK(std::get<1>(s[0]) < 10e9);
  CHECK(std::get<1>(s[1]) > std::get<1>(s[0]));
}

TEST_CASE("each size of a ladder is timed from a barrier, as nccl-tests times it", "[run][nccl]") {
  // nccl-tests' BenchTime runs a barrier before each size's timed calls, so a size's time does not
  // depend on the sizes before it. A sendrecv ring over two nodes has 14 pairs inside a node and 2
  // across (7 -> 8, 15 -> 0), the latter many times slower: without the barrier, the fast pairs'
  // next call started while the slow pairs still moved the last one, and each call's span took in
  // that wait (64 MiB read 1.69 ms after the ladder from 1 MiB, 1.42 ms alone). A collective
  // synchronises its members, so its times were already the same either way; both are checked.
  const Scenario two = on("dgx-h100", 2);
  const double MiB = 1024.0 * 1024;
  for (CommPattern p : {CommPattern::SendRecv, CommPattern::AllToAll, CommPattern::AllReduce}) {
    INFO(to_string(p));
    const auto ladder = sweep(two, p, {MiB, 4 * MiB, 16 * MiB, 64 * MiB});
    const auto alone = sweep(two, p, {64 * MiB});
    CHECK(std::get<0>(ladder.back()) == Approx(std::get<0>(alone[0])).epsilon(1e-9));
  }
}

TEST_CASE("NVLS-tree across NVL72 racks spreads over a NIC per NVLS head", "[run][nccl]") {
  // Six GB200 racks, all-reduce of 1 GiB: NCCL runs NVLS-tree with 32 heads a rack, each through
  // its own NIC (search.cc: one head per NIC, up to NCCL_MAX_NVLS_ARITY 32). Over 32 x 50 GB/s a
  // rack's tree traffic (up to twice the buffer for a rack with two children) does not bind, so on
  // an idle fabric the call takes NCCL's modelled time; over the ring's 16 rails it took 20 % more.
  const auto text = result_of_child([&] {
    const auto c = simulate_collective_sweep(on("gb200-nvl72", 6), CommPattern::AllReduce, {kGiB});
    return nlohmann::json{c[0].time_s, c[0].route.nccl_time_s, c[0].route.algorithm}.dump();
  });
  const auto v = nlohmann::json::parse(text);
  CHECK(v[2].get<std::string>() == "nvls_tree");
  CHECK(v[0].get<double>() == Approx(v[1].get<double>()).epsilon(1e-3));
}

TEST_CASE("a calibration's collective line drives the simulator", "[run][nccl]") {
  // A measured all-gather line for one node (alpha 50 us, busbw 100 GB/s): an 8-rank all-gather
  // of 1 GiB then takes alpha + bus bytes / busbw = 50e-6 + 2^30 x 7/8 / 100e9 s, NCCL's ring and
  // flows kept (the flows run slower than the links); other ops keep NCCL's model.
  const Scenario sc = on("dgx-h100", 1);
  CostParams p = cost_params_for(sc);
  CalibratedCollective line;
  line.op = CommPattern::AllGather;
  line.layout = CollectiveLayout::IntraNode;
  line.latency_s = 50e-6;
  line.busbw_bytes_per_s = 100e9;
  p.collectives = {line};
  const std::vector<int32_t> members = {0, 1, 2, 3, 4, 5, 6, 7};
  auto run = [&](CommPattern op) {  // one SimGrid run per process
    return nlohmann::json::parse(result_of_child([&] {
      const auto c = simulate_collective_sweep(sc.cluster, sc.software.nccl, p, op, {kGiB}, members);
      return nlohmann::json{c[0].time_s, c[0].route.summary}.dump();
    }));
  };
  const auto ag = run(CommPattern::AllGather), rs = run(CommPattern::ReduceScatter);
  const nlohmann::json v = {ag[0], ag[1], rs[0]};
  CHECK(v[0].get<double>() == Approx(50e-6 + kGiB * 7 / 8 / 100e9).epsilon(1e-6));
  CHECK_THAT(v[1].get<std::string>(), Catch::Contains("ring") && Catch::Contains("calibrated"));
  // Reduce-scatter is not in the calibration: NCCL's ring, 360 GB/s bus (see above), 8.4 + 7 x 3.4 us.
  CHECK(v[2].get<double>() == Approx(32.2e-6 + kGiB * 7 / 8 / 360e9).epsilon(1e-4));
}

TEST_CASE("tree, PAT and NVLS-tree across nodes take NCCL's own time on an idle fabric", "[run][nccl]") {
  // Tree all-reduce, 2 x DGX-H100 (16 ranks, 8 NICs): one channel per NIC at the sm90 inter
  // ladder's 48 (no duplication: 48 < 50 and 8 > 4), so 8 channels; bus = min(0.92 x 8 x 48,
  // 8 x perChMaxTreeBw[Hopper][2 nodes] 41.4) = 331.2 GB/s, algbw half of it: 165.6 GB/s (no
  // tree correction above 256 MiB). Latency 8.4 + 2 x ((16/2 - 1) x 4.0 + log2(2) x 14) = 92.4
  // us (tree, Simple: base, NVLink and network hops). 1 GiB: 92.4e-6 + 2^30 / 165.6e9 s. The
  // flows (the whole buffer up and down each node's chain over NVLink, half per tree per rail
  // between the nodes) are slower than the links, so the caps decide.
  Scenario sc = on("dgx-h100", 2, -1, "tree");
  sc.software.nccl.protocols = {NcclProtocol::Simple};
  const auto tree = sweep(sc, CommPattern::AllReduce, {kGiB});
  CHECK(std::get<2>(tree[0]) == "tree");
  CHECK(std::get<0>(tree[0]) == Approx(92.4e-6 + kGiB / 165.6e9).epsilon(1e-4));
  // PAT all-gather, one rank per node on 4 nodes (GPU 0 of each, one NIC per node): one channel
  // at 48, duplicated to 2 of 24 (48 >= 25, and only 1 channel); bus = 2 x 24 x 0.75 = 36 GB/s,
  // not converted (PAT moves the whole buffer); latency 8.0 + log2(4) x 14 / 3.5 + 2.8 x 4 =
  // 27.2 us. 1 GiB (the gathered buffer): 27.2e-6 + 2^30 / 36e9 s.
  Scenario four = on("dgx-h100", 4, -1, "pat");
  CostParams p = cost_params_for(four);
  const auto text = result_of_child([&] {
    const auto c = simulate_collective_sweep(four.cluster, four.software.nccl, p, CommPattern::AllGather, {kGiB},
                                             {0, 8, 16, 24});
    return nlohmann::json{c[0].time_s, c[0].route.algorithm}.dump();
  });
  const auto v = nlohmann::json::parse(text);
  CHECK(v[1].get<std::string>() == "pat");
  CHECK(v[0].get<double>() == Approx(27.2e-6 + kGiB / 36e9).epsilon(1e-4));
  // NVLS-tree all-reduce, 2 x DGX-H100 (NCCL's choice at 1 GiB): 8 heads (one per NIC), per head
  // the sm90 intra ladder's highest <= 370.8 / 9 -> 40, inter 48; per channel min(40 x 0.85 x 7/8
  // x 2 = 59.5, 2 x 48, perChMaxNVLSTreeBw[Hopper][2 nodes] 57.7) = 57.7; bus 8 x 57.7 = 461.6,
  // algbw 461.6 x 16 / 30; latency 25 (NVLink) + 2 x log2(2) x 20.9 (network) = 66.8 us.
  const auto nvls_tree = sweep(on("dgx-h100", 2), CommPattern::AllReduce, {kGiB});
  CHECK(std::get<2>(nvls_tree[0]) == "nvls_tree");
  CHECK(std::get<0>(nvls_tree[0]) == Approx(66.8e-6 + kGiB / (461.6e9 * 16 / 30)).epsilon(1e-4));
}

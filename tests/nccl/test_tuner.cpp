// NCCL's cost model and choice (nccl/tuner.hpp) against NCCL 2.28's formulas worked by hand
// (tuning.cc: bandwidth L267-L352, latency L353-L401, time L584-L601).
#include <catch2/catch.hpp>

#include "nccl/nvls_pipeline.hpp"
#include "nccl/tuner.hpp"
#include "tests/nccl/nccl_fixtures.hpp"

using namespace hcpsim;
using hcpsim::test::shape_on;

namespace {

const NcclChoice* find(const std::vector<NcclChoice>& v, NcclAlgorithm a, NcclProtocol p) {
  for (const NcclChoice& c : v)
    if (c.algorithm == a && c.protocol == p) return &c;
  return nullptr;
}

constexpr double kMiB = 1048576.0;

}  // namespace

TEST_CASE("nccl tuner: one H100 node, all-reduce", "[nccl]") {
  const CommShape s = shape_on("dgx-h100", 1, 8);
  const NcclTopology t = nccl_topology(s, {});
  const auto c = nccl_candidates(t, s, CommPattern::AllReduce, 256 * kMiB, {});
  // Ring/Simple: bus 12 x 30 = 360, algorithm bandwidth 360 x 8/14 = 205.71 GB/s; latency
  // 8.4 + 2 x 7 steps x 3.4 = 56.0 us.
  const NcclChoice* ring = find(c, NcclAlgorithm::Ring, NcclProtocol::Simple);
  REQUIRE(ring);
  CHECK(ring->bandwidth_Bps == Approx(360e9 * 8 / 14));
  CHECK(ring->latency_s == Approx(56.0e-6));
  // Ring/LL: bus min(llMaxBw Hopper 141, 0.5 x 360) = 141 -> 80.57; latency 6.6 + 14 x 0.6 = 15.0.
  const NcclChoice* ll = find(c, NcclAlgorithm::Ring, NcclProtocol::LL);
  REQUIRE(ll);
  CHECK(ll->bandwidth_Bps == Approx(141e9 * 8 / 14));
  CHECK(ll->latency_s == Approx(15.0e-6));
  // NVLS: 40 x 0.85 x 7/8 x 2 = 59.5 per head (< inter 60), x 8 heads = 476 bus, x 8/14 = 272;
  // latency 25 us. The Azure 8 x H100 all-reduce reaches 478.9 GB/s busbw at 8 GB.
  const NcclChoice* nvls = find(c, NcclAlgorithm::Nvls, NcclProtocol::Simple);
  REQUIRE(nvls);
  CHECK(nvls->bandwidth_Bps == Approx(476e9 * 8 / 14));
  CHECK(nvls->latency_s == Approx(25e-6));
  CHECK(nvls->channels == 16);
  // Tree/LL: bus min(0.92 x 360, 12 x 38.7) = 331.2, / 3.8 = 87.16 (< 141), x 0.5 = 43.58;
  // latency 6.8 + 2 x 7 x 0.6 = 15.2; at 256 MiB (log2(256Mi/64) = 22) corrected x 1.0.
  const NcclChoice* tree_ll = find(c, NcclAlgorithm::Tree, NcclProtocol::LL);
  REQUIRE(tree_ll);
  CHECK(tree_ll->bandwidth_Bps == Approx(331.2e9 / 3.8 * 0.5));
  CHECK(tree_ll->latency_s == Approx(15.2e-6));
  // The choice: NVLS at 256 MiB (25 + 268435456 / 272e3 = 1012 us vs ring 56 + 1305).
  CHECK(nccl_choose(t, s, CommPattern::AllReduce, 256 * kMiB, {})->algorithm == NcclAlgorithm::Nvls);
  // At 1 MiB: Ring/LL 15.0 + 1048576 / 80.57e3 = 28.0 us beats NVLS 25 + 3.85 = 28.9.
  const NcclChoice small = *nccl_choose(t, s, CommPattern::AllReduce, 1 * kMiB, {});
  CHECK(small.algorithm == NcclAlgorithm::Ring);
  CHECK(small.protocol == NcclProtocol::LL);
  CHECK(small.time_s() == Approx(15.0e-6 + kMiB / (141e9 * 8 / 14)));
}

TEST_CASE("nccl tuner: one H100 node, all-gather takes the ring", "[nccl]") {
  const CommShape s = shape_on("dgx-h100", 1, 8);
  const NcclTopology t = nccl_topology(s, {});
  const auto c = nccl_candidates(t, s, CommPattern::AllGather, 512 * kMiB, {});
  // Ring/Simple: bus 360 x 8/7 = 411.4 over the gathered bytes; latency 8.4 + 7 x 3.4 = 32.2.
  const NcclChoice* ring = find(c, NcclAlgorithm::Ring, NcclProtocol::Simple);
  REQUIRE(ring);
  CHECK(ring->bandwidth_Bps == Approx(360e9 * 8 / 7));
  CHECK(ring->latency_s == Approx(32.2e-6));
  // NVLS all-gather: 40 x 0.85 x 7/8 x 7/8 = 26.03 per head, 208.25 total, no conversion.
  const NcclChoice* nvls = find(c, NcclAlgorithm::Nvls, NcclProtocol::Simple);
  REQUIRE(nvls);
  CHECK(nvls->bandwidth_Bps == Approx(8 * 40 * 0.85 * 7.0 / 8 * 7.0 / 8 * 1e9));
  CHECK(nccl_choose(t, s, CommPattern::AllGather, 512 * kMiB, {})->algorithm == NcclAlgorithm::Ring);
  CHECK(find(c, NcclAlgorithm::Tree, NcclProtocol::Simple) == nullptr);  // tree is all-reduce only
}

TEST_CASE("nccl tuner: NVLS other than all-reduce takes at most 32 local ranks", "[nccl]") {
  // enqueue.cc updateCollCostTable skips NVLS for any function but all-reduce when localRanks >
  // NCCL_MAX_NVLS_ARITY (32): one NVL72 rack of 72 ranks all-gathers without it, all-reduces with it.
  const CommShape rack = shape_on("gb200-nvl72", 1, 72);
  const NcclTopology t = nccl_topology(rack, {});
  CHECK(find(nccl_candidates(t, rack, CommPattern::AllGather, 1024 * kMiB, {}), NcclAlgorithm::Nvls,
             NcclProtocol::Simple) == nullptr);
  CHECK(find(nccl_candidates(t, rack, CommPattern::ReduceScatter, 1024 * kMiB, {}), NcclAlgorithm::Nvls,
             NcclProtocol::Simple) == nullptr);
  CHECK(find(nccl_candidates(t, rack, CommPattern::AllReduce, 1024 * kMiB, {}), NcclAlgorithm::Nvls,
             NcclProtocol::Simple) != nullptr);
  // 32 local ranks of the rack keep it.
  const CommShape part = shape_on("gb200-nvl72", 1, 32);
  CHECK(find(nccl_candidates(nccl_topology(part, {}), part, CommPattern::AllGather, 1024 * kMiB, {}), NcclAlgorithm::Nvls,
             NcclProtocol::Simple) != nullptr);
}

TEST_CASE("nccl tuner: four H100 nodes, all-reduce", "[nccl]") {
  const CommShape s = shape_on("dgx-h100", 4, 8);
  const NcclTopology t = nccl_topology(s, {});
  const auto c = nccl_candidates(t, s, CommPattern::AllReduce, 64 * kMiB, {});
  // Ring/Simple: 62 steps, 6 of them between nodes: 8.4 + 56 x max(3.4, 3 x 1.0) + 6 x 14 =
  // 282.8 us, x 1.4 when bytes / (16 ch x 32 ranks) >= 64; bus 8 x 48 = 384, x 32/62 = 198.2.
  const NcclChoice* ring = find(c, NcclAlgorithm::Ring, NcclProtocol::Simple);
  REQUIRE(ring);
  CHECK(ring->latency_s == Approx(282.8e-6 * 1.4));
  CHECK(ring->bandwidth_Bps == Approx(384e9 * 32 / 62));
  // Tree/Simple: bus min(0.92 x 384, 8 x 36.0) = 288, x 0.5 = 144, x tree correction at
  // log2(64Mi/64) = 20 (Simple: .8); latency 8.4 + 2 x (7 x 4.0 + 2 x 14) = 120.4.
  const NcclChoice* tree = find(c, NcclAlgorithm::Tree, NcclProtocol::Simple);
  REQUIRE(tree);
  CHECK(tree->bandwidth_Bps == Approx(144e9 * 0.8));
  CHECK(tree->latency_s == Approx(120.4e-6));
  // NVLSTree: min(59.5, 48, perChMaxNVLSTreeBw 45.5) x 8 = 364, x 32/62 = 187.9; latency
  // 25 + 2 x 2 x 20.9 = 108.6. Multi-node NVLS (without CollNet) is not offered.
  const NcclChoice* nvls_tree = find(c, NcclAlgorithm::NvlsTree, NcclProtocol::Simple);
  REQUIRE(nvls_tree);
  CHECK(nvls_tree->bandwidth_Bps == Approx(364e9 * 32 / 62));
  CHECK(nvls_tree->latency_s == Approx(108.6e-6));
  CHECK(find(c, NcclAlgorithm::Nvls, NcclProtocol::Simple) == nullptr);
  // At 64 MiB NVLSTree wins: 108.6 + 67108864 / 187.9e3 = 465.8 us (tree 120.4 + 582.5,
  // ring 395.9 + 338.6).
  CHECK(nccl_choose(t, s, CommPattern::AllReduce, 64 * kMiB, {})->algorithm == NcclAlgorithm::NvlsTree);
}

TEST_CASE("nccl tuner: PAT at one rank per node, masks, and no algorithm left", "[nccl]") {
  const CommShape s = shape_on("dgx-h100", 16, 1);
  const NcclTopology t = nccl_topology(s, {});
  const auto c = nccl_candidates(t, s, CommPattern::ReduceScatter, 16 * kMiB, {});
  // One rank per node: 1 rail, 2 x 24 after duplication (bus 48); PAT 0.75 x 48 = 36, no
  // conversion; latency 8 + floor(log2 16) x 14 / 3.5 + 2.8 x 16 = 8 + 16 + 44.8 = 68.8.
  const NcclChoice* pat = find(c, NcclAlgorithm::Pat, NcclProtocol::Simple);
  REQUIRE(pat);
  CHECK(pat->bandwidth_Bps == Approx(36e9));
  CHECK(pat->latency_s == Approx(68.8e-6));
  // Ring/Simple: 8.4 + 15 x 14 (interLat = the Tree row at ppn 1, 14) = 218.4; 48 x 16/15.
  const NcclChoice* ring = find(c, NcclAlgorithm::Ring, NcclProtocol::Simple);
  REQUIRE(ring);
  CHECK(ring->latency_s == Approx(218.4e-6));
  // 4 MiB: PAT 68.8 + 4194304 / 36e3 = 185.3 us; Ring/LL128 14 + 15 x 8.5 = 141.5 plus
  // 4194304 / (0.92 x 48 x 16/15 = 47.1e3) = 230.6; Ring/LL 81.6 + 192.8; Ring/Simple 218.4 + 81.9.
  CHECK(nccl_choose(t, s, CommPattern::ReduceScatter, 4 * kMiB, {})->algorithm == NcclAlgorithm::Pat);
  // 16 MiB: LL128's bandwidth wins: 141.5 + 356.2 = 497.7 us against PAT 68.8 + 466.0 = 534.8.
  const NcclChoice big = *nccl_choose(t, s, CommPattern::ReduceScatter, 16 * kMiB, {});
  CHECK(big.algorithm == NcclAlgorithm::Ring);
  CHECK(big.protocol == NcclProtocol::LL128);
  // NCCL_ALGO=ring and NCCL_PROTO=Simple leave only Ring/Simple.
  NcclSettings ring_only;
  ring_only.algorithms = {NcclAlgorithm::Ring};
  ring_only.protocols = {NcclProtocol::Simple};
  const auto forced = nccl_candidates(t, s, CommPattern::ReduceScatter, 16 * kMiB, ring_only);
  REQUIRE(forced.size() == 1);
  CHECK(forced[0].algorithm == NcclAlgorithm::Ring);
  // NCCL_ALGO=tree has nothing for reduce-scatter: NCCL >= 2.24 fails the call.
  NcclSettings tree_only;
  tree_only.algorithms = {NcclAlgorithm::Tree};
  CHECK_FALSE(nccl_choose(t, s, CommPattern::ReduceScatter, 16 * kMiB, tree_only).has_value());
}

TEST_CASE("nccl p2p: channels per send from NCCL's per-op rule", "[nccl]") {
  // One H100 node, 8 ranks: per peer 32, per-op minimum halved until x 8 ranks <= 32 -> 4;
  // a 32 MiB send: min(4, 32Mi / 64Ki) = 4 channels, parts of 8 MiB <= 32 x 512 KiB: stays 4;
  // 4 x 30 GB/s (the node's per-channel ring bandwidth) = 120 GB/s.
  const CommShape one = shape_on("dgx-h100", 1, 8);
  const NcclChoice send = p2p_choice(nccl_topology(one, {}), one, 32 * kMiB, false);
  CHECK(send.channels == 4);
  CHECK(send.bandwidth_Bps == Approx(120e9));
  // 256 MiB: 64 MiB per channel > 16 MiB, doubles to 16 (4 MiB... x 16 = 256 MiB / 16 = 16 MiB).
  CHECK(p2p_choice(nccl_topology(one, {}), one, 256 * kMiB, false).channels == 16);
  // Two H100 nodes, 16 ranks: per peer 2, minimum 2 x 16 > 16 -> 1; 32 MiB / 1 > 128 KiB
  // doubles to 2 (the per-peer limit); over the network 2 x 48 = 96 GB/s, more than a NIC;
  // to an NVLink neighbour in the same communicator 2 x 30 = 60 GB/s.
  const CommShape two = shape_on("dgx-h100", 2, 8);
  CHECK(p2p_choice(nccl_topology(two, {}), two, 32 * kMiB, true).bandwidth_Bps == Approx(96e9));
  CHECK(p2p_choice(nccl_topology(two, {}), two, 32 * kMiB, false).bandwidth_Bps == Approx(60e9));
  // Up to the per-peer budget x 16 KiB (NCCL_P2P_LL_THRESHOLD) a send runs LL, its step 64 KiB:
  // 100 KiB on one node of 2 ranks (per peer 32, so LL up to 512 KiB; the per-op budget halved
  // until x 2 ranks <= 32 p2p channels: 16) at 8 KiB a minimal part: min(16, divUp(100 Ki, 8 Ki))
  // = 13 channels, each at half the per-channel speed (LL's lines carry half data): 13 x 15 GB/s.
  const CommShape pair = shape_on("dgx-h100", 1, 2);
  const NcclChoice small = p2p_choice(nccl_topology(pair, {}), pair, 100 * 1024, false);
  CHECK(small.protocol == NcclProtocol::LL);
  CHECK(small.channels == 13);
  CHECK(small.bandwidth_Bps == Approx(13 * 15e9));
  // Above it, Simple: 1 MiB at 64 KiB a minimal part (512 KiB / 8): min(16, 16) = 16 channels;
  // 513 KiB rounds up (divUp): min(16, divUp(513 Ki, 64 Ki) = 9) = 9, where rounding down gave 8.
  CHECK(p2p_choice(nccl_topology(pair, {}), pair, 1024 * 1024, false).protocol == NcclProtocol::Simple);
  CHECK(p2p_choice(nccl_topology(pair, {}), pair, 1024 * 1024, false).channels == 16);
  CHECK(p2p_choice(nccl_topology(pair, {}), pair, 513 * 1024, false).channels == 9);
  // One PCIe node (L40S, 2 ranks; per peer 2, LL up to 32 KiB): the step is 128 KiB but the parts
  // are one node's, 16 KiB .. 4 MiB: 40 KiB takes divUp(40, 16) = 3 -> the per-op 2 channels.
  const CommShape pcie = shape_on("l40s-pcie", 1, 2);
  CHECK(p2p_choice(nccl_topology(pcie, {}), pcie, 40 * 1024, false).protocol == NcclProtocol::Simple);
  CHECK(p2p_choice(nccl_topology(pcie, {}), pcie, 40 * 1024, false).channels == 2);
}

TEST_CASE("NVLS all-reduce chunks and pipeline follow NCCL's chunk schedule", "[nccl]") {
  // calcCollChunking, one channel's bytes P, 8 heads: 128 KiB; 64 KiB below 64 x 8 x 128 KiB =
  // 64 MiB; then 32 KiB below 8 x 8 x 64 KiB = 4 MiB; then 16 KiB below 2 x 8 x 32 KiB = 512 KiB.
  constexpr double KiB = 1024, MiB = 1024 * KiB;
  CHECK(nvls_chunk_bytes(64 * MiB, 8) == 128 * 1024);
  CHECK(nvls_chunk_bytes(64 * MiB - 1, 8) == 64 * 1024);
  CHECK(nvls_chunk_bytes(4 * MiB, 8) == 64 * 1024);
  CHECK(nvls_chunk_bytes(4 * MiB - 1, 8) == 32 * 1024);
  CHECK(nvls_chunk_bytes(512 * KiB, 8) == 32 * 1024);
  CHECK(nvls_chunk_bytes(512 * KiB - 1, 8) == 16 * 1024);
  // 8 MiB over 16 channels: 512 KiB each, 32 KiB chunks, 8 x 32 KiB per iteration: I = 2, and
  // the three-stage pipeline takes 4 stage times for 2 iterations' worth of bytes.
  CHECK(nvls_iterations(8 * MiB, 16, 8) == 2);
  CHECK(nvls_pipeline_stretch(8 * MiB, 16, 8) == Approx(2.0));
  // 8 GiB: 512 MiB per channel, 128 KiB chunks: I = 512, stretch 514 / 512.
  CHECK(nvls_iterations(8 * 1024 * MiB, 16, 8) == 512);
  CHECK(nvls_pipeline_stretch(8 * 1024 * MiB, 16, 8) == Approx(514.0 / 512));
  // Below one iteration: one, and the three stages take the bytes in turn: 3x.
  CHECK(nvls_iterations(1 * MiB, 16, 8) == 1);
  CHECK(nvls_pipeline_stretch(1 * MiB, 16, 8) == Approx(3.0));
  // A partial last iteration takes its share of a stage time: 4 MiB + 16 bytes over 16 channels is
  // 256 KiB + 1 byte each, 16 KiB chunks (below 512 KiB), 128 KiB an iteration: x = 2 + 1/131072,
  // stretch (x + 2) / x, just under 2 (it was (3 + 2) / 3, 5/3: the call ran faster for the byte).
  const double x = 2 + 1.0 / 131072;
  CHECK(nvls_iterations(4 * MiB + 16, 16, 8) == 3);
  CHECK(nvls_pipeline_stretch(4 * MiB + 16, 16, 8) == Approx((x + 2) / x).epsilon(1e-12));
  // Time = bandwidth term x stretch never falls as bytes grow (here at 4 KiB steps over 1-64 MiB).
  double last = 0;
  for (double b = MiB; b <= 64 * MiB; b += 4 * KiB) {
    const double t = b * nvls_pipeline_stretch(b, 16, 8);
    CHECK(t >= last);
    last = t;
  }
}

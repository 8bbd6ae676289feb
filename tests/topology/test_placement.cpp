// Rank placement in Megatron order and its printout, on the seed's option A.
#include <catch2/catch.hpp>

#include "tests/topology/cluster_specs.hpp"
#include "topology/placement.hpp"

using namespace hcpsim;
using namespace hcpsim::test;

TEST_CASE("topology: option A places HCP a2a groups in nodes and ring pairs across", "[topology]") {
  // Seed option A: TP1, CP16, HCP [8,2] on 4 nodes x 8 GPUs -> DP = 32 / 16 = 2.
  const ClusterGraph g = build_cluster_graph(make_cluster({.nodes = 4}));
  const RankLayout layout{.tp = 1, .cp = 16, .dp = 2, .pp = 1};
  const Placement p = megatron_placement(g, layout);
  for (int64_t r = 0; r < 32; ++r) {
    const RankLocation loc = locate(g, p, r);
    REQUIRE(loc.node == r / 8);
    REQUIRE(loc.local_gpu == r % 8);
    REQUIRE(loc.rail == r % 8);
    for (int64_t peer : layout.hcp_a2a_group(r, 8)) REQUIRE(locate(g, p, peer).node == loc.node);
    for (int64_t peer : layout.hcp_p2p_group(r, 8))
      if (peer != r) {
        REQUIRE(locate(g, p, peer).node != loc.node);
        REQUIRE(locate(g, p, peer).rail == loc.rail);  // ring pairs are rail-aligned
      }
  }
  const std::string text = format_placement(g, p, layout, 8);
  INFO(text);
  REQUIRE(text.find("HCP a2a groups (8 ranks): {0..7} {8..15} {16..23} {24..31}: inside a node") !=
          std::string::npos);
  REQUIRE(text.find("HCP ring groups (2 ranks): {0,8} {1,9} {2,10}") != std::string::npos);
  REQUIRE(text.find("{6,14} {7,15} ...: across nodes") != std::string::npos);
  REQUIRE(text.find("CP groups (16 ranks): {0..15} {16..31}: across nodes") != std::string::npos);
  // Row of rank 9: node 1, GPU 1, rail 1, tp 0, cp 9, dp 0, pp 0.
  REQUIRE(text.find("     9     1     1     1    0    9    0    0  {8..15}      {1,9}") != std::string::npos);
}

TEST_CASE("topology: a pipeline's groups are listed, stage 0 first", "[topology]") {
  // TP2 x CP2 x DP2 x PP4 on 4 nodes x 8 GPUs, Megatron order tp-cp-dp-pp (TP fastest):
  // rank = tp + 2 cp + 4 dp + 8 pp. A pipeline keeps tp, cp, dp and steps pp: {r, r+8, r+16, r+24},
  // one stage a node (8 ranks a stage = 8 GPUs a node), so every pipeline crosses nodes. The
  // gradients' group keeps tp and pp and spans cp and dp: {0,2,4,6}, inside node 0.
  const ClusterGraph g = build_cluster_graph(make_cluster({.nodes = 4}));
  const RankLayout layout{.tp = 2, .cp = 2, .dp = 2, .pp = 4};
  const std::string text = format_placement(g, megatron_placement(g, layout), layout, 1);
  INFO(text);
  CHECK(text.find("PP groups (stage 0 first; stage-to-stage transfers) (4 ranks): {0,8,16,24} {1,9,17,25}") !=
        std::string::npos);
  CHECK(text.find("{7,15,23,31}: across nodes") != std::string::npos);
  CHECK(text.find("DP x CP groups (the gradients' reduction) (4 ranks): {0,2,4,6} {1,3,5,7} {8,10,12,14}") !=
        std::string::npos);
  CHECK(text.find("{25,27,29,31}: inside a node") != std::string::npos);
}

TEST_CASE("topology: placement refuses more ranks than GPUs and bad HCP sizes", "[topology]") {
  const ClusterGraph g = build_cluster_graph(make_cluster({.nodes = 1}));
  REQUIRE_THROWS_AS(megatron_placement(g, RankLayout{.tp = 2, .cp = 8}), std::invalid_argument);
  const RankLayout layout{.tp = 2, .cp = 4};
  const Placement p = megatron_placement(g, layout);
  REQUIRE_THROWS_AS(format_placement(g, p, layout, 3), std::invalid_argument);
  REQUIRE(format_group({0, 1}) == "{0,1}");
  REQUIRE(format_group({4, 5, 6}) == "{4..6}");
  REQUIRE(format_group({1, 3, 5}) == "{1,3,5}");
}

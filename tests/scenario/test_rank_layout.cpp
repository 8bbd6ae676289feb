// Rank order tp-cp-ep-dp-pp and the HCP groups (docs/cp-transports.md §5.3).
#include <catch2/catch.hpp>

#include "scenario/rank_layout.hpp"

using namespace hcpsim;

TEST_CASE("rank order is tp-cp-dp-pp with TP fastest", "[model][layout]") {
  RankLayout L{.tp = 2, .cp = 4, .dp = 3, .pp = 1};
  REQUIRE(L.world_size() == 24);
  // rank = tp + TP*(cp + CP*dp): (tp=1, cp=2, dp=1) -> 1 + 2*(2 + 4*1) = 13.
  REQUIRE(L.rank_of({.tp = 1, .cp = 2, .dp = 1, .pp = 0}) == 13);
  for (int64_t r = 0; r < L.world_size(); ++r) REQUIRE(L.rank_of(L.coord_of(r)) == r);
  // CP neighbours are TP ranks apart.
  REQUIRE(L.cp_group(13) == std::vector<int64_t>{9, 11, 13, 15});
  REQUIRE(L.tp_group(13) == std::vector<int64_t>{12, 13});
  REQUIRE(L.dp_group(13) == std::vector<int64_t>{5, 13, 21});
  REQUIRE(L.dp_cp_group(13).size() == 12);
}

TEST_CASE("HCP [8,2] on 16 ranks: a2a groups in nodes, ring pairs across", "[model][layout]") {
  // Seed option A: TP1, CP16, sizes [8,2]: a2a {0..7},{8..15}; p2p {0,8},{1,9},...
  RankLayout L{.tp = 1, .cp = 16, .dp = 1, .pp = 1};
  for (int64_t c = 0; c < 16; ++c) {
    const auto a2a = L.hcp_a2a_group(c, 8);
    const auto p2p = L.hcp_p2p_group(c, 8);
    REQUIRE(a2a.size() == 8);
    REQUIRE(a2a.front() == (c / 8) * 8);   // consecutive CP ranks
    REQUIRE(a2a[c % 8] == c);              // a2a rank = c mod A
    REQUIRE(p2p == std::vector<int64_t>{c % 8, c % 8 + 8});
    REQUIRE(p2p[c / 8] == c);              // ring rank = c div A
  }
}

// Megatron's rank order tp-cp-ep-dp-pp (TP fastest; EP = 1 here):
//   rank = tp + TP * (cp + CP * (dp + DP * pp))
// and the process groups derived from it (parallel_state.py RankGenerator),
// including the hierarchical CP groups of create_hierarchical_groups:
// flat CP rank c has inner (a2a) rank c mod A and outer (p2p) rank c div A.
#pragma once

#include <cstdint>
#include <vector>

#include "scenario/scenario.hpp"

namespace hcpsim {

struct RankCoord {
  int64_t tp = 0, cp = 0, dp = 0, pp = 0;
};

struct RankLayout {
  int64_t tp = 1, cp = 1, dp = 1, pp = 1;

  int64_t world_size() const { return tp * cp * dp * pp; }
  int64_t rank_of(const RankCoord& c) const { return c.tp + tp * (c.cp + cp * (c.dp + dp * c.pp)); }
  RankCoord coord_of(int64_t rank) const;

  // Global ranks of the groups that `rank` belongs to, in group-rank order.
  std::vector<int64_t> tp_group(int64_t rank) const;
  std::vector<int64_t> cp_group(int64_t rank) const;
  std::vector<int64_t> dp_group(int64_t rank) const;
  std::vector<int64_t> pp_group(int64_t rank) const;     // the rank's pipeline, stage 0 first
  std::vector<int64_t> dp_cp_group(int64_t rank) const;  // DATA_PARALLEL_GROUP_WITH_CP
  // Hierarchical CP with inner size a2a_size (first entry of
  // hierarchical_context_parallel_sizes): consecutive flat CP ranks form the
  // inner a2a group; ranks a2a_size apart form the outer p2p ring.
  std::vector<int64_t> hcp_a2a_group(int64_t rank, int64_t a2a_size) const;
  std::vector<int64_t> hcp_p2p_group(int64_t rank, int64_t a2a_size) const;
};

// The layout a validated scenario runs: TP x CP x DP x PP of its parallel section.
RankLayout rank_layout_of(const ParallelSpec& p);

}  // namespace hcpsim

// Rank -> GPU placement and its printable form (--show-placement).
//
// Megatron's default placement is the identity in its rank order tp-cp-ep-dp-pp
// (TP fastest): global rank g runs on GPU g, i.e. node g / gpus_per_node, local
// GPU g % gpus_per_node, and (with one NIC per GPU) rail = local GPU. So TP
// groups and the inner HCP a2a groups of consecutive CP ranks fill nodes first.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "scenario/rank_layout.hpp"
#include "topology/cluster_graph.hpp"

namespace hcpsim {

struct Placement {
  std::vector<int64_t> gpu_of_rank;
  int64_t world_size() const { return static_cast<int64_t>(gpu_of_rank.size()); }
};

struct RankLocation {
  int64_t rank = 0, gpu = 0, node = 0, local_gpu = 0;
  int64_t rail = -1;  // NIC index inside the node (-1 without NICs)
};

// Identity placement of layout.world_size() ranks. Throws std::invalid_argument
// when the layout needs more GPUs than the cluster has (spare GPUs stay idle).
Placement megatron_placement(const ClusterGraph& g, const RankLayout& layout);

RankLocation locate(const ClusterGraph& g, const Placement& p, int64_t rank);

// One row per rank (node, GPU, rail, TP/CP/DP/PP coordinates, HCP a2a and ring
// groups), then one line per group kind listing its groups and whether each
// stays inside a node. a2a_size is the first HCP entry (1 for plain p2p, CP
// for plain a2a); throws std::invalid_argument unless it divides CP.
std::string format_placement(const ClusterGraph& g, const Placement& p, const RankLayout& layout, int64_t a2a_size);

// "{0..7}" for a run of consecutive ranks longer than two, else "{0,8}".
std::string format_group(const std::vector<int64_t>& ranks);

}  // namespace hcpsim

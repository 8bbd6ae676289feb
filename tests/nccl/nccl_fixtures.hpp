// Communicators on the presets' nodes, for the NCCL model's tests.
#pragma once

#include <vector>

#include "nccl/comm_shape.hpp"
#include "scenario/presets.hpp"

namespace hcpsim::test {

// `nodes` x `per_node` ranks on preset `preset`, local GPUs 0..per_node-1, one NIC per GPU
// (rail = local GPU) unless `nics` < GPUs per node (then GPU g uses NIC g * nics / gpus).
inline CommShape shape_on(const char* preset, int64_t nodes, int64_t per_node, int64_t nics = -1) {
  ClusterSpec c = find_cluster_preset(preset)->spec;
  if (nics >= 0) c.inter_node.nics_per_node = nics;
  std::vector<RankLocation> members;
  for (int64_t n = 0; n < nodes; ++n)
    for (int64_t g = 0; g < per_node; ++g) {
      RankLocation l;
      l.rank = static_cast<int64_t>(members.size());
      l.node = n;
      l.local_gpu = g;
      l.gpu = n * c.gpus_per_node + g;
      l.rail = c.inter_node.nics_per_node > 0 ? g * c.inter_node.nics_per_node / c.gpus_per_node : -1;
      members.push_back(l);
    }
  return comm_shape(nccl_node(c), members);
}

}  // namespace hcpsim::test

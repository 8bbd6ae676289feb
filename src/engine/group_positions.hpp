// A rank's position in each process group, found in O(1) (groups of thousands
// of ranks make linear searches per op quadratic). Pure: no SimGrid.
#pragma once

#include <cstdint>
#include <span>
#include <unordered_map>

#include "workload/workload.hpp"

namespace hcpsim {

class GroupPositions {
 public:
  explicit GroupPositions(std::span<const ProcessGroup> groups) {
    size_t total = 0;
    for (const ProcessGroup& g : groups) total += g.ranks.size();
    positions_.reserve(total);
    for (size_t g = 0; g < groups.size(); ++g)
      for (size_t i = 0; i < groups[g].ranks.size(); ++i)
        positions_.emplace(key(static_cast<int32_t>(g), groups[g].ranks[i]), static_cast<int32_t>(i));
  }
  // Position of `rank` in groups[group].ranks; -1 when it is not a member or the group does not exist.
  int32_t position(int32_t group, int32_t rank) const {
    const auto it = positions_.find(key(group, rank));
    return it == positions_.end() ? -1 : it->second;
  }

 private:
  static uint64_t key(int32_t group, int32_t rank) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(group)) << 32) | static_cast<uint32_t>(rank);
  }
  std::unordered_map<uint64_t, int32_t> positions_;  // looked up only, never iterated
};

}  // namespace hcpsim

// The median of a sample, one definition for the fit, the check and the replays.
#pragma once

#include <algorithm>
#include <cassert>
#include <vector>

namespace hcpsim {

// The middle value of `v` (the mean of the two middle ones for an even count); `v` not empty.
inline double median(std::vector<double> v) {
  assert(!v.empty());
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace hcpsim

// Per-GPU memory in words: the breakdown of the peak phase, then peak, capacity, headroom.
#pragma once

#include <string>

#include "memory/estimate.hpp"

namespace hcpsim {

// A small aligned table in GB (1e9 bytes): the breakdown, then peak, capacity, headroom.
std::string format_memory(const MemoryEstimate& m);

}  // namespace hcpsim

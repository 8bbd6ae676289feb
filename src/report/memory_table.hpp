// Per-GPU memory in words: the breakdown of the peak phase, then peak, capacity, headroom.
#pragma once

#include <string>

#include "memory/estimate.hpp"

namespace hcpsim {

// A small aligned table in GB (1e9 bytes): the breakdown, then peak, capacity, headroom.
std::string format_memory(const MemoryEstimate& m);

// What the allocator margin row rests on: the allocator, and the largest allocation it follows.
std::string allocator_margin_note(const MemoryEstimate& m);

}  // namespace hcpsim

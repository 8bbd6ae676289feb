#include "memory/allocator_margin_words.hpp"

#include "common/strprintf.hpp"
#include "rules/allocator.hpp"

namespace hcpsim {

std::string allocator_margin_basis(const MemoryEstimate& m) {
  if (m.expandable_segments)
    return strprintf("PyTorch's caching allocator with expandable_segments, measured %.2f-%.2f GB",
                     rules::kExpandableSegmentsLowestMeasuredBytes / 1e9, rules::kExpandableSegmentsMarginBytes / 1e9);
  return strprintf("PyTorch's default caching allocator, %.2fx its largest allocation, %s (%.2f GB); measured %.2f-%.2fx",
                   rules::kDefaultAllocatorMedianPerLargest, m.largest_allocation.c_str(),
                   m.largest_allocation_bytes / 1e9, rules::kDefaultAllocatorLowPerLargest,
                   rules::kDefaultAllocatorHighPerLargest);
}

std::string allocator_margin_words(const MemoryEstimate& m) {
  const std::string where =
      m.stage_peak_bytes.empty() ? std::string() : strprintf(" on stage %d", int(m.allocator_margin_stage));
  const double headroom = m.allocator_stage_headroom_bytes;
  const int digits = m.expandable_segments ? 2 : 1;  // the expandable margin is a quarter of a GB
  std::string w = strprintf("%.*f GB of headroom%s is less than the allocator's margin beyond a step's allocations, "
                            "%.*f GB (%s)",
                            digits, headroom / 1e9, where.c_str(), digits, m.allocator_margin_bytes / 1e9,
                            allocator_margin_basis(m).c_str());
  const bool expandable_helps = !m.expandable_segments && headroom >= rules::kExpandableSegmentsMarginBytes;
  w += ". It may run out: ";
  if (expandable_helps)
    w += strprintf("set PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True (software.expandable_segments: a margin of "
                   "%.2f GB), or ",
                   rules::kExpandableSegmentsMarginBytes / 1e9);
  w += "leave more memory (recompute, more TP, CP or PP)";
  return w;
}

}  // namespace hcpsim

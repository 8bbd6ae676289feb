#include "memory/allocator_margin_words.hpp"

#include "common/strprintf.hpp"
#include "memory/relief_words.hpp"
#include "rules/allocator.hpp"

namespace hcpsim {

std::string allocator_margin_basis(const MemoryEstimate& m, int digits) {
  if (m.expandable_segments)
    return strprintf("what PyTorch's caching allocator with expandable_segments needed beyond a step's allocations, "
                     "measured %.2f-%.2f GB in %d settings",
                     rules::kExpandableSegmentsLowestMeasuredBytes / 1e9, rules::kExpandableSegmentsMarginBytes / 1e9,
                     rules::kExpandableSegmentsSettingsMeasured);
  return strprintf("%.2fx the step's largest allocation (%s, %.*f GB) with PyTorch's default caching allocator; the "
                   "need beyond a step's allocations measured %.2f-%.2fx that allocation in %d settings",
                   rules::kDefaultAllocatorMedianPerLargest, m.largest_allocation.c_str(), digits,
                   m.largest_allocation_bytes / 1e9, rules::kDefaultAllocatorLowPerLargest,
                   rules::kDefaultAllocatorHighPerLargest, rules::kDefaultAllocatorSettingsMeasured);
}

std::string allocator_margin_words(const MemoryEstimate& m, const Scenario& sc) {
  const std::string where =
      m.stage_peak_bytes.empty() ? std::string() : strprintf(" on stage %d", int(m.allocator_margin_stage));
  const double headroom = m.allocator_stage_headroom_bytes;
  const int digits = m.expandable_segments ? 2 : 1;  // the expandable margin is a quarter of a GB
  std::string w = strprintf("%.*f GB of headroom%s is less than the allocator's margin, %.*f GB: %s", digits,
                            headroom / 1e9, where.c_str(), digits, m.allocator_margin_bytes / 1e9,
                            allocator_margin_basis(m, digits).c_str());
  const bool expandable_helps = !m.expandable_segments && headroom >= rules::kExpandableSegmentsMarginBytes;
  w += ". It may run out: ";
  if (expandable_helps)
    w += strprintf("set PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True (software.expandable_segments: a margin of "
                   "%.2f GB); or ",
                   rules::kExpandableSegmentsMarginBytes / 1e9);
  w += "free memory: " + memory_relief_words(&sc);
  return w;
}

}  // namespace hcpsim

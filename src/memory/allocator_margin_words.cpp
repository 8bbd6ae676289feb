#include "memory/allocator_margin_words.hpp"

#include "common/strprintf.hpp"
#include "rules/allocator.hpp"

namespace hcpsim {

std::string allocator_margin_words(const MemoryEstimate& m) {
  const std::string where =
      m.stage_peak_bytes.empty() ? std::string() : strprintf(" on stage %d", int(m.allocator_margin_stage));
  const double headroom = m.allocator_stage_headroom_bytes;
  std::string w;
  if (m.expandable_segments)
    w = strprintf("%.2f GB of headroom%s is less than the %.2f GB PyTorch's caching allocator with expandable_segments "
                  "needed beyond a step's allocations in measurement",
                  headroom / 1e9, where.c_str(), m.allocator_margin_bytes / 1e9);
  else
    w = strprintf("%.1f GB of headroom%s is less than PyTorch's default caching allocator typically needs beyond a "
                  "step's allocations: %.2fx its largest allocation, here %s (%.1f GB), %.1f GB (measured %.2f-%.2fx)",
                  headroom / 1e9, where.c_str(), rules::kDefaultAllocatorMedianPerLargest, m.largest_allocation.c_str(),
                  m.largest_allocation_bytes / 1e9, m.allocator_margin_bytes / 1e9,
                  rules::kDefaultAllocatorLowPerLargest, rules::kDefaultAllocatorHighPerLargest);
  const bool expandable_helps = !m.expandable_segments && headroom >= rules::kExpandableSegmentsMarginBytes;
  w += ". It may run out: ";
  w += expandable_helps ? "set PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True (software.expandable_segments, measured "
                          "0.27 GB at most), or leave more memory (recompute, more TP, CP or PP)"
                        : "leave more memory (recompute, more TP, CP or PP)";
  return w;
}

}  // namespace hcpsim

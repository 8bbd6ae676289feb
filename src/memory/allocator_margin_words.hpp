// The caching allocator's margin in words (rules/allocator.hpp), one wording for the run's warning
// and the recommendation's: the headroom of the stage it is short on, what the margin rests on,
// and the advice that can help (expandable segments only where their own margin would fit).
#pragma once

#include <string>

#include "memory/estimate.hpp"

namespace hcpsim {

// What the margin rests on: the allocator, the largest allocation it follows (its GB to `digits`
// decimals) and the measured spread ("1.09x the step's largest allocation (the loss's fp32
// logits, 4.2 GB) with PyTorch's default caching allocator; the need ... measured ...").
std::string allocator_margin_basis(const MemoryEstimate& m, int digits);

// "0.4 GB of headroom is less than the allocator's margin, 4.6 GB: ... It may run out: ..." for an estimate whose
// fit is within the allocator's margin, with the ways to free memory that `sc` (the estimate's
// scenario) has left.
std::string allocator_margin_words(const MemoryEstimate& m, const Scenario& sc);

}  // namespace hcpsim

// The memory table as a user reads it: every breakdown row, then peak, capacity and
// headroom in GB (1e9 B), the allocator's margin and what it rests on, the phase totals.
#include <catch2/catch.hpp>

#include "report/memory_table.hpp"

using namespace hcpsim;

TEST_CASE("memory table: rows in GB, the verdict and the phases", "[report]") {
  MemoryEstimate m;
  m.peak_phase = "bwd.attention";
  m.breakdown = {{"weights", 16e9, "bf16"}, {"activations (saved)", 50.5e9, ""}};
  m.phases = {{"fwd.loss", 60e9}, {"bwd.attention", 66.5e9}};
  m.peak_bytes = 66.5e9;
  m.capacity_bytes = 80e9;
  m.headroom_bytes = 13.5e9;
  m.fits = true;
  m.largest_allocation_bytes = 4.2e9;
  m.allocator_margin_bytes = 1.09 * 4.2e9;
  m.largest_allocation = "the loss's fp32 logits";
  // "  %-26s %9.2f" per row, the note two spaces after.
  const std::string want =
      "memory per GPU (GB = 1e9 B), peak phase bwd.attention:\n"
      "  component                         GB  note\n"
      "  weights                        16.00  bf16\n"
      "  activations (saved)            50.50\n"
      "  peak                           66.50\n"
      "  capacity                       80.00\n"
      "  headroom                       13.50  fits\n"
      "  allocator margin                4.58  beyond the peak: 1.09x the step's largest allocation (the loss's fp32 "
      "logits, 4.20 GB) with PyTorch's default caching allocator; the need beyond a step's allocations measured "
      "0.12-2.34x that allocation in 19 settings; expandable_segments: 0.27 GB\n"
      "  phases: fwd.loss 60.00 bwd.attention 66.50\n";
  CHECK(format_memory(m) == want);
  m.headroom_bytes = -2e9;
  m.fits = false;
  CHECK_THAT(format_memory(m), Catch::Contains("  headroom                       -2.00  DOES NOT FIT\n"));
  m.headroom_bytes = m.allocator_stage_headroom_bytes = 3e9;  // below the 4.58 GB margin
  m.fits = m.within_allocator_margin = true;
  CHECK_THAT(format_memory(m), Catch::Contains("  headroom                        3.00  fits, but less than the allocator's "
                                               "margin: it may run out\n"));
  m.expandable_segments = true;
  m.allocator_margin_bytes = 268435456;
  m.within_allocator_margin = false;
  CHECK_THAT(format_memory(m), Catch::Contains("  allocator margin                0.27  beyond the peak: what PyTorch's "
                                               "caching allocator with expandable_segments needed beyond a step's "
                                               "allocations, measured 0.17-0.27 GB in 6 settings\n"));
  m.stage_peak_bytes = {66.5e9, 60e9};  // with PP the margin names its stage
  m.expandable_segments = false;
  m.allocator_margin_stage = 1;
  CHECK_THAT(format_memory(m), Catch::Contains("beyond the peak of stage 1: 1.09x the step's largest allocation (the "
                                               "loss's fp32 logits, 4.20 GB) with PyTorch's default caching allocator"));
  m.within_allocator_margin = true;
  CHECK_THAT(format_memory(m), Catch::Contains("fits, but stage 1 has 3.00 GB, less than the allocator's margin"));
}

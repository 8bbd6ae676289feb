// The memory table as a user reads it: every breakdown row, then peak, capacity and
// headroom in GB (1e9 B), the phase totals, and what is left out.
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
  // "  %-26s %9.2f" per row, the note two spaces after.
  const std::string want =
      "memory per GPU (GB = 1e9 B), peak phase bwd.attention:\n"
      "  component                         GB  note\n"
      "  weights                        16.00  bf16\n"
      "  activations (saved)            50.50\n"
      "  peak                           66.50\n"
      "  capacity                       80.00\n"
      "  headroom                       13.50  fits\n"
      "  phases: fwd.loss 60.00 bwd.attention 66.50\n"
      "  not included: allocator fragmentation\n";
  CHECK(format_memory(m) == want);
  m.headroom_bytes = -2e9;
  m.fits = false;
  CHECK_THAT(format_memory(m), Catch::Contains("  headroom                       -2.00  DOES NOT FIT\n"));
}

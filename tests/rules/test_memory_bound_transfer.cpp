// How a memory-bound kernel measured on one GPU runs on another (rules/memory_bound_transfer.hpp):
// the header's fraction form against its time form, t_G = t_R (s B_R / B_G + (1 - s) S_R / S_G),
// worked here by hand, and the share measured from two GPUs that differ in HBM bandwidth alone.
#include <catch2/catch.hpp>

#include "rules/memory_bound_transfer.hpp"

#include <algorithm>

using namespace hcpsim::rules;

namespace {

// The time form, independently of the header: the fraction of G's own bandwidth a kernel reaches
// on G, from its fraction on R and its share. bytes = 1: t_R = 1 / (B_R e_R).
double fraction_by_time(double e_ref, double share, double b_ref, double s_ref, double b_gpu, double s_gpu) {
  const double t_ref = 1 / (b_ref * e_ref);
  const double t_gpu = t_ref * (share * b_ref / b_gpu + (1 - share) * s_ref / s_gpu);
  return 1 / (b_gpu * t_gpu);
}

}  // namespace

TEST_CASE("memory-bound transfer: the fraction form equals the time form", "[rules][memory]") {
  // H200 (4.8 TB/s, 132 SMs x 1830 MHz) to B200 (8 TB/s, 148 x 1850) and to H100 (3.35 TB/s, 132 x 1830).
  const double b_h200 = 4.8e12, s_h200 = 132 * 1830.0;
  struct Gpu { double b, s; } gpus[] = {{8e12, 148 * 1850.0}, {3.35e12, 132 * 1830.0}, {2.039e12, 108 * 1410.0}};
  for (const Gpu& g : gpus)
    for (double share : {0.0, 0.19, 0.5, 1.0})
      for (double e_ref : {0.064, 0.24, 0.89}) {
        // Ceiling 1: an SM-bound 0.89 on a GPU of less bandwidth per SM would exceed its HBM bandwidth.
        const double k = memory_bound_k(b_h200, s_h200, g.b, g.s);
        CHECK(memory_bound_fraction_on(e_ref, share, k, 1.0) ==
              Approx(std::min(1.0, fraction_by_time(e_ref, share, b_h200, s_h200, g.b, g.s))).epsilon(1e-12));
      }
  // The H100 keeps the H200's SM rate: k is the bandwidth ratio alone, 3.35 / 4.8.
  CHECK(memory_bound_k(b_h200, s_h200, 3.35e12, s_h200) == Approx(3.35 / 4.8).epsilon(1e-15));
}

TEST_CASE("memory-bound transfer: the limits", "[rules][memory]") {
  // s = 1: the kernel is HBM-bound, the same fraction of any GPU's bandwidth.
  CHECK(memory_bound_fraction_on(0.3, 1.0, 1.7, 1.0) == Approx(0.3));
  // s = 0 on a GPU with the same SM rate: the same time, so the fraction scales by B_R / B_G = 1 / k.
  CHECK(memory_bound_fraction_on(0.3, 0.0, 3.35 / 4.8, 1.0) == Approx(0.3 * 4.8 / 3.35));
  // The same GPU (k = 1): the fraction it was measured at, whatever the share.
  CHECK(memory_bound_fraction_on(0.3, 0.4, 1.0, 1.0) == Approx(0.3));
  // Never faster than the copy: 0.8 / (0 + 1 x 0.5) = 1.6 is held at the ceiling 0.9.
  CHECK(memory_bound_fraction_on(0.8, 0.0, 0.5, 0.9) == 0.9);
  // An SM rate not known (k = 0): HBM-bound, the measured fraction.
  CHECK(memory_bound_k(4.8e12, 132 * 1830.0, 8e12, 0) == 0);
  CHECK(memory_bound_fraction_on(0.3, 0.0, 0.0, 1.0) == 0.3);
  // A share outside [0, 1] is clamped.
  CHECK(memory_bound_fraction_on(0.3, 1.7, 1.5, 1.0) == Approx(0.3));
}

TEST_CASE("memory-bound transfer: the share from two GPUs that differ in HBM alone", "[rules][memory]") {
  const double k = 3.35 / 4.8;
  // The header's worked example: RoPE's forward at 16384 tokens, 1132.8 us on the H200 and 1227.6 us on
  // the H100 for the same bytes: e_R / e_G = (t_G B_G) / (t_R B_R) = 1227.6 x 3.35 / (1132.8 x 4.8) =
  // 0.75632; s = (0.75632 - 0.69792) / (1 - 0.69792) = 0.1933.
  const double bytes = 343932928;
  const double e_h200 = bytes / (1132.8e-6 * 4.8e12), e_h100 = bytes / (1227.6e-6 * 3.35e12);
  CHECK(memory_bound_share(e_h200, e_h100, k) == Approx(0.1933).epsilon(2e-3));
  // Round trip: a share carried to the H100 and measured back.
  for (double s : {0.0, 0.25, 0.8, 1.0})
    CHECK(memory_bound_share(0.24, memory_bound_fraction_on(0.24, s, k, 1.0), k) == Approx(s).margin(1e-12));
  // A kernel that loses more than the bandwidth ratio is HBM-bound (1); one that gains, SM-bound (0).
  CHECK(memory_bound_share(0.7, 0.5, k) == 1.0);
  CHECK(memory_bound_share(0.3, 0.5, k) == 0.0);
  // GPUs too alike to tell HBM from SMs, or a fraction missing: not measured (-1).
  CHECK(memory_bound_share(0.3, 0.31, 0.97) == -1);
  CHECK(memory_bound_share(0.3, 0, k) == -1);
}

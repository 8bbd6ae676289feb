// Interference between NCCL's kernels and compute kernels on one GPU: the one definition the
// engine applies, the fit estimates and the check predicts with (docs/nccl.md, "Interference").
//
// NCCL runs one CTA per channel (512 threads, Simple/LL). hcpcal's interference suite (c) puts
// k such CTAs copying HBM to HBM beside attention, a GEMM and a device copy, and the k-CTA copy
// beside attention and the GEMM (calibrate/RESULTS.md, fifth run). What it shows, and what this
// model is:
//  - A compute kernel beside NCCL is slowed by a factor of its class (GEMM, attention,
//    memory-bound), independent of the channel count within the measurement's noise (HBM and
//    power, not SM share: spinning CTAs do not slow it).
//  - A transfer launched while a compute kernel holds the SMs is slowed by a factor that grows
//    with its channel count k (its CTAs wait for and share the kernel's SMs): comm_slowdown, a
//    table over k = 1 .. 32 per class, piecewise linear in log2 k, flat outside.
//  - A transfer launched just before the kernel (its CTAs resident first, as a CP ring's send
//    issued before the step's attention) is barely slowed: comm_shared_slowdown, the same kind
//    of table (measured 0.98-1.12 beside attention, 1.09-1.24 beside a GEMM).
// Plain C++17 (classes by index: 0 GEMM, 1 attention, 2 memory-bound, workload's ComputeClass
// order).
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>

namespace hcpsim {

inline constexpr int kInterferenceClasses = 3;  // GEMM, attention, memory-bound (elementwise, copies)
inline constexpr const char* kInterferenceClassNames[kInterferenceClasses] = {"gemm", "attention", "elementwise"};
inline constexpr int kInterferenceKnots = 6;    // channels 1, 2, 4, 8, 16, 32
inline constexpr int64_t kInterferenceChannels[kInterferenceKnots] = {1, 2, 4, 8, 16, 32};

struct InterferenceModel {
  // Compute kernel of class c beside any NCCL transfer: time x compute_slowdown[c] (>= 1).
  std::array<double, kInterferenceClasses> compute_slowdown{1, 1, 1};
  // A transfer of k channels beside a compute kernel of class c: rate / comm_slowdown[c][knot].
  std::array<std::array<double, kInterferenceKnots>, kInterferenceClasses> comm_slowdown{
      {{1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 1, 1}}};
  // The same, the transfer launched first and the kernel right after it.
  std::array<std::array<double, kInterferenceKnots>, kInterferenceClasses> comm_shared_slowdown{
      {{1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 1, 1}}};
};

inline double compute_slowdown(const InterferenceModel& m, int compute_class) {
  return std::max(1.0, m.compute_slowdown[static_cast<size_t>(compute_class)]);
}

// Piecewise linear in log2(channels) between the knots of `t`; the end knots' values outside.
inline double interpolate_channels(const std::array<double, kInterferenceKnots>& t, int64_t channels) {
  const double x = std::log2(static_cast<double>(std::max<int64_t>(1, channels)));
  if (x <= 0) return std::max(1.0, t[0]);
  for (int i = 1; i < kInterferenceKnots; ++i) {
    if (x <= static_cast<double>(i)) {
      const double f = x - static_cast<double>(i - 1);
      return std::max(1.0, t[static_cast<size_t>(i - 1)] * (1 - f) + t[static_cast<size_t>(i)] * f);
    }
  }
  return std::max(1.0, t[kInterferenceKnots - 1]);
}

// A transfer of `channels` launched while a kernel of `compute_class` holds the SMs.
inline double comm_slowdown(const InterferenceModel& m, int compute_class, int64_t channels) {
  return interpolate_channels(m.comm_slowdown[static_cast<size_t>(compute_class)], channels);
}

// A transfer of `channels` launched just before a kernel of `compute_class`.
inline double comm_shared_slowdown(const InterferenceModel& m, int compute_class, int64_t channels) {
  return interpolate_channels(m.comm_shared_slowdown[static_cast<size_t>(compute_class)], channels);
}

}  // namespace hcpsim

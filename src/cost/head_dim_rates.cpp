#include "cost/head_dim_rates.hpp"

#include <algorithm>
#include <cstddef>

namespace hcpsim {

namespace {

// Rates at head dims 64, 96, 128, 192, 256 (kMeasuredHeadDims), from
// calibrate/results/h100-v41/h100-v41-head-dim.json: TFLOP/s at d over TFLOP/s at 128 at the same
// length, the mean over 8192 and 16384 tokens.
struct Rates {
  double fwd_causal[5], fwd_nomask[5], bwd_causal[5], bwd_nomask[5];
};
constexpr Rates kCudnn{{0.751, 0.774, 1, 1.019, 1.089},
                       {0.737, 0.762, 1, 1.049, 1.083},
                       {0.809, 0.794, 1, 0.635, 0.751},
                       {0.869, 0.817, 1, 0.592, 0.693}};
constexpr Rates kFlash{{0.899, 0.976, 1, 0.974, 0.915},
                       {0.890, 1.011, 1, 0.959, 0.927},
                       {0.853, 0.852, 1, 0.855, 0.824},
                       {0.934, 0.946, 1, 0.837, 0.854}};

// The rate at head dim d of a kernel that runs it padded to `up`: up's time, d's FLOPs.
double padded_rate(double rate_up, int64_t d, int64_t up) { return rate_up * double(d) / double(up); }

}  // namespace

std::optional<double> measured_head_dim_rate(AttentionBackend backend, bool backward, bool causal, int64_t head_dim) {
  const Rates* r = backend == AttentionBackend::CuDNN ? &kCudnn : backend == AttentionBackend::Flash ? &kFlash : nullptr;
  constexpr size_t n = sizeof kMeasuredHeadDims / sizeof kMeasuredHeadDims[0];
  if (!r || head_dim < kMeasuredHeadDims[0] || head_dim > kMeasuredHeadDims[n - 1]) return std::nullopt;
  const double* rate = backward ? (causal ? r->bwd_causal : r->bwd_nomask) : (causal ? r->fwd_causal : r->fwd_nomask);
  for (size_t i = 0; i + 1 < n; ++i)
    if (head_dim <= kMeasuredHeadDims[i + 1]) {
      const int64_t lo = kMeasuredHeadDims[i], up = kMeasuredHeadDims[i + 1];
      if (head_dim == lo) return rate[i];
      if (head_dim == up) return rate[i + 1];
      // Between two measured head dims: the straight line, or the next one up's time if the kernel pads
      // to it (cuDNN's 96 runs at 128's time), whichever is slower.
      const double t = double(head_dim - lo) / double(up - lo);
      return std::min(rate[i] + t * (rate[i + 1] - rate[i]), padded_rate(rate[i + 1], head_dim, up));
    }
  return rate[n - 1];
}

double head_dim_band(bool measured_rates, int64_t head_dim) {
  const double* band = measured_rates ? kHeadDimRateBands : kHeadDimModelBands;
  constexpr size_t n = sizeof kMeasuredHeadDims / sizeof kMeasuredHeadDims[0];
  if (head_dim == 128) return 0;
  if (head_dim < kMeasuredHeadDims[0] || head_dim > kMeasuredHeadDims[n - 1]) {
    double widest = 0;
    for (size_t i = 0; i < n; ++i) widest = std::max(widest, kHeadDimModelBands[i]);
    return widest;
  }
  for (size_t i = 0; i + 1 < n; ++i)
    if (head_dim <= kMeasuredHeadDims[i + 1]) {
      if (head_dim == kMeasuredHeadDims[i + 1]) return band[i + 1];
      if (head_dim == kMeasuredHeadDims[i]) return band[i];
      // Off the measured head dims the kernel may pad or not: the wider neighbour's band, widened by
      // the gap between the two readings (the rate takes the slower), the largest over the kernels.
      double gap = 0;
      const int64_t lo = kMeasuredHeadDims[i], up = kMeasuredHeadDims[i + 1];
      const double t = double(head_dim - lo) / double(up - lo);
      for (const Rates* r : {&kCudnn, &kFlash})
        for (const double* k : {r->fwd_causal, r->fwd_nomask, r->bwd_causal, r->bwd_nomask}) {
          const double line = k[i] + t * (k[i + 1] - k[i]), padded = padded_rate(k[i + 1], head_dim, up);
          gap = std::max(gap, std::max(line, padded) / std::min(line, padded) - 1);
        }
      return std::max(band[i], band[i + 1]) + (measured_rates ? gap : 0);
    }
  return band[n - 1];
}

}  // namespace hcpsim

// Attention at head dims other than 128, where every attention table was measured: the rate of a
// backend's kernels at head dim d over their rate at 128, measured on the Hopper die (an H100;
// calibrate/RESULTS.md, twenty-fifth run: calibrate/results/h100-v41/h100-v41-head-dim.json, PyTorch's
// SDPA through cuDNN 9.19 and FlashAttention-2, bf16, batch 1, MHA of 32 heads, 8K and 16K tokens,
// each kernel at the clock it sustains; the mean of the two lengths). The kernels' tiles change with
// the head dim (cuDNN's head dim 96 runs as fast per FLOP as 64, its backward at 192 and 256 at 0.6
// to 0.75 of 128's rate), which the softmax-exponential model (head_dim_factor) does not know.
#pragma once

#include <cstdint>
#include <optional>

#include "scenario/scenario.hpp"

namespace hcpsim {

// The head dims measured. Between two of them a rate is the straight line, or the upper one's time
// if the kernel pads to it (cuDNN runs 96 at 128's time), whichever is slower.
inline constexpr int64_t kMeasuredHeadDims[] = {64, 96, 128, 192, 256};

// The rate at head dim `head_dim` over 128's for `backend`'s kernels on a Hopper GPU, by pass and
// mask; none for hcpsim's own kernels (built for 128) or a head dim outside 64-256.
std::optional<double> measured_head_dim_rate(AttentionBackend backend, bool backward, bool causal, int64_t head_dim);

// The bands of attention at a head dim other than 128: the largest time error, at each measured head
// dim, of those rates on held-out shapes (the same H100, 4K and 32K tokens, 16 heads:
// h100-v41-head-dim-heldout.json), and of the softmax-exponential model (head_dim_factor) on both
// files, where it stands in (another GPU generation, hcpsim's kernels). Recomputed by
// tests/cost/test_head_dim_rates.cpp. Index as kMeasuredHeadDims (128: none).
inline constexpr double kHeadDimRateBands[] = {0.09, 0.06, 0, 0.17, 0.30};
inline constexpr double kHeadDimModelBands[] = {0.17, 0.20, 0, 0.47, 0.39};

// The band at `head_dim`: the larger of its neighbouring measured head dims' (of the rates where they
// apply, widened by the gap between the straight line and the padded reading; else of the model);
// outside 64-256 the model's largest.
double head_dim_band(bool measured_rates, int64_t head_dim);

}  // namespace hcpsim

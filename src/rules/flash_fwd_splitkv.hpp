// How FlashAttention-2's forward splits the keys of a small launch over several CTAs ("split-KV"),
// one definition for the tile model (cost/attention_tiles.cpp) and its tests.
//
// PyTorch's SDPA flash backend (aten/src/ATen/native/transformers/cuda/flash_attn/flash_api.cpp:
// mha_fwd -> set_params_splitkv with num_splits 0 -> num_splits_heuristic; the same in
// Dao-AILab/flash-attention's csrc/flash_attn/flash_api.cpp) sizes the launch in units of 64 query
// rows (batch x query heads x ceil(sq / 64)) against twice the SM count (two 128-thread CTAs per
// SM). A launch of at least 80% of those slots runs the ordinary kernel. A smaller one is split:
// the keys, in blocks of block_n (256 at head dim <= 64, 128 at <= 128, else 64), are divided into
// s splits, each split a CTA of 64 query rows over its share of the key blocks
// (flash_fwd_splitkv_kernel; grid: query block fastest, then split, then batch x head), and a
// second kernel (flash_fwd_splitkv_combine_kernel) merges the s fp32 partial outputs. Of the
// split counts s <= min(128, slots, key blocks) that change the key blocks per split
// (ceil(n / s) != ceil(n / (s - 1))), it takes the smallest whose wave efficiency
// (units x s / slots, over its ceiling) is at least 85% of the best.
//
// Measured on an H200 (calibrate/RESULTS.md, "Twelfth run": 1K tokens, 1-48 heads, no mask):
// 12 heads (192 units, 4 splits) 47.9 us, 13 heads (208 units, 1 split) 35.1 us.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace hcpsim::rules {

inline constexpr int64_t kFlashSplitBlockM = 64;  // query rows per split-KV CTA (and per unit of the heuristic)

// Both forward kernels run two 128-thread CTAs per SM. One CTA alone on an SM moves through its
// tiles at this fraction of the rate two sharing the SM do together, measured on an H200
// (calibrate/RESULTS.md, "Twelfth run": 1024 x 1024, no mask, 16 tiles per CTA: 14-16 heads, one
// CTA per SM, 35.8 us; 17-33 heads, two on the busiest SM, 56.4 us; less the launch's 9.4 us,
// 26.4 us for 16 tiles alone against 47.0 us for 32 shared: 1.47 / 1.65 = 0.89).
inline constexpr int64_t kFlashFwdCtasPerSm = 2;
inline constexpr double kFlashFwdLoneCtaRate = 0.89;

// Keys per block of the split-KV kernel at head dim `head_dim`.
inline int64_t flash_splitkv_block_n(int64_t head_dim) { return head_dim <= 64 ? 256 : head_dim <= 128 ? 128 : 64; }

// The number of key splits FlashAttention-2's forward runs (1: the ordinary kernel).
inline int64_t flash_fwd_num_splits(int64_t batch, int64_t heads_q, int64_t sq, int64_t skv, int64_t head_dim,
                                    int64_t sm_count) {
  if (batch <= 0 || heads_q <= 0 || sq <= 0 || skv <= 0 || sm_count <= 0) return 1;
  const auto ceil_div = [](int64_t a, int64_t b) { return (a + b - 1) / b; };
  const int64_t units = batch * heads_q * ceil_div(sq, kFlashSplitBlockM);
  const int64_t slots = 2 * sm_count;
  if (float(units) >= 0.8f * float(slots)) return 1;
  const int64_t n_blocks = ceil_div(skv, flash_splitkv_block_n(head_dim));
  const int64_t max_splits = std::min({int64_t(128), slots, n_blocks});
  const auto eligible = [&](int64_t s) { return s == 1 || ceil_div(n_blocks, s) != ceil_div(n_blocks, s - 1); };
  const auto efficiency = [&](int64_t s) {
    const float waves = float(units * s) / float(slots);
    return waves / std::ceil(waves);
  };
  float best = 0;
  for (int64_t s = 1; s <= max_splits; ++s)
    if (eligible(s)) best = std::max(best, efficiency(s));
  for (int64_t s = 1; s <= max_splits; ++s)
    if (eligible(s) && double(efficiency(s)) >= 0.85 * double(best)) return s;
  return 1;
}

}  // namespace hcpsim::rules

// How cuDNN's fused attention forward for sm_90 (the "flash_fprop" wgmma kernel, cuDNN 9.19)
// covers a launch and hands its work units to the SMs, one definition for the tile model
// (cost/attention_tiles.cpp) and its tests.
//
// cuDNN does not publish its scheduler. This is the schedule its launch times follow, measured on
// an H200 (calibrate/torch/probe_heads.py at 1K, 2K, 4K, 8K and 16K tokens by head count, causal and
// no mask; calibrate/RESULTS.md, "Thirteenth run"). Normalised to one SM clock, the no-mask times
// step where ceil(units / SMs) does with units of 128 query rows (1K tokens: at 17 and 34 heads; 2K:
// 9, 17, 25, 34, 42; 4K: 5, 9, 13, 17, 21, 25, 29, 34, 38; 8K: 3, 5, 7), each round the unit's 128-key tiles
// at about 1.5 us each: one unit per SM at a time, 128 x 128 tiles, as FlashAttention-3's Hopper
// kernel for head dim 128 (two consumer warpgroups of 64 rows; Dao-AILab/flash-attention, hopper/).
// The kernel is persistent: the units are dealt round robin over one CTA per SM, unit i to SM
// i mod SMs, longest first, the heads of one query block fastest (FlashAttention-3's static
// persistent scheduler with a causal longest-first order). Fitted with four coefficients (launch,
// tile, unit, masked tile) on the probes' 290 forward launches: rms 3.4 %, max 11.2 %; the same units
// taken from a queue by the first free SM: 9.2 %, 36.2 %; dealt head after head: 8.5 %, 33.2 %.
//
// The backward (the "flash_bprop" wgmma kernel) is persistent too, min(units, SMs) CTAs, profiled
// apart from its two small kernels (probe_heads.py --kernels; RESULTS, fourteenth run): its units
// are 128 keys of one query head, each walking 64-row query steps from its diagonal, taken by the
// first free SM in launch order, head after head (the kernel alone: rms 2.8 % causal, 2.7 % no mask;
// the forward's deal 6.2 / 44.5 %). A fit uses only backward records whose SM clock the GPU counted
// (fit_attention.hpp).
#pragma once

#include <cstdint>

namespace hcpsim::rules {

inline constexpr int64_t kCudnnFwdBlockQ = 128;   // query rows per forward unit
inline constexpr int64_t kCudnnFwdBlockKv = 128;  // keys per tile
inline constexpr int64_t kCudnnBwdBlockKv = 128;  // keys per backward unit (one query head's)
inline constexpr int64_t kCudnnBwdBlockQ = 64;    // query rows per backward step

}  // namespace hcpsim::rules

// How cuDNN runs a bottom-right causal mask (Transformer Engine's all_gather CP chunks: c queries
// against a prefix of m*c keys, query row i seeing keys 0 .. i + (m-1)c), one definition for the
// cost model (cost/attention_tiles.cpp, executed_attention_shape) and the scenario validator's
// warning (scenario/validate.cpp).
//
// Measured on sm_90 (cuDNN 9.19 on an H200, through its graph API with the mask as TE sets it:
// diagonal alignment BOTTOM_RIGHT, right bound 0; calibrate/RESULTS.md "Tenth run" and "Sixteenth
// run"): the forward skips the masked tiles like a top-left causal kernel, the backward skips none,
// it computes every tile of the sq x skv rectangle and masks each by value, about 8 % more SM
// cycles than the no-mask kernel of the rectangle (5-10 % where both were measured, at 1:1 and 1:2;
// at the power limit it clocks higher, so its wall time came within 2 % of the no-mask kernel's). Other SM versions run other cuDNN kernels,
// not measured.
#pragma once
#include <cstdint>

namespace hcpsim {

// compute_capability: SM version x 10 (sm_90 = 90), as GpuSpec.
inline bool cudnn_bottom_right_measured(int64_t compute_capability) { return compute_capability == 90; }

// On a measured SM version: whether cuDNN's kernel of this pass skips the tiles a bottom-right
// causal mask hides (the forward does, the backward does not).
inline bool cudnn_bottom_right_skips_masked_tiles(bool backward) { return !backward; }

}  // namespace hcpsim

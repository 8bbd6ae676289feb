// The work hcpsim's own attention kernels (kernels/flash_{fwd,bwd}_sm90.cu, head dim 128)
// do for one AttentionShape: CTAs, tiles per CTA, masked tiles, and how the CTAs fall on
// the SMs. The shape-aware time model (cost_model.hpp, AttentionShapeModel) turns the
// busiest SM's load into time.
//
// Forward: one CTA per (batch, query head, 128-row query tile); it walks 128-key tiles
// (one tile = S = Q K^T and O += P V for a 128 x 128 block). Causal CTAs stop at the tile
// holding their last row's diagonal; a tile is masked when it crosses the diagonal or
// the key end. Grid order: longest causal tiles first; heads fastest when the grid is at
// most 4 waves (kernels/attn_params.h), else one head's tiles back to back.
// Backward: one CTA per (batch, KV head slot, 128-key tile); it walks 64-row query steps
// for each of its query heads (causal: from the step holding its first key). A KV head's
// query heads are split over one CTA each when the grid would be under 256 CTAs
// (bwd_head_split in kernels/flash_bwd.cu). A step is masked when it crosses the diagonal
// or the key end.
// One CTA per SM at a time (shared memory: 160 KiB forward, 146 KiB backward); the block
// scheduler hands the next CTA in grid order to the first SM that frees (list scheduling).
#pragma once

#include <cstdint>
#include <vector>

#include "workload/workload.hpp"

namespace hcpsim {

struct AttentionTileGeometry {
  int64_t block_q = 0, block_kv = 0;  // rows per query tile / key tile
};

// The tiling of the kernel that runs `s` (forward: 128 x 128; backward: 64 query rows x 128 keys).
AttentionTileGeometry attention_tile_geometry(const AttentionShape& s);

// One CTA's work: tiles (forward) or query steps (backward), `masked` of them with a mask.
struct CtaWork {
  int64_t tiles = 0, masked = 0;
};

// Every CTA of the launch, in the order the block scheduler dispatches them.
std::vector<CtaWork> attention_ctas(const AttentionShape& s, int64_t sm_count);

// Seconds a CTA costs in the schedule: per CTA, per tile, per masked tile (extra).
struct CtaCost {
  double cta_s = 0, tile_s = 1, masked_tile_s = 0;
  double of(const CtaWork& w) const { return cta_s + tile_s * double(w.tiles) + masked_tile_s * double(w.masked); }
};

// Load of one SM over the whole launch.
struct SmLoad {
  int64_t ctas = 0, tiles = 0, masked = 0;
};

struct AttentionTiling {
  int64_t ctas = 0, tiles = 0, masked = 0;  // the whole launch
  double waves = 0;                         // ctas / sm_count
  SmLoad busiest;                           // the SM that finishes last under `cost` (critical path)
};

// Requires sm_count > 0 and a shape with positive lengths and heads (else all zeros).
AttentionTiling attention_tiling(const AttentionShape& s, int64_t sm_count, const CtaCost& cost);

// Elements of the fp32 dK and dV accumulators a backward sums when its query heads split over
// CTAs (rules/flash_bwd_workspace.hpp): 2 x batch x skv x KV heads x head dim x the split (every
// query head's CTA adds its part); 0 for a forward or a backward without a split.
int64_t split_accumulator_elements(const AttentionShape& s);

}  // namespace hcpsim

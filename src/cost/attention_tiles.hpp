// The work an attention kernel does for one AttentionShape: CTAs (work units), tiles per
// unit, masked tiles, and how the units fall on the SMs. The shape-aware time model
// (cost_model.hpp, AttentionShapeModel) turns the busiest SM's load into time. One geometry per
// backend and pass (AttentionKernelGeometry), from the kernels' source or, for cuDNN, its
// launch times by head count (calibrate/torch/probe_heads.py, calibrate/RESULTS.md "Thirteenth
// run"; attention_balance counts the forward tables' own units, below):
//
// hcpsim's own kernels (kernels/flash_{fwd,bwd}_sm90.cu, head dim 128). Forward: one CTA per
// (batch, query head, 128-row query tile); it walks 128-key tiles (one tile = S = Q K^T and
// O += P V for a 128 x 128 block). Causal CTAs stop at the tile holding their last row's
// diagonal; a tile is masked when it crosses the diagonal or the key end. Grid order: longest
// causal tiles first; heads fastest when the grid is at most 4 waves (kernels/attn_params.h),
// else one head's tiles back to back. Backward: one CTA per (batch, KV head slot, 128-key
// tile); it walks 64-row query steps for each of its query heads (causal: from the step holding
// its first key). A KV head's query heads are split over one CTA each when the grid would be
// under 256 CTAs (bwd_head_split in kernels/flash_bwd.cu). One CTA per SM at a time.
//
// FlashAttention-2 (PyTorch's SDPA flash backend; Flash_fwd_kernel_traits<128, 128, 64, 4>,
// Flash_bwd_kernel_traits<128, 64, 128, 8, ...>): forward one CTA per (128-row query tile,
// batch, query head), grid x = the query tile, so tiles of one head run in ascending order
// (causal: shortest first), 64-key tiles, two CTAs per SM (255 registers x 128 threads); a
// launch under 80% of twice the SM count in 64-row units splits its keys instead (split-KV:
// 64-row CTAs over each split's 128-key blocks, then a combine kernel; rules/flash_fwd_splitkv.hpp);
// backward one CTA per (128-key tile, batch, query head) walking 64-row query steps, one per SM,
// then the GQA sum of the per-query-head dK, dV.
//
// cuDNN's fused attention (sm90 "flash_fprop"/"flash_bprop" wgmma kernels, cuDNN 9.19). Forward
// (rules/cudnn_persistent.hpp): units of 128 query rows walking 128-key tiles, one CTA per SM,
// persistent, the units dealt round robin over the SMs longest first, the heads of a query block
// fastest (persistent_sm_schedule below); cuDNN does not publish it, its launch times by head count
// follow it (calibrate/RESULTS.md, "Thirteenth run"). Backward: min(units, SMs) CTAs, units of 128
// keys per query head walking 64-row query steps, taken in launch order, head after head, by the
// first free SM (the list schedule below; its kernel profiled apart, RESULTS fourteenth run). The
// FLOPs tables, which time cuDNN where no shape model applies, keep the units they were fitted
// with (attention_balance below: 64-key backward units, 64-row forward units, the launch records'
// first reading): no schedule finishes before its longest unit, nor before an even share of all
// units' tiles.
//
// The block scheduler hands the next unit in order to the SM that frees first (list scheduling).
// FlashAttention-2's forward keeps two CTAs on an SM: the first SM-count units take one SM each,
// the next as many the second slots, then each unit the slot that frees first; two CTAs on an SM
// share it (its fitted tile time is the SM's, shared), a CTA alone runs at kFlashFwdLoneCtaRate
// of that (processor sharing; calibrate/RESULTS.md, "Twelfth run"). Which units share an SM is
// drawn, the median of several placements taken, the second fill led as probed (rules/block_placement.hpp;
// "Seventeenth run", "Nineteenth run").
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "rules/block_placement.hpp"
#include "scenario/scenario.hpp"
#include "workload/workload.hpp"

namespace hcpsim {

// In which order a launch's work units reach the SMs.
enum class UnitOrder {
  HcpsimGrid,     // hcpsim's: causal longest first; heads fastest up to 4 waves, else one head's units back to back
  TilesAscending,  // one head's units in ascending tile order (causal forward: shortest first), then the next head
  LongestFirst     // the longest units first, the batches and heads of one block fastest (cuDNN's forward deal)
};

// How one backend's kernel for one pass covers an attention launch.
struct AttentionKernelGeometry {
  int64_t block_q = 0, block_kv = 0;  // query rows / keys per tile (backward: per query step / per unit)
  bool per_query_head = false;        // backward: a unit per query head (dK, dV summed over the group after)
  bool head_split = false;            // backward: hcpsim's bwd_head_split (query heads over CTAs when few)
  UnitOrder order = UnitOrder::HcpsimGrid;
};

// The geometry of `backend`'s kernel for `s`'s pass (the header comment).
AttentionKernelGeometry attention_kernel_geometry(AttentionBackend backend, const AttentionShape& s);

// One CTA's work: tiles (forward) or query steps (backward), `masked` of them with a mask. A CTA
// of no tiles is empty: it finds no keys (or no queries) in its range, writes what an empty
// range gives (a split-KV forward: its zero partial output) and exits.
struct CtaWork {
  int64_t tiles = 0, masked = 0;
};

// Of the key tiles 0 .. tiles - 1 a forward unit of query rows m0 .. m0 + block_q - 1 walks, how
// many carry a mask: those crossing the causal diagonal or the key end (or all, every_tile_masked).
int64_t forward_unit_masked_tiles(const AttentionShape& s, const AttentionKernelGeometry& g, int64_t m0, int64_t tiles);
// Of the query steps m_first .. m_first + m_count - 1 a backward unit of keys n0 .. n0 + block_kv - 1
// walks, how many carry a mask. Both in closed form: a unit's cost does not grow with its tiles.
int64_t backward_unit_masked_steps(const AttentionShape& s, const AttentionKernelGeometry& g, int64_t n0,
                                   int64_t m_first, int64_t m_count);

// Every CTA (work unit) of the launch, in the order they are dispatched.
std::vector<CtaWork> attention_ctas(const AttentionShape& s, int64_t sm_count,
                                    AttentionBackend backend = AttentionBackend::Hcpsim);

// Seconds a CTA costs in the schedule: per CTA, per tile, per masked tile (extra); an empty CTA
// (no tiles) costs empty_cta_s instead.
struct CtaCost {
  double cta_s = 0, tile_s = 1, masked_tile_s = 0, empty_cta_s = 0;
  double of(const CtaWork& w) const {
    return w.tiles == 0 ? empty_cta_s : cta_s + tile_s * double(w.tiles) + masked_tile_s * double(w.masked);
  }
};

// Load of one SM over the whole launch. Where two CTAs share an SM (FlashAttention-2's forward),
// each CTA's work counts by how it ran: 1 while it shared the SM, 1 / lone rate while it ran alone
// (rules/flash_fwd_splitkv.hpp, kFlashFwdLoneCtaRate), so the load times the costs is the SM's time.
// `ctas` counts the CTAs with tiles, `empty` those without.
struct SmLoad {
  double ctas = 0, tiles = 0, masked = 0, empty = 0;
  void add(const CtaWork& w, double times = 1) {  // `times` such CTAs (a fraction: see above)
    (w.tiles == 0 ? empty : ctas) += times;
    tiles += times * double(w.tiles), masked += times * double(w.masked);
  }
};

// The busiest SM's load under the shortest and the longest of a launch's drawn placements.
struct PlacementRange {
  SmLoad shortest, longest;
};

struct AttentionTiling {
  int64_t ctas = 0, tiles = 0, masked = 0;  // the whole launch
  double waves = 0;                         // ctas / sm_count
  SmLoad busiest;                           // the SM that finishes last under `cost` (critical path)
  // Where the schedule is drawn (FlashAttention-2's forward, rules/block_placement.hpp): the
  // range over the draws, `busiest` being the median's; absent where the schedule is one.
  std::optional<PlacementRange> placements;
};

// How much more than an even share of the launch's tiles its busiest SM runs under any
// schedule, counted in the units the FLOPs tables were fitted on (the kernel's, but for cuDNN 64
// query rows forward and 64 keys backward, where its shape model uses 128): max(the longest unit's tiles, all tiles / sm_count) / (all tiles / sm_count), >= 1.
// A launch of fewer units than SMs, or of causal units of unequal length, ends with its longest
// unit (cuDNN's causal backward of 1K tokens of 8 heads: 128 units on 132 SMs, the longest 1.94x
// an even share). 1 where the shape or sm_count is empty.
double attention_balance(const AttentionShape& s, int64_t sm_count, AttentionBackend backend);

// The kernel a backend runs for s on a GPU of SM version `compute_capability` (90 = sm_90): s
// itself, but for cuDNN's backward of a bottom-right causal mask (Transformer Engine's all_gather
// chunks) on sm_90, which skips no tile: it computes every tile of the sq x skv rectangle and
// masks each by value (cuDNN 9.19 on an H200, through its graph API, calibrate/RESULTS.md "Tenth
// run" and "Sixteenth run": 32 on 8 heads, the 8192 x 8192 bottom-right backward 5255 us, the
// no-mask square 5378 us, the top-left causal square 2983 us; about 8 % more SM cycles than the
// no-mask rectangle, 5-10 % where both were measured at 1:1 and 1:2; its forward skips the masked
// tiles). Returned with mask None and every_tile_masked, so each tile costs a masked tile's time
// (the shape model's masked_tile_s of the no-mask backward, fitted on the grid's bottom-right
// prefix records); the scores stay s's.
// Other SM versions run other cuDNN kernels, not measured: s unchanged (validate warns;
// rules/cudnn_bottom_right.hpp holds the rule).
AttentionShape executed_attention_shape(const AttentionShape& s, AttentionBackend backend, int64_t compute_capability);

// Requires sm_count > 0 and a shape with positive lengths and heads (else all zeros).
AttentionTiling attention_tiling(const AttentionShape& s, int64_t sm_count, const CtaCost& cost,
                                 AttentionBackend backend = AttentionBackend::Hcpsim);

// Elements of the partial results a launch sums after its units: for a backward, the
// per-query-head dK and dV summed over each KV head's query heads, 2 x batch x skv x KV heads x
// head dim x the query heads per KV head that got their own unit (hcpsim: its split over CTAs,
// rules/flash_bwd_workspace.hpp, fp32 accumulators; cuDNN and FlashAttention-2: every query head,
// with GQA); for FlashAttention-2's split-KV forward on `sm_count` SMs, its fp32 partial outputs,
// splits x batch x query heads x sq x head dim (rules/flash_fwd_splitkv.hpp). 0 when nothing is summed.
int64_t split_accumulator_elements(const AttentionShape& s, AttentionBackend backend, int64_t sm_count);

// The output rows FlashAttention-2's split-KV combine kernel merges for a forward of `s` on
// `sm_count` SMs (batch x query heads x sq; its grid is those rows in blocks of 4 at head dim 128,
// flash_fwd_splitkv_combine_kernel); 0 when the forward is not split (and for other kernels).
int64_t split_combine_rows(const AttentionShape& s, AttentionBackend backend, int64_t sm_count);

// The two-CTAs-per-SM schedule (FlashAttention-2's forward) under one placement: the first
// sm_count units take one SM each in the order `first`, the next sm_count the second slots in the
// order `second`; later ones the slot that frees first, an empty SM before a busy one, SMs that
// free at one instant in index order, or in an order drawn from `ties` where it is given. Two
// residents progress at half the SM's rate each, a lone one at `lone_rate` (CtaCost's times are
// the SM's, shared). `busiest`: the load of the SM that finishes last (at `finish`), each CTA
// weighted by its time per unit of work (1 shared, 1 / lone_rate alone).
struct SmFillOrder {
  std::vector<int64_t> first, second;  // each a permutation of 0 .. sm_count - 1
};
SmFillOrder index_fill_order(int64_t sm_count);  // 0, 1, ... for both fills
struct SharedSmSchedule {
  SmLoad busiest;
  double finish = 0;  // in CtaCost's units
};
SharedSmSchedule shared_sm_schedule_once(const std::vector<CtaWork>& ctas, int64_t sm_count, const CtaCost& cost,
                                         double lone_rate, const SmFillOrder& order,
                                         rules::PlacementDraws* ties = nullptr);

// Whether a two-CTAs-per-SM launch of `ctas` CTAs leads its second fill (rules/block_placement.hpp):
// more CTAs than SMs, fewer than twice as many (the launches probed).
bool led_launch(int64_t ctas, int64_t sm_count);

// `order` with its second fill led as rules/block_placement.hpp says, for a second fill of
// `second_fill_blocks`: the SMs of the first fill's positions rules::second_fill_lead(start_tpc,
// second_fill_blocks) first, then the rest of order.second in its order. `order` itself where it
// has fewer SMs than the lead.
SmFillOrder with_second_fill_lead(const SmFillOrder& order, int64_t start_tpc, int64_t second_fill_blocks);

// The launch under rules::kPlacementSamples placements drawn as rules/block_placement.hpp says
// (both fills and the ties in random order, seeds 0, 1, ...; a led launch's second fill led from
// TPC `lead_start_tpc`), one schedule each, in draw order.
std::vector<SharedSmSchedule> shared_sm_schedules(const std::vector<CtaWork>& ctas, int64_t sm_count,
                                                  const CtaCost& cost, double lone_rate,
                                                  int64_t lead_start_tpc = rules::kSecondFillUsualStartTpc);

// The busiest SM's load under the median placement: the draws ordered by finish, then by draw
// index (so equal finishes pick one draw on every standard library), the middle one; with the
// range, the first and the last, over the draws led from the later start TPC too for a led launch.
struct DrawnSchedule {
  SmLoad median;
  PlacementRange range;
};
DrawnSchedule shared_sm_schedule(const std::vector<CtaWork>& ctas, int64_t sm_count, const CtaCost& cost,
                                 double lone_rate);

// A persistent launch of one CTA per SM (cuDNN's forward; rules/cudnn_persistent.hpp): unit i
// runs on SM i mod sm_count, each SM its units back to back. The load of the SM that finishes
// last under `cost` (the lowest of them on a tie).
SmLoad persistent_sm_schedule(const std::vector<CtaWork>& ctas, int64_t sm_count, const CtaCost& cost);

}  // namespace hcpsim

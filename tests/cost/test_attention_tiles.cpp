// Tile and wave counts of hcpsim's attention kernels (cost/attention_tiles.hpp) against
// closed forms derived by hand from kernels/flash_{fwd,bwd}_sm90.cu, and the shape-aware
// time of the cost model built from them.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "cost/attention_tiles.hpp"
#include "rules/block_placement.hpp"
#include "rules/cudnn_persistent.hpp"
#include "rules/flash_fwd_splitkv.hpp"
#include "cost/cost_model.hpp"
#include "cost/head_dim_rates.hpp"

using namespace hcpsim;

namespace {

AttentionShape shape(int64_t sq, int64_t skv, int64_t hq, int64_t hk, bool causal, bool backward) {
  AttentionShape s;
  s.batch = 1;
  s.sq = sq;
  s.skv = skv;
  s.heads_q = hq;
  s.heads_kv = hk;
  s.head_dim_qk = s.head_dim_v = 128;
  s.mask = causal ? KernelMask::CausalTopLeft : KernelMask::None;
  s.backward = backward;
  return s;
}

const CtaCost kTiles{0, 1, 0};  // schedule by tiles alone

}  // namespace

TEST_CASE("forward, no mask, whole tiles: CTAs = q tiles x heads, waves over 132 SMs", "[model][tiles]") {
  // sq = skv = 1024: 1024/128 = 8 query tiles x 32 heads = 256 CTAs, each 1024/128 = 8 key
  // tiles, none masked (1024 is a multiple of 128). 256 / 132 = 1.94 waves: the busiest SM
  // runs ceil(256/132) = 2 CTAs = 16 tiles.
  const AttentionTiling t = attention_tiling(shape(1024, 1024, 32, 32, false, false), 132, kTiles);
  CHECK(t.ctas == 256);
  CHECK(t.tiles == 256 * 8);
  CHECK(t.masked == 0);
  CHECK(t.waves == Approx(256.0 / 132));
  CHECK(t.busiest.ctas == 2);
  CHECK(t.busiest.tiles == 16);
}

TEST_CASE("forward, a partial last key tile is a masked whole tile", "[model][tiles]") {
  // sq = skv = 1600: ceil(1600/128) = 13 query tiles x 32 heads = 416 CTAs; each walks 13 key
  // tiles, the last (keys 1536..1663) crosses the key end 1600: 1 masked. ceil(416/132) = 4
  // CTAs on the busiest SM: 52 tiles, 4 masked.
  const AttentionTiling t = attention_tiling(shape(1600, 1600, 32, 32, false, false), 132, kTiles);
  CHECK(t.ctas == 416);
  CHECK(t.tiles == 416 * 13);
  CHECK(t.masked == 416);
  CHECK(t.busiest.ctas == 4);
  CHECK(t.busiest.tiles == 52);
  CHECK(t.busiest.masked == 4);
}

TEST_CASE("forward, causal: CTA i walks i+1 tiles, the diagonal one masked, longest first", "[model][tiles]") {
  // sq = skv = 1024, one head: 8 CTAs; query tile m stops at key tile m (kv_end = m0 + 128),
  // so it walks m + 1 tiles, the last crossing the diagonal. Launch order is longest first.
  const std::vector<CtaWork> c = attention_ctas(shape(1024, 1024, 1, 1, true, false), 132);
  REQUIRE(c.size() == 8);
  for (size_t i = 0; i < 8; ++i) {
    CHECK(c[i].tiles == int64_t(8 - i));
    CHECK(c[i].masked == 1);
  }
  const AttentionTiling t = attention_tiling(shape(1024, 1024, 1, 1, true, false), 132, kTiles);
  CHECK(t.tiles == 36);  // 1 + 2 + ... + 8
  CHECK(t.busiest.ctas == 1);
  CHECK(t.busiest.tiles == 8);
}

TEST_CASE("list scheduling: the next CTA goes to the SM that frees first", "[model][tiles]") {
  // sq = skv = 768, one head, causal: CTAs of 6, 5, 4, 3, 2, 1 tiles on 4 SMs with 10 s per
  // CTA + 1 s per tile: costs 16, 15, 14, 13 start on SMs 0..3; the 2-tile CTA (12) goes to
  // SM 3 (free at 13) -> 25; the 1-tile CTA (11) to SM 2 (free at 14) -> 25. SMs 2 and 3
  // both end last (25 > 16, 15); the lower index is reported: SM 2, 2 CTAs, 4 + 1 tiles.
  const AttentionTiling t = attention_tiling(shape(768, 768, 1, 1, true, false), 4, CtaCost{10, 1, 0});
  CHECK(t.ctas == 6);
  CHECK(t.busiest.ctas == 2);
  CHECK(t.busiest.tiles == 5);
  CHECK(t.busiest.masked == 2);
  // By tiles alone: 6, 5, 4, 3 start; 2 -> SM 3 (5); 1 -> SM 2 (5): SM 0 (6 tiles) ends last.
  const AttentionTiling u = attention_tiling(shape(768, 768, 1, 1, true, false), 4, kTiles);
  CHECK(u.busiest.ctas == 1);
  CHECK(u.busiest.tiles == 6);
}

TEST_CASE("backward: CTAs per key tile and KV head, query heads split below 256 CTAs", "[model][tiles]") {
  // sq = skv = 1024, 32 q heads, 8 KV heads: 8 key tiles x 8 KV heads = 64 CTAs < 256, so
  // each KV head's 4 query heads get a CTA each: 8 x 32 = 256 CTAs, each 1024/64 = 16 query
  // steps of one head. ceil(256/132) = 2 CTAs, 32 steps on the busiest SM.
  const AttentionTiling split = attention_tiling(shape(1024, 1024, 32, 8, false, true), 132, kTiles);
  CHECK(split.ctas == 256);
  CHECK(split.tiles == 256 * 16);
  CHECK(split.busiest.ctas == 2);
  CHECK(split.busiest.tiles == 32);
  // sq = skv = 4096: 32 key tiles x 8 KV heads = 256 CTAs, not < 256: no split, each CTA
  // walks 4096/64 = 64 steps for each of its 4 query heads = 256.
  const AttentionTiling whole = attention_tiling(shape(4096, 4096, 32, 8, false, true), 132, kTiles);
  CHECK(whole.ctas == 256);
  CHECK(whole.busiest.ctas == 2);
  CHECK(whole.busiest.tiles == 512);
}

TEST_CASE("backward, causal: a key tile's steps start at its diagonal, two of them masked", "[model][tiles]") {
  // sq = skv = 256, one head: key tiles n0 = 0 and 128; 64-row query steps m = 0..3.
  // n0 = 0: m_first = 0, 4 steps; masked where m*64 < n0 + 127: m = 0, 1.
  // n0 = 128: m_first = 128/64 = 2, 2 steps (m = 2, 3), both below 255: masked.
  const std::vector<CtaWork> c = attention_ctas(shape(256, 256, 1, 1, true, true), 132);
  REQUIRE(c.size() == 2);
  CHECK(c[0].tiles == 4);
  CHECK(c[0].masked == 2);
  CHECK(c[1].tiles == 2);
  CHECK(c[1].masked == 2);
}

TEST_CASE("the cost model times attention from the busiest SM when a shape model is given", "[model][tiles][cost]") {
  const GpuSpec gpu{"H200", 989e12, 1979e12, 141e9, 4.8e12};
  Op op;
  op.kind = OpKind::Compute;
  op.compute_class = ComputeClass::Attention;
  op.attn = shape(1024, 1024, 32, 32, false, false);
  op.flops = 4.0 * 32 * 1024 * 1024 * 128;
  const double table_time = CostModel(gpu, Precision::BF16, default_cost_params()).compute_time_s(op);

  CostParams p = default_cost_params();
  AttentionShapeModel m;
  m.sm_count = 132;
  m.head_dim = 128;
  m.fwd_nomask = {10e-6, 2e-6, 1e-6, 0.5e-6};
  p.attention_shape = m;
  const CostModel model(gpu, Precision::BF16, p);
  // Busiest SM (first test): 2 CTAs, 16 tiles, 0 masked: 10 + 2 x 2 + 16 x 1 = 30 us.
  CHECK(model.compute_time_s(op) == Approx(30e-6));
  // The model keeps each shape's time once (CostModel's memo): a shape differing in one field
  // only, the batch, is its own entry. Batch 2: 2 x 32 heads x 8 query tiles = 512 CTAs of 8
  // key tiles (the first test's 256, twice) over 132 SMs, ceil(512 / 132) = 4 on the busiest:
  // 10 + 4 x 2 + 32 x 1 = 50 us; then the first again.
  Op twice = op;
  twice.attn.batch = 2;
  CHECK(model.compute_time_s(twice) == Approx(50e-6));
  CHECK(model.compute_time_s(op) == Approx(30e-6));
  CHECK(model.compute_time_s(twice) == Approx(50e-6));
  // Other head dims keep the FLOPs tables, at their head dim's measured rate on Hopper
  // (cost/head_dim_rates.hpp; the op's FLOPs, and so its place on the tables, unchanged here).
  op.attn.head_dim_qk = op.attn.head_dim_v = 64;
  CHECK(model.compute_time_s(op) == Approx(table_time / *measured_head_dim_rate(AttentionBackend::CuDNN, false, false, 64)));
}

// FlashAttention-2's geometry (PyTorch's flash backend; the kernel names of
// calibrate/results/h200-v9-kernel-profile.log: Flash_fwd_kernel_traits<128, 128, 64, 4>,
// Flash_bwd_kernel_traits<128, 64, 128, 8, ...>), derived by hand.
TEST_CASE("FlashAttention-2 forward: 128-row query tiles walking 64-key tiles, shortest causal first",
          "[model][tiles]") {
  // The ordinary kernel runs launches of at least 80% of twice the SMs in 64-row units (smaller
  // ones split their keys: the next test), so these small shapes are laid on few SMs.
  // No mask, 1024 x 1024, one head: 1024/128 = 8 CTAs of 1024/64 = 16 tiles, none masked; on 8
  // SMs (16 units >= 0.8 x 16 slots) one CTA per SM, alone: the busiest SM's one CTA of 16 tiles
  // takes 1 / kFlashFwdLoneCtaRate of its shared time.
  const AttentionTiling full = attention_tiling(shape(1024, 1024, 1, 1, false, false), 8, kTiles, AttentionBackend::Flash);
  CHECK(full.ctas == 8);
  CHECK(full.tiles == 128);
  CHECK(full.busiest.ctas == Approx(1 / rules::kFlashFwdLoneCtaRate));
  CHECK(full.busiest.tiles == Approx(16 / rules::kFlashFwdLoneCtaRate));
  // Causal 256 x 256: query tile 0 (rows 0..127) sees keys < 128: 2 tiles of 64, both crossing
  // the diagonal (n0 + 63 > row 0); tile 1 (rows 128..255) sees 4 tiles, masked where
  // n0 + 63 > 128: n0 = 128, 192. In grid order (blockIdx.x = the query tile): tile 0 first.
  // On 2 SMs (4 units >= 0.8 x 4 slots: no split).
  const std::vector<CtaWork> c = attention_ctas(shape(256, 256, 1, 1, true, false), 2, AttentionBackend::Flash);
  REQUIRE(c.size() == 2);
  CHECK(c[0].tiles == 2);
  CHECK(c[0].masked == 2);
  CHECK(c[1].tiles == 4);
  CHECK(c[1].masked == 2);
  // hcpsim's own kernel on the same shape: one 128 x 128 tile, then two, longest first.
  const std::vector<CtaWork> ours = attention_ctas(shape(256, 256, 1, 1, true, false), 132);
  REQUIRE(ours.size() == 2);
  CHECK(ours[0].tiles == 2);
  CHECK(ours[1].tiles == 1);
}

TEST_CASE("FlashAttention-2 forward: two CTAs share an SM, a lone one runs at its own rate, empty SMs first",
          "[model][tiles]") {
  const double a = rules::kFlashFwdLoneCtaRate;
  // (attention_tiling draws the placements; with CTAs of equal work every placement ends alike.)
  // 9 CTAs of 16 tiles (1152 x 1024, no mask, one head: 9 query tiles; 18 units >= 0.8 x 16: no
  // split) on 8 SMs: one SM takes two CTAs and they share it to the end, 2 x 16 tiles at the
  // shared rate; the other 7 run one CTA alone, 16 / a = 18.0 < 32. The busiest: 2 CTAs, 32 tiles.
  const AttentionTiling nine = attention_tiling(shape(1152, 1024, 1, 1, false, false), 8, kTiles, AttentionBackend::Flash);
  CHECK(nine.ctas == 9);
  CHECK(nine.busiest.ctas == Approx(2));
  CHECK(nine.busiest.tiles == Approx(32));
  // 7 CTAs of 16 tiles (896 x 1024) on 3 SMs: 6 fill both slots of the 3 SMs and all end at 32;
  // the 7th goes to one of the three (then empty) SMs, alone: 32 + 16 / a. That SM is the
  // busiest: its two shared CTAs count 1 each, the lone one 1 / a.
  const AttentionTiling seven = attention_tiling(shape(896, 1024, 1, 1, false, false), 3, kTiles, AttentionBackend::Flash);
  CHECK(seven.busiest.ctas == Approx(2 + 1 / a));
  CHECK(seven.busiest.tiles == Approx(16 * (2 + 1 / a)));
  // The time the model gives is the SM's: t0 + cost x load (cost_model.cpp), here 16 (2 + 1 / a) tiles.

  // An empty SM gets the next unit before a half-busy one of lower index. 2 SMs, units of work
  // (tiles at 1 per tile) 2, 2, 6, 2, 1: SM 0 takes units 0 and 2, SM 1 units 1 and 3, all
  // shared (rate 1/2 each). At t = 4 units 0, 1 and 3 end: SM 0 keeps unit 2 (6 - 2 = 4 left),
  // SM 1 is empty and takes unit 4 (alone: ends at 4 + 1 / a). Unit 2 runs alone from 4 and
  // ends at 4 + 4 / a, last: SM 0's load is unit 0 (2 tiles, all shared: weight 1) and unit 2
  // (2 shared + 4 alone: weight (2 + 4 / a) / 6). Had unit 4 gone to SM 0, unit 2 would end at
  // 4 + 2 + 3 / a instead.
  // (One placement, the index order: shared_sm_schedule_once.)
  const std::vector<CtaWork> units{{2, 0}, {2, 0}, {6, 0}, {2, 0}, {1, 0}};
  const SharedSmSchedule l = shared_sm_schedule_once(units, 2, CtaCost{0, 1, 0}, a, index_fill_order(2));
  const double w2 = (2 + 4 / a) / 6;
  CHECK(l.busiest.ctas == Approx(1 + w2));
  CHECK(l.busiest.tiles == Approx(2 + 6 * w2));
  CHECK(l.finish == Approx(4 + 4 / a));
  // Units of no work and an empty launch: no load, no division by zero.
  const SmLoad lone_empty = shared_sm_schedule({{0, 0}}, 2, CtaCost{0, 1, 0}, a).median;
  CHECK(lone_empty.ctas == 0);
  CHECK(lone_empty.empty == Approx(1));
  CHECK(shared_sm_schedule({}, 2, CtaCost{0, 1, 0}, a).median.ctas == 0);
}

TEST_CASE("Block placement: SplitMix64's published sequence, shuffles that are permutations", "[model][tiles]") {
  // SplitMix64 from state 0 (Vigna's reference splitmix64.c; the first outputs quoted with it).
  rules::PlacementDraws d{0};
  CHECK(d.next() == 0xE220A8397B1DCDAFull);
  CHECK(d.next() == 0x6E789E6AA1B965F4ull);
  CHECK(d.next() == 0x06C45D188009454Full);
  // A shuffle keeps every element once, and two seeds give two orders.
  std::vector<int64_t> a(132), b(132);
  for (int64_t i = 0; i < 132; ++i) a[size_t(i)] = b[size_t(i)] = i;
  rules::PlacementDraws{1}.shuffle(a);
  rules::PlacementDraws{2}.shuffle(b);
  CHECK(a != b);
  std::vector<int64_t> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 132; ++i) CHECK(sorted[size_t(i)] == i);
}

TEST_CASE("FlashAttention-2 forward: which units share an SM is drawn per placement, the median one is the launch's",
          "[model][tiles]") {
  const double a = rules::kFlashFwdLoneCtaRate;
  const CtaCost per_tile{0, 1, 0};
  // Units of 10, 1, 1, 10 tiles on 3 SMs: the first three take one SM each, the fourth the second
  // slot of one of them, drawn. With the other 10-tile unit (1 SM of 3) the two share the SM to
  // the end: 20 tiles at the shared rate, finish 20. With a 1-tile unit (2 of 3): that one ends at
  // 2, the 10-tile one runs its other 9 alone, finish 2 + 9 / a (12.1), later than the lone
  // 10-tile unit's 10 / a (11.2).
  const std::vector<CtaWork> units{{10, 0}, {1, 0}, {1, 0}, {10, 0}};
  const std::vector<SharedSmSchedule> runs = shared_sm_schedules(units, 3, per_tile, a);
  REQUIRE(runs.size() == size_t(rules::kPlacementSamples));
  int together = 0;
  for (const SharedSmSchedule& r : runs) {
    const bool long_pair = std::fabs(r.finish - 20) < 1e-9;
    CHECK((long_pair || r.finish == Approx(2 + 9 / a)));
    together += long_pair;
  }
  // Both outcomes are drawn, the short one more often (2 in 3 expected): the median is it.
  CHECK(together >= 1);
  CHECK(together < rules::kPlacementSamples / 2);
  // Its busiest SM: the 1-tile unit, all shared (weight 1), and the 10-tile unit, 1 tile shared
  // and 9 alone (weight (1 + 9 / a) / 10).
  const SmLoad median = shared_sm_schedule(units, 3, per_tile, a).median;
  CHECK(median.ctas == Approx(1 + (1 + 9 / a) / 10));
  CHECK(median.tiles == Approx(1 + 1 + 9 / a));
  // The median, not the shortest: units of 10, 1, 4, 10, 10 tiles on 3 SMs. The first three take
  // one SM each; units 3 and 4 (10 tiles) take the second slots of two of them. Three outcomes,
  // by the SM left alone: (i) the 10-tile unit's SM alone: the other two SMs pair a 10 with the
  // 1 and with the 4: the 1-pair ends at 2 + 9 / a (12.1), the 4-pair at 8 + 6 / a (14.7),
  // the lone 10 at 10 / a (11.2): finish 8 + 6 / a; (ii) the 1-tile unit's SM alone: 10 + 10 and
  // 4 + 10 pair up, finish 20; (iii) the 4-tile unit's SM alone: 10 + 10 and 1 + 10, finish 20.
  // Each SM is left alone in 1 of 3 draws: 8 + 6 / a in about 5 of 15, 20 in about 10, so the
  // median is 20 while the shortest draw is 8 + 6 / a.
  {
    const std::vector<CtaWork> three{{10, 0}, {1, 0}, {4, 0}, {10, 0}, {10, 0}};
    int short_runs = 0;
    for (const SharedSmSchedule& r : shared_sm_schedules(three, 3, per_tile, a)) {
      const bool is_short = r.finish == Approx(8 + 6 / a);
      CHECK((is_short || r.finish == Approx(20)));
      short_runs += is_short;
    }
    CHECK(short_runs >= 1);
    CHECK(short_runs < rules::kPlacementSamples / 2);
    // The median's busiest SM: two 10-tile units shared to the end, 20 tiles, 2 CTAs.
    const SmLoad m = shared_sm_schedule(three, 3, per_tile, a).median;
    CHECK(m.ctas == Approx(2));
    CHECK(m.tiles == Approx(20));
  }
  // Units of equal work end alike under every placement: 200 of 16 tiles on 132 SMs, 68 SMs
  // shared to the end (32 tiles at the shared rate), 64 alone (16 / a = 18.0): every draw ends at 32.
  const std::vector<CtaWork> equal(200, CtaWork{16, 0});
  for (const SharedSmSchedule& r : shared_sm_schedules(equal, 132, per_tile, a)) CHECK(r.finish == Approx(32));
}

TEST_CASE("Block placement: the second fill starts beside the first fill's first four TPCs", "[model][tiles]") {
  // The lead takes one SM of each of its four TPCs in turn (positions 2t), then the other (2t + 1),
  // from the start TPC on; the first min(blocks, 8) of those, in ascending position (as probed:
  // 135 blocks on 132 SMs took 0, 2, 4; 137 blocks 0, 1, 2, 4, 6; from 140 blocks 0-7).
  using V = std::vector<int64_t>;
  CHECK(rules::second_fill_lead(0, 3) == V{0, 2, 4});
  CHECK(rules::second_fill_lead(0, 5) == V{0, 1, 2, 4, 6});
  CHECK(rules::second_fill_lead(0, 8) == V{0, 1, 2, 3, 4, 5, 6, 7});
  CHECK(rules::second_fill_lead(0, 100) == V{0, 1, 2, 3, 4, 5, 6, 7});
  // From two TPCs later (the order 4, 6, 0, 2, 5, 7, 1, 3): 133 and 134 blocks took 4 and 4, 6.
  CHECK(rules::second_fill_lead(2, 1) == V{4});
  CHECK(rules::second_fill_lead(2, 2) == V{4, 6});
  CHECK(rules::second_fill_lead(2, 5) == V{0, 2, 4, 5, 6});
  CHECK(rules::second_fill_lead(0, 0).empty());
  // Led launches: more CTAs than SMs, fewer than twice as many.
  CHECK_FALSE(led_launch(132, 132));
  CHECK(led_launch(133, 132));
  CHECK(led_launch(263, 132));
  CHECK_FALSE(led_launch(264, 132));
  // On 10 SMs filled first in the order 9, 8, ..., 0, a second fill of 5 blocks: the lead takes
  // the SMs at first-fill positions 0, 1, 2, 4, 6 (SMs 9, 8, 7, 5, 3), then the second order's
  // others in its order (0, 1, 2, 4, 6).
  SmFillOrder o;
  for (int64_t m = 0; m < 10; ++m) o.first.push_back(9 - m), o.second.push_back(m);
  const SmFillOrder led = with_second_fill_lead(o, 0, 5);
  CHECK(led.first == o.first);
  CHECK(led.second == V{9, 8, 7, 5, 3, 0, 1, 2, 4, 6});
  // Fewer SMs than the lead: unchanged.
  const SmFillOrder seven = index_fill_order(7);
  CHECK(with_second_fill_lead(seven, 0, 3).second == seven.second);
  // In the schedule, on 12 SMs: 8 units of 1 tile, 4 of 10 (the first fill), one more of 10 tiles.
  // Led, it shares an SM with a 1-tile unit in every draw: 1 tile each shared (2), then 9 alone at
  // the lone rate: 2 + 9 / a, later than a lone 10-tile unit (10 / a). Beside a 10-tile unit it
  // would end at 20 (unled, about one draw in three would: 4 of the 12 first-fill units are long).
  const double a = rules::kFlashFwdLoneCtaRate;
  std::vector<CtaWork> mixed(8, CtaWork{1, 0});
  for (int i = 0; i < 5; ++i) mixed.push_back({10, 0});
  for (const SharedSmSchedule& r : shared_sm_schedules(mixed, 12, CtaCost{0, 1, 0}, a)) CHECK(r.finish == Approx(2 + 9 / a));
  // Led from two TPCs later it lands beside first-fill position 4: a 1-tile unit too.
  for (const SharedSmSchedule& r : shared_sm_schedules(mixed, 12, CtaCost{0, 1, 0}, a, 2)) CHECK(r.finish == Approx(2 + 9 / a));
}

TEST_CASE("FlashAttention-2 forward: a small launch splits its keys (split-KV), as PyTorch's flash_api does",
          "[model][tiles]") {
  // rules/flash_fwd_splitkv.hpp on 132 SMs (264 slots), head dim 128 (128-key blocks). Units =
  // heads x ceil(sq / 64); at least 0.8 x 264 = 211.2 units run unsplit. Else, of the split counts
  // that change the blocks per split, the smallest whose wave efficiency (units x s / 264 over
  // its ceiling) is >= 85% of the best:
  // 1024 x 12 heads: 192 units, 8 key blocks, eligible s = 1, 2, 3, 4, 8 with efficiencies
  //   .727, .727 (1.45 / 2), .727 (2.18 / 3), .970 (2.91 / 3), .970 (5.82 / 6): best .970, 85% = .824 -> 4.
  CHECK(rules::flash_fwd_num_splits(1, 12, 1024, 1024, 128, 132) == 4);
  // 13 heads: 208 units: .788, .788, .788, .788, .900 (6.30 / 7): 85% of .900 = .765 -> 1.
  CHECK(rules::flash_fwd_num_splits(1, 13, 1024, 1024, 128, 132) == 1);
  // 14 heads: 224 units >= 211.2 -> 1.
  CHECK(rules::flash_fwd_num_splits(1, 14, 1024, 1024, 128, 132) == 1);
  // 1 head: 16 units: .061, .121, .182, .242, .485: 85% of .485 = .412 -> 8.
  CHECK(rules::flash_fwd_num_splits(1, 1, 1024, 1024, 128, 132) == 8);
  // 1408 tokens x 4 heads: 88 units, 11 key blocks; eligible 1, 2, 3, 4, 6, 11; s = 3 fills
  // 264 slots exactly (efficiency 1) -> 3.
  CHECK(rules::flash_fwd_num_splits(1, 4, 1408, 1408, 128, 132) == 3);

  // Causal 1024 x 1024, one head, 8 splits of one 128-key block: units (split j, 64-row block m),
  // m fastest. Block m sees keys < (m + 1) x 64, i.e. ceil((m + 1) / 2) blocks, so split j has a
  // tile for m >= 2j. Tiles: sum over m of ceil((m + 1) / 2) = 2 x (1 + .. + 8) = 72; 128 units.
  // The kernel masks the first ceil(64 / 128) = 1 step of every unit (lengths whole blocks),
  // crossing the diagonal or not: each of the 72 one-tile units has its tile masked.
  const AttentionShape causal = shape(1024, 1024, 1, 1, true, false);
  const std::vector<CtaWork> c = attention_ctas(causal, 132, AttentionBackend::Flash);
  REQUIRE(c.size() == 128);
  CHECK(c[0].tiles == 1);        // split 0, m 0
  CHECK(c[0].masked == 1);
  CHECK(c[16 + 1].tiles == 0);   // split 1, m 1: its keys start at 128
  CHECK(c[16 + 2].tiles == 1);   // split 1, m 2
  CHECK(c[16 + 2].masked == 1);
  CHECK(c[16 + 4].tiles == 1);   // split 1, m 4: rows 256.., keys 128..255, below the diagonal,
  CHECK(c[16 + 4].masked == 1);  // still the unit's masked first step
  int64_t tiles = 0, masked = 0;
  for (const CtaWork& w : c) tiles += w.tiles, masked += w.masked;
  CHECK(tiles == 72);
  CHECK(masked == 72);
  // Batch 2 doubles every unit: 256 units; the balance (longest unit against an even share) is
  // over all of them: longest 1 tile, even 144 / 132 -> max(1, 1.09) / 1.09 = 1.
  const AttentionShape two = [&] { AttentionShape x = causal; x.batch = 2; return x; }();
  CHECK(attention_ctas(two, 132, AttentionBackend::Flash).size() == 256);
  CHECK(attention_balance(two, 132, AttentionBackend::Flash) == Approx(1.0));
  // One batch on 132 SMs: 72 tiles, even 72 / 132 = 0.545 < the longest unit's 1 tile: 1 / 0.545.
  CHECK(attention_balance(causal, 132, AttentionBackend::Flash) == Approx(132.0 / 72.0));
  // The combine kernel merges 8 fp32 partial outputs: 8 x 1 x 1 x 1024 x 128 elements; none
  // without a split, nor where no SM count is given.
  CHECK(split_accumulator_elements(causal, AttentionBackend::Flash, 132) == 8 * 1024 * 128);
  CHECK(split_accumulator_elements(shape(1024, 1024, 14, 14, true, false), AttentionBackend::Flash, 132) == 0);
  CHECK(split_accumulator_elements(causal, AttentionBackend::Flash, 0) == 0);
  // It merges 1 x 1 x 1024 output rows (its grid: 1024 / 4 CTAs); none without a split.
  CHECK(split_combine_rows(causal, AttentionBackend::Flash, 132) == 1024);
  CHECK(split_combine_rows(shape(1024, 1024, 14, 14, true, false), AttentionBackend::Flash, 132) == 0);
  CHECK(split_combine_rows(causal, AttentionBackend::Hcpsim, 132) == 0);
  // Other backends never split.
  CHECK(attention_ctas(causal, 132, AttentionBackend::Hcpsim).size() == 8);
}

TEST_CASE("FlashAttention-2's split-KV forward: empty splits are CTAs of their own cost, the combine kernel counted",
          "[model][tiles][cost]") {
  // 1152 x 1152 causal, 8 heads: 8 x 18 = 144 units < 211.2; 9 key blocks; eligible s = 1, 2, 3,
  // 5, 9 with efficiencies .545, .545, .818, .909, .982: 85% of .982 = .835 -> 5 splits of
  // ceil(9 / 5) = 2 blocks (the grid measured on the H200: results/h200-v32-probe-kernels).
  const AttentionShape s = shape(1152, 1152, 8, 8, true, false);
  REQUIRE(rules::flash_fwd_num_splits(1, 8, 1152, 1152, 128, 132) == 5);
  // Query block m (rows 64m ..) sees keys < 64(m + 1): blocks 0 .. ceil((m + 1) / 2) - 1. Split j
  // (blocks 2j, 2j + 1) has work for m >= 4j: 18, 14, 10, 6, 2 of the 18 blocks; 50 of 90 units
  // a head, 40 empty: 320 empty CTAs of 720.
  const std::vector<CtaWork> c = attention_ctas(s, 132, AttentionBackend::Flash);
  REQUIRE(c.size() == 720);
  CHECK(std::count_if(c.begin(), c.end(), [](const CtaWork& w) { return w.tiles == 0; }) == 320);
  // An empty CTA costs empty_cta_s, another cta_s + its tiles.
  const CtaCost cost{2.0, 1.0, 0.0, 0.25};
  CHECK(cost.of(CtaWork{0, 0}) == 0.25);
  CHECK(cost.of(CtaWork{2, 1}) == 4.0);
  SmLoad load;
  load.add(CtaWork{0, 0}, 0.5);
  load.add(CtaWork{2, 1});
  CHECK(load.empty == 0.5);
  CHECK(load.ctas == 1);
  CHECK(load.tiles == 2);
  CHECK(load.masked == 1);
  // The time adds the combine kernel: one launch and 8 x 1152 = 9216 rows, and 5 x 9216 x 128
  // = 5898240 partial-output elements.
  AttentionTileTimes t;
  t.t0_s = 10e-6, t.cta_s = 2e-6, t.tile_s = 1.5e-6, t.empty_cta_s = 0.5e-6;
  t.split_element_s = 1e-12, t.combine_launch_s = 3e-6, t.combine_row_s = 100e-12;
  const AttentionWork w = attention_work(s, 132, t, AttentionBackend::Flash);
  CHECK(w.combine_launches == 1);
  CHECK(w.combine_rows == 9216);
  CHECK(w.split_elements == 5898240);
  CHECK(w.time_s(t) == Approx(10e-6 + 2e-6 * w.busiest.ctas + 1.5e-6 * w.busiest.tiles + 0.5e-6 * w.busiest.empty +
                              5.89824e-6 + 3e-6 + 0.9216e-6));
  // 720 CTAs, 320 of them empty, over 264 slots: the busiest SM runs some of each, and each
  // working CTA of this launch has 1 or 2 tiles (a CTA's work that ran alone counts 1 / 0.89).
  CHECK(w.busiest.empty > 0);
  CHECK(w.busiest.ctas > 0);
  CHECK(w.busiest.tiles >= w.busiest.ctas);
  CHECK(w.busiest.tiles <= 2 * w.busiest.ctas);
  // What an empty CTA costs moves the time, by its count on the busiest SM (the schedule is
  // made with the costs: recomputed, not assumed the same).
  AttentionTileTimes dear = t;
  dear.empty_cta_s = 2e-6;
  const AttentionWork d = attention_work(s, 132, dear, AttentionBackend::Flash);
  CHECK(d.time_s(dear) > w.time_s(t));
  // Without a split nothing of the combine is counted.
  const AttentionWork big = attention_work(shape(4096, 4096, 8, 8, true, false), 132, t, AttentionBackend::Flash);
  CHECK(big.combine_launches == 0);
  CHECK(big.combine_rows == 0);
  CHECK(big.busiest.empty == 0);
}

TEST_CASE("FlashAttention-2 backward: a CTA per (128-key tile, query head), dK and dV summed over the group",
          "[model][tiles]") {
  // Causal 256 x 256, 4 query heads on 1 KV head: 2 key tiles x 4 query heads = 8 CTAs (GQA
  // does not merge heads), each walking 64-row steps: key tile 0 from step 0, 4 steps, masked
  // where m*64 < 127 (m = 0, 1); key tile 1 from step 128/64 = 2, 2 steps, both masked (< 255).
  // Grid order: key tile fastest, then the head.
  const std::vector<CtaWork> c = attention_ctas(shape(256, 256, 4, 1, true, true), 132, AttentionBackend::Flash);
  REQUIRE(c.size() == 8);
  for (size_t h = 0; h < 4; ++h) {
    CHECK(c[2 * h].tiles == 4);
    CHECK(c[2 * h].masked == 2);
    CHECK(c[2 * h + 1].tiles == 2);
    CHECK(c[2 * h + 1].masked == 2);
  }
  // The per-query-head dK, dV summed after: 2 x batch 1 x skv 256 x KV heads 1 x d 128 x 4 heads.
  CHECK(split_accumulator_elements(shape(256, 256, 4, 1, true, true), AttentionBackend::Flash, 132) == 2 * 256 * 128 * 4);
  // Without GQA nothing is summed; hcpsim's kernel on the GQA shape merges the heads into one
  // CTA per key tile (2 key tiles x 1 KV head = 2 CTAs, under 256: split into the 4 heads).
  CHECK(split_accumulator_elements(shape(256, 256, 4, 4, true, true), AttentionBackend::Flash, 132) == 0);
  CHECK(attention_ctas(shape(256, 256, 4, 1, true, true), 132).size() == 8);
}

TEST_CASE("cuDNN's forward deals its 128-row units round robin over the SMs, longest first", "[model][tiles]") {
  // The deal: units of work 4, 4, 3, 1, 1 (cost 1 per tile) on 2 SMs, unit i on SM i mod 2: SM 0
  // runs units 0, 2 and 4 (8 tiles, one masked), SM 1 units 1 and 3 (5). A queue (the first free
  // SM takes the next unit) would give units 3 and 4 to SM 1: SM 0 ends at 7, SM 1 at 6.
  const std::vector<CtaWork> units{{4, 0}, {4, 1}, {3, 0}, {1, 0}, {1, 1}};
  const SmLoad dealt = persistent_sm_schedule(units, 2, CtaCost{0, 1, 0});
  CHECK(dealt.ctas == 3);
  CHECK(dealt.tiles == 8);
  CHECK(dealt.masked == 1);
  CHECK(persistent_sm_schedule({}, 2, CtaCost{0, 1, 0}).ctas == 0);

  // The order: a causal forward of 512 x 512 has units of 128 query rows walking 128-key tiles,
  // unit i i + 1 tiles (1..4), its diagonal tile masked; with 2 heads the deal runs the longest
  // first, the heads of one block fastest: 4, 4, 3, 3, 2, 2, 1, 1.
  const std::vector<CtaWork> order = attention_ctas(shape(512, 512, 2, 2, true, false), 132, AttentionBackend::CuDNN);
  REQUIRE(order.size() == 8);
  for (size_t i = 0; i < order.size(); ++i) {
    CHECK(order[i].tiles == int64_t(4 - i / 2));
    CHECK(order[i].masked == 1);
  }
  // The probe's 8192-token causal forward with 3 heads on 132 SMs: 64 units per head of 1..64
  // tiles, three of each length, dealt longest first. SM 0 takes unit 0 (64 tiles) and unit 132,
  // the 133rd longest, 64 - floor(132 / 3) = 20 tiles: 2 units, 84 tiles, the busiest. (A queue
  // would end at 64 tiles; measured, 3 heads take 142.5 us against 1 head's 103.6: the deal.)
  const AttentionTiling three = attention_tiling(shape(8192, 8192, 3, 3, true, false), 132, kTiles, AttentionBackend::CuDNN);
  CHECK(three.ctas == 192);
  CHECK(three.busiest.ctas == 2);
  CHECK(three.busiest.tiles == 84);
  // Without a mask every unit is alike: 1024 x 1024, 17 heads = 136 units of 8 tiles on 132 SMs,
  // SMs 0-3 run two (the step at 17 heads the probe measured, 20.4 -> 32.9 us).
  const AttentionTiling seventeen =
      attention_tiling(shape(1024, 1024, 17, 17, false, false), 132, kTiles, AttentionBackend::CuDNN);
  CHECK(seventeen.busiest.ctas == 2);
  CHECK(seventeen.busiest.tiles == 16);
}

TEST_CASE("cuDNN's backward: units of 128 keys per query head, taken head after head by the first free SM",
          "[model][tiles]") {
  // Causal 1024 x 1024, 2 query heads on 1 KV head: per query head 8 units of 128 keys; unit j
  // walks the 64-row query steps from its diagonal (query row 128j): 16 - 2j steps, masked the
  // two that hold the diagonal (rows 128j..128j+127 against keys 128j..128j+127). Launch order:
  // head 0's units 0..7, then head 1's (a unit per query head: dK, dV summed over the group after).
  const std::vector<CtaWork> c = attention_ctas(shape(1024, 1024, 2, 1, true, true), 132, AttentionBackend::CuDNN);
  REQUIRE(c.size() == 16);
  for (size_t i = 0; i < c.size(); ++i) {
    CHECK(c[i].tiles == int64_t(16 - 2 * (i % 8)));
    CHECK(c[i].masked == 2);
  }
  // The queue on 4 SMs, cost 1 per step (ties: the lowest SM first). Head 0: SMs 0-3 start units
  // of 16, 14, 12, 10 steps; SM 3 frees at 10 and takes 8 (ends 18), SM 2 at 12 takes 6 (18), SM 1
  // at 14 takes 4 (18), SM 0 at 16 takes 2 (18). Head 1 repeats it from 18: all end at 36. The
  // busiest (the first SM to end last) is SM 0: units 16, 2, 16, 2 = 36 steps.
  const AttentionTiling q = attention_tiling(shape(1024, 1024, 2, 1, true, true), 4, kTiles, AttentionBackend::CuDNN);
  CHECK(q.ctas == 16);
  CHECK(q.busiest.tiles == 36);
  // Without a mask, 2048 x 2048 and 9 heads: 16 units of 32 steps per head, 144 units on 132 SMs:
  // 12 SMs run two (the step at 9 heads the fourteenth run's kernel profile shows, 81 -> 152 us).
  const AttentionTiling nine = attention_tiling(shape(2048, 2048, 9, 9, false, true), 132, kTiles, AttentionBackend::CuDNN);
  CHECK(nine.busiest.ctas == 2);
  CHECK(nine.busiest.tiles == 64);
}

TEST_CASE("cuDNN's backward tables: the busiest SM is bounded, not scheduled", "[model][tiles]") {
  // Forward (the tables time it where the shape model does not apply), causal, 1K tokens, 8
  // heads, counted in the units the forward tables were fitted with (table_balance_geometry: 64
  // query rows, not the kernel's 128): unit i (rows 64i..64i+63) walks keys 0..64i+63 in 128-key
  // tiles: ceil((i+1)/2) = 1,1,2,2,...,8,8 over i = 0..15, 72 per head, 576 in all. 128 units on
  // 132 SMs: the longest (8 tiles) against an even share of 576/132: balance = 8 x 132 / 576 = 11/6.
  const AttentionShape fwd = shape(1024, 1024, 8, 2, true, false);
  CHECK(attention_balance(fwd, 132, AttentionBackend::CuDNN) == Approx(8.0 * 132 / 576).epsilon(1e-12));
  // Backward, causal, same shape: units of 64 keys per query head; unit j (keys 64j..) walks the
  // 64-row query steps from its diagonal: 16 - j steps, 136 per query head, 8 x 136 = 1088 in
  // all, the longest 16: balance = 16 x 132 / 1088.
  const AttentionShape bwd = shape(1024, 1024, 8, 2, true, true);
  CHECK(attention_balance(bwd, 132, AttentionBackend::CuDNN) == Approx(16.0 * 132 / 1088).epsilon(1e-12));
  // A long launch: 32 heads x 512 units of 256 tiles each, far more than one per SM: the even
  // share (32 x 512 x 256 / 132 = 31775 tiles) exceeds any unit: balance 1.
  CHECK(attention_balance(shape(32768, 32768, 32, 8, false, false), 132, AttentionBackend::CuDNN) == 1.0);
  // Empty shapes and SM counts: 1.
  CHECK(attention_balance(shape(0, 1024, 8, 2, true, false), 132, AttentionBackend::CuDNN) == 1.0);
  CHECK(attention_balance(fwd, 0, AttentionBackend::CuDNN) == 1.0);

  // The tables' work: cuDNN's FLOPs times its balance; FLOPs for backends with a schedule model.
  Op op;
  op.kind = OpKind::Compute;
  op.compute_class = ComputeClass::Attention;
  op.attn = fwd;
  op.flops = 1e9;
  GpuSpec h200;
  h200.sm_count = 132;
  CHECK(attention_table_work(op, h200, AttentionBackend::CuDNN) == Approx(1e9 * 8.0 * 132 / 576).epsilon(1e-12));
  CHECK(attention_table_work(op, h200, AttentionBackend::Flash) == 1e9);
  CHECK(attention_table_work(op, h200, AttentionBackend::Hcpsim) == 1e9);
}

TEST_CASE("cuDNN's GQA backward adds two memory-bound reductions of dK and dV over each group", "[model][cost]") {
  // 1K keys, 32 query heads on 8 KV heads, head dim 128, batch 1: each reduction reads the
  // per-query-head tensor and writes the per-KV-head one in bf16: 1024 x 128 x (32 + 8) x 2 =
  // 10,485,760 bytes; at 4.8 TB/s x 0.5 that is 4.369 us, above the 2 us floor; two of them.
  const AttentionShape bwd = shape(1024, 1024, 32, 8, true, true);
  const double one = 1024.0 * 128 * 40 * 2 / (4.8e12 * 0.5);
  CHECK(cudnn_gqa_reduce_s(bwd, AttentionBackend::CuDNN, 4.8e12, 0.5, 2e-6) == Approx(2 * one).epsilon(1e-12));
  // A tiny launch is two kernels at the floor: 64 keys -> 0.27 us each, below 2 us.
  CHECK(cudnn_gqa_reduce_s(shape(64, 64, 32, 8, true, true), AttentionBackend::CuDNN, 4.8e12, 0.5, 2e-6) ==
        Approx(4e-6).epsilon(1e-12));
  // No reduction: forward, no GQA, or another backend (FlashAttention-2's sum is in its shape model).
  CHECK(cudnn_gqa_reduce_s(shape(1024, 1024, 32, 8, true, false), AttentionBackend::CuDNN, 4.8e12, 0.5, 2e-6) == 0);
  CHECK(cudnn_gqa_reduce_s(shape(1024, 1024, 32, 32, true, true), AttentionBackend::CuDNN, 4.8e12, 0.5, 2e-6) == 0);
  CHECK(cudnn_gqa_reduce_s(bwd, AttentionBackend::Flash, 4.8e12, 0.5, 2e-6) == 0);
  CHECK(cudnn_gqa_reduce_s(bwd, AttentionBackend::Hcpsim, 4.8e12, 0.5, 2e-6) == 0);
}

TEST_CASE("cuDNN's bottom-right causal backward runs every tile of its rectangle", "[model][tiles][cost]") {
  // Measured through cuDNN's graph API (calibrate/RESULTS.md, tenth run): the backward with a
  // bottom-right causal mask takes the no-mask kernel's time; its forward, and any top-left
  // causal kernel, skip the masked tiles.
  AttentionShape br = shape(4096, 16384, 32, 8, false, true);
  br.mask = KernelMask::CausalBottomRight;
  CHECK(executed_attention_shape(br, AttentionBackend::CuDNN, 90).mask == KernelMask::None);
  CHECK(executed_attention_shape(br, AttentionBackend::Flash, 90).mask == KernelMask::CausalBottomRight);
  CHECK(executed_attention_shape(br, AttentionBackend::Hcpsim, 90).mask == KernelMask::CausalBottomRight);
  AttentionShape fwd = br;
  fwd.backward = false;
  CHECK(executed_attention_shape(fwd, AttentionBackend::CuDNN, 90).mask == KernelMask::CausalBottomRight);
  const AttentionShape top_left = shape(4096, 4096, 32, 8, true, true);
  CHECK(executed_attention_shape(top_left, AttentionBackend::CuDNN, 90).mask == KernelMask::CausalTopLeft);
  AttentionShape window = br;
  window.window = 1024;  // a sliding window is a band: not this rule's case
  CHECK(executed_attention_shape(window, AttentionBackend::CuDNN, 90).mask == KernelMask::CausalBottomRight);
  // Measured on sm_90 only: other SM versions (A100 80, Blackwell 100) keep the scores' mask.
  CHECK(executed_attention_shape(br, AttentionBackend::CuDNN, 100).mask == KernelMask::CausalBottomRight);
  CHECK(executed_attention_shape(br, AttentionBackend::CuDNN, 80).mask == KernelMask::CausalBottomRight);
  // Every tile of the executed rectangle carries the mask, applied by value (about 8 % more cycles
  // than the no-mask kernel, calibrate/RESULTS.md sixteenth run): the no-mask rectangle's units,
  // each of its query steps masked. cuDNN's backward units: 16384 / 128 = 128 key blocks x 32 query
  // heads = 4096, each walking 4096 / 64 = 64 query steps.
  const AttentionShape executed = executed_attention_shape(br, AttentionBackend::CuDNN, 90);
  CHECK(executed.every_tile_masked);
  CHECK_FALSE(executed_attention_shape(fwd, AttentionBackend::CuDNN, 90).every_tile_masked);
  CHECK_FALSE(executed_attention_shape(br, AttentionBackend::CuDNN, 100).every_tile_masked);
  AttentionShape rectangle = br;
  rectangle.mask = KernelMask::None;
  const std::vector<CtaWork> by_value = attention_ctas(executed, 132, AttentionBackend::CuDNN);
  const std::vector<CtaWork> no_mask = attention_ctas(rectangle, 132, AttentionBackend::CuDNN);
  REQUIRE(by_value.size() == 4096);
  REQUIRE(no_mask.size() == 4096);
  for (size_t i = 0; i < by_value.size(); ++i) {
    CHECK(by_value[i].tiles == 64);
    CHECK(by_value[i].masked == 64);
    CHECK(no_mask[i].tiles == 64);
    CHECK(no_mask[i].masked == 0);
  }
  // The shape model: the rectangle's time plus masked_tile_s for each tile on the busiest SM.
  // 4096 equal units over 132 SMs by the first free SM: 4096 = 31 x 132 + 4, so SMs 0-3 run 32
  // units (2048 steps), the rest 31; the busiest is SM 0: 32 units, 2048 tiles, all masked.
  AttentionShapeModel m;
  m.backend = AttentionBackend::CuDNN;
  m.sm_count = 132;
  m.head_dim = 128;
  m.backward = true;
  m.bwd_nomask = {20e-6, 3e-6, 2.7e-6, 0.2e-6, 0, 0};
  const double rect_s = 20e-6 + 32 * 3e-6 + 2048 * 2.7e-6;
  CHECK(m.time_s(rectangle) == Approx(rect_s).epsilon(1e-12));
  CHECK(m.time_s(executed) == Approx(rect_s + 2048 * 0.2e-6).epsilon(1e-12));

  const GpuSpec gpu{"H200", 989e12, 1979e12, 141e9, 4.8e12, 90, 132};
  GpuSpec b200 = gpu;
  b200.compute_capability = 100;
  CHECK(attention_table_parameter_for(br, AttentionBackend::CuDNN, gpu).name == std::string("attention_bwd_nomask"));
  CHECK(attention_table_parameter_for(br, AttentionBackend::CuDNN, b200).name == std::string("attention_bwd_causal"));
  CHECK(attention_table_parameter_for(br, AttentionBackend::Flash, gpu).name == std::string("attention_bwd_causal"));
  CHECK(attention_table_parameter_for(fwd, AttentionBackend::CuDNN, gpu).name == std::string("attention_fwd_causal"));

  // The table's work is the rectangle's FLOPs. Query row i of 4096 sees keys 0 .. i + 12288:
  // visible = 4096 x 12288 + 4096 x 4097 / 2 = 58,722,304 of the 4096 x 16384 = 67,108,864 scores.
  // Backward FLOPs 2.5 x 4 x hq x d x scores. Balance 1: 256 key units x 32 query heads = 8192
  // units of 64 query steps, far more than 132 SMs hold at once.
  const double per_score = 2.5 * 4 * 32 * 128;
  Op op;
  op.kind = OpKind::Compute;
  op.compute_class = ComputeClass::Attention;
  op.attn = br;
  op.flops = per_score * 58722304.0;
  CHECK(attention_table_work(op, gpu, AttentionBackend::CuDNN) == Approx(per_score * 67108864.0).epsilon(1e-12));
  CHECK(attention_table_work(op, gpu, AttentionBackend::Flash) == op.flops);
  CHECK(attention_table_work(op, b200, AttentionBackend::CuDNN) == op.flops);

  // So the cost model times it as the no-mask kernel of the same rectangle (same table, same
  // work, same GQA reduction), and the top-left causal square of half the scores faster. Without
  // a shape model (the tables), exactly the rectangle's time; with the built-in one, the
  // rectangle's plus a masked tile's extra time for each of the busiest SM's 2048 tiles (above).
  CostParams tables_only = default_cost_params(gpu, AttentionBackend::CuDNN);
  REQUIRE(tables_only.attention_shape);
  const AttentionTileTimes fitted = tables_only.attention_shape->bwd_nomask;
  CHECK(fitted.masked_tile_s > 0);
  tables_only.attention_shape.reset();
  const CostModel tables(gpu, Precision::BF16, tables_only);
  const CostModel model(gpu, Precision::BF16, default_cost_params(gpu, AttentionBackend::CuDNN));
  Op rect = op;
  rect.attn.mask = KernelMask::None;
  rect.flops = per_score * 67108864.0;
  CHECK(tables.compute_time_s(op) == Approx(tables.compute_time_s(rect)).epsilon(1e-12));
  CHECK(model.compute_time_s(op) ==
        Approx(model.compute_time_s(rect) + 2048 * fitted.masked_tile_s).epsilon(1e-12));
  Op fwd_op = op;
  fwd_op.attn = fwd;
  fwd_op.flops = op.flops / 2.5;
  Op fwd_rect = rect;
  fwd_rect.attn.backward = false;
  fwd_rect.flops = rect.flops / 2.5;
  CHECK(model.compute_time_s(fwd_op) < model.compute_time_s(fwd_rect));  // the forward skips masked tiles
}

TEST_CASE("FlashAttention-2 forward: the time's range over the drawn placements, half of it relative to the median",
          "[model][tiles][cost]") {
  // By hand: t = 1 us + 1 us a tile; the median placement's busiest SM runs 10 tiles (11 us), the
  // shortest 8 (9 us), the longest 15 (16 us): spread (16 - 9) / (2 x 11) = 0.318.
  AttentionTileTimes t;
  t.t0_s = 1e-6, t.tile_s = 1e-6;
  AttentionWork w;
  w.busiest.tiles = 10;
  CHECK(w.placement_spread(t) == 0);  // one schedule: no range
  w.placements = PlacementRange{SmLoad{0, 8, 0, 0}, SmLoad{0, 15, 0, 0}};
  CHECK(w.placement_spread(t) == Approx(7.0 / 22.0));
  // From the schedules: a causal launch just over one wave (2432 tokens, 7 heads: 19 query tiles
  // a head, 133 CTAs). One SM gets a second CTA: the last, the last head's query tile 18 (38
  // key tiles of 64, cost A = 2 + 1.7 x 38 = 66.6 us), beside the first fill's block at the
  // lead's position: 0 from the usual start (the first head's query tile 0, 2 key tiles: cost
  // B = 2 + 1.7 x 2 = 5.4 us) in every draw, so the median; 4 from two TPCs later (query tile 4,
  // 10 key tiles: B = 2 + 1.7 x 10 = 19 us), the range's other end. The two share the SM until B
  // is done (2B), then A runs alone: 2B + (A - B) / a, with a = 0.89 the lone rate, later than
  // the lone long tiles (A / a); the time is t0 + that: 88.56 and 100.48 us.
  // A no-mask launch of equal CTAs (one tile length) ends alike under every draw; cuDNN's
  // persistent forward and any backward are not drawn.
  AttentionTileTimes f;
  f.t0_s = 9e-6, f.cta_s = 2e-6, f.tile_s = 1.7e-6, f.empty_cta_s = 1e-6;
  const AttentionWork causal = attention_work(shape(2432, 2432, 7, 7, true, false), 132, f, AttentionBackend::Flash);
  REQUIRE(causal.placements);
  const double a = rules::kFlashFwdLoneCtaRate, long_us = 2 + 1.7 * 38;
  const auto pair_us = [&](double b_us) { return 9 + 2 * b_us + (long_us - b_us) / a; };
  AttentionWork shortest = causal, longest = causal;
  shortest.busiest = causal.placements->shortest, longest.busiest = causal.placements->longest;
  CHECK(causal.time_s(f) == Approx(pair_us(5.4) * 1e-6));
  CHECK(shortest.time_s(f) == Approx(pair_us(5.4) * 1e-6));
  CHECK(longest.time_s(f) == Approx(pair_us(19) * 1e-6));
  CHECK(causal.placement_spread(f) == Approx((pair_us(19) - pair_us(5.4)) / (2 * pair_us(5.4))));
  const AttentionWork equal = attention_work(shape(2432, 2432, 7, 7, false, false), 132, f, AttentionBackend::Flash);
  REQUIRE(equal.placements);
  CHECK(equal.placement_spread(f) == Approx(0).margin(1e-12));
  CHECK_FALSE(attention_work(shape(2432, 2432, 7, 7, true, false), 132, f, AttentionBackend::CuDNN).placements);
  CHECK_FALSE(attention_work(shape(2432, 2432, 7, 7, true, true), 132, f, AttentionBackend::Flash).placements);
  // The cost model gives an op's spread from its shape model (memoized with its time); 0 for
  // a shape the model does not apply to and for other ops.
  const GpuSpec gpu{"H200", 989e12, 1979e12, 141e9, 4.8e12};
  CostParams p = default_cost_params();
  AttentionShapeModel m;
  m.backend = AttentionBackend::Flash;
  m.sm_count = 132;
  m.head_dim = 128;
  m.fwd_causal = m.fwd_nomask = m.bwd_causal = m.bwd_nomask = f;
  p.attention_shape = m;
  p.attention_backend = AttentionBackend::Flash;
  const CostModel model(gpu, Precision::BF16, p);
  Op op;
  op.kind = OpKind::Compute;
  op.compute_class = ComputeClass::Attention;
  op.attn = shape(2432, 2432, 7, 7, true, false);
  CHECK(model.placement_spread(op) == Approx(causal.placement_spread(f)));
  CHECK(model.compute_time_s(op) == Approx(causal.time_s(f)));
  op.attn.head_dim_qk = op.attn.head_dim_v = 64;
  CHECK(model.placement_spread(op) == 0);
  Op gemm;
  gemm.kind = OpKind::Compute;
  gemm.compute_class = ComputeClass::Gemm;
  gemm.flops = 1e12;
  CHECK(model.placement_spread(gemm) == 0);
}

TEST_CASE("a unit's masked tiles in closed form equal a walk over its tiles", "[model][tiles]") {
  // The reference walks every tile of a unit and tests the mask as the kernels do: forward, key
  // tile n masked when it reaches past the key end or (causal) its last key lies past the unit's
  // last row's diagonal, n bkv + bkv - 1 > m0 + off; backward, query step m masked when the unit's
  // keys reach past the key end or (causal) m bq + off < n0 + bkv - 1. off = skv - sq for a
  // bottom-right mask, else 0. Every unit of every shape below, both geometries of every backend.
  const auto walk_forward = [](const AttentionShape& s, const AttentionKernelGeometry& g, int64_t m0, int64_t tiles) {
    const int64_t off = s.mask == KernelMask::CausalBottomRight ? s.skv - s.sq : 0;
    int64_t masked = 0;
    for (int64_t n = 0; n < tiles; ++n) {
      const int64_t n0 = n * g.block_kv;
      masked += s.every_tile_masked || n0 + g.block_kv > s.skv ||
                        (s.mask != KernelMask::None && n0 + g.block_kv - 1 > m0 + off)
                    ? 1 : 0;
    }
    return masked;
  };
  const auto walk_backward = [](const AttentionShape& s, const AttentionKernelGeometry& g, int64_t n0, int64_t m_first,
                                int64_t m_count) {
    const int64_t off = s.mask == KernelMask::CausalBottomRight ? s.skv - s.sq : 0;
    int64_t masked = 0;
    for (int64_t m = m_first; m < m_first + m_count; ++m)
      masked += s.every_tile_masked || n0 + g.block_kv > s.skv ||
                        (s.mask != KernelMask::None && m * g.block_q + off < n0 + g.block_kv - 1)
                    ? 1 : 0;
    return masked;
  };
  int64_t units = 0, some_masked = 0;
  for (const int64_t sq : {1, 63, 64, 127, 128, 129, 1000, 2048, 3001})
    for (const int64_t skv : {1, 64, 128, 200, 2048, 4096, 5000})
      for (const KernelMask mask : {KernelMask::None, KernelMask::CausalTopLeft, KernelMask::CausalBottomRight})
        for (const bool every : {false, true})
          for (const bool backward : {false, true})
            for (const AttentionBackend b : {AttentionBackend::Hcpsim, AttentionBackend::Flash, AttentionBackend::CuDNN}) {
              AttentionShape s = shape(sq, skv, 8, 8, false, backward);
              s.mask = mask;
              s.every_tile_masked = every;
              const AttentionKernelGeometry g = attention_kernel_geometry(b, s);
              // Every unit the kernel could run, and some past the lengths (a causal unit may
              // start beyond the other side's end).
              if (!backward) {
                for (int64_t m0 = 0; m0 < sq + 2 * g.block_q; m0 += g.block_q)
                  for (const int64_t tiles : {int64_t(0), int64_t(1), (skv + g.block_kv - 1) / g.block_kv, m0 / g.block_kv + 1}) {
                    const int64_t want = walk_forward(s, g, m0, tiles);
                    INFO("fwd sq " << sq << " skv " << skv << " mask " << int(mask) << " m0 " << m0 << " tiles " << tiles);
                    CHECK(forward_unit_masked_tiles(s, g, m0, tiles) == want);
                    ++units, some_masked += want > 0 && want < tiles ? 1 : 0;
                  }
              } else {
                const int64_t q_steps = (sq + g.block_q - 1) / g.block_q;
                for (int64_t n0 = 0; n0 < skv + 2 * g.block_kv; n0 += g.block_kv)
                  for (int64_t m_first = 0; m_first <= q_steps; ++m_first) {
                    const int64_t m_count = q_steps - m_first;
                    const int64_t want = walk_backward(s, g, n0, m_first, m_count);
                    INFO("bwd sq " << sq << " skv " << skv << " mask " << int(mask) << " n0 " << n0 << " m_first " << m_first);
                    CHECK(backward_unit_masked_steps(s, g, n0, m_first, m_count) == want);
                    ++units, some_masked += want > 0 && want < m_count ? 1 : 0;
                  }
              }
            }
  CHECK(units > 10000);
  CHECK(some_masked > 1000);  // the cases where the boundary falls inside a unit are many
}

TEST_CASE("A varlen launch over documents of unequal lengths: FlashAttention-2's grid of the longest, its empty CTAs",
          "[model][tiles]") {
  // Two documents in one causal forward launch, one head: 256 tokens, then 128. FlashAttention-2's
  // grid is (query tiles of the longest = 256/128 = 2, documents, heads), tiles fastest: document
  // 0's tiles 0 and 1 (2 and 4 key tiles of 64, as the 256 x 256 test above), then document 1's
  // tile 0 (128 rows: keys < 128, 2 tiles, both crossing the diagonal) and its tile 1 past the
  // document's end, a CTA that finds no rows. No key split, though 4 CTAs on 2 SMs would split a
  // batched launch of that size (varlen forwards split keys only for decoding).
  AttentionShape s = shape(256, 256, 1, 1, true, false);
  s.more.push_back({1, 128, 128});
  const std::vector<CtaWork> c = attention_ctas(s, 2, AttentionBackend::Flash);
  REQUIRE(c.size() == 4);
  CHECK(c[0].tiles == 2);
  CHECK(c[1].tiles == 4);
  CHECK(c[2].tiles == 2);
  CHECK(c[2].masked == 2);
  CHECK(c[3].tiles == 0);
  CHECK(split_combine_rows(s, AttentionBackend::Flash, 2) == 0);
  // Two heads: each head's documents in turn (grid z = the head): 8 CTAs, 2 empty.
  AttentionShape h2 = s;
  h2.heads_q = h2.heads_kv = 2;
  const std::vector<CtaWork> c2 = attention_ctas(h2, 132, AttentionBackend::Flash);
  REQUIRE(c2.size() == 8);
  CHECK(std::count_if(c2.begin(), c2.end(), [](const CtaWork& w) { return w.tiles == 0; }) == 2);
  CHECK(c2[4].tiles == 2);  // head 1 starts again with document 0's first tile
  CHECK(c2[5].tiles == 4);
  // The backward: (key tiles of the longest = 256/128 = 2, documents, query heads). Document 0:
  // key tile 0 walks 4 steps of 64 rows, key tile 1 from step 2, 2 steps (the test above);
  // document 1 (128 keys): key tile 0 walks 2 steps; its key tile 1 is past its end. The dK, dV
  // of 4 query heads on 1 KV head summed per document: 2 x (256 + 128) x 128 x 4.
  AttentionShape b = shape(256, 256, 4, 1, true, true);
  b.more.push_back({1, 128, 128});
  const std::vector<CtaWork> cb = attention_ctas(b, 132, AttentionBackend::Flash);
  REQUIRE(cb.size() == 16);  // 4 query heads x 2 documents x 2 key tiles
  for (size_t h = 0; h < 4; ++h) {
    CHECK(cb[4 * h].tiles == 4);
    CHECK(cb[4 * h + 1].tiles == 2);
    CHECK(cb[4 * h + 2].tiles == 2);
    CHECK(cb[4 * h + 3].tiles == 0);
  }
  CHECK(split_accumulator_elements(b, AttentionBackend::Flash, 132) == 2 * (256 + 128) * 128 * 4);
}

TEST_CASE("A varlen launch does its documents' batched launches' work, FlashAttention-2's grid padded to the longest",
          "[model][tiles]") {
  // Documents of 2048, 2048 and 512 tokens, causal, 8 query heads on 2 KV heads, on 132 SMs. The
  // varlen launch does the work of the batched launches of its groups (2 x 2048, then 512): the
  // same non-empty units, tiles and masked tiles, for every backend and pass. A FlashAttention-2
  // forward of the 512-token document alone would split its keys (8 heads x 8 units of 64 rows
  // < 0.8 x 264 slots); unsplit, its units are 128-row query tiles walking 2, 4, 6, 8 key tiles
  // of 64, two of them crossing the diagonal, x 8 heads. FlashAttention-2's grid adds the short
  // document's tiles past its end: (2048 - 512) / 128 = 12 units (forward: of 128 rows; backward:
  // of 128 keys) a head, x 8 query heads.
  for (const AttentionBackend backend : {AttentionBackend::Flash, AttentionBackend::CuDNN, AttentionBackend::Hcpsim})
    for (const bool backward : {false, true}) {
      CAPTURE(to_string(backend), backward);
      AttentionShape long_docs = shape(2048, 2048, 8, 2, true, backward);
      long_docs.batch = 2;
      AttentionShape ragged = long_docs;
      ragged.more.push_back({1, 512, 512});
      int64_t tiles = 0, masked = 0, units = 0;
      const auto add = [&](const std::vector<CtaWork>& c) {
        for (const CtaWork& w : c) tiles += w.tiles, masked += w.masked, units += w.tiles > 0 ? 1 : 0;
      };
      add(attention_ctas(long_docs, 132, backend));
      if (backend == AttentionBackend::Flash && !backward)
        tiles += 8 * (2 + 4 + 6 + 8), masked += 8 * 4 * 2, units += 8 * 4;
      else
        add(attention_ctas(shape(512, 512, 8, 2, true, backward), 132, backend));
      const std::vector<CtaWork> c = attention_ctas(ragged, 132, backend);
      int64_t got_tiles = 0, got_masked = 0, got_units = 0;
      for (const CtaWork& w : c) got_tiles += w.tiles, got_masked += w.masked, got_units += w.tiles > 0 ? 1 : 0;
      CHECK(got_tiles == tiles);
      CHECK(got_masked == masked);
      CHECK(got_units == units);
      CHECK(int64_t(c.size()) - got_units == (backend == AttentionBackend::Flash ? 8 * 12 : 0));
      CHECK(attention_tiling(ragged, 132, kTiles, backend).ctas == int64_t(c.size()));
    }
}

TEST_CASE("A long varlen launch balances to the mean with its empty CTAs counted, not listed, and tables balance over all documents",
          "[model][tiles]") {
  // FlashAttention-2 forward, causal, 128 heads, documents of 8192 and 128 tokens: a grid of
  // 8192/128 = 64 query tiles x 2 documents x 128 heads = 16384 CTAs (over 64 waves of 132 SMs),
  // 63 x 128 = 8064 of them past the short document's end. Tiles: the long document's tile m walks
  // 2(m+1) key tiles of 64, 2 x (1 + ... + 64) = 4160 a head, the short one's 2: 4162 x 128 =
  // 532736. The mean: ceil(16384/132) = 125 CTAs on the busiest SM, 8064/16384 of them empty,
  // ceil(532736/132) = 4036 tiles.
  AttentionShape s = shape(8192, 8192, 128, 128, true, false);
  s.more.push_back({1, 128, 128});
  const AttentionTiling t = attention_tiling(s, 132, kTiles, AttentionBackend::Flash);
  CHECK(t.ctas == 16384);
  CHECK(t.tiles == 532736);
  CHECK(t.busiest.empty == Approx(125.0 * 8064 / 16384));
  CHECK(t.busiest.ctas == Approx(125.0 * (16384 - 8064) / 16384));
  CHECK(t.busiest.tiles == 4036);
  // cuDNN's forward table balance counts 64-row units walking 128-key tiles: a causal document of
  // L tokens has units k = 1 .. L/64 of ceil(k/2) tiles, 2 x (1 + ... + L/128) in all: 272 for
  // 2048, 20 for 512. Two documents of 2048 and one of 512, one head: 564 tiles, the longest unit
  // 16; on 132 SMs max(16, 564/132) / (564/132).
  AttentionShape r = shape(2048, 2048, 1, 1, true, false);
  r.batch = 2;
  r.more.push_back({1, 512, 512});
  CHECK(attention_balance(r, 132, AttentionBackend::CuDNN) == Approx(16.0 / (564.0 / 132)));
}

TEST_CASE("A varlen launch's exiting CTAs: its time takes the middle of none and the fitted empty CTA's cost, its spread half the range",
          "[model][tiles][cost]") {
  // FlashAttention-2's causal backward over documents of 256 and 128 tokens, one head, on one SM:
  // the units of the test above, 4 + 2 + 2 query steps and one CTA past the short document's end.
  // Tile 1 s, no CTA or launch term, an empty CTA 0.5 s: 8.5 s with the exiting CTA at the empty
  // CTA's cost, 8 s at none; the time is 8.25 s, the spread 0.25 / 8.25.
  AttentionShapeModel m;
  m.backend = AttentionBackend::Flash;
  m.sm_count = 1;
  m.head_dim = 128;
  m.bwd_causal.tile_s = 1;
  m.bwd_causal.empty_cta_s = 0.5;
  AttentionShape s = shape(256, 256, 1, 1, true, true);
  s.more.push_back({1, 128, 128});
  const AttentionShapeModel::Timing t = m.timing(s);
  CHECK(t.time_s == Approx(8.25));
  CHECK(t.exit_spread == Approx(0.25 / 8.25));
  // Documents of one length exit nothing: no spread, the time as before.
  const AttentionShapeModel::Timing one = m.timing(shape(256, 256, 1, 1, true, true));
  CHECK(one.exit_spread == 0);
  CHECK(one.time_s == Approx(6));
}

TEST_CASE("FlashAttention-2 over packed documents of one length splits no keys: a varlen launch", "[model][tiles]") {
  // 1024 x 1024 causal, one head, on 132 SMs: 16 units of 64 rows, under 0.8 x 264 slots, so the
  // batched kernel splits its keys (the split-KV test above); TE's THD input runs the varlen kernel,
  // which does not: 1024/128 = 8 CTAs, no combine kernel, no partial outputs.
  AttentionShape s = shape(1024, 1024, 1, 1, true, false);
  CHECK(split_combine_rows(s, AttentionBackend::Flash, 132) > 0);
  s.varlen = true;
  CHECK(attention_ctas(s, 132, AttentionBackend::Flash).size() == 8);
  CHECK(split_combine_rows(s, AttentionBackend::Flash, 132) == 0);
  CHECK(split_accumulator_elements(s, AttentionBackend::Flash, 132) == 0);
}

// Which blocks of a launch share an SM: one definition for the tile model's two-CTAs-per-SM
// schedule (cost/attention_tiles.cpp, FlashAttention-2's forward) and its tests.
//
// The block scheduler does not put block k and block k + SMs on one SM. It fills the GPCs round
// robin a TPC (two SMs) at a time, and the GPCs are not of one size: which TPCs are fused off
// differs from die to die (an H100 or H200 enables 66 of GH100's 72). Probed on the lent H200
// (calibrate/probes/block_placement.cu; calibrate/RESULTS.md, sixteenth and seventeenth runs),
// the two blocks that share an SM from the start lie 132 apart on 55-64 % of the SMs, 124 on most
// others and 80-92 on one GPC's, in proportions that change from launch to launch (gap 132 on 72
// to 84 of the 132 SMs over 20 launches of 352 blocks, each after a kernel of uneven blocks); in a
// launch of more blocks than slots, 28-40 % of the pairs that share an SM at some time differ
// between launches. A launch of at most two blocks per SM repeats its placement exactly.
//
// Where the blocks are of equal work this does not matter: FlashAttention-2's no-mask forward at
// 1408 tokens, 32 heads, ran 115.7-118.7 us over 20 back-to-back launches. Where they are not
// (causal: query tile i walks i + 1 key-tile pairs) it does, through which query tiles share an
// SM, that is the gap modulo the tiles of one head: the causal launch of the same shape ran
// 85.0-99.2 us, at 2048 tokens 153.9-177.1 us (calibrate/results/h200-v25-torch-*.json, min_s
// and max_s). The measured gaps (124-132 and 80-92, mixed) put most residues side by side for a
// head of 8-16 tiles; pairing block k with k + 132 always gave one residue only (at 1408 tokens,
// 11 tiles a head: every long tile with an equal one).
//
// One part of the pattern held in every launch probed: where a launch has more blocks than SMs
// and fewer than twice as many, its second fill starts beside the first fill's start. Over
// launches of 133-263 blocks (each after a kernel of uneven blocks, three launches a count:
// calibrate/RESULTS.md, nineteenth run) the second fill took one SM of each of the first fill's
// first four TPCs in turn (first-fill positions 0, 2, 4, 6), then their other SMs (1, 3, 5, 7),
// before spreading over the rest, its blocks in ascending position (135 blocks: 0, 2, 4; 137: 0,
// 1, 2, 4, 6; from 140: 0-7 in order); in four launches (the second and third of 133 and of 134
// blocks) it started two TPCs later (positions 4; 4, 6). In a causal FlashAttention-2 forward the
// first fill's first blocks are the first head's shortest query tiles: the last head's long tiles
// that spill over one wave share an SM with them (2432 tokens of 7 heads, 133 blocks: 78.1 us,
// against 74.5 us for 6 heads on one SM each).
//
// hcpsim cannot know the GPC layout of the user's die nor which mix a launch gets, so it does not
// replay the rest of this die's pattern. It schedules the launch under several placements drawn at
// random (one block on every SM first, in a drawn order, then a second block on every SM in
// another, led as above from the first lead TPC where the launch has fewer than two blocks per
// SM; later blocks take the slots that free, empty SMs first, the SMs that free at one instant in
// a drawn order) and takes the placement of median length (the measured time is a median over
// launches): a stand-in for a mix of pairings, not the scheduler's rule. The range it reports
// spans the same draws led from two TPCs later too.
// The draws come from a fixed generator (SplitMix64 from fixed seeds), the same on every machine
// and every run. The lead is the probed H200's (GH100); on other dies and generations it is not
// measured.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace hcpsim::rules {

// Placements a two-CTAs-per-SM launch is scheduled under (odd: one is the median).
inline constexpr int kPlacementSamples = 15;

// The second fill's lead (above): the first fill's first kSecondFillLeadTpcs TPCs of two SMs,
// from the first of them (401 of the 405 launches probed) or, as seen in 4, two TPCs later.
inline constexpr int64_t kSecondFillLeadTpcs = 4;
inline constexpr int64_t kSmsPerTpc = 2;
inline constexpr int64_t kSecondFillUsualStartTpc = 0;
inline constexpr int64_t kSecondFillLaterStartTpc = 2;

// The first-fill positions the first `blocks` second-fill blocks go beside, in block order: of
// the lead's SMs in the order it takes them (one SM of each lead TPC in turn from `start_tpc`,
// then the other SM of each), the first min(blocks, 8), in ascending position (start 0: 3 blocks
// 0, 2, 4; 5 blocks 0, 1, 2, 4, 6; 8 or more 0-7).
inline std::vector<int64_t> second_fill_lead(int64_t start_tpc, int64_t blocks) {
  std::vector<int64_t> positions;
  for (int64_t sm = 0; sm < kSmsPerTpc; ++sm)
    for (int64_t t = 0; t < kSecondFillLeadTpcs; ++t)
      positions.push_back(((start_tpc + t) % kSecondFillLeadTpcs) * kSmsPerTpc + sm);
  positions.resize(size_t(std::clamp<int64_t>(blocks, 0, int64_t(positions.size()))));
  std::sort(positions.begin(), positions.end());
  return positions;
}

// SplitMix64 (Steele, Lea, Flood: "Fast splittable pseudorandom number generators", OOPSLA 2014):
// a fixed, portable sequence for a seed (std::shuffle's algorithm is the library's own).
struct PlacementDraws {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Fisher-Yates over v (the modulo's bias, below 2^-50 for fewer than 2^14 SMs, is immaterial).
  template <class T>
  void shuffle(std::vector<T>& v) {
    for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[std::size_t(next() % uint64_t(i))]);
  }
};

}  // namespace hcpsim::rules

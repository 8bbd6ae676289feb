// Which blocks of a launch share an SM when kernels run back to back: one definition for the tile
// model's two-CTAs-per-SM schedule (cost/attention_tiles.cpp, FlashAttention-2's forward) and its
// tests.
//
// The block scheduler does not put block k and block k + SMs on one SM. It fills the GPCs round
// robin a TPC (two SMs) at a time, and the H200's GPCs are not of one size: probed on an idle
// GPU (calibrate/probes/block_placement.cu, calibrate/RESULTS.md "Sixteenth run"), the two blocks
// that share an SM from the start lie 124-132 blocks apart on most SMs and 55-92 on a few, and the
// order itself differed between launches of the same grid (one of the six probe runs started its
// fill at another GPC). Back to back, a launch's blocks start where the previous kernel's tail
// frees SMs, so which blocks share an SM changes from launch to launch. Where the blocks are of
// equal work (no mask) it does not matter: FlashAttention-2's no-mask forward at 1408 tokens, 32
// heads, ran 115.7-118.7 us over 20 back-to-back launches. Where they are not (causal: query tile i
// walks i + 1 key-tile pairs), it does: the causal launch of the same shape ran 85.0-99.2 us, at
// 2048 tokens 153.9-177.1 us (calibrate/results/h200-v25-torch-*.json, min_s and max_s).
//
// hcpsim therefore schedules such a launch under several placements: the first fill puts one block
// on every SM, in an order drawn at random, then a second block on every SM in another random
// order; later blocks take the slots that free, empty SMs first, the SMs that free at one instant
// in random order. It takes the placement of median length (the measured time is the median over
// launches). The draws come from a fixed generator (SplitMix64 from fixed seeds), so a prediction
// is the same on every machine and every run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace hcpsim::rules {

// Placements a two-CTAs-per-SM launch is scheduled under (odd: one is the median).
inline constexpr int kPlacementSamples = 15;

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

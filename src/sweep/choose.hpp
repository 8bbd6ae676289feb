// Which of several simulated options to run: the fastest that fits in memory; options whose
// bands overlap the best's once the evidence they share is counted once (ratio_band,
// run/uncertainty.hpp: neither is reliably faster), or within kThroughputTie of it, are a tie,
// which goes to the one with the most headroom (the Megatron-Bridge way of choosing), with the
// reasons worded from the numbers; a pick whose headroom is below the caching allocator's margin
// (rules/allocator.hpp) is said to be one that may run out, beside the fastest option that leaves
// it. The built-in study and the
// sweep's recommendation both choose with it.
#pragma once

#include <string>
#include <vector>

#include "run/result.hpp"

namespace hcpsim {

struct StudyRow {
  std::string label;        // "A", "A + full recompute", ...
  SimulationResult result;  // of a step simulation (result.step is set)
};

// Fitting options within this fraction of the best throughput count as a tie even where their
// bands are narrower, broken by memory headroom.
constexpr double kThroughputTie = 0.02;

// How far apart two predictions may be and still tie: the band of their ratio (the evidence they do
// not share, run/uncertainty.hpp), or kThroughputTie where that is wider. One rule for the sweep's
// layouts, a study's subsets and its options.
double tie_margin(const Uncertainty& a, const Uncertainty& b);

// Whether `a` and `b` tie: their per-GPU throughputs differ by no more than tie_margin.
bool throughput_tie(const SimulationResult& a, const SimulationResult& b);

// Index of the recommended row (-1 when none fits) and the reasons in words.
int recommend(const std::vector<StudyRow>& rows, std::string& reasons);

}  // namespace hcpsim

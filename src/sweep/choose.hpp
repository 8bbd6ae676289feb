// Which of several simulated options to run: the fastest that fits in memory; options whose
// throughput bands overlap the best's (run/uncertainty.hpp: neither is reliably faster), or
// within kThroughputTie of it, are a tie, which goes to the one with the most headroom (the
// Megatron-Bridge way of choosing), with the reasons worded from the numbers. The built-in study and the
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

// Whether `a` and `b` tie: their per-GPU throughput bands overlap, or they are within kThroughputTie.
bool throughput_tie(const SimulationResult& a, const SimulationResult& b);

// Index of the recommended row (-1 when none fits) and the reasons in words.
int recommend(const std::vector<StudyRow>& rows, std::string& reasons);

}  // namespace hcpsim

// Which of several simulated options to run: the fastest that fits in memory, a tie within
// kThroughputTie of the best going to the one with the most headroom (the Megatron-Bridge
// way of choosing), with the reasons worded from the numbers. The built-in study and the
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

// Fitting options within this fraction of the best throughput count as a tie,
// broken by memory headroom.
constexpr double kThroughputTie = 0.02;

// Index of the recommended row (-1 when none fits) and the reasons in words.
int recommend(const std::vector<StudyRow>& rows, std::string& reasons);

}  // namespace hcpsim

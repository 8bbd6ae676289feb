// Several simulated options side by side, and which one to run, with reasons
// worded from the numbers (the built-in study; later the sweep).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace hcpsim {

struct StudyRow {
  std::string label;     // "A", "A + full recompute", ...
  nlohmann::json result; // result_to_json of a step simulation
};

// Fitting options within this fraction of the best throughput count as a tie,
// broken by memory headroom (the Megatron-Bridge way of choosing).
constexpr double kThroughputTie = 0.02;

std::string format_study_table(const std::vector<StudyRow>& rows);
// Index of the recommended row (-1 when none fits) and the reasons in words.
int recommend(const std::vector<StudyRow>& rows, std::string& reasons);

}  // namespace hcpsim

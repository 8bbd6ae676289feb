// The built-in kernel defaults as calibration files (src/cost/defaults/*.json, embedded at build
// time by default_calibrations.cmake): what `hcpsim fit` made of committed H200 measurements at
// the sustained clock, one file per attention backend. docs/cost-model.md §2 gives the commands.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace hcpsim {

// (name, JSON text) of every embedded file: "h200-cudnn", "h200-flash", "h200-hcpsim",
// "h200-memory-bound" (the layer's and loss's memory-bound kernels, PyTorch's forms).
const std::vector<std::pair<std::string, std::string>>& default_calibration_texts();

}  // namespace hcpsim

// What a GPU's name says: which model it is (H200, GB200, A100: the token shared by nvidia-smi's
// name, a preset's and a measurement file's), and whether it is an NVIDIA GPU at all.
#pragma once

#include <optional>
#include <string>

#include "scenario/scenario.hpp"

namespace hcpsim {

// Whether a GPU reported as `reported` (nvidia-smi's name, e.g. "NVIDIA H200") is the model of
// `gpu` (a preset's, e.g. "H200-SXM-141GB"): they share a model token (H200, GB200, ...).
bool gpu_model_matches(const std::string& reported, const GpuSpec& gpu);

// The word of `name` that names an accelerator of another vendor (AMD's Instinct MI300X, Intel's
// Gaudi, Google's TPU, AWS's Trainium, ...), which hcpsim does not model: its kernels are CUDA's
// and cuDNN's, its collectives NCCL's. nullopt for any other name.
std::optional<std::string> other_vendor_word(const std::string& name);

}  // namespace hcpsim

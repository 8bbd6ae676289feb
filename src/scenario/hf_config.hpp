// Model shape from a Hugging Face config.json.
#pragma once

#include <string>

#include "common/diagnostics.hpp"
#include "scenario/scenario.hpp"

namespace hcpsim {

// The keys a Hugging Face config names its experts with (Mixtral and Qwen-MoE, DeepSeek,
// OLMoE/Qwen3-MoE); above 1, a mixture-of-experts model.
inline constexpr const char* kMoeExpertCountKeys[] = {"num_local_experts", "n_routed_experts", "num_experts"};

// Reads num_attention_heads, num_key_value_heads (default: heads), hidden_size,
// intermediate_size, num_hidden_layers, vocab_size, head_dim (default:
// hidden/heads), sliding_window (ignored when use_sliding_window is false) and
// tie_word_embeddings. Problems are reported at `json_path` naming the file key; a
// mixture-of-experts config (num_local_experts, n_routed_experts or num_experts above 1) is
// refused: hcpsim models dense layers only.
// Returns false (with diagnostics recorded) when the file cannot be used.
bool read_hf_config(const std::string& file_path, const std::string& json_path, DiagnosticSink& sink,
                    ModelSpec& out);

}  // namespace hcpsim

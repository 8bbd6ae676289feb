// Model shape from a Hugging Face config.json.
#pragma once

#include <string>
#include <vector>

#include "common/diagnostics.hpp"
#include "scenario/scenario.hpp"

namespace hcpsim {

// The keys a Hugging Face config names its experts with (Mixtral and Qwen-MoE, DeepSeek,
// OLMoE/Qwen3-MoE, ERNIE 4.5 and DBRX, the latter under ffn_config); above 1, a mixture-of-experts model.
inline constexpr const char* kMoeExpertCountKeys[] = {"num_local_experts", "n_routed_experts", "num_experts",
                                                      "moe_num_experts"};

// Reads num_attention_heads, num_key_value_heads (default: heads), hidden_size,
// intermediate_size, num_hidden_layers, vocab_size, head_dim (default:
// hidden/heads), sliding_window (ignored when use_sliding_window is false),
// tie_word_embeddings, and whether the MLP is gated: by the model's class (`architectures`:
// Llama, Mistral, Qwen, Gemma, Phi-3, ... gated; GPT-2, GPT-NeoX, Falcon, StarCoder2, Nemotron,
// ... not), else by a SwiGLU activation (silu, swiglu); otherwise the scenario must say
// (model.gated_linear_unit), as hidden_act alone does not tell (Gemma's gated MLP names "gelu",
// StarCoder2's plain one "gelu_pytorch_tanh"). `given` names the model keys the scenario sets
// (num_layers, hidden_size, ffn_hidden_size, num_attention_heads, num_query_groups, kv_channels,
// vocab_size, gated_linear_unit, sliding_window): the file's counterparts are then not used, and
// may be missing or out of range. Problems are
// reported at `json_path` naming the file key; a mixture-of-experts config (kMoeExpertCountKeys
// above 1) is refused: hcpsim models dense layers only; so are multi-head latent attention and
// layers that are not attention (state-space, recurrent, linear attention); every value above the
// range of the scenario key it stands for (model_limits) is refused too. So is a
// config that mixes sliding-window and full-attention layers (layer_types, sliding_window_pattern,
// max_window_layers; Gemma 2 and Cohere 2 by class) unless the scenario gives sliding_window
// (`given`): hcpsim times one layer for all; a config whose every layer is full has no window.
// kv_channels is left 0 when the file has no head_dim and lacks hidden_size or the heads (the
// caller derives it after the scenario's keys). Returns false (with diagnostics recorded) when
// the file cannot be used.
// `head_dim_given`, where not null, says whether the file states head_dim (kept as the model's own
// when the scenario changes the hidden size or heads). A multimodal config (text_config) is refused.
bool read_hf_config(const std::string& file_path, const std::string& json_path, DiagnosticSink& sink,
                    ModelSpec& out, const std::vector<std::string>& given = {}, bool* head_dim_given = nullptr);

}  // namespace hcpsim

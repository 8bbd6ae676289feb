// Model shapes, each copied from the model's published Hugging Face config.json
// (num_hidden_layers, hidden_size, intermediate_size, num_attention_heads,
// num_key_value_heads, head_dim or hidden/heads, vocab_size, sliding_window,
// tie_word_embeddings). All use SwiGLU MLPs and RMSNorm.
#include <algorithm>

#include "scenario/presets.hpp"

namespace hcpsim {

namespace {

ModelSpec shape(const char* name, int64_t layers, int64_t hidden, int64_t ffn, int64_t heads, int64_t kv_heads,
                int64_t head_dim, int64_t vocab, std::optional<int64_t> window = std::nullopt) {
  ModelSpec m;
  m.name = name;
  m.num_layers = layers;
  m.hidden_size = hidden;
  m.ffn_hidden_size = ffn;
  m.num_attention_heads = heads;
  m.num_query_groups = kv_heads;
  m.kv_channels = head_dim;
  m.vocab_size = vocab;
  m.sliding_window = window;
  m.gated_linear_unit = true;
  m.untie_embeddings_and_output_weights = true;
  return m;
}

std::vector<ModelPreset> make_model_presets() {
  return {
      {"llama3.1-8b", shape("llama3.1-8b", 32, 4096, 14336, 32, 8, 128, 128256),
       "meta-llama/Llama-3.1-8B config.json (8.03 B parameters)"},
      {"llama3.1-70b", shape("llama3.1-70b", 80, 8192, 28672, 64, 8, 128, 128256),
       "meta-llama/Llama-3.1-70B config.json (70.6 B parameters)"},
      {"llama3.1-405b", shape("llama3.1-405b", 126, 16384, 53248, 128, 8, 128, 128256),
       "meta-llama/Llama-3.1-405B config.json (405 B parameters)"},
      {"qwen2.5-72b", shape("qwen2.5-72b", 80, 8192, 29568, 64, 8, 128, 152064),
       "Qwen/Qwen2.5-72B config.json (72.7 B parameters; use_sliding_window is false)"},
      {"mistral-7b", shape("mistral-7b", 32, 4096, 14336, 32, 8, 128, 32000, 4096),
       "mistralai/Mistral-7B-v0.1 config.json (7.24 B parameters, sliding_window 4096)"},
  };
}

}  // namespace

const std::vector<ModelPreset>& model_presets() {
  static const std::vector<ModelPreset> presets = make_model_presets();
  return presets;
}

const ModelPreset* find_model_preset(std::string_view name) {
  for (const auto& p : model_presets())
    if (p.name == name) return &p;
  return nullptr;
}

std::vector<std::string> model_preset_names() {
  std::vector<std::string> n;
  for (const auto& p : model_presets()) n.push_back(p.name);
  return n;
}

}  // namespace hcpsim

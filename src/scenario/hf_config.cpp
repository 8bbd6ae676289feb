#include "scenario/hf_config.hpp"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/json_text.hpp"

namespace hcpsim {

namespace {

// A Hugging Face config has dozens of keys we do not need, so it is read
// leniently (unknown keys ignored), but the keys we read must be well-formed.
std::optional<int64_t> hf_int(const nlohmann::json& cfg, const char* key, const std::string& json_path,
                              const std::string& file, DiagnosticSink& sink, bool required) {
  if (!cfg.contains(key) || cfg.at(key).is_null()) {
    if (required)
      sink.error(json_path, "\"" + file + "\" has no \"" + key + "\"", "a Hugging Face config.json names the shape",
                 "add \"" + std::string(key) + "\" to the file, or give model." + key + " in the scenario");
    return std::nullopt;
  }
  const auto& v = cfg.at(key);
  if (!v.is_number_integer() || v.get<int64_t>() <= 0) {
    sink.error(json_path, "\"" + file + "\": \"" + key + "\" must be a positive integer, got " + v.dump(), "type",
               "fix the file or override the value in the scenario's model section");
    return std::nullopt;
  }
  return v.get<int64_t>();
}

}  // namespace

bool read_hf_config(const std::string& file_path, const std::string& json_path, DiagnosticSink& sink,
                    ModelSpec& out) {
  const size_t before = sink.size();
  auto text = read_text_file(file_path, json_path, sink);
  if (!text) return false;
  auto cfg = parse_json_text(*text, file_path, json_path, sink);
  if (!cfg) return false;
  if (!cfg->is_object()) {
    sink.error(json_path, "\"" + file_path + "\" is not a JSON object", "config.json format",
               "point model.hf_config at a Hugging Face config.json");
    return false;
  }
  const auto layers = hf_int(*cfg, "num_hidden_layers", json_path, file_path, sink, true);
  const auto hidden = hf_int(*cfg, "hidden_size", json_path, file_path, sink, true);
  const auto ffn = hf_int(*cfg, "intermediate_size", json_path, file_path, sink, true);
  const auto heads = hf_int(*cfg, "num_attention_heads", json_path, file_path, sink, true);
  const auto kv_heads = hf_int(*cfg, "num_key_value_heads", json_path, file_path, sink, false);
  const auto vocab = hf_int(*cfg, "vocab_size", json_path, file_path, sink, true);
  const auto head_dim = hf_int(*cfg, "head_dim", json_path, file_path, sink, false);
  auto window = hf_int(*cfg, "sliding_window", json_path, file_path, sink, false);
  // Mixture-of-experts configs name their experts with one of these keys (Mixtral and
  // Qwen-MoE, DeepSeek, OLMoE/Qwen3-MoE); hcpsim models dense layers only, so a config
  // with more than one expert is refused rather than simulated as a dense model.
  for (const char* key : kMoeExpertCountKeys) {
    const auto experts = hf_int(*cfg, key, json_path, file_path, sink, false);
    if (experts && *experts > 1)
      sink.error(json_path, "\"" + file_path + "\" describes a mixture-of-experts model (\"" + key +
                                "\": " + std::to_string(*experts) + ")",
                 "mixture-of-experts layers are not modelled (dense layers only)",
                 "use a dense model; simulating it as dense would miss its expert weights and all-to-all traffic");
  }
  if (sink.size() != before) return false;

  out.name = std::filesystem::path(file_path).parent_path().filename().string();
  if (out.name.empty()) out.name = file_path;
  out.num_layers = *layers;
  out.hidden_size = *hidden;
  out.ffn_hidden_size = *ffn;
  out.num_attention_heads = *heads;
  out.num_query_groups = kv_heads.value_or(*heads);  // HF default: MHA
  out.vocab_size = *vocab;
  out.kv_channels = head_dim.value_or(*hidden / *heads);
  // Qwen2 configs carry a sliding_window that is off unless use_sliding_window is true.
  if (cfg->contains("use_sliding_window") && cfg->at("use_sliding_window").is_boolean() &&
      !cfg->at("use_sliding_window").get<bool>())
    window.reset();
  out.sliding_window = window;
  out.untie_embeddings_and_output_weights = !(cfg->contains("tie_word_embeddings") &&
                                              cfg->at("tie_word_embeddings").is_boolean() &&
                                              cfg->at("tie_word_embeddings").get<bool>());
  const std::string act = cfg->value("hidden_act", std::string("silu"));
  out.gated_linear_unit = (act == "silu" || act == "swiglu" || act == "gelu_pytorch_tanh");
  return true;
}

}  // namespace hcpsim

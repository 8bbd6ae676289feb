#include "scenario/hf_config.hpp"

#include <algorithm>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>

#include "common/json_text.hpp"
#include "scenario/model_limits.hpp"

namespace hcpsim {

namespace {

// A Hugging Face config has dozens of keys we do not need, so it is read
// leniently (unknown keys ignored), but the keys we read must be well-formed.
// `max`: the range of the scenario key it stands for (model_limits). `scenario_key`: the model key of
// the scenario that stands in for `key` (nullptr: none); where the scenario gives it (`given`), the
// scenario's value is the model's: the file's may be missing, or out of its range, without an error
// (a usable one is still returned: the file's sliding-window pattern is read over its own layers).
std::optional<int64_t> hf_int(const nlohmann::json& cfg, const char* key, const std::string& json_path,
                              const std::string& file, DiagnosticSink& sink, bool required, int64_t max,
                              const char* scenario_key = nullptr, const std::vector<std::string>& given = {}) {
  const bool stands_in = scenario_key && std::find(given.begin(), given.end(), scenario_key) != given.end();
  if (!cfg.contains(key) || cfg.at(key).is_null()) {
    if (required && !stands_in)
      sink.error(json_path, "\"" + file + "\" has no \"" + key + "\"", "a Hugging Face config.json names the shape",
                 "add \"" + std::string(key) + "\" to the file" +
                     (scenario_key ? ", or give model." + std::string(scenario_key) + " in the scenario" : ""));
    return std::nullopt;
  }
  const auto& v = cfg.at(key);
  // Beyond int64 (nlohmann reads it unsigned): too large, not negative.
  const bool huge = v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(max);
  const bool usable = !huge && v.is_number_integer() && v.get<int64_t>() > 0 && v.get<int64_t>() <= max;
  if (stands_in && !usable) return std::nullopt;  // the scenario's value is the model's: the file's is not read
  if (!huge && (!v.is_number_integer() || v.get<int64_t>() <= 0)) {
    sink.error(json_path, "\"" + file + "\": \"" + key + "\" must be a positive integer, got " + v.dump(), "type",
               "fix the file or override the value in the scenario's model section");
    return std::nullopt;
  }
  if (huge || v.get<int64_t>() > max) {
    sink.error(json_path, "\"" + file + "\": \"" + key + "\" is " + v.dump(),
               "at most " + std::to_string(max) + (scenario_key ? std::string(", as model.") + scenario_key : std::string()),
               "fix the file or override the value in the scenario's model section");
    return std::nullopt;
  }
  return v.get<int64_t>();
}

// Hugging Face model classes whose MLP is gated (SwiGLU, GeGLU) or not.
constexpr const char* kGatedClasses[] = {
    "LlamaForCausalLM",   "MistralForCausalLM", "Qwen2ForCausalLM",     "Qwen3ForCausalLM",    "GemmaForCausalLM",
    "Gemma2ForCausalLM",  "Gemma3ForCausalLM",  "Phi3ForCausalLM",      "OlmoForCausalLM",     "Olmo2ForCausalLM",
    "InternLM2ForCausalLM", "GraniteForCausalLM", "CohereForCausalLM", "Cohere2ForCausalLM", "StableLmForCausalLM",
    "ExaoneForCausalLM",  "MixtralForCausalLM", "DeepseekV2ForCausalLM", "DeepseekV3ForCausalLM"};
constexpr const char* kPlainClasses[] = {"GPT2LMHeadModel",   "GPTNeoXForCausalLM", "GPTJForCausalLM",
                                         "FalconForCausalLM", "BloomForCausalLM",   "OPTForCausalLM",
                                         "NemotronForCausalLM", "Starcoder2ForCausalLM", "GPTBigCodeForCausalLM",
                                         "PhiForCausalLM",    "MptForCausalLM"};

// Whether the config's MLP is gated, if the config says so (its class, or a SwiGLU activation).
std::optional<bool> gated_mlp_of(const nlohmann::json& cfg, std::string& named) {
  if (cfg.contains("architectures") && cfg.at("architectures").is_array())
    for (const nlohmann::json& a : cfg.at("architectures")) {
      if (!a.is_string()) continue;
      named = a.get<std::string>();
      for (const char* c : kGatedClasses)
        if (named == c) return true;
      for (const char* c : kPlainClasses)
        if (named == c) return false;
    }
  const std::string act = cfg.contains("hidden_act") && cfg.at("hidden_act").is_string() ? cfg.at("hidden_act").get<std::string>() : "";
  if (act == "silu" || act == "swiglu") return true;
  if (named.empty()) named = "hidden_act \"" + act + "\"";
  return std::nullopt;
}

// Whether the config is one of these model classes (`architectures`) or, naming none, model types.
bool model_is(const nlohmann::json& cfg, std::initializer_list<const char*> classes,
              std::initializer_list<const char*> model_types) {
  bool any_class = false;
  if (cfg.contains("architectures") && cfg.at("architectures").is_array())
    for (const nlohmann::json& a : cfg.at("architectures")) {
      if (!a.is_string()) continue;
      any_class = true;
      for (const char* c : classes)
        if (a.get<std::string>() == c) return true;
    }
  if (any_class || !cfg.contains("model_type") || !cfg.at("model_type").is_string()) return false;
  for (const char* t : model_types)
    if (cfg.at("model_type").get<std::string>() == t) return true;
  return false;
}

// How many of a config's `layers` attend through its sliding window, and by which key, for the
// model families that mix windowed and full-attention layers (transformers' configs): an explicit
// `layer_types` list (Gemma 2 and 3, GPT-OSS, Qwen2 in newer files); Gemma 3's
// `sliding_window_pattern` (every p-th layer full); Qwen2's `max_window_layers` (the first that
// many full); Gemma 2, Gemma 3 and Cohere 2 by their class's default pattern (2, 6, 4).
// Otherwise every layer is windowed (Mistral).
struct WindowedLayers {
  int64_t windowed = 0;
  std::string by;  // the key or class that says so
};

WindowedLayers windowed_layers(const nlohmann::json& cfg, int64_t layers) {
  if (cfg.contains("layer_types") && cfg.at("layer_types").is_array()) {
    int64_t n = 0;
    for (const nlohmann::json& t : cfg.at("layer_types"))
      if (t.is_string() && t.get<std::string>() == "sliding_attention") ++n;
    return {n, "layer_types"};
  }
  const auto int_of = [&](const char* key) -> std::optional<int64_t> {
    if (cfg.contains(key) && cfg.at(key).is_number_integer()) return cfg.at(key).get<int64_t>();
    return std::nullopt;
  };
  if (const auto p = int_of("sliding_window_pattern"); p && *p >= 1) return {layers - layers / *p, "sliding_window_pattern"};
  if (const auto m = int_of("max_window_layers"); m && *m >= 0) return {std::max<int64_t>(0, layers - *m), "max_window_layers"};
  // The models' own defaults of that pattern (transformers' Gemma2, Gemma3Text and Cohere2 configs),
  // by class or, without one, by model_type.
  struct Pattern {
    const char *cls, *model_type;
    int64_t every;
  };
  constexpr Pattern kPatternOf[] = {{"Gemma2ForCausalLM", "gemma2", 2}, {"Gemma3ForCausalLM", "gemma3_text", 6},
                                    {"Cohere2ForCausalLM", "cohere2", 4}};
  for (const Pattern& p : kPatternOf)
    if (model_is(cfg, {p.cls}, {p.model_type}))
      return {layers - layers / p.every, std::string(p.cls) + "'s default sliding_window_pattern " + std::to_string(p.every)};
  return {layers, "sliding_window"};
}

// What a config's layers hold that hcpsim does not model, in words naming the key that says so:
// multi-head latent attention (DeepSeek V2/V3, MiniCPM3, Kimi: kv_lora_rank), layers that are not
// attention (state-space, recurrent, linear attention, convolutions: Nemotron-H's
// hybrid_override_pattern, Jamba's and Zamba's layers_block_type and attn_layer_period, layer_types
// other than full or sliding attention, the model types of Mamba, RWKV, RecurrentGemma and the
// hybrids). nullopt: none of these.
std::optional<std::string> unmodelled_layers(const nlohmann::json& cfg) {
  const auto has = [&](const char* key) { return cfg.contains(key) && !cfg.at(key).is_null(); };
  if (has("kv_lora_rank"))
    return "multi-head latent attention (\"kv_lora_rank\": " + cfg.at("kv_lora_rank").dump() +
           "): its compressed keys and values are not GQA's";
  if (has("hybrid_override_pattern"))
    return "a hybrid of attention and other layers (\"hybrid_override_pattern\")";
  for (const char* key : {"layers_block_type", "layer_types"})
    if (cfg.contains(key) && cfg.at(key).is_array())
      for (const nlohmann::json& t : cfg.at(key))
        if (t.is_string() && t != "attention" && t != "full_attention" && t != "sliding_attention")
          return "layers that are not attention (\"" + std::string(key) + "\" lists \"" + t.get<std::string>() + "\")";
  if (has("attn_layer_period")) return "a hybrid of attention and state-space layers (\"attn_layer_period\")";
  static const char* const kRecurrentTypes[] = {"mamba",   "mamba2",    "falcon_mamba", "falcon_h1",   "bamba",
                                                "jamba",   "zamba",     "zamba2",       "nemotron_h",  "rwkv",
                                                "rwkv5",   "rwkv6",     "recurrent_gemma", "xlstm",    "lfm2",
                                                "qwen3_next", "granitemoehybrid", "minimax"};
  if (cfg.contains("model_type") && cfg.at("model_type").is_string())
    for (const char* t : kRecurrentTypes)
      if (cfg.at("model_type") == t)
        return "layers that are not softmax attention (model_type \"" + std::string(t) + "\": state-space, recurrent or "
               "linear attention)";
  return std::nullopt;
}

// Why a config is an encoder-decoder model, in words naming the key that says so: transformers'
// is_encoder_decoder, the separate layer counts of T5's (num_decoder_layers) and BART's
// (encoder_layers, decoder_layers) families, or such a model_type. nullopt: none of these.
std::optional<std::string> encoder_decoder(const nlohmann::json& cfg) {
  if (cfg.contains("is_encoder_decoder") && cfg.at("is_encoder_decoder").is_boolean() && cfg.at("is_encoder_decoder").get<bool>())
    return "\"is_encoder_decoder\": true";
  for (const char* key : {"num_decoder_layers", "encoder_layers", "decoder_layers"})
    if (cfg.contains(key)) return "\"" + std::string(key) + "\"";
  static const char* const kEncoderDecoderTypes[] = {"t5", "mt5", "umt5", "longt5", "switch_transformers", "bart",
                                                     "mbart", "pegasus", "pegasus_x", "marian", "led", "blenderbot",
                                                     "blenderbot-small", "m2m_100", "fsmt", "prophetnet", "plbart",
                                                     "bigbird_pegasus", "whisper", "encoder-decoder"};
  if (cfg.contains("model_type") && cfg.at("model_type").is_string())
    for (const char* t : kEncoderDecoderTypes)
      if (cfg.at("model_type") == t) return "model_type \"" + std::string(t) + "\"";
  return std::nullopt;
}

}  // namespace

bool read_hf_config(const std::string& file_path, const std::string& json_path, DiagnosticSink& sink,
                    ModelSpec& out, const std::vector<std::string>& given, bool* head_dim_given) {
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
  // A multimodal config keeps its language model's shape under text_config (Gemma 3, Llava, ...):
  // its top-level keys are not that shape, and its vision encoder is not modelled.
  if (cfg->contains("text_config") && cfg->at("text_config").is_object()) {
    sink.error(json_path, "\"" + file_path + "\" is a multimodal config (its language model is under \"text_config\")",
               "hcpsim models a decoder-only language model; the vision encoder is not modelled",
               "write text_config's keys into a config.json of their own and point model.hf_config at it");
    return false;
  }
  // An encoder-decoder (T5, BART, ...) has an encoder stack and a decoder stack with cross-attention;
  // read as one decoder stack its layers, their attention and their count would all be wrong.
  if (const std::optional<std::string> why = encoder_decoder(*cfg)) {
    sink.error(json_path, "\"" + file_path + "\" describes an encoder-decoder model (" + *why + ")",
               "hcpsim models a decoder-only language model; encoder layers and cross-attention are not modelled",
               "use a decoder-only model");
    return false;
  }
  using namespace model_limits;
  const auto layers = hf_int(*cfg, "num_hidden_layers", json_path, file_path, sink, true, kMaxLayers, "num_layers", given);
  const auto hidden = hf_int(*cfg, "hidden_size", json_path, file_path, sink, true, kMaxHiddenSize, "hidden_size", given);
  const auto ffn =
      hf_int(*cfg, "intermediate_size", json_path, file_path, sink, true, kMaxFfnHiddenSize, "ffn_hidden_size", given);
  const auto heads =
      hf_int(*cfg, "num_attention_heads", json_path, file_path, sink, true, kMaxHeads, "num_attention_heads", given);
  const auto kv_heads =
      hf_int(*cfg, "num_key_value_heads", json_path, file_path, sink, false, kMaxHeads, "num_query_groups", given);
  const auto vocab = hf_int(*cfg, "vocab_size", json_path, file_path, sink, true, kMaxVocabSize, "vocab_size", given);
  const auto head_dim = hf_int(*cfg, "head_dim", json_path, file_path, sink, false, kMaxHeadDim, "kv_channels", given);
  auto window =
      hf_int(*cfg, "sliding_window", json_path, file_path, sink, false, kMaxSlidingWindow, "sliding_window", given);
  // Mixture-of-experts configs name their experts with one of these keys (Mixtral and
  // Qwen-MoE, DeepSeek, OLMoE/Qwen3-MoE); hcpsim models dense layers only, so a config
  // with more than one expert is refused rather than simulated as a dense model.
  // DBRX keeps its expert count in ffn_config.
  const bool nested_experts = cfg->contains("ffn_config") && cfg->at("ffn_config").is_object();
  for (const nlohmann::json* section : {&*cfg, nested_experts ? &cfg->at("ffn_config") : nullptr})
    for (const char* key : kMoeExpertCountKeys) {
      if (!section) continue;
      // null, 0 and 1 are a dense model (converters write "moe_num_experts": 0), as in a scenario
      const nlohmann::json* v = section->contains(key) ? &section->at(key) : nullptr;
      if (v && !v->is_null() && (!v->is_number_integer() || v->get<int64_t>() < 0)) {
        sink.error(json_path, "\"" + file_path + "\": \"" + key + "\" must be a whole number of experts, got " + v->dump(),
                   "type", "fix the file");
        continue;
      }
      const std::optional<int64_t> experts = v && !v->is_null() ? std::optional<int64_t>(v->get<int64_t>()) : std::nullopt;
      if (experts && *experts > 1)
        sink.error(json_path, "\"" + file_path + "\" describes a mixture-of-experts model (\"" +
                                  (section == &*cfg ? "" : "ffn_config.") + key + "\": " + std::to_string(*experts) + ")",
                   "mixture-of-experts layers are not modelled (dense layers only)",
                   "use a dense model; simulating it as dense would miss its expert weights and all-to-all traffic");
    }
  if (const std::optional<std::string> feature = unmodelled_layers(*cfg))
    sink.error(json_path, "\"" + file_path + "\" describes " + *feature,
               "hcpsim models decoder layers of softmax attention (MHA, GQA, a sliding window) and an MLP",
               "use such a model; simulated as one, this model's layers would be timed and sized wrongly");
  std::string named;
  const std::optional<bool> gated = gated_mlp_of(*cfg, named);
  const bool gated_given = std::find(given.begin(), given.end(), "gated_linear_unit") != given.end();
  if (!gated && !gated_given)
    sink.error(json_path, "\"" + file_path + "\" does not say whether its MLP is gated (" + named + ")",
               "the MLP's weights (2 or 3 matrices) follow from it; hidden_act alone does not tell",
               "give model.gated_linear_unit: true (SwiGLU, GeGLU) or false in the scenario");
  if (sink.size() != before) return false;

  out.name = std::filesystem::path(file_path).parent_path().filename().string();
  if (out.name.empty()) out.name = file_path;
  // A key the file lacks is the scenario's (read after this).
  out.num_layers = layers.value_or(0);
  out.hidden_size = hidden.value_or(0);
  out.ffn_hidden_size = ffn.value_or(0);
  out.num_attention_heads = heads.value_or(0);
  out.num_query_groups = kv_heads ? *kv_heads : out.num_attention_heads;  // HF default: MHA
  out.vocab_size = vocab.value_or(0);
  out.kv_channels = head_dim ? *head_dim : hidden && heads ? *hidden / *heads : 0;
  if (head_dim_given) *head_dim_given = head_dim.has_value();
  // Qwen2 and Qwen3 configs carry a sliding_window that is off unless use_sliding_window is true
  // (transformers' default false); elsewhere (Mistral) a sliding_window applies.
  const bool qwen = model_is(*cfg, {"Qwen2ForCausalLM", "Qwen3ForCausalLM"}, {"qwen2", "qwen3"});
  const bool use_flag = cfg->contains("use_sliding_window") && cfg->at("use_sliding_window").is_boolean();
  if (use_flag ? !cfg->at("use_sliding_window").get<bool>() : qwen)
    window.reset();
  // A model that mixes windowed and full-attention layers: hcpsim times one layer for all of them.
  const bool window_given = std::find(given.begin(), given.end(), "sliding_window") != given.end();
  if (window && out.num_layers > 0) {
    const WindowedLayers w = windowed_layers(*cfg, out.num_layers);
    if (w.windowed == 0) {
      window.reset();  // every layer full
    } else if (w.windowed < out.num_layers && !window_given) {
      sink.error(json_path,
                 "\"" + file_path + "\" mixes sliding-window and full-attention layers (" + std::to_string(w.windowed) +
                     " of " + std::to_string(out.num_layers) + " windowed, by " + w.by + ")",
                 "hcpsim times one layer for every layer: all windowed or none",
                 "give model.sliding_window in the scenario: null times every layer with full attention (the step's "
                 "upper bound), " + std::to_string(*window) + " every layer windowed (its lower bound)");
      return false;
    }
  }
  out.sliding_window = window;
  out.untie_embeddings_and_output_weights = !(cfg->contains("tie_word_embeddings") &&
                                              cfg->at("tie_word_embeddings").is_boolean() &&
                                              cfg->at("tie_word_embeddings").get<bool>());
  out.gated_linear_unit = gated.value_or(true);  // without the config's word, the scenario's (required above)
  return true;
}

}  // namespace hcpsim

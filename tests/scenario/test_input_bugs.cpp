// Inputs a new user tried that hcpsim got wrong (issue 12), each with the answer it must give.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "common/diagnostics.hpp"
#include "scenario/parse.hpp"
#include "tests/scenario/parse_outcome.hpp"

using namespace hcpsim;
using nlohmann::json;

namespace {

json base_with_global_batch() {
  return json::parse(R"({
    "name": "base",
    "model": {"preset": "llama3.1-8b"},
    "training": {"seq_length": 131072, "micro_batch_size": 1},
    "parallel": {"tensor_model_parallel_size": 1, "context_parallel_size": 16, "cp_comm_type": "p2p"},
    "cluster": {"preset": "dgx-h100", "num_nodes": 2}
  })");
}

std::vector<Diagnostic> errors_of(const json& j, const std::string& base_dir = ".") { return test::parse(j, base_dir).errors; }

std::string describe(const std::vector<Diagnostic>& d) {
  std::string s;
  for (const auto& x : d) s += x.str() + "\n";
  return s;
}

// A Hugging Face config.json in a temporary folder.
std::string write_config(const json& cfg) {
  const auto dir = std::filesystem::temp_directory_path() / ("hcpsim-hf-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "config.json") << cfg.dump();
  return dir.string();
}

json mixtral_config() {
  // mistralai/Mixtral-8x7B-v0.1 config.json (the keys hcpsim reads, and the experts).
  return {{"num_hidden_layers", 32}, {"hidden_size", 4096}, {"intermediate_size", 14336},
          {"num_attention_heads", 32}, {"num_key_value_heads", 8}, {"vocab_size", 32000},
          {"num_local_experts", 8}, {"num_experts_per_tok", 2}, {"hidden_act", "silu"}};
}

// Mixtral's config without its experts: a dense Llama shape, valid as it stands.
json dense_config() {
  json cfg = mixtral_config();
  cfg.erase("num_local_experts");
  return cfg;
}

// The errors of base_with_global_batch() reading `cfg` as its model.hf_config, beside the scenario's own `model` keys.
std::vector<Diagnostic> config_errors(const json& cfg, const json& model_keys = json::object()) {
  json j = base_with_global_batch();
  j["model"] = model_keys;
  j["model"]["hf_config"] = "config.json";
  return errors_of(j, write_config(cfg));
}

}  // namespace

TEST_CASE("bug 2: a mixture-of-experts Hugging Face config is rejected, naming its key", "[scenario][validate]") {
  for (const char* key : {"num_local_experts", "n_routed_experts", "num_experts"}) {
    json cfg = dense_config();
    cfg[key] = 8;
    const auto e = config_errors(cfg);
    INFO(key << "\n" << describe(e));
    REQUIRE(e.size() == 1);
    CHECK(e[0].path == "model.hf_config");
    CHECK_THAT(e[0].what, Catch::Contains(std::string("\"") + key + "\": 8"));
    CHECK_THAT(e[0].rule, Catch::Contains("mixture-of-experts"));
  }
  // One expert is a dense model.
  json cfg = mixtral_config();
  cfg["num_local_experts"] = 1;
  CHECK(config_errors(cfg).empty());
}

TEST_CASE("a Hugging Face config's experts under other keys, MLA and non-attention layers are refused",
          "[scenario][validate]") {
  // Each of these was simulated as a dense Llama, exit 0 and no warning. `key` and `value` name
  // what the file says (ERNIE 4.5's moe_num_experts, DBRX's ffn_config.moe_num_experts,
  // DeepSeek's and MiniCPM3's kv_lora_rank, Nemotron-H's hybrid_override_pattern, Jamba's
  // layers_block_type, Qwen3-Next's linear-attention layer_types, a Mamba model_type).
  const struct {
    const char* key;
    json value;
    const char* said;  // in the error's what
  } cases[] = {
      {"moe_num_experts", 64, "\"moe_num_experts\": 64"},
      {"ffn_config", {{"moe_num_experts", 16}, {"moe_top_k", 4}}, "\"ffn_config.moe_num_experts\": 16"},
      {"kv_lora_rank", 512, "multi-head latent attention"},
      {"hybrid_override_pattern", "M-M-M*-M-M-", "hybrid_override_pattern"},
      {"layers_block_type", {"mamba", "attention"}, "\"layers_block_type\" lists \"mamba\""},
      {"layer_types", {"linear_attention", "full_attention"}, "\"layer_types\" lists \"linear_attention\""},
      {"model_type", "mamba2", "model_type \"mamba2\""},
  };
  for (const auto& c : cases) {
    json cfg = dense_config();
    cfg[c.key] = c.value;
    const auto e = config_errors(cfg);
    INFO(c.key << "\n" << describe(e));
    REQUIRE(e.size() == 1);
    CHECK(e[0].path == "model.hf_config");
    CHECK_THAT(e[0].what, Catch::Contains(c.said));
  }
  // Full and sliding attention layers alone are attention (Gemma 3's layer_types): no refusal on
  // that account (the mix of the two is refused for its own reason, without sliding_window).
  json cfg = dense_config();
  cfg["layer_types"] = {"full_attention", "full_attention"};
  CHECK(config_errors(cfg).empty());
}

TEST_CASE("a Hugging Face config with no experts (0, as converters write) is dense", "[scenario][validate]") {
  json cfg = dense_config();
  cfg["moe_num_experts"] = 0;
  CHECK(config_errors(cfg).empty());
  cfg["moe_num_experts"] = -1;  // no count of experts at all
  const auto e = config_errors(cfg);
  REQUIRE(e.size() == 1);
  CHECK_THAT(e[0].what, Catch::Contains("\"moe_num_experts\" must be a whole number of experts"));
}

TEST_CASE("a Hugging Face config's shape keys have the scenario keys' ranges", "[scenario][validate]") {
  // num_hidden_layers 1e6 ran for minutes; hidden_size 2^40 gave a step of 1.6e8 s; an
  // intermediate_size of 1e15 failed inside the simulation. Each is now refused at
  // model.hf_config naming the file's key and the scenario key's range (model_limits).
  const struct {
    const char* key;
    int64_t value;
    const char* range;
  } cases[] = {{"num_hidden_layers", 1000000, "at most 100000, as model.num_layers"},
               {"hidden_size", int64_t{1} << 40, "at most 1048576, as model.hidden_size"},
               {"intermediate_size", 1000000000000000, "at most 4194304, as model.ffn_hidden_size"},
               {"vocab_size", int64_t{1} << 40, "at most 16777216, as model.vocab_size"},
               {"num_key_value_heads", 100000, "at most 65536, as model.num_query_groups"}};
  for (const auto& c : cases) {
    json cfg = dense_config();
    cfg[c.key] = c.value;
    const auto e = config_errors(cfg);
    INFO(c.key << "\n" << describe(e));
    REQUIRE(e.size() == 1);
    CHECK(e[0].path == "model.hf_config");
    CHECK_THAT(e[0].what, Catch::Contains(std::string("\"") + c.key + "\" is " + std::to_string(c.value)));
    CHECK(e[0].rule == c.range);
  }
  {  // 2^63, beyond int64 (read unsigned): too large, not "must be a positive integer"
    json cfg = dense_config();
    cfg["hidden_size"] = uint64_t{1} << 63;
    const auto e = config_errors(cfg);
    INFO(describe(e));
    REQUIRE(e.size() == 1);
    CHECK_THAT(e[0].what, Catch::Contains("\"hidden_size\" is 9223372036854775808"));
    CHECK(e[0].rule == "at most 1048576, as model.hidden_size");
  }
  // A config mixing windowed and full layers is refused with the scenario's num_layers too (its
  // pattern is read over the file's own layers): Gemma 2's class, every other layer windowed.
  {
    json gemma = dense_config();
    gemma["architectures"] = {"Gemma2ForCausalLM"};
    gemma["sliding_window"] = 4096;
    const auto e = config_errors(gemma, {{"num_layers", 32}});
    INFO(describe(e));
    REQUIRE(e.size() == 1);
    CHECK_THAT(e[0].what, Catch::Contains("mixes sliding-window and full-attention layers (16 of 32 windowed"));
  }
  // Where the scenario gives the key, the file's value is not used: no error, the scenario's value.
  json cfg = dense_config();
  cfg["num_hidden_layers"] = 200000;
  CHECK(config_errors(cfg, {{"num_layers", 32}}).empty());
}

TEST_CASE("bug 4: overriding gpus_per_node on a preset keeps its NICs per GPU", "[scenario][validate]") {
  json j = base_with_global_batch();
  j["cluster"] = {{"preset", "dgx-h100"}, {"num_nodes", 16}, {"gpus_per_node", 1}};  // 1 GPU, 1 NIC per node
  CHECK(describe(errors_of(j)).empty());
  ParseOptions opt;
  const Scenario one = parse_scenario_text(j.dump(), opt);
  CHECK(one.cluster.inter_node.nics_per_node == 1);
  // 64 GPUs of a 72-GPU NVL72 rack: one NIC per GPU, 64 NICs.
  j["cluster"] = {{"preset", "gb200-nvl72"}, {"num_nodes", 1}, {"gpus_per_node", 64}};
  j["parallel"]["context_parallel_size"] = 16;
  const Scenario rack = parse_scenario_text(j.dump(), opt);
  CHECK(rack.cluster.inter_node.nics_per_node == 64);
  // l40s-pcie has 4 NICs for 8 GPUs: 4 GPUs get 2.
  j["cluster"] = {{"preset", "l40s-pcie"}, {"num_nodes", 4}, {"gpus_per_node", 4}};
  const Scenario l40s = parse_scenario_text(j.dump(), opt);
  CHECK(l40s.cluster.inter_node.nics_per_node == 2);
  // An explicit NIC count is kept as given (and checked).
  j["cluster"] = {{"preset", "dgx-h100"}, {"num_nodes", 4}, {"gpus_per_node", 4}, {"inter_node", {{"nics_per_node", 3}}}};
  const auto e = errors_of(j);
  REQUIRE(e.size() == 1);
  CHECK(e[0].path == "cluster.inter_node.nics_per_node");
}

TEST_CASE("bug 5: a mistyped key is reported alone, without errors that rest on its default", "[scenario][validate]") {
  json j = base_with_global_batch();
  j["cluster"].erase("num_nodes");
  j["cluster"]["num_node"] = 2;  // without it: 1 node of 8 GPUs, which CP 16 does not divide
  auto e = errors_of(j);
  INFO(describe(e));
  REQUIRE(e.size() == 1);
  CHECK(e[0].path == "cluster.num_node");
  CHECK(e[0].fix == "did you mean \"num_nodes\"?");

  // Meant: TP 2 x CP 4 on 8 GPUs, DP 1, global batch 3. The default TP 1 would give DP 2,
  // which 3 does not divide: an error about a value the user never wrote.
  j = base_with_global_batch();
  j["cluster"]["num_nodes"] = 1;
  j["parallel"]["context_parallel_size"] = 4;
  j["parallel"].erase("tensor_model_parallel_size");
  j["parallel"]["tensor_model_parallel_sise"] = 2;
  j["training"]["global_batch_size"] = 3;
  e = errors_of(j);
  INFO(describe(e));
  REQUIRE(e.size() == 1);
  CHECK(e[0].path == "parallel.tensor_model_parallel_sise");
}

TEST_CASE("a Hugging Face config: the gated MLP from the model's class, keys the scenario gives may be missing",
          "[scenario][validate]") {
  const json dense = dense_config();
  // Gemma's MLP is gated (GeGLU) though its hidden_act is "gelu"; StarCoder2's is not, though its
  // "gelu_pytorch_tanh" is Gemma 2's; the class decides.
  for (const auto& [cls, act, gated] : {std::tuple{"GemmaForCausalLM", "gelu", true},
                                        {"Starcoder2ForCausalLM", "gelu_pytorch_tanh", false},
                                        {"LlamaForCausalLM", "silu", true}}) {
    json cfg = dense;
    cfg["architectures"] = {cls};
    cfg["hidden_act"] = act;
    json j = base_with_global_batch();
    j["model"] = {{"hf_config", "config.json"}};
    ParseOptions opt;
    opt.base_dir = write_config(cfg);
    INFO(cls);
    CHECK(parse_scenario_text(j.dump(), opt).model.gated_linear_unit == gated);
  }
  // No class and no SwiGLU activation: the scenario must say, and then may.
  json plain = dense;
  plain["hidden_act"] = "gelu";
  json j = base_with_global_batch();
  j["model"] = {{"hf_config", "config.json"}};
  const std::string dir = write_config(plain);
  const auto e = errors_of(j, dir);
  REQUIRE(e.size() == 1);
  CHECK(e[0].path == "model.hf_config");
  CHECK_THAT(e[0].fix, Catch::Contains("model.gated_linear_unit"));
  j["model"]["gated_linear_unit"] = false;
  CHECK(errors_of(j, dir).empty());
  // A shape key the file lacks is the scenario's Megatron key, as the error says.
  json nolayers = dense;
  nolayers.erase("num_hidden_layers");
  json k = base_with_global_batch();
  k["model"] = {{"hf_config", "config.json"}};
  const std::string dir2 = write_config(nolayers);
  const auto e2 = errors_of(k, dir2);
  REQUIRE(e2.size() == 1);
  CHECK_THAT(e2[0].fix, Catch::Contains("give model.num_layers in the scenario"));
  k["model"]["num_layers"] = 24;
  CHECK(errors_of(k, dir2).empty());
  ParseOptions opt;
  opt.base_dir = dir2;
  CHECK(parse_scenario_text(k.dump(), opt).model.num_layers == 24);
}

TEST_CASE("the head dim follows a changed hidden size or head count as Megatron derives it, unless the model sets its own",
          "[scenario][validate]") {
  // llama3.1-8b: hidden 4096, 32 heads, head dim 128 = 4096 / 32, so Megatron would derive it: a
  // scenario that doubles the hidden size without kv_channels gets 8192 / 32 = 256, one that doubles the
  // heads 4096 / 64 = 64.
  json j = base_with_global_batch();
  j["model"]["hidden_size"] = 8192;
  CHECK(test::parse(j).scenario.model.kv_channels == 256);
  j = base_with_global_batch();
  j["model"]["num_attention_heads"] = 64;
  CHECK(test::parse(j).scenario.model.kv_channels == 64);
  j["model"]["kv_channels"] = 128;  // given: kept
  CHECK(test::parse(j).scenario.model.kv_channels == 128);

  // A file with its own head_dim (Gemma 7B: hidden 3072, 16 heads, head_dim 256, not 3072 / 16 = 192)
  // keeps it when the scenario changes the hidden size.
  json gemma = {{"num_hidden_layers", 28}, {"hidden_size", 3072}, {"intermediate_size", 24576},
                {"num_attention_heads", 16}, {"num_key_value_heads", 16}, {"head_dim", 256},
                {"vocab_size", 256000}, {"architectures", {"GemmaForCausalLM"}}, {"hidden_act", "gelu"}};
  json g = base_with_global_batch();
  g["model"] = {{"hf_config", "config.json"}, {"hidden_size", 4096}};
  const auto o = test::parse(g, write_config(gemma));
  INFO(test::describe(o));
  REQUIRE(o.valid);
  CHECK(o.scenario.model.kv_channels == 256);

  // A file that states head_dim keeps it even where it equals hidden / heads (Qwen3-8B: 4096 / 32 = 128):
  // Megatron-Bridge carries head_dim over as kv_channels, so 64 heads are 64 x 128, not 64 x 64.
  json qwen3 = gemma;
  qwen3["architectures"] = {"Qwen3ForCausalLM"};
  qwen3["hidden_size"] = 4096;
  qwen3["num_attention_heads"] = 32;
  qwen3["num_key_value_heads"] = 8;
  qwen3["head_dim"] = 128;
  json q = base_with_global_batch();
  q["model"] = {{"hf_config", "config.json"}, {"num_attention_heads", 64}};
  const auto oq = test::parse(q, write_config(qwen3));
  INFO(test::describe(oq));
  REQUIRE(oq.valid);
  CHECK(oq.scenario.model.kv_channels == 128);
  // Without head_dim in the file it is hidden / heads, re-derived: 4096 / 64.
  qwen3.erase("head_dim");
  CHECK(test::parse(q, write_config(qwen3)).scenario.model.kv_channels == 64);

  // A derived head dim that does not divide is an error naming kv_channels, not a truncated 4016 / 32 = 125.
  j = base_with_global_batch();
  j["model"]["hidden_size"] = 4000 + 16;  // 4016 / 32 = 125.5
  const auto e = errors_of(j);
  REQUIRE(e.size() == 1);
  CHECK(e[0].path == "model.kv_channels");
  CHECK_THAT(e[0].what, Catch::Contains("4016") && Catch::Contains("32"));
  CHECK_THAT(e[0].fix, Catch::Contains("give model.kv_channels"));
}

TEST_CASE("a Hugging Face config that mixes sliding-window and full-attention layers is refused unless the scenario says",
          "[scenario][validate]") {
  // Gemma 2 9B's shape (google/gemma-2-9b config.json): 42 layers alternating a 4096-token window and
  // full attention, by its class; timing all 42 windowed made a 128K step about half what it is.
  const json gemma2 = {{"architectures", {"Gemma2ForCausalLM"}}, {"hidden_size", 3584}, {"intermediate_size", 14336},
                       {"num_attention_heads", 16}, {"num_hidden_layers", 42}, {"num_key_value_heads", 8},
                       {"head_dim", 256}, {"vocab_size", 256000}, {"sliding_window", 4096}};
  json j = base_with_global_batch();
  j["parallel"]["cp_comm_type"] = "all_gather";  // p2p refuses a window
  j["model"] = {{"hf_config", "config.json"}};
  {
    const auto e = errors_of(j, write_config(gemma2));
    INFO(describe(e));
    REQUIRE(e.size() == 1);
    CHECK(e[0].path == "model.hf_config");
    CHECK_THAT(e[0].what, Catch::Contains("21 of 42 windowed, by Gemma2ForCausalLM"));  // layers 0, 2, ..., 40 (42 - 42 / 2)
    CHECK_THAT(e[0].fix, Catch::Contains("model.sliding_window") && Catch::Contains("null"));
  }
  // The scenario's word settles it, either way.
  j["model"]["sliding_window"] = nullptr;
  auto o = test::parse(j, write_config(gemma2));
  REQUIRE(o.valid);
  CHECK_FALSE(o.scenario.model.sliding_window);
  j["model"]["sliding_window"] = 4096;
  o = test::parse(j, write_config(gemma2));
  REQUIRE(o.valid);
  CHECK(o.scenario.model.sliding_window == 4096);

  // The keys that say which layers are windowed: Gemma 3's pattern (every 6th full: 42 - 7 = 35 of 42),
  // an explicit list, Qwen2's max_window_layers (the first that many full).
  json k = base_with_global_batch();
  k["parallel"]["cp_comm_type"] = "all_gather";
  k["model"] = {{"hf_config", "config.json"}};
  json gemma3 = gemma2;
  gemma3["architectures"] = {"Gemma3ForCausalLM"};
  gemma3["sliding_window_pattern"] = 6;
  auto e = errors_of(k, write_config(gemma3));
  REQUIRE(e.size() == 1);
  CHECK_THAT(e[0].what, Catch::Contains("35 of 42 windowed, by sliding_window_pattern"));
  gemma3.erase("sliding_window_pattern");  // the class's default, 6
  e = errors_of(k, write_config(gemma3));
  REQUIRE(e.size() == 1);
  CHECK_THAT(e[0].what, Catch::Contains("35 of 42 windowed, by Gemma3ForCausalLM"));
  json cohere = gemma2;  // Cohere 2: every 4th layer full, 42 - 10 = 32 windowed
  cohere["architectures"] = {"Cohere2ForCausalLM"};
  e = errors_of(k, write_config(cohere));
  REQUIRE(e.size() == 1);
  CHECK_THAT(e[0].what, Catch::Contains("32 of 42 windowed"));
  json listed = gemma2;
  listed["architectures"] = {"MistralForCausalLM"};
  listed["num_hidden_layers"] = 3;
  listed["layer_types"] = {"sliding_attention", "full_attention", "sliding_attention"};
  e = errors_of(k, write_config(listed));
  REQUIRE(e.size() == 1);
  CHECK_THAT(e[0].what, Catch::Contains("2 of 3 windowed, by layer_types"));
  // Every layer full: no window. Every layer windowed (Mistral, or Qwen2 with max_window_layers 0): the window.
  json qwen = gemma2;
  qwen["architectures"] = {"Qwen2ForCausalLM"};
  qwen["use_sliding_window"] = true;
  qwen["max_window_layers"] = 42;
  o = test::parse(k, write_config(qwen));
  REQUIRE(o.valid);
  CHECK_FALSE(o.scenario.model.sliding_window);
  qwen["max_window_layers"] = 0;
  o = test::parse(k, write_config(qwen));
  REQUIRE(o.valid);
  CHECK(o.scenario.model.sliding_window == 4096);
  qwen["max_window_layers"] = 28;
  e = errors_of(k, write_config(qwen));
  REQUIRE(e.size() == 1);
  CHECK_THAT(e[0].what, Catch::Contains("14 of 42 windowed, by max_window_layers"));
  // Qwen2 without use_sliding_window: transformers' default is false, every layer full.
  qwen.erase("use_sliding_window");
  o = test::parse(k, write_config(qwen));
  REQUIRE(o.valid);
  CHECK_FALSE(o.scenario.model.sliding_window);
  // No class, a model_type: Gemma 2's pattern still applies.
  json typed = gemma2;
  typed.erase("architectures");
  typed["model_type"] = "gemma2";
  typed["hidden_act"] = "silu";  // without a class the gated MLP comes from the activation
  e = errors_of(k, write_config(typed));
  REQUIRE(e.size() == 1);
  CHECK_THAT(e[0].what, Catch::Contains("21 of 42 windowed"));
  // A multimodal file (Gemma 3's, the language model under text_config) is refused, not read at its top level.
  json multimodal = {{"architectures", {"Gemma3ForConditionalGeneration"}}, {"text_config", gemma3}};
  e = errors_of(k, write_config(multimodal));
  REQUIRE(e.size() == 1);
  CHECK_THAT(e[0].what, Catch::Contains("multimodal config"));
  CHECK_THAT(e[0].fix, Catch::Contains("text_config's keys into a config.json of their own"));
  // An encoder-decoder (T5's keys: d_model, num_layers for the encoder, num_decoder_layers) is refused
  // at once, by any of the keys that say so, before its missing decoder-only keys are asked for: read
  // as one decoder stack, its encoder, cross-attention and layer count would be dropped silently.
  const json t5 = {{"architectures", {"T5ForConditionalGeneration"}}, {"model_type", "t5"}, {"is_encoder_decoder", true},
                   {"d_model", 1024}, {"num_layers", 24}, {"num_decoder_layers", 24}, {"num_heads", 16}, {"vocab_size", 32128}};
  for (const char* drop : {"", "is_encoder_decoder", "num_decoder_layers"}) {
    json cfg = t5;
    if (*drop) cfg.erase(drop);
    e = errors_of(k, write_config(cfg));
    REQUIRE(e.size() == 1);
    CHECK_THAT(e[0].what, Catch::Contains("encoder-decoder model"));
  }
  json mistral = gemma2;
  mistral["architectures"] = {"MistralForCausalLM"};
  o = test::parse(k, write_config(mistral));
  REQUIRE(o.valid);
  CHECK(o.scenario.model.sliding_window == 4096);
}

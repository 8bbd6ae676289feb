// hcpsim's rule of Megatron's full recompute (rules/recompute.hpp) against recompute run on an H100
// (calibrate/torch/probe_recompute.py; calibrate/RESULTS.md, twenty-ninth run): a stack of 8
// Llama-3.1-8B layers in plain PyTorch at 8K, 16K and 32K tokens, run without recompute, by uniform
// units of 1, 2 and 4 layers and by block over the first 2 and 5, each checkpoint a reentrant
// torch.utils.checkpoint (the mechanism of Megatron's tensor_parallel.checkpoint).
// From the stack without recompute alone (a layer's forward f = its forward pass / 8, a layer's
// saved bytes W = its saved bytes / 8, the backward's own transient E), the rule predicts each
// setting's
//   backward pass = the plain backward + recomputed layers x f,
//   saved bytes   = checkpoints x T e h + plain layers x W,
//   backward's most on top of the saved = E + backward_extra_layers x W.
// (The probe counts what the forward allocates: the stack's input existed before, its output did
// not, one T e h each way, so the plain stack's 8 W and the rule's sums count alike.)
// Measured: the backward within 2 % (within 4.7 % on later leases, where the same run without
// recompute drifted 3.3 %), the memory to the byte.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fstream>

#include "rules/recompute.hpp"
#include "../common/json_file.hpp"

using namespace hcpsim;

namespace {


// Checks every record of `file` but the stack's first run without recompute (the base) against the
// rule; returns how many it compared.
int check_against_rule(const std::string& file, double backward_tolerance) {
  const nlohmann::json d = test::read_json_file(HCPSIM_SOURCE_DIR "/calibrate/results/h100-v45-recompute/" + file);
  int compared = 0;
  for (const nlohmann::json& r : d["records"]) {
    const nlohmann::json* base = nullptr;
    for (const nlohmann::json& b : d["records"])
      if (!base && b["method"] == "none" && b["tokens"] == r["tokens"]) base = &b;
    REQUIRE(base);
    if (&r == base) continue;
    CHECK(r["wrong"].get<int64_t>() == 0);
    const std::string method = r["method"].get<std::string>();
    const int64_t layers = r["layers"].get<int64_t>();
    const rules::ChunkRecompute c = rules::chunk_recompute(
        method != "none", method == "block" ? RecomputeMethod::Block : RecomputeMethod::Uniform,
        r["num_layers"].get<int64_t>(), layers);
    const double f = (*base)["forward_pass_s"].get<double>() / double(layers);
    const double W = (*base)["saved_bytes"].get<double>() / double(layers);
    const double input = r["input_bytes"].get<double>();
    INFO(file << ": " << r["tokens"].get<int64_t>() << " tokens, " << r["setting"].get<std::string>());
    CHECK((*base)["backward_pass_s"].get<double>() + double(c.recomputed_layers) * f ==
          Approx(r["backward_pass_s"].get<double>()).epsilon(backward_tolerance));
    CHECK(double(c.checkpoints) * input + double(c.plain_layers) * W == Approx(r["saved_bytes"].get<double>()).epsilon(0.001));
    CHECK((*base)["backward_extra_bytes"].get<double>() + double(rules::backward_extra_layers(c)) * W ==
          Approx(r["backward_extra_bytes"].get<double>()).epsilon(0.001));
    // Recomputed or not, the input's gradient is as near the base's as a second run without
    // recompute is (the attention's backward is not bitwise deterministic): about 1 % of its norm.
    CHECK(r["dx_rel_diff"].get<double>() < 0.02);
    ++compared;
  }
  return compared;
}

}  // namespace

TEST_CASE("recompute rule against recompute run on an H100: backward within 3 %, memory within 0.1 %", "[rules]") {
  // 3 token counts x (uniform 1, 2, 4 and block 2, 5), cuDNN's attention.
  CHECK(check_against_rule("h100-v45-recompute.json", 0.03) == 15);
}

TEST_CASE("recompute rule against a second H100 lease, both attention backends: within 5 %", "[rules]") {
  // 8K and 16K tokens x (a second run without recompute, uniform 1, block 5). The second run
  // without recompute drifts from the first by up to 3.2 % (the clock); the rule's worst is 4.7 %.
  CHECK(check_against_rule("h100-v45-recompute-repeat-cudnn.json", 0.05) == 6);
  CHECK(check_against_rule("h100-v45-recompute-repeat-flash.json", 0.05) == 6);
  // A third lease, cuDNN, 8K-32K x (a second run without recompute, uniform 1 and 4, block 2 and 5):
  // the second run without recompute drifted 3.3 % at 8K, the rule's worst is 4.1 % there, and
  // within 0.4 % at 16K and 32K.
  CHECK(check_against_rule("h100-v45-recompute-third-lease.json", 0.05) == 15);
}

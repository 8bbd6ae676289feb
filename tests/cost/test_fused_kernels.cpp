// Megatron's fused memory-bound kernels (rules/fused_kernels.hpp): the cross entropy's passes by
// implementation and Transformer Engine version, SwiGLU's, each at its measured fraction of the
// copy; checked against the kernels timed on an H100 beside a copy (calibrate/torch/probe_fused_ce.py,
// calibrate/RESULTS.md, twenty-eighth run), and through the workload, the cost model and the memory
// estimate.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <vector>

#include "cost/cost_model.hpp"
#include "memory/estimate.hpp"
#include "rules/fused_kernels.hpp"
#include "scenario/parse.hpp"
#include "workload/builder.hpp"
#include "../scenario/parse_outcome.hpp"
#include "../common/json_file.hpp"

using namespace hcpsim;
using rules::CrossEntropyFusion;

namespace {


// Llama-3.1-8B at TP2 with SP, one step on one node: the head runs the loss over 8192 tokens of
// 128256 / 2 = 64128 logits each (the vocabulary padded to 128 x TP is 128256 already).
nlohmann::json step_scenario() {
  return {{"model", {{"preset", "llama3.1-8b"}}},
          {"training", {{"seq_length", 8192}, {"micro_batch_size", 1}, {"global_batch_size", 4}}},
          {"parallel", {{"tensor_model_parallel_size", 2}, {"context_parallel_size", 1}, {"sequence_parallel", true}}},
          {"cluster", {{"preset", "dgx-h200"}, {"num_nodes", 1}, {"gpus_per_node", 8}}},
          {"software", {{"fusions", {{"cross_entropy", true}}}}}};
}

std::vector<const Op*> ops_named(const std::vector<Op>& ops, const std::string& label) {
  std::vector<const Op*> out;
  for (const Op& op : ops)
    if (op.label == label) out.push_back(&op);
  return out;
}

}  // namespace

TEST_CASE("fused cross entropy: each pass's bytes per logit, by implementation and TE version", "[rules]") {
  // bf16 logits (e = 2), each tensor a pass reads or writes counted once:
  // TE >= 2.18: forward = online softmax (read 2) + gradient pass (read 2, write fp32 4) = 8;
  //             backward = scale in place (read 4, write 4) + autograd's cast (read 4, write 2) = 14;
  //             at its peak the logits (2) and the fp32 gradient (4) = 6.
  // TE < 2.18:  forward = read 2 + read 2 + the gradient written over the logits (2) = 6;
  //             backward = scale in place (read 2, write 2) = 4; peak the logits alone = 2.
  // native:     forward = fp32 copy with the max (read 2, write 4) + subtract-exp-sum in place
  //             (read 4, write 4) + divide in place (read 4, write 4) = 22;
  //             backward = read the softmax 4, write it back 4, the bf16 gradient 2 = 10; peak 6.
  const auto te218 = rules::fused_cross_entropy(CrossEntropyFusion::Te, 2, 18, 2.0);
  CHECK(te218.forward.bytes_per_element == 8);
  CHECK(te218.backward.bytes_per_element == 14);
  CHECK(te218.peak_bytes_per_element == 6);
  const auto te216 = rules::fused_cross_entropy(CrossEntropyFusion::Te, 2, 16, 2.0);
  CHECK(te216.forward.bytes_per_element == 6);
  CHECK(te216.backward.bytes_per_element == 4);
  CHECK(te216.peak_bytes_per_element == 2);
  const auto native = rules::fused_cross_entropy(CrossEntropyFusion::Native, 2, 18, 2.0);
  CHECK(native.forward.bytes_per_element == 22);
  CHECK(native.backward.bytes_per_element == 10);
  CHECK(native.peak_bytes_per_element == 6);
  // PR #3193 is in TE 2.18, not 2.17; any 3.x keeps it.
  CHECK_FALSE(rules::te_cross_entropy_fp32_gradient(2, 17));
  CHECK(rules::te_cross_entropy_fp32_gradient(2, 18));
  CHECK(rules::te_cross_entropy_fp32_gradient(3, 0));
  // The native loss does not depend on TE.
  CHECK(rules::fused_cross_entropy(CrossEntropyFusion::Native, 2, 2, 2.0).forward.bytes_per_element == 22);
}

TEST_CASE("fused kernels against an H100: each pass within the band, the medians within 3 %", "[rules]") {
  // Each record's prediction: its bytes at the copy's rate timed in the same process (a bf16 copy
  // of the same [T, V]: 4 B an element) times the rule's fraction of the copy. The fractions are
  // these records' medians and the band their worst miss, so this is in sample: it holds the byte
  // counts, the constants and the band to the measurement they came from, and fails if any moves.
  const nlohmann::json d = test::read_json_file(HCPSIM_SOURCE_DIR "/calibrate/results/h100-v44-fused-ce/h100-v44-fused-ce.json");
  std::vector<double> ce_errors, swiglu_errors;
  double copy_s_per_byte = 0;
  for (const nlohmann::json& r : d["records"]) {
    CHECK(r["wrong"].get<int64_t>() == 0);
    const double tokens = r["tokens"].get<double>(), measured = r["median_s"].get<double>();
    const std::string impl = r["impl"], pass = r["pass"];
    if (impl == "copy") {  // [T, V] or SwiGLU's [T, 2F], each bf16: 2 B read and 2 written an element
      copy_s_per_byte = measured / (4 * tokens * (r.contains("vocab") ? r["vocab"].get<double>() : r["width"].get<double>()));
      continue;
    }
    REQUIRE(copy_s_per_byte > 0);  // each shape's copy comes first
    double predicted = 0;
    if (impl == "swiglu_compiled") {  // fc1's [T, 2F] read, [T, F] written; backward dY, the input, d input
      const double ffn = r["ffn"].get<double>();
      const bool backward = pass == "bwd";
      predicted = (backward ? 10 : 6) * tokens * ffn * copy_s_per_byte / rules::swiglu_fused_of_copy(backward);
    } else {
      const CrossEntropyFusion f = impl == "native" ? CrossEntropyFusion::Native : CrossEntropyFusion::Te;
      const auto ce = rules::fused_cross_entropy(f, 2, impl == "te" ? 18 : 16, 2.0);
      const rules::FusedPass& p = pass == "bwd" ? ce.backward : ce.forward;
      predicted = p.bytes_per_element * tokens * r["vocab"].get<double>() * copy_s_per_byte / p.of_copy;
    }
    const double error = predicted / measured - 1;
    CAPTURE(impl, pass, tokens, measured, predicted);
    CHECK(std::abs(error) <= rules::kMeasuredFusedKernelBand);
    (impl == "swiglu_compiled" ? swiglu_errors : ce_errors).push_back(error);
  }
  CHECK(ce_errors.size() == 42);  // 7 shapes x 3 implementations x 2 passes
  CHECK(swiglu_errors.size() == 10);
  for (std::vector<double>* e : {&ce_errors, &swiglu_errors}) {
    std::sort(e->begin(), e->end());
    CHECK(std::abs((*e)[e->size() / 2]) <= 0.03);
  }
  for (double e : swiglu_errors) CHECK(std::abs(e) <= 0.02);  // SwiGLU's kernels: one each way, 1-2 % off
  // The band is the rule's worst error, not looser: some pass is more than 15 % off.
  CHECK(std::max(std::abs(ce_errors.front()), std::abs(ce_errors.back())) > 0.15);
}

TEST_CASE("fused cross entropy in the step: its passes, the TP exchange and the memory, by implementation", "[cost][memory]") {
  const double logits = 8192.0 * 64128;  // per TP rank
  SECTION("TE's, under TE 2.18 and 2.16") {
    nlohmann::json j = step_scenario();
    j["software"]["fusions"]["cross_entropy_impl"] = "te";
    const test::Outcome o = test::parse(j);
    REQUIRE(o.errors.empty());
    const Scenario& s = o.scenario;
    const Workload w = build_workload(s);
    const auto fwd = ops_named(w.step.at(0).ops, "head.fwd.cross_entropy");
    const auto bwd = ops_named(w.step.at(0).ops, "head.bwd.cross_entropy");
    REQUIRE(fwd.size() == 1);
    REQUIRE(bwd.size() == 1);
    CHECK(fwd[0]->elementwise == ElementwiseKind::Fused);
    CHECK(fwd[0]->bytes == Approx(8 * logits));
    CHECK(fwd[0]->fused_of_copy == 0.92);
    CHECK(bwd[0]->bytes == Approx(14 * logits));
    CHECK(bwd[0]->fused_of_copy == 0.99);
    // The cost model: bytes over HBM bandwidth x the copy's efficiency x the measured fraction.
    const CostModel m = cost_model_for(s);
    CHECK(m.compute_time_s(*fwd[0]) ==
          Approx(8 * logits / (s.cluster.gpu.hbm_bytes_per_s * m.params().memory_efficiency * 0.92)));
    // Over TP, TE gathers each rank's three fp32 partials a token: one all-gather of 12 B a token.
    const auto gather = ops_named(w.step.at(0).ops, "head.fwd.ce_ag_partials");
    REQUIRE(gather.size() == 1);
    CHECK(gather[0]->pattern == CommPattern::AllGather);
    CHECK(gather[0]->message_bytes == Approx(8192.0 * 12));
    CHECK(ops_named(w.step.at(0).ops, "head.fwd.ce_ar_max").empty());
    // Memory: the logits and TE 2.18's fp32 gradient (6 B a logit) at the loss's phase; TE 2.16
    // writes the gradient over the logits (2 B): 4 B a logit less, nothing else changed.
    const auto loss_phase_bytes = [](const Scenario& sc) {
      for (const MemoryPhaseTotal& p : estimate_memory(sc).phases)
        if (p.name == "fwd.loss") return p.bytes;
      FAIL("no fwd.loss phase");
      return 0.0;
    };
    j["software"]["transformer_engine_version"] = "2.16";
    const Scenario old = test::parse(j).scenario;
    CHECK(loss_phase_bytes(s) - loss_phase_bytes(old) == Approx(4 * logits));
    const Workload wo = build_workload(old);
    CHECK(ops_named(wo.step.at(0).ops, "head.fwd.cross_entropy").at(0)->bytes == Approx(6 * logits));
    CHECK(ops_named(wo.step.at(0).ops, "head.bwd.cross_entropy").at(0)->bytes == Approx(4 * logits));
  }
  SECTION("native: Megatron-LM's default implementation, two all-reduces over TP") {
    const Scenario s = parse_scenario_text(step_scenario().dump(), ParseOptions{});
    CHECK(s.software.fusions.cross_entropy_impl == CrossEntropyFusion::Native);
    const Workload w = build_workload(s);
    const auto fwd = ops_named(w.step.at(0).ops, "head.fwd.cross_entropy");
    REQUIRE(fwd.size() == 1);
    CHECK(fwd[0]->bytes == Approx(22 * logits));
    CHECK(fwd[0]->fused_of_copy == 0.70);
    CHECK(ops_named(w.step.at(0).ops, "head.fwd.ce_ar_max").at(0)->message_bytes == Approx(8192.0 * 4));
    CHECK(ops_named(w.step.at(0).ops, "head.fwd.ce_ar_predicted_sum_exp").at(0)->message_bytes == Approx(8192.0 * 8));
  }
  SECTION("unfused: PyTorch's ops at their own efficiency, three all-reduces") {
    nlohmann::json j = step_scenario();
    j["software"]["fusions"]["cross_entropy"] = false;
    const Workload w = build_workload(test::parse(j).scenario);
    const auto fwd = ops_named(w.step.at(0).ops, "head.fwd.cross_entropy");
    REQUIRE(fwd.size() == 1);
    CHECK(fwd[0]->elementwise == ElementwiseKind::CrossEntropy);
    CHECK(fwd[0]->bytes == Approx(6 * logits));
    CHECK(fwd[0]->fused_of_copy == 1.0);
    CHECK(ops_named(w.step.at(0).ops, "head.fwd.ce_ar_sum_exp").size() == 1);
  }
}

TEST_CASE("fused SwiGLU: its backward at the measured 0.92 of the copy, PyTorch's unfused at its own", "[cost]") {
  nlohmann::json j = step_scenario();
  const Workload w = build_workload(test::parse(j).scenario);
  CHECK(ops_named(w.layer.at(0).ops, "layer.fwd.swiglu").at(0)->fused_of_copy == 1.0);
  CHECK(ops_named(w.layer.at(0).ops, "layer.bwd.swiglu").at(0)->fused_of_copy == 0.92);
  j["software"]["fusions"]["swiglu"] = false;
  const Workload u = build_workload(test::parse(j).scenario);
  CHECK(ops_named(u.layer.at(0).ops, "layer.bwd.swiglu").at(0)->fused_of_copy == 1.0);
}

TEST_CASE("software.fusions.cross_entropy_impl: Megatron's names, TE's version, what it does alone", "[scenario]") {
  nlohmann::json j = step_scenario();
  j["software"]["fusions"]["cross_entropy_impl"] = "transformer_engine";
  test::Outcome o = test::parse(j);
  REQUIRE(o.errors.size() == 1);
  CHECK(o.errors[0].path == "software.fusions.cross_entropy_impl");
  CHECK_THAT(o.errors[0].fix, Catch::Contains("write \"te\""));
  // TE's parallel_cross_entropy came with TE 2.2.
  j["software"]["fusions"]["cross_entropy_impl"] = "te";
  j["software"]["transformer_engine_version"] = "2.1";
  o = test::parse(j);
  REQUIRE(o.errors.size() == 1);
  CHECK(o.errors[0].path == "software.fusions.cross_entropy_impl");
  CHECK_THAT(o.errors[0].rule, Catch::Contains("TE 2.2"));
  // Captured in a full-iteration CUDA graph it needs TE 2.7 (Megatron's language_module.py raises).
  j["software"]["transformer_engine_version"] = "2.6";
  j["software"]["cuda_graph_impl"] = "full_iteration";
  o = test::parse(j);
  REQUIRE(o.errors.size() == 1);
  CHECK_THAT(o.errors[0].rule, Catch::Contains("TE 2.7"));
  j["software"]["transformer_engine_version"] = "2.7";
  CHECK(test::parse(j).valid);
  j["software"].erase("cuda_graph_impl");
  // Without the fusion the implementation is moot: said so.
  j["software"]["transformer_engine_version"] = "2.18";
  j["software"]["fusions"]["cross_entropy"] = false;
  o = test::parse(j);
  REQUIRE(o.valid);
  const auto& warnings = o.scenario.warnings;
  CHECK(std::any_of(warnings.begin(), warnings.end(),
                    [](const std::string& w) { return w.find("has no effect without") != std::string::npos; }));
}

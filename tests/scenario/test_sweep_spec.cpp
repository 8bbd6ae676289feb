// The "sweep" section of a scenario: every key read, every problem reported
// with its JSON path, and a scenario carrying one still parses as a single run.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/diagnostics.hpp"
#include "scenario/parse.hpp"
#include "scenario/sweep_spec.hpp"

using namespace hcpsim;
using nlohmann::json;

namespace {

std::vector<Diagnostic> sweep_spec_errors(const json& section) {
  DiagnosticSink sink;
  (void)parse_sweep_spec(section, sink);
  try {
    sink.throw_if_any();
  } catch (const InputError& e) {
    return e.diagnostics();
  }
  return {};
}

bool has_error_at(const std::vector<Diagnostic>& d, const std::string& path) {
  for (const auto& x : d)
    if (x.path == path) return true;
  return false;
}

}  // namespace

TEST_CASE("sweep section: every dimension read", "[sweep]") {
  DiagnosticSink sink;
  const SweepSpec s = parse_sweep_spec(json::parse(R"({
      "tensor_model_parallel_size": [1, 2], "context_parallel_size": [4, 16],
      "cp_comm_type": ["a2a", "a2a+p2p"], "hierarchical_context_parallel_sizes": [[8, 2], [4, 4]],
      "micro_batch_size": [1, 2], "recompute_granularity": ["none", "full"], "sequence_parallel": false,
      "tp_comm_overlap": [false, true]})"),
                                       sink);
  REQUIRE(sink.empty());
  CHECK(*s.tp == std::vector<int64_t>{1, 2});
  CHECK(*s.cp == std::vector<int64_t>{4, 16});
  CHECK(*s.comm_types == std::vector<CpCommType>{CpCommType::A2A, CpCommType::A2AP2P});
  CHECK(*s.hcp_sizes == std::vector<std::vector<int64_t>>{{8, 2}, {4, 4}});
  CHECK(*s.micro_batch_sizes == std::vector<int64_t>{1, 2});
  CHECK(s.recompute == std::vector<RecomputeGranularity>{RecomputeGranularity::None, RecomputeGranularity::Full});
  CHECK_FALSE(s.recompute_lightest_fitting);
  CHECK(s.sequence_parallel == SweepSequenceParallel::Off);
  CHECK(*s.tp_comm_overlap == std::vector<bool>{false, true});
}

TEST_CASE("sweep section: an empty one leaves every dimension to the defaults", "[sweep]") {
  DiagnosticSink sink;
  const SweepSpec s = parse_sweep_spec(json::object(), sink);
  CHECK(sink.empty());
  CHECK_FALSE(s.tp);
  CHECK_FALSE(s.cp);
  CHECK_FALSE(s.comm_types);
  CHECK_FALSE(s.micro_batch_sizes);
  CHECK_FALSE(s.recompute_lightest_fitting);
  CHECK(s.recompute == std::vector<RecomputeGranularity>{RecomputeGranularity::None, RecomputeGranularity::Selective,
                                                         RecomputeGranularity::Full});
  CHECK(s.sequence_parallel == SweepSequenceParallel::Auto);
  CHECK_FALSE(s.tp_comm_overlap);
}

TEST_CASE("sweep section: each bad value reported at its path", "[sweep]") {
  const auto d = sweep_spec_errors(json::parse(R"({
      "tensor_model_parallel_size": 2, "context_parallel_size": [4, 0, 4],
      "cp_comm_type": ["a2a", "ulyses"], "hierarchical_context_parallel_sizes": [[8, 2, 1]],
      "recompute_granularity": "some", "sequence_parallel": "yes", "tp": [1],
      "tp_comm_overlap": [true, "on", true]})"));
  CHECK(has_error_at(d, "sweep.tensor_model_parallel_size"));  // not a list
  CHECK(has_error_at(d, "sweep.context_parallel_size[1]"));    // not positive
  CHECK(has_error_at(d, "sweep.context_parallel_size[2]"));    // repeated
  CHECK(has_error_at(d, "sweep.cp_comm_type[1]"));
  CHECK(has_error_at(d, "sweep.hierarchical_context_parallel_sizes[0]"));
  CHECK(has_error_at(d, "sweep.recompute_granularity"));
  CHECK(has_error_at(d, "sweep.sequence_parallel"));
  CHECK(has_error_at(d, "sweep.tp"));  // unknown key
  CHECK(has_error_at(d, "sweep.tp_comm_overlap[1]"));  // not a boolean
  CHECK(has_error_at(d, "sweep.tp_comm_overlap[2]"));  // repeated
  CHECK(d.size() == 10);
}

TEST_CASE("sweep section: a scenario may carry one, and a broken one makes it invalid", "[sweep]") {
  json doc = json::parse(R"({
    "model": {"preset": "llama3.1-8b"}, "training": {"seq_length": 131072, "global_batch_size": 8},
    "parallel": {"context_parallel_size": 16, "cp_comm_type": "p2p"},
    "cluster": {"preset": "dgx-h100", "num_nodes": 4},
    "sweep": {"context_parallel_size": [8, 16]}})");
  CHECK_NOTHROW(parse_scenario_text(doc.dump(), ParseOptions{}));
  doc["sweep"]["cp_comm_type"] = json::array({"ring"});
  try {
    parse_scenario_text(doc.dump(), ParseOptions{});
    FAIL("a bad sweep section was accepted");
  } catch (const InputError& e) {
    REQUIRE(e.diagnostics().size() == 1);
    CHECK(e.diagnostics()[0].path == "sweep.cp_comm_type[0]");
  }
}

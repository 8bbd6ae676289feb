// The host-bound warning (rules/host_launch.hpp): a layer whose launches are shorter on the GPU,
// on average, than the CPU time PyTorch needs to launch one is flagged; the arithmetic by hand.
#include <catch2/catch.hpp>

#include "rules/host_launch.hpp"
#include "run/simulate.hpp"

using namespace hcpsim;

namespace {

RankProgram program_of(int ops) {
  RankProgram p;
  p.ops.resize(static_cast<size_t>(ops));
  return p;
}

}  // namespace

TEST_CASE("host-bound warning: launches shorter than the host's time per launch", "[run]") {
  const RankProgram layer = program_of(100);
  // x86 host, 1.894 x 13.48 = 25.53 us a launch: 100 launches in 1 ms are 10 us each
  // (flagged), in 3 ms 30 us (not).
  CHECK(rules::host_launch_s("H100-SXM-80GB") == Approx(25.531e-6).epsilon(1e-4));
  const auto fast = host_bound_warning(layer, 1e-3, "H100-SXM-80GB");
  REQUIRE(fast);
  CHECK(fast->find("100 launches") != std::string::npos);
  CHECK(fast->find("10.0 us each") != std::string::npos);
  CHECK(fast->find("25.5 us") != std::string::npos);
  CHECK_FALSE(host_bound_warning(layer, 3e-3, "H100-SXM-80GB"));
  // Grace (a GB200 superchip's GPU), 1.894 x 37.08 = 70.23 us a launch: 60 us each is
  // flagged, 80 us is not.
  CHECK(rules::host_launch_s("B200-in-GB200-186GB") == Approx(70.230e-6).epsilon(1e-4));
  const auto grace = host_bound_warning(layer, 6e-3, "B200-in-GB200-186GB");
  REQUIRE(grace);
  CHECK(grace->find("on Grace") != std::string::npos);
  CHECK_FALSE(host_bound_warning(layer, 8e-3, "B200-in-GB200-186GB"));
  // Nothing to say about an empty program or a zero time.
  CHECK_FALSE(host_bound_warning(program_of(0), 1e-3, "H100-SXM-80GB"));
  CHECK_FALSE(host_bound_warning(layer, 0, "H100-SXM-80GB"));
}

TEST_CASE("CUDA graphs: one launch for what a graph replays", "[run]") {
  // A chunk of 4 layers of 60 ops, and 7 ops outside the layers (head, loss, transfers).
  CHECK(rules::pass_launches(rules::GraphScope::None, 4, 60, 7) == 4 * 60 + 7);
  CHECK(rules::pass_launches(rules::GraphScope::Layer, 4, 60, 7) == 4 + 7);  // a graph a layer
  CHECK(rules::pass_launches(rules::GraphScope::Iteration, 4, 60, 7) == 0);  // one a step, none a micro batch
  CHECK(rules::pass_launches(rules::GraphScope::Layer, 0, 0, 7) == 7);       // no layers: the ops outside
}

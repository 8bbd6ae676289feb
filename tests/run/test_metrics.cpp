// Metrics from a hand-made timeline, checked against values worked out by hand.
#include <catch2/catch.hpp>

#include "run/metrics.hpp"

using namespace hcpsim;

namespace {

// An attention op named `what` (its label spelled by rules/op_label.hpp).
Op make(int32_t id, OpKind kind, Stream s, Phase p, const char* what) {
  Op op;
  op.id = id;
  op.kind = kind;
  op.stream = s;
  op.phase = p;
  op.area = OpArea::Attention;
  op.label = op_label(op.area, p, what, false);
  return op;
}

}  // namespace

TEST_CASE("interval union and uncovered length", "[simulator][metrics]") {
  const auto u = interval_union({{3, 5}, {0, 1}, {0.5, 2}, {4, 4.5}, {7, 7}});
  REQUIRE(u == std::vector<Interval>{{0, 2}, {3, 5}});
  CHECK(total_length_s(u) == 4);
  // [0,2) u [3,5) minus [1,3.5): uncovered [0,1) and [3.5,5) = 1 + 1.5.
  CHECK(uncovered_length_s(u, {{1, 3.5}}) == Approx(2.5));
  CHECK(uncovered_length_s(u, {}) == 4);
}

TEST_CASE("exposed CP comm is comm time not covered by any kernel", "[simulator][metrics]") {
  // One rank, a two-step ring forward: kernel A0 [0,4), message M1 [0,6) (issued before A0),
  // kernel A1 [6,10) waits for M1. Comm 6 s, covered by A0 for 4 s: exposed 2 s, so the
  // overlap ratio = 1 - 2/6 = 2/3. Forward span 0..10.
  RankProgram p;
  p.rank = 0;
  p.ops = {make(0, OpKind::Compute, Stream::Compute, Phase::Forward, "step0.diag"),
           make(1, OpKind::Comm, Stream::NcclCp, Phase::Forward, "kv_send1"),
           make(2, OpKind::Compute, Stream::Cp, Phase::Forward, "step1.lower"),
           make(3, OpKind::Compute, Stream::Compute, Phase::Backward, "step0.diag")};
  Timeline t;
  t.ops = {{0, 0, 0, 0, 0, 4}, {0, 0, 1, 0, 0, 6}, {0, 0, 2, 6, 6, 10}, {0, 0, 3, 10, 10, 13}};
  const AttentionMetrics m = attention_metrics(t, 0, {p});
  CHECK(m.rank == 0);
  CHECK(m.forward_s == 10);
  CHECK(m.backward_s == 3);
  CHECK(m.comm_s == 6);
  CHECK(m.exposed_comm_s == Approx(2));
  CHECK(m.overlap_ratio == Approx(2.0 / 3.0));
  const PassSpans s = pass_spans(t, 0, 0, {p});
  CHECK(s.forward_s == 10);
  CHECK(s.backward_s == 3);
}

TEST_CASE("link utilisation is bytes over capacity times window", "[simulator][metrics]") {
  Timeline t;
  t.links = {{0, "nic3_UP", LinkClass::Nic, 50e9, 25e9, 0.6},
             {0, "nvl0_UP", LinkClass::NvLink, 450e9, 90e9, 0.3},
             {1, "nic5_UP", LinkClass::Nic, 50e9, 50e9, 1.0}};  // another phase: not counted
  const auto top = busiest_links(t, 0, 1.0, 1);
  REQUIRE(top.size() == 1);
  CHECK(top[0].name == "nic3_UP");
  CHECK(top[0].utilisation == Approx(0.5));  // 25 GB over 50 GB/s x 1 s
}

// What a span of the step is made of, for its band (run/uncertainty.hpp, time_shares): the kernels
// of the included areas fill their union, the rest of the span is communication waited on. The
// optimizer's span under Megatron-FSDP is the case: its kernels (the fp32 cast, Adam) and the
// once-a-step gather of the parameters outside the layers it waits for.
#include <catch2/catch.hpp>

#include "cost/cost_model.hpp"
#include "run/uncertainty.hpp"
#include "scenario/presets.hpp"

using namespace hcpsim;

namespace {

Op op(int32_t id, OpKind kind, OpArea area) {
  Op o;
  o.id = id;
  o.kind = kind;
  o.area = area;
  o.compute_class = ComputeClass::Elementwise;
  return o;
}

}  // namespace

TEST_CASE("time shares: the optimizer's kernels are memory-bound work, the gather it waits on communication", "[run]") {
  const GpuSpec h200 = find_cluster_preset("dgx-h200")->spec.gpu;
  const CostModel cost(h200, Precision::BF16, default_cost_params(h200, AttentionBackend::CuDNN));
  RankProgram p;
  p.ops = {op(0, OpKind::Compute, OpArea::Optimizer),   // the fp32 cast: 0.0-0.5 s
           op(1, OpKind::Compute, OpArea::Optimizer),   // Adam: 0.5-1.0 s
           op(2, OpKind::Comm, OpArea::Optimizer),  // the non-layer gather: 1.0-3.0 s
           op(3, OpKind::Compute, OpArea::Layer)};      // not the optimizer's: left out
  Timeline t;
  const int32_t step_phase = 1;
  t.ops = {{step_phase, 0, 0, 0.0, 0.0, 0.5}, {step_phase, 0, 1, 0.5, 0.5, 1.0}, {step_phase, 0, 2, 1.0, 1.0, 3.0},
           {step_phase, 0, 3, 0.0, 0.0, 3.0}, {0, 0, 0, 0.0, 0.0, 9.0}};  // another phase's op: left out
  const TimeShares s = time_shares(t, step_phase, 0, {p}, 3.0, [](OpArea a) { return a == OpArea::Optimizer; }, cost);
  // 1 s of kernels in a 3 s span: 1 s memory-bound, the 2 s without a kernel communication.
  CHECK(s.elementwise_s == Approx(1.0));
  CHECK(s.comm_s == Approx(2.0));
  CHECK(s.gemm_s == 0);
  CHECK(s.total_s() == Approx(3.0));
  // Without the gather the span is the kernels': nothing is communication.
  const TimeShares k = time_shares(t, step_phase, 0, {p}, 1.0, [](OpArea a) { return a == OpArea::Optimizer; }, cost);
  CHECK(k.elementwise_s == Approx(1.0));
  CHECK(k.comm_s == 0);
}

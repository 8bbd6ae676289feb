// A GEMM op as the workload builder makes one: m x n x k, 2mnk FLOPs, of the given type. For the
// cost model's tests, which time one GEMM by hand.
#pragma once

#include <cstdint>

#include "rules/fp8_gemm.hpp"
#include "workload/workload.hpp"

namespace hcpsim::test {

inline Op gemm_op(double m, double n, double k, rules::GemmType type) {
  Op op;
  op.kind = OpKind::Compute;
  op.compute_class = ComputeClass::Gemm;
  op.gemm = {int64_t(m), int64_t(n), int64_t(k)};
  op.flops = 2 * m * n * k;
  op.gemm_type = type;
  return op;
}

}  // namespace hcpsim::test

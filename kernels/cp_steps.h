// Views for the three causal context-parallel step shapes (docs/cp-transports.md §2.3) without
// copies. A rank's local tensors hold 2c rows: its early chunk (rows [0, c)) and its late
// chunk (rows [c, 2c)).
//   diagonal: own KV, causal over 2c x 2c
//   lower:    KV of a lower rank, all 2c query rows x the first c key rows, no mask
//   upper:    KV of a higher rank, the last c query rows x all 2c key rows, no mask
//   full:     no causal mask at all (non-causal CP), 2c x 2c
#pragma once
#include <cstdint>
#include <stdexcept>

#include "attn_api.h"

namespace hcpsim::kernels {

enum class CpStep { kDiagonal, kLower, kUpper, kFull };

// The view starting `rows` sequence positions later (elem_bytes: 2 for bf16, 4 for fp32).
inline BshdView offset_rows(BshdView v, int64_t rows, int elem_bytes = 2) {
  v.ptr = static_cast<char*>(v.ptr) + rows * v.row_stride * elem_bytes;
  return v;
}
inline LseView offset_rows(LseView v, int64_t rows) {
  v.ptr += rows;
  return v;
}

// The shape of `step` of a rank's 2c x 2c problem (seqlen_q == seqlen_kv == 2c), and the
// query rows its views start at (c for the upper step, else 0).
inline AttnShape step_shape(AttnShape shape, CpStep step, int& query_row_offset) {
  const int two_c = shape.seqlen_q;
  if (two_c % 2 != 0 || shape.seqlen_kv != two_c) throw std::invalid_argument("cp step: need sq == skv == 2c");
  const int c = two_c / 2;
  shape.causal = step == CpStep::kDiagonal;
  if (step == CpStep::kLower) shape.seqlen_kv = c;  // backward: dk/dv, only the first c rows are written
  if (step == CpStep::kUpper) shape.seqlen_q = c;
  query_row_offset = step == CpStep::kUpper ? c : 0;
  return shape;
}

// `a` describes the rank's 2c x 2c problem.
inline FwdArgs step_args(FwdArgs a, CpStep step) {
  int off = 0;
  a.shape = step_shape(a.shape, step, off);
  a.q = offset_rows(a.q, off);
  a.o = offset_rows(a.o, off);
  a.lse = offset_rows(a.lse, off);
  return a;
}

inline BwdArgs step_args(BwdArgs a, CpStep step) {
  int off = 0;
  a.shape = step_shape(a.shape, step, off);
  a.q = offset_rows(a.q, off);
  a.o = offset_rows(a.o, off);
  a.d_o = offset_rows(a.d_o, off);
  a.dq = offset_rows(a.dq, off);
  a.lse = offset_rows(a.lse, off);
  return a;
}

}  // namespace hcpsim::kernels

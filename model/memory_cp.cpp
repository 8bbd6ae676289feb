#include "memory_cp.hpp"

#include <algorithm>
#include <cassert>

#include "model_params.hpp"

namespace hcpsim {

CpTensorBytes cp_tensor_bytes(const Scenario& s) {
  const ModelSpec& m = s.model;
  const int64_t tp = s.parallel.tensor_model_parallel_size;
  const double tokens = static_cast<double>(s.training.micro_batch_size * s.training.seq_length /
                                            s.parallel.context_parallel_size);
  const double e = static_cast<double>(s.activation_bytes_per_element());
  const double d = static_cast<double>(m.kv_channels);
  const double hq = static_cast<double>(m.num_attention_heads / tp);
  const double hk = static_cast<double>(kv_heads_per_tp_rank(m, tp));
  CpTensorBytes t;
  t.q = t.o = tokens * hq * d * e;
  t.k = t.v = tokens * hk * d * e;
  t.lse = tokens * hq * 4.0;
  return t;
}

double p2p_forward_bytes(const CpTensorBytes& t, int64_t n, int64_t r, bool causal) {
  assert(n >= 1 && r >= 0 && r < n);
  // Causal: 1 diagonal + r lower steps use all Q rows; N-1-r upper steps use the second half.
  const double full_steps = causal ? static_cast<double>(1 + r) : static_cast<double>(n);
  const double half_steps = static_cast<double>(n) - full_steps;
  const double outputs = (full_steps + 0.5 * half_steps) * (t.o + t.lse);
  return static_cast<double>(n) * t.kv() + outputs;
}

namespace {

double p2p_backward_bytes(const CpTensorBytes& t) {
  return 4.0 * t.kv() + t.q + (t.q + t.kv());
}

double a2a_in_flight_bytes(const CpTensorBytes& t) { return 2.0 * std::max(t.q, t.k); }

CpBufferBytes ring(const CpTensorBytes& t, int64_t n, bool causal) {
  return {.fwd_bytes = p2p_forward_bytes(t, n, n - 1, causal),
          .bwd_bytes = p2p_backward_bytes(t),
          .saved_extra_per_layer_bytes = 0};
}

CpBufferBytes ulysses(const CpTensorBytes& t) {
  const double post = t.q + t.kv();
  return {.fwd_bytes = post + std::max(a2a_in_flight_bytes(t), 3.0 * t.o),
          .bwd_bytes = t.o + 2.0 * post + a2a_in_flight_bytes(t),
          .saved_extra_per_layer_bytes = t.o};
}

CpBufferBytes hierarchical(const CpTensorBytes& t, int64_t p, bool causal) {
  const double post = t.q + t.kv();
  const double ring_fwd = p2p_forward_bytes(t, p, p - 1, causal) + 2.0 * t.o;
  const double a2a_bwd_stage = 2.0 * post + a2a_in_flight_bytes(t);
  return {.fwd_bytes = post + std::max(a2a_in_flight_bytes(t), ring_fwd),
          .bwd_bytes = t.o + std::max(a2a_bwd_stage, p2p_backward_bytes(t)),
          .saved_extra_per_layer_bytes = t.o};
}

}  // namespace

CpBufferBytes cp_buffer_bytes(const Scenario& s) {
  const CpTensorBytes t = cp_tensor_bytes(s);
  const ParallelSpec& par = s.parallel;
  const int64_t cp = par.context_parallel_size;
  const bool causal = s.training.attn_mask_type == AttnMaskType::Causal;
  if (cp == 1) return {.fwd_bytes = 0, .bwd_bytes = t.q + t.kv(), .saved_extra_per_layer_bytes = 0};
  switch (par.cp_comm_type) {
    case CpCommType::P2P: return ring(t, cp, causal);
    case CpCommType::AllGather: {
      const double n = static_cast<double>(cp);
      return {.fwd_bytes = t.kv() + 2.0 * n * t.kv(),
              .bwd_bytes = 3.0 * n * t.kv() + t.q,
              .saved_extra_per_layer_bytes = 0};
    }
    case CpCommType::A2A: return ulysses(t);
    case CpCommType::A2AP2P:
      // A size of 1 makes TE fall back to pure p2p (A = 1) or pure a2a (P = 1), §5.1.
      if (par.a2a_size() == 1) return ring(t, par.p2p_size(), causal);
      if (par.p2p_size() == 1) return ulysses(t);
      return hierarchical(t, par.p2p_size(), causal);
  }
  return {};
}

}  // namespace hcpsim

#include "memory/cp_buffers.hpp"

#include <algorithm>
#include <cassert>

#include "workload/attention_ring.hpp"
#include "scenario/model_params.hpp"

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

double ws_of(const BwdWorkspace& ws, const AttentionShape& a) { return ws ? ws(a) : 0.0; }

// The rank's tensors after an a2a over `inner` ranks: inner x the tokens, 1/inner the heads (of
// each packed document, where the sequences hold several: as the workload's kernels run them).
AttnDims dims_after_a2a(const Scenario& s, int64_t inner) {
  AttnDims d;
  const int64_t tp = s.parallel.tensor_model_parallel_size;
  // Documents of unequal lengths: the first group's, whose tiles are the same fractions of the
  // rank's tensors as every group's (a ring step's rows and columns, an all_gather chunk's visible
  // prefix: each a fixed share of every document's piece).
  const TrainingSpec::SequenceGroup first = s.training.attention_sequences().front();
  d.batch = first.count;
  d.len = first.length / s.parallel.context_parallel_size * inner;
  d.hq = s.model.num_attention_heads / tp / inner;
  d.hk = kv_heads_per_tp_rank(s.model, tp) / inner;
  d.head_dim = s.model.kv_channels;
  d.elem_bytes = s.activation_bytes_per_element();
  return d;
}

// §2.5: two [2, KV] buffers (4X), dq_buffer |Q|, the contiguous second half of the LSE for
// upper steps (|LSE|/2, causal only), and the largest step's kernel outputs dq_, dk_, dv_
// (rows of the step's tile: diagonal |Q| + X, lower |Q| + X/2, upper |Q|/2 + X) with the
// kernel's workspace.
double p2p_backward_bytes(const CpTensorBytes& t, const AttnDims& d, int64_t n, int64_t rank, bool causal,
                          const BwdWorkspace& ws) {
  RingAttention ring;
  ring.dims = d;
  ring.n = n;
  ring.rank = rank;
  ring.causal = causal;
  double step = 0;
  for (int64_t i = 0; i < n; ++i) {
    const AttentionShape a = ring_tile(ring, ring_backward_section(ring, i), true);
    const double rows = double(a.sq) / double(d.len), cols = double(a.skv) / double(d.len);
    step = std::max(step, rows * t.q + cols * t.kv() + ws_of(ws, a));
  }
  return 4.0 * t.kv() + t.q + (causal ? 0.5 * t.lse : 0.0) + step;
}

// a2a backward (§4, after the post-a2a dO |O|): the kernel's dq, dk, dv (|Q| + X) with its
// workspace, or the out stage: the post-a2a dq, dk, dv, the local ones returned so far and
// the one in flight (pack and a2a output): dq: 2|Q|; dk: |Q| + 2|K|; dv: |Q| + |K| + 2|K|.
double a2a_backward_stage_bytes(const CpTensorBytes& t, const AttentionShape& kernel, const BwdWorkspace& ws) {
  const double post = t.q + t.kv();
  return post + std::max(ws_of(ws, kernel), std::max(2.0 * t.q, t.q + 3.0 * t.k));
}

double a2a_in_flight_bytes(const CpTensorBytes& t) { return 2.0 * std::max(t.q, t.k); }

CpBufferBytes ring(const CpTensorBytes& t, const AttnDims& d, int64_t n, int64_t r, bool causal,
                   const BwdWorkspace& ws) {
  return {.fwd_bytes = p2p_forward_bytes(t, n, r, causal),
          .bwd_bytes = p2p_backward_bytes(t, d, n, r, causal, ws),
          .saved_extra_per_layer_bytes = 0};
}

CpBufferBytes ulysses(const CpTensorBytes& t, const AttnDims& d, bool causal, const BwdWorkspace& ws) {
  const double post = t.q + t.kv();
  const AttentionShape kernel =
      attention_shape(d, d.len, d.len, causal ? KernelMask::CausalTopLeft : KernelMask::None, true);
  return {.fwd_bytes = post + std::max(a2a_in_flight_bytes(t), 3.0 * t.o),
          .bwd_bytes = t.o + a2a_backward_stage_bytes(t, kernel, ws),
          .saved_extra_per_layer_bytes = t.o};
}

// all_gather backward of CP rank r (§3): the re-gather (as forward), then per chunk the
// reordered K, V (N*X), the zeroed full-length dK, dV (N*X), the dq chunks so far (|Q|/2
// each), the chunk's dk, dv over its visible prefix and the kernel's workspace; then the
// reorder of dK, dV back to rank order (N|K| in flight) and the reduce-scatters' outputs X.
// Packed documents (THD), as TE's code holds them: each chunk's kernel takes the whole Q and the
// gathered K, V (its per-step cu_seqlens select the chunk), so each chunk's dq, dk, dv are full-size
// (|Q| + N*X), and TE keeps every chunk's in its per-step lists, and the gathered K, V, to the end,
// beside a dQ zeroed first (|Q|): per chunk 2 N*X + |Q| + (chunks so far) x (|Q| + N*X); then the
// reorder (N|K| in flight) and the reduce-scatters' outputs beside 2 N*X + 2 (|Q| + N*X) + |Q|.
double all_gather_backward_bytes(const CpTensorBytes& t, const AttnDims& d, int64_t n, int64_t r, bool causal,
                                 int64_t seq, bool thd, const BwdWorkspace& ws) {
  const double nn = double(n), nx = nn * t.kv();
  const int64_t c = d.len / 2;
  double peak = std::max(t.kv() + nx, nx + nn * t.k);
  for (int64_t h = 0; h < 2; ++h) {
    const int64_t chunk = h == 0 ? r : 2 * n - 1 - r;
    const int64_t skv = causal ? (chunk + 1) * c : seq;
    const AttentionShape a =
        attention_shape(d, c, skv, causal ? KernelMask::CausalBottomRight : KernelMask::None, true);
    const double outputs = thd ? t.q + double(h + 1) * (t.q + nx)
                               : double(h + 1) * 0.5 * t.q + double(skv) / double(d.len) * t.kv();
    peak = std::max(peak, 2 * nx + outputs + ws_of(ws, a));
  }
  const double held = thd ? 3 * nx + 3 * t.q : t.q;  // beside the full-length dK, dV in the reduce stage
  return std::max(peak, nx + held + std::max(nn * t.k, t.kv()));
}

CpBufferBytes hierarchical(const CpTensorBytes& t, const AttnDims& d, int64_t p, int64_t ring_rank, bool causal,
                           const BwdWorkspace& ws) {
  const double post = t.q + t.kv();
  // The ring of P on post-a2a tensors and its merged out (|O|), §5.2; measured on the H200
  // (calibrate/results/h200-v3-cp-measurements.json): no second |O| beside them.
  const double ring_fwd = p2p_forward_bytes(t, p, ring_rank, causal) + t.o;
  const double a2a_bwd_stage = post + std::max(2.0 * t.q, t.q + 3.0 * t.k);
  return {.fwd_bytes = post + std::max(a2a_in_flight_bytes(t), ring_fwd),
          .bwd_bytes = t.o + std::max(a2a_bwd_stage, p2p_backward_bytes(t, d, p, ring_rank, causal, ws)),
          .saved_extra_per_layer_bytes = t.o};
}

}  // namespace

CpBufferBytes cp_buffer_bytes(const Scenario& s) {
  // The worst rank: the last for the p2p ring's forward, the first for all_gather's backward.
  const CpBufferBytes first = cp_buffer_bytes_of_rank(s, 0);
  const CpBufferBytes last = cp_buffer_bytes_of_rank(s, s.parallel.context_parallel_size - 1);
  return {.fwd_bytes = std::max(first.fwd_bytes, last.fwd_bytes),
          .bwd_bytes = std::max(first.bwd_bytes, last.bwd_bytes),
          .saved_extra_per_layer_bytes = std::max(first.saved_extra_per_layer_bytes, last.saved_extra_per_layer_bytes)};
}

CpBufferBytes cp_buffer_bytes_of_rank(const Scenario& s, int64_t cp_rank, const BwdWorkspace& ws) {
  const CpTensorBytes t = cp_tensor_bytes(s);
  const ParallelSpec& par = s.parallel;
  const int64_t cp = par.context_parallel_size;
  assert(cp_rank >= 0 && cp_rank < cp);
  const bool causal = s.training.attn_mask_type == AttnMaskType::Causal;
  if (cp == 1) {
    const AttnDims d = dims_after_a2a(s, 1);
    const AttentionShape a =
        attention_shape(d, d.len, d.len, causal ? KernelMask::CausalTopLeft : KernelMask::None, true);
    return {.fwd_bytes = 0, .bwd_bytes = t.q + t.kv() + ws_of(ws, a), .saved_extra_per_layer_bytes = 0};
  }
  switch (par.cp_comm_type) {
    case CpCommType::P2P: return ring(t, dims_after_a2a(s, 1), cp, cp_rank, causal, ws);
    case CpCommType::AllGather: {
      // §3: seq-first copies X beside the gathered N*X until both gathers are done, then
      // each gathered tensor's reordered copy (N|K|) beside the gathered pair; then the
      // kernels: the reordered K, V (N*X) with the two half-size chunk outputs (|O|) beside
      // the layer's out and lse (counted by the caller as outputs); under THD two full-size
      // ones (2|O|: each chunk's kernel takes the whole Q); from TE 2.18 the second output, zeroed
      // (|O|: rules/cp_schedule.hpp, all_gather_zeroes_an_output).
      const double n = static_cast<double>(cp);
      const bool thd = s.training.packed_documents();
      const Version& te = s.software.transformer_engine_version;
      const double second = all_gather_zeroes_an_output(te.major, te.minor) ? t.o : 0.0;
      const double gather = std::max(t.kv() + n * t.kv(), n * t.kv() + n * t.k);
      return {.fwd_bytes = std::max(gather - t.o - t.lse, n * t.kv() + (thd ? 2 : 1) * t.o + second),
              .bwd_bytes = all_gather_backward_bytes(t, dims_after_a2a(s, 1), cp, cp_rank, causal,
                                                     s.training.attention_sequences().front().length, thd, ws),
              .saved_extra_per_layer_bytes = 0};
    }
    case CpCommType::A2A: return ulysses(t, dims_after_a2a(s, cp), causal, ws);
    case CpCommType::A2AP2P:
      // A size of 1 makes TE fall back to pure p2p (A = 1) or pure a2a (P = 1), §5.1.
      // Flat CP rank c has ring rank c div A (§5.3).
      if (par.a2a_size() == 1) return ring(t, dims_after_a2a(s, 1), par.p2p_size(), cp_rank, causal, ws);
      if (par.p2p_size() == 1) return ulysses(t, dims_after_a2a(s, cp), causal, ws);
      return hierarchical(t, dims_after_a2a(s, par.a2a_size()), par.p2p_size(), cp_rank / par.a2a_size(), causal, ws);
  }
  return {};
}

double cp_pass_peak_bytes(const Scenario& s, int64_t cp_rank, bool backward, const BwdWorkspace& ws) {
  const CpTensorBytes t = cp_tensor_bytes(s);
  const int64_t cp = s.parallel.context_parallel_size;
  const CpBufferBytes b = cp_buffer_bytes_of_rank(s, cp_rank, ws);
  const double fwd_inputs = t.q + t.kv();
  const double bwd_inputs = t.q + t.kv() + t.o + t.lse + t.o;  // q, k, v, o, lse, dO
  const CpCommType type = s.parallel.cp_comm_type;
  const bool ring_like = type == CpCommType::P2P || type == CpCommType::AllGather ||
                         (type == CpCommType::A2AP2P && s.parallel.a2a_size() == 1);
  if (cp == 1) return backward ? bwd_inputs + b.bwd_bytes : fwd_inputs + t.o + t.lse;
  if (!backward) return fwd_inputs + b.fwd_bytes + (ring_like ? t.o + t.lse : t.lse);
  return bwd_inputs + b.bwd_bytes;
}

}  // namespace hcpsim

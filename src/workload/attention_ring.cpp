// Forward (§2.2-§2.4) and backward (§2.5) schedules of the p2p ring.
#include "workload/attention_ring.hpp"

#include <cassert>
#include <string>

namespace hcpsim {

namespace {

// "step<i>.<what>": a ring step's kernel (what = its section) and the copies and
// accumulations of that step.
std::string step_what(int64_t i, const char* what) { return "step" + std::to_string(i) + "." + what; }

// Half-tensor copies of the cuDNN path: k_part/v_part.contiguous() (lower) and
// q_part.contiguous() (upper; backward also out and dout); for THD tex.thd_read_half_tensor
// gathers each document's half, the same bytes. With sbhd the halves are leading-dimension
// slices, already contiguous, so no kernel runs.
void half_copies(ProgramBuilder& b, const RingAttention& ring, Stream s, int64_t i, RingSection sec,
                 bool backward) {
  if (ring.format == QkvFormat::Sbhd) return;
  const double kv = 2 * ring.dims.k_bytes();
  // Copying half a tensor reads and writes half of it: bytes = |X|.
  if (sec == RingSection::Lower) b.elementwise(s, step_what(i, "kv_half_copy"), kv);
  if (sec == RingSection::Upper)
    b.elementwise(s, step_what(i, backward ? "q_out_dout_half_copy" : "q_half_copy"),
                  (backward ? 3 : 1) * ring.dims.q_bytes());
}

}  // namespace

RingSection ring_forward_section(const RingAttention& ring, int64_t i) {
  return ring_forward_section(ring.n, ring.rank, i, ring.causal, ring.order);
}

RingSection ring_backward_section(const RingAttention& ring, int64_t i) {
  return ring_backward_section(ring.n, ring.rank, i, ring.causal, ring.order);
}

AttentionShape ring_tile(const RingAttention& ring, RingSection s, bool backward) {
  assert(s != RingSection::Skip && "a skipped ring step runs no kernel");
  // Every document is split over the ring as a sequence is: a step computes the same section of
  // each (one varlen launch over documents of unequal lengths).
  return over_documents(ring.dims, [&](const AttnDims& d) {
    const int64_t two_c = d.len, c = two_c / 2;
    switch (s) {
      case RingSection::Diagonal: return attention_shape(d, two_c, two_c, KernelMask::CausalTopLeft, backward);
      case RingSection::Lower: return attention_shape(d, two_c, c, KernelMask::None, backward);
      case RingSection::Upper: return attention_shape(d, c, two_c, KernelMask::None, backward);
      case RingSection::Below: return attention_shape(d, two_c - 1, two_c - 1, KernelMask::CausalTopLeft, backward);
      case RingSection::Skip:
      case RingSection::All: break;
    }
    return attention_shape(d, two_c, two_c, KernelMask::None, backward);
  });
}

void ring_forward(ProgramBuilder& b, const RingAttention& ring) {
  assert(ring.n >= 2 && ring.dims.len % 2 == 0);
  const int64_t n = ring.n;
  const double kv = 2 * ring.dims.k_bytes();  // |K| + |V|, one packed message
  const double lse = ring.dims.lse_bytes(), out = ring.dims.q_bytes();
  // torch.cat(k.view(-1), v.view(-1)): the first send buffer.
  b.elementwise(Stream::Compute, "kv_pack", 2 * kv);

  std::vector<int32_t> msg(n, -1);  // msg[i] delivers the KV used at step i
  int32_t merge = -1;               // fwd_results_correction_done
  for (int64_t i = 0; i <= n; ++i) {
    if (i < n) {
      const Stream s = alternating_stream(i);
      if (i >= 1) b.wait(s, msg[i]);
      if (i < n - 1)  // transfer for step i+1, issued before the step-i kernel
        msg[i + 1] = b.sendrecv(Stream::NcclCp, s, "kv_send" + std::to_string(i + 1),
                                ring.next, ring.prev, kv, kv, ring.group);
      const RingSection sec = ring_forward_section(ring, i);
      if (sec != RingSection::Skip) {
        half_copies(b, ring, s, i, sec, false);
        attention_call(b, s, ring_step_what(i, sec), ring.dims, ring_tile(ring, sec, false), std::nullopt);
      }
    }
    // LSE merge of step i-1, one step behind, serialized by an event; a skipped step has none
    if (i >= 1 && ring_forward_section(ring, i - 1) != RingSection::Skip) {
      const bool upper = ring_forward_section(ring, i - 1) == RingSection::Upper;
      // i = 1 clones lse_0; later merges read lse and lse_i and write lse
      // (upper steps: second half of the rows only).
      const double bytes = i == 1 ? 2 * lse : (upper ? 1.5 : 3) * lse;
      merge = b.elementwise(alternating_stream(i - 1),
                            "lse_merge" + std::to_string(i - 1), bytes,
                            merge >= 0 ? std::vector<int32_t>{merge} : std::vector<int32_t>{});
    }
  }
  b.wait_stream(Stream::Compute, Stream::Cp);
  for (int64_t i = 0; i < n; ++i) {
    // out (+)= exp(lse_i - lse) * out_i; step 0 initializes out.
    const RingSection sec = ring_forward_section(ring, i);
    if (sec == RingSection::Skip) continue;
    const bool upper = sec == RingSection::Upper;
    const double full = i == 0 ? 2 * out + 2 * lse : 3 * out + 2 * lse;
    b.elementwise(Stream::Compute, "out_correction" + std::to_string(i),
                  upper ? full / 2 : full);
  }
}

void ring_backward(ProgramBuilder& b, const RingAttention& ring) {
  assert(ring.n >= 2);
  const int64_t n = ring.n;
  const double kv = 2 * ring.dims.k_bytes();
  const double q = ring.dims.q_bytes();
  const Stream s = Stream::Compute;  // p2p backward uses the current stream only
  if (ring.causal && ring.order == CpLoadBalance::Zigzag)  // contiguous second half of the LSE for upper steps
    b.elementwise(s, "lse_half_copy", ring.dims.lse_bytes());
  for (int64_t i = 0; i < n; ++i) {
    // Payload: KV (i = 0), KV + dKV of the previous step (0 < i < N-1), dKV (i = N-1).
    const bool kv_only = i == 0, dkv_only = i == n - 1;
    const double payload = (kv_only || dkv_only) ? kv : 2 * kv;
    const char* what = kv_only ? "kv_send" : (dkv_only ? "dkv_send" : "kv_dkv_send");
    const int32_t xfer =
        b.sendrecv(Stream::NcclCp, s, what + std::to_string(i), ring.prev, ring.next, payload, payload,
                   ring.group);
    const RingSection sec = ring_backward_section(ring, i);
    if (sec == RingSection::Skip) {  // nothing to compute or add: the received dKV passes on as it came
      b.wait(s, xfer);
      continue;
    }
    half_copies(b, ring, s, i, sec, true);
    attention_call(b, s, ring_step_what(i, sec), ring.dims, ring_tile(ring, sec, true), std::nullopt);
    // dQ into dq_buffer: copy at i = 0, add afterwards; upper steps touch half the rows.
    const double dq_part = sec == RingSection::Upper ? q / 2 : q;
    b.elementwise(s, step_what(i, "dq_accumulate"), (i == 0 ? 2 : 3) * dq_part);
    b.wait(s, xfer);
    // dKV into the received slot: copy at i = 0, add afterwards; lower steps half the rows.
    const double dkv_part = sec == RingSection::Lower ? kv / 2 : kv;
    b.elementwise(s, step_what(i, "dkv_accumulate"), (i == 0 ? 2 : 3) * dkv_part);
  }
}

}  // namespace hcpsim

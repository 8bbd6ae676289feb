#include "workload/attention_common.hpp"

#include <algorithm>
#include <cassert>
#include <limits>

namespace hcpsim {

namespace {

// G(m) = sum over x = 0 .. m-1 of clamp(x + 1, 0, skv); 0 for m <= 0.
double prefix_visible(int64_t m, int64_t skv) {
  if (m <= 0) return 0;
  const double n = double(std::min(m, skv));
  return n * (n + 1) / 2 + double(std::max<int64_t>(m - skv, 0)) * double(skv);
}

// Pairs (i, j), 0 <= i < sq, 0 <= j < skv, with j <= i + shift:
// sum over x = shift .. shift+sq-1 of clamp(x + 1, 0, skv).
double keys_at_or_before(int64_t sq, int64_t skv, int64_t shift) {
  return prefix_visible(shift + sq, skv) - prefix_visible(shift, skv);
}

}  // namespace

double visible_elements(int64_t sq, int64_t skv, KernelMask mask, std::optional<int64_t> window) {
  assert(sq >= 0 && skv >= 0);
  const int64_t big = std::numeric_limits<int32_t>::max();
  if (mask == KernelMask::None) {
    if (!window) return double(sq) * double(skv);
    // |i - j| < w with rows and keys aligned top-left.
    const int64_t w = *window;
    return keys_at_or_before(sq, skv, w - 1) - keys_at_or_before(sq, skv, -w);
  }
  const int64_t delta = mask == KernelMask::CausalBottomRight ? skv - sq : 0;
  const double causal = keys_at_or_before(sq, skv, delta);
  if (!window) return causal;
  // Drop keys j <= pos - w, i.e. keep the w keys pos-w+1 .. pos.
  const int64_t w = std::min(*window, big);
  return causal - keys_at_or_before(sq, skv, delta - w);
}

AttentionShape attention_shape(const AttnDims& d, int64_t sq, int64_t skv, KernelMask mask,
                               bool backward) {
  AttentionShape s;
  s.batch = d.batch;
  s.sq = sq;
  s.skv = skv;
  s.heads_q = d.hq;
  s.heads_kv = d.hk;
  s.head_dim_qk = d.head_dim;
  s.head_dim_v = d.head_dim;
  s.mask = mask;
  s.backward = backward;
  s.varlen = d.varlen;
  return s;
}

namespace {

// A kernel's forward FLOPs and tensors, summed over a varlen launch's groups in one pass. Element
// size is 2 bytes (bf16/fp16 inputs; fp8 CP is out of scope, §10).
struct KernelSums {
  double fwd_flops = 0, q = 0, o = 0, k = 0, v = 0, lse = 0;
};

KernelSums kernel_sums(const AttentionShape& a, std::optional<int64_t> window) {
  const double e = 2;
  KernelSums t;
  for (const AttentionShape& p : sequence_parts(a)) {
    const double batch = double(p.batch);
    t.fwd_flops += 2 * batch * double(p.heads_q) * double(p.head_dim_qk + p.head_dim_v) *
                   visible_elements(p.sq, p.skv, p.mask, window);
    t.q += batch * p.sq * p.heads_q * p.head_dim_qk * e;
    t.o += batch * p.sq * p.heads_q * p.head_dim_v * e;
    t.k += batch * p.skv * p.heads_kv * p.head_dim_qk * e;
    t.v += batch * p.skv * p.heads_kv * p.head_dim_v * e;
    t.lse += batch * p.heads_q * p.sq * kLseBytesPerElement;
  }
  return t;
}

int32_t emit_kernel(ProgramBuilder& b, Stream s, std::string_view what, const AttentionShape& a,
                    std::optional<int64_t> window, const KernelSums& t, std::vector<int32_t> deps) {
  const double bytes = a.backward ? (t.q + t.k + t.v + t.o + t.o + t.lse) + (t.q + t.k + t.v)  // read; write dQ dK dV
                                  : (t.q + t.k + t.v) + (t.o + t.lse);
  const double flops = a.backward ? kAttnBwdFlopRatio * t.fwd_flops : t.fwd_flops;
  AttentionShape shape = a;
  shape.window = window.value_or(0);
  return b.attention(s, what, shape, flops, bytes, std::move(deps));
}

}  // namespace

int32_t attention_kernel(ProgramBuilder& b, Stream s, std::string_view what,
                         const AttentionShape& a, std::optional<int64_t> window,
                         std::vector<int32_t> deps) {
  return emit_kernel(b, s, what, a, window, kernel_sums(a, window), std::move(deps));
}

int32_t attention_call(ProgramBuilder& b, Stream s, std::string_view what, const AttnDims& d,
                       const AttentionShape& shape, std::optional<int64_t> window,
                       std::optional<double> output_bytes) {
  const KernelSums t = kernel_sums(shape, window);  // a launch's groups walked once for the fill and the kernel
  if (d.zero_fills) {
    const int32_t fill = b.elementwise(s, std::string(what) + ".zero_fill",
                                       output_bytes.value_or(shape.backward ? t.q + t.k + t.v : t.o));
    b.program().ops[size_t(fill)].own_launch = false;
  }
  return emit_kernel(b, s, what, shape, window, t, {});
}

}  // namespace hcpsim

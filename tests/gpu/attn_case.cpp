#include "attn_case.h"

#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <tuple>

#include "cpu_reference.h"

namespace hcpsim::test {
namespace {

using kernels::BshdView;
using kernels::CpStep;

const char* step_name(CpStep s) {
  switch (s) {
    case CpStep::kDiagonal: return "diagonal";
    case CpStep::kLower: return "lower";
    case CpStep::kUpper: return "upper";
    case CpStep::kFull: return "full";
  }
  return "?";
}

BshdView contiguous(void* ptr, int rows, int heads, int d) {
  return {ptr, static_cast<int64_t>(rows) * heads * d, static_cast<int64_t>(heads) * d, d};
}

// Rows [row0, row0 + n) of a contiguous [b, rows, heads, d] host tensor.
template <class T>
std::vector<T> slice_rows(const std::vector<T>& t, int b, int rows, int heads, int d, int row0, int n) {
  std::vector<T> out;
  const size_t row_elems = static_cast<size_t>(heads) * d;
  for (int bi = 0; bi < b; ++bi) {
    const auto* src = t.data() + (static_cast<size_t>(bi) * rows + row0) * row_elems;
    out.insert(out.end(), src, src + n * row_elems);
  }
  return out;
}

// Rows [row0, row0 + n) of a [b, heads, rows] LSE tensor.
std::vector<float> slice_lse(const std::vector<float>& t, int b, int heads, int rows, int row0, int n) {
  std::vector<float> out;
  for (int bh = 0; bh < b * heads; ++bh) {
    const float* src = t.data() + static_cast<size_t>(bh) * rows + row0;
    out.insert(out.end(), src, src + n);
  }
  return out;
}

// Every element outside [row0, row0 + n) of a [b, rows, heads, d] bf16 tensor is still poison.
bool untouched_outside(const std::vector<uint16_t>& t, int b, int rows, int heads, int d, int row0, int n) {
  const size_t row_elems = static_cast<size_t>(heads) * d;
  for (int bi = 0; bi < b; ++bi) {
    for (int r = 0; r < rows; ++r) {
      if (r >= row0 && r < row0 + n) continue;
      for (size_t e = 0; e < row_elems; ++e) {
        if (!std::isnan(bf16_value(t[(static_cast<size_t>(bi) * rows + r) * row_elems + e]))) return false;
      }
    }
  }
  return true;
}

}  // namespace

std::string AttnCase::name() const {
  char buf[160];
  const char* impl_name = impl == kernels::AttnImpl::kWgmma ? " wgmma" : (impl == kernels::AttnImpl::kMmaSync ? " mma" : "");
  std::snprintf(buf, sizeof buf, "d%d hq%d hk%d b%d %s%s sq%d skv%d%s%s%s", head_dim, heads_q, heads_kv, batch,
                use_step ? step_name(step) : (causal ? "causal" : "nomask"),
                !use_step && causal && causal_offset ? ("+" + std::to_string(causal_offset)).c_str() : "",
                use_step ? (step == CpStep::kUpper ? local_q / 2 : local_q) : seqlen_q,
                use_step ? (step == CpStep::kLower ? local_kv / 2 : local_kv) : seqlen_kv,
                packed_qkv ? " packed" : "", impl_name, softmax_scale > 0.f ? " custom-scale" : "");
  return buf;
}

void run_attn_case(Context& ctx, const AttnCase& c) {
  const int b = c.batch, hq = c.heads_q, hk = c.heads_kv, d = c.head_dim, Lq = c.local_q, Lkv = c.local_kv;
  const std::string name = c.name();
  auto q = random_bf16(ctx, static_cast<size_t>(b) * Lq * hq * d);
  auto k = random_bf16(ctx, static_cast<size_t>(b) * Lkv * hk * d);
  auto v = random_bf16(ctx, static_cast<size_t>(b) * Lkv * hk * d);
  auto d_o = random_bf16(ctx, static_cast<size_t>(b) * Lq * hq * d);

  // Device inputs: separate contiguous tensors, or one packed [b, s, 3, h, d] tensor.
  std::vector<std::unique_ptr<DeviceBuffer>> keep;
  auto upload = [&](const std::vector<uint16_t>& bits) {
    keep.push_back(std::make_unique<DeviceBuffer>(bits.size() * 2));
    keep.back()->upload(bits.data());
    return keep.back()->get();
  };
  BshdView vq, vk, vv;
  if (c.packed_qkv) {
    std::vector<uint16_t> packed(static_cast<size_t>(b) * Lq * 3 * hq * d);
    const size_t hd = static_cast<size_t>(hq) * d;
    for (size_t row = 0; row < static_cast<size_t>(b) * Lq; ++row) {
      std::memcpy(&packed[(row * 3 + 0) * hd], &q.bits[row * hd], hd * 2);
      std::memcpy(&packed[(row * 3 + 1) * hd], &k.bits[row * hd], hd * 2);
      std::memcpy(&packed[(row * 3 + 2) * hd], &v.bits[row * hd], hd * 2);
    }
    auto* base = static_cast<uint16_t*>(upload(packed));
    const int64_t rs = 3 * static_cast<int64_t>(hd);
    vq = {base, rs * Lq, rs, d};
    vk = {base + hd, rs * Lq, rs, d};
    vv = {base + 2 * hd, rs * Lq, rs, d};
  } else {
    vq = contiguous(upload(q.bits), Lq, hq, d);
    vk = contiguous(upload(k.bits), Lkv, hk, d);
    vv = contiguous(upload(v.bits), Lkv, hk, d);
  }
  const BshdView vdo = contiguous(upload(d_o.bits), Lq, hq, d);
  DeviceBuffer o(static_cast<size_t>(b) * Lq * hq * d * 2), lse(static_cast<size_t>(b) * hq * Lq * 4);
  DeviceBuffer dq(o.bytes()), dk(static_cast<size_t>(b) * Lkv * hk * d * 2), dv(dk.bytes());

  kernels::FwdArgs fa;
  fa.shape = {b, Lq, Lkv, hq, hk, d, c.causal, c.softmax_scale};
  fa.q = vq;
  fa.k = vk;
  fa.v = vv;
  fa.o = contiguous(o.get(), Lq, hq, d);
  fa.lse = {static_cast<float*>(lse.get()), static_cast<int64_t>(hq) * Lq, Lq};
  fa.impl = c.impl;
  kernels::BwdArgs ba;
  ba.shape = fa.shape;
  ba.q = vq;
  ba.k = vk;
  ba.v = vv;
  ba.o = fa.o;
  ba.d_o = vdo;
  ba.lse = fa.lse;
  ba.dq = contiguous(dq.get(), Lq, hq, d);
  ba.dk = contiguous(dk.get(), Lkv, hk, d);
  ba.dv = contiguous(dv.get(), Lkv, hk, d);
  ba.impl = c.impl;
  int q_off = 0;
  if (c.use_step) {
    fa = kernels::step_args(fa, c.step);
    ba = kernels::step_args(ba, c.step);
    q_off = c.step == CpStep::kUpper ? Lq / 2 : 0;
  } else {
    fa.shape.seqlen_q = ba.shape.seqlen_q = c.seqlen_q;
    fa.shape.seqlen_kv = ba.shape.seqlen_kv = c.seqlen_kv;
    fa.shape.causal_offset = ba.shape.causal_offset = c.causal_offset;
  }
  const int sq = fa.shape.seqlen_q, skv = fa.shape.seqlen_kv;

  // References on the rows the step uses.
  const double scale = c.softmax_scale > 0.f ? c.softmax_scale : 1.0 / std::sqrt(static_cast<double>(d));
  Problem pr{b, sq, skv, hq, hk, d, fa.shape.causal, scale, fa.shape.causal ? fa.shape.causal_offset : 0};
  const auto qs = slice_rows(q.values, b, Lq, hq, d, q_off, sq);
  const auto ks = slice_rows(k.values, b, Lkv, hk, d, 0, skv);
  const auto vs = slice_rows(v.values, b, Lkv, hk, d, 0, skv);
  const auto dos = slice_rows(d_o.values, b, Lq, hq, d, q_off, sq);
  const FwdRef fx = attention_forward(pr, qs, ks, vs, Precision::kExact);
  const FwdRef fn = attention_forward(pr, qs, ks, vs, Precision::kBf16Naive);

  o.poison();
  lse.poison();
  kernels::flash_fwd(fa, nullptr);
  HCPSIM_CUDA_CHECK(cudaDeviceSynchronize());
  const auto o_bits = download_bf16(o);
  const auto o_got = slice_rows(bf16_to_float(o_bits), b, Lq, hq, d, q_off, sq);
  const auto lse_got = slice_lse(download_f32(lse), b, hq, Lq, q_off, sq);
  const double atol_o = 1e-5 * std::max(1.0, max_abs(fx.o));
  check_tolerance(ctx, name + " O", max_abs_err(o_got, fx.o), max_abs_err(fn.o, fx.o), atol_o);
  check_tolerance(ctx, name + " LSE", max_abs_err(lse_got, fx.lse), max_abs_err(fn.lse, fx.lse), 1e-4);
  ctx.check(untouched_outside(o_bits, b, Lq, hq, d, q_off, sq), name + " O written outside the step's rows");

  const BwdRef bx = attention_backward(pr, qs, ks, vs, dos, Precision::kExact);
  const BwdRef bn = attention_backward(pr, qs, ks, vs, dos, Precision::kBf16Naive);
  DeviceBuffer ws(kernels::flash_bwd_workspace_bytes(ba.shape));
  ws.poison();
  dq.poison();
  dk.poison();
  dv.poison();
  ba.workspace = ws.get();
  kernels::flash_bwd(ba, nullptr);
  HCPSIM_CUDA_CHECK(cudaDeviceSynchronize());
  const auto dq_bits = download_bf16(dq), dk_bits = download_bf16(dk), dv_bits = download_bf16(dv);
  const auto dq_got = slice_rows(bf16_to_float(dq_bits), b, Lq, hq, d, q_off, sq);
  const auto dk_got = slice_rows(bf16_to_float(dk_bits), b, Lkv, hk, d, 0, skv);
  const auto dv_got = slice_rows(bf16_to_float(dv_bits), b, Lkv, hk, d, 0, skv);
  for (const auto& [label, got, ex, nv] :
       {std::tuple{"dQ", &dq_got, &bx.dq, &bn.dq}, std::tuple{"dK", &dk_got, &bx.dk, &bn.dk},
        std::tuple{"dV", &dv_got, &bx.dv, &bn.dv}}) {
    check_tolerance(ctx, name + " " + label, max_abs_err(*got, *ex), max_abs_err(*nv, *ex),
                    1e-5 * std::max(1.0, max_abs(*ex)));
  }
  ctx.check(untouched_outside(dq_bits, b, Lq, hq, d, q_off, sq), name + " dQ written outside the step's rows");
  ctx.check(untouched_outside(dk_bits, b, Lkv, hk, d, 0, skv), name + " dK written outside the step's rows");
}

}  // namespace hcpsim::test

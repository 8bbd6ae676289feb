// Chunked == unchunked: a p2p causal ring of N ranks run on one GPU with the real step
// shapes (diagonal/lower/upper through kernels::step_args), forward merged with lse_merge
// and out_correction, backward accumulated with grad_accumulate into half-row ranges, must
// match the unchunked causal attention over the whole sequence (DualChunkSwap: rank r owns
// chunks r and 2N-1-r).
#include <cmath>
#include <memory>
#include <tuple>

#include "cp_ops.h"
#include "cp_steps.h"
#include "cpu_reference.h"
#include "gpu_test.h"

namespace hcpsim::test {
namespace {

using kernels::BshdView;
using kernels::CpStep;
using kernels::LseView;
using kernels::offset_rows;

// One bf16 unit in the last place at the magnitude of the largest reference value.
double bf16_ulp(double max_abs_value) {
  return std::ldexp(1.0, static_cast<int>(std::floor(std::log2(std::max(max_abs_value, 1e-30)))) - 7);
}

struct RingSetup {
  int ranks, c, hq, hk, d;
  int two_c() const { return 2 * c; }
  int seq() const { return 2 * ranks * c; }
  // Global row of local row t of rank r.
  int global_row(int r, int t) const { return (t < c ? r : 2 * ranks - 1 - r) * c + t % c; }
};

// Local [2c, h, d] rows of rank r gathered from a global [S, h, d] tensor (and back).
template <class T>
std::vector<T> to_local(const RingSetup& s, const std::vector<T>& g, int r, int heads) {
  const size_t row = static_cast<size_t>(heads) * s.d;
  std::vector<T> out(s.two_c() * row);
  for (int t = 0; t < s.two_c(); ++t) std::copy_n(&g[s.global_row(r, t) * row], row, &out[t * row]);
  return out;
}
template <class T, class U>
void scatter_local(const RingSetup& s, std::vector<T>& g, const std::vector<U>& local, int r, int heads) {
  const size_t row = static_cast<size_t>(heads) * s.d;
  for (int t = 0; t < s.two_c(); ++t) {
    for (size_t e = 0; e < row; ++e) g[s.global_row(r, t) * row + e] = local[t * row + e];
  }
}

BshdView view(void* p, const RingSetup& s, int heads) {
  return {p, static_cast<int64_t>(s.two_c()) * heads * s.d, static_cast<int64_t>(heads) * s.d, s.d};
}

CpStep step_of(int r, int i) { return i == 0 ? CpStep::kDiagonal : (i <= r ? CpStep::kLower : CpStep::kUpper); }

void run_ring(Context& ctx, const RingSetup& s) {
  const int S = s.seq(), L = s.two_c(), c = s.c, hq = s.hq, hk = s.hk, d = s.d;
  char tag[96];
  std::snprintf(tag, sizeof tag, "ring N%d c%d hq%d hk%d d%d", s.ranks, c, hq, hk, d);
  auto q = random_bf16(ctx, static_cast<size_t>(S) * hq * d);
  auto k = random_bf16(ctx, static_cast<size_t>(S) * hk * d);
  auto v = random_bf16(ctx, static_cast<size_t>(S) * hk * d);
  auto d_o = random_bf16(ctx, static_cast<size_t>(S) * hq * d);
  Problem pr{1, S, S, hq, hk, d, true, 1.0 / std::sqrt(static_cast<double>(d))};
  const FwdRef fx = attention_forward(pr, q.values, k.values, v.values, Precision::kExact);
  const FwdRef fn = attention_forward(pr, q.values, k.values, v.values, Precision::kBf16Naive);
  const BwdRef bx = attention_backward(pr, q.values, k.values, v.values, d_o.values, Precision::kExact);
  const BwdRef bn = attention_backward(pr, q.values, k.values, v.values, d_o.values, Precision::kBf16Naive);

  const size_t q_bytes = static_cast<size_t>(L) * hq * d * 2, kv_bytes = static_cast<size_t>(L) * hk * d * 2;
  const size_t lse_bytes = static_cast<size_t>(hq) * L * 4;
  std::vector<std::unique_ptr<DeviceBuffer>> kr, vr, dk_acc, dv_acc;
  for (int r = 0; r < s.ranks; ++r) {
    kr.push_back(std::make_unique<DeviceBuffer>(kv_bytes));
    kr.back()->upload(to_local(s, k.bits, r, hk).data());
    vr.push_back(std::make_unique<DeviceBuffer>(kv_bytes));
    vr.back()->upload(to_local(s, v.bits, r, hk).data());
    dk_acc.push_back(std::make_unique<DeviceBuffer>(kv_bytes * 2));  // fp32
    dv_acc.push_back(std::make_unique<DeviceBuffer>(kv_bytes * 2));
    HCPSIM_CUDA_CHECK(cudaMemset(dk_acc.back()->get(), 0, kv_bytes * 2));
    HCPSIM_CUDA_CHECK(cudaMemset(dv_acc.back()->get(), 0, kv_bytes * 2));
  }
  std::vector<float> o_bf16_path(fx.o.size()), o_f32_path(fx.o.size()), lse_got(fx.lse.size()), dq_got(bx.dq.size());
  for (int r = 0; r < s.ranks; ++r) {
    DeviceBuffer qd(q_bytes), dod(q_bytes), lse_final(lse_bytes), o_acc16(q_bytes), o_acc32(q_bytes * 2), o_fin(q_bytes);
    qd.upload(to_local(s, q.bits, r, hq).data());
    dod.upload(to_local(s, d_o.bits, r, hq).data());
    std::vector<std::unique_ptr<DeviceBuffer>> o_step, lse_step;
    const LseView lse_fin_view{static_cast<float*>(lse_final.get()), 0, L};
    for (int i = 0; i < s.ranks; ++i) {
      const int owner = (r - i + s.ranks) % s.ranks;
      o_step.push_back(std::make_unique<DeviceBuffer>(q_bytes));
      lse_step.push_back(std::make_unique<DeviceBuffer>(lse_bytes));
      o_step.back()->poison();
      lse_step.back()->poison();
      kernels::FwdArgs fa;
      fa.shape = {1, L, L, hq, hk, d, true, 0.f};
      fa.q = view(qd.get(), s, hq);
      fa.k = view(kr[owner]->get(), s, hk);
      fa.v = view(vr[owner]->get(), s, hk);
      fa.o = view(o_step.back()->get(), s, hq);
      fa.lse = {static_cast<float*>(lse_step.back()->get()), 0, L};
      kernels::flash_fwd(kernels::step_args(fa, step_of(r, i)), nullptr);
    }
    // lse = lse_0, then merged one step at a time (upper steps: second half of the rows only).
    HCPSIM_CUDA_CHECK(cudaMemcpy(lse_final.get(), lse_step[0]->get(), lse_bytes, cudaMemcpyDeviceToDevice));
    for (int i = 1; i < s.ranks; ++i) {
      const LseView step{static_cast<float*>(lse_step[i]->get()), 0, L};
      if (step_of(r, i) == CpStep::kUpper) {
        kernels::lse_merge(offset_rows(lse_fin_view, c), offset_rows(step, c), 1, hq, c, nullptr);
      } else {
        kernels::lse_merge(lse_fin_view, step, 1, hq, L, nullptr);
      }
    }
    for (auto accum : {kernels::OutAccum::kBf16, kernels::OutAccum::kFloat32}) {
      const bool f32 = accum == kernels::OutAccum::kFloat32;
      DeviceBuffer& acc = f32 ? o_acc32 : o_acc16;
      acc.poison();
      for (int i = 0; i < s.ranks; ++i) {
        const bool upper = step_of(r, i) == CpStep::kUpper;
        kernels::OutCorrectionArgs oc;
        oc.out_acc = offset_rows(view(acc.get(), s, hq), upper ? c : 0, f32 ? 4 : 2);
        oc.out_step = offset_rows(view(o_step[i]->get(), s, hq), upper ? c : 0);
        oc.lse_step = offset_rows(LseView{static_cast<float*>(lse_step[i]->get()), 0, L}, upper ? c : 0);
        oc.lse_final = offset_rows(lse_fin_view, upper ? c : 0);
        oc.batch = 1;
        oc.rows = upper ? c : L;
        oc.heads = hq;
        oc.head_dim = d;
        oc.accum = accum;
        oc.init = i == 0;
        kernels::out_correction(oc, nullptr);
      }
      if (f32) {
        o_fin.poison();
        kernels::cast_f32_to_bf16(view(o_fin.get(), s, hq), view(acc.get(), s, hq), 1, L, hq, d, nullptr);
      }
      HCPSIM_CUDA_CHECK(cudaDeviceSynchronize());
      scatter_local(s, f32 ? o_f32_path : o_bf16_path, bf16_to_float(download_bf16(f32 ? o_fin : acc)), r, hq);
    }
    // LSE [h, 2c] -> global [h, S]
    const auto lse_local = download_f32(lse_final);
    for (int h = 0; h < hq; ++h) {
      for (int t = 0; t < L; ++t) lse_got[static_cast<size_t>(h) * S + s.global_row(r, t)] = lse_local[h * L + t];
    }

    // Backward ring: dQ into an fp32 buffer, dK/dV into the owner's fp32 buffers.
    DeviceBuffer dq_acc(q_bytes * 2), dq_s(q_bytes), dk_s(kv_bytes), dv_s(kv_bytes);
    DeviceBuffer ws(kernels::flash_bwd_workspace_bytes({1, L, L, hq, hk, d, true, 0.f}));
    dq_acc.poison();
    for (int i = 0; i < s.ranks; ++i) {
      const int owner = (r - i + s.ranks) % s.ranks;
      const CpStep step = step_of(r, i);
      kernels::BwdArgs ba;
      ba.shape = {1, L, L, hq, hk, d, true, 0.f};
      ba.q = view(qd.get(), s, hq);
      ba.k = view(kr[owner]->get(), s, hk);
      ba.v = view(vr[owner]->get(), s, hk);
      ba.o = view(o_fin.get(), s, hq);
      ba.d_o = view(dod.get(), s, hq);
      ba.lse = lse_fin_view;
      ba.dq = view(dq_s.get(), s, hq);
      ba.dk = view(dk_s.get(), s, hk);
      ba.dv = view(dv_s.get(), s, hk);
      ba.workspace = ws.get();
      dq_s.poison();
      dk_s.poison();
      dv_s.poison();
      kernels::flash_bwd(kernels::step_args(ba, step), nullptr);
      const int q_off = step == CpStep::kUpper ? c : 0;
      const int kv_rows = step == CpStep::kLower ? c : L;
      kernels::GradAccumArgs g;
      g.batch = 1;
      g.head_dim = d;
      g.dst_f32 = true;
      g.dst = offset_rows(view(dq_acc.get(), s, hq), q_off, 4);
      g.src = offset_rows(view(dq_s.get(), s, hq), q_off);
      g.rows = L - q_off;
      g.heads = hq;
      g.copy = i == 0;  // the diagonal step covers every row
      kernels::grad_accumulate(g, nullptr);
      g.rows = kv_rows;
      g.heads = hk;
      g.copy = false;
      g.dst = view(dk_acc[owner]->get(), s, hk);
      g.src = view(dk_s.get(), s, hk);
      kernels::grad_accumulate(g, nullptr);
      g.dst = view(dv_acc[owner]->get(), s, hk);
      g.src = view(dv_s.get(), s, hk);
      kernels::grad_accumulate(g, nullptr);
    }
    HCPSIM_CUDA_CHECK(cudaDeviceSynchronize());
    scatter_local(s, dq_got, download_f32(dq_acc), r, hq);
  }
  std::vector<float> dk_got(bx.dk.size()), dv_got(bx.dv.size());
  for (int r = 0; r < s.ranks; ++r) {
    scatter_local(s, dk_got, download_f32(*dk_acc[r]), r, hk);
    scatter_local(s, dv_got, download_f32(*dv_acc[r]), r, hk);
  }
  const std::string t = tag;
  // Merged outputs pass through one more bf16 rounding than an unchunked kernel (the
  // per-step O is bf16, as in TE): allow one bf16 ulp of the largest value on top.
  const double ulp_o = bf16_ulp(max_abs(fx.o));
  const double naive_o = max_abs_err(fn.o, fx.o);
  check_tolerance(ctx, t + " O (fp32 accumulator)", max_abs_err(o_f32_path, fx.o), naive_o, ulp_o);
  // bf16 accumulator: one more rounding per step.
  check_tolerance(ctx, t + " O (bf16 accumulator)", max_abs_err(o_bf16_path, fx.o), naive_o, s.ranks * ulp_o);
  check_tolerance(ctx, t + " LSE", max_abs_err(lse_got, fx.lse), max_abs_err(fn.lse, fx.lse), 1e-4);
  // Gradients: each step's partial is rounded to bf16 before the fp32 sum.
  for (const auto& [label, got, ex, nv] :
       {std::tuple{"dQ", &dq_got, &bx.dq, &bn.dq}, std::tuple{"dK", &dk_got, &bx.dk, &bn.dk},
        std::tuple{"dV", &dv_got, &bx.dv, &bn.dv}}) {
    check_tolerance(ctx, t + " " + label, max_abs_err(*got, *ex), max_abs_err(*nv, *ex),
                    s.ranks * bf16_ulp(max_abs(*ex)));
  }
}

}  // namespace

GPU_TEST(cp_ring_chunked_equals_unchunked) {
  run_ring(ctx, {4, 48, 4, 2, 128});
  run_ring(ctx, {3, 37, 2, 1, 64});
  run_ring(ctx, {2, 130, 2, 2, 128});
}

}  // namespace hcpsim::test

// The CP helper kernels against CPU computations: LSE merge (incl. the second-half view and
// rows that saw no key), output correction in both accumulator dtypes, the fp32->bf16 cast,
// gradient accumulation, and the a2a pack/unpack round trip with the DualChunkSwap order.
#include <cmath>
#include <limits>
#include <memory>

#include "cp_ops.h"
#include "cp_steps.h"
#include "cpu_reference.h"
#include "gpu_test.h"

namespace hcpsim::test {
namespace {
using kernels::BshdView;
using kernels::LseView;

double ulp_of(double x) { return std::ldexp(1.0, static_cast<int>(std::floor(std::log2(std::max(std::fabs(x), 1e-30)))) - 7); }

std::vector<float> random_f32(Context& ctx, size_t n, float lo, float hi) {
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> out(n);
  for (auto& x : out) x = dist(ctx.rng);
  return out;
}

}  // namespace

GPU_TEST(cp_lse_merge) {
  const int b = 2, h = 3, rows = 250, half = rows / 2;
  const size_t n = static_cast<size_t>(b) * h * rows;
  auto acc = random_f32(ctx, n, -5.f, 20.f), step = random_f32(ctx, n, -5.f, 20.f);
  acc[7] = -INFINITY;  // a row that has seen no key yet
  step[8] = -INFINITY;
  acc[9] = step[9] = -INFINITY;
  for (bool second_half : {false, true}) {
    DeviceBuffer da(n * 4), ds(n * 4);
    da.upload(acc.data());
    ds.upload(step.data());
    LseView va{static_cast<float*>(da.get()), static_cast<int64_t>(h) * rows, rows};
    LseView vs{static_cast<float*>(ds.get()), static_cast<int64_t>(h) * rows, rows};
    const int r0 = second_half ? half : 0;
    kernels::lse_merge(kernels::offset_rows(va, r0), kernels::offset_rows(vs, r0), b, h, rows - r0, nullptr);
    HCPSIM_CUDA_CHECK(cudaDeviceSynchronize());
    const auto got = download_f32(da);
    double err = 0.0;
    bool inf_ok = true;
    for (size_t i = 0; i < n; ++i) {
      const bool merged = static_cast<int>(i % rows) >= r0;
      const double a = acc[i], s = step[i];
      const double want = !merged ? a : (a == -INFINITY && s == -INFINITY ? -INFINITY : std::log(std::exp(a) + std::exp(s)));
      if (std::isinf(want)) {
        inf_ok &= got[i] == want;
      } else {
        err = std::max(err, std::fabs(got[i] - want) / std::max(1.0, std::fabs(want)));
      }
    }
    ctx.check(err < 2e-6, "lse_merge relative error " + std::to_string(err));
    ctx.check(inf_ok, "lse_merge of -inf rows");
  }
}

GPU_TEST(cp_out_correction_and_cast) {
  const int b = 2, rows = 90, h = 3, d = 64;
  const size_t n = static_cast<size_t>(b) * rows * h * d, nl = static_cast<size_t>(b) * h * rows;
  const BshdView shape_view{nullptr, static_cast<int64_t>(rows) * h * d, static_cast<int64_t>(h) * d, d};
  auto step = random_bf16(ctx, n);
  auto lse_step = random_f32(ctx, nl, 0.f, 3.f), lse_fin = random_f32(ctx, nl, 3.f, 4.f);
  for (auto accum : {kernels::OutAccum::kBf16, kernels::OutAccum::kFloat32}) {
    const bool f32 = accum == kernels::OutAccum::kFloat32;
    auto init = random_bf16(ctx, n);
    std::vector<float> init_f32 = init.values;
    DeviceBuffer acc(n * (f32 ? 4 : 2)), ds(n * 2), dls(nl * 4), dlf(nl * 4);
    if (f32) acc.upload(init_f32.data()); else acc.upload(init.bits.data());
    ds.upload(step.bits.data());
    dls.upload(lse_step.data());
    dlf.upload(lse_fin.data());
    kernels::OutCorrectionArgs oc;
    oc.out_acc = shape_view;
    oc.out_acc.ptr = acc.get();
    oc.out_step = shape_view;
    oc.out_step.ptr = ds.get();
    oc.lse_step = {static_cast<float*>(dls.get()), static_cast<int64_t>(h) * rows, rows};
    oc.lse_final = {static_cast<float*>(dlf.get()), static_cast<int64_t>(h) * rows, rows};
    oc.batch = b;
    oc.rows = rows;
    oc.heads = h;
    oc.head_dim = d;
    oc.accum = accum;
    kernels::out_correction(oc, nullptr);  // out += w * step
    HCPSIM_CUDA_CHECK(cudaDeviceSynchronize());
    std::vector<float> got = f32 ? download_f32(acc) : bf16_to_float(download_bf16(acc));
    double worst = 0.0;  // in units of the tolerance
    for (size_t i = 0; i < n; ++i) {
      const size_t row = (i / (static_cast<size_t>(h) * d)) % rows, head = (i / d) % h, bi = i / (static_cast<size_t>(rows) * h * d);
      const size_t li = (bi * h + head) * rows + row;
      const double w_step = std::exp(static_cast<double>(lse_step[li]) - lse_fin[li]) * step.values[i];
      const double want = init.values[i] + w_step;
      // The kernel forms init + w * step in fp32 (expf within 2 ulp, one product, one sum: under
      // 8 fp32 ulps of the larger term); a bf16 accumulator then rounds once (half a bf16 ulp of the result).
      // Where init and w * step nearly cancel, the fp32 part is no longer small against the bf16 ulp
      // of the small result, so it is bounded separately (seed 693367298 hit 1.26 bf16 ulps without it).
      const double fp32_error = 8 * std::ldexp(std::fabs(init.values[i]) + std::fabs(w_step), -24);
      const double tol = std::max(1e-30, f32 ? fp32_error : ulp_of(want) + fp32_error);
      worst = std::max(worst, std::isfinite(got[i]) ? std::fabs(got[i] - want) / tol : INFINITY);
    }
    ctx.check(worst <= 1.0, std::string(f32 ? "fp32" : "bf16") + " out_correction error " + std::to_string(worst) + " tolerances");

    if (f32) {  // cast the fp32 accumulator to bf16: exactly bf16_round
      DeviceBuffer out(n * 2);
      out.poison();
      BshdView dst = shape_view, src = shape_view;
      dst.ptr = out.get();
      src.ptr = acc.get();
      kernels::cast_f32_to_bf16(dst, src, b, rows, h, d, nullptr);
      HCPSIM_CUDA_CHECK(cudaDeviceSynchronize());
      const auto bits = download_bf16(out);
      size_t wrong = 0;
      for (size_t i = 0; i < n; ++i) wrong += bits[i] != bf16_bits(got[i]);
      ctx.check(wrong == 0, "cast_f32_to_bf16 differs from round-to-nearest-even in " + std::to_string(wrong) + " elements");
    }
  }
}

GPU_TEST(cp_grad_accumulate_half_rows) {
  const int b = 2, rows = 64, h = 2, d = 128, half = rows / 2;
  const size_t n = static_cast<size_t>(b) * rows * h * d;
  const BshdView shape_view{nullptr, static_cast<int64_t>(rows) * h * d, static_cast<int64_t>(h) * d, d};
  for (bool f32 : {false, true}) {
    for (bool copy : {false, true}) {
      auto dst = random_bf16(ctx, n), src = random_bf16(ctx, n);
      DeviceBuffer dd(n * (f32 ? 4 : 2)), ds(n * 2);
      if (f32) dd.upload(dst.values.data()); else dd.upload(dst.bits.data());
      ds.upload(src.bits.data());
      kernels::GradAccumArgs g;
      g.dst = shape_view;
      g.dst.ptr = dd.get();
      g.src = shape_view;
      g.src.ptr = ds.get();
      g.dst = kernels::offset_rows(g.dst, half, f32 ? 4 : 2);  // second half only, as an upper step's dQ
      g.src = kernels::offset_rows(g.src, half);
      g.batch = b;
      g.rows = rows - half;
      g.heads = h;
      g.head_dim = d;
      g.dst_f32 = f32;
      g.copy = copy;
      kernels::grad_accumulate(g, nullptr);
      HCPSIM_CUDA_CHECK(cudaDeviceSynchronize());
      const auto got = f32 ? download_f32(dd) : bf16_to_float(download_bf16(dd));
      size_t wrong = 0;
      for (size_t i = 0; i < n; ++i) {
        const bool touched = static_cast<int>((i / (static_cast<size_t>(h) * d)) % rows) >= half;
        const float sum = copy ? src.values[i] : dst.values[i] + src.values[i];
        const float want = !touched ? dst.values[i] : (f32 ? sum : bf16_round(sum));
        wrong += got[i] != want;
      }
      ctx.check(wrong == 0, std::string("grad_accumulate ") + (f32 ? "fp32" : "bf16") + (copy ? " copy" : " add") +
                                ": " + std::to_string(wrong) + " wrong elements");
    }
  }
}

GPU_TEST(cp_a2a_pack_round_trip) {
  for (const auto& [ranks, c, heads, d, b] : {std::tuple{4, 24, 8, 128, 2}, std::tuple{2, 37, 2, 64, 1}}) {
    const int L = 2 * c, S = ranks * L, hpr = heads / ranks;
    // Global [b, S, heads, d] in natural order; rank r's local tensor holds chunks r, 2N-1-r.
    auto global = random_bf16(ctx, static_cast<size_t>(b) * S * heads * d);
    const size_t local_n = static_cast<size_t>(b) * L * heads * d, row = static_cast<size_t>(heads) * d;
    std::vector<std::unique_ptr<DeviceBuffer>> local, send, recv, full;
    std::vector<std::vector<uint16_t>> local_host(ranks);
    for (int r = 0; r < ranks; ++r) {
      auto& lh = local_host[r];
      lh.resize(local_n);
      for (int bi = 0; bi < b; ++bi) {
        for (int t = 0; t < L; ++t) {
          const int g = (t < c ? r : 2 * ranks - 1 - r) * c + t % c;
          std::copy_n(&global.bits[(static_cast<size_t>(bi) * S + g) * row], row, &lh[(static_cast<size_t>(bi) * L + t) * row]);
        }
      }
      local.push_back(std::make_unique<DeviceBuffer>(local_n * 2));
      local.back()->upload(lh.data());
      send.push_back(std::make_unique<DeviceBuffer>(local_n * 2));
      recv.push_back(std::make_unique<DeviceBuffer>(local_n * 2));
      full.push_back(std::make_unique<DeviceBuffer>(local_n * 2));
    }
    auto args = [&](int r) {
      kernels::A2aArgs a;
      a.local = {local[r]->get(), static_cast<int64_t>(L) * heads * d, static_cast<int64_t>(heads) * d, d};
      a.full = {full[r]->get(), static_cast<int64_t>(S) * hpr * d, static_cast<int64_t>(hpr) * d, d};
      a.batch = b;
      a.local_rows = L;
      a.heads = heads;
      a.head_dim = d;
      a.ranks = ranks;
      return a;
    };
    const size_t slot_bytes = local_n * 2 / ranks;
    auto exchange = [&] {  // all_to_all_single: recv[r] slot j = send[j] slot r
      for (int r = 0; r < ranks; ++r) {
        for (int j = 0; j < ranks; ++j) {
          HCPSIM_CUDA_CHECK(cudaMemcpy(static_cast<char*>(recv[r]->get()) + j * slot_bytes,
                                       static_cast<char*>(send[j]->get()) + r * slot_bytes, slot_bytes,
                                       cudaMemcpyDeviceToDevice));
        }
      }
    };
    for (int r = 0; r < ranks; ++r) {
      auto a = args(r);
      send[r]->poison();
      a.buffer = send[r]->get();
      kernels::a2a_pack_seq_to_heads(a, nullptr);
    }
    exchange();
    size_t wrong = 0;
    for (int r = 0; r < ranks; ++r) {
      auto a = args(r);
      full[r]->poison();
      a.buffer = recv[r]->get();
      kernels::a2a_unpack_seq_to_heads(a, nullptr);
      HCPSIM_CUDA_CHECK(cudaDeviceSynchronize());
      // Rank r now holds heads [r*hpr, (r+1)*hpr) of the whole sequence in natural order.
      const auto got = download_bf16(*full[r]);
      for (int bi = 0; bi < b; ++bi)
        for (int sidx = 0; sidx < S; ++sidx)
          for (int hh = 0; hh < hpr; ++hh)
            for (int e = 0; e < d; ++e)
              wrong += got[((static_cast<size_t>(bi) * S + sidx) * hpr + hh) * d + e] !=
                       global.bits[((static_cast<size_t>(bi) * S + sidx) * heads + r * hpr + hh) * d + e];
    }
    ctx.check(wrong == 0, "a2a seq->heads: " + std::to_string(wrong) + " misplaced elements");
    // And back: heads -> seq restores every rank's local tensor exactly.
    for (int r = 0; r < ranks; ++r) {
      auto a = args(r);
      send[r]->poison();
      a.buffer = send[r]->get();
      kernels::a2a_pack_heads_to_seq(a, nullptr);
    }
    exchange();
    wrong = 0;
    for (int r = 0; r < ranks; ++r) {
      auto a = args(r);
      local[r]->poison();
      a.buffer = recv[r]->get();
      kernels::a2a_unpack_heads_to_seq(a, nullptr);
      HCPSIM_CUDA_CHECK(cudaDeviceSynchronize());
      const auto got = download_bf16(*local[r]);
      for (size_t i = 0; i < local_n; ++i) wrong += got[i] != local_host[r][i];
    }
    ctx.check(wrong == 0, "a2a heads->seq: " + std::to_string(wrong) + " misplaced elements");
  }
}

}  // namespace hcpsim::test

// How a memory-bound kernel measured on one GPU runs on another: the one definition for the
// built-in defaults (cost/cost_model.cpp), their tests and docs/cost-model.md ("Memory-bound
// kernels on other GPUs"). Plain C++17.
//
// PyTorch's norm, RoPE, SwiGLU, add, loss and optimizer kernels move their bytes at 0.06-0.9 of
// the H200's HBM bandwidth (calibrate/torch, kernels suite): most of them are not limited by HBM
// alone. A kernel's time on the GPU R it was measured on is split into a share s that HBM
// bandwidth limits and 1 - s that the SMs limit (their issue rate and the memory requests each
// keeps in flight). On a GPU G with HBM bandwidth B and SM rate S (SMs x SM clock):
//
//   t_G = t_R x (s x B_R / B_G + (1 - s) x S_R / S_G)
//
// or, as fractions e = bytes / (t x B) of each GPU's own bandwidth, with k = (S_R / S_G)(B_G / B_R):
//
//   e_G = e_R / (s + (1 - s) k)          (k = 1: the same GPU, e_G = e_R; s = 1: e_G = e_R)
//
// The share belongs to the kernel, not to the GPU. It is measured where two GPUs differ in HBM
// bandwidth alone: H100 and H200 SXM have the same 132 SMs at the same clocks and 3.35 against
// 4.8 TB/s of HBM, so k = 3.35 / 4.8 and, inverting the line above,
//
//   s = (e_R / e_G - k) / (1 - k)
//
// clamped to [0, 1] (a kernel that loses more than the bandwidth ratio, or gains, is taken as
// HBM-bound, or SM-bound). Worked example ([v25] on the H200, [v36] on the H100; calibrate/RESULTS.md): RoPE's
// forward at 16384 tokens took 1132.8 us on the H200 and 1227.6 us on the H100, t_G / t_R = 1.084;
// e_R / e_G = 1.084 x 3.35 / 4.8 = 0.7562, s = (0.7562 - 0.6979) / (1 - 0.6979) = 0.19.
#pragma once

#include <algorithm>
#include <cmath>

namespace hcpsim::rules {

// The band of a memory-bound kernel carried to a GPU hcpsim has not measured: this transfer's
// largest error against the one published set that times the same eager PyTorch kernel on the H200
// and on Blackwell: NVIDIA's PyTorch RMSNorm on H200, GB200 and GB300 (NVIDIA/cudnn-frontend
// benchmark/norms/results, commit 3929da2; the seven Llama/Mixtral/Qwen/Nemotron shapes of at least
// 64 MiB), never fitted on. The transfer's backward times are 6-26 % short of NVIDIA's (worst
// -25.5 %, Mixtral-8x7B's 8192 x 4096 on GB200), its forward times -13 to +17 %: 0.26, the worst rounded up
// (tests/cost/test_memory_bound.cpp recomputes every row; docs/cost-model.md has the table).
inline constexpr double kCarriedMemoryBoundBand = 0.26;

// k of the header: the ratio of GPU G's time on SM-limited work, in units of its own HBM time,
// to R's. 0 where an SM rate is not known (then a kernel is taken as HBM-bound: s = 1).
inline double memory_bound_k(double hbm_ref_bytes_per_s, double sm_rate_ref, double hbm_target_bytes_per_s,
                             double sm_rate_target) {
  if (!(hbm_ref_bytes_per_s > 0) || !(sm_rate_ref > 0) || !(sm_rate_target > 0)) return 0;
  return (sm_rate_ref / sm_rate_target) * (hbm_target_bytes_per_s / hbm_ref_bytes_per_s);
}

// e_G from e_R and the kernel's share s; never above `ceiling` (the GPU's copy fraction: no kernel
// outruns a plain copy). k = 0 (SM rate unknown): e_R, the HBM-bound reading.
inline double memory_bound_fraction_on(double fraction_ref, double share, double k, double ceiling) {
  const double s = k > 0 ? std::clamp(share, 0.0, 1.0) : 1.0;
  return std::min(fraction_ref / (s + (1 - s) * k), ceiling);
}

// The share s from the same kernel's fractions on R and on a GPU G whose k differs from 1 by at
// least 5 % (else the two GPUs cannot tell HBM from SMs): the line above inverted, clamped to
// [0, 1]. -1 where it cannot be measured.
inline double memory_bound_share(double fraction_ref, double fraction_other, double k) {
  if (!(fraction_ref > 0) || !(fraction_other > 0) || !(k > 0) || std::abs(1 - k) < 0.05) return -1;
  return std::clamp((fraction_ref / fraction_other - k) / (1 - k), 0.0, 1.0);
}

}  // namespace hcpsim::rules

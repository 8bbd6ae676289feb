// Flash attention forward on Hopper's warpgroup MMA (wgmma, sm_90a), head dim 128,
// warp-specialized: one CTA has two consumer warpgroups (64 query rows each, 128 in all) and one
// producer warp. The producer's first thread loads Q once and then K/V tiles into a two-stage
// ring with TMA (128-byte-swizzled boxes, zero-filled past the sequence end); consumers wait on
// the stage's "full" mbarrier and release it on its "empty" one, so the two warpgroups never
// meet at a CTA barrier. S = Q K^T reads both operands from shared memory; O += P V takes P
// from registers and V through a transposed (MN-major) descriptor. The online softmax matches
// flash_fwd.cu.
#include <cmath>

#include "attn_params.h"
#include "flash_fwd_sm90.h"
#include "mma.cuh"
#include "tma.cuh"
#include "tma_map.h"
#include "wgmma.cuh"

namespace hcpsim::kernels {
namespace {
using namespace detail;

struct Sm90FwdConfig {
  static constexpr int kHeadDim = 128;
  static constexpr int kConsumerThreads = 256;            // two warpgroups
  static constexpr int kThreads = kConsumerThreads + 32;  // + one producer warp
  static constexpr int kBlockM = 128;                     // wgmma M is 64 per warpgroup
  static constexpr int kBlockN = 128;                     // S tile 64 x 128: 64 fp32 registers per thread
  static constexpr int kStages = 2;
  static constexpr int kTileBytes = 128 * kHeadDim * 2;  // Q, K or V tile (128 rows)
  static constexpr int kHalfBytes = 128 * 128;           // one 64-column half (one TMA box)
  static constexpr int kBarrierBytes = 64;
  // Q + stages x (K + V) + barriers, plus slack to align the base to the 1024-byte swizzle period.
  static constexpr int kSmemBytes = (1 + 2 * kStages) * kTileBytes + kBarrierBytes + 1024;
  static_assert(kSmemBytes <= 227 * 1024, "forward tiles exceed the sm_90 shared-memory budget");
};

template <bool kCausal>
__global__ void __launch_bounds__(Sm90FwdConfig::kThreads, 1)
    flash_fwd_sm90_kernel(const FwdParams p, const __grid_constant__ CUtensorMap tm_q,
                          const __grid_constant__ CUtensorMap tm_k, const __grid_constant__ CUtensorMap tm_v) {
  using Cfg = Sm90FwdConfig;
  constexpr int BM = Cfg::kBlockM, BN = Cfg::kBlockN, D = Cfg::kHeadDim;
  extern __shared__ __align__(1024) unsigned char smem[];
  const int h = p.heads_fastest ? blockIdx.x : blockIdx.y;
  const int m_blocks = p.heads_fastest ? gridDim.y : gridDim.x;
  const int m_index = p.heads_fastest ? blockIdx.y : blockIdx.x;
  const int m_block = kCausal ? m_blocks - 1 - m_index : m_index;  // longest causal blocks first
  const int b = blockIdx.z, hk = h / p.group;
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int m0 = m_block * BM;

  const uint32_t sQ = (smem_u32(smem) + 1023u) & ~1023u;
  const uint32_t sKV = sQ + Cfg::kTileBytes;  // stage s: K at sKV + 2s*tile, V right after
  const uint32_t bars = sKV + 2 * Cfg::kStages * Cfg::kTileBytes;
  const uint32_t q_full = bars;
  auto full = [&](int s) { return bars + 8 + 8 * s; };
  auto empty = [&](int s) { return bars + 8 + 8 * Cfg::kStages + 8 * s; };

  const int kv_end = kCausal ? min(p.seqlen_kv, m0 + BM + p.causal_offset) : p.seqlen_kv;
  const int n_blocks = (kv_end + BN - 1) / BN;

  if (tid == 0) {
    mbar_init(q_full, 1);
    for (int s = 0; s < Cfg::kStages; ++s) {
      mbar_init(full(s), 1);
      mbar_init(empty(s), Cfg::kConsumerThreads);
    }
    fence_proxy_async();  // the barriers are visible to the TMA unit
  }
  __syncthreads();

  if (warp == Cfg::kConsumerThreads / 32) {  // producer warp
    if (lane == 0) {
      mbar_arrive_expect_tx(q_full, Cfg::kTileBytes);
      tma_load_4d(sQ, &tm_q, 0, m0, h, b, q_full);
      tma_load_4d(sQ + Cfg::kHalfBytes, &tm_q, 64, m0, h, b, q_full);
      for (int j = 0; j < n_blocks; ++j) {
        const int s = j % Cfg::kStages;
        if (j >= Cfg::kStages) mbar_wait(empty(s), ((j / Cfg::kStages) - 1) & 1);  // consumers released it
        const uint32_t kb = sKV + 2 * s * Cfg::kTileBytes, vb = kb + Cfg::kTileBytes;
        mbar_arrive_expect_tx(full(s), 2 * Cfg::kTileBytes);
        tma_load_4d(kb, &tm_k, 0, j * BN, hk, b, full(s));
        tma_load_4d(kb + Cfg::kHalfBytes, &tm_k, 64, j * BN, hk, b, full(s));
        tma_load_4d(vb, &tm_v, 0, j * BN, hk, b, full(s));
        tma_load_4d(vb + Cfg::kHalfBytes, &tm_v, 64, j * BN, hk, b, full(s));
      }
    }
    return;
  }

  const int wg = warp / 4, warp_in_wg = warp % 4;
  float o_acc[D / 2] = {};  // m64n128 fragment: [t][e] = o_acc[4 * t + e]
  float row_max[2] = {-INFINITY, -INFINITY};
  float row_sum[2] = {0.f, 0.f};  // per-thread partial sums; reduced across the quad at the end
  const int row_lo = m0 + wg * 64 + warp_in_wg * 16 + (lane >> 2);
  const uint32_t q_rows = sQ + wg * 64 * 128;  // this warpgroup's 64 rows in each half
  mbar_wait(q_full, 0);

  for (int n = 0; n < n_blocks; ++n) {
    const int n0 = n * BN;
    const int stage = n % Cfg::kStages;
    const uint32_t kb = sKV + 2 * stage * Cfg::kTileBytes, vb = kb + Cfg::kTileBytes;
    mbar_wait(full(stage), (n / Cfg::kStages) & 1);

    // s = q @ k[n0:n0+BN].T   (K-major A and B; k-step kk is 32 bytes into a swizzle row)
    float s[BN / 2];
    wgmma_fence();
#pragma unroll
    for (int kk = 0; kk < D / 16; ++kk) {
      const uint32_t koff = (kk / 4) * Cfg::kHalfBytes + (kk % 4) * 32;
      wgmma_m64n128k16_ss(s, smem_desc_sw128(q_rows + koff, 16, 1024), smem_desc_sw128(kb + koff, 16, 1024), kk > 0);
    }
    wgmma_commit();
    wgmma_wait<0>();

    // s.masked_fill_(col >= skv | (causal & col > row), -inf)
    if (n0 + BN > p.seqlen_kv || (kCausal && n0 + BN - 1 > m0 + p.causal_offset + wg * 64 + warp_in_wg * 16)) {
#pragma unroll
      for (int t = 0; t < BN / 8; ++t) {
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          const int col = n0 + t * 8 + 2 * (lane & 3) + (e & 1);
          const int row = row_lo + (e >> 1) * 8;
          if (col >= p.seqlen_kv || (kCausal && col > row + p.causal_offset)) s[4 * t + e] = -INFINITY;
        }
      }
    }

    // m_new = max(m, s.amax(-1)); p = exp2((s - m_new) * scale*log2e); l = l*exp2((m - m_new)*..) + p.sum(-1)
#pragma unroll
    for (int i = 0; i < 2; ++i) {
      float mx = row_max[i];
#pragma unroll
      for (int t = 0; t < BN / 8; ++t) mx = fmaxf(mx, fmaxf(s[4 * t + 2 * i], s[4 * t + 2 * i + 1]));
      mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
      mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
      const float mx_scaled = mx == -INFINITY ? 0.f : mx * p.scale_log2;
      const float corr = exp2f(row_max[i] * p.scale_log2 - mx_scaled);
      row_max[i] = mx;
      float sum = 0.f;
#pragma unroll
      for (int t = 0; t < BN / 8; ++t) {
#pragma unroll
        for (int e = 2 * i; e < 2 * i + 2; ++e) {
          s[4 * t + e] = exp2f(fmaf(s[4 * t + e], p.scale_log2, -mx_scaled));
          sum += s[4 * t + e];
        }
      }
      row_sum[i] = row_sum[i] * corr + sum;
#pragma unroll
      for (int t = 0; t < D / 8; ++t) {
        o_acc[4 * t + 2 * i] *= corr;
        o_acc[4 * t + 2 * i + 1] *= corr;
      }
    }

    // o += p.to(bf16) @ v[n0:n0+BN]   (V rows are K, its 64-column halves are N atoms: LBO)
    uint32_t pa[BN / 16][4];
#pragma unroll
    for (int kk = 0; kk < BN / 16; ++kk) {
      pa[kk][0] = pack_bf16(s[8 * kk + 0], s[8 * kk + 1]);
      pa[kk][1] = pack_bf16(s[8 * kk + 2], s[8 * kk + 3]);
      pa[kk][2] = pack_bf16(s[8 * kk + 4], s[8 * kk + 5]);
      pa[kk][3] = pack_bf16(s[8 * kk + 6], s[8 * kk + 7]);
    }
    wgmma_fence();
#pragma unroll
    for (int kk = 0; kk < BN / 16; ++kk) {
      wgmma_m64n128k16_rs_tb(o_acc, pa[kk], smem_desc_sw128(vb + kk * 16 * 128, Cfg::kHalfBytes, 1024));
    }
    wgmma_commit();
    wgmma_wait<0>();
    mbar_arrive(empty(stage));  // this thread is done reading the stage
  }

  // o = o / l;  lse = (m * scale) + log(l)
  __nv_bfloat16* o = p.o + b * p.os.batch + h * p.os.head;
  float* lse = p.lse + b * p.lse_batch + h * p.lse_head;
#pragma unroll
  for (int i = 0; i < 2; ++i) {
    float l = row_sum[i];
    l += __shfl_xor_sync(0xffffffffu, l, 1);
    l += __shfl_xor_sync(0xffffffffu, l, 2);
    const float inv = l > 0.f ? 1.f / l : 0.f;
    const int row = row_lo + i * 8;
    if (row < p.seqlen_q) {
      if ((lane & 3) == 0) lse[row] = l > 0.f ? (row_max[i] * p.scale_log2 + __log2f(l)) * kLn2 : -INFINITY;
      __nv_bfloat16* orow = o + row * p.os.row + 2 * (lane & 3);
#pragma unroll
      for (int t = 0; t < D / 8; ++t) {
        *reinterpret_cast<uint32_t*>(orow + t * 8) = pack_bf16(o_acc[4 * t + 2 * i] * inv, o_acc[4 * t + 2 * i + 1] * inv);
      }
    }
  }
}

template <bool kCausal>
void launch(const FwdParams& p, int batch, cudaStream_t stream) {
  using Cfg = Sm90FwdConfig;
  auto kernel = flash_fwd_sm90_kernel<kCausal>;
  HCPSIM_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, Cfg::kSmemBytes));
  const int m_blocks = (p.seqlen_q + Cfg::kBlockM - 1) / Cfg::kBlockM;
  FwdParams q = p;
  q.heads_fastest = launch_order_heads_fastest(static_cast<int64_t>(m_blocks) * p.heads_q * batch, num_sms());
  const int heads_kv = p.heads_q / p.group;
  const CUtensorMap tm_q = make_bshd_map(p.q, p.qs, p.seqlen_q, p.heads_q, batch, Cfg::kBlockM);
  const CUtensorMap tm_k = make_bshd_map(p.k, p.ks, p.seqlen_kv, heads_kv, batch, Cfg::kBlockN);
  const CUtensorMap tm_v = make_bshd_map(p.v, p.vs, p.seqlen_kv, heads_kv, batch, Cfg::kBlockN);
  const dim3 grid(q.heads_fastest ? p.heads_q : m_blocks, q.heads_fastest ? m_blocks : p.heads_q, batch);
  kernel<<<grid, Cfg::kThreads, Cfg::kSmemBytes, stream>>>(q, tm_q, tm_k, tm_v);
  HCPSIM_CUDA_CHECK_LAUNCH();
}

}  // namespace

namespace detail {
void flash_fwd_sm90(const FwdParams& p, int batch, bool causal, cudaStream_t stream) {
  causal ? launch<true>(p, batch, stream) : launch<false>(p, batch, stream);
}
}  // namespace detail

}  // namespace hcpsim::kernels

// Flash attention backward main kernel on Hopper's warpgroup MMA (wgmma, sm_90a), head dim
// 128. One CTA of two warpgroups owns 128 key rows (64 per warpgroup) of one (batch, KV head)
// and loops over the group's query heads and 64-row query tiles. All tiles sit in shared
// memory in the 128-byte-swizzled layout (sw128.cuh):
//   S^T  = K Q^T, dP^T = V dO^T     A, B K-major from shared memory        (m64n64)
//   dV  += P^T dO,  dK += dS^T Q    A = P^T / dS^T from registers, B transposed (m64n128)
//   dQ   = dS K                     A = dS^T, B = K, both transposed; each warpgroup takes
//                                   64 of the 128 columns; added to the fp32 accumulator.
// The delta/LSE preprocessing and the dQ conversion are flash_bwd.cu's kernels.
#include <cmath>

#include "bwd_common.cuh"
#include "flash_bwd_sm90.h"
#include "mma.cuh"
#include "sw128.cuh"
#include "wgmma.cuh"

namespace hcpsim::kernels {
namespace {
using namespace detail;

struct Sm90BwdConfig {
  static constexpr int kHeadDim = 128;
  static constexpr int kThreads = 256;  // two warpgroups
  static constexpr int kBlockN = 128;   // key rows per CTA (64 per warpgroup)
  static constexpr int kBlockM = 64;    // query rows per step: S^T/dP^T at 32 registers each
  static constexpr int kKvBytes = kBlockN * kHeadDim * 2;
  static constexpr int kQBytes = kBlockM * kHeadDim * 2;
  static constexpr int kDsBytes = kBlockN * kBlockM * 2;  // dS^T [128 keys][64 queries] = one 128-byte half
  static constexpr int kRowStatBytes = kBlockM * 4;
  // K, V; Q and dO double-buffered; dS^T; LSE and delta double-buffered; 1024-byte alignment slack.
  static constexpr int kSmemBytes = 2 * kKvBytes + 4 * kQBytes + kDsBytes + 4 * kRowStatBytes + 1024;
  static_assert(kSmemBytes <= 227 * 1024, "backward tiles exceed the sm_90 shared-memory budget");
};

template <bool kCausal>
__global__ void __launch_bounds__(Sm90BwdConfig::kThreads, 1) flash_bwd_sm90_kernel(const BwdParams p) {
  using Cfg = Sm90BwdConfig;
  constexpr int BN = Cfg::kBlockN, BM = Cfg::kBlockM, T = Cfg::kThreads, D = Cfg::kHeadDim;
  constexpr uint32_t kKvHalf = sw128_half_bytes<BN>(), kQHalf = sw128_half_bytes<BM>();
  extern __shared__ __align__(1024) unsigned char smem[];
  const int hk_slot = p.heads_fastest ? blockIdx.x : blockIdx.y;  // causal: first key blocks are heaviest
  const int hk = hk_slot / p.head_split;
  const int heads_per_cta = p.group / p.head_split;
  const int head_base = hk * p.group + (hk_slot % p.head_split) * heads_per_cta;
  const int n_block = p.heads_fastest ? blockIdx.y : blockIdx.x;
  const int b = blockIdx.z;
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int wg = warp / 4, warp_in_wg = warp % 4;
  const int n0 = n_block * BN;

  const uint32_t sK = (smem_u32(smem) + 1023u) & ~1023u;
  const uint32_t sV = sK + Cfg::kKvBytes;
  const uint32_t sQ = sV + Cfg::kKvBytes;      // 2 buffers
  const uint32_t sdO = sQ + 2 * Cfg::kQBytes;  // 2 buffers
  const uint32_t sdS = sdO + 2 * Cfg::kQBytes;
  unsigned char* const sdS_ptr = smem + (sdS - smem_u32(smem));
  float* sLse = reinterpret_cast<float*>(smem + (sdS + Cfg::kDsBytes - smem_u32(smem)));  // [2][BM]
  float* sDelta = sLse + 2 * BM;                                                          // [2][BM]

  load_tile_sw128<BN, T>(sK, p.k + b * p.ks.batch + hk * p.ks.head + n0 * p.ks.row, p.ks.row, p.seqlen_kv - n0, tid);
  load_tile_sw128<BN, T>(sV, p.v + b * p.vs.batch + hk * p.vs.head + n0 * p.vs.row, p.vs.row, p.seqlen_kv - n0, tid);

  // Steps: (query head of the group) x (query tile); causal skips tiles ending before n0.
  const int m_first = kCausal ? n0 / BM : 0;
  const int m_count = max((p.seqlen_q + BM - 1) / BM - m_first, 0);
  const int steps = m_count * heads_per_cta;

  auto load_step = [&](int it, int buf) {
    const int h = head_base + it / m_count;
    const int m0 = (m_first + it % m_count) * BM;
    load_tile_sw128<BM, T>(sQ + buf * Cfg::kQBytes, p.q + b * p.qs.batch + h * p.qs.head + m0 * p.qs.row, p.qs.row,
                           p.seqlen_q - m0, tid);
    load_tile_sw128<BM, T>(sdO + buf * Cfg::kQBytes, p.d_o + b * p.dos.batch + h * p.dos.head + m0 * p.dos.row,
                           p.dos.row, p.seqlen_q - m0, tid);
    load_row_stats<BM>(p, b, h, m0, sLse + buf * BM, sDelta + buf * BM, tid);
  };
  if (steps > 0) load_step(0, 0);
  cp_async_commit();

  float dv_acc[D / 2] = {};  // m64n128 fragments: keys 64*wg + ..., all D columns
  float dk_acc[D / 2] = {};
  const int kv_lo = n0 + wg * 64 + warp_in_wg * 16 + (lane >> 2);  // thread's key rows kv_lo, kv_lo + 8
  const uint32_t k_rows = sK + wg * 64 * 128, v_rows = sV + wg * 64 * 128;

  for (int it = 0; it < steps; ++it) {
    const int buf = it & 1;
    const int h = head_base + it / m_count;
    const int m0 = (m_first + it % m_count) * BM;
    cp_async_wait<0>();
    fence_proxy_async();
    __syncthreads();  // this step's tiles are in; every warpgroup is done with the previous step
    if (it + 1 < steps) load_step(it + 1, buf ^ 1);
    cp_async_commit();
    const uint32_t qb = sQ + buf * Cfg::kQBytes, dob = sdO + buf * Cfg::kQBytes;
    const float* lse = sLse + buf * BM;
    const float* delta = sDelta + buf * BM;

    // st = k_wg @ q.T;  dpt = v_wg @ dO.T     (64 keys x 64 queries per warpgroup)
    float st[BM / 2], dpt[BM / 2];
    wgmma_fence();
#pragma unroll
    for (int kk = 0; kk < D / 16; ++kk) {
      const uint32_t koff = (kk / 4) * kKvHalf + (kk % 4) * 32, qoff = (kk / 4) * kQHalf + (kk % 4) * 32;
      wgmma_m64n64k16_ss(st, smem_desc_sw128(k_rows + koff, 16, 1024), smem_desc_sw128(qb + qoff, 16, 1024), kk > 0);
    }
#pragma unroll
    for (int kk = 0; kk < D / 16; ++kk) {
      const uint32_t koff = (kk / 4) * kKvHalf + (kk % 4) * 32, qoff = (kk / 4) * kQHalf + (kk % 4) * 32;
      wgmma_m64n64k16_ss(dpt, smem_desc_sw128(v_rows + koff, 16, 1024), smem_desc_sw128(dob + qoff, 16, 1024), kk > 0);
    }
    wgmma_commit();
    wgmma_wait<0>();

    // pt = exp2(st * scale*log2e - lse*log2e), zero where masked;  dst = pt * (dpt - delta)
    const bool need_mask = n0 + BN > p.seqlen_kv || (kCausal && m0 < n0 + BN - 1);
    uint32_t pa[BM / 16][4], da[BM / 16][4];
#pragma unroll
    for (int t = 0; t < BM / 8; ++t) {
      float pv[4], ds[4];
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int qc = t * 8 + 2 * (lane & 3) + (e & 1);
        pv[e] = exp2f(fmaf(st[4 * t + e], p.scale_log2, -lse[qc]));
        if (need_mask) {
          const int kv = kv_lo + (e >> 1) * 8;
          if (kv >= p.seqlen_kv || (kCausal && kv > m0 + qc)) pv[e] = 0.f;
        }
        ds[e] = pv[e] * (dpt[4 * t + e] - delta[qc]);
      }
      // accumulator n8 block t -> A fragment of k-step t/2 (registers 0,1 or 2,3)
      pa[t / 2][2 * (t % 2)] = pack_bf16(pv[0], pv[1]);
      pa[t / 2][2 * (t % 2) + 1] = pack_bf16(pv[2], pv[3]);
      da[t / 2][2 * (t % 2)] = pack_bf16(ds[0], ds[1]);
      da[t / 2][2 * (t % 2) + 1] = pack_bf16(ds[2], ds[3]);
      // dS^T to shared memory (row = key, column = query) for dQ
      const int r = kv_lo - n0, c = t * 8 + 2 * (lane & 3);
      *reinterpret_cast<uint32_t*>(sdS_ptr + r * 128 + (((c / 8) ^ (r % 8)) * 16) + (c % 8) * 2) = da[t / 2][2 * (t % 2)];
      *reinterpret_cast<uint32_t*>(sdS_ptr + (r + 8) * 128 + (((c / 8) ^ ((r + 8) % 8)) * 16) + (c % 8) * 2) =
          da[t / 2][2 * (t % 2) + 1];
    }
    fence_proxy_async();

    // dv += pt @ dO;  dk += dst @ q   (k = queries: 16 rows per step, B = tile rows, transposed)
    wgmma_fence();
#pragma unroll
    for (int kk = 0; kk < BM / 16; ++kk) {
      wgmma_m64n128k16_rs_tb(dv_acc, pa[kk], smem_desc_sw128(dob + kk * 16 * 128, kQHalf, 1024));
      wgmma_m64n128k16_rs_tb(dk_acc, da[kk], smem_desc_sw128(qb + kk * 16 * 128, kQHalf, 1024));
    }
    wgmma_commit();
    __syncthreads();  // dS^T from both warpgroups is in shared memory

    // dq[m0:m0+BM, 64*wg : 64*wg+64] = ds @ k[:, 64*wg : 64*wg+64]   (k = keys, 16 per step)
    float dq[BM / 2];
    wgmma_fence();
#pragma unroll
    for (int kk = 0; kk < BN / 16; ++kk) {
      wgmma_m64n64k16_ss_tt(dq, smem_desc_sw128(sdS + kk * 16 * 128, 1024, 1024),
                            smem_desc_sw128(sK + wg * kKvHalf + kk * 16 * 128, kKvHalf, 1024), kk > 0);
    }
    wgmma_commit();
    wgmma_wait<0>();
    float* dq_rows = p.dq_accum + ((static_cast<int64_t>(b) * p.seqlen_q + m0) * p.heads_q + h) * D;
#pragma unroll
    for (int i = 0; i < 2; ++i) {
      const int row = warp_in_wg * 16 + (lane >> 2) + i * 8;
      if (m0 + row < p.seqlen_q) {
        float* dst = dq_rows + static_cast<int64_t>(row) * p.heads_q * D + wg * 64 + 2 * (lane & 3);
#pragma unroll
        for (int t = 0; t < BM / 8; ++t) red_add_v2(dst + t * 8, dq[4 * t + 2 * i], dq[4 * t + 2 * i + 1]);
      }
    }
  }
  cp_async_wait<0>();

  // dk *= scale; write this warpgroup's dK, dV rows (or add them to the fp32 accumulators
  // when the KV head's query heads are split over several CTAs)
  __nv_bfloat16* dk = p.dk + b * p.dks.batch + hk * p.dks.head;
  __nv_bfloat16* dv = p.dv + b * p.dvs.batch + hk * p.dvs.head;
  const int64_t acc_row = static_cast<int64_t>(p.heads_kv) * D;
  float* dk_acc_rows = p.dk_accum + (static_cast<int64_t>(b) * p.seqlen_kv * p.heads_kv + hk) * D;
  float* dv_acc_rows = p.dv_accum + (static_cast<int64_t>(b) * p.seqlen_kv * p.heads_kv + hk) * D;
#pragma unroll
  for (int i = 0; i < 2; ++i) {
    const int row = kv_lo + i * 8;
    if (row >= p.seqlen_kv) continue;
#pragma unroll
    for (int t = 0; t < D / 8; ++t) {
      const int col = t * 8 + 2 * (lane & 3);
      const float k0 = dk_acc[4 * t + 2 * i] * p.scale, k1 = dk_acc[4 * t + 2 * i + 1] * p.scale;
      const float v0 = dv_acc[4 * t + 2 * i], v1 = dv_acc[4 * t + 2 * i + 1];
      if (p.head_split > 1) {
        red_add_v2(dk_acc_rows + row * acc_row + col, k0, k1);
        red_add_v2(dv_acc_rows + row * acc_row + col, v0, v1);
      } else {
        *reinterpret_cast<uint32_t*>(dk + row * p.dks.row + col) = pack_bf16(k0, k1);
        *reinterpret_cast<uint32_t*>(dv + row * p.dvs.row + col) = pack_bf16(v0, v1);
      }
    }
  }
}

template <bool kCausal>
void launch(const BwdParams& p, int batch, cudaStream_t stream) {
  using Cfg = Sm90BwdConfig;
  auto kernel = flash_bwd_sm90_kernel<kCausal>;
  HCPSIM_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, Cfg::kSmemBytes));
  const int n_blocks = (p.seqlen_kv + Cfg::kBlockN - 1) / Cfg::kBlockN;
  BwdParams q = p;
  const int head_slots = p.heads_kv * p.head_split;
  q.heads_fastest = launch_order_heads_fastest(static_cast<int64_t>(n_blocks) * head_slots * batch, num_sms());
  const dim3 grid(q.heads_fastest ? head_slots : n_blocks, q.heads_fastest ? n_blocks : head_slots, batch);
  kernel<<<grid, Cfg::kThreads, Cfg::kSmemBytes, stream>>>(q);
  HCPSIM_CUDA_CHECK_LAUNCH();
}

}  // namespace

namespace detail {
void flash_bwd_sm90_main(const BwdParams& p, int batch, bool causal, cudaStream_t stream) {
  causal ? launch<true>(p, batch, stream) : launch<false>(p, batch, stream);
}
}  // namespace detail

}  // namespace hcpsim::kernels

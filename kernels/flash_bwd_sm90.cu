// Flash attention backward main kernel on Hopper's warpgroup MMA (wgmma, sm_90a), head dim
// 128, warp-specialized. One CTA owns 128 key rows of one (batch, KV head): two consumer
// warpgroups (64 key rows each) and one producer warpgroup whose first thread loads K/V once
// and then each step's Q, dO tiles and LSE/delta rows with TMA into a two-stage ring guarded
// by mbarriers (setmaxnreg moves registers from the producer to the consumers). The CTA loops
// over the group's query heads and 64-row query tiles. Tiles sit in shared memory in the
// 128-byte-swizzled layout (sw128.cuh):
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
#include "tma.cuh"
#include "tma_map.h"
#include "wgmma.cuh"

namespace hcpsim::kernels {
namespace {
using namespace detail;

struct Sm90BwdConfig {
  static constexpr int kHeadDim = 128;
  static constexpr int kConsumerThreads = 256;             // two warpgroups
  static constexpr int kThreads = kConsumerThreads + 128;  // + the producer warpgroup
  static constexpr int kConsumerRegs = 240;                // setmaxnreg: 2 x 128 x 240 + 128 x 24 <= 64K
  static constexpr int kProducerRegs = 24;
  static constexpr int kBlockN = 128;  // key rows per CTA (64 per consumer warpgroup)
  static constexpr int kBlockM = 64;   // query rows per step: S^T/dP^T at 32 registers each
  static constexpr int kStages = 2;
  static constexpr int kKvBytes = kBlockN * kHeadDim * 2;
  static constexpr int kQBytes = kBlockM * kHeadDim * 2;
  static constexpr int kDsBytes = kBlockN * kBlockM * 2;  // dS^T [128 keys][64 queries] = one 128-byte half
  static constexpr int kRowStatBytes = kBlockM * 4;
  static constexpr int kStageTileBytes = 2 * kQBytes;       // Q, dO of one stage
  static constexpr int kStageStatBytes = 2 * kRowStatBytes;  // lse, delta of one stage
  static constexpr int kStageBytes = kStageTileBytes + kStageStatBytes;
  static constexpr int kBarrierBytes = 64;
  // K, V; the stages; dS^T; barriers; 1024-byte alignment slack.
  static constexpr int kSmemBytes = 2 * kKvBytes + kStages * kStageBytes + kDsBytes + kBarrierBytes + 1024;
  static_assert(kSmemBytes <= 227 * 1024, "backward tiles exceed the sm_90 shared-memory budget");
  static_assert(kStageTileBytes % 1024 == 0 && (kStages * kStageStatBytes) % 1024 == 0,
                "tiles must keep the 1024-byte swizzle alignment");
};

// Named barrier 1 among the two consumer warpgroups (the producer never joins it).
__device__ __forceinline__ void consumer_sync() {
  asm volatile("bar.sync 1, %0;\n" ::"n"(Sm90BwdConfig::kConsumerThreads) : "memory");
}

template <bool kCausal>
__global__ void __launch_bounds__(Sm90BwdConfig::kThreads, 1)
    flash_bwd_sm90_kernel(const BwdParams p, const __grid_constant__ CUtensorMap tm_k,
                          const __grid_constant__ CUtensorMap tm_v, const __grid_constant__ CUtensorMap tm_q,
                          const __grid_constant__ CUtensorMap tm_do, const __grid_constant__ CUtensorMap tm_lse,
                          const __grid_constant__ CUtensorMap tm_delta) {
  using Cfg = Sm90BwdConfig;
  constexpr int BN = Cfg::kBlockN, BM = Cfg::kBlockM, D = Cfg::kHeadDim;
  constexpr uint32_t kKvHalf = sw128_half_bytes<BN>(), kQHalf = sw128_half_bytes<BM>();
  extern __shared__ __align__(1024) unsigned char smem[];
  const int hk_slot = p.heads_fastest ? blockIdx.x : blockIdx.y;  // causal: first key blocks are heaviest
  const int hk = hk_slot / p.head_split;
  const int heads_per_cta = p.group / p.head_split;
  const int head_base = hk * p.group + (hk_slot % p.head_split) * heads_per_cta;
  const int n_block = p.heads_fastest ? blockIdx.y : blockIdx.x;
  const int b = blockIdx.z;
  const int tid = threadIdx.x;
  const int n0 = n_block * BN;

  const uint32_t sK = (smem_u32(smem) + 1023u) & ~1023u;
  const uint32_t sV = sK + Cfg::kKvBytes;
  const uint32_t sStages = sV + Cfg::kKvBytes;  // stage s: Q, dO tiles
  const uint32_t sStats = sStages + Cfg::kStages * Cfg::kStageTileBytes;  // stage s: lse[BM], delta[BM]
  const uint32_t sdS = sStats + Cfg::kStages * Cfg::kStageStatBytes;
  const uint32_t bars = sdS + Cfg::kDsBytes;
  const uint32_t kv_full = bars;
  auto full = [&](int st) { return bars + 8 + 8 * st; };
  auto empty = [&](int st) { return bars + 8 + 8 * Cfg::kStages + 8 * st; };
  auto stage_q = [&](int st) { return sStages + st * Cfg::kStageTileBytes; };
  auto stage_do = [&](int st) { return stage_q(st) + Cfg::kQBytes; };
  auto stage_lse = [&](int st) { return sStats + st * Cfg::kStageStatBytes; };
  auto stage_delta = [&](int st) { return stage_lse(st) + Cfg::kRowStatBytes; };
  unsigned char* const sdS_ptr = smem + (sdS - smem_u32(smem));

  // Steps: (query head of the group) x (query tile); causal skips tiles ending before n0.
  const int m_first = kCausal ? max(n0 - p.causal_offset, 0) / BM : 0;
  const int m_count = max((p.seqlen_q + BM - 1) / BM - m_first, 0);
  const int steps = m_count * heads_per_cta;

  if (tid == 0) {
    mbar_init(kv_full, 1);
    for (int st = 0; st < Cfg::kStages; ++st) {
      mbar_init(full(st), 1);
      mbar_init(empty(st), Cfg::kConsumerThreads);
    }
    fence_proxy_async();  // the barriers are visible to the TMA unit
  }
  __syncthreads();

  if (tid >= Cfg::kConsumerThreads) {  // producer warpgroup
    asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;\n" ::"n"(Cfg::kProducerRegs));
    if (tid == Cfg::kConsumerThreads) {
      mbar_arrive_expect_tx(kv_full, 2 * Cfg::kKvBytes);
      tma_load_4d(sK, &tm_k, 0, n0, hk, b, kv_full);
      tma_load_4d(sK + kKvHalf, &tm_k, 64, n0, hk, b, kv_full);
      tma_load_4d(sV, &tm_v, 0, n0, hk, b, kv_full);
      tma_load_4d(sV + kKvHalf, &tm_v, 64, n0, hk, b, kv_full);
      for (int it = 0; it < steps; ++it) {
        const int st = it % Cfg::kStages;
        if (it >= Cfg::kStages) mbar_wait(empty(st), ((it / Cfg::kStages) - 1) & 1);  // consumers released it
        const int h = head_base + it / m_count;
        const int m0 = (m_first + it % m_count) * BM;
        mbar_arrive_expect_tx(full(st), Cfg::kStageBytes);
        tma_load_4d(stage_q(st), &tm_q, 0, m0, h, b, full(st));
        tma_load_4d(stage_q(st) + kQHalf, &tm_q, 64, m0, h, b, full(st));
        tma_load_4d(stage_do(st), &tm_do, 0, m0, h, b, full(st));
        tma_load_4d(stage_do(st) + kQHalf, &tm_do, 64, m0, h, b, full(st));
        // Rows past the end read lse = delta = 0: their Q and dO rows are zero-filled too, so
        // they add nothing to dK/dV, and their dQ is never stored.
        tma_load_2d(stage_lse(st), &tm_lse, m0, b * p.heads_q + h, full(st));
        tma_load_2d(stage_delta(st), &tm_delta, m0, b * p.heads_q + h, full(st));
      }
    }
    return;
  }
  asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;\n" ::"n"(Cfg::kConsumerRegs));

  const int lane = tid & 31, warp = tid >> 5;
  const int wg = warp / 4, warp_in_wg = warp % 4;
  float dv_acc[D / 2] = {};  // m64n128 fragments: keys 64*wg + ..., all D columns
  float dk_acc[D / 2] = {};
  const int kv_lo = n0 + wg * 64 + warp_in_wg * 16 + (lane >> 2);  // thread's key rows kv_lo, kv_lo + 8
  const uint32_t k_rows = sK + wg * 64 * 128, v_rows = sV + wg * 64 * 128;
  mbar_wait(kv_full, 0);

  for (int it = 0; it < steps; ++it) {
    const int st_idx = it % Cfg::kStages;
    const int h = head_base + it / m_count;
    const int m0 = (m_first + it % m_count) * BM;
    mbar_wait(full(st_idx), (it / Cfg::kStages) & 1);
    consumer_sync();  // both warpgroups are done reading the previous step's dS^T
    const uint32_t qb = stage_q(st_idx), dob = stage_do(st_idx);
    const float* lse = reinterpret_cast<const float*>(smem + (stage_lse(st_idx) - smem_u32(smem)));
    const float* delta = reinterpret_cast<const float*>(smem + (stage_delta(st_idx) - smem_u32(smem)));

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
    const bool need_mask = n0 + BN > p.seqlen_kv || (kCausal && m0 + p.causal_offset < n0 + BN - 1);
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
          if (kv >= p.seqlen_kv || (kCausal && kv > m0 + qc + p.causal_offset)) pv[e] = 0.f;
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
    consumer_sync();  // dS^T from both warpgroups is in shared memory

    // dq[m0:m0+BM, 64*wg : 64*wg+64] = ds @ k[:, 64*wg : 64*wg+64]   (k = keys, 16 per step)
    float dq[BM / 2];
    wgmma_fence();
#pragma unroll
    for (int kk = 0; kk < BN / 16; ++kk) {
      wgmma_m64n64k16_ss_tt(dq, smem_desc_sw128(sdS + kk * 16 * 128, 1024, 1024),
                            smem_desc_sw128(sK + wg * kKvHalf + kk * 16 * 128, kKvHalf, 1024), kk > 0);
    }
    wgmma_commit();
    wgmma_wait<0>();              // also completes dV/dK: this step's Q/dO/lse/delta are no longer read
    mbar_arrive(empty(st_idx));
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
  const CUtensorMap tm_k = make_bshd_map(p.k, p.ks, p.seqlen_kv, p.heads_kv, batch, Cfg::kBlockN);
  const CUtensorMap tm_v = make_bshd_map(p.v, p.vs, p.seqlen_kv, p.heads_kv, batch, Cfg::kBlockN);
  const CUtensorMap tm_q = make_bshd_map(p.q, p.qs, p.seqlen_q, p.heads_q, batch, Cfg::kBlockM);
  const CUtensorMap tm_do = make_bshd_map(p.d_o, p.dos, p.seqlen_q, p.heads_q, batch, Cfg::kBlockM);
  const int64_t stat_rows = static_cast<int64_t>(batch) * p.heads_q;
  const CUtensorMap tm_lse = make_f32_rows_map(p.lse_log2, p.seqlen_q, stat_rows, p.stat_stride, Cfg::kBlockM);
  const CUtensorMap tm_delta = make_f32_rows_map(p.delta, p.seqlen_q, stat_rows, p.stat_stride, Cfg::kBlockM);
  const dim3 grid(q.heads_fastest ? head_slots : n_blocks, q.heads_fastest ? n_blocks : head_slots, batch);
  kernel<<<grid, Cfg::kThreads, Cfg::kSmemBytes, stream>>>(q, tm_k, tm_v, tm_q, tm_do, tm_lse, tm_delta);
  HCPSIM_CUDA_CHECK_LAUNCH();
}

}  // namespace

namespace detail {
void flash_bwd_sm90_main(const BwdParams& p, int batch, bool causal, cudaStream_t stream) {
  causal ? launch<true>(p, batch, stream) : launch<false>(p, batch, stream);
}
}  // namespace detail

}  // namespace hcpsim::kernels

// Flash attention backward (FlashAttention-2 schedule on mma.sync), three launches:
//   1. delta = rowsum(dO * O) per query row (fp32), and dQ accumulator zeroed;
//   2. one CTA of 8 warps per 128 key rows of one (batch, KV head): loops over the group's
//      query heads and 64-row query tiles; recomputes P^T and dS^T (stored to shared memory
//      as bf16), keeps dK/dV in registers (32 keys x D/2 per warp) and adds dQ partials
//      into the fp32 accumulator with vector reductions;
//   3. dQ = scale * accumulator, cast to bf16 into the caller's strides.
// Summing the group's query heads inside one CTA gives GQA's dK/dV without atomics.
#include <cmath>

#include "attn_params.h"
#include "cp_ops.h"
#include "bwd_common.cuh"
#include "rules/flash_bwd_workspace.hpp"
#include "elementwise.cuh"
#include "flash_bwd_sm90.h"
#include "mma.cuh"

namespace hcpsim::kernels {
namespace {
using namespace detail;

template <int D>
struct BwdConfig {
  static constexpr int kBlockN = 128;  // key rows per CTA
  static constexpr int kBlockM = 64;   // query rows per inner step
  static constexpr int kWarps = 8;
  static constexpr int kThreads = kWarps * 32;
  static constexpr int kChunks = D / 8;
  static constexpr int kKvBytes = kBlockN * D * 2;
  static constexpr int kQBytes = kBlockM * D * 2;
  static constexpr int kPBytes = kBlockN * kBlockM * 2;
  static constexpr int kRowStatBytes = kBlockM * 4;
  // K, V; Q and dO double-buffered; P^T and dS^T; LSE and delta double-buffered.
  static constexpr int kSmemBytes = 2 * kKvBytes + 4 * kQBytes + 2 * kPBytes + 4 * kRowStatBytes;
  static_assert(kSmemBytes <= 227 * 1024, "backward tiles exceed the sm_90 shared-memory budget");
  // Warp tiles (8 warps), each two 16-row MMA tiles tall so every shared-memory fragment feeds
  // two MMAs:  S^T, dP^T: 32 keys x 32 queries;  dK, dV: 32 keys x D/2;  dQ: 32 queries x D/4.
  static_assert(kWarps == 8 && kBlockN == 4 * 32 && kBlockM == 2 * 32, "warp tiling must cover the tiles");
};

// delta[b, h, i] = (dO[b, i, h, :] * O[b, i, h, :]).sum();  lse_log2[b, h, i] = lse * log2(e)
// one warp per row
__global__ void bwd_delta_kernel(const BwdParams p) {
  const int warp_global = (blockIdx.x * blockDim.x + threadIdx.x) >> 5;
  const int lane = threadIdx.x & 31;
  const int rows = p.seqlen_q * p.heads_q;
  const int b = blockIdx.y;
  if (warp_global >= rows) return;
  const int i = warp_global / p.heads_q, h = warp_global % p.heads_q;
  const __nv_bfloat16* o = p.o + b * p.os.batch + i * p.os.row + h * p.os.head;
  const __nv_bfloat16* d_o = p.d_o + b * p.dos.batch + i * p.dos.row + h * p.dos.head;
  float acc = 0.f;
  for (int c = lane * 2; c < p.head_dim; c += 64) {
    const float2 a = __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(o + c));
    const float2 g = __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(d_o + c));
    acc = fmaf(a.x, g.x, fmaf(a.y, g.y, acc));
  }
#pragma unroll
  for (int off = 16; off > 0; off >>= 1) acc += __shfl_xor_sync(0xffffffffu, acc, off);
  if (lane == 0) {
    const int64_t stat = (static_cast<int64_t>(b) * p.heads_q + h) * p.stat_stride + i;
    p.delta[stat] = acc;
    p.lse_log2[stat] = p.lse[b * p.lse_batch + h * p.lse_head + i] * kLog2e;
  }
}

template <int D, bool kCausal>
__global__ void __launch_bounds__(BwdConfig<D>::kThreads, 1) flash_bwd_kernel(const BwdParams p) {
  using Cfg = BwdConfig<D>;
  constexpr int BN = Cfg::kBlockN, BM = Cfg::kBlockM, C = Cfg::kChunks, T = Cfg::kThreads;
  constexpr int kPChunks = BM / 8;   // P^T / dS^T rows are BM bf16 wide
  constexpr int kKvCols = D / 2;     // dK/dV columns per warp
  constexpr int kDqCols = D / 4;     // dQ columns per warp
  extern __shared__ __align__(128) unsigned char smem[];
  // With a causal mask the first key blocks see the most queries: they launch first.
  const int hk = p.heads_fastest ? blockIdx.x : blockIdx.y;
  const int n_block = p.heads_fastest ? blockIdx.y : blockIdx.x;
  const int b = blockIdx.z;
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int n0 = n_block * BN;

  const uint32_t sK = smem_u32(smem);
  const uint32_t sV = sK + Cfg::kKvBytes;
  const uint32_t sQ = sV + Cfg::kKvBytes;      // 2 buffers
  const uint32_t sdO = sQ + 2 * Cfg::kQBytes;  // 2 buffers
  const uint32_t sP = sdO + 2 * Cfg::kQBytes;  // P^T  [BN][BM] bf16
  const uint32_t sdS = sP + Cfg::kPBytes;      // dS^T [BN][BM] bf16
  unsigned char* const sP_ptr = smem + (sP - sK);
  unsigned char* const sdS_ptr = smem + (sdS - sK);
  float* sLse = reinterpret_cast<float*>(smem + 2 * Cfg::kKvBytes + 4 * Cfg::kQBytes + 2 * Cfg::kPBytes);  // [2][BM]
  float* sDelta = sLse + 2 * BM;                                                                             // [2][BM]

  load_tile<BN, C, T>(sK, p.k + b * p.ks.batch + hk * p.ks.head + n0 * p.ks.row, p.ks.row, p.seqlen_kv - n0, tid);
  load_tile<BN, C, T>(sV, p.v + b * p.vs.batch + hk * p.vs.head + n0 * p.vs.row, p.vs.row, p.seqlen_kv - n0, tid);

  // Steps: (query head of the group) x (query tile); causal skips tiles ending before n0.
  const int m_first = kCausal ? max(n0 - p.causal_offset, 0) / BM : 0;
  const int m_count = max((p.seqlen_q + BM - 1) / BM - m_first, 0);
  const int steps = m_count * p.group;

  // Stages the Q, dO tiles and the row statistics of step `it` into buffer `buf`.
  auto load_step = [&](int it, int buf) {
    const int h = hk * p.group + it / m_count;
    const int m0 = (m_first + it % m_count) * BM;
    load_tile<BM, C, T>(sQ + buf * Cfg::kQBytes, p.q + b * p.qs.batch + h * p.qs.head + m0 * p.qs.row, p.qs.row,
                        p.seqlen_q - m0, tid);
    load_tile<BM, C, T>(sdO + buf * Cfg::kQBytes, p.d_o + b * p.dos.batch + h * p.dos.head + m0 * p.dos.row,
                        p.dos.row, p.seqlen_q - m0, tid);
    load_row_stats<BM>(p, b, h, m0, sLse + buf * BM, sDelta + buf * BM, tid);
  };
  if (steps > 0) load_step(0, 0);
  cp_async_commit();

  // Warp tiles: keys [kr, kr+32) for S^T/dP^T and dK/dV; queries [qc, qc+32) for S^T/dP^T;
  // dK/dV columns [kvc, kvc+D/2); dQ rows [qr, qr+32) and columns [dqc, dqc+D/4).
  const int kr = (warp >> 1) * 32, qc = (warp & 1) * 32;
  const int kvc = (warp & 1) * kKvCols;
  const int qr = (warp & 1) * 32, dqc = (warp >> 1) * kDqCols;
  float dv_acc[2][kKvCols / 8][4] = {};
  float dk_acc[2][kKvCols / 8][4] = {};

  for (int it = 0; it < steps; ++it) {
    const int buf = it & 1;
    const int h = hk * p.group + it / m_count;
    const int m0 = (m_first + it % m_count) * BM;
    cp_async_wait<0>();
    __syncthreads();  // this step's tiles are in; every warp is done with the previous step
    if (it + 1 < steps) load_step(it + 1, buf ^ 1);
    cp_async_commit();
    const uint32_t qb = sQ + buf * Cfg::kQBytes, dob = sdO + buf * Cfg::kQBytes;
    const float* lse = sLse + buf * BM;
    const float* delta = sDelta + buf * BM;

    // st = k[kr:kr+32] @ q[qc:qc+32].T;  dpt = v[kr:kr+32] @ dO[qc:qc+32].T
    float st[2][4][4] = {};
    float dpt[2][4][4] = {};
    warp_mma_abt<2, 2, D, C, C>(st, sK, kr, qb, qc, lane);
    warp_mma_abt<2, 2, D, C, C>(dpt, sV, kr, dob, qc, lane);

    // pt = exp2(st * scale*log2e - lse*log2e), zero where masked;  dst = pt * (dpt - delta)
    // Both go to shared memory as bf16: dK/dV and dQ need them across warp tiles.
    const bool need_mask = n0 + BN > p.seqlen_kv || (kCausal && m0 + p.causal_offset < n0 + BN - 1);
#pragma unroll
    for (int mt = 0; mt < 2; ++mt) {
#pragma unroll
      for (int t = 0; t < 4; ++t) {
        const int col = qc + t * 8 + 2 * (lane & 3);
        float pv[4], ds[4];
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          const int qcol = col + (e & 1);
          pv[e] = exp2f(fmaf(st[mt][t][e], p.scale_log2, -lse[qcol]));
          if (need_mask) {
            const int kv = n0 + kr + 16 * mt + (lane >> 2) + (e >> 1) * 8;
            if (kv >= p.seqlen_kv || (kCausal && kv > m0 + qcol + p.causal_offset)) pv[e] = 0.f;
          }
          ds[e] = pv[e] * (dpt[mt][t][e] - delta[qcol]);
        }
        const int r = kr + 16 * mt + (lane >> 2);
        const uint32_t off0 = swz<kPChunks>(r, col >> 3) + 4 * (lane & 3);
        const uint32_t off1 = swz<kPChunks>(r + 8, col >> 3) + 4 * (lane & 3);
        *reinterpret_cast<uint32_t*>(sP_ptr + off0) = pack_bf16(pv[0], pv[1]);
        *reinterpret_cast<uint32_t*>(sP_ptr + off1) = pack_bf16(pv[2], pv[3]);
        *reinterpret_cast<uint32_t*>(sdS_ptr + off0) = pack_bf16(ds[0], ds[1]);
        *reinterpret_cast<uint32_t*>(sdS_ptr + off1) = pack_bf16(ds[2], ds[3]);
      }
    }
    __syncthreads();

    // dv[kr:kr+32, kvc:kvc+D/2] += pt @ dO;  dk[...] += dst @ q   (scale applied at the end)
#pragma unroll
    for (int kk = 0; kk < BM / 16; ++kk) {
      uint32_t pa[2][4], da[2][4];
#pragma unroll
      for (int mt = 0; mt < 2; ++mt) {
        ldmatrix_x4(pa[mt], sP + lds_a<kPChunks>(lane, kr + 16 * mt, kk * 16));
        ldmatrix_x4(da[mt], sdS + lds_a<kPChunks>(lane, kr + 16 * mt, kk * 16));
      }
#pragma unroll
      for (int dd = 0; dd < kKvCols / 16; ++dd) {
        uint32_t bo[4], bq[4];
        ldmatrix_x4_trans(bo, dob + lds_b_trans<C>(lane, kk * 16, kvc + dd * 16));
        ldmatrix_x4_trans(bq, qb + lds_b_trans<C>(lane, kk * 16, kvc + dd * 16));
#pragma unroll
        for (int mt = 0; mt < 2; ++mt) {
          mma_bf16_pair(dv_acc[mt][2 * dd], dv_acc[mt][2 * dd + 1], pa[mt], bo);
          mma_bf16_pair(dk_acc[mt][2 * dd], dk_acc[mt][2 * dd + 1], da[mt], bq);
        }
      }
    }

    // dq[m0+qr : m0+qr+32, dqc : dqc+D/4] += ds @ k   (ds read transposed from dS^T)
    float dq[2][kDqCols / 8][4] = {};
#pragma unroll
    for (int kk = 0; kk < BN / 16; ++kk) {
      uint32_t a[2][4];
#pragma unroll
      for (int mt = 0; mt < 2; ++mt) ldmatrix_x4_trans(a[mt], sdS + lds_a_trans<kPChunks>(lane, kk * 16, qr + 16 * mt));
#pragma unroll
      for (int dd = 0; dd < kDqCols / 16; ++dd) {
        uint32_t bk[4];
        ldmatrix_x4_trans(bk, sK + lds_b_trans<C>(lane, kk * 16, dqc + dd * 16));
#pragma unroll
        for (int mt = 0; mt < 2; ++mt) mma_bf16_pair(dq[mt][2 * dd], dq[mt][2 * dd + 1], a[mt], bk);
      }
    }
    float* dq_rows = p.dq_accum + ((static_cast<int64_t>(b) * p.seqlen_q + m0) * p.heads_q + h) * D;
#pragma unroll
    for (int mt = 0; mt < 2; ++mt) {
#pragma unroll
      for (int i = 0; i < 2; ++i) {
        const int row = qr + 16 * mt + (lane >> 2) + i * 8;
        if (m0 + row < p.seqlen_q) {
          float* dst = dq_rows + static_cast<int64_t>(row) * p.heads_q * D + dqc + 2 * (lane & 3);
#pragma unroll
          for (int t = 0; t < kDqCols / 8; ++t) red_add_v2(dst + t * 8, dq[mt][t][2 * i], dq[mt][t][2 * i + 1]);
        }
      }
    }
  }
  cp_async_wait<0>();

  // dk *= scale; write this warp's dK, dV tile
  __nv_bfloat16* dk = p.dk + b * p.dks.batch + hk * p.dks.head;
  __nv_bfloat16* dv = p.dv + b * p.dvs.batch + hk * p.dvs.head;
#pragma unroll
  for (int mt = 0; mt < 2; ++mt) {
#pragma unroll
    for (int i = 0; i < 2; ++i) {
      const int row = n0 + kr + 16 * mt + (lane >> 2) + i * 8;
      if (row >= p.seqlen_kv) continue;
#pragma unroll
      for (int t = 0; t < kKvCols / 8; ++t) {
        const int col = kvc + t * 8 + 2 * (lane & 3);
        *reinterpret_cast<uint32_t*>(dk + row * p.dks.row + col) =
            pack_bf16(dk_acc[mt][t][2 * i] * p.scale, dk_acc[mt][t][2 * i + 1] * p.scale);
        *reinterpret_cast<uint32_t*>(dv + row * p.dvs.row + col) =
            pack_bf16(dv_acc[mt][t][2 * i], dv_acc[mt][t][2 * i + 1]);
      }
    }
  }
}

// dq[b, i, h, :] = scale * dq_accum[b, i, h, :] cast to bf16; 8 elements per thread.
__global__ void bwd_dq_convert_kernel(const BwdParams p) {
  const int b = blockIdx.y;
  for_each_vec8(p.seqlen_q, p.heads_q, p.head_dim, [&](int64_t i, int64_t h, int64_t c) {
    const float4* src = reinterpret_cast<const float4*>(
        p.dq_accum + ((b * static_cast<int64_t>(p.seqlen_q) + i) * p.heads_q + h) * p.head_dim + c);
    const float4 x = src[0], y = src[1];
    uint4 out;
    out.x = pack_bf16(x.x * p.scale, x.y * p.scale);
    out.y = pack_bf16(x.z * p.scale, x.w * p.scale);
    out.z = pack_bf16(y.x * p.scale, y.y * p.scale);
    out.w = pack_bf16(y.z * p.scale, y.w * p.scale);
    *reinterpret_cast<uint4*>(p.dq + b * p.dqs.batch + i * p.dqs.row + h * p.dqs.head + c) = out;
  });
}

template <int D, bool kCausal>
void launch_bwd_main(const BwdParams& p, int batch, cudaStream_t stream) {
  using Cfg = BwdConfig<D>;
  auto kernel = flash_bwd_kernel<D, kCausal>;
  HCPSIM_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, Cfg::kSmemBytes));
  const int n_blocks = (p.seqlen_kv + Cfg::kBlockN - 1) / Cfg::kBlockN;
  BwdParams q = p;
  q.heads_fastest = launch_order_heads_fastest(static_cast<int64_t>(n_blocks) * p.heads_kv * batch, num_sms());
  const dim3 grid(q.heads_fastest ? p.heads_kv : n_blocks, q.heads_fastest ? n_blocks : p.heads_kv, batch);
  kernel<<<grid, Cfg::kThreads, Cfg::kSmemBytes, stream>>>(q);
  HCPSIM_CUDA_CHECK_LAUNCH();
}

int bwd_head_split(const AttnShape& s) {
  return static_cast<int>(hcpsim::kernels::bwd_head_split(s.batch, s.seqlen_kv, s.heads_q, s.heads_kv, s.head_dim));
}

}  // namespace

size_t flash_bwd_workspace_bytes(const AttnShape& s) {
  return static_cast<size_t>(bwd_workspace_bytes(s.batch, s.seqlen_q, s.seqlen_kv, s.heads_q, s.heads_kv, s.head_dim));
}

void flash_bwd(const BwdArgs& a, cudaStream_t stream) {
  const AttnShape& s = a.shape;
  check_shape(s);
  const std::pair<const BshdView*, const char*> views[] = {{&a.q, "q"},   {&a.k, "k"},   {&a.v, "v"},
                                                           {&a.o, "o"},   {&a.d_o, "d_o"}, {&a.dq, "dq"},
                                                           {&a.dk, "dk"}, {&a.dv, "dv"}};
  for (const auto& [view, name] : views) check_view(*view, name);
  if (a.lse.ptr == nullptr || a.workspace == nullptr || reinterpret_cast<uintptr_t>(a.workspace) % 256 != 0) {
    throw std::invalid_argument("attention backward: lse and a 256-byte aligned workspace are required");
  }
  BwdParams p{};
  p.q = static_cast<const __nv_bfloat16*>(a.q.ptr);
  p.k = static_cast<const __nv_bfloat16*>(a.k.ptr);
  p.v = static_cast<const __nv_bfloat16*>(a.v.ptr);
  p.o = static_cast<const __nv_bfloat16*>(a.o.ptr);
  p.d_o = static_cast<const __nv_bfloat16*>(a.d_o.ptr);
  p.lse = a.lse.ptr;
  p.dq = static_cast<__nv_bfloat16*>(a.dq.ptr);
  p.dk = static_cast<__nv_bfloat16*>(a.dk.ptr);
  p.dv = static_cast<__nv_bfloat16*>(a.dv.ptr);
  const size_t rows = static_cast<size_t>(s.batch) * s.seqlen_q * s.heads_q;
  const BwdWorkspaceLayout ws = bwd_workspace_layout(s.batch, s.seqlen_q, s.seqlen_kv, s.heads_q, s.heads_kv, s.head_dim);
  const auto part = [&](int64_t offset) { return reinterpret_cast<float*>(static_cast<char*>(a.workspace) + offset); };
  p.dq_accum = part(ws.dq_accum);
  p.delta = part(ws.delta);
  p.lse_log2 = part(ws.lse_log2);
  p.dk_accum = part(ws.dk_accum);
  p.dv_accum = part(ws.dv_accum);
  p.stat_stride = static_cast<int>(ws.stat_stride);
  p.head_split = a.impl == AttnImpl::kMmaSync ? 1 : bwd_head_split(s);  // the mma.sync kernel never splits
  p.qs = strides_of(a.q);
  p.ks = strides_of(a.k);
  p.vs = strides_of(a.v);
  p.os = strides_of(a.o);
  p.dos = strides_of(a.d_o);
  p.dqs = strides_of(a.dq);
  p.dks = strides_of(a.dk);
  p.dvs = strides_of(a.dv);
  p.lse_batch = a.lse.batch_stride;
  p.lse_head = a.lse.head_stride;
  p.seqlen_q = s.seqlen_q;
  p.seqlen_kv = s.seqlen_kv;
  p.heads_q = s.heads_q;
  p.heads_kv = s.heads_kv;
  p.group = s.heads_q / s.heads_kv;
  p.causal_offset = s.causal ? s.causal_offset : 0;
  p.head_dim = s.head_dim;
  p.scale = effective_scale(s);
  p.scale_log2 = p.scale * kLog2e;
  if (s.seqlen_kv == 0 && s.seqlen_q == 0) return;

  if (s.seqlen_q > 0) {
    HCPSIM_CUDA_CHECK(cudaMemsetAsync(p.dq_accum, 0, rows * s.head_dim * sizeof(float), stream));
    const int rows_per_batch = s.seqlen_q * s.heads_q;
    const dim3 grid((rows_per_batch + 7) / 8, s.batch);
    bwd_delta_kernel<<<grid, 256, 0, stream>>>(p);
    HCPSIM_CUDA_CHECK_LAUNCH();
  }
  if (a.impl == AttnImpl::kWgmma && s.head_dim != 128) {
    throw std::invalid_argument("attention backward: the wgmma kernel supports head_dim 128 only");
  }
  if (s.seqlen_kv > 0) {
    if (s.head_dim == 128 && a.impl != AttnImpl::kMmaSync) {
      if (p.head_split > 1) {
        HCPSIM_CUDA_CHECK(cudaMemsetAsync(p.dk_accum, 0, static_cast<size_t>(2 * ws.kv_accum_bytes), stream));
      }
      flash_bwd_sm90_main(p, s.batch, s.causal, stream);
      if (p.head_split > 1) {  // dk/dv = bf16(fp32 accumulators); the scale is already in dk
        const int64_t row = static_cast<int64_t>(s.heads_kv) * s.head_dim;
        cast_f32_to_bf16(a.dk, BshdView{p.dk_accum, row * s.seqlen_kv, row, s.head_dim}, s.batch, s.seqlen_kv,
                         s.heads_kv, s.head_dim, stream);
        cast_f32_to_bf16(a.dv, BshdView{p.dv_accum, row * s.seqlen_kv, row, s.head_dim}, s.batch, s.seqlen_kv,
                         s.heads_kv, s.head_dim, stream);
      }
    } else if (s.head_dim == 128) {
      s.causal ? launch_bwd_main<128, true>(p, s.batch, stream) : launch_bwd_main<128, false>(p, s.batch, stream);
    } else {
      s.causal ? launch_bwd_main<64, true>(p, s.batch, stream) : launch_bwd_main<64, false>(p, s.batch, stream);
    }
  }
  if (s.seqlen_q > 0) {
    bwd_dq_convert_kernel<<<vec8_grid(s.seqlen_q, s.heads_q, s.head_dim, s.batch), 256, 0, stream>>>(p);
    HCPSIM_CUDA_CHECK_LAUNCH();
  }
}

}  // namespace hcpsim::kernels

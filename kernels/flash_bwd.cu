// Flash attention backward (FlashAttention-2 schedule on mma.sync), three launches:
//   1. delta = rowsum(dO * O) per query row (fp32), and dQ accumulator zeroed;
//   2. one CTA of 8 warps per 128 key rows of one (batch, KV head): loops over the group's
//      query heads and 64-row query tiles, keeps dK/dV in registers (16 key rows per warp)
//      and adds dQ partials into the fp32 accumulator with vector reductions;
//   3. dQ = scale * accumulator, cast to bf16 into the caller's strides.
// Summing the group's query heads inside one CTA gives GQA's dK/dV without atomics.
#include <cmath>

#include "attn_params.h"
#include "mma.cuh"

namespace hcpsim::kernels {
namespace {
using namespace detail;

template <int D>
struct BwdConfig {
  static constexpr int kBlockN = 128;  // key rows per CTA (16 per warp)
  static constexpr int kBlockM = 64;   // query rows per inner step: S^T/dP^T at 32 registers each
  static constexpr int kWarps = 8;
  static constexpr int kThreads = kWarps * 32;
  static constexpr int kChunks = D / 8;
  static constexpr int kKvBytes = kBlockN * D * 2;
  static constexpr int kQBytes = kBlockM * D * 2;
  static constexpr int kDsBytes = kBlockN * kBlockM * 2;
  static constexpr int kRowStatBytes = kBlockM * 4;
  // K, V; Q and dO double-buffered; dS^T; LSE and delta double-buffered.
  static constexpr int kSmemBytes = 2 * kKvBytes + 4 * kQBytes + kDsBytes + 4 * kRowStatBytes;
  static_assert(kSmemBytes <= 227 * 1024, "backward tiles exceed the sm_90 shared-memory budget");
  // Each warp owns 16 key rows; for dQ, warp w takes query rows 16*(w%4) and half the columns.
  static_assert(kWarps * 16 == kBlockN && 4 * 16 == kBlockM && kWarps == 8, "warp tiling must cover the tiles");
};

// delta[b, h, i] = (dO[b, i, h, :] * O[b, i, h, :]).sum()   one warp per row
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
  if (lane == 0) p.delta[(static_cast<int64_t>(b) * p.heads_q + h) * p.seqlen_q + i] = acc;
}

__device__ __forceinline__ void red_add_v2(float* addr, float a, float b) {
  asm volatile("red.global.add.v2.f32 [%0], {%1, %2};\n" ::"l"(addr), "f"(a), "f"(b) : "memory");
}

template <int D, bool kCausal>
__global__ void __launch_bounds__(BwdConfig<D>::kThreads, 1) flash_bwd_kernel(const BwdParams p) {
  using Cfg = BwdConfig<D>;
  constexpr int BN = Cfg::kBlockN, BM = Cfg::kBlockM, C = Cfg::kChunks, T = Cfg::kThreads;
  constexpr int kDsChunks = BM / 8;
  extern __shared__ __align__(128) unsigned char smem[];
  const int n_block = blockIdx.x, hk = blockIdx.y, b = blockIdx.z;
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int n0 = n_block * BN;

  const uint32_t sK = smem_u32(smem);
  const uint32_t sV = sK + Cfg::kKvBytes;
  const uint32_t sQ = sV + Cfg::kKvBytes;           // 2 buffers
  const uint32_t sdO = sQ + 2 * Cfg::kQBytes;       // 2 buffers
  const uint32_t sdS = sdO + 2 * Cfg::kQBytes;
  float* sLse = reinterpret_cast<float*>(smem + 2 * Cfg::kKvBytes + 4 * Cfg::kQBytes + Cfg::kDsBytes);  // [2][BM]
  float* sDelta = sLse + 2 * BM;                                                                          // [2][BM]

  load_tile<BN, C, T>(sK, p.k + b * p.ks.batch + hk * p.ks.head + n0 * p.ks.row, p.ks.row, p.seqlen_kv - n0, tid);
  load_tile<BN, C, T>(sV, p.v + b * p.vs.batch + hk * p.vs.head + n0 * p.vs.row, p.vs.row, p.seqlen_kv - n0, tid);
  cp_async_commit();

  // Causal: query rows below n0 see none of this block's keys.
  const int m_first = kCausal ? n0 / BM : 0;
  const int m_blocks = (p.seqlen_q + BM - 1) / BM;
  const int m_count = max(m_blocks - m_first, 0);
  const int steps = m_count * p.group;

  // Stages the Q, dO tiles and the row statistics of step `it` into buffer `buf`.
  auto load_step = [&](int it, int buf) {
    const int h = hk * p.group + it / m_count;
    const int m0 = (m_first + it % m_count) * BM;
    load_tile<BM, C, T>(sQ + buf * Cfg::kQBytes, p.q + b * p.qs.batch + h * p.qs.head + m0 * p.qs.row, p.qs.row,
                        p.seqlen_q - m0, tid);
    load_tile<BM, C, T>(sdO + buf * Cfg::kQBytes, p.d_o + b * p.dos.batch + h * p.dos.head + m0 * p.dos.row,
                        p.dos.row, p.seqlen_q - m0, tid);
    if (tid < BM) {
      const int row = m0 + tid;
      const int64_t stat = (static_cast<int64_t>(b) * p.heads_q + h) * p.seqlen_q + row;
      // Rows past the end get lse = +inf, so their probabilities are exactly 0.
      sLse[buf * BM + tid] =
          row < p.seqlen_q ? p.lse[b * p.lse_batch + h * p.lse_head + row] * kLog2e : INFINITY;
      sDelta[buf * BM + tid] = row < p.seqlen_q ? p.delta[stat] : 0.f;
    }
  };

  float dv_acc[D / 8][4] = {};
  float dk_acc[D / 8][4] = {};
  const int kv_lo = n0 + warp * 16 + (lane >> 2);  // this thread's key rows: kv_lo, kv_lo + 8

  if (steps > 0) load_step(0, 0);
  cp_async_commit();

  for (int it = 0; it < steps; ++it) {
    const int buf = it & 1;
    const int h = hk * p.group + it / m_count;
    const int m0 = (m_first + it % m_count) * BM;
    if (it + 1 < steps) load_step(it + 1, buf ^ 1);
    cp_async_commit();
    cp_async_wait<1>();
    __syncthreads();
    const uint32_t qb = sQ + buf * Cfg::kQBytes, dob = sdO + buf * Cfg::kQBytes;
    const float* lse = sLse + buf * BM;
    const float* delta = sDelta + buf * BM;

    // st = k_w @ q.T   (this warp's 16 key rows x BM query rows)
    float st[BM / 8][4] = {};
    // dpt = v_w @ dO.T
    float dpt[BM / 8][4] = {};
#pragma unroll
    for (int kk = 0; kk < D / 16; ++kk) {
      uint32_t ka[4], va[4];
      ldmatrix_x4(ka, sK + lds_a<C>(lane, warp * 16, kk * 16));
      ldmatrix_x4(va, sV + lds_a<C>(lane, warp * 16, kk * 16));
#pragma unroll
      for (int nn = 0; nn < BM / 16; ++nn) {
        uint32_t bq[4], bo[4];
        ldmatrix_x4(bq, qb + lds_b<C>(lane, nn * 16, kk * 16));
        mma_bf16(st[2 * nn], ka, bq[0], bq[1]);
        mma_bf16(st[2 * nn + 1], ka, bq[2], bq[3]);
        ldmatrix_x4(bo, dob + lds_b<C>(lane, nn * 16, kk * 16));
        mma_bf16(dpt[2 * nn], va, bo[0], bo[1]);
        mma_bf16(dpt[2 * nn + 1], va, bo[2], bo[3]);
      }
    }

    // pt = exp2(st * scale*log2e - lse*log2e), zero where masked;  dst = pt * (dpt - delta)
    const bool need_mask = n0 + BN > p.seqlen_kv || (kCausal && m0 < n0 + BN - 1);
#pragma unroll
    for (int t = 0; t < BM / 8; ++t) {
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int qc = t * 8 + 2 * (lane & 3) + (e & 1);
        float pv = exp2f(fmaf(st[t][e], p.scale_log2, -lse[qc]));
        if (need_mask) {
          const int kv = kv_lo + (e >> 1) * 8;
          if (kv >= p.seqlen_kv || (kCausal && kv > m0 + qc)) pv = 0.f;
        }
        st[t][e] = pv;
        dpt[t][e] = pv * (dpt[t][e] - delta[qc]);
      }
    }
    uint32_t pa[BM / 16][4], dsa[BM / 16][4];
#pragma unroll
    for (int kk = 0; kk < BM / 16; ++kk) {
      pa[kk][0] = pack_bf16(st[2 * kk][0], st[2 * kk][1]);
      pa[kk][1] = pack_bf16(st[2 * kk][2], st[2 * kk][3]);
      pa[kk][2] = pack_bf16(st[2 * kk + 1][0], st[2 * kk + 1][1]);
      pa[kk][3] = pack_bf16(st[2 * kk + 1][2], st[2 * kk + 1][3]);
      dsa[kk][0] = pack_bf16(dpt[2 * kk][0], dpt[2 * kk][1]);
      dsa[kk][1] = pack_bf16(dpt[2 * kk][2], dpt[2 * kk][3]);
      dsa[kk][2] = pack_bf16(dpt[2 * kk + 1][0], dpt[2 * kk + 1][1]);
      dsa[kk][3] = pack_bf16(dpt[2 * kk + 1][2], dpt[2 * kk + 1][3]);
    }

    // dv += pt @ dO;  dk += dst @ q   (scale applied at the end)
#pragma unroll
    for (int kk = 0; kk < BM / 16; ++kk) {
#pragma unroll
      for (int dd = 0; dd < D / 16; ++dd) {
        uint32_t bo[4], bq[4];
        ldmatrix_x4_trans(bo, dob + lds_b_trans<C>(lane, kk * 16, dd * 16));
        mma_bf16(dv_acc[2 * dd], pa[kk], bo[0], bo[1]);
        mma_bf16(dv_acc[2 * dd + 1], pa[kk], bo[2], bo[3]);
        ldmatrix_x4_trans(bq, qb + lds_b_trans<C>(lane, kk * 16, dd * 16));
        mma_bf16(dk_acc[2 * dd], dsa[kk], bq[0], bq[1]);
        mma_bf16(dk_acc[2 * dd + 1], dsa[kk], bq[2], bq[3]);
      }
    }

    // Share dS^T [BN][BM] so every warp can form a dQ tile from all key rows.
    {
      char* ds_base = reinterpret_cast<char*>(smem) + (sdS - sK);
      const int r = warp * 16 + (lane >> 2);
#pragma unroll
      for (int t = 0; t < BM / 8; ++t) {
        const int byte_in_chunk = 4 * (lane & 3);
        *reinterpret_cast<uint32_t*>(ds_base + swz<kDsChunks>(r, t) + byte_in_chunk) =
            pack_bf16(dpt[t][0], dpt[t][1]);
        *reinterpret_cast<uint32_t*>(ds_base + swz<kDsChunks>(r + 8, t) + byte_in_chunk) =
            pack_bf16(dpt[t][2], dpt[t][3]);
      }
    }
    __syncthreads();

    // dq[m0:m0+BM] += ds @ k   (warp: 16 query rows x D/2 columns)
    const int qr = (warp & 3) * 16;
    const int dc = (warp >> 2) * (D / 2);
    float dq[D / 16][4] = {};
#pragma unroll
    for (int kk = 0; kk < BN / 16; ++kk) {
      uint32_t a[4];
      ldmatrix_x4_trans(a, sdS + lds_a_trans<kDsChunks>(lane, kk * 16, qr));
#pragma unroll
      for (int dd = 0; dd < D / 32; ++dd) {
        uint32_t bk[4];
        ldmatrix_x4_trans(bk, sK + lds_b_trans<C>(lane, kk * 16, dc + dd * 16));
        mma_bf16(dq[2 * dd], a, bk[0], bk[1]);
        mma_bf16(dq[2 * dd + 1], a, bk[2], bk[3]);
      }
    }
    float* dq_rows = p.dq_accum + ((static_cast<int64_t>(b) * p.seqlen_q + m0) * p.heads_q + h) * D;
#pragma unroll
    for (int i = 0; i < 2; ++i) {
      const int row = qr + (lane >> 2) + i * 8;
      if (m0 + row < p.seqlen_q) {
        float* dst = dq_rows + static_cast<int64_t>(row) * p.heads_q * D + dc + 2 * (lane & 3);
#pragma unroll
        for (int t = 0; t < D / 16; ++t) red_add_v2(dst + t * 8, dq[t][2 * i], dq[t][2 * i + 1]);
      }
    }
  }
  cp_async_wait<0>();

  // dk *= scale; write dK, dV rows of this block
  __nv_bfloat16* dk = p.dk + b * p.dks.batch + hk * p.dks.head;
  __nv_bfloat16* dv = p.dv + b * p.dvs.batch + hk * p.dvs.head;
#pragma unroll
  for (int i = 0; i < 2; ++i) {
    const int row = kv_lo + i * 8;
    if (row >= p.seqlen_kv) continue;
#pragma unroll
    for (int t = 0; t < D / 8; ++t) {
      const int col = t * 8 + 2 * (lane & 3);
      *reinterpret_cast<uint32_t*>(dk + row * p.dks.row + col) =
          pack_bf16(dk_acc[t][2 * i] * p.scale, dk_acc[t][2 * i + 1] * p.scale);
      *reinterpret_cast<uint32_t*>(dv + row * p.dvs.row + col) = pack_bf16(dv_acc[t][2 * i], dv_acc[t][2 * i + 1]);
    }
  }
}

// dq[b, i, h, :] = scale * dq_accum[b, i, h, :] cast to bf16; 8 elements per thread.
__global__ void bwd_dq_convert_kernel(const BwdParams p) {
  const int64_t vec_per_row = p.head_dim / 8;
  const int64_t total = static_cast<int64_t>(p.seqlen_q) * p.heads_q * vec_per_row;
  const int b = blockIdx.y;
  for (int64_t idx = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; idx < total;
       idx += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t c = (idx % vec_per_row) * 8;
    const int64_t h = (idx / vec_per_row) % p.heads_q;
    const int64_t i = idx / (vec_per_row * p.heads_q);
    const float4* src = reinterpret_cast<const float4*>(
        p.dq_accum + ((b * static_cast<int64_t>(p.seqlen_q) + i) * p.heads_q + h) * p.head_dim + c);
    const float4 x = src[0], y = src[1];
    uint4 out;
    out.x = pack_bf16(x.x * p.scale, x.y * p.scale);
    out.y = pack_bf16(x.z * p.scale, x.w * p.scale);
    out.z = pack_bf16(y.x * p.scale, y.y * p.scale);
    out.w = pack_bf16(y.z * p.scale, y.w * p.scale);
    *reinterpret_cast<uint4*>(p.dq + b * p.dqs.batch + i * p.dqs.row + h * p.dqs.head + c) = out;
  }
}

template <int D, bool kCausal>
void launch_bwd_main(const BwdParams& p, int batch, cudaStream_t stream) {
  using Cfg = BwdConfig<D>;
  auto kernel = flash_bwd_kernel<D, kCausal>;
  HCPSIM_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, Cfg::kSmemBytes));
  const dim3 grid((p.seqlen_kv + Cfg::kBlockN - 1) / Cfg::kBlockN, p.heads_kv, batch);
  kernel<<<grid, Cfg::kThreads, Cfg::kSmemBytes, stream>>>(p);
  HCPSIM_CUDA_CHECK_LAUNCH();
}

size_t align256(size_t n) { return (n + 255) / 256 * 256; }

}  // namespace

size_t flash_bwd_workspace_bytes(const AttnShape& s) {
  const size_t rows = static_cast<size_t>(s.batch) * s.seqlen_q * s.heads_q;
  return align256(rows * s.head_dim * sizeof(float)) + align256(rows * sizeof(float));
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
  p.dq_accum = static_cast<float*>(a.workspace);
  p.delta = reinterpret_cast<float*>(static_cast<char*>(a.workspace) + align256(rows * s.head_dim * sizeof(float)));
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
  if (s.seqlen_kv > 0) {
    if (s.head_dim == 128) {
      s.causal ? launch_bwd_main<128, true>(p, s.batch, stream) : launch_bwd_main<128, false>(p, s.batch, stream);
    } else {
      s.causal ? launch_bwd_main<64, true>(p, s.batch, stream) : launch_bwd_main<64, false>(p, s.batch, stream);
    }
  }
  if (s.seqlen_q > 0) {
    const int64_t vecs = static_cast<int64_t>(s.seqlen_q) * s.heads_q * (s.head_dim / 8);
    const dim3 grid(static_cast<unsigned>(std::min<int64_t>((vecs + 255) / 256, 4096)), s.batch);
    bwd_dq_convert_kernel<<<grid, 256, 0, stream>>>(p);
    HCPSIM_CUDA_CHECK_LAUNCH();
  }
}

}  // namespace hcpsim::kernels

// Flash attention forward (FlashAttention-2 schedule on mma.sync): one CTA of 4 warps owns
// 128 query rows of one (batch, head); each warp owns 32 rows (two 16-row MMA tiles) and
// streams 64-row K/V tiles through double-buffered shared memory with cp.async, keeping the
// online softmax state and the O accumulator in registers. Two CTAs share an SM.
#include <cmath>

#include "attn_params.h"
#include "flash_fwd_sm90.h"
#include "mma.cuh"

namespace hcpsim::kernels {
namespace {
using namespace detail;

template <int D>
struct FwdConfig {
  static constexpr int kWarps = 4;
  static constexpr int kMTiles = 2;                       // 16-row MMA tiles per warp: each K/V
                                                          // fragment read from shared memory feeds 2 MMAs
  static constexpr int kBlockM = kWarps * kMTiles * 16;   // 128 query rows per CTA
  static constexpr int kBlockN = 64;                      // key rows per tile: S at 64 fp32 registers
  static constexpr int kThreads = kWarps * 32;
  static constexpr int kCtasPerSm = 2;                    // two CTAs overlap one's softmax with the other's MMAs
  static constexpr int kChunks = D / 8;                   // 16-byte chunks per row
  static constexpr int kTileQBytes = kBlockM * D * 2;
  static constexpr int kTileKBytes = kBlockN * D * 2;
  static constexpr int kSmemBytes = kTileQBytes + 4 * kTileKBytes;  // Q + 2 K + 2 V buffers
  static_assert(kSmemBytes * kCtasPerSm <= 228 * 1024, "forward tiles exceed the sm_90 shared-memory budget");
};

template <int D, bool kCausal>
__global__ void __launch_bounds__(FwdConfig<D>::kThreads, FwdConfig<D>::kCtasPerSm)
    flash_fwd_kernel(const FwdParams p) {
  using Cfg = FwdConfig<D>;
  constexpr int BM = Cfg::kBlockM, BN = Cfg::kBlockN, C = Cfg::kChunks, T = Cfg::kThreads, MT = Cfg::kMTiles;
  extern __shared__ __align__(128) unsigned char smem[];
  // When causal, the longest query blocks launch first (longest-first scheduling).
  const int h = p.heads_fastest ? blockIdx.x : blockIdx.y;
  const int m_blocks = p.heads_fastest ? gridDim.y : gridDim.x;
  const int m_index = p.heads_fastest ? blockIdx.y : blockIdx.x;
  const int m_block = kCausal ? m_blocks - 1 - m_index : m_index;
  const int b = blockIdx.z, hk = h / p.group;
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int m0 = m_block * BM;

  const __nv_bfloat16* q = p.q + b * p.qs.batch + h * p.qs.head + m0 * p.qs.row;
  const __nv_bfloat16* k = p.k + b * p.ks.batch + hk * p.ks.head;
  const __nv_bfloat16* v = p.v + b * p.vs.batch + hk * p.vs.head;
  const uint32_t sQ = smem_u32(smem);
  const uint32_t sK = sQ + Cfg::kTileQBytes;
  const uint32_t sV = sK + 2 * Cfg::kTileKBytes;

  const int kv_end = kCausal ? min(p.seqlen_kv, m0 + BM + p.causal_offset) : p.seqlen_kv;
  const int n_blocks = (kv_end + BN - 1) / BN;

  load_tile<BM, C, T>(sQ, q, p.qs.row, p.seqlen_q - m0, tid);
  cp_async_commit();
  if (n_blocks > 0) load_tile<BN, C, T>(sK, k, p.ks.row, p.seqlen_kv, tid);
  cp_async_commit();

  float o_acc[MT][D / 8][4] = {};
  float row_max[MT][2], row_sum[MT][2];  // row_sum: per-thread partials, reduced across the quad at the end
#pragma unroll
  for (int mt = 0; mt < MT; ++mt) {
    row_max[mt][0] = row_max[mt][1] = -INFINITY;
    row_sum[mt][0] = row_sum[mt][1] = 0.f;
  }
  const int warp_row0 = warp * MT * 16;          // first row of this warp inside the block
  const int row_lo = m0 + warp_row0 + (lane >> 2);  // thread's row in m-tile 0, half 0

  for (int n = 0; n < n_blocks; ++n) {
    const int n0 = n * BN;
    const int buf = n & 1;
    load_tile<BN, C, T>(sV + buf * Cfg::kTileKBytes, v + n0 * p.vs.row, p.vs.row, p.seqlen_kv - n0, tid);
    cp_async_commit();
    cp_async_wait<1>();  // Q and K[n] have landed; V[n] may still be in flight
    __syncthreads();

    // s = q @ k[n0:n0+BN].T   (unscaled scores, fp32)
    float s[MT][BN / 8][4] = {};
    const uint32_t kb = sK + buf * Cfg::kTileKBytes;
    warp_mma_abt<MT, BN / 16, D, C, C>(s, sQ, warp_row0, kb, 0, lane);
    if (n + 1 < n_blocks) {
      load_tile<BN, C, T>(sK + (buf ^ 1) * Cfg::kTileKBytes, k + (n0 + BN) * p.ks.row, p.ks.row,
                          p.seqlen_kv - n0 - BN, tid);
    }
    cp_async_commit();

    // s.masked_fill_(col >= skv | (causal & col > row), -inf)
    if (n0 + BN > p.seqlen_kv || (kCausal && n0 + BN - 1 > m0 + p.causal_offset + warp_row0)) {
#pragma unroll
      for (int mt = 0; mt < MT; ++mt) {
#pragma unroll
        for (int t = 0; t < BN / 8; ++t) {
#pragma unroll
          for (int e = 0; e < 4; ++e) {
            const int col = n0 + t * 8 + 2 * (lane & 3) + (e & 1);
            const int row = row_lo + mt * 16 + (e >> 1) * 8;
            if (col >= p.seqlen_kv || (kCausal && col > row + p.causal_offset)) s[mt][t][e] = -INFINITY;
          }
        }
      }
    }

    // m_new = max(m, s.amax(-1)); p = exp2((s - m_new) * scale*log2e); l = l*exp2((m - m_new)*..) + p.sum(-1)
#pragma unroll
    for (int mt = 0; mt < MT; ++mt) {
#pragma unroll
      for (int i = 0; i < 2; ++i) {
        float mx = row_max[mt][i];
#pragma unroll
        for (int t = 0; t < BN / 8; ++t) mx = fmaxf(mx, fmaxf(s[mt][t][2 * i], s[mt][t][2 * i + 1]));
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
        const float mx_scaled = mx == -INFINITY ? 0.f : mx * p.scale_log2;
        const float corr = exp2f(row_max[mt][i] * p.scale_log2 - mx_scaled);
        row_max[mt][i] = mx;
        float sum = 0.f;
#pragma unroll
        for (int t = 0; t < BN / 8; ++t) {
#pragma unroll
          for (int e = 2 * i; e < 2 * i + 2; ++e) {
            s[mt][t][e] = exp2f(fmaf(s[mt][t][e], p.scale_log2, -mx_scaled));
            sum += s[mt][t][e];
          }
        }
        row_sum[mt][i] = row_sum[mt][i] * corr + sum;
#pragma unroll
        for (int t = 0; t < D / 8; ++t) {
          o_acc[mt][t][2 * i] *= corr;
          o_acc[mt][t][2 * i + 1] *= corr;
        }
      }
    }

    // o += p.to(bf16) @ v[n0:n0+BN]; P is packed to bf16 right before each k-step so that
    // the fp32 scores die progressively (keeps the kernel under 255 registers).
    cp_async_wait<1>();  // V[n] has landed; K[n+1] may still be in flight
    __syncthreads();
    const uint32_t vb = sV + buf * Cfg::kTileKBytes;
#pragma unroll
    for (int kk = 0; kk < BN / 16; ++kk) {
      uint32_t pa[MT][4];
#pragma unroll
      for (int mt = 0; mt < MT; ++mt) {
        pa[mt][0] = pack_bf16(s[mt][2 * kk][0], s[mt][2 * kk][1]);
        pa[mt][1] = pack_bf16(s[mt][2 * kk][2], s[mt][2 * kk][3]);
        pa[mt][2] = pack_bf16(s[mt][2 * kk + 1][0], s[mt][2 * kk + 1][1]);
        pa[mt][3] = pack_bf16(s[mt][2 * kk + 1][2], s[mt][2 * kk + 1][3]);
      }
#pragma unroll
      for (int dd = 0; dd < D / 16; ++dd) {
        uint32_t bf[4];
        ldmatrix_x4_trans(bf, vb + lds_b_trans<C>(lane, kk * 16, dd * 16));
#pragma unroll
        for (int mt = 0; mt < MT; ++mt) mma_bf16_pair(o_acc[mt][2 * dd], o_acc[mt][2 * dd + 1], pa[mt], bf);
      }
    }
  }
  cp_async_wait<0>();

  // o = o / l;  lse = (m * scale) + log(l)
  __nv_bfloat16* o = p.o + b * p.os.batch + h * p.os.head;
  float* lse = p.lse + b * p.lse_batch + h * p.lse_head;
#pragma unroll
  for (int mt = 0; mt < MT; ++mt) {
#pragma unroll
    for (int i = 0; i < 2; ++i) {
      float l = row_sum[mt][i];
      l += __shfl_xor_sync(0xffffffffu, l, 1);
      l += __shfl_xor_sync(0xffffffffu, l, 2);
      const float inv = l > 0.f ? 1.f / l : 0.f;
      const int row = row_lo + mt * 16 + i * 8;
      if (row < p.seqlen_q) {
        if ((lane & 3) == 0) {
          lse[row] = l > 0.f ? (row_max[mt][i] * p.scale_log2 + __log2f(l)) * kLn2 : -INFINITY;
        }
        __nv_bfloat16* orow = o + row * p.os.row + 2 * (lane & 3);
#pragma unroll
        for (int t = 0; t < D / 8; ++t) {
          *reinterpret_cast<uint32_t*>(orow + t * 8) =
              pack_bf16(o_acc[mt][t][2 * i] * inv, o_acc[mt][t][2 * i + 1] * inv);
        }
      }
    }
  }
}

template <int D, bool kCausal>
void launch_fwd(const FwdParams& p, int batch, cudaStream_t stream) {
  using Cfg = FwdConfig<D>;
  auto kernel = flash_fwd_kernel<D, kCausal>;
  HCPSIM_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, Cfg::kSmemBytes));
  const int m_blocks = (p.seqlen_q + Cfg::kBlockM - 1) / Cfg::kBlockM;
  FwdParams q = p;
  q.heads_fastest = launch_order_heads_fastest(static_cast<int64_t>(m_blocks) * p.heads_q * batch,
                                               Cfg::kCtasPerSm * num_sms());
  const dim3 grid(q.heads_fastest ? p.heads_q : m_blocks, q.heads_fastest ? m_blocks : p.heads_q, batch);
  kernel<<<grid, Cfg::kThreads, Cfg::kSmemBytes, stream>>>(q);
  HCPSIM_CUDA_CHECK_LAUNCH();
}

}  // namespace

void flash_fwd(const FwdArgs& a, cudaStream_t stream) {
  const AttnShape& s = a.shape;
  check_shape(s);
  check_view(a.q, "q");
  check_view(a.k, "k");
  check_view(a.v, "v");
  check_view(a.o, "o");
  if (a.lse.ptr == nullptr) throw std::invalid_argument("attention: lse must be non-null");
  if (s.seqlen_q == 0) return;
  FwdParams p{};
  p.q = static_cast<const __nv_bfloat16*>(a.q.ptr);
  p.k = static_cast<const __nv_bfloat16*>(a.k.ptr);
  p.v = static_cast<const __nv_bfloat16*>(a.v.ptr);
  p.o = static_cast<__nv_bfloat16*>(a.o.ptr);
  p.lse = a.lse.ptr;
  p.qs = strides_of(a.q);
  p.ks = strides_of(a.k);
  p.vs = strides_of(a.v);
  p.os = strides_of(a.o);
  p.lse_batch = a.lse.batch_stride;
  p.lse_head = a.lse.head_stride;
  p.seqlen_q = s.seqlen_q;
  p.seqlen_kv = s.seqlen_kv;
  p.heads_q = s.heads_q;
  p.group = s.heads_q / s.heads_kv;
  p.causal_offset = s.causal ? s.causal_offset : 0;
  p.scale_log2 = effective_scale(s) * kLog2e;
  if (a.impl == AttnImpl::kWgmma && s.head_dim != 128) {
    throw std::invalid_argument("attention: the wgmma forward supports head_dim 128 only");
  }
  if (s.head_dim == 128 && a.impl != AttnImpl::kMmaSync) {
    flash_fwd_sm90(p, s.batch, s.causal, stream);
  } else if (s.head_dim == 128) {
    s.causal ? launch_fwd<128, true>(p, s.batch, stream) : launch_fwd<128, false>(p, s.batch, stream);
  } else {
    s.causal ? launch_fwd<64, true>(p, s.batch, stream) : launch_fwd<64, false>(p, s.batch, stream);
  }
}

}  // namespace hcpsim::kernels

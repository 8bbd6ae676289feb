// How the flash backward sizes its workspace, in plain C++ (no CUDA), so that the kernels
// (flash_bwd.cu) and the simulator's memory replay (fit/replay_cp.cpp) and tile model
// (cost/attention_tiles.cpp) use one definition.
//
// Workspace: an fp32 dQ accumulator [rows, head_dim], two fp32 row statistics (delta and the
// log2 LSE, rows padded to 4 floats for TMA strides), and, when query heads split over CTAs,
// fp32 dK and dV accumulators; each part 256-byte aligned.
#pragma once
#include <cstdint>

namespace hcpsim::kernels {

// The wgmma backward gives each query head of a KV head its own CTA when the grid of
// (128-key blocks x KV heads x batch) is under this many CTAs (short GQA sequences: 2K keys x
// 8 KV heads is 128 CTAs for 132 SMs), summing dK/dV in fp32 accumulators.
inline constexpr int64_t kBwdHeadSplitBelowCtas = 256;

inline int64_t bwd_align256(int64_t bytes) { return (bytes + 255) / 256 * 256; }
inline int64_t bwd_stat_stride(int64_t seqlen_q) { return (seqlen_q + 3) / 4 * 4; }

// Query heads per KV head that get their own CTA (1: no split).
inline int64_t bwd_head_split(int64_t batch, int64_t seqlen_kv, int64_t heads_q, int64_t heads_kv, int64_t head_dim) {
  const int64_t ctas = (seqlen_kv + 127) / 128 * heads_kv * batch;
  return head_dim == 128 && heads_q > heads_kv && ctas < kBwdHeadSplitBelowCtas ? heads_q / heads_kv : 1;
}

inline int64_t bwd_workspace_bytes(int64_t batch, int64_t seqlen_q, int64_t seqlen_kv, int64_t heads_q,
                                   int64_t heads_kv, int64_t head_dim) {
  const int64_t rows = batch * seqlen_q * heads_q;
  const int64_t kv_elems = batch * seqlen_kv * heads_kv * head_dim;
  const int64_t dkv = bwd_head_split(batch, seqlen_kv, heads_q, heads_kv, head_dim) > 1 ? 2 * bwd_align256(kv_elems * 4) : 0;
  const int64_t stat = batch * heads_q * bwd_stat_stride(seqlen_q) * 4;
  return bwd_align256(rows * head_dim * 4) + 2 * bwd_align256(stat) + dkv;
}

}  // namespace hcpsim::kernels

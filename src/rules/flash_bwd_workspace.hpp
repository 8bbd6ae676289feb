// How hcpsim's flash attention backward lays out its workspace, in plain C++17 (nvcc compiles
// it too), so that the kernels (kernels/flash_bwd.cu) carve the workspace with it, and the
// memory replay of the fit (fit/replay_cp.cpp) and the tile model (cost/attention_tiles.cpp)
// size it with it: one definition.
//
// Workspace, each part starting 256-byte aligned:
//   dq_accum  fp32 dQ accumulator [batch x sq x query heads, head dim]
//   delta     fp32 rowsum(dO * O), [batch x query heads, sq padded to 4 floats (TMA stride)]
//   lse_log2  fp32 log2 of the LSE, same shape as delta
//   dk_accum, dv_accum  fp32 [batch x skv x KV heads x head dim] each, only when the query heads
//             of a KV head split over CTAs (bwd_head_split > 1)
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

// Byte offsets of the workspace's parts and its size.
struct BwdWorkspaceLayout {
  int64_t stat_stride = 0;                         // floats per (batch, head) row of delta and lse_log2
  int64_t dq_accum = 0, delta = 0, lse_log2 = 0;   // offsets
  int64_t dk_accum = 0, dv_accum = 0;              // offsets (meaningful when split)
  int64_t kv_accum_bytes = 0;                      // one of dk_accum, dv_accum, aligned
  bool split = false;
  int64_t total_bytes = 0;
};

inline BwdWorkspaceLayout bwd_workspace_layout(int64_t batch, int64_t seqlen_q, int64_t seqlen_kv, int64_t heads_q,
                                               int64_t heads_kv, int64_t head_dim) {
  BwdWorkspaceLayout w;
  w.stat_stride = bwd_stat_stride(seqlen_q);
  const int64_t stat_bytes = bwd_align256(batch * heads_q * w.stat_stride * 4);
  w.delta = w.dq_accum + bwd_align256(batch * seqlen_q * heads_q * head_dim * 4);
  w.lse_log2 = w.delta + stat_bytes;
  w.dk_accum = w.lse_log2 + stat_bytes;
  w.kv_accum_bytes = bwd_align256(batch * seqlen_kv * heads_kv * head_dim * 4);
  w.dv_accum = w.dk_accum + w.kv_accum_bytes;
  w.split = bwd_head_split(batch, seqlen_kv, heads_q, heads_kv, head_dim) > 1;
  w.total_bytes = w.dk_accum + (w.split ? 2 * w.kv_accum_bytes : 0);
  return w;
}

inline int64_t bwd_workspace_bytes(int64_t batch, int64_t seqlen_q, int64_t seqlen_kv, int64_t heads_q,
                                   int64_t heads_kv, int64_t head_dim) {
  return bwd_workspace_layout(batch, seqlen_q, seqlen_kv, heads_q, heads_kv, head_dim).total_bytes;
}

}  // namespace hcpsim::kernels

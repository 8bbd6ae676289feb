// The schedule facts of Transformer Engine's context-parallel attention that the workload
// builder, hcpcal's CP suite and the memory model all follow (docs/cp-transports.md):
// which chunks a rank owns, and which causal section each ring step computes. Plain C++17:
// nvcc compiles it for hcpcal.
#pragma once

#include <cstdint>

namespace hcpsim {

// DualChunkSwap (TE's attn_forward_func_with_cp): the sequence is cut into 2·CP chunks and
// CP rank r owns chunk r and chunk 2·CP-1-r, in that order (j = 0, 1).
inline int64_t dual_chunk_id(int64_t cp, int64_t rank, int64_t j) { return j == 0 ? rank : 2 * cp - 1 - rank; }

// TE's all_gather forward from 2.18 allocates two outputs: out_f16 = torch.empty(o_shape), which
// sbhd and bshd return, and out = torch.zeros(o_shape), into which THD copies each chunk's valid
// tokens (AttnFuncWithCPAndKVAllGather.forward, for every format); 2.17 allocates the first alone.
// So from 2.18 the forward zeroes one |O| and holds one |O| more while its chunks run, whatever the
// format. One definition for the workload builder and the memory estimate.
inline bool all_gather_zeroes_an_output(int64_t te_major, int64_t te_minor) {
  return te_major > 2 || (te_major == 2 && te_minor >= 18);
}

// Which tokens a ring rank holds (docs/cp-transports.md §1.1): what a causal mask
// leaves of each ring step.
//   Zigzag      DualChunkSwap above: Transformer Engine's and Megatron's, the only one they run
//   Contiguous  rank r holds tokens [r L, (r+1) L) of L = S / n, no balancing (ring-flash-attention's
//               ring_flash_attn_func)
//   Stripe      rank r holds tokens r, r + n, r + 2n, ... (Striped Attention, Brandon et al. 2023,
//               arXiv:2311.09431; ring-flash-attention's stripe_flash_attn_func)
enum class CpLoadBalance : uint8_t { Zigzag, Contiguous, Stripe };

inline const char* to_string(CpLoadBalance b) {
  switch (b) {
    case CpLoadBalance::Zigzag: return "zigzag";
    case CpLoadBalance::Contiguous: return "contiguous";
    case CpLoadBalance::Stripe: return "stripe";
  }
  return "?";
}

// The causal section one p2p ring step computes (TE's AttnFuncWithCPAndKVP2P), of a rank's
// L = 2c tokens:
//   Diagonal  the rank's own KV: 2c x 2c, causal (top-left); with stripes also any lower
//             rank's KV (key stripe s < r: key b precedes query a where b <= a)
//   Lower     KV of a lower ring rank: all 2c query rows x the first c keys, no mask
//   Upper     KV of a higher ring rank: the last c query rows x all 2c keys, no mask
//   All       no causal mask, or (contiguous) a lower rank's KV under one: 2c x 2c
//   Skip      contiguous: a higher rank's KV, which no query of this rank sees: no kernel
//   Below     stripes: a higher rank's KV (key stripe s > r: key b precedes query a where b < a):
//             causal without the diagonal, (2c - 1) x (2c - 1) causal (query rows 1.., keys ..2c-2)
enum class RingSection : uint8_t { Diagonal, Lower, Upper, All, Skip, Below };

inline const char* to_string(RingSection s) {
  switch (s) {
    case RingSection::Diagonal: return "diag";
    case RingSection::Lower: return "lower";
    case RingSection::Upper: return "upper";
    case RingSection::All: return "full";
    case RingSection::Skip: return "skip";
    case RingSection::Below: return "below";
  }
  return "?";
}

// Forward step i of ring rank r (ring of n) attends to the KV of rank (r - i) mod n: a lower
// rank's where i <= r, a higher one's after.
inline RingSection ring_forward_section(int64_t n, int64_t rank, int64_t step, bool causal,
                                        CpLoadBalance order = CpLoadBalance::Zigzag) {
  (void)n;
  if (!causal) return RingSection::All;
  if (step == 0) return RingSection::Diagonal;
  const bool lower = step <= rank;
  switch (order) {
    case CpLoadBalance::Zigzag: break;
    case CpLoadBalance::Contiguous: return lower ? RingSection::All : RingSection::Skip;
    case CpLoadBalance::Stripe: return lower ? RingSection::Diagonal : RingSection::Below;
  }
  return lower ? RingSection::Lower : RingSection::Upper;
}

// Backward step i runs forward step n-1-i: rank r holds the KV of rank (r + 1 + i) mod n.
inline RingSection ring_backward_section(int64_t n, int64_t rank, int64_t step, bool causal,
                                         CpLoadBalance order = CpLoadBalance::Zigzag) {
  return ring_forward_section(n, rank, n - 1 - step, causal, order);
}

}  // namespace hcpsim

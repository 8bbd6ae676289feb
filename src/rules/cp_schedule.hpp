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

// The causal section one p2p ring step computes (TE's AttnFuncWithCPAndKVP2P):
//   Diagonal  the rank's own KV: 2c x 2c, causal
//   Lower     KV of a lower ring rank: all 2c query rows x the first c keys, no mask
//   Upper     KV of a higher ring rank: the last c query rows x all 2c keys, no mask
//   All       no causal mask at all: 2c x 2c
enum class RingSection : uint8_t { Diagonal, Lower, Upper, All };

inline const char* to_string(RingSection s) {
  switch (s) {
    case RingSection::Diagonal: return "diag";
    case RingSection::Lower: return "lower";
    case RingSection::Upper: return "upper";
    case RingSection::All: return "full";
  }
  return "?";
}

// Forward step i of ring rank r (ring of n) attends to the KV of rank (r - i) mod n.
inline RingSection ring_forward_section(int64_t n, int64_t rank, int64_t step, bool causal) {
  (void)n;
  if (!causal) return RingSection::All;
  if (step == 0) return RingSection::Diagonal;
  return step <= rank ? RingSection::Lower : RingSection::Upper;
}

// Backward step i runs forward step n-1-i: rank r holds the KV of rank (r + 1 + i) mod n.
inline RingSection ring_backward_section(int64_t n, int64_t rank, int64_t step, bool causal) {
  if (!causal) return RingSection::All;
  if (step == n - 1) return RingSection::Diagonal;
  return step >= n - 1 - rank ? RingSection::Lower : RingSection::Upper;
}

}  // namespace hcpsim

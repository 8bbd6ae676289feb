// Memory held by context-parallel attention beyond the layer's saved Q, K, V, O and LSE
// (memory_activations.hpp), per rank, for one layer, following cp-semantics.md §2.2, §2.5,
// §3, §4, §5 and the table in §6. Read from TE's context_parallel.py, not measured (§10).
//
// Tensor sizes (cp-semantics.md notation): L = S/CP local tokens, b = micro batch,
// hq, hk = heads per TP rank (hk = 1 when TP > num_query_groups), d = kv_channels, e = 2:
//   |Q| = |O| = b*L*hq*d*e,  |K| = |V| = b*L*hk*d*e,  X = |K|+|V|,  |LSE| = b*hq*L*4.
// After an a2a (a2a, a2a+p2p) a rank holds S/A tokens (or S) with hk/A heads: same bytes.
//
// Forward (transient while one layer's core attention runs):
//   p2p, ring of N:   N*X        all N KV receive buffers (buffer 0 = the cat copy of the own
//                                KV) stay in p2p_comm_buffers until forward returns
//                   + sum out_i  per-step outputs: |O| for the diagonal and lower steps, |O|/2
//                                for upper steps; rank r runs r lower and N-1-r upper steps,
//                                so the worst rank (r = N-1) holds N*|O|
//                   + sum lse_i  fp32 per-step LSEs, likewise N*|LSE| on the worst rank
//   all_gather:       X (K and V moved to sequence-first) + 2N*X (gathered K, V and their
//                     reordered copy, alive together during the index_select)
//   a2a:              (|Q|+X) post-a2a q, k, v beside the caller's local q, k, v
//                   + max(2*max(|Q|,|K|), 3|O|): input stage: the in-flight tensor's
//                     contiguous pre-copy and a2a output; output stage: the post-a2a out kept
//                     for backward, its reordered copy and the a2a output
//   a2a+p2p (A, P):   (|Q|+X) + max(2*max(|Q|,|K|), p2p(P) + 2|O|): the ring of P on post-a2a
//                     tensors; its buffers are locals of forward and still alive during the
//                     out a2a (an inference from the code, as for p2p)
// Backward work buffers (everything the attention backward allocates except the incoming dO):
//   p2p, ring of N:   4X (two [2, KV] buffers: KV and dKV, ping-ponged) + |Q| (dq_buffer)
//                   + |Q| + X (one step's dq_, dk_, dv_ kernel outputs)
//   all_gather:       3N*X (re-gathered reordered KV, zero-initialised full-length dK and dV,
//                     one chunk's dk/dv over its visible prefix, at most full length) + |Q|
//   a2a:              |O| (post-a2a dO) + 2(|Q|+X) (post-a2a dq, dk, dv and the local ones
//                     returned) + 2*max(|Q|,|K|) (pre-copy and a2a output in flight)
//   a2a+p2p:          |O| + max(the a2a stage above without its |O|, p2p backward of P)
// CP = 1 (no CP path): forward 0, backward |Q| + X (dQ, dK, dV of the flash backward).
// Saved in addition per layer (no recompute): a2a and a2a+p2p keep their post-a2a out (|O|)
// as well as the local O the output projection keeps; p2p and all_gather return the
// tensor they save.
#pragma once

#include <cstdint>

#include "scenario.hpp"

namespace hcpsim {

struct CpTensorBytes {
  double q = 0, k = 0, v = 0, o = 0, lse = 0;
  double kv() const { return k + v; }
};

// |Q|, |K|, |V|, |O|, |LSE| of one rank's local tokens.
CpTensorBytes cp_tensor_bytes(const Scenario& s);

struct CpBufferBytes {
  double fwd_bytes = 0;                   // transient peak during one layer's forward attention
  double bwd_bytes = 0;                   // work buffers during one layer's backward attention
  double saved_extra_per_layer_bytes = 0; // kept to backward beyond Q, K, V, O, LSE
};

CpBufferBytes cp_buffer_bytes(const Scenario& s);

// p2p ring forward buffers of ring rank r in a ring of n (n*X + outputs + LSEs), exposed
// for tests and for per-rank reports; cp_buffer_bytes uses the worst rank r = n-1.
double p2p_forward_bytes(const CpTensorBytes& t, int64_t n, int64_t r, bool causal);

}  // namespace hcpsim

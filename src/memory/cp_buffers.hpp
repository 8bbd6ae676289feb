// Memory held by context-parallel attention beyond the layer's saved Q, K, V, O and LSE
// (memory_activations.hpp), per rank, for one layer, following docs/cp-transports.md §2.2, §2.5,
// §3, §4, §5 and the table in §6. Read from TE's context_parallel.py; checked on the H200 only
// against hcpcal's re-implementation of those schedules (hcpsim's kernels), not against TE
// itself (§10).
//
// Tensor sizes (docs/cp-transports.md notation): L = S/CP local tokens, b = micro batch,
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
//   all_gather:       max(max(X + N*X, N*X + N|K|) - |O| - |LSE|, N*X + |O|): the gather stage
//                     (seq-first copies X beside the gathered K, V; then one reordered copy
//                     N|K| at a time) or the kernel stage (reordered K, V and the two
//                     half-size chunk outputs, |O|, beside out and lse, which callers count;
//                     packed documents (THD): two full-size outputs, 2|O|; from TE 2.18 a second,
//                     zeroed output, |O| more, rules/cp_schedule.hpp)
//   a2a:              (|Q|+X) post-a2a q, k, v beside the caller's local q, k, v
//                   + max(2*max(|Q|,|K|), 3|O|): input stage: the in-flight tensor's
//                     contiguous pre-copy and a2a output; output stage: the post-a2a out kept
//                     for backward, its reordered copy and the a2a output
//   a2a+p2p (A, P):   (|Q|+X) + max(2*max(|Q|,|K|), p2p(P) + |O|): the ring of P on post-a2a
//                     tensors and its merged out (measured on the H200, calibrate/results/
//                     h200-v3-cp-measurements.json: no further |O| beside them)
// Backward work buffers (everything the attention backward allocates except the incoming dO;
// ws(tile) = the attention backward kernel's workspace for that tile shape, 0 unless given):
//   p2p, ring of N:   4X (two [2, KV] buffers: KV and dKV, ping-ponged) + |Q| (dq_buffer)
//                   + |LSE|/2 (contiguous second half of the LSE for upper steps, causal, §2.5)
//                   + max over the rank's steps of the kernel outputs dq_, dk_, dv_ (diagonal
//                     |Q| + X, lower |Q| + X/2, upper |Q|/2 + X) + ws(step's tile)
//   all_gather:       max(re-gather as forward; per chunk: reordered K, V N*X + zeroed full-length
//                     dK, dV N*X + dq chunks so far (|Q|/2 each) + the chunk's dk, dv over its
//                     visible prefix + ws; reorder N*X + |Q| + N|K|; reduce-scatter outputs
//                     N*X + |Q| + X); THD: per chunk the zeroed dQ |Q| and the chunks' full-size
//                     dq, dk, dv so far (|Q| + N*X each, TE's per-step lists) instead, and all of
//                     them with the gathered K, V in the reorder and reduce-scatter stages
//   a2a:              |O| (post-a2a dO) + (|Q|+X) (post-a2a dq, dk, dv) + max(ws(S x S), the out
//                     stage: the local dq, dk returned so far and the one in flight: 2|Q|,
//                     |Q| + 3|K|)
//   a2a+p2p:          |O| + max(the a2a out stage above, p2p backward of P on post-a2a tiles)
// (the stage-by-stage lifetimes measured on the H200 with hcpsim's kernels, calibrate/results/
// h200-v3-cp-measurements.json, every rank within 0.01%; hcpcal frees each all_gather chunk's dk, dv
// after its add, where TE keeps them in per-step lists to the end: X/2 more on rank 0's sbhd
// backward, not modelled; THD follows TE's code, cp_buffers.cpp)
// CP = 1 (no CP path): forward 0, backward |Q| + X (dQ, dK, dV of the flash backward).
// Saved in addition per layer (no recompute): a2a and a2a+p2p keep their post-a2a out (|O|)
// as well as the local O the output projection keeps; p2p and all_gather return the
// tensor they save.
#pragma once

#include <cstdint>

#include <functional>

#include "scenario/scenario.hpp"
#include "workload/workload.hpp"

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

// The same for flat CP rank `cp_rank` (p2p and a2a+p2p differ by ring rank: rank r of a
// ring of N runs r lower and N-1-r upper steps); cp_buffer_bytes is the worst rank, CP-1.
// Bytes the attention backward kernel allocates for a tile (a workspace); empty = none
// (TE's cuDNN backend: not modelled).
using BwdWorkspace = std::function<double(const AttentionShape&)>;

CpBufferBytes cp_buffer_bytes_of_rank(const Scenario& s, int64_t cp_rank, const BwdWorkspace& ws = {});

// Peak bytes of one rank over one core-attention pass, in the scope hcpcal's cp suite
// measures (a pool per virtual rank):
//   fwd: the rank's inputs q, k, v + what the forward allocates (fwd_bytes of the rank)
//        + its outputs o (input dtype) and lse (fp32), where the buffer formula above does
//        not hold them already: p2p and all_gather: + |O| + |LSE| (the merged out and lse,
//        §2.4, §3); a2a and a2a+p2p: + |LSE| (the local o is the out a2a's output, counted).
//   bwd: the inputs q, k, v, o, lse, dO + what the backward allocates (bwd_bytes) + its
//        outputs dq, dk, dv, all counted there: p2p returns dq_buffer and the dKV slot (§2.5),
//        a2a(+p2p) the a2a outputs, all_gather the reduce-scatter outputs (§3).
//        CP = 1: the inputs, the kernel's outputs (o, lse or dq, dk, dv).
double cp_pass_peak_bytes(const Scenario& s, int64_t cp_rank, bool backward, const BwdWorkspace& ws = {});

// p2p ring forward buffers of ring rank r in a ring of n (n*X + outputs + LSEs), exposed
// for tests and for per-rank reports; cp_buffer_bytes uses the worst rank r = n-1.
double p2p_forward_bytes(const CpTensorBytes& t, int64_t n, int64_t r, bool causal);

}  // namespace hcpsim

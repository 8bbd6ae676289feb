// Host API of hcpsim's CUDA attention kernels for context parallelism.
//
// Layout "bshd": every Q/K/V/O-like tensor is [batch, seq, heads, head_dim] with head_dim
// contiguous (stride 1) and the other three strides given in elements, so a caller can
// address a sub-range of rows or heads with a pointer offset and no copy. LSE tensors are
// fp32 [batch, heads, seq] with seq contiguous. See cp_steps.h for the CP step shapes.
//
// Every function launches on the given stream, checks its launch and throws CudaError on a
// CUDA failure or std::invalid_argument on arguments the kernels do not support.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cuda_runtime.h>

#include "cuda_check.h"

namespace hcpsim::kernels {

// A bshd view of bf16 elements (pointer to element [0, 0, 0, 0] of the view).
struct BshdView {
  void* ptr = nullptr;
  int64_t batch_stride = 0;  // elements
  int64_t row_stride = 0;    // elements between consecutive sequence positions
  int64_t head_stride = 0;   // elements
};

// A [batch, heads, seq] fp32 view with seq contiguous.
struct LseView {
  float* ptr = nullptr;
  int64_t batch_stride = 0;  // elements
  int64_t head_stride = 0;   // elements
};

struct AttnShape {
  int batch = 1;
  int seqlen_q = 0;
  int seqlen_kv = 0;
  int heads_q = 0;
  int heads_kv = 0;   // heads_q % heads_kv == 0 (GQA: heads_q / heads_kv query heads per KV head)
  int head_dim = 0;   // 64 or 128
  bool causal = false;  // top-left aligned: query row i sees key columns 0..i
  float softmax_scale = 0.f;  // 0 means 1/sqrt(head_dim)
  // With causal: query row i sees key columns 0..i+causal_offset (>= 0). 0 is top-left;
  // seqlen_kv - seqlen_q is bottom-right (a Q chunk against the KV prefix it can see, as
  // all_gather CP runs it, docs/cp-transports.md §3).
  int causal_offset = 0;
};

// Which kernel runs: the warpgroup-MMA kernels (sm_90a, head_dim 128 only) or the mma.sync
// kernels (any supported head_dim). kAuto picks wgmma where it applies.
enum class AttnImpl { kAuto, kMmaSync, kWgmma };

struct FwdArgs {
  AttnShape shape;
  BshdView q, k, v;  // inputs, bf16
  BshdView o;        // output, bf16, heads_q heads
  LseView lse;       // output, fp32 natural-log log-sum-exp of the scaled scores, [b, hq, sq]
  AttnImpl impl = AttnImpl::kAuto;
};

struct BwdArgs {
  AttnShape shape;
  BshdView q, k, v, o, d_o;  // inputs, bf16 (o and lse as written by the forward)
  LseView lse;
  BshdView dq, dk, dv;        // outputs, bf16; dk/dv summed over each KV head's query heads
  void* workspace = nullptr;  // flash_bwd_workspace_bytes(shape) bytes, 256-byte aligned
  AttnImpl impl = AttnImpl::kAuto;
};

// Forward attention: O = softmax(scale * Q K^T + mask) V, and LSE per query row.
void flash_fwd(const FwdArgs& args, cudaStream_t stream);

// Workspace the backward needs: an fp32 dQ accumulator and the per-row dot(dO, O).
size_t flash_bwd_workspace_bytes(const AttnShape& shape);

// Backward attention: dQ, dK, dV from dO, O and the forward's LSE.
void flash_bwd(const BwdArgs& args, cudaStream_t stream);

}  // namespace hcpsim::kernels

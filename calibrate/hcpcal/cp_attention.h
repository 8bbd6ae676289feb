// hcpcal's context-parallel attention, forward and backward, for the four TE transports
// (docs/cp-transports.md §2-§5), written once against CpTransport (cp_transport.h) for the ranks
// this process drives. Layout bshd, batch 1, causal; rank r holds sequence chunks r and
// 2R-1-r (DualChunkSwap, §1). Every tensor a rank's pass allocates comes from that rank's
// pool at the point TE allocates it and goes back where TE drops it, so the pool's
// high-water mark is the pass's peak (scope: cp_suite.h / results.h). Every attention kernel
// is timed with CUDA events and labelled as hcpsim's workload builder names the op.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "attn_api.h"
#include "cp_transport.h"

namespace hcpcal {

enum class CpKind { kP2p, kAllGather, kA2a, kA2aP2p };
const char* to_string(CpKind k);  // "p2p" | "all_gather" | "a2a" | "a2a+p2p"

struct CpShape {
  CpKind kind = CpKind::kP2p;
  int ranks = 2;        // CP size R
  int a2a = 1, p2p = 1;  // a2a+p2p: inner A and outer P (A * P == R)
  int64_t seq = 0;      // whole sequence S (S % 2R == 0)
  int heads_q = 32, heads_kv = 8, head_dim = 128;
  int local() const { return static_cast<int>(seq / ranks); }  // L = S/R tokens per rank
};

// One pool allocation of a rank (nullptr when empty). `owner` false: a view into another.
struct Buf {
  void* p = nullptr;
  size_t bytes = 0;
  bool owner = true;
  char* c() const { return static_cast<char*>(p); }
};

// Events around every attention kernel of a pass, reused pass after pass in launch order.
class KernelLog {
 public:
  ~KernelLog();
  void start_pass() { next_ = 0; }
  void begin(int rank, const std::string& label, cudaStream_t s);
  void end(cudaStream_t s);
  // After the pass finished: (rank, label, seconds) of every kernel of the pass.
  struct Entry {
    int rank;
    std::string label;
    double s;
  };
  std::vector<Entry> read() const;

 private:
  struct Slot {
    int rank = 0;
    std::string label;
    cudaEvent_t start{}, end{};
  };
  std::vector<Slot> slots_;
  size_t next_ = 0;
};

// What TE saves for the backward, per rank (the backward pass's inputs besides dO): q, the
// K and V the first backward step uses, out and the merged LSE ([hq', L'] fp32). Sizes are
// those of the local tensors for every transport (a2a: the post-a2a tensors).
struct Saved {
  Buf q, k, v, o, lse;
};

// The tensors of one local rank, indexed like CpTransport::local_ranks().
struct CpRank {
  int rank = 0;
  Buf q, k, v;    // forward inputs, L x heads x d bf16 (chunk r, then chunk 2R-1-r)
  Buf o;          // forward output (bf16, L x hq x d)
  Saved saved;    // forward output kept for the backward (saved.lse is the forward's LSE)
  Buf dout;       // backward input
  Buf dq, dk, dv;  // backward outputs (views into pool allocations listed in `keep`)
  std::vector<Buf> keep;  // allocations behind dq/dk/dv, freed with them
};

struct CpContext {
  CpTransport& t;
  CpShape shape;
  KernelLog& log;
  std::vector<CpRank>& ranks;  // local ranks
  Buf alloc(int rank, size_t bytes);          // on the rank's compute stream
  void free(int rank, Buf& b);                // stream-ordered on the compute stream; clears b
};

// One pass of every local rank; returns when it is enqueued (the caller synchronizes).
// forward: reads q, k, v; fills o and saved. backward: reads saved and dout; fills dq, dk, dv.
void cp_forward(CpContext& ctx);
void cp_backward(CpContext& ctx);

}  // namespace hcpcal

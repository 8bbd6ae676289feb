// Megatron-LM's data-parallel gradient buckets: which parameters reduce (and, with the
// distributed optimizer, gather) together, and when in the pass each bucket can go. One definition
// for the step's program (workload/step_ops.cpp), its composition (run/step_composition.cpp) and
// their tests.
//
// Megatron-LM (megatron/core/distributed/distributed_data_parallel.py, DistributedDataParallel;
// param_and_grad_buffer.py, _compute_default_per_buffer_param_layout; read at d98e8a6, 2026-08):
// - the bucket size is max(40M, 1M x |DP x CP|) parameters (training.py, resolve_ddp_bucket_size,
//   called with the DP x CP group), so that NCCL's ring chunks stay bandwidth-bound at large DP;
// - a model chunk's parameters are walked in reverse of their registration order (the order the
//   backward produces their gradients) and a bucket closes as soon as it holds at least that many;
//   no parameter is split, so a tensor larger than the bucket size is a bucket of its own;
// - only the first pipeline stage's first model chunk is bucketed: every other stage (pp_rank > 0,
//   "not on the critical path") and every later virtual chunk (training.py, disable_bucketing for
//   model_chunk_idx > 0) is a single bucket.
// A bucket's reduce starts when its last gradient is ready (in the micro batch's last backward
// through the chunk); with the distributed optimizer its all-gather must be done before its first
// parameter is used in the next step's forward.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace hcpsim::rules {

// Megatron's default bucket size, in parameters, for a gradient-reduction group (DP x CP) of dp_cp ranks.
inline int64_t ddp_bucket_params(int64_t dp_cp) { return std::max<int64_t>(40'000'000, 1'000'000 * dp_cp); }

// Whether Megatron splits this (pipeline stage, virtual chunk)'s parameters into buckets of
// ddp_bucket_params, or keeps them in one.
inline bool ddp_chunk_bucketed(int64_t pp_rank, int64_t chunk) { return pp_rank == 0 && chunk == 0; }

// One parameter tensor of a model chunk, in registration order: its element count, whether it is
// a GEMM's weight (Transformer Engine's Linears: gathered in fp8 under fp8_param_gather), when in
// the chunk's backward its gradient is ready (0 its start, 1 its end) and when in the chunk's
// forward it is first used (0 its start).
struct DdpParam {
  int64_t numel = 0;
  bool gemm_weight = false;
  double grad_ready = 1;
  double first_used = 0;
};

// A bucket: its parameters (of them GEMM weights), when its last gradient is ready (a fraction of
// the chunk's backward) and when its first parameter is used (a fraction of the chunk's forward).
struct DdpBucket {
  int64_t params = 0;
  int64_t gemm_params = 0;
  double grad_ready = 1;
  double first_used = 0;
};

// The chunk's buckets in the order Megatron forms and reduces them (reverse registration order);
// bucket_params <= 0: one bucket of everything.
inline std::vector<DdpBucket> ddp_buckets(const std::vector<DdpParam>& registered, int64_t bucket_params) {
  std::vector<DdpBucket> out;
  DdpBucket open;
  bool any = false;
  for (auto p = registered.rbegin(); p != registered.rend(); ++p) {
    open.params += p->numel;
    if (p->gemm_weight) open.gemm_params += p->numel;
    open.grad_ready = any ? std::max(open.grad_ready, p->grad_ready) : p->grad_ready;
    open.first_used = any ? std::min(open.first_used, p->first_used) : p->first_used;
    any = true;
    if (bucket_params > 0 && open.params >= bucket_params) {
      out.push_back(open);
      open = DdpBucket{};
      any = false;
    }
  }
  if (any) out.push_back(open);
  return out;
}

// The chunk's bucket groups (what Megatron reduces and gathers as one): its buckets, but with fp8
// primary weights (fp8_param_gather) the GEMM weights sit in a uint8 buffer of their own, bucketed
// apart from the rest, and every other bucket (norms, embedding, output layer) joins the fp8
// buffer's last bucket group (param_and_grad_buffer.py, partition_buckets, "Case 3"): it is ready
// when the chunk's last gradient is and needed where its first parameter is.
inline std::vector<DdpBucket> ddp_bucket_groups(const std::vector<DdpParam>& registered, int64_t bucket_params,
                                                bool fp8_params) {
  if (!fp8_params) return ddp_buckets(registered, bucket_params);
  std::vector<DdpParam> fp8, rest;
  for (const DdpParam& p : registered) (p.gemm_weight ? fp8 : rest).push_back(p);
  std::vector<DdpBucket> groups = ddp_buckets(fp8, bucket_params);
  const std::vector<DdpBucket> others = ddp_buckets(rest, bucket_params);
  if (groups.empty()) return others;
  DdpBucket& last = groups.back();
  for (const DdpBucket& o : others) {
    last.params += o.params;
    last.gemm_params += o.gemm_params;
    last.grad_ready = std::max(last.grad_ready, o.grad_ready);
    last.first_used = std::min(last.first_used, o.first_used);
  }
  return groups;
}

}  // namespace hcpsim::rules

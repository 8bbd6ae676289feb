// Composing a training step from what was simulated (one layer forward and backward on every
// rank, the step-level ops once, and with pipeline parallelism one stage-to-stage transfer each
// way) — Megatron's schedules with overlap_grad_reduce and overlap_param_gather on:
//
//   stage s, chunk c, per micro batch   fwd = layers(s, c) x layer_fwd (+ embedding on stage 0
//                                        chunk 0, + LM head and loss on the last stage's last chunk)
//                                        bwd likewise
//   the pipeline: every stage runs its forwards and backwards in Megatron's 1F1B or interleaved
//   order, each waiting for its input from the neighbouring stage (run/pipeline_timing.hpp);
//   PP = 1 is one stage: M x (fwd + bwd).
//   step = max over stages (the end of the stage's gradient reduces, at least its last backward's)
//          + the largest optimizer step (it starts with a gradient-norm all-reduce over every
//          stage); the schedule includes each stage's wait for its parameter all-gathers
//
// DP buckets (Megatron's, rules/ddp_buckets.hpp; with overlap_grad_reduce and, with the
// distributed optimizer, overlap_param_gather). A bucket's gradients are ready at its grad_ready
// fraction of its chunk's last backward; the stage's buckets reduce one after another on its DP
// stream in the order they become ready; what runs past the stage's last backward is exposed.
// The interleaved schedule launches a chunk's reduce (align_grad_reduce, Megatron's default) when the stage's backward
// pp_rank passes after that chunk's last one ends (schedules.py, backward_step_helper_postprocess),
// or at the stage's end. Parameter buckets are gathered one after another in the order the
// forward uses them: with the interleaved schedule (align_param_gather) the first two chunks' from
// the schedule's start and chunk c's when the stage starts the forward pp_rank passes before chunk
// c - 1's first (forward_step_helper_preprocess); otherwise lazily, from the stage's first forward
// (the first bucket's forward pre-hook waits for it and starts the next). A bucket is needed at
// its first_used fraction of its chunk's first forward; the latest a gather finishes past that is
// how long the stage's first forward waits, and the schedule is timed again with that wait: the
// step's exposed gather is how much later it ends. Without overlap_grad_reduce every bucket reduces
// after the stage's last backward; without overlap_param_gather the distributed optimizer gathers
// every bucket after its step, all of it exposed.
//
// The CPU launches every kernel and NCCL call in program order (rules/host_launch.hpp), pass by
// pass: a pass (a chunk's forward or backward of one micro batch) cannot end before the CPU has
// launched its kernels, forward_launches or backward_launches x host_per_launch_s after the CPU
// started on it, and its first kernel waits for one launch (run/pipeline_timing.hpp). The CPU runs
// ahead of the GPU where it can (a fast backward makes up for a slow forward's launches), except
// across Megatron's host synchronisation after every 1F1B stage-to-stage transfer, where it
// starts on the next pass only when the GPU is there. host_wait_s is how much later the schedule
// ends than the GPUs alone would end it; host_bound says whether any of that is the CPU's launch
// rate (beyond the one launch a pass waits for after a synchronisation). The optimizer's few
// launches follow the gradient norm's host sync and are not counted, nor are the DP buckets' few.
#pragma once

#include <cstdint>
#include <vector>

#include "rules/pipeline.hpp"
#include "run/pipeline_timing.hpp"

namespace hcpsim {

// One DP bucket of a stage: its model chunk, when its gradients are ready (a fraction of the
// chunk's last backward) and when its first parameter is used (of the chunk's first forward), its
// reduce (reduce-scatter, or all-reduce without the distributed optimizer) and its gather (0
// without the distributed optimizer) as simulated.
struct DpBucket {
  int64_t chunk = 0;
  double grad_ready = 1, first_used = 0;
  double grad_reduce_s = 0, param_gather_s = 0;
  friend bool operator==(const DpBucket&, const DpBucket&) = default;
};

// One pipeline stage's share of the step (PP = 1: the only stage, which holds everything).
struct StageInputs {
  std::vector<int64_t> chunk_layers;                 // transformer layers of each model chunk
  // Of those, the layers whose backward skips the simulated layer's re-run forward: under full
  // recompute with recompute_method "block", those past a chunk's first N (rules/recompute.hpp).
  // Empty: none.
  std::vector<int64_t> chunk_layers_without_rerun;
  double extra_forward_s = 0, extra_backward_s = 0;  // embedding (first stage) / head + loss (last), per micro batch
  double send_forward_s = 0, send_backward_s = 0;    // its activation to the next stage, its gradient to the previous
  // What a micro batch's forward / backward waits for the activation offload's copies
  // (rules/activation_offload.hpp; PP = 1 alone), counted with the embedding / head
  double offload_forward_s = 0, offload_backward_s = 0;
  std::vector<DpBucket> dp_buckets;  // empty: no DP
  double optimizer_s = 0;
  // kernels and NCCL calls the CPU launches for one micro batch's forward / backward through each
  // chunk ([chunk]; empty: the CPU is not modelled)
  std::vector<int64_t> forward_launches, backward_launches;
  int64_t layers() const;
  double grad_reduce_s() const;   // all its buckets' reduce, back to back
  double param_gather_s() const;  // all its buckets' gather, back to back
  int64_t host_launches() const;  // a micro batch's launches on this stage, every chunk's both ways
  friend bool operator==(const StageInputs&, const StageInputs&) = default;
};

struct StepInputs {
  int64_t layers = 0;        // transformer layers of the model
  int64_t microbatches = 0;  // per DP rank
  double layer_forward_s = 0, layer_backward_s = 0;  // one layer, slowest rank
  double layer_rerun_s = 0;  // of its backward, the re-run forward of full recompute (0 without)
  PipelineSpec pipeline;     // stages, virtual stages, overlap_p2p_comm (PP = 1: one stage)
  double host_per_launch_s = 0;  // the CPU's time to launch one (rules/host_launch.hpp)
  bool overlap_grad_reduce = true, overlap_param_gather = true;  // ParallelSpec's (Megatron's switches)
  std::vector<StageInputs> stages;
  friend bool operator==(const StepInputs&, const StepInputs&) = default;
};

struct StepTime {
  double step_s = 0;
  double microbatch_forward_s = 0, microbatch_backward_s = 0;  // one micro batch through every stage, compute only
  double pipeline_s = 0;          // the schedule: first forward (with its wait for parameters) to last backward
  double bubble_fraction = 0;     // idle share of the busiest stage over the schedule without the parameters' waits and
                                  // the CPU's launches (0 with PP = 1)
  double grad_reduce_exposed_s = 0, param_gather_exposed_s = 0, optimizer_s = 0;
  double host_launch_s = 0;  // the CPU's time to launch the busiest stage's micro batches
  int64_t host_launches = 0;  // a micro batch's launches on that stage
  int64_t host_forward_launches = 0, host_backward_launches = 0;  // of which forward / backward (every chunk's)
  bool host_bound = false;   // the CPU's launch rate delayed the schedule's end
  double host_wait_s = 0;    // how much later the schedule ended than the GPUs alone would end it
  friend bool operator==(const StepTime&, const StepTime&) = default;
};

// The chunk of stage `stage` (of `chunks`) whose passes carry the embedding (the first stage's
// first chunk) or the LM head and loss (the other stages' last chunk: the last stage's holds them).
inline size_t extra_chunk(size_t stage, size_t chunks) { return stage == 0 ? 0 : chunks - 1; }

// The schedule's input: each (stage, chunk)'s forward and backward of one micro batch.
PipelineTimingInput pipeline_timing_input(const StepInputs& in);

StepTime compose_step(const StepInputs& in);
// The same, also returning the schedule it timed (for traces and reports).
StepTime compose_step(const StepInputs& in, PipelineTiming& timing);

}  // namespace hcpsim

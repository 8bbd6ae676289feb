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
//   step = max over stages (stage's last backward end + its exposed gradient reduce-scatter)
//          + the largest optimizer step (it starts with a gradient-norm all-reduce over every
//          stage) + the largest exposed parameter all-gather
//
// A stage's gradient buckets become ready evenly through its last backward (bucket b at (b+1)/B
// of it) and reduce one after another on the DP stream; what runs past the end of that backward
// is exposed. Parameter buckets are gathered one after another at the start of the next step;
// bucket b is needed b/B of the way into the stage's first forward; waiting for it is exposed.
// With virtual stages every chunk's buckets are taken as ready in the stage's last backward
// (Megatron starts a chunk's reduce when its own last backward ends): an upper end for the
// exposed part.
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

// One pipeline stage's share of the step (PP = 1: the only stage, which holds everything).
struct StageInputs {
  std::vector<int64_t> chunk_layers;                 // transformer layers of each model chunk
  double extra_forward_s = 0, extra_backward_s = 0;  // embedding (first stage) / head + loss (last), per micro batch
  double send_forward_s = 0, send_backward_s = 0;    // its activation to the next stage, its gradient to the previous
  double grad_reduce_s = 0;   // all its buckets' reduce-scatter (or all-reduce), back to back
  double param_gather_s = 0;  // all its buckets' all-gather (0 without the distributed optimizer)
  double optimizer_s = 0;
  // kernels and NCCL calls the CPU launches for one micro batch's forward / backward through each
  // chunk ([chunk]; empty: the CPU is not modelled)
  std::vector<int64_t> forward_launches, backward_launches;
  int64_t buckets = 1;
  int64_t layers() const;
  int64_t host_launches() const;  // a micro batch's launches on this stage, every chunk's both ways
  friend bool operator==(const StageInputs&, const StageInputs&) = default;
};

struct StepInputs {
  int64_t layers = 0;        // transformer layers of the model
  int64_t microbatches = 0;  // per DP rank
  double layer_forward_s = 0, layer_backward_s = 0;  // one layer, slowest rank
  PipelineSpec pipeline;     // stages, virtual stages, overlap_p2p_comm (PP = 1: one stage)
  double host_per_launch_s = 0;  // the CPU's time to launch one (rules/host_launch.hpp)
  std::vector<StageInputs> stages;
  friend bool operator==(const StepInputs&, const StepInputs&) = default;
};

struct StepTime {
  double step_s = 0;
  double microbatch_forward_s = 0, microbatch_backward_s = 0;  // one micro batch through every stage, compute only
  double pipeline_s = 0;          // the schedule: first forward to last backward
  double bubble_fraction = 0;     // idle share of the busiest stage over the schedule (0 with PP = 1)
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

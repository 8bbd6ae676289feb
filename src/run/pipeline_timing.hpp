// Timing a pipeline schedule from stage-level work: every stage runs its forwards and backwards
// in Megatron's order (rules/pipeline.hpp); an op starts when the stage is free and its input
// has arrived — the forward of micro batch i through virtual stage g needs g - 1's forward of i
// plus the activation transfer, the backward needs g + 1's backward of i plus the gradient
// transfer. Without overlap_p2p_comm (and always with 1F1B, where Megatron turns it off) the sending
// stage is held for the transfer too (Megatron's blocking batched isend/irecv); with it, only the
// receiver waits. Pure arithmetic, no SimGrid:
// O(stages x micro batches x virtual stages).
#pragma once

#include <cstdint>
#include <vector>

#include "rules/pipeline.hpp"

namespace hcpsim {

struct PipelineTimingInput {
  PipelineSpec spec;
  int64_t microbatches = 1;
  std::vector<std::vector<double>> forward_s, backward_s;  // [stage][chunk]: one micro batch
  std::vector<double> send_forward_s, send_backward_s;     // [stage]: its activation out, its gradient out
  // The CPU that launches each stage's passes, in the stage's order (rules/host_launch.hpp); empty:
  // not modelled. A pass's kernels cannot run before the CPU has launched them: its first waits for
  // one launch (first_launch_s) after the CPU starts on the pass, it ends no sooner than the CPU's
  // last launch of it. The CPU starts on a pass when it has launched the one before, and, where
  // spec.host_syncs_per_transfer(), not before a transfer into the pass or out of the one before
  // it has completed on the GPU (Megatron's torch.cuda.synchronize after a batched send/receive).
  std::vector<std::vector<double>> forward_launch_s, backward_launch_s;  // [stage][chunk]: the CPU's time for one pass
  double first_launch_s = 0;
  // Parameters' all-gathers (run/step_composition.hpp), empty: none. [stage]: how long the
  // stage's first forward waits on its GPU before it runs (gathered lazily); [stage][chunk] (an
  // empty stage: none): the earliest the chunk's first forward on the stage starts (gathered
  // from the schedule's start or ahead).
  std::vector<double> first_forward_wait_s;
  std::vector<std::vector<double>> chunk_first_forward_not_before_s;
};

struct PipelineEvent {
  int64_t stage = 0;
  PipelineSlot slot;
  double start_s = 0, end_s = 0;
};

struct StageTiming {
  double first_start_s = 0;      // its first forward starts
  double end_s = 0;              // its last backward ends
  double busy_s = 0;             // compute: the sum of its ops
  double first_forward_s = 0;    // duration of its first forward (the parameter gather's window)
  double last_backward_s = 0;    // duration of its last backward (the gradient buckets' window)
  double host_launch_s = 0;      // the CPU's time launching its passes
  int64_t host_paced = 0;        // passes whose end the CPU's launches set, not the GPU's work
};

struct PipelineTiming {
  double makespan_s = 0;         // from 0 (stage 0's first forward, or its CPU's first launch) to the last backward's end
  double bubble_fraction = 0;    // 1 - busiest stage's compute / makespan
  std::vector<StageTiming> stages;
  std::vector<PipelineEvent> events;  // every op, by stage then order
};

PipelineTiming time_pipeline(const PipelineTimingInput& in);

}  // namespace hcpsim

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
};

struct PipelineTiming {
  double makespan_s = 0;         // first forward start to last backward end, over all stages
  double bubble_fraction = 0;    // 1 - busiest stage's compute / makespan
  std::vector<StageTiming> stages;
  std::vector<PipelineEvent> events;  // every op, by stage then order
};

PipelineTiming time_pipeline(const PipelineTimingInput& in);

}  // namespace hcpsim

// The once-per-step pieces around the transformer layers:
// vocab-parallel embedding (first pipeline stage), final norm + LM head + vocab-parallel
// cross entropy (last stage; per micro batch, forward and backward), then the data-parallel
// gradient sync of the stage's parameters over the DP x CP group and the optimizer (once per
// step). With PP = 1 the one stage has all of them.
//
// Conventions (Megatron defaults): vocab padded to a multiple of 128 * TP;
// gradients reduced in the grad buffer's type (fp32, or bf16 with parallel.grad_reduce_in_fp32
// off, when the optimizer first casts its shard to fp32) and parameters gathered in bf16;
// DDP buckets of max(40M, 1M * |dp_cp|) parameters, at most kMaxGradBuckets
// of them (bucket boundaries only change overlap, which the step does not
// model: the sync runs after the last backward); Adam on fp32 main params
// touching kAdamBytesPerParam bytes per local parameter. A rank holds
// count_params_per_stage (scenario/model_params.hpp) parameters.
#pragma once

#include "workload/program_builder.hpp"
#include "scenario/scenario.hpp"

namespace hcpsim {

constexpr int64_t kMaxGradBuckets = 4;
// Reads main param, main grad, exp_avg, exp_avg_sq (4 x fp32); writes main
// param, exp_avg, exp_avg_sq (3 x fp32) and the bf16 model param.
constexpr double kAdamBytesPerParam = 4 * 4 + 3 * 4 + 2;

struct StepContext {
  const Scenario* scenario = nullptr;
  int64_t tokens = 0;        // b * S/CP on this rank
  int32_t tp_group = -1;
  int32_t dp_cp_group = -1;
  int64_t dp_cp_size = 1;
  bool embedding = true;  // this rank's stage holds the embedding (the first stage)
  bool head = true;       // ... the final norm, LM head and loss (the last stage)
  double params = 0;      // parameters this rank holds (its stage, its TP shard)
  double gemm_params = 0; // of them, the layers' GEMM weights (TE's Linears)
};

void step_program(ProgramBuilder& b, const StepContext& c);

}  // namespace hcpsim

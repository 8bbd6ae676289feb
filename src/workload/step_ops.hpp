// The once-per-step pieces around the transformer layers:
// vocab-parallel embedding (first pipeline stage), final norm + LM head + vocab-parallel
// cross entropy (last stage; per micro batch, forward and backward), then the data-parallel
// gradient sync of the stage's parameters over the DP x CP group and the optimizer (once per
// step). With PP = 1 the one stage has all of them.
//
// Conventions (Megatron defaults): vocab padded to a multiple of 128 * TP;
// gradients reduced in the grad buffer's type (fp32, or bf16 with parallel.grad_reduce_in_fp32
// off, when the optimizer first casts its shard to fp32) and parameters gathered in bf16;
// Megatron's DDP buckets (rules/ddp_buckets.hpp): the first stage's first chunk in buckets of
// max(40M, 1M x |DP x CP|) parameters (fp8 primary weights apart from the rest), every other (stage, chunk) in one; each distinct bucket is
// simulated once (equal buckets on one group take equal times) and the step's composition
// replays every bucket at its own time (run/step_composition.hpp); Adam on fp32 main params
// touching kAdamBytesPerParam bytes per local parameter. A rank holds
// count_params_per_stage (scenario/model_params.hpp) parameters.
#pragma once

#include <vector>

#include "rules/ddp_buckets.hpp"
#include "scenario/model_params.hpp"
#include "scenario/scenario.hpp"
#include "workload/program_builder.hpp"

namespace hcpsim {

// Reads main param, main grad, exp_avg, exp_avg_sq (4 x fp32); writes main
// param, exp_avg, exp_avg_sq (3 x fp32) and the bf16 model param.
constexpr double kAdamBytesPerParam = 4 * 4 + 3 * 4 + 2;

struct StepContext {
  const Scenario* scenario = nullptr;
  int64_t tokens = 0;        // b * S/CP on this rank
  int32_t tp_group = -1;
  int32_t dp_cp_group = -1;
  int64_t dp_cp_size = 1;
  int64_t stage = 0;      // this rank's pipeline stage
  bool embedding = true;  // this rank's stage holds the embedding (the first stage)
  bool head = true;       // ... the final norm, LM head and loss (the last stage)
  ParamCounts params;     // what this rank holds (its stage, its TP shard; scenario/model_params.hpp)
  std::vector<int64_t> chunk_layers;  // the stage's layers in each of its model chunks
};

// The chunk's parameter tensors in Megatron's registration order (GPTModel: the word embedding;
// per layer linear_proj, linear_qkv's norm weight and weight, linear_fc1's norm weight and weight,
// linear_fc2; the final norm and the output layer), each with when its gradient is ready in the
// chunk's backward and when it is first used in its forward: layer by layer, and within a layer
// by its GEMMs' shares of the layer's GEMM work (the head's gradient at the backward's start, the
// embedding's at its end). With a gated MLP fc1 holds 2/3 of the MLP's weights, else half.
// `stage` gives the tensors' sizes (one TP rank's).
std::vector<rules::DdpParam> chunk_params(const ParamCounts& stage, bool gated_mlp, int64_t layers, bool embedding,
                                          bool head);

// Emits the step's ops; returns the stage's DP buckets (empty without DP).
std::vector<DpBucketOps> step_program(ProgramBuilder& b, const StepContext& c);

}  // namespace hcpsim

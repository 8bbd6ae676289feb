// Megatron-FSDP's collectives (rules/megatron_fsdp.hpp says when Megatron issues each): per
// transformer layer, in its simulated program, the all-gather of the next unit's parameters under
// the layer's forward, and under its backward the all-gather of the unit before it and the
// reduce-scatter of the unit after it (the steady state of a one-unit-ahead prefetch and a
// one-deep reduce-scatter queue, more pessimistic than Megatron's queue of about two layers: each
// layer's forward and backward end waits for them); per micro batch, in the step's program, what no
// layer hides: the first layer's forward gather; the reduce-scatter of the head's gradients (output
// layer, final norm), issued at the backward's start, and the last layer's backward gather queued
// behind it on the one communicator; the reduce-scatter of the first layer and the embedding at the
// backward's end; once a step, the non-layer parameters' gather, timed with the optimizer. The
// simulated layer stands for every layer, so a micro batch counts one forward gather, one backward
// gather and one reduce-scatter more than Megatron runs (under the last and first layers). All over the DP x CP group; an
// all-gather's message is one rank's shard, a reduce-scatter's its output shard.
#pragma once

#include <cstdint>

#include "scenario/model_params.hpp"
#include "scenario/scenario.hpp"
#include "workload/program_builder.hpp"

namespace hcpsim {

struct FsdpContext {
  const Scenario* scenario = nullptr;
  int32_t dp_cp_group = -1;
  int64_t dp_cp_size = 1;
  LayerParamCounts layer;  // one unit: a transformer layer's parameters (one TP rank's)
  bool active() const { return scenario && scenario->parallel.fsdp_sharded() && dp_cp_size > 1; }
};

// Bytes of one layer's parameters as gathered, and of its gradients as reduced (unsharded).
double fsdp_unit_param_bytes(const Scenario& s, const LayerParamCounts& layer);
double fsdp_unit_grad_bytes(const LayerParamCounts& layer);

// The all-gather of `params_bytes` of parameters (unsharded), issued by the compute stream, in
// `area` (the optimizer's where the step times it with the optimizer).
int32_t fsdp_gather(ProgramBuilder& b, const FsdpContext& c, const char* what, double params_bytes,
                    OpArea area = OpArea::ParamGather);
// The reduce-scatter of `grad_bytes` of gradients (unsharded), issued by the compute stream.
int32_t fsdp_reduce(ProgramBuilder& b, const FsdpContext& c, const char* what, double grad_bytes);

// The layer's forward: call at its start; the returned op is the next unit's gather (-1: none).
int32_t fsdp_layer_forward_begin(ProgramBuilder& b, const FsdpContext& c);
// The layer's backward: call at its start (after the forward's ops); issues the unit before's
// gather and the unit after's reduce-scatter and, where the GPU's fp8 GEMMs want transposed
// weights, the transposes of this unit's gathered fp8 weights.
void fsdp_layer_backward_begin(ProgramBuilder& b, const FsdpContext& c);

}  // namespace hcpsim

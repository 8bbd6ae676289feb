#include "workload/step_ops.hpp"

#include "rules/fp8_gemm.hpp"
#include "rules/fused_kernels.hpp"
#include "rules/megatron_fsdp.hpp"
#include "workload/fsdp_ops.hpp"
#include "scenario/model_params.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>

namespace hcpsim {

namespace {

// The shapes and the TP collective helper both halves use.
struct StepShapes {
  int64_t t = 1;
  bool sp = false;
  double e = 2, tokens = 0, sp_tokens = 0;
  int64_t h = 0, v = 0;
  double hidden = 0, sp_hidden = 0, logits = 0;
};

StepShapes shapes_of(const StepContext& c) {
  const Scenario& s = *c.scenario;
  StepShapes x;
  x.t = s.parallel.tensor_model_parallel_size;
  x.sp = s.parallel.sequence_parallel && x.t > 1;
  x.e = double(s.activation_bytes_per_element());
  x.tokens = double(c.tokens);
  x.sp_tokens = x.sp ? x.tokens / double(x.t) : x.tokens;
  x.h = s.model.hidden_size;
  x.v = padded_vocab_size(s.model.vocab_size, x.t) / x.t;
  x.hidden = x.tokens * double(x.h) * x.e;
  x.sp_hidden = x.sp_tokens * double(x.h) * x.e;
  x.logits = x.tokens * double(x.v);
  return x;
}

// A synchronous TP collective (the compute stream waits for it); none without TP.
void tp_sync(ProgramBuilder& b, const StepContext& c, const StepShapes& x, const char* what, CommPattern p, double bytes) {
  if (x.t > 1) b.sync(Stream::Compute, b.collective(Stream::NcclTp, Stream::Compute, what, p, c.tp_group, bytes));
}

FsdpContext fsdp_of(const StepContext& c) {
  return {.scenario = c.scenario, .dp_cp_group = c.dp_cp_group, .dp_cp_size = c.dp_cp_size, .layer = c.params.layer};
}

// Final norm, LM head and vocab-parallel cross entropy, forward then backward (the last stage).
void head_forward_backward(ProgramBuilder& b, const StepContext& c, const StepShapes& x) {
  const Scenario& s = *c.scenario;
  const auto tp = [&](const char* what, CommPattern p, double bytes) { tp_sync(b, c, x, what, p, bytes); };
  b.set_phase(Phase::Forward);
  b.set_area(OpArea::Head);
  b.elementwise(Stream::Compute, "final_norm", ElementwiseKind::Norm, 2 * x.sp_hidden);
  if (x.sp) tp("tp_ag", CommPattern::AllGather, x.sp_hidden);
  b.gemm(Stream::Compute, "logits_gemm", {c.tokens, x.v, x.h}, x.e);
  // Vocab-parallel cross entropy. Unfused (Megatron's PyTorch ops), counted as its minimum traffic
  // (each input read once, each output written once; the measured efficiency absorbs PyTorch's
  // extra passes): bf16 logits read, the fp32 softmax kept for the backward written; then the
  // softmax read, the bf16 gradient written. Fused (cross_entropy_loss_fusion): its kernels' passes
  // at their measured fraction of the copy (rules/fused_kernels.hpp). Over TP, per token: unfused,
  // three all-reduces of one fp32 (max, predicted logit, sum of exp); native, the max and then the
  // other two in one; TE, one all-gather of the three (its ranks' online-softmax partials).
  const FusionSettings& f = s.software.fusions;
  const auto emit_cross_entropy = [&](bool backward) {
    if (!f.cross_entropy) {
      b.elementwise(Stream::Compute, "cross_entropy", ElementwiseKind::CrossEntropy, x.logits * (x.e + 4));
      return;
    }
    const Version& te = s.software.transformer_engine_version;
    const rules::FusedCrossEntropy ce = rules::fused_cross_entropy(f.cross_entropy_impl, te.major, te.minor, x.e);
    const rules::FusedPass& pass = backward ? ce.backward : ce.forward;
    b.elementwise(Stream::Compute, "cross_entropy", ElementwiseKind::Fused, x.logits * pass.bytes_per_element,
                  pass.of_copy);
  };
  emit_cross_entropy(false);
  if (!f.cross_entropy) {
    for (const char* r : {"ce_ar_max", "ce_ar_predicted", "ce_ar_sum_exp"}) tp(r, CommPattern::AllReduce, x.tokens * 4);
  } else if (f.cross_entropy_impl == rules::CrossEntropyFusion::Native) {
    tp("ce_ar_max", CommPattern::AllReduce, x.tokens * 4);
    tp("ce_ar_predicted_sum_exp", CommPattern::AllReduce, x.tokens * 8);
  } else {
    tp("ce_ag_partials", CommPattern::AllGather, x.tokens * 12);
  }

  b.set_phase(Phase::Backward);
  emit_cross_entropy(true);
  int32_t gathered = -1;
  if (x.sp)
    gathered = b.collective(Stream::NcclTp, Stream::Compute, "input_ag",
                            CommPattern::AllGather, c.tp_group, x.sp_hidden);
  b.gemm(Stream::Compute, "logits_dgrad", {c.tokens, x.h, x.v}, x.e);
  int32_t reduced = -1;
  if (x.t > 1)
    reduced = b.collective(Stream::NcclTp, Stream::Compute, x.sp ? "dgrad_rs" : "dgrad_ar",
                           x.sp ? CommPattern::ReduceScatter : CommPattern::AllReduce, c.tp_group,
                           x.sp ? x.sp_hidden : x.hidden);
  if (gathered >= 0) b.wait(Stream::Compute, gathered);
  b.gemm(Stream::Compute, "logits_wgrad", {x.v, x.h, c.tokens}, x.e);
  if (reduced >= 0) b.wait(Stream::Compute, reduced);
  b.elementwise(Stream::Compute, "final_norm", ElementwiseKind::Norm, 3 * x.sp_hidden);
}

// Embedding forward (first stage), the head (last stage), embedding backward (first stage).
void embedding_and_head(ProgramBuilder& b, const StepContext& c) {
  const StepShapes x = shapes_of(c);
  const FsdpContext fsdp = fsdp_of(c);
  if (c.embedding) {
    b.set_phase(Phase::Forward);
    b.set_area(OpArea::Embedding);
    b.elementwise(Stream::Compute, "lookup", 2 * x.hidden);  // rows read, written
    if (x.sp) tp_sync(b, c, x, "tp_rs", CommPattern::ReduceScatter, x.sp_hidden);
    else tp_sync(b, c, x, "tp_ar", CommPattern::AllReduce, x.hidden);
    // Megatron-FSDP: nothing prefetches the first layer; its forward waits for its gather.
    if (fsdp.active())
      b.sync(Stream::Compute, fsdp_gather(b, fsdp, "fsdp_param_ag.first_layer", fsdp_unit_param_bytes(*c.scenario, fsdp.layer)));
  }
  if (c.head) head_forward_backward(b, c, x);
  if (fsdp.active() && c.head) {
    // The head's gradients are reduce-scattered as soon as they are ready, and nothing prefetches
    // the last layer's backward gather, which the one DP x CP communicator queues behind them.
    b.set_phase(Phase::Backward);
    fsdp_reduce(b, fsdp, "fsdp_grad_rs.head",
                rules::kFsdpGradBytesPerParam * double(c.params.output_layer + c.params.final_norm));
    b.sync(Stream::Compute, fsdp_gather(b, fsdp, "fsdp_param_ag.last_layer", fsdp_unit_param_bytes(*c.scenario, fsdp.layer)));
  }
  if (!c.embedding) return;
  b.set_phase(Phase::Backward);
  b.set_area(OpArea::Embedding);
  if (x.sp) tp_sync(b, c, x, "tp_ag", CommPattern::AllGather, x.sp_hidden);
  // Scatter-add of the token gradients into the embedding shard's gradient.
  b.elementwise(Stream::Compute, "grad_scatter_add", 3 * x.hidden);
  // Megatron-FSDP: the micro batch's backward ends waiting for the reduce-scatters no layer hides,
  // the first layer's and the embedding's.
  if (fsdp.active())
    b.sync(Stream::Compute, fsdp_reduce(b, fsdp, "fsdp_grad_rs.first_layer_and_embedding",
                                        fsdp_unit_grad_bytes(fsdp.layer) +
                                            rules::kFsdpGradBytesPerParam * double(c.params.embedding)));
}

// Megatron's buckets of every chunk of the stage, each distinct one reduced (and, with the
// distributed optimizer, gathered) once on the DP stream, around the optimizer.
std::vector<DpBucketOps> grad_sync_and_optimizer(ProgramBuilder& b, const StepContext& c) {
  const Scenario& s = *c.scenario;
  const double n = double(c.dp_cp_size);
  const bool dist = s.parallel.use_distributed_optimizer;
  // bf16 parameters; with fp8 primary weights (training.fp8_param_gather) the layers' GEMM weights
  // are gathered in fp8: 1 B each, the rest 2 B. MXFP8 primary weights are gathered in bf16 into
  // the gradient buffer and quantized there (Megatron's reuse_grad_buf_for_mxfp8_param_ag, on in
  // Megatron-Bridge's MXFP8 recipe): 2 B, then a cast. NVFP4 primary weights (fp4_param_gather)
  // are gathered as their packed row-wise E2M1 bytes, 1/2 B each, after the scales' tile amaxes
  // are all-reduced over DP (rules/fp8_gemm.hpp); their column-wise copy is then made from the
  // gathered rows (2D 16 x 16 blocks: the same values transposed; TE's post_all_gather_processing),
  // one read and one write of a copy with its scales.
  const rules::QuantFormat format = s.training.quant_format();
  const bool mxfp8 = s.training.mxfp8();
  const bool nvfp4_gather = format == rules::QuantFormat::Nvfp4 && s.training.fp4_param_gather;
  const bool quantized_gather = s.training.quantized_param_gather() && !mxfp8;
  const double gathered_gemm_e = nvfp4_gather ? rules::kNvfp4PackedBytesPerElement : rules::quantized_element_bytes(format);
  std::vector<DpBucketOps> plan;
  const int64_t chunks = int64_t(c.chunk_layers.size());
  const FsdpContext fsdp = fsdp_of(c);  // Megatron-FSDP reduces and gathers by layer, not in DDP buckets
  for (int64_t k = 0; c.dp_cp_size > 1 && !fsdp.active() && k < chunks; ++k) {
    const auto params = chunk_params(c.params, s.model.gated_linear_unit, c.chunk_layers[size_t(k)],
                                     c.embedding && k == 0, c.head && k == chunks - 1);
    // Without overlap_grad_reduce Megatron keeps a chunk in one bucket (bucket_size None).
    const int64_t size = s.parallel.overlap_grad_reduce && rules::ddp_chunk_bucketed(c.stage, k)
                             ? rules::ddp_bucket_params(c.dp_cp_size)
                             : 0;
    for (const rules::DdpBucket& bucket : rules::ddp_bucket_groups(params, size, s.training.quantized_param_gather()))
      if (bucket.params > 0) plan.push_back({k, bucket, -1, -1});
  }
  // Equal buckets on one group take equal times: each distinct one is simulated once. first[i]:
  // the first bucket equal to bucket i (found once: every rank of a large world builds this).
  std::vector<size_t> first(plan.size());
  {
    std::map<std::pair<int64_t, int64_t>, size_t> seen;
    for (size_t i = 0; i < plan.size(); ++i)
      first[i] = seen.try_emplace({plan[i].bucket.params, plan[i].bucket.gemm_params}, i).first->second;
  }
  const auto first_alike = [&first](size_t i) { return first[i]; };
  b.set_phase(Phase::Optimizer);
  b.set_area(OpArea::GradReduce);
  for (size_t i = 0; i < plan.size(); ++i) {
    if (const size_t j = first_alike(i); j != i) {
      plan[i].reduce_op = plan[j].reduce_op;
      continue;
    }
    const double bytes = double(plan[i].bucket.params) * (s.parallel.grad_reduce_in_fp32 ? 4 : 2);  // the grad buffer's type
    const std::string id = "bucket" + std::to_string(i);
    plan[i].reduce_op = dist ? b.collective(Stream::NcclDp, Stream::Compute, "grad_rs." + id, CommPattern::ReduceScatter,
                                            c.dp_cp_group, bytes / n)  // ReduceScatter message = this rank's output shard
                             : b.collective(Stream::NcclDp, Stream::Compute, "grad_ar." + id, CommPattern::AllReduce,
                                            c.dp_cp_group, bytes);
  }
  b.wait_stream(Stream::Compute, Stream::NcclDp);
  const double held = double(c.params.total());
  const double local = dist ? held / n : held;
  b.set_area(OpArea::Optimizer);
  if (!s.parallel.grad_reduce_in_fp32 || fsdp.active())  // the optimizer's fp32 copy of its bf16 gradients: read 2, write 4 B
    b.elementwise(Stream::Compute, "grad_to_fp32", local * (2 + 4));
  b.elementwise(Stream::Compute, "adam", ElementwiseKind::Optimizer, local * kAdamBytesPerParam);
  // Megatron-FSDP gathers the parameters outside the layers (embedding, final norm, output layer) once
  // a step, each on its first use: the step waits for them.
  if (fsdp.active())
    b.sync(Stream::Compute, fsdp_gather(b, fsdp, "fsdp_param_ag.non_layer",
                                        2.0 * double(c.params.embedding + c.params.output_layer + c.params.final_norm),
                                        OpArea::Optimizer));
  const double gemm_weights = double(c.params.num_layers * c.params.layer.gemm());
  if (nvfp4_gather && dist && c.dp_cp_size > 1)  // the NVFP4 shards' tile amaxes, before the gather
    b.sync(Stream::Compute, b.collective(Stream::NcclDp, Stream::Compute, "nvfp4_tile_amax_ar", CommPattern::AllReduce,
                                         c.dp_cp_group, gemm_weights * rules::kNvfp4TileAmaxBytesPerElement));
  b.set_area(OpArea::ParamGather);
  for (size_t i = 0; dist && i < plan.size(); ++i) {
    if (const size_t j = first_alike(i); j != i) {
      plan[i].gather_op = plan[j].gather_op;
      continue;
    }
    const rules::DdpBucket& bucket = plan[i].bucket;
    const double bytes =
        2.0 * double(bucket.params) - (quantized_gather ? (2.0 - gathered_gemm_e) * double(bucket.gemm_params) : 0.0);
    plan[i].gather_op = b.collective(Stream::NcclDp, Stream::Compute, "param_ag.bucket" + std::to_string(i),
                                     CommPattern::AllGather, c.dp_cp_group, bytes / n);
  }
  b.wait_stream(Stream::Compute, Stream::NcclDp);
  for (size_t i = 0; i < plan.size(); ++i)  // each op stands for its equal buckets
    for (const int32_t op : {plan[i].reduce_op, plan[i].gather_op})
      if (op >= 0 && first_alike(i) != i) ++b.program().ops.at(size_t(op)).repeats;
  if (mxfp8 && s.training.fp8_param_gather)  // the gathered weights' MXFP8 cast
    b.elementwise(Stream::Compute, "mxfp8_weight_cast", ElementwiseKind::Fused,
                  gemm_weights * rules::quantize_bytes_per_element(s.cluster.gpu.compute_capability, format));
  if (nvfp4_gather)  // their column-wise copies
    b.elementwise(Stream::Compute, "nvfp4_weight_columnwise", ElementwiseKind::Fused,
                  gemm_weights * 2.0 * rules::kNvfp4BytesPerElement);
  return plan;
}

}  // namespace

std::vector<rules::DdpParam> chunk_params(const ParamCounts& stage, bool gated_mlp, int64_t layers, bool embedding,
                                          bool head) {
  std::vector<rules::DdpParam> out;
  if (embedding) out.push_back({stage.embedding, false, 1.0, 0.0});
  const LayerParamCounts& l = stage.layer;
  const int64_t fc1 = gated_mlp ? l.mlp / 3 * 2 : l.mlp / 2, fc2 = l.mlp - fc1, norm = l.norms / 2;
  // Within a layer, time taken as its GEMMs' share (their work): the forward uses QKV at the
  // layer's start, proj after QKV, fc1 after proj, fc2 after fc1; the backward readies fc2's
  // gradient first, then fc1's (and its norm's), proj's, QKV's (and its norm's) at the layer's end.
  const double gemm = double(std::max<int64_t>(1, l.gemm()));
  const double used_qkv = 0, used_proj = double(l.qkv) / gemm, used_fc1 = double(l.qkv + l.proj) / gemm,
               used_fc2 = double(l.qkv + l.proj + fc1) / gemm;
  const double ready_fc2 = double(fc2) / gemm, ready_fc1 = double(fc2 + fc1) / gemm,
               ready_proj = double(fc2 + fc1 + l.proj) / gemm, ready_qkv = 1;
  const double n = double(layers);
  for (int64_t i = 0; i < layers; ++i) {
    const double at = double(i) / n, back = double(layers - 1 - i) / n;  // the layer's forward / backward start
    const auto param = [&](int64_t numel, bool gemm_weight, double ready, double used) {
      out.push_back({numel, gemm_weight, back + ready / n, at + used / n});
    };
    param(l.proj, true, ready_proj, used_proj);
    param(norm, false, ready_qkv, used_qkv);
    param(l.qkv, true, ready_qkv, used_qkv);
    param(l.norms - norm, false, ready_fc1, used_fc1);
    param(fc1, true, ready_fc1, used_fc1);
    param(fc2, true, ready_fc2, used_fc2);
  }
  if (head) {
    out.push_back({stage.final_norm, false, 0.0, 1.0});
    out.push_back({stage.output_layer, false, 0.0, 1.0});
  }
  return out;
}

std::vector<DpBucketOps> step_program(ProgramBuilder& b, const StepContext& c) {
  embedding_and_head(b, c);
  return grad_sync_and_optimizer(b, c);
}

}  // namespace hcpsim

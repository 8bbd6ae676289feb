#include "workload/step_ops.hpp"

#include "rules/fp8_gemm.hpp"
#include "scenario/model_params.hpp"

#include <algorithm>
#include <cmath>
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

// Final norm, LM head and vocab-parallel cross entropy, forward then backward (the last stage).
void head_forward_backward(ProgramBuilder& b, const StepContext& c, const StepShapes& x) {
  const Scenario& s = *c.scenario;
  const auto tp = [&](const char* what, CommPattern p, double bytes) { tp_sync(b, c, x, what, p, bytes); };
  b.set_phase(Phase::Forward);
  b.set_area(OpArea::Head);
  b.elementwise(Stream::Compute, "final_norm", ElementwiseKind::Norm, 2 * x.sp_hidden);
  if (x.sp) tp("tp_ag", CommPattern::AllGather, x.sp_hidden);
  b.gemm(Stream::Compute, "logits_gemm", {c.tokens, x.v, x.h}, x.e);
  // Vocab-parallel cross entropy, counted as its minimum traffic (each input read once, each
  // output written once; the measured efficiency absorbs PyTorch's extra passes): bf16 logits
  // read, the fp32 softmax kept for the backward written; three all-reduces of one fp32 per
  // token (max, predicted logit, sum of exp). Fused (Megatron's cross_entropy_loss_fusion): one
  // kernel, the same minimum traffic at the copy's efficiency.
  const ElementwiseKind ce = s.software.fusions.cross_entropy ? ElementwiseKind::Fused : ElementwiseKind::CrossEntropy;
  b.elementwise(Stream::Compute, "cross_entropy", ce, x.logits * (x.e + 4));
  for (const char* r : {"ce_ar_max", "ce_ar_predicted", "ce_ar_sum_exp"})
    tp(r, CommPattern::AllReduce, x.tokens * 4);

  b.set_phase(Phase::Backward);
  b.elementwise(Stream::Compute, "cross_entropy", ce, x.logits * (4 + x.e));  // softmax read, bf16 grad written
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
  if (c.embedding) {
    b.set_phase(Phase::Forward);
    b.set_area(OpArea::Embedding);
    b.elementwise(Stream::Compute, "lookup", 2 * x.hidden);  // rows read, written
    if (x.sp) tp_sync(b, c, x, "tp_rs", CommPattern::ReduceScatter, x.sp_hidden);
    else tp_sync(b, c, x, "tp_ar", CommPattern::AllReduce, x.hidden);
  }
  if (c.head) head_forward_backward(b, c, x);
  if (!c.embedding) return;
  b.set_phase(Phase::Backward);
  b.set_area(OpArea::Embedding);
  if (x.sp) tp_sync(b, c, x, "tp_ag", CommPattern::AllGather, x.sp_hidden);
  // Scatter-add of the token gradients into the embedding shard's gradient.
  b.elementwise(Stream::Compute, "grad_scatter_add", 3 * x.hidden);
}

void grad_sync_and_optimizer(ProgramBuilder& b, const StepContext& c) {
  const Scenario& s = *c.scenario;
  const double params = c.params;
  const double n = double(c.dp_cp_size);
  const double bucket_params = std::max(40e6, 1e6 * n);
  const int64_t buckets =
      std::clamp<int64_t>(int64_t(std::ceil(params / bucket_params)), 1, kMaxGradBuckets);
  const double bucket_params_each = params / double(buckets);
  const double grad_bucket_bytes = bucket_params_each * (s.parallel.grad_reduce_in_fp32 ? 4 : 2);  // the grad buffer's type
  // bf16 parameters; with fp8 primary weights (training.fp8_param_gather) the layers' GEMM weights
  // are gathered in fp8: 1 B each, the rest 2 B (the buckets' average). MXFP8 primary weights are
  // gathered in bf16 into the gradient buffer and quantized there (Megatron's
  // reuse_grad_buf_for_mxfp8_param_ag, on in Megatron-Bridge's MXFP8 recipe): 2 B, then a cast.
  const bool mxfp8 = s.training.mxfp8();
  const double fp8_share =
      s.training.fp8_param_gather && !mxfp8 && params > 0 ? std::min(1.0, c.gemm_params / params) : 0.0;
  const double param_bucket_bytes = bucket_params_each * (2 - fp8_share);
  const bool dist = s.parallel.use_distributed_optimizer;
  b.set_phase(Phase::Optimizer);
  b.set_area(OpArea::GradReduce);
  for (int64_t i = 0; c.dp_cp_size > 1 && i < buckets; ++i) {
    const std::string id = std::to_string(i);
    if (dist)  // ReduceScatter message = this rank's output shard
      b.collective(Stream::NcclDp, Stream::Compute, "grad_rs.bucket" + id,
                   CommPattern::ReduceScatter, c.dp_cp_group, grad_bucket_bytes / n);
    else
      b.collective(Stream::NcclDp, Stream::Compute, "grad_ar.bucket" + id,
                   CommPattern::AllReduce, c.dp_cp_group, grad_bucket_bytes);
  }
  b.wait_stream(Stream::Compute, Stream::NcclDp);
  const double local = dist ? params / n : params;
  b.set_area(OpArea::Optimizer);
  if (!s.parallel.grad_reduce_in_fp32)  // the optimizer's fp32 copy of its bf16 gradients: read 2, write 4 B
    b.elementwise(Stream::Compute, "grad_to_fp32", local * (2 + 4));
  b.elementwise(Stream::Compute, "adam", ElementwiseKind::Optimizer, local * kAdamBytesPerParam);
  b.set_area(OpArea::ParamGather);
  for (int64_t i = 0; dist && c.dp_cp_size > 1 && i < buckets; ++i)
    b.collective(Stream::NcclDp, Stream::Compute, "param_ag.bucket" + std::to_string(i),
                 CommPattern::AllGather, c.dp_cp_group, param_bucket_bytes / n);
  b.wait_stream(Stream::Compute, Stream::NcclDp);
  if (mxfp8 && s.training.fp8_param_gather)  // the gathered weights' MXFP8 cast
    b.elementwise(Stream::Compute, "mxfp8_weight_cast", ElementwiseKind::Fused,
                  c.gemm_params * rules::fp8_quantize_bytes_per_element(s.cluster.gpu.compute_capability, true));
}

}  // namespace

void step_program(ProgramBuilder& b, const StepContext& c) {
  embedding_and_head(b, c);
  grad_sync_and_optimizer(b, c);
}

}  // namespace hcpsim

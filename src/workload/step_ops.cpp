#include "workload/step_ops.hpp"

#include "scenario/model_params.hpp"

#include <algorithm>
#include <cmath>
#include <string>

namespace hcpsim {

namespace {

void embedding_and_head(ProgramBuilder& b, const StepContext& c) {
  const Scenario& s = *c.scenario;
  const int64_t t = s.parallel.tensor_model_parallel_size;
  const bool sp = s.parallel.sequence_parallel && t > 1;
  const double e = double(s.activation_bytes_per_element());
  const double tokens = double(c.tokens), sp_tokens = sp ? tokens / double(t) : tokens;
  const int64_t h = s.model.hidden_size, v = padded_vocab_size(s.model.vocab_size, t) / t;
  const double hidden = tokens * double(h) * e, sp_hidden = sp_tokens * double(h) * e;
  const double logits = tokens * double(v);
  auto tp = [&](const char* what, CommPattern p, double bytes) {
    if (t > 1)
      b.sync(Stream::Compute,
             b.collective(Stream::NcclTp, Stream::Compute, what, p, c.tp_group, bytes));
  };

  b.set_phase(Phase::Forward);
  b.set_area(OpArea::Embedding);
  b.elementwise(Stream::Compute, "lookup", 2 * hidden);  // rows read, written
  if (sp) tp("tp_rs", CommPattern::ReduceScatter, sp_hidden);
  else tp("tp_ar", CommPattern::AllReduce, hidden);
  b.set_area(OpArea::Head);
  b.elementwise(Stream::Compute, "final_norm", ElementwiseKind::Norm, 2 * sp_hidden);
  if (sp) tp("tp_ag", CommPattern::AllGather, sp_hidden);
  b.gemm(Stream::Compute, "logits_gemm", {c.tokens, v, h}, e);
  // Vocab-parallel cross entropy, counted as its minimum traffic (each input read once, each
  // output written once; the measured efficiency absorbs PyTorch's extra passes): bf16 logits
  // read, the fp32 softmax kept for the backward written; three all-reduces of one fp32 per
  // token (max, predicted logit, sum of exp). Fused (Megatron's cross_entropy_loss_fusion): one
  // kernel, the same minimum traffic at the copy's efficiency.
  const ElementwiseKind ce = s.software.fusions.cross_entropy ? ElementwiseKind::Fused : ElementwiseKind::CrossEntropy;
  b.elementwise(Stream::Compute, "cross_entropy", ce, logits * (e + 4));
  for (const char* r : {"ce_ar_max", "ce_ar_predicted", "ce_ar_sum_exp"})
    tp(r, CommPattern::AllReduce, tokens * 4);

  b.set_phase(Phase::Backward);
  b.elementwise(Stream::Compute, "cross_entropy", ce, logits * (4 + e));  // softmax read, bf16 grad written
  int32_t gathered = -1;
  if (sp)
    gathered = b.collective(Stream::NcclTp, Stream::Compute, "input_ag",
                            CommPattern::AllGather, c.tp_group, sp_hidden);
  b.gemm(Stream::Compute, "logits_dgrad", {c.tokens, h, v}, e);
  int32_t reduced = -1;
  if (t > 1)
    reduced = b.collective(Stream::NcclTp, Stream::Compute, sp ? "dgrad_rs" : "dgrad_ar",
                           sp ? CommPattern::ReduceScatter : CommPattern::AllReduce, c.tp_group,
                           sp ? sp_hidden : hidden);
  if (gathered >= 0) b.wait(Stream::Compute, gathered);
  b.gemm(Stream::Compute, "logits_wgrad", {v, h, c.tokens}, e);
  if (reduced >= 0) b.wait(Stream::Compute, reduced);
  b.elementwise(Stream::Compute, "final_norm", ElementwiseKind::Norm, 3 * sp_hidden);
  b.set_area(OpArea::Embedding);
  if (sp) tp("tp_ag", CommPattern::AllGather, sp_hidden);
  // Scatter-add of the token gradients into the embedding shard's gradient.
  b.elementwise(Stream::Compute, "grad_scatter_add", 3 * hidden);
}

void grad_sync_and_optimizer(ProgramBuilder& b, const StepContext& c) {
  const Scenario& s = *c.scenario;
  const double params = double(count_params_per_tp_rank(s.model, s.parallel.tensor_model_parallel_size).total());
  const double n = double(c.dp_cp_size);
  const double bucket_params = std::max(40e6, 1e6 * n);
  const int64_t buckets =
      std::clamp<int64_t>(int64_t(std::ceil(params / bucket_params)), 1, kMaxGradBuckets);
  const double bucket_bytes = params / double(buckets) * 2;  // bf16
  const bool dist = s.parallel.use_distributed_optimizer;
  b.set_phase(Phase::Optimizer);
  b.set_area(OpArea::GradReduce);
  for (int64_t i = 0; c.dp_cp_size > 1 && i < buckets; ++i) {
    const std::string id = std::to_string(i);
    if (dist)  // ReduceScatter message = this rank's output shard
      b.collective(Stream::NcclDp, Stream::Compute, "grad_rs.bucket" + id,
                   CommPattern::ReduceScatter, c.dp_cp_group, bucket_bytes / n);
    else
      b.collective(Stream::NcclDp, Stream::Compute, "grad_ar.bucket" + id,
                   CommPattern::AllReduce, c.dp_cp_group, bucket_bytes);
  }
  b.wait_stream(Stream::Compute, Stream::NcclDp);
  const double local = dist ? params / n : params;
  b.set_area(OpArea::Optimizer);
  b.elementwise(Stream::Compute, "adam", ElementwiseKind::Optimizer, local * kAdamBytesPerParam);
  b.set_area(OpArea::ParamGather);
  for (int64_t i = 0; dist && c.dp_cp_size > 1 && i < buckets; ++i)
    b.collective(Stream::NcclDp, Stream::Compute, "param_ag.bucket" + std::to_string(i),
                 CommPattern::AllGather, c.dp_cp_group, bucket_bytes / n);
  b.wait_stream(Stream::Compute, Stream::NcclDp);
}

}  // namespace

void step_program(ProgramBuilder& b, const StepContext& c) {
  embedding_and_head(b, c);
  grad_sync_and_optimizer(b, c);
}

}  // namespace hcpsim

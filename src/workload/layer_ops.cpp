#include "workload/layer_ops.hpp"

#include <string>

#include "workload/attention_cp.hpp"

namespace hcpsim {

namespace {

struct Dims {
  double tokens = 0;     // T = b * S/CP, rows of every GEMM
  double sp_tokens = 0;  // rows of the residual stream on this rank (T/t with SP)
  int64_t h = 0, qkv_out = 0, attn_out = 0, fc1_out = 0, ffn_local = 0, t = 1;
  bool sp = false, glu = true;
  ElementwiseKind rope = ElementwiseKind::Rope, activation = ElementwiseKind::Activation;  // or Fused
  double e = 2;
};

Dims dims_of(const LayerContext& c) {
  const Scenario& s = *c.scenario;
  Dims d;
  d.t = s.parallel.tensor_model_parallel_size;
  d.sp = s.parallel.sequence_parallel && d.t > 1;
  d.h = s.model.hidden_size;
  d.tokens = double(c.attn.local.batch) * double(c.attn.local.len);
  d.sp_tokens = d.sp ? d.tokens / double(d.t) : d.tokens;
  const int64_t hd = s.model.kv_channels;
  d.qkv_out = (c.attn.local.hq + 2 * c.attn.local.hk) * hd;
  d.attn_out = c.attn.local.hq * hd;
  d.ffn_local = s.model.ffn_hidden_size / d.t;
  d.glu = s.model.gated_linear_unit;
  d.fc1_out = (d.glu ? 2 : 1) * d.ffn_local;
  d.e = double(s.activation_bytes_per_element());
  if (s.software.fusions.rope) d.rope = ElementwiseKind::Fused;
  if (s.software.fusions.swiglu && d.glu) d.activation = ElementwiseKind::Fused;
  return d;
}

// Synchronous TP collective of the residual stream [T/t or T, h].
void tp_sync(ProgramBuilder& b, const LayerContext& c, const Dims& d, CommPattern p, const char* what) {
  if (d.t == 1) return;
  const double bytes = (p == CommPattern::AllReduce ? d.tokens : d.sp_tokens) * d.h * d.e;
  b.sync(Stream::Compute,
         b.collective(Stream::NcclTp, Stream::Compute, what, p, c.tp_group, bytes));
}

// Column-parallel linear: input [T, in] gathered from the SP shards, output [T, out].
void column_forward(ProgramBuilder& b, const LayerContext& c, const Dims& d, const char* ag,
                    const char* gemm, int64_t out) {
  if (d.sp) tp_sync(b, c, d, CommPattern::AllGather, ag);
  b.gemm(Stream::Compute, gemm, {int64_t(d.tokens), out, d.h}, d.e);
}

// Row-parallel linear: [T, in/t] x [in/t, h], then reduce-scatter (SP) or all-reduce.
void row_forward(ProgramBuilder& b, const LayerContext& c, const Dims& d, const char* gemm,
                 int64_t in, const char* comm) {
  b.gemm(Stream::Compute, gemm, {int64_t(d.tokens), d.h, in}, d.e);
  tp_sync(b, c, d, d.sp ? CommPattern::ReduceScatter : CommPattern::AllReduce, comm);
}

void row_backward(ProgramBuilder& b, const LayerContext& c, const Dims& d, const char* ag,
                  const char* gemm, int64_t in) {
  if (d.sp) tp_sync(b, c, d, CommPattern::AllGather, ag);
  const std::string g = gemm;
  b.gemm(Stream::Compute, g + "_dgrad", {int64_t(d.tokens), in, d.h}, d.e);
  b.gemm(Stream::Compute, g + "_wgrad", {d.h, in, int64_t(d.tokens)}, d.e);
}

void column_backward(ProgramBuilder& b, const LayerContext& c, const Dims& d, const char* gemm,
                     int64_t out) {
  const std::string g = gemm;
  int32_t gathered = -1;
  if (d.sp)  // re-gather the saved input shard for wgrad, overlapped with dgrad
    gathered = b.collective(Stream::NcclTp, Stream::Compute, g + "_input_ag",
                            CommPattern::AllGather, c.tp_group, d.sp_tokens * d.h * d.e);
  b.gemm(Stream::Compute, g + "_dgrad", {int64_t(d.tokens), d.h, out}, d.e);
  int32_t reduced = -1;
  if (d.t > 1)  // dgrad reduce-scatter (SP) / all-reduce, overlapped with wgrad
    reduced = b.collective(Stream::NcclTp, Stream::Compute,
                           g + (d.sp ? "_dgrad_rs" : "_dgrad_ar"),
                           d.sp ? CommPattern::ReduceScatter : CommPattern::AllReduce, c.tp_group,
                           (d.sp ? d.sp_tokens : d.tokens) * d.h * d.e);
  if (gathered >= 0) b.wait(Stream::Compute, gathered);
  b.gemm(Stream::Compute, g + "_wgrad", {out, d.h, int64_t(d.tokens)}, d.e);
  if (reduced >= 0) b.wait(Stream::Compute, reduced);
}

// Elementwise bytes over the residual stream: `passes` reads+writes of [T(/t), h].
double stream_bytes(const Dims& d, double passes) { return passes * d.sp_tokens * d.h * d.e; }

// RoPE on Q and K: each read and written. Its backward also writes dV into the fused QKV
// gradient (the backward of splitting QKV: dQ and dK are written there by the rotation, dV is
// copied), as hcpcal_torch counts it.
double rope_bytes(const LayerContext& c, bool backward) {
  const double v = c.attn.local.k_bytes();  // |V| = |K|
  return 2 * (c.attn.local.q_bytes() + c.attn.local.k_bytes()) + (backward ? 2 * v : 0);
}

}  // namespace

void layer_forward(ProgramBuilder& b, const LayerContext& c) {
  const AreaScope layer(b, OpArea::Layer);
  const Dims d = dims_of(c);
  b.elementwise(Stream::Compute, "input_norm", ElementwiseKind::Norm, stream_bytes(d, 2));
  column_forward(b, c, d, "tp_ag_qkv", "qkv_gemm", d.qkv_out);
  b.elementwise(Stream::Compute, "rope", d.rope, rope_bytes(c, false));
  core_attention_forward(b, c.attn);
  row_forward(b, c, d, "proj_gemm", d.attn_out, d.sp ? "tp_rs_proj" : "tp_ar_proj");
  b.elementwise(Stream::Compute, "residual_add_attn", ElementwiseKind::Add, stream_bytes(d, 3));
  b.elementwise(Stream::Compute, "pre_mlp_norm", ElementwiseKind::Norm, stream_bytes(d, 2));
  column_forward(b, c, d, "tp_ag_fc1", "fc1_gemm", d.fc1_out);
  // SwiGLU reads both fc1 halves and writes ffn/t; GeLU reads and writes ffn/t.
  b.elementwise(Stream::Compute, d.glu ? "swiglu" : "gelu", d.activation,
                (d.glu ? 3 : 2) * d.tokens * double(d.ffn_local) * d.e);
  row_forward(b, c, d, "fc2_gemm", d.ffn_local, d.sp ? "tp_rs_fc2" : "tp_ar_fc2");
  b.elementwise(Stream::Compute, "residual_add_mlp", ElementwiseKind::Add, stream_bytes(d, 3));
}

void layer_backward(ProgramBuilder& b, const LayerContext& c) {
  const AreaScope layer(b, OpArea::Layer);
  const Dims d = dims_of(c);
  const Scenario& s = *c.scenario;
  row_backward(b, c, d, "tp_ag_fc2_grad", "fc2", d.ffn_local);
  // SwiGLU backward reads dY, both inputs, writes both input grads.
  b.elementwise(Stream::Compute, d.glu ? "swiglu" : "gelu", d.activation,
                (d.glu ? 5 : 3) * d.tokens * double(d.ffn_local) * d.e);
  column_backward(b, c, d, "fc1", d.fc1_out);
  b.elementwise(Stream::Compute, "pre_mlp_norm", ElementwiseKind::Norm, stream_bytes(d, 3));
  b.elementwise(Stream::Compute, "residual_add_mlp", ElementwiseKind::Add, stream_bytes(d, 3));
  row_backward(b, c, d, "tp_ag_proj_grad", "proj", d.attn_out);
  if (s.training.recompute_granularity == RecomputeGranularity::Selective) {
    b.set_recompute(true);
    core_attention_forward(b, c.attn);
    b.set_recompute(false);
  }
  core_attention_backward(b, c.attn);
  b.elementwise(Stream::Compute, "rope", d.rope, rope_bytes(c, true));
  column_backward(b, c, d, "qkv", d.qkv_out);
  b.elementwise(Stream::Compute, "input_norm", ElementwiseKind::Norm, stream_bytes(d, 3));
  b.elementwise(Stream::Compute, "residual_add_attn", ElementwiseKind::Add, stream_bytes(d, 3));
}

}  // namespace hcpsim

#include "workload/layer_ops.hpp"

#include <string>

#include "rules/fp8_gemm.hpp"
#include "rules/fused_kernels.hpp"
#include "rules/te_norm_quantize.hpp"
#include "rules/tp_comm_overlap.hpp"
#include "scenario/model_params.hpp"
#include "workload/attention_cp.hpp"

namespace hcpsim {

namespace {

struct Dims {
  double tokens = 0;     // T = b * S/CP, rows of every GEMM
  double sp_tokens = 0;  // rows of the residual stream on this rank (T/t with SP)
  int64_t h = 0, qkv_out = 0, attn_out = 0, fc1_out = 0, ffn_local = 0, t = 1;
  bool qkv_gather = false;  // fewer KV groups than TP ranks: the QKV output all-gathered over TP (model_params.hpp)
  bool sp = false, glu = true;
  bool ub = false;  // TE userbuffers overlap (parallel.tp_comm_overlap; validation: SP on, TP > 1)
  ElementwiseKind rope = ElementwiseKind::Rope, activation = ElementwiseKind::Activation;  // or Fused
  double e = 2;
  bool quantized = false;  // TE's Linears run quantized GEMMs (training.precision fp8 or nvfp4)
  rules::QuantFormat format = rules::QuantFormat::Fp8PerTensor;  // their operands' format
  double fp8_quantize_bytes = 0;     // HBM bytes a quantize moves per element (rules/fp8_gemm.hpp)
  bool fp8_transposed_copy = false;  // the GPU's fp8 GEMMs are TN-only (rules/fp8_gemm.hpp)
  bool amax_pass = false;            // an amax pass before each cast (tensorwise fp8, NVFP4: rules/fp8_gemm.hpp)
  double gathered_e = 2;             // bytes an element of a GEMM input all-gathered over TP: quantized if so
  double scale_e = 0;                // of those, the block scales' (MXFP8): userbuffers move the rest
  bool both_ways = false;            // MXFP8 or NVFP4: block-scaled, two quantizations a tensor, both gathered
  bool proj_keeps_input = false;     // linear_proj keeps O, quantized row-wise, then column-wise in backward (rules)
  // What TE's norm leaves the column-parallel GEMMs under fp8 (rules/te_norm_quantize.hpp).
  rules::NormFp8Output norm_output = rules::NormFp8Output::Quantized;
};

// The activation's fraction of the copy's efficiency: Megatron's fused SwiGLU's measured one
// (rules/fused_kernels.hpp); 1 for PyTorch's unfused kernels, timed by their own efficiency.
double activation_of_copy(const Dims& d, bool backward) {
  return d.activation == ElementwiseKind::Fused ? rules::swiglu_fused_of_copy(backward) : 1.0;
}

Dims dims_of(const LayerContext& c) {
  const Scenario& s = *c.scenario;
  Dims d;
  d.t = s.parallel.tensor_model_parallel_size;
  d.sp = s.parallel.sequence_parallel && d.t > 1;
  d.h = s.model.hidden_size;
  d.tokens = double(c.attn.local.batch) * double(c.attn.local.len);
  d.sp_tokens = d.sp ? d.tokens / double(d.t) : d.tokens;
  d.ub = d.sp && s.parallel.tp_comm_overlap;
  const int64_t hd = s.model.kv_channels;
  d.qkv_out = qkv_out_per_tp_rank(s.model, d.t);
  d.qkv_gather = qkv_gathered_over_tp(s.model, d.t);
  d.attn_out = c.attn.local.hq * hd;
  d.ffn_local = s.model.ffn_hidden_size / d.t;
  d.glu = s.model.gated_linear_unit;
  d.fc1_out = (d.glu ? 2 : 1) * d.ffn_local;
  d.e = double(s.activation_bytes_per_element());
  d.quantized = s.training.quantized();
  d.format = s.training.quant_format();
  d.both_ways = rules::quantized_both_ways(d.format);
  d.fp8_quantize_bytes = rules::quantize_bytes_per_element(s.cluster.gpu.compute_capability, d.format);
  d.fp8_transposed_copy = !d.both_ways && rules::fp8_needs_transposed_copy(s.cluster.gpu.compute_capability);
  d.gathered_e = d.quantized ? rules::quantized_element_bytes(d.format) : d.e;
  d.scale_e = d.quantized ? rules::quantized_scale_bytes_per_element(d.format) : 0.0;
  d.proj_keeps_input = rules::proj_saves_original_input(d.quantized, s.training.delayed_fp8_scaling(),
                                                        s.software.transformer_engine_version >= Version{2, 6, 0});
  d.amax_pass =
      d.quantized && rules::amax_pass_before_cast(d.format, s.training.fp8_recipe == Fp8Recipe::Tensorwise);
  if (d.quantized) {
    const rules::Fp8Scaling scaling = d.format == rules::QuantFormat::Nvfp4   ? rules::Fp8Scaling::Nvfp4Block
                                      : d.format == rules::QuantFormat::Mxfp8 ? rules::Fp8Scaling::Mxfp8Block
                                      : d.amax_pass                           ? rules::Fp8Scaling::CurrentPerTensor
                                                                              : rules::Fp8Scaling::DelayedPerTensor;
    // The norm runs on this rank's rows of the residual stream (its SP shard).
    d.norm_output = rules::te_norm_fp8_output(scaling, s.software.norm_fwd_use_cudnn, int64_t(d.sp_tokens), d.h);
  }
  if (s.software.fusions.rope) d.rope = ElementwiseKind::Fused;
  if (s.software.fusions.swiglu && d.glu) d.activation = ElementwiseKind::Fused;
  return d;
}

// Synchronous TP collective of the residual stream [T/t or T, h], `e` bytes an element.
void tp_sync(ProgramBuilder& b, const LayerContext& c, const Dims& d, CommPattern p, const char* what, double e) {
  if (d.t == 1) return;
  const double bytes = (p == CommPattern::AllReduce ? d.tokens : d.sp_tokens) * d.h * e;
  b.sync(Stream::Compute,
         b.collective(Stream::NcclTp, Stream::Compute, what, p, c.tp_group, bytes));
}

std::string chunk_what(const std::string& gemm, int64_t i) { return gemm + ".chunk" + std::to_string(i); }

// Marks comm op `id` as moved by userbuffers (workload.hpp, Op::userbuffers).
int32_t by_userbuffers(ProgramBuilder& b, int32_t id) {
  b.program().ops[id].userbuffers = true;
  return id;
}

// A userbuffers comm op that TE's C++ issues inside the GEMM's call (split_overlap_ag's sends,
// split_overlap_rs's reduce-scatters, the bulk overlaps' all-gather and reduce-scatter): no CPU
// launch of its own (Op::own_launch).
int32_t inside_gemm_call(ProgramBuilder& b, int32_t id) {
  by_userbuffers(b, id);
  b.program().ops[id].own_launch = false;
  return id;
}

// Bytes an element of a shard that userbuffers move: the data without MXFP8's block scales.
double ub_data_e(const Dims& d) { return d.gathered_e - d.scale_e; }

// Bytes an element of a gathered shard that a TP all-gather moves: NCCL's the whole quantized
// element, userbuffers' its data (their scales gathered by NCCL beside them, ub_buffer_fill).
double tp_gather_e(const Dims& d) { return d.ub ? ub_data_e(d) : d.gathered_e; }

// TE's fill_userbuffers_buffer_for_all_gather (module/base.py): a call of its own that copies the
// rank's [T/t, h] shard's data into the userbuffers buffer before the GEMM (or external all-gather)
// that gathers it, the shard read and written; MXFP8's block scales it all-gathers then and there
// with NCCL (all_gather_into_tensor: the current stream waits for it).
void ub_buffer_fill(ProgramBuilder& b, const LayerContext& c, const Dims& d, const std::string& what) {
  b.elementwise(Stream::Compute, what + ".ub_fill", 2 * d.sp_tokens * d.h * ub_data_e(d));
  if (d.scale_e > 0)
    b.sync(Stream::Compute, b.collective(Stream::NcclTp, Stream::Compute, what + ".ub_scales_ag", CommPattern::AllGather,
                                         c.tp_group, d.sp_tokens * d.h * d.scale_e));
}

// One GEMM of a TE Linear: bf16, or under fp8 training TE's fp8 GEMM of its pass (a forward, or its
// recompute, with fast accumulation; dgrad and wgrad with the split accumulator; rules/fp8_gemm.hpp).
int32_t linear_gemm(ProgramBuilder& b, const std::string& what, const GemmShape& g, const Dims& d) {
  const int32_t id = b.gemm(Stream::Compute, what, g, d.e);
  Op& op = b.program().ops[id];
  op.gemm_type = rules::te_linear_gemm_type(d.quantized, op.phase == Phase::Forward || op.recompute, d.format);
  return id;
}

// Under fp8 training, TE's quantize kernel for an fp8 GEMM's operand of `elements` that no fused
// kernel produced in fp8: it reads it in bf16 and writes it in fp8, with its amax; on GPUs whose fp8
// GEMMs take only the "TN" layout (Hopper: dgrad and wgrad need the other) cast_transpose writes a
// transposed copy too: 2 + 1 (+ 1) bytes an element; MXFP8's and NVFP4's kernels write their row-wise
// and column-wise quantizations, 2 + 2 x (1 + 1/32) and 2 + 2 x (1/2 + 1/16) (rules/fp8_gemm.hpp). At the HBM copy's efficiency
// (not measured). Run for the inputs of the row-parallel GEMMs (the attention output, the
// activation's output), for the column-parallel GEMMs' inputs where TE's norm does not write fp8
// itself (column_forward, rules/te_norm_quantize.hpp) and for every output gradient in the backward.
// The weights' casts, once a step (Megatron's is_first_microbatch), are not counted.
void fp8_quantize(ProgramBuilder& b, const Dims& d, const std::string& what, double elements) {
  if (d.quantized) b.elementwise(Stream::Compute, what, ElementwiseKind::Fused, elements * d.fp8_quantize_bytes);
}

// Under fp8 with sequence parallelism, a GEMM operand TE gathers over TP is quantized on the rank's
// shard, row-wise only (an fp8 all-gather cannot carry the transposed copy: distributed.py,
// _all_gather_fp8; base.py grad_output_preprocess quantizes the output gradient before its gather),
// and gathered in fp8 (Dims::gathered_e). Where the GPU's fp8 GEMMs are TN-only, wgrad's transposed
// copy of the gathered tensor is one more kernel, 1 B read and 1 B written an element. Where TE's
// norm writes fp8 itself (rules/te_norm_quantize.hpp) its output has no cast of its own; without
// sequence parallelism its transposed copy is made in the forward. One direction of MXFP8's
// quantization is a cast too (1 + 1/32 B written an element).
void fp8_cast_one_copy(ProgramBuilder& b, const Dims& d, const std::string& what, double elements) {
  if (d.quantized)
    b.elementwise(Stream::Compute, what, ElementwiseKind::Fused, elements * rules::quantized_cast_bytes_per_element(d.format));
}
// An fp8 operand quantized on the rank's shard: per-tensor fp8 under SP casts it row-wise (its
// transposed copy is made after the gather); otherwise every copy TE keeps, from one read.
void fp8_quantize_shard(ProgramBuilder& b, const Dims& d, const std::string& what, double elements) {
  if (d.sp && !d.both_ways) fp8_cast_one_copy(b, d, what, elements);
  else fp8_quantize(b, d, what, elements);
}
void fp8_transpose(ProgramBuilder& b, const Dims& d, const std::string& what, double elements) {
  if (d.quantized && d.fp8_transposed_copy)
    b.elementwise(Stream::Compute, what, ElementwiseKind::Fused, elements * rules::kFp8TransposeBytesPerElement);
}

// NVFP4's column-wise copy is stored transposed: gathered over TP, its shards arrive interleaved and
// TE swaps them back (distributed.py, _post_process_nvfp4_gather: swap_first_dims of the data and
// the scales), one read and one write of the gathered copy.
void nvfp4_columnwise_swap(ProgramBuilder& b, const Dims& d, const std::string& what, double elements) {
  if (d.quantized && d.format == rules::QuantFormat::Nvfp4)
    b.elementwise(Stream::Compute, what, ElementwiseKind::Fused, elements * 2 * rules::kNvfp4BytesPerElement);
}

// Tensorwise (current) scaling casts a tensor by its own amax, measured just before the cast
// (pytorch/csrc/quantizer.cpp, Float8CurrentScalingQuantizer::quantize_impl), and NVFP4 scales a
// tensor by its amax too (NVFP4Quantizer: the amax, and the amax after the Hadamard transform, from
// one read; its amax reduced over TP where SP gathers the tensor, as tensorwise's): a kernel reading the
// bf16 tensor (2 B an element; nvte_compute_amax) where no kernel before produced the amax (TE's
// norms do, FUSED_NORM_AMAX_FP8: `elements` 0), then, for a tensor sequence parallelism gathers (the
// column-parallel GEMMs' inputs, the row-parallel GEMMs' output gradients:
// set_quantizer_amax_reduction_group), the ranks' amaxes all-reduced (MAX of one fp32) over TP
// before the scale is computed, on the compute stream's order.
void amax_before_cast(ProgramBuilder& b, const LayerContext& c, const Dims& d, const std::string& what,
                         double elements, bool gathered) {
  if (!d.amax_pass) return;
  if (elements > 0) b.elementwise(Stream::Compute, what + "_amax", ElementwiseKind::Fused, elements * d.e);
  if (gathered && d.sp)
    b.sync(Stream::Compute, b.collective(Stream::NcclTp, Stream::Compute, what + "_amax_ar", CommPattern::AllReduce,
                                         c.tp_group, rules::kFp8AmaxBytes));
}

// A GEMM (or chunk `g` of the GEMM `whole`) on the SMs less `sm_margin`.
int32_t gemm_on(ProgramBuilder& b, const std::string& what, const GemmShape& g, const Dims& d, int64_t sm_margin,
                const GemmShape* whole = nullptr) {
  const int32_t id = linear_gemm(b, what, g, d);
  Op& op = b.program().ops[id];
  op.gemm_sm_margin = sm_margin;
  op.userbuffers = d.ub;
  if (whole) op.gemm_whole_flops = 2.0 * double(whole->m) * double(whole->n) * double(whole->k);
  return id;
}

// Chunk `i` of the GEMM `whole` under userbuffers (its rows or output features `g`): one GEMM call
// whose C++ loop launches the chunks, the first standing for the call's launch.
void chunk_gemm(ProgramBuilder& b, const std::string& gemm, int64_t i, const GemmShape& g, const GemmShape& whole,
                const Dims& d, rules::TpOverlapMethod method) {
  const int32_t id = gemm_on(b, chunk_what(gemm, i), g, d, rules::gemm_sm_margin(method), &whole);
  b.program().ops[id].own_launch = i == 0;
}

// Userbuffers' ring exchange (split_overlap_ag): the [T/t, h] shards gathered by t - 1 transfers
// around the TP ring, each forwarding the chunk the one before delivered (queued on one comm
// stream, issued before the first chunk's GEMM), and the GEMM `g` of T rows run in t chunks,
// chunk i on the i-th shard to arrive (chunk 0 on the rank's own).
void ring_exchange_gemm(ProgramBuilder& b, const LayerContext& c, const Dims& d, const std::string& gemm,
                        const GemmShape& g) {
  using namespace rules;
  const int64_t n = overlap_splits(TpOverlapMethod::RingExchange, d.t);
  const double shard_bytes = d.sp_tokens * d.h * ub_data_e(d);
  ub_buffer_fill(b, c, d, gemm);
  std::vector<int32_t> shard(size_t(n - 1), -1);
  for (int64_t i = 0; i + 1 < n; ++i)
    shard[size_t(i)] = inside_gemm_call(b, b.sendrecv(Stream::NcclTp, Stream::Compute, gemm + ".ring" + std::to_string(i + 1),
                                                      c.tp_next, c.tp_prev, shard_bytes, shard_bytes, c.tp_group));
  for (int64_t i = 0; i < n; ++i) {
    if (i > 0) b.wait(Stream::Compute, shard[size_t(i - 1)]);
    chunk_gemm(b, gemm, i, {chunk_size(g.m, n, i), g.n, g.k}, g, d, TpOverlapMethod::RingExchange);
  }
}

// Column-parallel linear: input [T, in] gathered from the SP shards, output [T, out].
void column_forward(ProgramBuilder& b, const LayerContext& c, const Dims& d, const char* ag,
                    const char* gemm, int64_t out) {
  const GemmShape g{int64_t(d.tokens), out, d.h};
  const std::string input = std::string(gemm) + ".input_fp8";
  const double shard = d.sp_tokens * double(d.h);  // the norm's output on this rank
  switch (d.norm_output) {
    case rules::NormFp8Output::Quantized:  // the norm wrote fp8 (MXFP8: both ways); wgrad's transposed copy
      if (!d.sp) fp8_transpose(b, d, input + "_transpose", shard);
      break;
    case rules::NormFp8Output::Bf16WithAmax:  // tensorwise: the norm wrote bf16 and its amax
    case rules::NormFp8Output::Bf16:          // the norm wrote bf16 alone: the quantizer measures the amax
      amax_before_cast(b, c, d, input, d.norm_output == rules::NormFp8Output::Bf16 ? shard : 0, true);
      // MXFP8 (NVFP4) quantizes the shard both ways (the row-wise copy is gathered, the column-wise one kept
      // for wgrad's re-gather: layernorm_linear.py).
      fp8_quantize_shard(b, d, input, shard);
      break;
  }
  static_assert(rules::kColumnForwardMethod == rules::TpOverlapMethod::RingExchange);
  if (d.ub) return ring_exchange_gemm(b, c, d, gemm, g);
  if (d.sp) tp_sync(b, c, d, CommPattern::AllGather, ag, d.gathered_e);
  linear_gemm(b, gemm, g, d);
}

// Row-parallel linear: [T, in/t] x [in/t, h], then reduce-scatter (SP) or all-reduce.
// Userbuffers' pipeline (split_overlap_rs): the GEMM in 4 chunks of h / 4 output features on the
// SMs its reduce-scatter kernels leave, each chunk's [T, h / 4] output reduce-scattered beside the
// next chunk.
// A linear that keeps its original input (`keeps_input`: linear_proj, rules::proj_saves_original_input)
// quantizes it row-wise alone, for the forward GEMM.
void row_forward(ProgramBuilder& b, const LayerContext& c, const Dims& d, const char* gemm,
                 int64_t in, const char* comm, bool keeps_input = false) {
  const GemmShape g{int64_t(d.tokens), d.h, in};
  amax_before_cast(b, c, d, std::string(gemm) + ".input_fp8", d.tokens * double(in), false);
  if (keeps_input) fp8_cast_one_copy(b, d, std::string(gemm) + ".input_fp8", d.tokens * double(in));
  else fp8_quantize(b, d, std::string(gemm) + ".input_fp8", d.tokens * double(in));
  if (!d.ub) {
    linear_gemm(b, gemm, g, d);
    return tp_sync(b, c, d, d.sp ? CommPattern::ReduceScatter : CommPattern::AllReduce, comm, d.e);
  }
  using namespace rules;
  static_assert(kRowForwardMethod == TpOverlapMethod::Pipeline);
  const int64_t n = overlap_splits(TpOverlapMethod::Pipeline, d.t);
  int32_t reduced = -1;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t features = chunk_size(g.n, n, i);
    chunk_gemm(b, gemm, i, {g.m, features, g.k}, g, d, TpOverlapMethod::Pipeline);
    reduced = inside_gemm_call(b, b.collective(Stream::NcclTp, Stream::Compute, std::string(comm) + ".chunk" + std::to_string(i),
                                             CommPattern::ReduceScatter, c.tp_group, d.sp_tokens * double(features) * d.e));
  }
  b.wait(Stream::Compute, reduced);  // the comm stream runs them in order: the last one ends last
}

// Row-parallel backward: the output gradient [T/t, h] all-gathered (userbuffers: ring exchange
// under the dgrad GEMM), dgrad [T, h] x [h, in], wgrad on the gathered gradient. A linear that kept
// its original input quantizes it again, column-wise, for wgrad (with its amax pass where the
// format takes one).
void row_backward(ProgramBuilder& b, const LayerContext& c, const Dims& d, const char* ag,
                  const char* gemm, int64_t in, bool keeps_input = false) {
  const std::string g = gemm;
  const GemmShape dgrad{int64_t(d.tokens), in, d.h};
  amax_before_cast(b, c, d, g + "_grad_fp8", (d.sp ? d.sp_tokens : d.tokens) * double(d.h), true);
  // MXFP8 (NVFP4) quantizes the shard both ways at once and gathers both (its column-wise blocks run along
  // the tokens, so they gather too: distributed.py, _all_gather_mxfp8, _all_gather_nvfp4); with userbuffers, which
  // move one usage at a time, it quantizes the bf16 gradient twice, row-wise for dgrad's ring and
  // column-wise for the gather beside it (linear.py, grad_output_quantizer.set_usage). Per-tensor fp8
  // casts the shard row-wise and transposes the gathered tensor for wgrad (above).
  const double grad_shard = (d.sp ? d.sp_tokens : d.tokens) * double(d.h);
  if (d.sp && d.both_ways && d.ub) {
    fp8_cast_one_copy(b, d, g + "_grad_fp8", grad_shard);
    fp8_cast_one_copy(b, d, g + "_grad_fp8_colwise", grad_shard);
  } else {
    fp8_quantize_shard(b, d, g + "_grad_fp8", grad_shard);
  }
  int32_t columnwise = -1;  // MXFP8, NVFP4: wgrad's column-wise copy gathered beside dgrad
  if (d.sp && d.both_ways && d.ub) ub_buffer_fill(b, c, d, g + "_grad_colwise");
  if (d.sp && d.both_ways)
    columnwise = b.collective(Stream::NcclTp, Stream::Compute, g + "_grad_colwise_ag", CommPattern::AllGather,
                              c.tp_group, d.sp_tokens * d.h * tp_gather_e(d));
  static_assert(rules::kRowBackwardMethod == rules::TpOverlapMethod::RingExchange);
  if (d.ub) {
    // The column-wise gather is TE's own call (bulk_overlap_ag_with_external_gemm, after its buffer's
    // fill: linear.py), beside the ring exchange's GEMM.
    if (columnwise >= 0) by_userbuffers(b, columnwise);
    ring_exchange_gemm(b, c, d, g + "_dgrad", dgrad);
  } else {
    if (d.sp) tp_sync(b, c, d, CommPattern::AllGather, ag, d.gathered_e);
    linear_gemm(b, g + "_dgrad", dgrad, d);
  }
  if (columnwise >= 0) {
    b.wait(Stream::Compute, columnwise);
    nvfp4_columnwise_swap(b, d, g + "_grad_colwise_swap", d.tokens * double(d.h));
  }
  if (d.sp) fp8_transpose(b, d, g + "_grad_fp8_transpose", d.tokens * double(d.h));
  if (keeps_input) {
    amax_before_cast(b, c, d, g + "_input_fp8_colwise", d.tokens * double(in), false);
    fp8_cast_one_copy(b, d, g + "_input_fp8_colwise", d.tokens * double(in));
  }
  linear_gemm(b, g + "_wgrad", {d.h, in, int64_t(d.tokens)}, d);
}

void column_backward(ProgramBuilder& b, const LayerContext& c, const Dims& d, const char* gemm,
                     int64_t out) {
  const std::string g = gemm;
  // Userbuffers' bulk overlaps are these two, their GEMMs on the SMs its comm kernels leave.
  static_assert(rules::kColumnBackwardMethod == rules::TpOverlapMethod::Bulk);
  const int64_t margin = d.ub ? rules::gemm_sm_margin(rules::kColumnBackwardMethod) : 0;
  amax_before_cast(b, c, d, g + "_grad_fp8", d.tokens * double(out), false);
  fp8_quantize(b, d, g + "_grad_fp8", d.tokens * double(out));
  int32_t gathered = -1;
  if (d.ub) ub_buffer_fill(b, c, d, g + "_input");  // the saved input shard, into the dgrad GEMM's buffer
  if (d.sp)  // re-gather the saved input shard for wgrad, overlapped with dgrad
    gathered = b.collective(Stream::NcclTp, Stream::Compute, g + "_input_ag", CommPattern::AllGather, c.tp_group,
                            d.sp_tokens * d.h * tp_gather_e(d));
  if (d.ub) inside_gemm_call(b, gathered);
  gemm_on(b, g + "_dgrad", {int64_t(d.tokens), d.h, out}, d, margin);
  int32_t reduced = -1;
  if (d.t > 1)  // dgrad reduce-scatter (SP) / all-reduce, overlapped with wgrad
    reduced = b.collective(Stream::NcclTp, Stream::Compute,
                           g + (d.sp ? "_dgrad_rs" : "_dgrad_ar"),
                           d.sp ? CommPattern::ReduceScatter : CommPattern::AllReduce, c.tp_group,
                           (d.sp ? d.sp_tokens : d.tokens) * d.h * d.e);
  if (d.ub) inside_gemm_call(b, reduced);
  if (gathered >= 0) {
    b.wait(Stream::Compute, gathered);
    fp8_transpose(b, d, g + "_input_fp8_transpose", d.tokens * double(d.h));
    nvfp4_columnwise_swap(b, d, g + "_input_colwise_swap", d.tokens * double(d.h));
  }
  gemm_on(b, g + "_wgrad", {out, d.h, int64_t(d.tokens)}, d, margin);
  if (reduced >= 0) b.wait(Stream::Compute, reduced);
  // The bulk reduce-scatter leaves dgrad's [T/t, h] shard in the userbuffers buffer, which TE clones
  // out of it (ub_obj_wgrad.get_buffer(local_chunk=True).clone(): the buffer holds bf16, not fp8).
  if (d.ub) b.elementwise(Stream::Compute, g + "_dgrad.ub_clone", 2 * d.sp_tokens * d.h * d.e);
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
  if (d.qkv_gather)  // the rank's QKV columns are not its heads: gathered, then sliced
    b.sync(Stream::Compute, b.collective(Stream::NcclTp, Stream::Compute, "tp_ag_qkv_columns", CommPattern::AllGather,
                                         c.tp_group, d.tokens * double(d.qkv_out) * d.e));
  b.elementwise(Stream::Compute, "rope", d.rope, rope_bytes(c, false));
  core_attention_forward(b, c.attn);
  row_forward(b, c, d, "proj_gemm", d.attn_out, d.sp ? "tp_rs_proj" : "tp_ar_proj", d.proj_keeps_input);
  b.elementwise(Stream::Compute, "residual_add_attn", ElementwiseKind::Add, stream_bytes(d, 3));
  b.elementwise(Stream::Compute, "pre_mlp_norm", ElementwiseKind::Norm, stream_bytes(d, 2));
  column_forward(b, c, d, "tp_ag_fc1", "fc1_gemm", d.fc1_out);
  // SwiGLU reads both fc1 halves and writes ffn/t; GeLU reads and writes ffn/t.
  b.elementwise(Stream::Compute, d.glu ? "swiglu" : "gelu", d.activation,
                (d.glu ? 3 : 2) * d.tokens * double(d.ffn_local) * d.e, activation_of_copy(d, false));
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
                (d.glu ? 5 : 3) * d.tokens * double(d.ffn_local) * d.e, activation_of_copy(d, true));
  column_backward(b, c, d, "fc1", d.fc1_out);
  b.elementwise(Stream::Compute, "pre_mlp_norm", ElementwiseKind::Norm, stream_bytes(d, 3));
  b.elementwise(Stream::Compute, "residual_add_mlp", ElementwiseKind::Add, stream_bytes(d, 3));
  row_backward(b, c, d, "tp_ag_proj_grad", "proj", d.attn_out, d.proj_keeps_input);
  if (s.training.recompute_granularity == RecomputeGranularity::Selective) {
    b.set_recompute(true);
    core_attention_forward(b, c.attn);
    b.set_recompute(false);
  }
  core_attention_backward(b, c.attn);
  b.elementwise(Stream::Compute, "rope", d.rope, rope_bytes(c, true));
  if (d.qkv_gather)  // the gather's backward: the QKV output gradient reduce-scattered to the rank's columns
    b.sync(Stream::Compute, b.collective(Stream::NcclTp, Stream::Compute, "tp_rs_qkv_columns", CommPattern::ReduceScatter,
                                         c.tp_group, d.tokens * double(d.qkv_out) * d.e));
  column_backward(b, c, d, "qkv", d.qkv_out);
  b.elementwise(Stream::Compute, "input_norm", ElementwiseKind::Norm, stream_bytes(d, 3));
  b.elementwise(Stream::Compute, "residual_add_attn", ElementwiseKind::Add, stream_bytes(d, 3));
}

}  // namespace hcpsim

// Parameter counts from the model shape, for the whole model and per TP rank.
//
// Per transformer layer (Megatron GPT layer, no biases, RMSNorm with a weight only):
//   QKV projection   h * (hq + 2*hk) * d        (hq query heads, hk KV heads, d = kv_channels)
//   output proj      hq * d * h
//   MLP              3 * h * ffn  (gated: gate, up, down)   or 2 * h * ffn
//   two norms        2 * h
// Model: layers * per-layer + embedding vocab*h + output layer vocab*h (untied) + final norm h.
// Check: Llama-3.1-8B gives 8,030,261,248 and Llama-3.1-70B 70,553,706,496 (published 8.03B, 70.6B).
//
// Per TP rank (Megatron tensor parallelism): QKV, proj and MLP matrices are split TP ways
// (column/row parallel), norms are replicated, embedding and output layer are vocab-parallel
// over the vocabulary padded to a multiple of 128*TP (Megatron's _vocab_size_with_padding,
// make_vocab_size_divisible_by = 128). With TP > num_query_groups each TP rank's attention runs
// one KV head, max(1, hk/TP), while the fused QKV weight stays split by columns (below).
#pragma once

#include <cstdint>

#include "scenario/scenario.hpp"

namespace hcpsim {

struct LayerParamCounts {
  int64_t qkv = 0;
  int64_t proj = 0;
  int64_t mlp = 0;
  int64_t norms = 0;
  int64_t gemm() const { return qkv + proj + mlp; }  // weights of the layer's GEMMs
  int64_t total() const { return gemm() + norms; }
};

struct ParamCounts {
  LayerParamCounts layer;  // one transformer layer
  int64_t num_layers = 0;
  int64_t embedding = 0;     // vocab * h
  int64_t output_layer = 0;  // vocab * h when untied, else 0
  int64_t final_norm = 0;    // h
  int64_t layers_total() const { return num_layers * layer.total(); }
  int64_t total() const { return layers_total() + embedding + output_layer + final_norm; }
};

// KV heads one TP rank's attention runs: hk/TP, or 1 when TP > hk.
int64_t kv_heads_per_tp_rank(const ModelSpec& m, int64_t tp);
// Columns of the fused QKV projection one TP rank holds and computes: Megatron's linear_qkv is a
// column-parallel (hq + 2 hk) d split over TP whatever the KV groups. With fewer KV groups than TP
// ranks (qkv_gathered_over_tp) a rank's columns are not its heads: Megatron all-gathers the QKV
// output over TP along its last dimension and slices its heads out (attention.py,
// get_query_key_value_tensors, num_query_groups < world_size; the backward reduce-scatters it).
int64_t qkv_out_per_tp_rank(const ModelSpec& m, int64_t tp);
bool qkv_gathered_over_tp(const ModelSpec& m, int64_t tp);
// Vocabulary padded to a multiple of 128*TP, as Megatron pads it.
int64_t padded_vocab_size(int64_t vocab_size, int64_t tp);

// Whole model, unpadded vocabulary (what model cards publish).
ParamCounts count_params(const ModelSpec& m);
// count_params(m).total() in floating point, for shapes whose count would leave int64 (validation
// refuses them before anything counts in integers).
double count_params_in_double(const ModelSpec& m);
// What one TP rank holds (PP = 1): sharded matrices / TP, padded vocab / TP, norms whole.
ParamCounts count_params_per_tp_rank(const ModelSpec& m, int64_t tp);
// What one TP rank of pipeline stage `stage` holds: its layers (split.layers), the embedding on
// the first stage, the output layer and final norm on the last. With tied embeddings and PP > 1
// the last stage keeps its own copy of the word embedding to project with (Megatron's
// shared-embedding copy). PP = 1: count_params_per_tp_rank.
ParamCounts count_params_per_stage(const ModelSpec& m, int64_t tp, const PipelineSplit& split, int64_t stage);

}  // namespace hcpsim

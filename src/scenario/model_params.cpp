#include "scenario/model_params.hpp"

#include <cassert>

namespace hcpsim {

int64_t kv_heads_per_tp_rank(const ModelSpec& m, int64_t tp) {
  assert(tp > 0);
  return m.num_query_groups >= tp ? m.num_query_groups / tp : 1;
}

int64_t qkv_out_per_tp_rank(const ModelSpec& m, int64_t tp) {
  assert(tp > 0);
  return (m.num_attention_heads + 2 * m.num_query_groups) * m.kv_channels / tp;
}

bool qkv_gathered_over_tp(const ModelSpec& m, int64_t tp) { return m.num_query_groups < tp; }

int64_t padded_vocab_size(int64_t vocab_size, int64_t tp) {
  const int64_t multiple = 128 * tp;
  return (vocab_size + multiple - 1) / multiple * multiple;
}

namespace {

// hq: query heads of the shard; qkv_out: its fused QKV columns; ffn: FFN width of the shard;
// vocab: rows held.
ParamCounts counts(const ModelSpec& m, int64_t hq, int64_t qkv_out, int64_t ffn, int64_t vocab) {
  const int64_t h = m.hidden_size, d = m.kv_channels;
  ParamCounts p;
  p.layer.qkv = h * qkv_out;
  p.layer.proj = hq * d * h;
  p.layer.mlp = (m.gated_linear_unit ? 3 : 2) * h * ffn;
  p.layer.norms = 2 * h;
  p.num_layers = m.num_layers;
  p.embedding = vocab * h;
  p.output_layer = m.untie_embeddings_and_output_weights ? vocab * h : 0;
  p.final_norm = h;
  return p;
}

}  // namespace

ParamCounts count_params(const ModelSpec& m) {
  return counts(m, m.num_attention_heads, qkv_out_per_tp_rank(m, 1), m.ffn_hidden_size, m.vocab_size);
}

double count_params_in_double(const ModelSpec& m) {  // counts() above, term for term
  const double h = double(m.hidden_size), d = double(m.kv_channels), hq = double(m.num_attention_heads);
  const double layer = h * (hq + 2 * double(m.num_query_groups)) * d + hq * d * h +
                       (m.gated_linear_unit ? 3 : 2) * h * double(m.ffn_hidden_size) + 2 * h;
  const double vocab_rows = (m.untie_embeddings_and_output_weights ? 2 : 1) * double(m.vocab_size);
  return double(m.num_layers) * layer + vocab_rows * h + h;
}

ParamCounts count_params_per_tp_rank(const ModelSpec& m, int64_t tp) {
  assert(tp > 0 && m.num_attention_heads % tp == 0 && m.ffn_hidden_size % tp == 0);
  return counts(m, m.num_attention_heads / tp, qkv_out_per_tp_rank(m, tp), m.ffn_hidden_size / tp,
                padded_vocab_size(m.vocab_size, tp) / tp);
}

ParamCounts count_params_per_stage(const ModelSpec& m, int64_t tp, const PipelineSplit& split, int64_t stage) {
  const int64_t stages = int64_t(split.layers.size());
  assert(stages >= 1 && stage >= 0 && stage < stages);
  ParamCounts c = count_params_per_tp_rank(m, tp);
  const int64_t word_embedding = c.embedding;
  c.num_layers = split.stage_layers(stage);
  const bool first = stage == 0, last = stage == stages - 1;
  c.embedding = first ? word_embedding : 0;
  if (!last) {
    c.output_layer = 0;
    c.final_norm = 0;
  } else if (!first && !m.untie_embeddings_and_output_weights) {
    c.output_layer = word_embedding;  // the last stage's copy of the tied embedding
  }
  return c;
}

}  // namespace hcpsim

#include "memory/activations.hpp"

#include "scenario/model_params.hpp"

namespace hcpsim {

LayerActivationBytes layer_activation_bytes(const Scenario& s) {
  const ModelSpec& m = s.model;
  const int64_t tp = s.parallel.tensor_model_parallel_size;
  const double e = static_cast<double>(s.activation_bytes_per_element());
  const double t_sp = s.parallel.sequence_parallel ? static_cast<double>(tp) : 1.0;
  const double h = static_cast<double>(m.hidden_size);
  const double d = static_cast<double>(m.kv_channels);
  const double hq_r = static_cast<double>(m.num_attention_heads / tp);
  const double hk_r = static_cast<double>(kv_heads_per_tp_rank(m, tp));
  const double ffn_r = static_cast<double>(m.ffn_hidden_size / tp);
  const double ffn_saved = (m.gated_linear_unit ? 3.0 : 2.0) * ffn_r;

  LayerActivationBytes a;
  a.tokens_per_rank = static_cast<double>(s.training.micro_batch_size * s.training.seq_length /
                                          s.parallel.context_parallel_size);
  const double T = a.tokens_per_rank;
  a.layer_input_bytes = T * e * h / t_sp;
  a.attn_pre_bytes = T * e * (2.0 * h / t_sp + (hq_r + 2.0 * hk_r) * d);
  a.attn_out_bytes = T * e * hq_r * d;
  a.lse_bytes = T * hq_r * 4.0;
  a.mlp_bytes = T * e * (2.0 * h / t_sp + ffn_saved);
  return a;
}

double saved_bytes_per_layer(const LayerActivationBytes& a, RecomputeGranularity r,
                             double cp_saved_extra_bytes) {
  switch (r) {
    case RecomputeGranularity::None: return a.no_recompute_bytes() + cp_saved_extra_bytes;
    case RecomputeGranularity::Selective: return a.attn_pre_bytes + a.attn_out_bytes + a.mlp_bytes;
    case RecomputeGranularity::Full: return a.layer_input_bytes;
  }
  return 0;
}

}  // namespace hcpsim

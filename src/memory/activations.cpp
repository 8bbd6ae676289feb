#include "memory/activations.hpp"

#include "rules/fp8_gemm.hpp"
#include "scenario/model_params.hpp"

namespace hcpsim {

bool proj_saves_fp8_copy(const Scenario& s) {
  return s.training.quantized() && !rules::proj_saves_original_input(s.training.quantized(), s.training.delayed_fp8_scaling(),
                                                                      s.software.transformer_engine_version >= Version{2, 6, 0});
}

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

  const bool fp8 = s.training.quantized();  // fp8 or NVFP4
  const double fp8_e = rules::quantized_element_bytes(s.training.quant_format());  // one quantized copy
  const double q = fp8 ? fp8_e : e;  // a TE Linear's saved input
  const double act_in_r = (m.gated_linear_unit ? 2.0 : 1.0) * ffn_r;  // FC1 output: the activation's input

  LayerActivationBytes a;
  a.tokens_per_rank = static_cast<double>(s.training.micro_batch_size * s.training.seq_length /
                                          s.parallel.context_parallel_size);
  const double T = a.tokens_per_rank;
  a.layer_input_bytes = T * e * h / t_sp;
  a.attn_pre_bytes = T * (e * h / t_sp + q * h / t_sp + e * (hq_r + 2.0 * hk_r) * d);
  a.attn_out_bytes = T * e * hq_r * d;
  a.proj_input_fp8_bytes = proj_saves_fp8_copy(s) ? T * fp8_e * hq_r * d : 0.0;
  a.lse_bytes = T * hq_r * 4.0;
  a.mlp_bytes = T * (e * h / t_sp + q * h / t_sp + e * act_in_r + q * ffn_r);
  return a;
}

double saved_bytes_per_layer(const LayerActivationBytes& a, RecomputeGranularity r,
                             double cp_saved_extra_bytes) {
  switch (r) {
    case RecomputeGranularity::None: return a.no_recompute_bytes() + cp_saved_extra_bytes;
    case RecomputeGranularity::Selective:  // O stays as the projection's input: bf16, or its fp8 copy
      return a.attn_pre_bytes + (a.proj_input_fp8_bytes > 0 ? a.proj_input_fp8_bytes : a.attn_out_bytes) + a.mlp_bytes;
    case RecomputeGranularity::Full: return a.layer_input_bytes;
  }
  return 0;
}

}  // namespace hcpsim

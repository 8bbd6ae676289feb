#include "workload/fsdp_ops.hpp"

#include "rules/megatron_fsdp.hpp"

namespace hcpsim {

double fsdp_unit_param_bytes(const Scenario& s, const LayerParamCounts& layer) {
  return rules::fsdp_param_bytes(double(layer.gemm()), double(layer.norms), s.training.quantized_param_gather());
}

double fsdp_unit_grad_bytes(const LayerParamCounts& layer) {
  return rules::kFsdpGradBytesPerParam * double(layer.total());
}

int32_t fsdp_gather(ProgramBuilder& b, const FsdpContext& c, const char* what, double params_bytes, OpArea in) {
  AreaScope area(b, in);
  return b.collective(Stream::NcclDp, Stream::Compute, what, CommPattern::AllGather, c.dp_cp_group,
                      params_bytes / double(c.dp_cp_size));
}

int32_t fsdp_reduce(ProgramBuilder& b, const FsdpContext& c, const char* what, double grad_bytes) {
  AreaScope area(b, OpArea::GradReduce);
  return b.collective(Stream::NcclDp, Stream::Compute, what, CommPattern::ReduceScatter, c.dp_cp_group,
                      grad_bytes / double(c.dp_cp_size));
}

int32_t fsdp_layer_forward_begin(ProgramBuilder& b, const FsdpContext& c) {
  if (!c.active()) return -1;
  return fsdp_gather(b, c, "fsdp_param_ag.next_layer", fsdp_unit_param_bytes(*c.scenario, c.layer));
}

void fsdp_layer_backward_begin(ProgramBuilder& b, const FsdpContext& c) {
  if (!c.active()) return;
  const Scenario& s = *c.scenario;
  // One NCCL communicator (the DP x CP group) carries both: they run one after the other.
  fsdp_gather(b, c, "fsdp_param_ag.previous_layer", fsdp_unit_param_bytes(s, c.layer));
  fsdp_reduce(b, c, "fsdp_grad_rs.next_layer", fsdp_unit_grad_bytes(c.layer));
  const double transpose = rules::fsdp_backward_transpose_bytes_per_param(s.training.quantized_param_gather(),
                                                                         s.cluster.gpu.compute_capability);
  if (transpose > 0)
    b.elementwise(Stream::Compute, "fsdp_fp8_weight_transpose", ElementwiseKind::Fused, transpose * double(c.layer.gemm()));
}

}  // namespace hcpsim

#include "memory/model_states.hpp"

#include <cassert>

#include "rules/fp8_gemm.hpp"
#include "rules/megatron_fsdp.hpp"
#include "rules/tp_comm_overlap.hpp"
#include "scenario/model_params.hpp"

namespace hcpsim {

namespace {
constexpr double kMiB = 1024.0 * 1024.0;
constexpr double kWeightBytesPerParam = 2;      // bf16
constexpr double kBf16GradBytesPerParam = 2;    // the parameters' bf16 (grad_reduce_in_fp32 off)
constexpr double kOptimizerBytesPerParam = 12;  // fp32 master + Adam m + v
constexpr double kCudaContextBytes = 512 * kMiB;
constexpr double kGemmWorkspaceBytes = 64 * kMiB;
constexpr double kNcclBytesPerCommunicator = 256 * kMiB;

// Pair communicators a ring of n ranks uses: previous and next neighbour (one when n == 2).
int64_t ring_communicators(int64_t n) { return n <= 1 ? 0 : (n == 2 ? 1 : 2); }
}  // namespace

ModelStateBytes model_state_bytes(const Scenario& s, int64_t stage) {
  const ParallelSpec& par = s.parallel;
  const PipelineSplit split = pipeline_split(par.pipeline(), s.model.num_layers);
  assert(split.problem.empty());
  const ParamCounts p = count_params_per_stage(s.model, par.tensor_model_parallel_size, split, stage);
  ModelStateBytes m;
  m.params_per_gpu = static_cast<double>(p.total());
  m.optimizer_shard =
      par.use_distributed_optimizer ? par.data_parallel_size * par.context_parallel_size : 1;
  m.weights_bytes = kWeightBytesPerParam * m.params_per_gpu;
  if (s.training.quantized()) {
    const double gemm_params = static_cast<double>(p.num_layers * p.layer.gemm());
    // TE's fp8 weight, and its transpose where the GPU's fp8 GEMMs are TN-only; MXFP8's and NVFP4's
    // row-wise and column-wise quantizations (rules/fp8_gemm.hpp).
    m.quantized_weight_copies_bytes =
        rules::quantized_copy_bytes_per_element(s.cluster.gpu.compute_capability, s.training.quant_format()) * gemm_params;
    // Quantized primary weights (training.fp8_param_gather, fp4_param_gather): the GEMM weights are
    // those copies, with no bf16 copy beside them.
    if (s.training.quantized_param_gather()) m.weights_bytes -= kWeightBytesPerParam * gemm_params;
  }
  m.main_grads_bytes =
      (par.grad_reduce_in_fp32 ? kMainGradFp32BytesPerParam : kBf16GradBytesPerParam) * m.params_per_gpu;
  m.optimizer_bytes =
      kOptimizerBytesPerParam * m.params_per_gpu / static_cast<double>(m.optimizer_shard);
  if (par.fsdp_sharded()) {
    const double n = static_cast<double>(par.data_parallel_size * par.context_parallel_size);
    const bool fp8_params = s.training.quantized_param_gather();
    const double gemm_params = static_cast<double>(p.num_layers * p.layer.gemm());
    m.fsdp = true;
    m.weights_bytes = rules::fsdp_param_bytes(gemm_params, m.params_per_gpu - gemm_params, fp8_params) / n;
    // fp8 primary weights are the sharded weights themselves; bf16 ones keep TE's cached fp8 copies.
    if (fp8_params) m.quantized_weight_copies_bytes = 0;
    m.main_grads_bytes = rules::kFsdpGradBytesPerParam * m.params_per_gpu / n;
    const double unit_gemm = static_cast<double>(p.layer.gemm()), unit_other = static_cast<double>(p.layer.norms);
    m.fsdp_unit_buffers_bytes =
        rules::kFsdpDoubleBufferUnits *
        (rules::fsdp_param_bytes(unit_gemm, unit_other, fp8_params) +
         rules::kFsdpGradBytesPerParam * (unit_gemm + unit_other) +
         (fp8_params && rules::fp8_needs_transposed_copy(s.cluster.gpu.compute_capability) ? 1.0 : 0.0) * unit_gemm);
    m.fsdp_non_layer_bytes = 2.0 * static_cast<double>(p.embedding + p.output_layer + p.final_norm);
  }
  return m;
}

WorkspaceBytes workspace_bytes(const Scenario& s) {
  const ParallelSpec& par = s.parallel;
  int64_t comms = par.tensor_model_parallel_size > 1 ? 1 : 0;
  if (par.context_parallel_size > 1) {
    switch (par.cp_comm_type) {
      case CpCommType::P2P: comms += ring_communicators(par.context_parallel_size); break;
      case CpCommType::AllGather:
      case CpCommType::A2A: comms += 1; break;
      case CpCommType::A2AP2P:
        comms += (par.a2a_size() > 1 ? 1 : 0) + ring_communicators(par.p2p_size());
        break;
    }
  }
  if (par.data_parallel_size * par.context_parallel_size > 1) comms += 1;
  if (par.pipeline_model_parallel_size > 1) comms += 1;
  WorkspaceBytes w;
  w.cuda_context_bytes = kCudaContextBytes;
  w.gemm_workspace_bytes = kGemmWorkspaceBytes;
  w.nccl_communicators = comms;
  w.nccl_bytes = kNcclBytesPerCommunicator * static_cast<double>(comms);
  if (par.tp_comm_overlap && par.tensor_model_parallel_size > 1) {
    const rules::UserbufferCounts n = rules::userbuffer_counts(s.software.transformer_engine_version >= Version{2, 7, 0});
    const double elements = double(s.training.seq_length) * double(s.training.micro_batch_size) /
                            double(par.context_parallel_size) * double(s.model.hidden_size);
    const double e = double(s.activation_bytes_per_element());
    const double ag_e = s.training.quantized() ? rules::quantized_element_bytes(s.training.quant_format()) : e;
    w.userbuffers = n.all_gather + n.reduce_scatter;
    w.userbuffers_bytes = elements * (double(n.all_gather) * ag_e + double(n.reduce_scatter) * e);
  }
  return w;
}

}  // namespace hcpsim

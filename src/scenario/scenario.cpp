#include "scenario/scenario.hpp"

#include <algorithm>
#include <cassert>
#include <map>

namespace hcpsim {

const char* to_string(CpCommType t) {
  switch (t) {
    case CpCommType::P2P: return "p2p";
    case CpCommType::AllGather: return "all_gather";
    case CpCommType::A2A: return "a2a";
    case CpCommType::A2AP2P: return "a2a+p2p";
  }
  return "?";
}
const char* to_string(Precision p) {
  switch (p) {
    case Precision::BF16: return "bf16";
    case Precision::FP8: return "fp8";
    case Precision::NVFP4: return "nvfp4";
  }
  return "?";
}
const char* to_string(Fp8Recipe r) {
  switch (r) {
    case Fp8Recipe::Delayed: return "delayed";
    case Fp8Recipe::Tensorwise: return "tensorwise";
    case Fp8Recipe::Mxfp8: return "mxfp8";
  }
  return "?";
}
const char* to_string(RecomputeGranularity r) {
  switch (r) {
    case RecomputeGranularity::None: return "none";
    case RecomputeGranularity::Selective: return "selective";
    case RecomputeGranularity::Full: return "full";
  }
  return "?";
}
const char* to_string(RecomputeMethod m) { return m == RecomputeMethod::Uniform ? "uniform" : "block"; }
std::string recompute_str(RecomputeGranularity r, RecomputeMethod m, int64_t layers) {
  if (r != RecomputeGranularity::Full || (m == RecomputeMethod::Uniform && layers == 1)) return to_string(r);
  return std::string("full (") + to_string(m) + " " + std::to_string(layers) + ")";
}
std::vector<TrainingSpec::SequenceGroup> TrainingSpec::attention_sequences() const {
  if (document_length > 0) return {{micro_batch_size * (seq_length / document_length), document_length}};
  if (document_lengths.empty()) return {{micro_batch_size, seq_length}};
  // One group per length, in order of first appearance, each counting its documents in every sequence
  // of the micro batch: at most as many groups as lengths, however long the micro batch.
  std::vector<SequenceGroup> out;
  std::map<int64_t, size_t> group_of_length;
  for (const int64_t d : document_lengths) {
    const auto [at, fresh] = group_of_length.try_emplace(d, out.size());
    if (fresh) out.push_back({0, d});
    out[at->second].count += micro_batch_size;
  }
  return out;
}

std::string TrainingSpec::documents_text() const {
  int64_t count = 0, shortest = document_length, longest = document_length;
  if (document_length > 0) count = seq_length / document_length;
  for (const int64_t d : document_lengths) {
    shortest = count == 0 ? d : std::min(shortest, d), longest = count == 0 ? d : std::max(longest, d);
    ++count;
  }
  return std::to_string(count) + (count == 1 ? " document of " : " documents of ") + std::to_string(shortest) +
         (shortest == longest ? "" : " to " + std::to_string(longest)) + " tokens";
}

const char* to_string(AttnMaskType m) { return m == AttnMaskType::Causal ? "causal" : "no_mask"; }
const char* to_string(IntraNodeKind k) {
  switch (k) {
    case IntraNodeKind::NVSwitch: return "nvswitch";
    case IntraNodeKind::PCIe: return "pcie";
    case IntraNodeKind::NVLDomain: return "nvl_domain";
  }
  return "?";
}
const char* to_string(WorkloadKind w) {
  switch (w) {
    case WorkloadKind::Step: return "step";
    case WorkloadKind::Layer: return "layer";
    case WorkloadKind::Attention: return "attention";
  }
  return "?";
}
const char* to_string(Passes p) { return p == Passes::Fwd ? "fwd" : "fwd+bwd"; }

const char* to_string(CudaGraphImpl g) {
  switch (g) {
    case CudaGraphImpl::None: return "none";
    case CudaGraphImpl::Local: return "local";
    case CudaGraphImpl::TransformerEngine: return "transformer_engine";
    case CudaGraphImpl::FullIteration: return "full_iteration";
  }
  return "?";
}
const char* to_string(AttentionBackend b) {
  switch (b) {
    case AttentionBackend::CuDNN: return "cudnn";
    case AttentionBackend::Flash: return "flash";
    case AttentionBackend::Hcpsim: return "hcpsim";
  }
  return "?";
}

int64_t ParallelSpec::a2a_size() const {
  switch (cp_comm_type) {
    case CpCommType::A2A: return context_parallel_size;
    case CpCommType::A2AP2P:
      return hierarchical_context_parallel_sizes.empty() ? 1 : hierarchical_context_parallel_sizes.front();
    default: return 1;
  }
}

int64_t ParallelSpec::p2p_size() const {
  switch (cp_comm_type) {
    case CpCommType::P2P: return context_parallel_size;
    case CpCommType::A2AP2P: {
      const int64_t a = a2a_size();
      return a > 0 ? context_parallel_size / a : context_parallel_size;
    }
    default: return 1;
  }
}

PipelineSpec ParallelSpec::pipeline() const {
  return PipelineSpec{.stages = pipeline_model_parallel_size,
                      .virtual_stages = virtual_pipeline_model_parallel_size,
                      .first_stage_layers = decoder_first_pipeline_num_layers,
                      .last_stage_layers = decoder_last_pipeline_num_layers,
                      .account_for_embedding = account_for_embedding_in_pipeline_split,
                      .account_for_loss = account_for_loss_in_pipeline_split,
                      .microbatch_group = microbatch_group_size_per_vp_stage,
                      .overlap_p2p_comm = overlap_p2p_comm.value_or(virtual_pipeline_model_parallel_size > 1)};
}

std::string Version::str() const {
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

int64_t Scenario::num_microbatches() const {
  const int64_t per_step = training.micro_batch_size * parallel.data_parallel_size;
  assert(per_step > 0);
  return training.global_batch_size / per_step;
}

}  // namespace hcpsim

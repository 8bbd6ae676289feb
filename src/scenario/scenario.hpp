// The parsed, validated description of one what-if study, in SI units.
//
// Every field keeps the Megatron/TE name users already know. Parsing and
// validation (scenario_parse.cpp, validate.cpp) are the only producers; every
// other module reads these plain structs and never touches JSON.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rules/cp_schedule.hpp"
#include "rules/fp8_gemm.hpp"
#include "rules/fused_kernels.hpp"
#include "rules/nccl_algorithm.hpp"
#include "rules/pipeline.hpp"
#include "rules/recompute.hpp"

namespace hcpsim {

enum class CpCommType { P2P, AllGather, A2A, A2AP2P };
// The precision of TE's Linears' GEMMs: bf16; fp8 (Megatron's --fp8-format, with its recipe); or
// nvfp4 (Megatron's --fp4-format e2m1 --fp4-recipe nvfp4: Transformer Engine's NVFP4BlockScaling,
// Blackwell). Attention, norms and the LM head stay bf16 under both.
enum class Precision { BF16, FP8, NVFP4 };
// Megatron's --fp8-recipe: Transformer Engine's per-tensor recipes, DelayedScaling (scales from an
// amax history) and tensorwise (Float8CurrentScaling: each tensor's scale from its own amax, measured
// just before its cast); and mxfp8 (MXFP8BlockScaling, Blackwell: E4M3 with one power-of-two scale per
// 32 elements along the GEMM's reduction dimension). blockwise (1x128 / 128x128) is not modelled.
enum class Fp8Recipe { Delayed, Tensorwise, Mxfp8 };
enum class RecomputeGranularity { None, Selective, Full };
enum class AttnMaskType { Causal, NoMask };
enum class IntraNodeKind { NVSwitch, PCIe, NVLDomain };
enum class WorkloadKind { Step, Layer, Attention };
enum class Passes { Fwd, FwdBwd };
// The attention kernels the training runs (software.attention_backend; docs/cost-model.md §2):
// cuDNN's fused attention (Transformer Engine's FusedAttention, its default on Hopper and
// Blackwell), FlashAttention (2/3), or hcpsim's own kernels (kernels/).
enum class AttentionBackend { CuDNN, Flash, Hcpsim };
// Megatron's --cuda-graph-impl (TransformerConfig.cuda_graph_impl): no CUDA graphs; per-layer graphs
// (Megatron's own, "local", or TE's make_graphed_callables, "transformer_engine"; the whole layer,
// cuda_graph_modules empty); or one graph for the whole forward-backward of the iteration
// ("full_iteration", the optimizer step outside it).
enum class CudaGraphImpl { None, Local, TransformerEngine, FullIteration };

// Every value of each enum, in the order the names are offered to users; to_string gives the
// name a scenario file spells (the one definition: parsing, echoing and errors use it).
inline constexpr CpCommType kCpCommTypes[] = {CpCommType::P2P, CpCommType::AllGather, CpCommType::A2A,
                                              CpCommType::A2AP2P};
inline constexpr CpLoadBalance kCpLoadBalances[] = {CpLoadBalance::Zigzag, CpLoadBalance::Contiguous,
                                                    CpLoadBalance::Stripe};
inline constexpr Precision kPrecisions[] = {Precision::BF16, Precision::FP8, Precision::NVFP4};
inline constexpr Fp8Recipe kFp8Recipes[] = {Fp8Recipe::Delayed, Fp8Recipe::Tensorwise, Fp8Recipe::Mxfp8};
inline constexpr RecomputeGranularity kRecomputeGranularities[] = {
    RecomputeGranularity::None, RecomputeGranularity::Selective, RecomputeGranularity::Full};
inline constexpr RecomputeMethod kRecomputeMethods[] = {RecomputeMethod::Uniform, RecomputeMethod::Block};
inline constexpr AttnMaskType kAttnMaskTypes[] = {AttnMaskType::Causal, AttnMaskType::NoMask};
inline constexpr IntraNodeKind kIntraNodeKinds[] = {IntraNodeKind::NVSwitch, IntraNodeKind::PCIe,
                                                    IntraNodeKind::NVLDomain};
inline constexpr WorkloadKind kWorkloadKinds[] = {WorkloadKind::Step, WorkloadKind::Layer, WorkloadKind::Attention};
inline constexpr Passes kPasses[] = {Passes::Fwd, Passes::FwdBwd};
inline constexpr AttentionBackend kAttentionBackends[] = {AttentionBackend::CuDNN, AttentionBackend::Flash,
                                                          AttentionBackend::Hcpsim};
inline constexpr CudaGraphImpl kCudaGraphImpls[] = {CudaGraphImpl::None, CudaGraphImpl::Local,
                                                    CudaGraphImpl::TransformerEngine, CudaGraphImpl::FullIteration};

const char* to_string(CpCommType t);  // "p2p", "all_gather", "a2a", "a2a+p2p"
const char* to_string(Precision p);
const char* to_string(Fp8Recipe r);  // "delayed", "tensorwise", "mxfp8" (Megatron's names)
const char* to_string(RecomputeGranularity r);
const char* to_string(RecomputeMethod m);  // Megatron's names: "uniform", "block"
// The recompute setting in a word or three: "none", "selective", "full" (every layer on its own),
// "full (block 5)", "full (uniform 4)".
std::string recompute_str(RecomputeGranularity r, RecomputeMethod m, int64_t layers);
const char* to_string(AttnMaskType m);
const char* to_string(IntraNodeKind k);
const char* to_string(WorkloadKind w);
const char* to_string(Passes p);
const char* to_string(AttentionBackend b);  // "cudnn", "flash", "hcpsim"
const char* to_string(CudaGraphImpl g);     // Megatron's names: "none", "local", "transformer_engine", "full_iteration"

struct ModelSpec {
  std::string name;                        // preset name, HF path, or "custom"
  int64_t num_layers = 0;
  int64_t hidden_size = 0;
  int64_t ffn_hidden_size = 0;
  int64_t num_attention_heads = 0;
  int64_t num_query_groups = 0;            // KV heads
  int64_t kv_channels = 0;                 // head dim
  int64_t vocab_size = 0;
  std::optional<int64_t> sliding_window;   // tokens; empty = full attention
  bool gated_linear_unit = true;           // SwiGLU MLP (three weight matrices)
  bool untie_embeddings_and_output_weights = true;
  friend bool operator==(const ModelSpec&, const ModelSpec&) = default;
};

struct TrainingSpec {
  int64_t seq_length = 0;
  int64_t micro_batch_size = 1;
  int64_t global_batch_size = 0;  // 0 in JSON means "one micro batch per DP rank"
  Precision precision = Precision::BF16;
  // Megatron's --fp8-param-gather (NeMo's fp8 recipes' fp8_param_gather / fp8_params): the layers'
  // GEMM weights kept as TE's fp8 primary weights (their copies: rules::quantized_copy_bytes_per_element),
  // not in bf16 beside an fp8 copy, and all-gathered by the distributed optimizer in fp8 (MXFP8's: in
  // bf16, then cast). fp8 precision only.
  bool fp8_param_gather = false;
  // Megatron's --fp4-param-gather (Megatron-Bridge's NVFP4 recipe turns it on): the same for NVFP4
  // primary weights, gathered as their packed row-wise E2M1 bytes. nvfp4 precision only.
  bool fp4_param_gather = false;
  // Megatron's --fp8-recipe; fp8 precision only. Megatron's default: delayed.
  Fp8Recipe fp8_recipe = Fp8Recipe::Delayed;
  bool fp8_recipe_given = false;  // the scenario named a recipe (validation: only with fp8 precision)
  // Whether the layers' GEMMs run in MXFP8: the one test every side uses (workload, memory).
  bool mxfp8() const { return precision == Precision::FP8 && fp8_recipe == Fp8Recipe::Mxfp8; }
  // Whether TE's Linears quantize their GEMM operands (fp8 or NVFP4), and to which format.
  bool quantized() const { return precision != Precision::BF16; }
  rules::QuantFormat quant_format() const {
    if (precision == Precision::NVFP4) return rules::QuantFormat::Nvfp4;
    return mxfp8() ? rules::QuantFormat::Mxfp8 : rules::QuantFormat::Fp8PerTensor;
  }
  // Per-tensor fp8 scaled from an amax history (the delayed recipe; not under NVFP4, whose
  // fp8_recipe is unused).
  bool delayed_fp8_scaling() const { return precision == Precision::FP8 && fp8_recipe == Fp8Recipe::Delayed; }
  // Quantized primary weights: fp8_param_gather under fp8, fp4_param_gather under nvfp4.
  bool quantized_param_gather() const {
    return precision == Precision::NVFP4 ? fp4_param_gather : precision == Precision::FP8 && fp8_param_gather;
  }
  RecomputeGranularity recompute_granularity = RecomputeGranularity::None;
  // Megatron's recompute_method and recompute_num_layers, full recompute only (rules/recompute.hpp):
  // every layer re-run in units of N layers (uniform), or the first N layers of each model chunk
  // (block). hcpsim's defaults, uniform and 1, re-run every layer on its own.
  RecomputeMethod recompute_method = RecomputeMethod::Uniform;
  int64_t recompute_num_layers = 1;
  bool recompute_method_given = false, recompute_num_layers_given = false;  // for validation
  bool full_recompute() const { return recompute_granularity == RecomputeGranularity::Full; }
  // Megatron's cpu_offloading with cpu_offloading_weights off and cpu_offloading_num_layers N (TE's
  // activation offloading, rules/activation_offload.hpp): the first N layers' saved activations
  // copied to the host in the forward and back in the backward. 0: off.
  int64_t cpu_offloading_num_layers = 0;
  AttnMaskType attn_mask_type = AttnMaskType::Causal;
  // Packed documents (Megatron's THD input, TE's padding_causal with cu_seqlens): each sequence of
  // seq_length tokens holds seq_length / document_length documents of document_length tokens, and
  // attention stays inside each document. 0: one document a sequence.
  int64_t document_length = 0;
  // Packed documents of unequal lengths: one sequence's documents in order (their sum is
  // seq_length), every sequence of the micro batch packed alike. Empty: see document_length.
  std::vector<int64_t> document_lengths;
  bool packed_documents() const { return document_length > 0 || !document_lengths.empty(); }
  bool unequal_documents() const {
    for (const int64_t d : document_lengths)
      if (d != document_lengths.front()) return true;
    return false;
  }
  // The sequences attention runs over in a micro batch, grouped by length: `count` sequences of
  // `length` tokens each: the documents, a group per length in order of first appearance (a varlen
  // launch's units follow them group by group), or the micro batch's sequences whole.
  struct SequenceGroup {
    int64_t count = 0, length = 0;
    friend bool operator==(const SequenceGroup&, const SequenceGroup&) = default;
  };
  std::vector<SequenceGroup> attention_sequences() const;
  // "8 documents of 16384 tokens", "10 documents of 512 to 65536 tokens" (packed documents only).
  std::string documents_text() const;
  friend bool operator==(const TrainingSpec&, const TrainingSpec&) = default;
};

struct ParallelSpec {
  int64_t tensor_model_parallel_size = 1;
  int64_t context_parallel_size = 1;
  int64_t pipeline_model_parallel_size = 1;
  int64_t virtual_pipeline_model_parallel_size = 1;     // model chunks per stage (interleaved 1F1B when > 1)
  int64_t decoder_first_pipeline_num_layers = -1;       // -1: even split
  int64_t decoder_last_pipeline_num_layers = -1;        // -1: even split
  bool account_for_embedding_in_pipeline_split = false;
  bool account_for_loss_in_pipeline_split = false;
  int64_t microbatch_group_size_per_vp_stage = 0;       // 0: PP (Megatron's default)
  // interleaved schedule: sends overlap compute; unset: Megatron's default, on with virtual stages
  // (arguments.py's --no-overlap-p2p-communication; turned off without them)
  std::optional<bool> overlap_p2p_comm;
  int64_t data_parallel_size = 1;  // derived: world / (TP*CP*PP)
  CpCommType cp_comm_type = CpCommType::P2P;
  std::vector<int64_t> hierarchical_context_parallel_sizes;  // [inner a2a A, outer p2p P]
  // The tokens each ring rank holds (rules/cp_schedule.hpp): TE's zigzag (DualChunkSwap), or the
  // contiguous and striped orders of ring-flash-attention, which TE does not run; p2p rings only.
  CpLoadBalance cp_load_balance = CpLoadBalance::Zigzag;
  bool sequence_parallel = false;
  bool tp_comm_overlap = false;  // TE userbuffers: TP collectives overlapped with the GEMMs (rules/tp_comm_overlap.hpp)
  bool use_distributed_optimizer = true;
  // Megatron-Core's DDPConfig.grad_reduce_in_fp32: the gradient buffer (main_grad, which the wgrad
  // GEMMs accumulate into) and its data-parallel reduction in fp32 (true) or in the parameters'
  // bf16 (false). Megatron-LM's bf16 training turns it on unless --grad-reduce-in-bf16
  // (megatron/training/arguments.py); NeMo's performance recipes turn it off.
  bool grad_reduce_in_fp32 = true;
  // Megatron's --overlap-grad-reduce and --overlap-param-gather: the DP gradient reduce in buckets
  // during the last backward, the distributed optimizer's parameter gather during the next
  // forward. Megatron-LM's own defaults are off; NeMo's and Megatron-Bridge's recipes turn both on,
  // and hcpsim takes them on. Off: one reduce after the backward, one gather after the optimizer
  // (run/step_composition.hpp).
  bool overlap_grad_reduce = true;
  bool overlap_param_gather = true;
  // Megatron's --use-megatron-fsdp with data_parallel_sharding_strategy "optim_grads_params"
  // (Megatron-FSDP v1, ZeRO-3; workload/fsdp_ops.hpp): parameters, gradients and optimizer state
  // sharded over DP x CP; each transformer layer's parameters all-gathered before its forward and
  // again before its backward, its gradients reduce-scattered after its backward, every micro batch.
  // It takes the place of the DDP buckets above (overlap_grad_reduce, overlap_param_gather unused)
  // and implies the distributed optimizer (Megatron-FSDP v1 turns it on).
  bool use_megatron_fsdp = false;
  // Whether Megatron-FSDP shards anything: on, over more than one DP x CP rank.
  bool fsdp_sharded() const { return use_megatron_fsdp && data_parallel_size * context_parallel_size > 1; }

  // HCP inner (a2a) and outer (p2p) sizes as TE runs them: for a2a+p2p the
  // first and second entries; for p2p (A=1, P=CP); for a2a (A=CP, P=1).
  int64_t a2a_size() const;
  int64_t p2p_size() const;
  PipelineSpec pipeline() const;  // the pipeline keys as rules/pipeline.hpp reads them
  friend bool operator==(const ParallelSpec&, const ParallelSpec&) = default;
};

struct GpuSpec {
  std::string name;
  double peak_bf16_flops_per_s = 0;  // dense
  double peak_fp8_flops_per_s = 0;   // dense
  double memory_bytes = 0;
  double hbm_bytes_per_s = 0;
  int64_t compute_capability = 90;   // SM version x 10 (sm_90 = 90): picks NCCL's per-architecture tables
  int64_t sm_count = 0;              // streaming multiprocessors; 0 = not given
  double sm_clock_mhz = 0;           // the SM clock the datasheet peaks are quoted at; 0 = not given
  double peak_fp4_flops_per_s = 0;   // dense NVFP4; 0 = no fp4 tensor cores (or not given)
  friend bool operator==(const GpuSpec&, const GpuSpec&) = default;
};

// The GEMM a GPU runs for one of type t: t itself, or bf16 on a GPU without t's tensor-core peak
// (validation keeps fp8 and NVFP4 training off such GPUs).
inline rules::GemmType gemm_type_run_on(const GpuSpec& g, rules::GemmType t) {
  if (rules::is_fp4(t) && g.peak_fp4_flops_per_s <= 0) return rules::GemmType::Bf16;
  if (rules::is_fp8(t) && g.peak_fp8_flops_per_s <= 0) return rules::GemmType::Bf16;
  return t;
}
// The dense tensor-core peak a GEMM of type t runs on: bf16's, fp8's (per-tensor fp8, MXFP8) or
// fp4's (NVFP4). One definition for the cost model, fit's replay and MFU.
inline double gemm_peak_flops_per_s(const GpuSpec& g, rules::GemmType t) {
  const rules::GemmType run = gemm_type_run_on(g, t);
  return rules::is_fp4(run) ? g.peak_fp4_flops_per_s : rules::is_fp8(run) ? g.peak_fp8_flops_per_s : g.peak_bf16_flops_per_s;
}
// The peak of a training precision's GEMMs (its TE Linears'): what MFU divides by.
inline double precision_peak_flops_per_s(const GpuSpec& g, Precision p) {
  return gemm_peak_flops_per_s(g, p == Precision::NVFP4 ? rules::GemmType::Nvfp4
                                  : p == Precision::FP8 ? rules::GemmType::Fp8FastAccum
                                                        : rules::GemmType::Bf16);
}

struct IntraNodeSpec {
  IntraNodeKind kind = IntraNodeKind::NVSwitch;
  double bandwidth_bytes_per_s = 0;  // per GPU per direction
  double latency_s = 0;
  friend bool operator==(const IntraNodeSpec&, const IntraNodeSpec&) = default;
};

struct InterNodeSpec {
  int64_t nics_per_node = 0;
  double nic_bandwidth_bytes_per_s = 0;  // per NIC per direction
  double latency_s = 0;                  // end to end through the fabric
  bool rail_optimized = true;
  double oversubscription = 1.0;         // leaf down:up bandwidth ratio, >= 1
  friend bool operator==(const InterNodeSpec&, const InterNodeSpec&) = default;
};

struct ClusterSpec {
  std::string preset;  // "" when fully custom
  int64_t num_nodes = 1;
  int64_t gpus_per_node = 8;
  GpuSpec gpu;
  IntraNodeSpec intra_node;
  InterNodeSpec inter_node;
  // What one GPU moves to and from host memory, per direction, achievable (PCIe, or NVLink-C2C to a
  // Grace CPU): the activation offload's copies. 0 = not given.
  double host_link_bytes_per_s = 0;
  int64_t world_size() const { return num_nodes * gpus_per_node; }
  friend bool operator==(const ClusterSpec&, const ClusterSpec&) = default;
};

struct Version {
  int major = 0, minor = 0, patch = 0;
  friend auto operator<=>(const Version&, const Version&) = default;
  std::string str() const;
};

// software.nccl: what NCCL's environment variables set (docs/nccl.md). Defaults are NCCL's.
struct NcclSettings {
  std::vector<NcclAlgorithm> algorithms;  // NCCL_ALGO: the algorithms NCCL may choose; empty = all
  std::vector<NcclProtocol> protocols;    // NCCL_PROTO: the protocols it may choose; empty = all
  int64_t min_ctas = 0;                   // NCCL_MIN_CTAS (channels); 0 = NCCL's default
  int64_t max_ctas = 0;                   // NCCL_MAX_CTAS; 0 = NCCL's default (64)
  bool nvls = true;                       // NCCL_NVLS_ENABLE, where the switches have NVLink SHARP
  bool pxn = true;                        // PXN (NCCL_PXN_DISABLE=0): cross-rail sends relay over NVLink
  int64_t net_channels_per_peer = 0;      // NCCL_NCHANNELS_PER_NET_PEER; 0 = NCCL's (2)
  friend bool operator==(const NcclSettings&, const NcclSettings&) = default;
};

// software.fusions: Megatron-core's kernel fusion switches for the layer's memory-bound ops
// (docs/cost-model.md, "memory-bound kernels"); defaults are Megatron's. A fused op runs as its
// kernels' bytes at the copy's efficiency times their measured fraction of it (rules/fused_kernels.hpp);
// an unfused one as PyTorch's kernels measured on the H200.
struct FusionSettings {
  bool rope = true;            // apply_rope_fusion (TE's fused RoPE)
  bool swiglu = true;          // bias_swiglu_fusion (Megatron's fused SwiGLU)
  bool cross_entropy = false;  // cross_entropy_loss_fusion
  rules::CrossEntropyFusion cross_entropy_impl = rules::CrossEntropyFusion::Native;  // cross_entropy_fusion_impl
  friend bool operator==(const FusionSettings&, const FusionSettings&) = default;
};

struct SoftwareSpec {
  Version transformer_engine_version{2, 18, 0};  // newest tag read in docs/cp-transports.md
  bool use_decentralized_pg = false;
  AttentionBackend attention_backend = AttentionBackend::CuDNN;  // TE's default on Hopper and Blackwell
  CudaGraphImpl cuda_graph_impl = CudaGraphImpl::None;           // Megatron's default
  // Transformer Engine's NVTE_NORM_FWD_USE_CUDNN: cuDNN's norm kernels in the forward (unset by
  // default). Under fp8 it decides whether the norm writes the GEMM's fp8 input itself
  // (rules/te_norm_quantize.hpp).
  bool norm_fwd_use_cudnn = false;
  // PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True: the caching allocator grows segments by
  // mapping pages (off by default in PyTorch); it decides the margin a fit needs beyond the
  // allocated peak (rules/allocator.hpp), not the step's time.
  bool expandable_segments = false;
  FusionSettings fusions;
  NcclSettings nccl;
  friend bool operator==(const SoftwareSpec&, const SoftwareSpec&) = default;
};

struct Scenario {
  std::string name;
  ModelSpec model;
  TrainingSpec training;
  ParallelSpec parallel;
  ClusterSpec cluster;
  SoftwareSpec software;
  WorkloadKind workload = WorkloadKind::Step;
  Passes passes = Passes::FwdBwd;
  std::optional<std::string> calibration_path;
  std::optional<std::string> hf_config_path;  // model.hf_config, resolved: the file the model was read from
  std::vector<std::string> warnings;  // valid, but worth telling the user

  // The files besides its own that the scenario was read from (its Hugging Face config, its
  // calibration): inputs, which no output may replace.
  std::vector<std::string> files_read() const {
    std::vector<std::string> files;
    for (const auto& f : {hf_config_path, calibration_path})
      if (f) files.push_back(*f);
    return files;
  }

  // Micro batches per step on each DP rank: GBS / (MBS * DP).
  int64_t num_microbatches() const;
  // Bytes per element of activations/weights in compute (bf16 = 2; fp8 keeps bf16 activations).
  int64_t activation_bytes_per_element() const { return 2; }
  friend bool operator==(const Scenario&, const Scenario&) = default;
};

}  // namespace hcpsim

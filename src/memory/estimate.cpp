#include "memory/estimate.hpp"

#include <algorithm>
#include <cassert>

#include "memory/activations.hpp"
#include "memory/cp_buffers.hpp"
#include "memory/model_states.hpp"
#include "rules/allocator.hpp"
#include "rules/fp8_gemm.hpp"
#include "rules/fused_kernels.hpp"
#include "rules/recompute.hpp"
#include "scenario/model_params.hpp"

namespace hcpsim {

double MemoryPhase::total_bytes() const {
  double sum = 0;
  for (const auto& c : components) sum += c.bytes;
  return sum;
}

namespace {

std::vector<MemoryComponent> static_components(const Scenario& s, int64_t stage) {
  const ModelStateBytes m = model_state_bytes(s, stage);
  const WorkspaceBytes w = workspace_bytes(s);
  std::vector<MemoryComponent> c;
  c.push_back({"weights", m.weights_bytes,
               s.training.quantized_param_gather()
                   ? std::string("bf16, 2 B/param of the TP shard but the layers' GEMM weights (") +
                         (s.training.precision == Precision::NVFP4 ? "NVFP4" : "fp8") + " below)"
                   : std::string("bf16, 2 B/param of the TP shard")});
  if (m.quantized_weight_copies_bytes > 0 && s.training.precision == Precision::NVFP4)
    c.push_back({"NVFP4 weight copies", m.quantized_weight_copies_bytes,
                 "NVFP4 row- and column-wise weights of layer GEMMs, 2 x (1/2 + 1/16) B/param"});
  else if (m.quantized_weight_copies_bytes > 0)
    c.push_back({"fp8 weight copies", m.quantized_weight_copies_bytes,
                 s.training.mxfp8()
                     ? "MXFP8 row- and column-wise weights of layer GEMMs, 2 x (1 + 1/32) B/param"
                 : rules::fp8_needs_transposed_copy(s.cluster.gpu.compute_capability)
                     ? "fp8 weight + transpose of layer GEMMs, 2 B/param"
                     : "fp8 weight of layer GEMMs, 1 B/param (no transpose: any-layout fp8 GEMMs)"});
  if (m.fsdp) {
    const std::string shard = " / " + std::to_string(m.optimizer_shard) + " (Megatron-FSDP)";
    c.front().note = (s.training.quantized_param_gather() ? "fp8 GEMM weights 1 B/param, the rest bf16 2 B/param"
                                                          : "bf16, 2 B/param") + shard;
    c.push_back({"main grads", m.main_grads_bytes, "bf16, 2 B/param" + shard});
    c.push_back({"FSDP layer buffers", m.fsdp_unit_buffers_bytes,
                 "two layers' gathered parameters and unsharded bf16 gradients (fsdp_double_buffer)"});
    c.push_back({"FSDP non-layer params", m.fsdp_non_layer_bytes, "embedding, final norm, output layer gathered whole, bf16"});
  } else {
    c.push_back({"main grads", m.main_grads_bytes,
                 s.parallel.grad_reduce_in_fp32 ? "fp32, 4 B/param (no bf16 grads kept)"
                                                : "bf16, 2 B/param (grad_reduce_in_fp32 off)"});
  }
  c.push_back({"optimizer state", m.optimizer_bytes,
               "fp32 master + Adam m,v: 12 B/param / " + std::to_string(m.optimizer_shard)});
  c.push_back({"cuda context + gemm ws", w.cuda_context_bytes + w.gemm_workspace_bytes,
               "allowance: 512 MiB context, 64 MiB cuBLAS/TE"});
  c.push_back({"nccl buffers", w.nccl_bytes,
               std::to_string(w.nccl_communicators) + " communicators x 256 MiB"});
  if (w.userbuffers > 0)
    c.push_back({"userbuffers", w.userbuffers_bytes,
                 "TE's TP overlap: " + std::to_string(w.userbuffers) + " buffers of seq x mbs / CP x hidden"});
  return c;
}

// The activations a stage holds, at its peak moment of the schedule (rules/pipeline.hpp) under the
// recompute settings (rules/recompute.hpp).
struct Dynamic {
  LayerActivationBytes act;
  CpBufferBytes cp;
  double saved_per_layer = 0;    // a layer as recompute_granularity saves it (a checkpoint's input under "full")
  double in_flight_saved = 0;    // every micro batch's saved activations at the peak
  double last_layer_saved = 0;   // of those, the peak chunk's last layer's (its forward holds its own instead)
  double recomputed = 0;         // what the backward rebuilds at the peak
  int64_t layers = 0;            // the layers in flight at the peak
  bool partial = false;          // full recompute of some layers only, or in units of several
};

Dynamic dynamic_terms(const Scenario& s, const PipelineSplit& split, int64_t stage) {
  Dynamic d;
  d.act = layer_activation_bytes(s);
  d.cp = cp_buffer_bytes(s);
  const TrainingSpec& t = s.training;
  const RecomputeGranularity r = t.recompute_granularity;
  d.saved_per_layer = saved_bytes_per_layer(d.act, r, d.cp.saved_extra_per_layer_bytes);
  // A layer that saves everything: under "block", the layers past the first N of a chunk.
  const double whole = saved_bytes_per_layer(d.act, RecomputeGranularity::None, d.cp.saved_extra_per_layer_bytes);
  const double plain = t.full_recompute() ? whole : d.saved_per_layer;
  const double input = saved_bytes_per_layer(d.act, RecomputeGranularity::Full, 0);
  const std::vector<int64_t>& chunks = split.layers[size_t(stage)];
  std::vector<rules::ChunkRecompute> recompute;  // per chunk of the stage
  for (const int64_t layers : chunks)
    recompute.push_back(rules::chunk_recompute(t.full_recompute(), t.recompute_method, t.recompute_num_layers, layers));
  const auto saved = [&](size_t c) {
    return double(recompute[c].checkpoints) * input + double(recompute[c].plain_layers) * plain;
  };
  const auto extra = [&](size_t c) {
    if (r == RecomputeGranularity::Selective)  // the checkpoint's internals; under fp8 its output O too
      return d.act.lse_bytes + (d.act.proj_input_fp8_bytes > 0 ? d.act.attn_out_bytes : 0.0) +
             d.cp.saved_extra_per_layer_bytes;
    return double(rules::backward_extra_layers(recompute[c])) * whole;
  };
  const int64_t microbatches = std::max<int64_t>(1, s.num_microbatches());
  const InFlightPeak peak = pipeline_peak_in_flight(s.parallel.pipeline(), stage, microbatches, saved, extra);
  d.in_flight_saved = peak.saved;
  d.recomputed = peak.extra;
  if (!chunks.empty()) {
    // The forward just before the peak (under interleaving, maybe of another chunk than the peak
    // backward's): its last layer holds its own activations, not yet what it saves.
    const rules::ChunkRecompute& rc = recompute[peak.forward_chunk];
    const int64_t L = chunks[peak.forward_chunk];
    // The chunk's last layer: a plain one; else a checkpoint's input where a unit starts with it.
    const bool starts_unit = rules::last_layer_starts_unit(t.recompute_method, t.recompute_num_layers, L);
    d.last_layer_saved = rc.plain_layers > 0 ? plain : (rc.checkpoints > 0 && starts_unit ? input : 0.0);
  }
  d.layers = pipeline_peak_layers_in_flight(s.parallel.pipeline(), split, stage, microbatches);
  for (const rules::ChunkRecompute& rc : recompute)  // some layers fully recomputed and some not, or units of several
    d.partial = d.partial || (rc.recomputed_layers > 0 && (rc.plain_layers > 0 || rc.checkpoints != rc.recomputed_layers));
  return d;
}

// The saved activations, less the peak chunk's last layer where its forward is the moment.
MemoryComponent saved_layers(const Dynamic& d, const TrainingSpec& t, bool but_last_layer, int64_t offloaded) {
  // Activation offloading keeps at most L - N layers' activations on the GPU (PP = 1, no recompute:
  // validation): every layer saves saved_per_layer.
  const double held = d.in_flight_saved - (but_last_layer ? d.last_layer_saved : 0.0) -
                      static_cast<double>(offloaded) * d.saved_per_layer;
  const int64_t resident = std::max<int64_t>(0, d.layers - (but_last_layer ? 1 : 0) - offloaded);
  std::string note = std::to_string(static_cast<long long>(d.partial ? d.layers : resident)) + " layers";
  if (!d.partial)
    note += " x saved per layer";
  else if (t.recompute_method == RecomputeMethod::Block)
    note += ", the first " + std::to_string(t.recompute_num_layers) + " of each chunk saving their input alone (block recompute)";
  else
    note += ", one input saved per " + std::to_string(t.recompute_num_layers) + " layers (uniform recompute)";
  if (d.partial && but_last_layer) note += ", less the last layer's";
  if (offloaded > 0) note += " (" + std::to_string(offloaded) + " more offloaded to the host)";
  return {"activations (saved)", std::max(0.0, held), note};
}

// The loss: the logits and the fp32 tensor its backward needs (unfused: the softmax copy); TE's
// fused loss before 2.18 writes its gradient over the logits (rules/fused_kernels.hpp).
double loss_bytes_per_logit_of(const Scenario& s) {
  const FusionSettings& fusions = s.software.fusions;
  const Version& te = s.software.transformer_engine_version;
  const double e = static_cast<double>(s.activation_bytes_per_element());
  return fusions.cross_entropy
             ? rules::fused_cross_entropy(fusions.cross_entropy_impl, te.major, te.minor, e).peak_bytes_per_element
             : e + 4.0;
}

// The largest single tensor a stage allocates (the allocator's margin follows it: rules/allocator.hpp):
// the MLP's FC1 output (gate and up together where gated) and its gradient; on the first stage the
// embedding's weight gradient and on the last the output layer's (vocab/TP x hidden, bf16, before
// it is added into the gradient buffer: the probe's largest at 2048 tokens), and the loss's fp32
// tensor over the logits, or the logits where there is none.
// `T`: the tokens a rank holds (layer_activation_bytes' tokens_per_rank), the same on every stage.
std::pair<double, std::string> largest_allocation(const Scenario& s, int64_t stage, double T) {
  const int64_t tp = s.parallel.tensor_model_parallel_size;
  const double e = static_cast<double>(s.activation_bytes_per_element());
  const double vocab_r = double(padded_vocab_size(s.model.vocab_size, tp) / tp);
  const double fc1 = T * e * double(s.model.ffn_hidden_size / tp) * (s.model.gated_linear_unit ? 2.0 : 1.0);
  std::pair<double, std::string> top{fc1, "the MLP's FC1 output"};
  const double vocab_grad = vocab_r * double(s.model.hidden_size) * e;
  const bool last = stage == s.parallel.pipeline_model_parallel_size - 1;
  if ((stage == 0 || last) && vocab_grad > top.first)
    top = {vocab_grad, last ? "the output layer's weight gradient" : "the embedding's weight gradient"};
  if (last) {
    const double per_logit = loss_bytes_per_logit_of(s) > e ? 4.0 : e;
    const double logits = T * vocab_r * per_logit;
    if (logits > top.first) top = {logits, per_logit > e ? "the loss's fp32 logits" : "the logits"};
  }
  return top;
}

// The phases of one pipeline stage (PP = 1: the only stage, every phase).
std::vector<MemoryPhase> stage_phases(const Scenario& s, const PipelineSplit& split, int64_t stage) {
  const int64_t pp = s.parallel.pipeline_model_parallel_size;
  const Dynamic d = dynamic_terms(s, split, stage);
  const ModelSpec& m = s.model;
  const int64_t tp = s.parallel.tensor_model_parallel_size;
  const double e = static_cast<double>(s.activation_bytes_per_element());
  const double T = d.act.tokens_per_rank;
  const double h = static_cast<double>(m.hidden_size);
  const double t_sp = s.parallel.sequence_parallel ? static_cast<double>(tp) : 1.0;
  const double sp_gather = s.parallel.sequence_parallel && tp > 1 ? T * e * h : 0.0;
  const double ffn_r = static_cast<double>(m.ffn_hidden_size / tp);
  const double hq_d = static_cast<double>(m.num_attention_heads / tp * m.kv_channels);
  const double vocab_r = static_cast<double>(padded_vocab_size(m.vocab_size, tp) / tp);
  // The backward re-runs the core attention's forward just before its own (selective, or full):
  // its forward buffers beside the backward's. Under block recompute the peak may be a plain
  // layer's backward, but the first re-run after it frees little more than it rebuilds, so the
  // re-run's buffers are counted there too.
  const bool recompute_attn = s.training.recompute_granularity != RecomputeGranularity::None;
  const bool has_loss = stage == pp - 1;
  const bool has_layers = split.stage_layers(stage) > 0;
  const int64_t offloaded = s.training.cpu_offloading_num_layers;
  const double loss_bytes_per_logit = loss_bytes_per_logit_of(s);
  const char* loss_what =
      loss_bytes_per_logit > e ? "bf16 logits + fp32 copy, vocab/TP" : "bf16 logits, the gradient written over them, vocab/TP";

  std::vector<MemoryComponent> statics = static_components(s, stage);
  if (pp > 1) {  // Megatron's p2p receive buffers: the activation from the previous stage, the gradient from the next
    // With virtual stages the first stage also receives activations (for its later chunks) and the
    // last gradients (for its earlier ones).
    const bool one_chunk = s.parallel.virtual_pipeline_model_parallel_size <= 1;
    const bool first = one_chunk && stage == 0, last = one_chunk && stage == pp - 1;
    statics.push_back({"pipeline transfer buffers", (first || last ? 1.0 : 2.0) * T * e * h / t_sp,
                       first ? "received gradient, one micro batch"
                             : last ? "received activation, one micro batch" : "received activation + gradient, one micro batch"});
  }
  const auto phase = [&](const char* name, std::vector<MemoryComponent> dyn) {
    MemoryPhase p{pp > 1 ? "stage " + std::to_string(stage) + " " + name : std::string(name), statics};
    p.components.insert(p.components.end(), dyn.begin(), dyn.end());
    return p;
  };
  const MemoryComponent recomputed{"recomputed layer", d.recomputed,
                                   "rebuilt in backward by recompute"};
  std::vector<MemoryPhase> phases;
  if (has_layers)
    phases.push_back(phase(
        "fwd.attention",
        {saved_layers(d, s.training, true, offloaded),
         {"in-flight layer", d.act.attn_pre_bytes, "norm in/out, Q, K, V of the last layer"},
         {"cp buffers (fwd)", d.cp.fwd_bytes, std::string(to_string(s.parallel.cp_comm_type))}}));
  if (has_loss)
    phases.push_back(phase(
        "fwd.loss",
        {saved_layers(d, s.training, false, offloaded),
         {"final norm + head input", T * e * 2.0 * h / t_sp + sp_gather, "final norm in/out"},
         {"logits + loss", T * vocab_r * loss_bytes_per_logit, loss_what}}));
  if (has_layers) {
    // The MLP's backward holds the most at one of two moments: the activation's backward (dY, the
    // activation output's gradient and FC1 output's, the input TE gathers again under SP for FC1's
    // weight gradient), or FC1's backward (dY, FC1 output's gradient, the gathered input, and
    // FC1's data gradient over the whole sequence beside its reduce-scatter's output; without SP
    // that gradient is all-reduced in place).
    const double gated = m.gated_linear_unit ? 2.0 : 1.0;
    const double act_bwd = T * e * (h / t_sp + ffn_r * (gated + 1.0)) + sp_gather;
    const double fc1_bwd = T * e * (h / t_sp + ffn_r * gated + h) + sp_gather + (sp_gather > 0 ? T * e * h / t_sp : 0.0);
    phases.push_back(phase(
        "bwd.mlp",
        {saved_layers(d, s.training, false, offloaded), recomputed,
         fc1_bwd > act_bwd ? MemoryComponent{"backward grads", fc1_bwd, "dY, d(FC1 out), FC1's data gradient (whole sequence)"}
                           : MemoryComponent{"backward grads", act_bwd, "dY, d(act out), d(FC1 out)"}}));
    phases.push_back(phase(
        "bwd.attention",
        {saved_layers(d, s.training, false, offloaded), recomputed,
         {"backward grads", T * e * (h / t_sp + hq_d), "dY, dO"},
         {"cp buffers (bwd)", recompute_attn ? std::max(d.cp.fwd_bytes, d.cp.bwd_bytes) : d.cp.bwd_bytes,
          recompute_attn ? "max(fwd re-run, bwd work buffers)" : "bwd work buffers"}}));
  }
  if (!s.parallel.grad_reduce_in_fp32 || s.parallel.fsdp_sharded()) {
    // The optimizer step, after every activation is freed: the optimizer makes an fp32 copy of its
    // shard of the bf16 gradients (distrib_optimizer.py, _copy_model_grads_to_main_grads:
    // shard_model_grad.float(); a no-op on fp32 gradients). Megatron's rule "fp16 parameters,
    // fp16 gradients: 20 / 4 + 16/d" B/param counts it (docs/user-guide/features/dist_optimizer.md).
    const ModelStateBytes m = model_state_bytes(s, stage);
    phases.push_back(phase("optimizer.step",
                           {{"fp32 grads (optimizer)", kMainGradFp32BytesPerParam * m.params_per_gpu / double(m.optimizer_shard),
                             "fp32 copy of the bf16 gradients, 4 B/param / " + std::to_string(m.optimizer_shard)}}));
  }
  if (phases.empty()) phases.push_back(phase("static", {}));  // a stage of the embedding alone
  return phases;
}

}  // namespace

double saved_activation_bytes_per_layer(const Scenario& s) {
  return saved_bytes_per_layer(layer_activation_bytes(s), s.training.recompute_granularity,
                               cp_buffer_bytes(s).saved_extra_per_layer_bytes);
}

MemoryEstimate estimate_memory(const Scenario& s) {
  const int64_t pp = s.parallel.pipeline_model_parallel_size;
  const PipelineSplit split = pipeline_split(s.parallel.pipeline(), s.model.num_layers);
  assert(split.problem.empty());
  MemoryEstimate est;
  std::vector<MemoryPhase> peak_stage_phases;
  double peak = -1;
  double least_left = 0;  // capacity - peak - allocator margin, least over the stages
  const double tokens_per_rank = layer_activation_bytes(s).tokens_per_rank;
  for (int64_t stage = 0; stage < pp; ++stage) {
    std::vector<MemoryPhase> phases = stage_phases(s, split, stage);
    const auto top = std::max_element(phases.begin(), phases.end(), [](const MemoryPhase& a, const MemoryPhase& b) {
      return a.total_bytes() < b.total_bytes();
    });
    if (pp > 1) est.stage_peak_bytes.push_back(top->total_bytes());
    const auto [largest, what] = largest_allocation(s, stage, tokens_per_rank);
    const double margin = rules::allocator_margin_bytes(largest, s.software.expandable_segments);
    const double left = s.cluster.gpu.memory_bytes - top->total_bytes() - margin;
    if (stage == 0 || left < least_left) {
      least_left = left;
      est.largest_allocation_bytes = largest;
      est.largest_allocation = what;
      est.allocator_margin_bytes = margin;
      est.allocator_margin_stage = stage;
      est.allocator_stage_headroom_bytes = s.cluster.gpu.memory_bytes - top->total_bytes();
    }
    if (top->total_bytes() > peak) {
      peak = top->total_bytes();
      est.peak_phase = top->name;
      est.breakdown = top->components;
      est.peak_stage = stage;
      peak_stage_phases = std::move(phases);
    }
  }
  for (const MemoryPhase& p : peak_stage_phases) est.phases.push_back({p.name, p.total_bytes()});
  est.peak_bytes = peak;
  est.capacity_bytes = s.cluster.gpu.memory_bytes;
  est.headroom_bytes = est.capacity_bytes - est.peak_bytes;
  est.fits = est.headroom_bytes >= 0;
  est.expandable_segments = s.software.expandable_segments;
  est.within_allocator_margin = est.fits && least_left < 0;
  return est;
}

LightestRecompute lightest_fitting_recompute(const Scenario& s) {
  LightestRecompute out;
  const MemoryEstimate own = estimate_memory(s);
  if (own.fits && !own.within_allocator_margin) return out;
  // Full recompute here is every layer on its own (uniform 1), the most memory recompute saves:
  // heavier than full by units or by block, which it may follow.
  const TrainingSpec& t = s.training;
  const bool every_layer = rules::every_layer_on_its_own(t.recompute_method, t.recompute_num_layers);
  for (RecomputeGranularity r : {RecomputeGranularity::Selective, RecomputeGranularity::Full}) {
    if (r < t.recompute_granularity || (r == t.recompute_granularity && (r != RecomputeGranularity::Full || every_layer)))
      continue;
    Scenario probe = s;
    probe.training.recompute_granularity = r;
    probe.training.recompute_method = RecomputeMethod::Uniform;
    probe.training.recompute_num_layers = 1;
    const MemoryEstimate m = estimate_memory(probe);
    if (!m.fits) continue;
    if (!out.fits && !own.fits) out.fits = r;
    if (!m.within_allocator_margin) {  // the caching allocator's margin (rules/allocator.hpp) left too
      out.leaves_margin = r;
      break;
    }
  }
  return out;
}

}  // namespace hcpsim

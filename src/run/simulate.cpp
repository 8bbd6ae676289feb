#include "run/simulate.hpp"

#include "run/comm_routes.hpp"
#include "run/phases.hpp"
#include "common/strprintf.hpp"
#include "memory/estimate.hpp"
#include "rules/activation_offload.hpp"
#include "memory/allocator_margin_words.hpp"
#include "memory/relief_words.hpp"
#include "rules/ddp_buckets.hpp"
#include "rules/host_launch.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <limits>
#include <map>
#include <stdexcept>
#include <tuple>

#include "workload/attention_common.hpp"
#include "workload/builder.hpp"
#include "engine/execute.hpp"
#include "nccl/comm_shape.hpp"
#include "topology/cluster_graph.hpp"
#include "topology/placement.hpp"

namespace hcpsim {

namespace {

constexpr size_t kTopLinks = 8;

// Every op's time alone. An attention op's time depends on its shape and FLOPs only, and the
// ranks of a step repeat a handful of shapes: each is timed once (its tile schedule walks every
// work unit of the launch).
std::vector<std::vector<double>> compute_times(const std::vector<RankProgram>& programs, const CostModel& cost) {
  std::map<std::pair<AttentionShape, double>, double> attention;  // (shape, FLOPs): the time
  std::vector<std::vector<double>> t(programs.size());
  for (size_t i = 0; i < programs.size(); ++i) {
    t[i].reserve(programs[i].ops.size());
    for (const Op& op : programs[i].ops) {
      if (op.kind != OpKind::Compute || op.compute_class != ComputeClass::Attention) {
        t[i].push_back(cost.compute_time_s(op));
        continue;
      }
      auto [it, fresh] = attention.try_emplace({op.attn, op.flops}, 0.0);
      if (fresh) it->second = cost.compute_time_s(op);
      t[i].push_back(it->second);
    }
  }
  return t;
}

// Per pipeline stage, the longest span (first start .. last end) over the stage's ranks of the
// ops of `phase` that `take` selects; a rank of a folded replica has its stand-in's span. With
// `longest_rank`, also the simulated rank each stage's longest span is of (-1: none).
template <class Take>
std::vector<double> span_by_stage(const Timeline& t, int32_t phase, const std::vector<RankProgram>& programs,
                                  const RankLayout& layout, Take take, std::vector<int32_t>* longest_rank = nullptr) {
  std::map<int32_t, std::pair<double, double>> per_rank;
  for (const OpRecord& r : t.ops) {
    if (r.phase != phase || !take(programs.at(r.rank).ops.at(r.op))) continue;
    auto [it, fresh] = per_rank.try_emplace(r.rank, r.start_s, r.end_s);
    if (!fresh) {
      it->second.first = std::min(it->second.first, r.start_s);
      it->second.second = std::max(it->second.second, r.end_s);
    }
  }
  std::vector<double> longest(size_t(layout.pp), 0.0);
  if (longest_rank) longest_rank->assign(size_t(layout.pp), -1);
  const std::vector<int32_t>& stand_in = t.phases.at(size_t(phase)).stand_in;
  for (size_t rank = 0; rank < stand_in.size(); ++rank) {
    const auto span = per_rank.find(stand_in[rank]);
    if (span == per_rank.end()) continue;
    const size_t stage = size_t(layout.coord_of(int64_t(rank)).pp);
    const double length = span->second.second - span->second.first;
    if (longest_rank && ((*longest_rank)[stage] < 0 || length > longest[stage])) (*longest_rank)[stage] = stand_in[rank];
    longest[stage] = std::max(longest[stage], length);
  }
  return longest;
}

// How long each op of the step phase took, by rank and op (one pass over the timeline).
std::map<int32_t, std::map<int32_t, double>> step_op_times(const Timeline& t) {
  std::map<int32_t, std::map<int32_t, double>> took;
  for (const OpRecord& r : t.ops)
    if (r.phase == kStepPhase) took[r.rank][r.op] = r.end_s - r.start_s;
  return took;
}

// A stage's DP buckets with the times its representative rank's step program took for each.
std::vector<DpBucket> dp_buckets_of(const std::map<int32_t, double>& took, const std::vector<DpBucketOps>& plan) {
  const auto time_of = [&took](int32_t op) { return op < 0 ? 0.0 : took.at(op); };
  std::vector<DpBucket> out;
  for (const DpBucketOps& b : plan)
    out.push_back({b.chunk, b.bucket.grad_ready, b.bucket.first_used, time_of(b.reduce_op), time_of(b.gather_op)});
  return out;
}

// Useful (model) FLOPs: GEMMs and attention, without recomputation: neither recomputed ops nor the
// attention backward's recompute of QK^T (its kernels' work, op.flops, counts it).
double model_flops(const std::vector<RankProgram>& programs) {
  double f = 0;
  for (const RankProgram& p : programs)
    for (const Op& op : p.ops) {
      if (op.kind != OpKind::Compute || op.compute_class == ComputeClass::Elementwise) continue;
      if (op.recompute) continue;
      const bool attention_backward = op.compute_class == ComputeClass::Attention && op.attn.backward;
      f += attention_backward ? op.flops * (kAttnBwdModelFlopRatio / kAttnBwdFlopRatio) : op.flops;
    }
  return f;
}

template <class Take>
int64_t count_ops_if(const std::vector<RankProgram>& programs, int32_t rank, Take take) {
  int64_t n = 0;
  for (const Op& op : programs.at(size_t(rank)).ops) n += take(op) ? 1 : 0;
  return n;
}

std::string fmt(const char* f, double a, double b = 0, double c = 0) { return strprintf(f, a, b, c); }


rules::GraphScope graph_scope(CudaGraphImpl g) {
  switch (g) {
    case CudaGraphImpl::None: return rules::GraphScope::None;
    case CudaGraphImpl::Local:
    case CudaGraphImpl::TransformerEngine: return rules::GraphScope::Layer;
    case CudaGraphImpl::FullIteration: return rules::GraphScope::Iteration;
  }
  return rules::GraphScope::None;
}

// How a phase ran: on how many GPUs, folded or not.
std::string fold_of(const Timeline& t, int32_t phase) {
  const PhaseRecord& p = t.phases.at(size_t(phase));
  return "on " + std::to_string(p.simulated_ranks) + " GPUs" + (p.fold_note.empty() ? "" : ", " + p.fold_note);
}

}  // namespace

std::optional<std::string> host_bound_warning(const RankProgram& layer, double layer_s, const std::string& gpu_name) {
  // every kernel and every NCCL call with a launch of its own (Op::own_launch)
  const double launches = double(std::count_if(layer.ops.begin(), layer.ops.end(), [](const Op& op) { return op.own_launch; }));
  if (launches <= 0 || !(layer_s > 0)) return std::nullopt;
  const double per_launch_s = layer_s / launches, host_s = rules::host_launch_s(gpu_name);
  if (per_launch_s >= host_s) return std::nullopt;
  return strprintf("the layer's %.0f launches (kernels and NCCL calls) take %.1f us each on the GPU on average, less "
                   "than the %.1f us of CPU eager PyTorch spends to launch one on %s (measured on the H200 node's CPU "
                   "and carried to this host; docs/simulation.md): "
                   "in training this layer would be bound by the host; a layer alone is timed as the GPU runs it",
                   launches, per_launch_s * 1e6, host_s * 1e6, rules::host_cpu_name(gpu_name));
}

std::string host_bound_step_warning(const StepMetrics& m, const std::string& gpu_name) {
  const StepTime& t = m.composed;
  return strprintf("the CPU cannot launch this step's work as fast as the GPUs run it everywhere: %.0f launches (kernels "
                   "and NCCL calls) a micro batch at %.1f us each on %s (eager PyTorch's, measured on the H200 node's CPU "
                   "and carried to this host; docs/simulation.md) take %.3f s over the step against the GPUs' %.3f s, "
                   "and where the GPUs run ahead of them the step waits %.3f s in all; the step is timed at the CPU's "
                   "pace, and Megatron's and TE's own Python per module, not counted, make it slower still",
                   double(t.host_launches), m.inputs.host_per_launch_s * 1e6, rules::host_cpu_name(gpu_name),
                   t.host_launch_s, t.pipeline_s - t.host_wait_s, t.host_wait_s);
}

SimulationResult simulate_scenario(const Scenario& sc, const SimulateOptions& opt) {
  return simulate_scenario(sc, opt, nullptr);
}

namespace {

// What one SimGrid run of a scenario leaves: the workload it ran, the cost model that timed its
// kernels, the timeline.
struct Execution {
  Workload w;
  CostModel cost;
  Timeline t;
};

Execution execute(const Scenario& sc, const SimulateOptions& opt) {
  Workload w = build_workload(sc);
  CostModel cost = opt.cost_params ? CostModel(sc.cluster.gpu, sc.training.precision, *opt.cost_params) : cost_model_for(sc);
  CommFabric fabric = comm_fabric_for(sc, cost.params());  // one definition, shared with the dumps' routes
  ExecuteInput in;
  in.graph = std::move(fabric.graph);
  in.nccl_node = fabric.node;  // line rates: NCCL's figures come from the hardware, not achieved rates
  in.nccl = fabric.settings;
  in.calibrated_collectives = fabric.calibrated();
  in.layout = fabric.layout;
  in.placement = std::move(fabric.placement);
  in.platform.zone = opt.zone;
  in.options.interference = cost.params().interference;
  in.options.ring_max_macro_steps = opt.ring_max_macro_steps;
  in.options.fold_dp_replicas = opt.fold_dp_replicas;

  const bool with_step = sc.workload == WorkloadKind::Step && !w.step.empty();
  const auto layer_times = compute_times(w.layer, cost);
  std::vector<std::vector<double>> step_times;
  in.phases.push_back({"layer", w.layer, w.groups, layer_times});
  std::vector<std::vector<double>> pipeline_times;
  if (with_step) {
    step_times = compute_times(w.step, cost);
    in.phases.push_back({"step", w.step, w.groups, step_times});
    if (!w.pipeline.empty()) {
      pipeline_times = compute_times(w.pipeline, cost);
      in.phases.push_back({"pipeline", w.pipeline, w.groups, pipeline_times});
    }
  }
  Timeline t = execute_programs(in);
  return {std::move(w), std::move(cost), std::move(t)};
}

// The result of `sc` from its execution: memory, the layer's spans, the step composed.
SimulationResult compose(const Scenario& sc, Execution& e, std::chrono::steady_clock::time_point wall_begin,
                         SimulationArtifacts* keep) {
  Workload& w = e.w;
  const CostModel& cost = e.cost;
  Timeline& t = e.t;
  SimulationResult res;
  res.scenario = sc;
  res.cost_source = cost.params().source;
  for (const std::string& w : cost.params().warnings)  // e.g. a calibration of another GPU model
    if (std::find(res.scenario.warnings.begin(), res.scenario.warnings.end(), w) == res.scenario.warnings.end())
      res.scenario.warnings.push_back(w);
  // FlashAttention-2's varlen launches over documents of unequal lengths timed by the FLOPs tables (no
  // shape model of this GPU or head dim): the CTAs past a shorter document's end count nothing, in
  // the time or the band, where validation's warning describes the shape model's middle and band.
  if (sc.software.attention_backend == AttentionBackend::Flash && sc.training.unequal_documents()) {
    const auto unmodelled = [&](const Op& op) {
      return op.compute_class == ComputeClass::Attention && op.attn.ragged() && !cost.shape_model_applies(op);
    };
    if (std::any_of(w.layer.begin(), w.layer.end(),
                    [&](const RankProgram& p) { return std::any_of(p.ops.begin(), p.ops.end(), unmodelled); }))
      res.scenario.warnings.push_back(
          "FlashAttention-2's varlen launches on " + sc.cluster.gpu.name + " are timed by the attention tables' FLOPs "
          "rates (no shape model of this GPU" + std::string(sc.model.kv_channels != 128 ? " or head dim" : "") +
          "): the CTAs past a shorter document's end are not counted, in the time or in the band (docs/cp-transports.md "
          "§1.2); the launch may take longer than it says");
  }
  res.memory = estimate_memory(sc);
  if (!res.memory.fits)  // the times are still worth having (what the memory would buy), but not as a step that runs
    res.scenario.warnings.push_back(strprintf(
        "does not fit in GPU memory: peak %.1f GB of %.1f GB in %s; the times are those the %s would take if it fit. To "
        "fit: %s. hcpsim sweep finds the layouts that fit",
        res.memory.peak_bytes / 1e9, res.memory.capacity_bytes / 1e9, res.memory.peak_phase.c_str(),
        sc.workload == WorkloadKind::Step ? "step" : "work", memory_relief_words(&sc).c_str()));
  if (res.memory.within_allocator_margin)
    res.scenario.warnings.push_back("fits, but " + allocator_margin_words(res.memory, sc));
  // Megatron's selective recompute checkpoints the core attention; a fused kernel (cuDNN, FlashAttention)
  // keeps no score matrix, so the checkpoint frees little and the forward still runs again in the
  // backward. Worth saying where a user may have picked it for memory.
  if (sc.training.recompute_granularity == RecomputeGranularity::Selective) {
    Scenario without = sc;
    without.training.recompute_granularity = RecomputeGranularity::None;
    const double saved = estimate_memory(without).peak_bytes - res.memory.peak_bytes;
    if (saved < 0.01 * res.memory.peak_bytes)
      res.scenario.warnings.push_back(fmt(
          "selective recompute (Megatron's core attention checkpoint) lowers the peak by %.2f GB of %.1f GB here: the fused "
          "attention keeps no score matrix to free, yet its forward runs again in the backward; full recompute, more "
          "CP or TP, or a smaller micro batch lower the peak", saved / 1e9, res.memory.peak_bytes / 1e9));
  }
  const bool with_step = sc.workload == WorkloadKind::Step && !w.step.empty();

  res.simulated_gpus = t.phases.at(kLayerPhase).simulated_ranks;
  res.activities = t.activities;
  res.attention = attention_metrics(t, kLayerPhase, w.layer);
  const double layer_begin = t.phase_start_s.at(kLayerPhase), layer_end = t.phase_end_s.at(kLayerPhase);
  res.layer_makespan_s = layer_end - layer_begin;
  res.links = busiest_links(t, kLayerPhase, res.layer_makespan_s, kTopLinks);

  // The slowest rank of the layer decides the layer's time on the critical path.
  int32_t slowest = t.simulated_ranks.empty() ? 0 : t.simulated_ranks.front();
  double slowest_s = -1;
  const std::map<int32_t, PassSpans> spans = pass_spans_by_rank(t, kLayerPhase, w.layer);
  for (int32_t r : t.simulated_ranks) {
    const auto it = spans.find(r);
    const PassSpans s = it == spans.end() ? PassSpans{} : it->second;
    if (s.forward_s + s.backward_s > slowest_s) {
      slowest_s = s.forward_s + s.backward_s;
      slowest = r;
      res.layer = s;
    }
  }

  // The re-run is full recompute's; selective recompute's core-attention re-run is inside every backward.
  if (!sc.training.full_recompute()) res.layer.rerun_s = 0;
  const TimeShares layer_shares = time_shares(t, kLayerPhase, slowest, w.layer, res.layer.forward_s + res.layer.backward_s,
                                              [](OpArea) { return true; }, cost);
  if (!with_step && graph_scope(sc.software.cuda_graph_impl) == rules::GraphScope::None)
    // a step composes the CPU's launches into its time (below); a layer alone only warns
    if (const auto w_host = host_bound_warning(w.layer.at(size_t(slowest)), res.layer.forward_s + res.layer.backward_s,
                                               sc.cluster.gpu.name))
      res.scenario.warnings.push_back(*w_host);
  res.uncertainty = uncertainty_of(layer_shares, cost.params(), res.layer.forward_s + res.layer.backward_s, 0);
  const std::string what = sc.workload == WorkloadKind::Attention ? "core attention" : "one transformer layer";
  const PhaseRecord& layer_phase = t.phases.at(kLayerPhase);
  const std::string fold = layer_phase.fold_note.empty() ? "" : " [" + layer_phase.fold_note + "]";
  res.simulated = what + " (" + to_string(sc.passes) + ") on " + std::to_string(res.simulated_gpus) + " of " +
                  std::to_string(sc.cluster.world_size()) + " GPUs" +
                  fold +
                  (with_step ? ", then the step-level ops (embedding, LM head, loss, DP gradient sync, optimizer) " +
                                   (t.phases.at(kStepPhase).folded ? "(" + fold_of(t, kStepPhase) + ")" : std::string("on all GPUs"))
                             : std::string()) +
                  (with_step && !w.pipeline.empty()
                       ? ", then one micro batch's stage-to-stage transfers each way (" + fold_of(t, kPipelinePhase) + ")"
                       : std::string()) +
                  "; " + std::to_string(res.activities) + " SimGrid activities";

  PipelineTiming pipeline_timing;
  if (with_step) {
    StepMetrics m;
    StepInputs& si = m.inputs;
    const RankLayout layout = rank_layout_of(sc.parallel);
    si.layers = w.layers_per_step;
    si.microbatches = w.microbatches;
    si.layer_forward_s = res.layer.forward_s;
    si.layer_backward_s = res.layer.backward_s;
    // Full recompute's re-run forward, which the layers that block recompute leaves out skip
    // (selective recompute re-runs the core attention inside the backward: every layer keeps it).
    if (sc.training.full_recompute()) si.layer_rerun_s = res.layer.rerun_s;
    si.pipeline = w.pipeline_spec;
    si.host_per_launch_s = rules::host_launch_s(sc.cluster.gpu.name);
    si.overlap_grad_reduce = sc.parallel.overlap_grad_reduce;
    si.overlap_param_gather = sc.parallel.overlap_param_gather;
    const bool distopt = sc.parallel.use_distributed_optimizer;
    const auto in_area = [](OpArea a) { return [a](const Op& op) { return op.area == a; }; };
    std::vector<int32_t> optimizer_rank;  // per stage, the rank whose optimizer span is the stage's
    const std::vector<double> optimizer =
        span_by_stage(t, kStepPhase, w.step, layout, in_area(OpArea::Optimizer), &optimizer_rank);
    const std::map<int32_t, std::map<int32_t, double>> step_took = step_op_times(t);
    std::vector<double> send_fwd(size_t(layout.pp), 0.0), send_bwd(size_t(layout.pp), 0.0);
    if (!w.pipeline.empty()) {
      send_fwd = span_by_stage(t, kPipelinePhase, w.pipeline, layout, [](const Op& op) { return op.phase == Phase::Forward; });
      send_bwd = span_by_stage(t, kPipelinePhase, w.pipeline, layout, [](const Op& op) { return op.phase == Phase::Backward; });
    }
    const std::map<int32_t, PassSpans> step_spans = pass_spans_by_rank(t, kStepPhase, w.step);
    // Activation offloading: each offloaded layer's saved activations over the host link, each way.
    const int64_t offloaded = sc.training.cpu_offloading_num_layers;
    const double offloaded_bytes_per_layer = offloaded > 0 ? saved_activation_bytes_per_layer(sc) : 0.0;
    const double offload_copy_s = offloaded > 0 ? offloaded_bytes_per_layer / sc.cluster.host_link_bytes_per_s : 0.0;
    rules::OffloadStalls offload =
        rules::offload_stalls(w.layers_per_step, offloaded, si.layer_forward_s, si.layer_backward_s, offload_copy_s);
    // The copies also read (out) and write (back) each byte once in HBM, beside the kernels: that
    // much HBM time is taken from them, each way (an H100 measured 2.4-2.7 % slower kernels under
    // 55 GB/s of copies, where this gives 1.6 %: calibrate/RESULTS.md, twenty-sixth run).
    const double offload_hbm_s = double(offloaded) * offloaded_bytes_per_layer / sc.cluster.gpu.hbm_bytes_per_s;
    const rules::OffloadStalls copy_waits = offload;
    offload.forward_s += offload_hbm_s, offload.backward_s += offload_hbm_s;
    std::vector<int32_t> stage_rank;  // per stage, the slowest layer rank's place in it (simulated)
    for (int64_t stage = 0; stage < layout.pp; ++stage) {
      RankCoord c = layout.coord_of(slowest);
      c.pp = stage;
      stage_rank.push_back(t.phases.at(kStepPhase).stand_in.at(size_t(layout.rank_of(c))));  // a folded stage: its twin
    }
    // The CPU launches every op of a pass that has a launch of its own (a kernel or an NCCL call;
    // not what TE's C++ issues inside another op's call, Op::own_launch): each of the chunk's
    // layers' ops of that direction, the embedding's or head's where the chunk holds them, and the
    // pass's stage-to-stage send and receive (every chunk's pass has its own); under CUDA graphs, a
    // graph launch for what a graph holds (rules::pass_launches).
    const rules::GraphScope graphs = graph_scope(sc.software.cuda_graph_impl);
    const auto in_dir = [](Phase dir) { return [dir](const Op& op) { return op.own_launch && op.phase == dir; }; };
    const int64_t layer_launches[2] = {count_ops_if(w.layer, slowest, in_dir(Phase::Forward)),
                                       count_ops_if(w.layer, slowest, in_dir(Phase::Backward))};
    const int64_t rerun_launches =
        sc.training.full_recompute()
            ? count_ops_if(w.layer, slowest, [](const Op& op) { return op.own_launch && op.recompute; })
            : 0;
    const TrainingSpec& tr = sc.training;
    int64_t layers_without_rerun = 0;  // over the model's layers
    for (int64_t stage = 0; stage < layout.pp; ++stage) {
      const int32_t rep = stage_rank[size_t(stage)];
      StageInputs st;
      st.chunk_layers = w.pipeline_split.layers[size_t(stage)];
      st.chunk_layers_without_rerun = rules::chunk_layers_without_rerun(tr.full_recompute(), tr.recompute_method,
                                                                        tr.recompute_num_layers, st.chunk_layers);
      for (const int64_t plain : st.chunk_layers_without_rerun) layers_without_rerun += plain;
      const auto found = step_spans.find(rep);
      const PassSpans extra = found == step_spans.end() ? PassSpans{} : found->second;
      st.extra_forward_s = extra.forward_s;
      st.extra_backward_s = extra.backward_s;
      st.send_forward_s = send_fwd[size_t(stage)];
      st.send_backward_s = send_bwd[size_t(stage)];
      if (offload.forward_s + offload.backward_s > 0)  // PP = 1 (validation): the one stage
        st.offload_forward_s = offload.forward_s, st.offload_backward_s = offload.backward_s;
      st.optimizer_s = optimizer[size_t(stage)];
      const auto took = step_took.find(rep);
      st.dp_buckets = dp_buckets_of(took == step_took.end() ? std::map<int32_t, double>{} : took->second,
                                    w.dp_buckets[size_t(stage)]);
      for (const Phase dir : {Phase::Forward, Phase::Backward}) {
        const bool fwd = dir == Phase::Forward;
        const int64_t transfers = w.pipeline.empty() ? 0 : count_ops_if(w.pipeline, rep, in_dir(dir));
        std::vector<int64_t>& launches = fwd ? st.forward_launches : st.backward_launches;
        for (size_t c = 0; c < st.chunk_layers.size(); ++c) {
          const int64_t plain = fwd || st.chunk_layers_without_rerun.empty() ? 0 : st.chunk_layers_without_rerun[c];
          const int64_t per_layer = layer_launches[fwd ? 0 : 1];
          launches.push_back(rules::pass_launches(graphs, st.chunk_layers[c] - plain, per_layer, transfers) +
                             rules::pass_launches(graphs, plain, per_layer - rerun_launches, 0));
        }
        launches[extra_chunk(size_t(stage), launches.size())] +=
            rules::pass_launches(graphs, 0, 0, count_ops_if(w.step, rep, in_dir(dir)));
      }
      si.stages.push_back(std::move(st));
    }
    m.composed = compose_step(si, pipeline_timing);
    m.time_s = m.composed.step_s;
    if (m.composed.host_bound) res.scenario.warnings.push_back(host_bound_step_warning(m, sc.cluster.gpu.name));
    // Megatron dispatches a 1F1B stage's parameter all-gather lazily (rules/ddp_buckets.hpp,
    // run/step_composition.hpp): worth saying where it costs the step.
    if (layout.pp > 1 && !w.pipeline_spec.interleaved() && m.composed.param_gather_exposed_s > 0.02 * m.time_s)
      res.scenario.warnings.push_back(fmt(
          "the distributed optimizer gathers each pipeline stage's parameters when the stage's first forward starts "
          "(Megatron's forward pre-hook: without virtual stages align_param_gather is off), so the pipeline's fill waits "
          "for them stage after stage: %.3f s of the step (%.1f%%); with virtual stages (the interleaved schedule) every "
          "stage starts its gather at the schedule's start", m.composed.param_gather_exposed_s,
          100 * m.composed.param_gather_exposed_s / m.time_s));
    const double tokens = static_cast<double>(sc.training.global_batch_size) * sc.training.seq_length;
    m.tokens_per_s = tokens / m.time_s;
    m.tokens_per_s_per_gpu = m.tokens_per_s / sc.cluster.world_size();
    // Step programs hold embedding/head ops (per micro batch) and elementwise optimizer ops (no
    // FLOPs). Every rank's layer program is one layer; a rank runs layers / PP of them.
    m.model_flops = w.microbatches * (w.layers_per_step * model_flops(w.layer) / double(layout.pp) + model_flops(w.step));
    m.mfu = m.model_flops / (m.time_s * sc.cluster.world_size() * cost.gemm_peak_flops_per_s());
    if (m.mfu > 1)  // more than the peak: the kernel times came from efficiencies above 1 (a calibration allows 1.5)
      res.scenario.warnings.push_back(fmt(
          "MFU %.1f%% is above the GPU's dense peak: the kernel times rest on efficiencies above 1 (check the "
          "calibration's GEMM points, or cluster.gpu's peak)", 100 * m.mfu));
    const StageInputs& s0 = si.stages.front();
    const int64_t bucket_params =
        rules::ddp_bucket_params(sc.parallel.data_parallel_size * sc.parallel.context_parallel_size);
    const bool ogr = sc.parallel.overlap_grad_reduce, opg = sc.parallel.overlap_param_gather;
    const std::string sync =
        sc.parallel.fsdp_sharded()
            ? strprintf("Megatron-FSDP over DP x CP %lld: each layer's parameters all-gathered under the layer before it, "
                  "forward and backward, and its gradients reduce-scattered under the backward that follows its own, "
                  "every micro batch (in the simulated layer); per micro batch the first layer's gather, the head's "
                  "reduce-scatter with the last layer's backward gather queued behind it, and the first layer's and "
                  "the embedding's reduce-scatter wait (with the embedding/head); the parameters outside the layers "
                  "gathered once a step, with the optimizer: %.1f ms",
                  static_cast<long long>(sc.parallel.data_parallel_size * sc.parallel.context_parallel_size),
                  m.composed.optimizer_s * 1e3)
        : sc.parallel.data_parallel_size * sc.parallel.context_parallel_size == 1
            ? fmt("no data-parallel gradient sync (DP x CP = 1), optimizer %.1f ms", m.composed.optimizer_s * 1e3)
            :
        std::string("DP gradient ") + (distopt ? "reduce-scatter" : "all-reduce") +
        (ogr ? " in " + std::to_string(s0.dp_buckets.size()) +
                   " buckets on the first stage (Megatron's: " + fmt("%.0fM", double(bucket_params) / 1e6) +
                   " parameters a bucket in its first chunk" +
                   (s0.chunk_layers.size() > 1 ? ", one bucket a chunk in the others" : "") +
                   ") overlapped with the last backward"
             : std::string(" after the last backward (overlap_grad_reduce off)")) +
        (distopt ? (opg ? ", parameter all-gather overlapped with the next forward"
                        : ", parameter all-gather after the optimizer (overlap_param_gather off)")
                 : "") +
                             fmt(" (exposed %.1f ms + %.1f ms), optimizer %.1f ms", m.composed.grad_reduce_exposed_s * 1e3,
                                 m.composed.param_gather_exposed_s * 1e3, m.composed.optimizer_s * 1e3);
    const std::string without_rerun_note =
        layers_without_rerun > 0
            ? strprintf(" (block recompute of %lld layers a model chunk: %lld of the model's %lld layers skip the "
                        "layer's %.2f ms re-run forward)",
                        static_cast<long long>(tr.recompute_num_layers), static_cast<long long>(layers_without_rerun),
                        static_cast<long long>(si.layers), si.layer_rerun_s * 1e3)
            : std::string();
    if (layout.pp == 1) {
      res.composed = std::to_string(si.layers) + " layers x " + std::to_string(si.microbatches) +
                     " micro batches of the simulated layer" + without_rerun_note +
                     ", plus embedding/head per micro batch; " + sync;
      if (offloaded > 0)
        res.composed += strprintf("; activation offload of the first %lld layers, %.2f GB a layer over the host link at %.0f GB/s "
                            "(%.1f ms each way): each micro batch's forward waits %.1f ms for the copies and its backward %.1f ms, "
                            "and each pass loses %.1f ms of HBM time to them",
                            static_cast<long long>(offloaded), offload_copy_s * sc.cluster.host_link_bytes_per_s / 1e9,
                            sc.cluster.host_link_bytes_per_s / 1e9, offload_copy_s * 1e3, copy_waits.forward_s * 1e3,
                            copy_waits.backward_s * 1e3, offload_hbm_s * 1e3);
    } else {
      const PipelineSpec& ps = w.pipeline_spec;
      res.composed = std::string(ps.interleaved() ? "interleaved 1F1B" : "1F1B") + " pipeline of " + std::to_string(ps.stages) +
                     " stages" + (ps.interleaved() ? " x " + std::to_string(ps.virtual_stages) + " virtual stages" : "") +
                     " over " + std::to_string(si.microbatches) + " micro batches, timed from stage-level ops: " +
                     "each stage's layers x the simulated layer" + without_rerun_note +
                     ", embedding on the first and head on the last stage, "
                     "the simulated stage-to-stage transfers" + (ps.overlapped() ? " (overlapped)" : " (blocking)") +
                     fmt("; bubble %.1f%% of the schedule without the CPU's launches and the parameters' waits (%.3f s with them)",
                         100 * m.composed.bubble_fraction, m.composed.pipeline_s) + "; per stage " +
                     sync;
    }
    // What the step's time is made of, for its band: the layers, the embedding and head per
    // micro batch, the optimizer, and the exposed DP communication.
    // With PP a rank runs layers / PP of them per micro batch, and the bubble waits on the other
    // stages' layers: it is counted as layer time.
    // Block recompute's layers without the re-run count as the part of the simulated layer they run.
    const double layer_s = res.layer.forward_s + res.layer.backward_s;
    const double layers_run =
        (double(si.layers) - (layer_s > 0 ? double(layers_without_rerun) * si.layer_rerun_s / layer_s : 0.0)) /
        double(layout.pp);
    const double layer_count = double(si.microbatches) * layers_run / (1.0 - m.composed.bubble_fraction);
    TimeShares shares = layer_shares.scaled(layer_count);
    for (int64_t stage = 0; stage < layout.pp; ++stage) {
      const StageInputs& st = si.stages[size_t(stage)];
      shares += time_shares(t, kStepPhase, stage_rank[size_t(stage)], w.step, st.extra_forward_s + st.extra_backward_s,
                            [](OpArea a) { return a == OpArea::Embedding || a == OpArea::Head; }, cost)
                    .scaled(double(si.microbatches));
    }
    for (const StageInputs& st : si.stages) shares.offload_s += double(si.microbatches) * (st.offload_forward_s + st.offload_backward_s);
    // What follows the last backward: the exposed DP communication and the optimizer.
    // The optimizer's span is the slowest stage's: its kernels are memory-bound work, the rest of
    // it waits on communication (Megatron-FSDP's once-a-step gather of the parameters outside the
    // layers, NVFP4's tile amaxes).
    const auto slowest_optimizer = size_t(std::max_element(optimizer.begin(), optimizer.end()) - optimizer.begin());
    const int32_t optimizer_of = optimizer_rank[slowest_optimizer] >= 0 ? optimizer_rank[slowest_optimizer]
                                                                        : stage_rank[slowest_optimizer];
    TimeShares after = time_shares(t, kStepPhase, optimizer_of, w.step, m.composed.optimizer_s,
                                   [](OpArea a) { return a == OpArea::Optimizer; }, cost);
    after.comm_s += m.composed.grad_reduce_exposed_s + m.composed.param_gather_exposed_s;
    shares += after;
    // The step is the slower of the GPUs' schedule and the CPU's launches: each with its own band,
    // the step's band runs from the larger of their low ends to the larger of their high ends.
    // Each band's tokens/s are the step's tokens over that band's times.
    const auto tokens_per_s_at = [&](double time_s) { return time_s > 0 ? m.tokens_per_s * m.time_s / time_s : 0.0; };
    const double gpu_paced_s = m.time_s - m.composed.host_wait_s;
    res.uncertainty = uncertainty_of(shares, cost.params(), gpu_paced_s, tokens_per_s_at(gpu_paced_s));
    if (m.composed.host_launch_s > 0) {
      // The CPU's launches, then what follows the schedule (the gradient reduce's exposed part and
      // the optimizer); the parameters' gather is a wait of the GPUs' within the schedule, not the CPU's.
      // Where the CPU's launch rate delays the schedule (host_bound), the CPU is on its path: at 1F1B's
      // host synchronisations it cannot launch ahead, and its launches and the GPUs' kernels run in
      // turn, so the step is neither the GPUs' time nor the CPU's alone; the CPU's band is then the
      // step's own, +-its launches' share (an audit found a host-bound 1F1B step at 0.066 s
      // with a band of 0.038-0.051 s, both centred below it).
      TimeShares cpu = after;
      cpu.comm_s -= m.composed.param_gather_exposed_s;
      cpu.host_s = m.composed.host_launch_s;
      const double cpu_paced_s =
          m.composed.host_bound ? m.time_s : m.composed.host_launch_s + (m.time_s - m.composed.pipeline_s);
      res.uncertainty = slower_of(res.uncertainty,
                                  uncertainty_of(cpu, cost.params(), cpu_paced_s, tokens_per_s_at(cpu_paced_s)),
                                  m.time_s, m.tokens_per_s);
    }
    res.step = m;
  } else {
    res.composed = "nothing: the " + std::string(to_string(sc.workload)) + " workload is reported as simulated";
  }

  res.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_begin).count();
  if (keep) {
    std::vector<int32_t> traced;  // the ranks that ran (folded replicas did not)
    for (const OpRecord& r : t.ops) traced.push_back(r.rank);
    std::sort(traced.begin(), traced.end());
    traced.erase(std::unique(traced.begin(), traced.end()), traced.end());
    keep->routes = comm_routes(w, comm_fabric_for(sc, cost.params()), traced);
    keep->workload = std::move(w);
    keep->pipeline = std::move(pipeline_timing);
    keep->timeline = std::move(t);
  }
  return res;
}

}  // namespace

SimulationResult simulate_scenario(const Scenario& sc, const SimulateOptions& opt, SimulationArtifacts* keep) {
  const auto wall_begin = std::chrono::steady_clock::now();
  Execution e = execute(sc, opt);
  return compose(sc, e, wall_begin, keep);
}

bool same_simulation(const Scenario& a, const Scenario& b) {
  Scenario as_a = b;
  as_a.name = a.name;
  as_a.warnings = a.warnings;
  if (!a.training.full_recompute() || !b.training.full_recompute()) return as_a == a;
  as_a.training.recompute_method = a.training.recompute_method;
  as_a.training.recompute_num_layers = a.training.recompute_num_layers;
  as_a.training.recompute_method_given = a.training.recompute_method_given;
  as_a.training.recompute_num_layers_given = a.training.recompute_num_layers_given;
  return as_a == a;
}

std::vector<SimulationResult> simulate_scenarios(const std::vector<Scenario>& scenarios, const SimulateOptions& opt) {
  std::vector<SimulationResult> out;
  if (scenarios.empty()) return out;
  const auto wall_begin = std::chrono::steady_clock::now();
  for (const Scenario& sc : scenarios)
    if (!same_simulation(scenarios.front(), sc))
      throw std::logic_error("simulate_scenarios: \"" + sc.name + "\" runs another simulation than \"" +
                                  scenarios.front().name + "\"");
  Execution e = execute(scenarios.front(), opt);
  for (const Scenario& sc : scenarios) out.push_back(compose(sc, e, wall_begin, nullptr));
  return out;
}

}  // namespace hcpsim

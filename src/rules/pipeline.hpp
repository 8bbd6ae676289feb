// Pipeline parallelism as Megatron-Core runs it: how the layers are split into stages and
// virtual stages, the order in which each stage runs its forward and backward micro batches
// (1F1B and interleaved 1F1B), and the rules Megatron enforces on both. Plain C++17, no
// dependencies: the scenario's validation, the workload, the memory model and the step
// composition all read these, so each rule has one definition (docs/pipeline.md).
//
// Sources (Megatron-LM, NVIDIA/Megatron-LM at d98e8a6):
//  - layer split: megatron/core/transformer/transformer_block.py get_num_layers_to_build;
//    megatron/training/arguments.py (divisibility, uneven first/last stage, embedding and loss
//    accounted in the split, VPP needs PP > 2 unless overlap_p2p_comm);
//  - schedules: megatron/core/pipeline_parallel/schedules.py get_pp_rank_microbatches
//    (warm-up counts), get_schedule_table (the interleaved order in groups of
//    microbatch_group_size_per_vp_stage), forward_backward_pipelining_with_interleaving
//    (its micro-batch rules), forward_backward_pipelining_without_interleaving.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace hcpsim {

// What the scenario says about the pipeline (parallel.* keys of the same names).
struct PipelineSpec {
  int64_t stages = 1;                   // pipeline_model_parallel_size (p)
  int64_t virtual_stages = 1;           // virtual_pipeline_model_parallel_size (v): model chunks per stage
  int64_t first_stage_layers = -1;      // decoder_first_pipeline_num_layers; -1 = even split
  int64_t last_stage_layers = -1;       // decoder_last_pipeline_num_layers; -1 = even split
  bool account_for_embedding = false;   // account_for_embedding_in_pipeline_split
  bool account_for_loss = false;        // account_for_loss_in_pipeline_split
  int64_t microbatch_group = 0;         // microbatch_group_size_per_vp_stage; 0 = p (Megatron's default)
  bool overlap_p2p_comm = false;        // overlap_p2p_comm (interleaved only: Megatron turns it off for 1F1B)
  bool interleaved() const { return stages > 1 && virtual_stages > 1; }
  int64_t group() const { return microbatch_group > 0 ? microbatch_group : stages; }
  bool overlapped() const { return overlap_p2p_comm && interleaved(); }  // the sends overlap compute
  // Megatron sends without overlap through batch_isend_irecv (batch_p2p_comm = not
  // overlap_p2p_comm, megatron/training/argument_utils.py) and then, by default (batch_p2p_sync),
  // calls torch.cuda.synchronize() (p2p_communication.py _communicate): after every
  // stage-to-stage transfer the CPU waits for the GPU, so it cannot launch ahead across it.
  bool host_syncs_per_transfer() const { return stages > 1 && !overlapped(); }
  bool operator==(const PipelineSpec& o) const {
    return stages == o.stages && virtual_stages == o.virtual_stages && first_stage_layers == o.first_stage_layers &&
           last_stage_layers == o.last_stage_layers && account_for_embedding == o.account_for_embedding &&
           account_for_loss == o.account_for_loss && microbatch_group == o.microbatch_group &&
           overlap_p2p_comm == o.overlap_p2p_comm;
  }
};

// A broken rule: which key, what is wrong, the rule, a fix. Empty `key` = no problem.
struct PipelineProblem {
  std::string key, what, rule, fix;
  bool empty() const { return key.empty(); }
  bool operator==(const PipelineProblem& o) const { return key == o.key && what == o.what && rule == o.rule && fix == o.fix; }
};

// Transformer layers of every (stage, chunk): layers[stage][chunk]. Chunk c of stage s is the
// global virtual stage c*p + s (Megatron's interleaved assignment: stage 0 holds chunks
// 0, p, 2p, ...). The embedding sits on (0, 0), the LM head and loss on (p-1, v-1).
struct PipelineSplit {
  std::vector<std::vector<int64_t>> layers;
  PipelineProblem problem;  // set when the spec breaks a rule (layers is then empty)
  bool operator==(const PipelineSplit& o) const { return layers == o.layers && problem == o.problem; }
  int64_t stage_layers(int64_t s) const {
    int64_t n = 0;
    for (int64_t l : layers[size_t(s)]) n += l;
    return n;
  }
  // The layers of the largest model chunk (stage, or virtual stage): recompute_method "block"
  // counts its recompute_num_layers within each chunk (rules/recompute.hpp). 0 without a split.
  int64_t largest_chunk_layers() const {
    int64_t most = 0;
    for (const std::vector<int64_t>& stage : layers)
      for (const int64_t l : stage) most = std::max(most, l);
    return most;
  }
};

inline std::string pipeline_str(int64_t v) { return std::to_string(v); }

inline PipelineSplit pipeline_split(const PipelineSpec& ps, int64_t num_layers) {
  PipelineSplit out;
  const int64_t p = ps.stages, v = ps.virtual_stages;
  const auto fail = [&](std::string key, std::string what, std::string rule, std::string fix) {
    out.problem = {"parallel." + key, std::move(what), std::move(rule), std::move(fix)};
    out.layers.clear();
    return out;
  };
  const bool uneven = ps.first_stage_layers >= 0 || ps.last_stage_layers >= 0;
  if (p == 1) {
    if (v > 1)
      return fail("virtual_pipeline_model_parallel_size", "virtual stages " + pipeline_str(v) + " without pipeline parallelism",
                  "virtual_pipeline_model_parallel_size > 1 needs pipeline_model_parallel_size > 1",
                  "set it to 1, or use pipeline_model_parallel_size > 1");
    if (uneven || ps.account_for_embedding || ps.account_for_loss)
      return fail(uneven ? (ps.first_stage_layers >= 0 ? "decoder_first_pipeline_num_layers" : "decoder_last_pipeline_num_layers")
                         : (ps.account_for_embedding ? "account_for_embedding_in_pipeline_split" : "account_for_loss_in_pipeline_split"),
                  "a pipeline split option without pipeline parallelism", "only meaningful with pipeline_model_parallel_size > 1",
                  "remove it, or set pipeline_model_parallel_size > 1");
    out.layers = {{num_layers}};
    return out;
  }
  if (v > 1 && !ps.overlap_p2p_comm && p <= 2)
    return fail("virtual_pipeline_model_parallel_size",
                "interleaved schedule with pipeline_model_parallel_size " + pipeline_str(p),
                "the interleaved schedule needs pipeline_model_parallel_size > 2 (or > 1 with overlap_p2p_comm), "
                "as Megatron's arguments.py asserts",
                "use pipeline_model_parallel_size >= 3, set overlap_p2p_comm, or virtual stages 1");
  std::vector<int64_t> per_stage(size_t(p), 0);
  if (uneven) {
    if (ps.account_for_embedding || ps.account_for_loss)
      return fail(ps.account_for_embedding ? "account_for_embedding_in_pipeline_split" : "account_for_loss_in_pipeline_split",
                  "an uneven first/last stage together with the embedding or loss accounted in the split",
                  "Megatron does not support both (transformer_block.py)", "use one of the two ways to lighten the end stages");
    int64_t rest = num_layers, left = p;
    for (const auto& [n, key] : {std::pair{ps.first_stage_layers, "decoder_first_pipeline_num_layers"},
                                 std::pair{ps.last_stage_layers, "decoder_last_pipeline_num_layers"}}) {
      if (n < 0) continue;
      if (n == 0 || n % v != 0)
        return fail(key, pipeline_str(n) + " layers", "> 0 and divisible by virtual_pipeline_model_parallel_size (" + pipeline_str(v) + ")",
                    "use a positive multiple of " + pipeline_str(v));
      rest -= n;
      --left;
    }
    if (rest < 0 || (left > 0 && (rest == 0 || rest % left != 0 || (rest / left) % v != 0)) || (left == 0 && rest != 0))
      return fail(ps.first_stage_layers >= 0 ? "decoder_first_pipeline_num_layers" : "decoder_last_pipeline_num_layers",
                  pipeline_str(rest) + " layers left for " + pipeline_str(left) + " middle stages (of " + pipeline_str(num_layers) + ")",
                  "the layers left over divide evenly over the other stages, at least one each and a multiple of the "
                  "virtual stages (Megatron's uneven split)",
                  "choose first/last stage layers so that the rest splits evenly");
    for (int64_t s = 0; s < p; ++s) per_stage[size_t(s)] = left > 0 ? rest / left : 0;
    if (ps.first_stage_layers >= 0) per_stage.front() = ps.first_stage_layers;
    if (ps.last_stage_layers >= 0) per_stage.back() = ps.last_stage_layers;
  } else {
    const int64_t slots = num_layers + (ps.account_for_embedding ? 1 : 0) + (ps.account_for_loss ? 1 : 0);
    if (slots % p != 0)
      return fail("pipeline_model_parallel_size",
                  pipeline_str(slots) + " layers" + (slots != num_layers ? " (embedding/loss counted)" : "") +
                      " do not split over " + pipeline_str(p) + " stages",
                  "num_layers (+1 per accounted embedding/loss) % pipeline_model_parallel_size == 0",
                  "use a divisor of " + pipeline_str(slots) + ", or decoder_first/last_pipeline_num_layers");
    if ((slots / p) % v != 0)
      return fail("virtual_pipeline_model_parallel_size",
                  pipeline_str(slots / p) + " layers per stage do not split into " + pipeline_str(v) + " virtual stages",
                  "layers per stage % virtual_pipeline_model_parallel_size == 0", "use a divisor of " + pipeline_str(slots / p));
    std::fill(per_stage.begin(), per_stage.end(), slots / p);
  }
  out.layers.assign(size_t(p), std::vector<int64_t>(size_t(v), 0));
  for (int64_t s = 0; s < p; ++s)
    for (int64_t c = 0; c < v; ++c) out.layers[size_t(s)][size_t(c)] = per_stage[size_t(s)] / v;
  if (!uneven && ps.account_for_embedding) out.layers[0][0] -= 1;  // the embedding takes a layer's slot
  if (!uneven && ps.account_for_loss) out.layers[size_t(p - 1)][size_t(v - 1)] -= 1;
  if (out.layers[0][0] < 0 || out.layers[size_t(p - 1)][size_t(v - 1)] < 0)
    return fail(out.layers[0][0] < 0 ? "account_for_embedding_in_pipeline_split" : "account_for_loss_in_pipeline_split",
                "no layer slot left for the embedding or loss", "the first (last) virtual stage holds at least one slot",
                "use fewer stages");
  return out;
}

// Megatron's micro-batch rules for a pipeline of `m` micro batches per step (per DP rank).
inline PipelineProblem pipeline_microbatch_problem(const PipelineSpec& ps, int64_t m) {
  if (ps.microbatch_group > 0 && !ps.interleaved())
    return {"parallel.microbatch_group_size_per_vp_stage", "set without the interleaved schedule",
            "only the interleaved schedule (virtual stages > 1) groups micro batches", "remove it"};
  if (!ps.interleaved()) return {};
  const int64_t p = ps.stages, n = ps.group();
  if (n > m || n < p)
    return {ps.microbatch_group > 0 && n < p ? "parallel.microbatch_group_size_per_vp_stage"
            : (ps.microbatch_group > 0 ? "parallel.microbatch_group_size_per_vp_stage" : "training.global_batch_size"),
            pipeline_str(m) + " micro batches per DP rank with micro-batch groups of " + pipeline_str(n),
            "the interleaved schedule needs PP <= microbatch_group_size_per_vp_stage <= micro batches (schedules.py)",
            n < p ? "raise microbatch_group_size_per_vp_stage to at least PP (" + pipeline_str(p) + ")"
                  : "raise global_batch_size to at least " + pipeline_str(n) + " x micro_batch_size x DP, or lower "
                    "microbatch_group_size_per_vp_stage"};
  if (m % n != 0 && m % n < p)
    return {"training.global_batch_size",
            pipeline_str(m) + " micro batches leave a last group of " + pipeline_str(m % n) + " (< PP " + pipeline_str(p) + ")",
            "micro batches % microbatch_group_size_per_vp_stage == 0 or >= PP (schedules.py)",
            "use a multiple of " + pipeline_str(n) + " micro batches per DP rank"};
  return {};
}

// One entry of a stage's schedule: the forward or backward of micro batch `microbatch` through
// model chunk `chunk`.
struct PipelineSlot {
  bool forward = true;
  int64_t microbatch = 0;
  int64_t chunk = 0;
};

// Megatron's forward warm-up count on `stage`: p - s - 1 (1F1B); interleaved
// 2(p - s - 1) + (v - 1) * group; at most every forward.
inline int64_t pipeline_warmup(const PipelineSpec& ps, int64_t stage, int64_t m) {
  const int64_t total = m * ps.virtual_stages;
  if (ps.stages == 1) return 0;
  const int64_t w = ps.interleaved() ? 2 * (ps.stages - stage - 1) + (ps.virtual_stages - 1) * ps.group()
                                     : ps.stages - stage - 1;
  return std::min(w, total);
}

// The order in which `stage` runs its m*v forwards and m*v backwards: W warm-up forwards, then
// one forward and one backward in turn, then the remaining backwards. PP = 1: F0 B0 F1 B1 ...
inline std::vector<PipelineSlot> pipeline_order(const PipelineSpec& ps, int64_t stage, int64_t m) {
  const int64_t v = ps.interleaved() ? ps.virtual_stages : 1;
  const int64_t total = m * v;
  // The interleaved table: groups of N micro batches run through every chunk before the next
  // group (the last group takes whatever is left).
  std::vector<PipelineSlot> table;
  table.reserve(size_t(total));
  if (v == 1) {
    for (int64_t i = 0; i < m; ++i) table.push_back({true, i, 0});
  } else {
    const int64_t n = ps.group();
    for (int64_t lo = 0; lo < m; lo += n) {
      const int64_t hi = lo + n >= m ? m : lo + n;
      for (int64_t c = 0; c < v; ++c)
        for (int64_t i = lo; i < hi; ++i) table.push_back({true, i, c});
    }
  }
  const auto bwd = [&](int64_t k) { return PipelineSlot{false, table[size_t(k)].microbatch, v - 1 - table[size_t(k)].chunk}; };
  const int64_t w = pipeline_warmup(ps, stage, m);
  std::vector<PipelineSlot> order;
  order.reserve(size_t(2 * total));
  for (int64_t k = 0; k < w; ++k) order.push_back(table[size_t(k)]);
  for (int64_t k = 0; k + w < total; ++k) {
    order.push_back(table[size_t(k + w)]);
    order.push_back(bwd(k));
  }
  for (int64_t k = total - w; k < total; ++k) order.push_back(bwd(k));
  return order;
}

// The most activation bytes `stage` holds at once: just before each backward starts (the forward
// of every micro batch in flight done, none of them released), the sum over the forwards whose
// backward has not finished of `saved(chunk)`, plus `extra(chunk)` of the chunk whose backward
// starts (what that backward adds at its worst, e.g. recompute's rebuilt layers). Returns the
// largest such moment, and its backward's chunk.
struct InFlightPeak {
  double saved = 0, extra = 0;
  size_t chunk = 0;          // the backward's
  size_t forward_chunk = 0;  // the last forward's before it
};
template <class Saved, class Extra>
InFlightPeak pipeline_peak_in_flight(const PipelineSpec& ps, int64_t stage, int64_t m, Saved saved, Extra extra) {
  InFlightPeak peak;
  double now = 0;
  bool any = false;
  size_t last_forward = 0;
  for (const PipelineSlot& slot : pipeline_order(ps, stage, m)) {
    const size_t c = size_t(slot.chunk);
    if (slot.forward) {
      now += saved(c);
      last_forward = c;
      continue;
    }
    const double e = extra(c);
    if (!any || now + e > peak.saved + peak.extra) peak = {now, e, c, last_forward};
    any = true;
    now -= saved(c);
  }
  return peak;
}

// The most layers' activations `stage` holds at once: the sum, over the forwards whose backward
// has not finished, of their chunk's layers — taken just before each backward starts.
inline int64_t pipeline_peak_layers_in_flight(const PipelineSpec& ps, const PipelineSplit& split, int64_t stage, int64_t m) {
  const std::vector<int64_t>& layers = split.layers[size_t(stage)];
  return int64_t(pipeline_peak_in_flight(ps, stage, m, [&](size_t c) { return double(layers[c]); },
                                         [](size_t) { return 0.0; })
                     .saved);
}

}  // namespace hcpsim

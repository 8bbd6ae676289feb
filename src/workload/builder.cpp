#include "workload/builder.hpp"

#include <algorithm>
#include <cassert>
#include <map>
#include <string>
#include <utility>

#include "workload/attention_cp.hpp"
#include "workload/layer_ops.hpp"
#include "scenario/model_params.hpp"
#include "scenario/rank_layout.hpp"
#include "workload/program_builder.hpp"
#include "workload/step_ops.hpp"

namespace hcpsim {

namespace {

// Each distinct process group is stored once in Workload::groups. A group is
// found by its kind and its first member, which the rank's coordinates give
// directly, so the member list is built once per group.
class GroupTable {
 public:
  GroupTable(Workload& w, const RankLayout& layout) : w_(w), layout_(layout) {}

  template <class Members>
  int32_t get(const char* name, int64_t leader, Members members) {
    auto [it, inserted] = index_.try_emplace({name, leader}, int32_t(w_.groups.size()));
    if (inserted) {
      ProcessGroup g{name, {}};
      for (int64_t r : members()) g.ranks.push_back(int32_t(r));
      assert(!g.ranks.empty() && g.ranks.front() == leader);
      w_.groups.push_back(std::move(g));
    }
    return it->second;
  }
  const ProcessGroup& at(int32_t id) const { return w_.groups[id]; }

 private:
  Workload& w_;
  const RankLayout& layout_;
  std::map<std::pair<std::string, int64_t>, int32_t> index_;
};

struct RankGroups {
  int32_t tp = -1, cp = -1, cp_a2a = -1, cp_p2p = -1, dp_cp = -1, pp = -1;
};

RankGroups groups_of(GroupTable& t, const RankLayout& L, int64_t rank, int64_t a2a_size,
                     bool hierarchical) {
  RankCoord c = L.coord_of(rank);
  auto leader = [&](RankCoord x) { return L.rank_of(x); };
  RankGroups g;
  g.tp = t.get("tp", leader({0, c.cp, c.dp, c.pp}), [&] { return L.tp_group(rank); });
  g.cp = t.get("cp", leader({c.tp, 0, c.dp, c.pp}), [&] { return L.cp_group(rank); });
  g.dp_cp = t.get("dp_cp", leader({c.tp, 0, 0, c.pp}), [&] { return L.dp_cp_group(rank); });
  if (L.pp > 1) g.pp = t.get("pp", leader({c.tp, c.cp, c.dp, 0}), [&] { return L.pp_group(rank); });
  if (hierarchical) {
    g.cp_a2a = t.get("cp_a2a", leader({c.tp, c.cp / a2a_size * a2a_size, c.dp, c.pp}),
                     [&] { return L.hcp_a2a_group(rank, a2a_size); });
    g.cp_p2p = t.get("cp_p2p", leader({c.tp, c.cp % a2a_size, c.dp, c.pp}),
                     [&] { return L.hcp_p2p_group(rank, a2a_size); });
  }
  return g;
}

CpAttention attention_of(const Scenario& s, const WorkloadOptions& o, const RankLayout& L,
                         const GroupTable& table, const RankGroups& g, int64_t rank) {
  CpAttention a;
  const int64_t cp = s.parallel.context_parallel_size;
  // Packed documents run as a batch of documents: each split over CP as a sequence is (TE's
  // per-document DualChunkSwap), the same tokens and bytes a rank, attention inside each; documents
  // of unequal lengths as one varlen launch over the rank's pieces of them.
  const std::vector<TrainingSpec::SequenceGroup> sequences = s.training.attention_sequences();
  a.local.varlen = s.training.packed_documents();
  a.local.zero_fills = a.local.varlen && s.software.attention_backend == AttentionBackend::CuDNN;
  a.local.batch = sequences.front().count;
  a.local.len = sequences.front().length / cp;
  if (sequences.size() > 1) {
    a.local.batch = s.training.micro_batch_size, a.local.len = s.training.seq_length / cp;
    for (const auto& g : sequences) a.local.documents.push_back({g.count, g.length / cp});
  }
  a.local.hq = s.model.num_attention_heads / s.parallel.tensor_model_parallel_size;
  a.local.hk = kv_heads_per_tp_rank(s.model, s.parallel.tensor_model_parallel_size);
  a.local.head_dim = s.model.kv_channels;
  a.local.elem_bytes = s.activation_bytes_per_element();
  a.causal = s.training.attn_mask_type == AttnMaskType::Causal;
  a.order = s.parallel.cp_load_balance;
  // A window as long as the sequence masks nothing: the kernels run the unwindowed work (timed by the
  // same model as without one; validation warns).
  a.window = s.model.sliding_window && *s.model.sliding_window < s.training.seq_length ? s.model.sliding_window
                                                                                       : std::nullopt;
  a.format = s.training.packed_documents() ? QkvFormat::Thd : o.qkv_format;
  const Version& te = s.software.transformer_engine_version;
  a.ag_zeroed_output = all_gather_zeroes_an_output(te.major, te.minor);
  a.type = s.parallel.cp_comm_type;
  a.cp = cp;
  a.cp_rank = L.coord_of(rank).cp;
  a.cp_group = g.cp;
  a.a2a_group = g.cp_a2a;
  const bool hierarchical = a.type == CpCommType::A2AP2P;
  a.a2a_size = hierarchical ? s.parallel.a2a_size() : (a.type == CpCommType::A2A ? cp : 1);
  a.p2p_size = cp / a.a2a_size;
  // Ring neighbours: cp_global_ranks[((p +- 1) mod P) * A + a2a_rank], i.e.
  // the ring group's members (the flat CP group when A = 1).
  a.ring_group = hierarchical ? g.cp_p2p : g.cp;
  const ProcessGroup& ring = table.at(a.ring_group);
  const int64_t p = a.cp_rank / a.a2a_size, n = int64_t(ring.ranks.size());
  a.ring_next = ring.ranks[(p + 1) % n];
  a.ring_prev = ring.ranks[(p + n - 1) % n];
  return a;
}

void layer_program(ProgramBuilder& b, const Scenario& s, const LayerContext& c) {
  const bool full_layer = s.workload != WorkloadKind::Attention;
  b.set_phase(Phase::Forward);
  if (full_layer) {
    // Megatron-FSDP: the next layer's parameters gathered under this one's forward, which ends when
    // they are there (the compute stream's next op waits for them).
    const int32_t prefetch = fsdp_layer_forward_begin(b, c.fsdp);
    layer_forward(b, c);
    if (prefetch >= 0) b.wait(Stream::Compute, prefetch);
  } else {
    core_attention_forward(b, c.attn);
  }
  if (s.passes != Passes::FwdBwd) return;
  b.set_phase(Phase::Backward);
  if (full_layer) fsdp_layer_backward_begin(b, c.fsdp);
  const RecomputeGranularity rc = s.training.recompute_granularity;
  if (!full_layer) {
    if (rc != RecomputeGranularity::None) {  // core attention is what gets re-run
      b.set_recompute(true);
      core_attention_forward(b, c.attn);
      b.set_recompute(false);
    }
    core_attention_backward(b, c.attn);
    return;
  }
  if (rc == RecomputeGranularity::Full) {  // re-run the whole layer forward
    b.set_recompute(true);
    layer_forward(b, c);
    b.set_recompute(false);
  }
  layer_backward(b, c);  // selective recompute happens inside
}

// Megatron's p2p_communication between stages, one micro batch: the forward sends this stage's
// output activation to the next stage while receiving the previous stage's; the backward sends
// the input gradient to the previous stage while receiving the next stage's. Each CP rank sends
// its own sequence chunk, sharded over TP with sequence parallelism (schedules.py tensor_shape:
// seq / CP [/ TP], micro batch, hidden). The interleaved schedule also sends from the last stage
// to the first (chunk c to chunk c + 1), so its pipeline is a ring.
void pipeline_program(ProgramBuilder& b, const Scenario& s, int32_t pp_group, const ProcessGroup& pp, int64_t stage,
                      int64_t tokens) {
  const int64_t p = int64_t(pp.ranks.size());
  const bool ring = s.parallel.pipeline().interleaved();
  const int64_t tp = s.parallel.tensor_model_parallel_size;
  const double sp = s.parallel.sequence_parallel && tp > 1 ? double(tp) : 1.0;
  const double bytes = double(tokens) * double(s.model.hidden_size) * double(s.activation_bytes_per_element()) / sp;
  const auto at = [&](int64_t i) -> int32_t {
    if (i >= 0 && i < p) return pp.ranks[size_t(i)];
    return ring ? pp.ranks[size_t((i + p) % p)] : -1;
  };
  const int32_t next = at(stage + 1), prev = at(stage - 1);
  b.set_area(OpArea::Pipeline);
  b.set_phase(Phase::Forward);
  b.sendrecv(Stream::NcclPp, Stream::Compute, "send_activation", next, prev, next >= 0 ? bytes : 0, prev >= 0 ? bytes : 0, pp_group);
  b.set_phase(Phase::Backward);
  b.sendrecv(Stream::NcclPp, Stream::Compute, "send_grad", prev, next, prev >= 0 ? bytes : 0, next >= 0 ? bytes : 0, pp_group);
}

}  // namespace

Workload build_workload(const Scenario& s, const WorkloadOptions& options) {
  const ParallelSpec& par = s.parallel;
  const RankLayout layout = rank_layout_of(par);
  const int64_t world = layout.world_size();
  const bool hierarchical = par.cp_comm_type == CpCommType::A2AP2P;
  const int64_t a2a_size = hierarchical ? par.a2a_size() : 1;

  Workload w;
  w.layers_per_step = s.model.num_layers;
  w.microbatches = s.num_microbatches();
  w.pipeline_spec = par.pipeline();
  w.pipeline_split = pipeline_split(w.pipeline_spec, s.model.num_layers);
  assert(w.pipeline_split.problem.empty());  // validation checked the split
  const bool pipelined = layout.pp > 1 && s.workload == WorkloadKind::Step;
  w.layer.resize(world);
  if (s.workload == WorkloadKind::Step) w.step.resize(world), w.dp_buckets.resize(size_t(layout.pp));
  if (pipelined) w.pipeline.resize(world);
  GroupTable table(w, layout);
  // Every rank runs the same op sequence: size each program once.
  size_t layer_ops = 0, step_ops = 0;
  for (int64_t r = 0; r < world; ++r) {
    const RankGroups g = groups_of(table, layout, r, a2a_size, hierarchical);
    LayerContext lc;
    lc.scenario = &s;
    lc.attn = attention_of(s, options, layout, table, g, r);
    lc.tp_group = g.tp;
    const int64_t stage = layout.coord_of(r).pp;
    const ParamCounts stage_params =
        count_params_per_stage(s.model, par.tensor_model_parallel_size, w.pipeline_split, stage);
    lc.fsdp = {.scenario = &s, .dp_cp_group = g.dp_cp, .dp_cp_size = int64_t(table.at(g.dp_cp).ranks.size()),
               .layer = stage_params.layer};
    const std::vector<int32_t>& tp_ranks = table.at(g.tp).ranks;  // the TP ring, in group-rank order
    const auto me = std::find(tp_ranks.begin(), tp_ranks.end(), int32_t(r));
    assert(me != tp_ranks.end());
    const size_t pos = size_t(me - tp_ranks.begin()), n = tp_ranks.size();
    lc.tp_next = tp_ranks[(pos + 1) % n];
    lc.tp_prev = tp_ranks[(pos + n - 1) % n];
    w.layer[r].rank = int32_t(r);
    w.layer[r].ops.reserve(layer_ops);
    ProgramBuilder lb(w.layer[r]);
    layer_program(lb, s, lc);
    layer_ops = std::max(layer_ops, w.layer[r].ops.size());
    if (s.workload != WorkloadKind::Step) continue;
    w.step[r].rank = int32_t(r);
    w.step[r].ops.reserve(step_ops);
    ProgramBuilder sb(w.step[r]);
    const int64_t tokens = lc.attn.local.batch * lc.attn.local.len;
    std::vector<DpBucketOps> buckets =
        step_program(sb, {.scenario = &s,
                          .tokens = tokens,
                          .tp_group = g.tp,
                          .dp_cp_group = g.dp_cp,
                          .dp_cp_size = int64_t(table.at(g.dp_cp).ranks.size()),
                          .stage = stage,
                          .embedding = stage == 0,
                          .head = stage == layout.pp - 1,
                          .params = stage_params,
                          .chunk_layers = w.pipeline_split.layers[size_t(stage)]});
    // Every rank of a stage builds the same step program, so the same buckets at the same ops.
    std::vector<DpBucketOps>& stage_buckets = w.dp_buckets[size_t(stage)];
    assert(stage_buckets.empty() || stage_buckets.size() == buckets.size());
    if (stage_buckets.empty()) stage_buckets = std::move(buckets);
    step_ops = std::max(step_ops, w.step[r].ops.size());
    if (!pipelined) continue;
    w.pipeline[r].rank = int32_t(r);
    ProgramBuilder pb(w.pipeline[r]);
    pipeline_program(pb, s, g.pp, table.at(g.pp), stage, tokens);
  }
  return w;
}

}  // namespace hcpsim

// execute_programs: engine and platform, one conductor actor that runs the
// phases one after another (a GPU actor per simulated rank, joined = the
// barrier), then the deadlock check and the Timeline.
#include "engine/execute.hpp"

#include <simgrid/s4u/Actor.hpp>
#include <simgrid/s4u/Engine.hpp>
#include <simgrid/s4u/Host.hpp>

#include <algorithm>
#include <chrono>
#include <set>
#include <stdexcept>

#include "engine/replica_folding.hpp"
#include "engine/link_accounting.hpp"
#include "engine/prepare_phase.hpp"
#include "engine/deadlock.hpp"
#include "engine/gpu_actor.hpp"

namespace hcpsim {

namespace sg4 = simgrid::s4u;
using detail::OpStatus;

namespace {

// Runs the phases in order; stops after a phase that left ops unfinished.
class Conductor {
 public:
  explicit Conductor(detail::SimContext* ctx) : ctx_(ctx) {}
  void operator()() {
    for (size_t p = 0; p < ctx_->phases.size(); ++p) {
      detail::PhaseState& phase = ctx_->phases[p];
      ctx_->current_phase = static_cast<int32_t>(p);
      ctx_->phase_start_s.push_back(sg4::Engine::get_clock());
      std::vector<sg4::ActorPtr> gpus;
      gpus.reserve(phase.ranks.size());
      for (detail::RankState& r : phase.ranks)
        gpus.push_back(sg4::Actor::create("gpu" + std::to_string(r.rank), ctx_->host_of_rank.at(r.rank),
                                          detail::GpuActor(ctx_, &phase, &r)));
      for (const sg4::ActorPtr& g : gpus) g->join();  // the phase barrier
      ctx_->phase_end_s.push_back(sg4::Engine::get_clock());
      if (detail::first_unfinished(phase) != nullptr) return;
    }
    ctx_->current_phase = -1;
  }

 private:
  detail::SimContext* ctx_;
};

EngineOptions engine_options(const ExecuteInput& in, size_t max_ranks) {
  EngineOptions e;
  e.quiet = in.engine.quiet;
  // Small stacks: the actors are shallow (their containers live on the heap).
  // With guard pages (SimGrid's default) a stack is mmap'ed, touched lazily,
  // and costs two memory mappings; vm.max_map_count (65530) then allows about
  // 32k live actors: a GPU actor plus about two collective helpers per rank
  // fit up to ~10k ranks. Beyond, no guards, and smaller stacks, since SimGrid
  // then allocates them zeroed (every page resident: 8192 ranks with 256 KiB
  // stacks measured 3.5 GB).
  if (max_ranks * 3 * 2 <= 60000) {
    e.cfg.push_back("contexts/stack-size:256");
  } else {
    e.cfg.push_back("contexts/stack-size:64");
    e.cfg.push_back("contexts/guard-size:0");
  }
  for (const std::string& c : in.engine.cfg) e.cfg.push_back(c);  // the caller's settings win
  return e;
}

}  // namespace

Timeline execute_programs(const ExecuteInput& in) {
  const auto wall_start = std::chrono::steady_clock::now();
  for (int c = 0; c < kInterferenceClasses; ++c) {
    if (!(in.options.interference.compute_slowdown[static_cast<size_t>(c)] >= 1))
      throw std::invalid_argument("interference: compute_slowdown must be >= 1");
    for (double v : in.options.interference.comm_slowdown[static_cast<size_t>(c)])
      if (!(v >= 1)) throw std::invalid_argument("interference: comm_slowdown must be >= 1");
  }
  if (in.options.ring_max_macro_steps < 1) throw std::invalid_argument("ring_max_macro_steps must be >= 1");

  std::vector<FoldDecision> folds;
  size_t max_ranks = 0;
  for (const ExecutePhase& phase : in.phases) {
    folds.push_back(decide_folding(phase, in.layout, in.graph, in.placement, in.options.fold_dp_replicas));
    max_ranks = std::max(max_ranks, folds.back().program_indices.size());
  }

  SimEngine engine(engine_options(in, max_ranks));
  Platform platform(in.graph, in.placement, in.platform);
  detail::SimContext ctx;
  ctx.options = &in.options;
  ctx.graph = &platform.graph();
  ctx.placement = &platform.placement();
  for (int64_t r = 0; r < in.placement.world_size(); ++r) ctx.host_of_rank.push_back(platform.host_of_rank(r));
  if (ctx.host_of_rank.empty()) throw std::invalid_argument("the placement has no ranks");
  ctx.host_speed_flops_per_s = ctx.host_of_rank.front()->get_speed();
  ctx.comm = {&platform.graph(), &platform.placement(), in.nccl_node.value_or(NcclNode{}), in.nccl,
              in.options.ring_max_macro_steps, in.nccl_node.has_value(), in.calibrated_collectives};
  detail::MailboxTable mailboxes;
  for (size_t p = 0; p < in.phases.size(); ++p) {
    for (int32_t i : folds[p].program_indices) {
      const int32_t rank = in.phases[p].programs[static_cast<size_t>(i)].rank;
      if (rank < 0 || rank >= in.placement.world_size())
        throw std::invalid_argument("phase '" + in.phases[p].name + "': rank " + std::to_string(rank) + " is not placed");
    }
    ctx.phases.push_back(detail::prepare_phase(in.phases[p], folds[p].program_indices, mailboxes, ctx.comm));
  }

  sg4::Actor::create("conductor", ctx.host_of_rank.front(), Conductor(&ctx));
  engine.run();
  if (ctx.current_phase >= 0) throw std::runtime_error(detail::describe_deadlock(ctx, SimEngine::clock_s()));

  Timeline t;
  std::set<int32_t> ranks;
  for (size_t p = 0; p < ctx.phases.size(); ++p) {
    const detail::PhaseState& phase = ctx.phases[p];
    for (const detail::RankState& r : phase.ranks) {
      ranks.insert(r.rank);
      for (const detail::OpState& s : r.ops)
        t.ops.push_back({static_cast<int32_t>(p), r.rank, s.id, s.start_s, s.ready_s, s.end_s});
    }
    t.phases.push_back({phase.name, static_cast<int64_t>(phase.ranks.size()), folds[p].folded, folds[p].replicas,
                        folds[p].note, std::move(folds[p].stand_in)});
  }
  t.phase_start_s = ctx.phase_start_s;
  t.phase_end_s = ctx.phase_end_s;
  // Links per phase: flows belong to the phase whose op sent them.
  for (size_t p = 0; p < ctx.phases.size(); ++p) {
    std::vector<FlowRecord> in_phase;
    for (const FlowRecord& f : ctx.flows)
      if (f.phase == static_cast<int32_t>(p)) in_phase.push_back(f);
    for (LinkRecord& l : account_links(platform.graph(), platform.placement(), in_phase)) {
      l.phase = static_cast<int32_t>(p);
      t.links.push_back(std::move(l));
    }
  }
  t.simulated_ranks.assign(ranks.begin(), ranks.end());
  t.activities = ctx.activities;
  t.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return t;
}

}  // namespace hcpsim

#include "run/step_composition.hpp"

#include <algorithm>
#include <cassert>
#include <numeric>

namespace hcpsim {

namespace {

int64_t total(const std::vector<int64_t>& v) { return std::accumulate(v.begin(), v.end(), int64_t{0}); }

}  // namespace

int64_t StageInputs::layers() const { return total(chunk_layers); }

int64_t StageInputs::host_launches() const { return total(forward_launches) + total(backward_launches); }

double StageInputs::grad_reduce_s() const {
  double v = 0;
  for (const DpBucket& b : dp_buckets) v += b.grad_reduce_s;
  return v;
}

double StageInputs::param_gather_s() const {
  double v = 0;
  for (const DpBucket& b : dp_buckets) v += b.param_gather_s;
  return v;
}

namespace {

// A stage's passes as timed, in its order, and per chunk where its first forward and its last
// backward are among them.
struct StagePasses {
  std::vector<const PipelineEvent*> forwards, backwards;
  std::vector<size_t> first_forward, last_backward;  // [chunk]
};

StagePasses passes_of(const PipelineTiming& timing, int64_t stage, size_t chunks) {
  StagePasses p;
  constexpr size_t kNone = size_t(-1);
  p.first_forward.assign(chunks, kNone);
  p.last_backward.assign(chunks, kNone);
  for (const PipelineEvent& e : timing.events) {
    if (e.stage != stage) continue;
    const size_t c = size_t(e.slot.chunk);
    assert(c < chunks);
    if (e.slot.forward) {
      if (p.first_forward[c] == kNone) p.first_forward[c] = p.forwards.size();
      p.forwards.push_back(&e);
    } else {
      p.last_backward[c] = p.backwards.size();
      p.backwards.push_back(&e);
    }
  }
  return p;
}

// The stage's first forwards' waits for its parameters' all-gathers, found on the schedule as timed
// without them (step_composition.hpp says when Megatron dispatches each).
struct GatherWaits {
  double first_forward_wait_s = 0;         // lazy gathers: added to the stage's first forward
  std::vector<double> chunk_not_before_s;  // aligned gathers: [chunk] the earliest its first forward starts
};

GatherWaits gather_waits(const StageInputs& st, const StagePasses& p, int64_t stage, bool interleaved) {
  GatherWaits w;
  if (st.dp_buckets.empty() || p.forwards.empty()) return w;
  const auto first_forward = [&p](const DpBucket& b) -> const PipelineEvent& {
    return *p.forwards.at(p.first_forward.at(size_t(b.chunk)));
  };
  if (interleaved) {
    // align_param_gather: chunks 0 and 1 from the schedule's start, chunk c when the stage starts
    // the forward pp_rank passes before chunk c - 1's first; DDP's start_param_sync issues a chunk's
    // buckets in their order (from the end of the chunk's layers), one after another on the DP
    // stream. A chunk's first forward starts no sooner than each bucket is done, less the part of
    // the forward before the bucket's first use.
    w.chunk_not_before_s.assign(p.first_forward.size(), 0.0);
    double done = 0;
    for (const DpBucket& b : st.dp_buckets) {  // the plan's order: chunk by chunk, bucket by bucket
      double dispatch = 0;
      if (b.chunk >= 2) {
        const int64_t k = int64_t(p.first_forward.at(size_t(b.chunk - 1))) - stage;
        dispatch = p.forwards.at(size_t(std::max<int64_t>(0, k)))->start_s;
      }
      done = std::max(done, dispatch) + b.param_gather_s;
      const PipelineEvent& f = first_forward(b);
      double& not_before = w.chunk_not_before_s.at(size_t(b.chunk));
      not_before = std::max(not_before, done - b.first_used * (f.end_s - f.start_s));
    }
    return w;
  }
  // Lazily, in the order the forward uses them: the first bucket's forward pre-hook starts its
  // gather and waits for it; each bucket's hook, once its own gather is done, starts the next one's.
  std::vector<const DpBucket*> order;
  for (const DpBucket& b : st.dp_buckets) order.push_back(&b);
  std::stable_sort(order.begin(), order.end(), [](const DpBucket* a, const DpBucket* b) {
    return a->chunk != b->chunk ? a->chunk < b->chunk : a->first_used < b->first_used;
  });
  const auto needed = [&first_forward](const DpBucket& b) {
    const PipelineEvent& f = first_forward(b);
    return f.start_s + b.first_used * (f.end_s - f.start_s);
  };
  double& wait = w.first_forward_wait_s;
  for (size_t i = 0; i < order.size(); ++i) {
    const double start = i == 0 ? needed(*order[0]) : needed(*order[i - 1]) + wait;
    wait = std::max(wait, start + order[i]->param_gather_s - needed(*order[i]));
  }
  return w;
}

// When the stage's gradient reduces are all done (at least its last backward's end).
double grads_synced_s(const StageInputs& st, const StagePasses& p, int64_t stage, bool interleaved, bool overlapped) {
  const double end = p.backwards.empty() ? 0 : p.backwards.back()->end_s;
  std::vector<double> ready;
  for (const DpBucket& b : st.dp_buckets) {
    const size_t last = p.last_backward.at(size_t(b.chunk));
    if (!overlapped) {  // finalize_model_grads, after the stage's schedule
      ready.push_back(end);
    } else if (interleaved) {  // the chunk's reduce starts pp_rank backward passes after its last (align_grad_reduce)
      ready.push_back(p.backwards.at(std::min(last + size_t(stage), p.backwards.size() - 1))->end_s);
    } else {
      const PipelineEvent& e = *p.backwards.at(last);
      ready.push_back(e.start_s + b.grad_ready * (e.end_s - e.start_s));
    }
  }
  std::vector<size_t> order(ready.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&ready](size_t a, size_t b) { return ready[a] < ready[b]; });
  double done = 0;
  for (size_t i : order) done = std::max(done, ready[i]) + st.dp_buckets[i].grad_reduce_s;
  return std::max(end, done);
}

}  // namespace

PipelineTimingInput pipeline_timing_input(const StepInputs& in) {
  const int64_t p = int64_t(in.stages.size());
  assert(p == in.pipeline.stages && p >= 1);
  PipelineTimingInput t;
  t.spec = in.pipeline;
  t.microbatches = in.microbatches;
  for (int64_t s = 0; s < p; ++s) {
    const StageInputs& st = in.stages[size_t(s)];
    const size_t chunks = st.chunk_layers.size();
    std::vector<double> f(chunks), b(chunks);
    assert(st.chunk_layers_without_rerun.empty() || st.chunk_layers_without_rerun.size() == chunks);
    for (size_t c = 0; c < chunks; ++c) {
      const int64_t without_rerun = st.chunk_layers_without_rerun.empty() ? 0 : st.chunk_layers_without_rerun[c];
      assert(without_rerun >= 0 && without_rerun <= st.chunk_layers[c]);
      f[c] = double(st.chunk_layers[c]) * in.layer_forward_s;
      b[c] = double(st.chunk_layers[c]) * in.layer_backward_s - double(without_rerun) * in.layer_rerun_s;
    }
    // The embedding rides with the first chunk of the first stage, the head with the last chunk
    // of the last stage (PP = 1: both with the one chunk).
    const size_t with_extra = extra_chunk(size_t(s), chunks);
    f[with_extra] += st.extra_forward_s + st.offload_forward_s;
    b[with_extra] += st.extra_backward_s + st.offload_backward_s;
    t.forward_s.push_back(std::move(f));
    t.backward_s.push_back(std::move(b));
    t.send_forward_s.push_back(st.send_forward_s);
    t.send_backward_s.push_back(st.send_backward_s);
  }
  const bool host = in.host_per_launch_s > 0 && std::any_of(in.stages.begin(), in.stages.end(), [](const StageInputs& st) {
    return st.host_launches() > 0;
  });
  if (!host) return t;
  t.first_launch_s = in.host_per_launch_s;
  for (const StageInputs& st : in.stages) {
    const size_t chunks = st.chunk_layers.size();
    assert(st.forward_launches.empty() || st.forward_launches.size() == chunks);
    assert(st.backward_launches.empty() || st.backward_launches.size() == chunks);
    std::vector<double> f(chunks, 0.0), b(chunks, 0.0);
    for (size_t c = 0; c < chunks; ++c) {
      if (!st.forward_launches.empty()) f[c] = double(st.forward_launches[c]) * in.host_per_launch_s;
      if (!st.backward_launches.empty()) b[c] = double(st.backward_launches[c]) * in.host_per_launch_s;
    }
    t.forward_launch_s.push_back(std::move(f));
    t.backward_launch_s.push_back(std::move(b));
  }
  return t;
}

StepTime compose_step(const StepInputs& in) {
  PipelineTiming timing;
  return compose_step(in, timing);
}

StepTime compose_step(const StepInputs& in, PipelineTiming& timing) {
  assert(in.microbatches >= 1 && !in.stages.empty());
  const bool interleaved = in.pipeline.interleaved();
  PipelineTimingInput ti = pipeline_timing_input(in);
  timing = time_pipeline(ti);
  // Each stage's wait for its parameters, found on the schedule without it, then timed into it.
  const double unwaited_s = timing.makespan_s;
  // The bubble is the schedule's own: without the parameter waits and without the CPU's launches,
  // whose waits the host line reports apart.
  PipelineTimingInput bare = ti;
  bare.forward_launch_s.clear(), bare.backward_launch_s.clear();
  const double bubble_fraction =
      ti.forward_launch_s.empty() ? timing.bubble_fraction : time_pipeline(bare).bubble_fraction;
  bool waits = false;
  for (size_t s = 0; s < in.stages.size() && in.overlap_param_gather; ++s) {
    const GatherWaits w =
        gather_waits(in.stages[s], passes_of(timing, int64_t(s), in.stages[s].chunk_layers.size()), int64_t(s), interleaved);
    ti.first_forward_wait_s.push_back(w.first_forward_wait_s);
    ti.chunk_first_forward_not_before_s.push_back(w.chunk_not_before_s);
    waits = waits || w.first_forward_wait_s > 0 ||
            std::any_of(w.chunk_not_before_s.begin(), w.chunk_not_before_s.end(), [](double t) { return t > 0; });
  }
  if (waits) timing = time_pipeline(ti);
  StepTime t;
  t.param_gather_exposed_s = timing.makespan_s - unwaited_s;
  for (size_t s = 0; s < ti.forward_s.size(); ++s)
    for (size_t c = 0; c < ti.forward_s[s].size(); ++c) {
      t.microbatch_forward_s += ti.forward_s[s][c];
      t.microbatch_backward_s += ti.backward_s[s][c];
    }
  t.pipeline_s = timing.makespan_s;
  t.bubble_fraction = in.stages.size() > 1 ? bubble_fraction : 0;  // the schedule's own, without the waits
  if (!ti.forward_launch_s.empty()) {
    // What the CPU adds: against the GPUs alone, and against a CPU that only ever costs the one
    // launch a pass's first kernel waits for (what remains is its launch rate).
    PipelineTimingInput gpus = ti, latency = ti;
    gpus.forward_launch_s.clear(), gpus.backward_launch_s.clear();
    for (auto* passes : {&latency.forward_launch_s, &latency.backward_launch_s})
      for (std::vector<double>& chunks : *passes)
        for (double& l : chunks) l = std::min(l, ti.first_launch_s);
    const double gpus_s = time_pipeline(gpus).makespan_s, latency_s = time_pipeline(latency).makespan_s;
    t.host_wait_s = std::max(0.0, timing.makespan_s - gpus_s);
    t.host_bound = timing.makespan_s > latency_s * (1 + 1e-12);
    for (size_t s = 0; s < in.stages.size(); ++s) {
      const double launched = timing.stages[s].host_launch_s;
      if (launched <= t.host_launch_s) continue;
      const StageInputs& st = in.stages[s];
      t.host_launch_s = launched, t.host_launches = st.host_launches();
      t.host_forward_launches = total(st.forward_launches), t.host_backward_launches = total(st.backward_launches);
    }
  }
  // The schedule starts at 0 (stage 0's first forward, or its wait for its parameters). The optimizer step
  // starts with the gradient norm, an all-reduce over the model-parallel group (every stage): no
  // stage updates before every stage has synced its gradients. A stage's passes the CPU paced are
  // as long as it made them: the windows its DP buckets hide under.
  double synced = 0;
  for (size_t s = 0; s < in.stages.size(); ++s) {
    const StageInputs& st = in.stages[s];
    const StagePasses passes = passes_of(timing, int64_t(s), st.chunk_layers.size());
    synced = std::max(synced, grads_synced_s(st, passes, int64_t(s), interleaved, in.overlap_grad_reduce));
    t.optimizer_s = std::max(t.optimizer_s, st.optimizer_s);
    if (!in.overlap_param_gather)  // gathered after the optimizer's step, all of it exposed
      t.param_gather_exposed_s = std::max(t.param_gather_exposed_s, st.param_gather_s());
  }
  t.grad_reduce_exposed_s = std::max(0.0, synced - timing.makespan_s);
  t.step_s = std::max(synced, timing.makespan_s) + t.optimizer_s + (in.overlap_param_gather ? 0.0 : t.param_gather_exposed_s);
  return t;
}

}  // namespace hcpsim

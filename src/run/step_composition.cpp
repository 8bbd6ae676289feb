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

namespace {

// Reduce-scatter chain during the last backward (of `window_s`): the part past its end.
double exposed_grad_reduce_s(double grad_reduce_s, int64_t buckets, double window_s) {
  const double B = static_cast<double>(buckets);
  const double each = grad_reduce_s / B;
  double done = 0;
  for (int64_t b = 0; b < buckets; ++b) done = std::max(done, (b + 1) / B * window_s) + each;
  return std::max(0.0, done - window_s);
}

// All-gather chain feeding the first forward (of `window_s`): the worst lateness.
double exposed_param_gather_s(double param_gather_s, int64_t buckets, double window_s) {
  const double B = static_cast<double>(buckets);
  const double each = param_gather_s / B;
  double stall = 0;
  for (int64_t b = 0; b < buckets; ++b) stall = std::max(stall, (b + 1) * each - b / B * window_s);
  return stall;
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
    for (size_t c = 0; c < chunks; ++c) {
      f[c] = double(st.chunk_layers[c]) * in.layer_forward_s;
      b[c] = double(st.chunk_layers[c]) * in.layer_backward_s;
    }
    // The embedding rides with the first chunk of the first stage, the head with the last chunk
    // of the last stage (PP = 1: both with the one chunk).
    const size_t with_extra = extra_chunk(size_t(s), chunks);
    f[with_extra] += st.extra_forward_s;
    b[with_extra] += st.extra_backward_s;
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
  const PipelineTimingInput ti = pipeline_timing_input(in);
  timing = time_pipeline(ti);
  StepTime t;
  for (size_t s = 0; s < ti.forward_s.size(); ++s)
    for (size_t c = 0; c < ti.forward_s[s].size(); ++c) {
      t.microbatch_forward_s += ti.forward_s[s][c];
      t.microbatch_backward_s += ti.backward_s[s][c];
    }
  t.pipeline_s = timing.makespan_s;
  t.bubble_fraction = in.stages.size() > 1 ? timing.bubble_fraction : 0;
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
  // The schedule starts at 0 (stage 0's first forward waits for nothing). The optimizer step
  // starts with the gradient norm, an all-reduce over the model-parallel group (every stage): no
  // stage updates before every stage has synced its gradients. A stage's passes the CPU paced are
  // as long as it made them: the windows its DP buckets hide under.
  double synced = 0;
  for (size_t s = 0; s < in.stages.size(); ++s) {
    const StageInputs& st = in.stages[s];
    const StageTiming& tm = timing.stages[s];
    assert(st.buckets >= 1);
    const double exposed = exposed_grad_reduce_s(st.grad_reduce_s, st.buckets, tm.last_backward_s);
    synced = std::max(synced, tm.end_s + exposed);
    t.optimizer_s = std::max(t.optimizer_s, st.optimizer_s);
    t.param_gather_exposed_s =
        std::max(t.param_gather_exposed_s, exposed_param_gather_s(st.param_gather_s, st.buckets, tm.first_forward_s));
  }
  t.grad_reduce_exposed_s = std::max(0.0, synced - timing.makespan_s);
  t.step_s = synced + t.optimizer_s + t.param_gather_exposed_s;
  return t;
}

}  // namespace hcpsim

#include "run/pipeline_timing.hpp"

#include <algorithm>
#include <cassert>
#include <stdexcept>

namespace hcpsim {

PipelineTiming time_pipeline(const PipelineTimingInput& in) {
  const int64_t p = in.spec.stages, v = in.spec.interleaved() ? in.spec.virtual_stages : 1, m = in.microbatches;
  const int64_t g_count = p * v;  // virtual stages, g = chunk * p + stage
  assert(p >= 1 && m >= 1 && int64_t(in.forward_s.size()) == p && int64_t(in.backward_s.size()) == p);
  constexpr double kNotYet = -1;
  // end of the forward / backward of micro batch i through virtual stage g
  std::vector<double> fwd_end(size_t(g_count * m), kNotYet), bwd_end(size_t(g_count * m), kNotYet);
  const auto at = [m](int64_t g, int64_t i) { return size_t(g * m + i); };

  std::vector<std::vector<PipelineSlot>> order(static_cast<size_t>(p));
  for (int64_t s = 0; s < p; ++s) order[size_t(s)] = pipeline_order(in.spec, s, m);
  std::vector<size_t> next(static_cast<size_t>(p), 0);
  std::vector<double> free_at(static_cast<size_t>(p), 0);
  // Each stage's CPU: when it has launched its passes so far; whether its last pass sent.
  const bool host = !in.forward_launch_s.empty();
  assert(!host || (int64_t(in.forward_launch_s.size()) == p && int64_t(in.backward_launch_s.size()) == p));
  const bool syncs = host && in.spec.host_syncs_per_transfer();
  std::vector<double> launched(static_cast<size_t>(p), 0);
  std::vector<bool> sent(static_cast<size_t>(p), false);
  std::vector<bool> started(static_cast<size_t>(g_count), false);  // a virtual stage's first forward has been placed
  PipelineTiming out;
  out.stages.assign(size_t(p), StageTiming{});
  std::vector<std::vector<PipelineEvent>> events(static_cast<size_t>(p));
  const bool blocking = !in.spec.overlapped();

  size_t done = 0, total = 0;
  for (const auto& o : order) total += o.size();
  while (done < total) {
    bool progressed = false;
    for (int64_t s = 0; s < p; ++s) {
      // Run this stage's ops for as long as their inputs are there.
      while (next[size_t(s)] < order[size_t(s)].size()) {
        const PipelineSlot& k = order[size_t(s)][next[size_t(s)]];
        const int64_t g = k.chunk * p + s;
        double ready = 0;
        if (k.forward && g > 0) {
          const double e = fwd_end[at(g - 1, k.microbatch)];
          if (e == kNotYet) break;
          ready = e + in.send_forward_s[size_t((g - 1) % p)];
        } else if (!k.forward && g < g_count - 1) {
          const double e = bwd_end[at(g + 1, k.microbatch)];
          if (e == kNotYet) break;
          ready = e + in.send_backward_s[size_t((g + 1) % p)];
        } else if (!k.forward) {
          ready = fwd_end[at(g, k.microbatch)];  // the last virtual stage turns its own forward around
          assert(ready != kNotYet);
        }
        const double wait = events[size_t(s)].empty() && !in.first_forward_wait_s.empty() ? in.first_forward_wait_s[size_t(s)] : 0;
        const double dur = (k.forward ? in.forward_s : in.backward_s)[size_t(s)][size_t(k.chunk)] + wait;
        if (k.forward && !in.chunk_first_forward_not_before_s.empty()) {  // the chunk's parameters gathered
          const std::vector<double>& not_before = in.chunk_first_forward_not_before_s[size_t(s)];
          if (size_t(k.chunk) < not_before.size() && !started[size_t(g)]) ready = std::max(ready, not_before[size_t(k.chunk)]);
        }
        if (k.forward) started[size_t(g)] = true;
        const bool sends = k.forward ? g < g_count - 1 : g > 0;
        const bool receives = k.forward ? g > 0 : g < g_count - 1;
        const double gpu_ready = std::max(free_at[size_t(s)], ready);
        double start = gpu_ready, end = start + dur;
        StageTiming& st = out.stages[size_t(s)];
        if (host) {
          const double launch = (k.forward ? in.forward_launch_s : in.backward_launch_s)[size_t(s)][size_t(k.chunk)];
          double cpu_start = launched[size_t(s)];
          if (syncs && (receives || sent[size_t(s)])) cpu_start = std::max(cpu_start, gpu_ready);
          start = std::max(gpu_ready, cpu_start + std::min(in.first_launch_s, launch));
          end = std::max(start + dur, cpu_start + launch);
          if (cpu_start + launch > start + dur) ++st.host_paced;
          launched[size_t(s)] = cpu_start + launch;
          sent[size_t(s)] = sends;
          st.host_launch_s += launch;
        }
        (k.forward ? fwd_end : bwd_end)[at(g, k.microbatch)] = end;
        free_at[size_t(s)] = end + (blocking && sends ? (k.forward ? in.send_forward_s : in.send_backward_s)[size_t(s)] : 0);
        if (events[size_t(s)].empty()) {
          st.first_start_s = start;
          st.first_forward_s = end - start;
        }
        st.busy_s += dur - wait;
        st.end_s = end;
        st.last_backward_s = end - start;
        events[size_t(s)].push_back({s, k, start, end});
        ++next[size_t(s)];
        ++done;
        progressed = true;
      }
    }
    if (!progressed) throw std::logic_error("pipeline schedule deadlocked (an op waits for one that never runs)");
  }
  double end = 0, busiest = 0;
  for (const StageTiming& st : out.stages) {
    end = std::max(end, st.end_s);
    busiest = std::max(busiest, st.busy_s);
  }
  out.makespan_s = end;  // stage 0's first forward waits for nothing: the schedule starts at 0
  out.bubble_fraction = out.makespan_s > 0 ? 1 - busiest / out.makespan_s : 0;
  for (auto& e : events) out.events.insert(out.events.end(), e.begin(), e.end());
  return out;
}

}  // namespace hcpsim

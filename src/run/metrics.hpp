// Metrics read off a Timeline: how long attention took on each rank, how much
// of its CP communication ran while no kernel did (exposed), link utilisation.
// Pure functions over plain data; no SimGrid.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "workload/workload.hpp"
#include "engine/timeline.hpp"

namespace hcpsim {

using Interval = std::pair<double, double>;  // [start_s, end_s)

// Sorted, disjoint union of intervals.
std::vector<Interval> interval_union(std::vector<Interval> v);
double total_length_s(const std::vector<Interval>& u);
// The parts of the union `a` not covered by the union `b` (both sorted and disjoint).
std::vector<Interval> interval_difference(const std::vector<Interval>& a, const std::vector<Interval>& b);
// Length of `a` not covered by `b` (both unions).
double uncovered_length_s(const std::vector<Interval>& a, const std::vector<Interval>& b);

struct AttentionMetrics {
  int32_t rank = -1;          // the slowest rank (longest forward + backward attention)
  double forward_s = 0;       // first attn.fwd op start .. last attn.fwd op end
  double backward_s = 0;      // same for attn.bwd
  double comm_s = 0;          // time with at least one CP comm op of this rank in flight
  double exposed_comm_s = 0;  // of that, time when no kernel of this rank runs
  double overlap_ratio = 1;   // 1 - exposed/comm (1 when there is no CP comm)
  friend bool operator==(const AttentionMetrics&, const AttentionMetrics&) = default;
};

// Attention ops are those of OpArea::Attention, not recomputed; CP comm ops are comm
// ops on the NcclCp / NcclCpInner streams; kernels are compute ops on any stream.
// Comm time counts from when the transfer started (start_s), not from arrival.
AttentionMetrics attention_metrics(const Timeline& t, int32_t phase, const std::vector<RankProgram>& programs);

// Forward / backward span of all of a rank's ops in `phase` by Op::phase.
struct PassSpans {
  double forward_s = 0, backward_s = 0;
  // Of the backward, the re-run (recompute) ops' span, first start to last end: the re-run forward
  // of full recompute, which the layer's own backward follows (what comes before it, e.g.
  // Megatron-FSDP's gathers and fp8 transposes, every layer's backward runs).
  double rerun_s = 0;
  friend bool operator==(const PassSpans&, const PassSpans&) = default;
};
PassSpans pass_spans(const Timeline& t, int32_t phase, int32_t rank, const std::vector<RankProgram>& programs);
// The same for every rank with ops in `phase`, in one pass over the timeline.
std::map<int32_t, PassSpans> pass_spans_by_rank(const Timeline& t, int32_t phase, const std::vector<RankProgram>& programs);

struct LinkUse {
  std::string name;
  LinkClass cls = LinkClass::NvLink;
  double bytes = 0;
  double busy_s = 0;
  double utilisation = 0;  // bytes / (bandwidth x window)
  friend bool operator==(const LinkUse&, const LinkUse&) = default;
};

// The `top` busiest links of `phase` over a window of `window_s`, by utilisation then name.
std::vector<LinkUse> busiest_links(const Timeline& t, int32_t phase, double window_s, size_t top);

}  // namespace hcpsim

#include "run/metrics.hpp"

#include <algorithm>
#include <limits>
#include <map>

namespace hcpsim {

std::vector<Interval> interval_union(std::vector<Interval> v) {
  std::sort(v.begin(), v.end());
  std::vector<Interval> u;
  for (const auto& [a, b] : v) {
    if (b <= a) continue;
    if (!u.empty() && a <= u.back().second)
      u.back().second = std::max(u.back().second, b);
    else
      u.emplace_back(a, b);
  }
  return u;
}

double total_length_s(const std::vector<Interval>& u) {
  double s = 0;
  for (const auto& [a, b] : u) s += b - a;
  return s;
}

std::vector<Interval> interval_difference(const std::vector<Interval>& a, const std::vector<Interval>& b) {
  std::vector<Interval> out;
  for (auto [s, e] : a) {
    for (const auto& [bs, be] : b) {
      if (be <= s || bs >= e) continue;
      if (bs > s) out.push_back({s, bs});
      s = std::max(s, be);
      if (s >= e) break;
    }
    if (s < e) out.push_back({s, e});
  }
  return out;
}

double uncovered_length_s(const std::vector<Interval>& a, const std::vector<Interval>& b) {
  double covered = 0;
  size_t j = 0;
  for (const auto& [a0, a1] : a) {
    while (j < b.size() && b[j].second <= a0) ++j;
    for (size_t k = j; k < b.size() && b[k].first < a1; ++k)
      covered += std::max(0.0, std::min(a1, b[k].second) - std::max(a0, b[k].first));
  }
  return total_length_s(a) - covered;
}

namespace {

// Recomputed attention (selective or full recompute) is not counted, its communication neither: it
// belongs to the backward of the layer (its time is in the layer's backward and the step's
// recompute_s), not to the attention the user asked about.
bool is_attention(const Op& op) { return op.area == OpArea::Attention && !op.recompute; }
bool is_cp_comm(const Op& op) {
  return op.kind == OpKind::Comm && (op.stream == Stream::NcclCp || op.stream == Stream::NcclCpInner);
}

struct RankSpans {
  double fwd_begin = std::numeric_limits<double>::infinity(), fwd_end = -1;
  double bwd_begin = std::numeric_limits<double>::infinity(), bwd_end = -1;
  std::vector<Interval> comm, kernels;
  double fwd_s() const { return fwd_end < 0 ? 0 : fwd_end - fwd_begin; }
  double bwd_s() const { return bwd_end < 0 ? 0 : bwd_end - bwd_begin; }
};

}  // namespace

AttentionMetrics attention_metrics(const Timeline& t, int32_t phase, const std::vector<RankProgram>& programs) {
  std::map<int32_t, RankSpans> spans;  // ordered: deterministic tie-breaking by rank
  for (const OpRecord& r : t.ops) {
    if (r.phase != phase) continue;
    const Op& op = programs.at(r.rank).ops.at(r.op);
    RankSpans& s = spans[r.rank];
    if (op.kind == OpKind::Compute) s.kernels.emplace_back(r.start_s, r.end_s);
    if (!is_attention(op)) continue;
    if (op.phase == Phase::Forward) {
      s.fwd_begin = std::min(s.fwd_begin, r.start_s);
      s.fwd_end = std::max(s.fwd_end, r.end_s);
    } else if (op.phase == Phase::Backward) {
      s.bwd_begin = std::min(s.bwd_begin, r.start_s);
      s.bwd_end = std::max(s.bwd_end, r.end_s);
    }
    if (is_cp_comm(op)) s.comm.emplace_back(r.start_s, r.end_s);
  }
  AttentionMetrics best;
  double best_total = -1;
  for (auto& [rank, s] : spans) {
    const double total = s.fwd_s() + s.bwd_s();
    if (total <= best_total) continue;
    best_total = total;
    best.rank = rank;
    best.forward_s = s.fwd_s();
    best.backward_s = s.bwd_s();
    const auto comm = interval_union(s.comm);
    best.comm_s = total_length_s(comm);
    best.exposed_comm_s = uncovered_length_s(comm, interval_union(s.kernels));
    best.overlap_ratio = best.comm_s > 0 ? 1.0 - best.exposed_comm_s / best.comm_s : 1.0;
  }
  return best;
}

std::map<int32_t, PassSpans> pass_spans_by_rank(const Timeline& t, int32_t phase, const std::vector<RankProgram>& programs) {
  struct Bounds {
    double fb = std::numeric_limits<double>::infinity(), fe = -1, bb = fb, be = -1, rb = fb, re = -1;
  };
  std::map<int32_t, Bounds> bounds;
  for (const OpRecord& r : t.ops) {
    if (r.phase != phase) continue;
    Bounds& b = bounds[r.rank];
    const Op& op = programs.at(r.rank).ops.at(r.op);
    if (op.phase == Phase::Forward) {
      b.fb = std::min(b.fb, r.start_s);
      b.fe = std::max(b.fe, r.end_s);
    } else if (op.phase == Phase::Backward) {
      b.bb = std::min(b.bb, r.start_s);
      b.be = std::max(b.be, r.end_s);
      if (op.recompute) b.rb = std::min(b.rb, r.start_s), b.re = std::max(b.re, r.end_s);
    }
  }
  std::map<int32_t, PassSpans> out;
  for (const auto& [rank, b] : bounds)
    out[rank] = {b.fe < 0 ? 0 : b.fe - b.fb, b.be < 0 ? 0 : b.be - b.bb, b.re < 0 ? 0 : b.re - b.rb};
  return out;
}

PassSpans pass_spans(const Timeline& t, int32_t phase, int32_t rank, const std::vector<RankProgram>& programs) {
  const std::map<int32_t, PassSpans> all = pass_spans_by_rank(t, phase, programs);
  const auto it = all.find(rank);
  return it == all.end() ? PassSpans{} : it->second;
}

std::vector<LinkUse> busiest_links(const Timeline& t, int32_t phase, double window_s, size_t top) {
  std::vector<LinkUse> v;
  for (const LinkRecord& l : t.links) {
    if (l.phase != phase) continue;
    const double util = (window_s > 0 && l.bandwidth_bytes_per_s > 0) ? l.bytes / (l.bandwidth_bytes_per_s * window_s) : 0;
    v.push_back({l.name, l.cls, l.bytes, l.busy_s, util});
  }
  std::sort(v.begin(), v.end(), [](const LinkUse& a, const LinkUse& b) {
    return a.utilisation != b.utilisation ? a.utilisation > b.utilisation : a.name < b.name;
  });
  if (v.size() > top) v.resize(top);
  return v;
}

}  // namespace hcpsim

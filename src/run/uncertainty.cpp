#include "run/uncertainty.hpp"

#include <algorithm>
#include <cmath>

#include "rules/host_launch.hpp"
#include "run/metrics.hpp"

namespace hcpsim {

TimeShares& TimeShares::operator+=(const TimeShares& o) {
  attention_s += o.attention_s;
  gemm_s += o.gemm_s;
  elementwise_s += o.elementwise_s;
  comm_s += o.comm_s;
  attention_placement_s += o.attention_placement_s;
  attention_varlen_exit_s += o.attention_varlen_exit_s;
  attention_tables_s += o.attention_tables_s;
  userbuffers_gemm_s += o.userbuffers_gemm_s;
  host_s += o.host_s;
  offload_s += o.offload_s;
  return *this;
}

TimeShares time_shares(const Timeline& t, int32_t phase, int32_t rank, const std::vector<RankProgram>& programs,
                       double span_s, bool (*include)(OpArea), const CostModel& cost) {
  double busy[3] = {0, 0, 0};  // by ComputeClass
  double placement = 0;        // attention seconds x placement spread
  double exiting = 0;          // attention seconds x varlen exit spread
  double userbuffers = 0;      // GEMM seconds under TE's TP overlap
  double tables = 0;           // attention seconds the tables time beside a shape model
  std::vector<Interval> kernels;
  const std::vector<Op>& ops = programs.at(rank).ops;
  for (const OpRecord& r : t.ops) {
    if (r.phase != phase || r.rank != rank) continue;
    const Op& op = ops.at(r.op);
    if (op.kind != OpKind::Compute || !include(op.area) || !(r.end_s > r.start_s)) continue;
    busy[static_cast<int>(op.compute_class)] += r.end_s - r.start_s;
    if (op.compute_class == ComputeClass::Attention) {
      placement += (r.end_s - r.start_s) * cost.placement_spread(op);
      exiting += (r.end_s - r.start_s) * cost.varlen_exit_spread(op);
    }
    if (cost.attention_outside_shape_model(op)) tables += r.end_s - r.start_s;
    if (op.compute_class == ComputeClass::Gemm && op.userbuffers) userbuffers += r.end_s - r.start_s;
    kernels.emplace_back(r.start_s, r.end_s);
  }
  const double covered = std::min(span_s, total_length_s(interval_union(kernels)));
  const double sum = busy[0] + busy[1] + busy[2];
  TimeShares s;
  const double k = sum > 0 ? covered / sum : 0;  // kernels on several streams overlap each other
  s.gemm_s = busy[static_cast<int>(ComputeClass::Gemm)] * k;
  s.attention_s = busy[static_cast<int>(ComputeClass::Attention)] * k;
  s.elementwise_s = busy[static_cast<int>(ComputeClass::Elementwise)] * k;
  s.attention_placement_s = placement * k;
  s.attention_varlen_exit_s = exiting * k;
  s.userbuffers_gemm_s = userbuffers * k;
  s.attention_tables_s = tables * k;
  s.comm_s = std::max(0.0, span_s - (sum > 0 ? covered : 0));
  return s;
}

Uncertainty uncertainty_of(const TimeShares& shares, const CostParams& params, double time_s, double tokens_per_s) {
  Uncertainty u;
  const double total = shares.total_s();
  const auto evidence = [&](const char* what, double fallback, const char* fallback_basis) {
    const KernelEvidence* e = params.evidence_for(what);
    return e ? *e : KernelEvidence{what, fallback, fallback_basis};
  };
  const auto add = [&](const char* what, double seconds, const KernelEvidence& ev) {
    if (!(seconds > 0) || !(total > 0)) return;
    u.components.push_back({what, seconds / total, ev.relative, ev.basis, ev.shared_basis, ev.shared_relative});
  };
  // Attention the shape model times carries its evidence; attention it does not cover (a sliding
  // window, another head dim), timed by the FLOPs tables, carries the tables' gap to the shape model
  // where both apply, or the attention evidence where that is wider (a roofline's margin).
  const auto attention_evidence = evidence("attention", 0.1, "no evidence recorded");
  add("attention kernels", shares.attention_s - shares.attention_tables_s, attention_evidence);
  if (attention_evidence.relative >= kAttentionTablesRelative)
    add("attention kernels outside the shape model", shares.attention_tables_s, attention_evidence);
  else
    add("attention kernels outside the shape model", shares.attention_tables_s,
        {"", kAttentionTablesRelative,
         "stated margin: a sliding window or another head dim, which the shape model does not cover, is timed by the "
         "FLOPs tables; where both apply (a window as long as the sequence) the tables read 8 % (128K tokens) to 16 % "
         "(4K) under the shape model (docs/cost-model.md, bands)"});
  // A dependence of the attention time on what hcpsim cannot know: the attention seconds weighted by
  // each launch's spread, over the attention seconds.
  const auto add_attention_spread = [&](const char* what, double weighted_s, const char* basis) {
    if (shares.attention_s > 0 && weighted_s > 0) add(what, shares.attention_s, {"", weighted_s / shares.attention_s, basis});
  };
  add_attention_spread("attention block placement", shares.attention_placement_s,
                       "FlashAttention-2's forward: half the range of its time over its drawn block placements, "
                       "time-weighted (which blocks share an SM is the die's and the launch's, but for the second "
                       "fill's probed lead; measured launches lie within or near the range: calibrate/RESULTS.md, "
                       "eighteenth and nineteenth runs)");
  add_attention_spread("varlen launches' exiting CTAs", shares.attention_varlen_exit_s,
                       "stated margin: FlashAttention-2's varlen grid runs every document to the longest one's blocks, "
                       "the CTAs past a shorter document's end exiting at once; their cost is not measured, taken "
                       "between none and a fitted empty CTA's, time-weighted half that range (docs/cp-transports.md §1.2)");
  add("GEMM kernels", shares.gemm_s, evidence("gemm", 0.1, "no evidence recorded"));
  add("TP overlap (userbuffers)", shares.userbuffers_gemm_s,
      {"", kTpOverlapStatedRelative, "stated margin: TE's userbuffers schedule read from its code, not timed; the GEMMs it "
                                 "splits or runs on 16 fewer SMs (docs/simulation.md)"});
  add("memory-bound kernels", shares.elementwise_s, evidence("elementwise", 0.5, "no evidence recorded"));
  add("CPU launches", shares.host_s,
      {"", rules::kHostLaunchMeasuredRelative,
       "the step waits for the CPU: eager PyTorch's measured time per launch, carried to this host by PyTorch's "
       "Linear (docs/simulation.md); Megatron's and TE's own Python, not counted, would make it slower"});
  add("activation offload", shares.offload_s,
      {"", kOffloadStatedRelative,
       "the HBM rule's largest shortfall on an H100 as a margin: the copies' waits at the host link's figure (PCIe Gen5 55 GB/s, measured 55.2-55.5 on an H100; "
       "NVLink-C2C's 184 derived from public figures) and their HBM time by bytes, which an H100 measured 1.46-1.65x "
       "(docs/simulation.md)"});
  add("communication", shares.comm_s,
      {"", kCommValidationRelative, "exposed communication; the comm model against published nccl-tests anchors (34 of 38 "
                                "within 10%, bench/published/results.txt)"});
  double sq = 0;
  for (const auto& c : u.components) sq += (c.share * c.relative) * (c.share * c.relative);
  u.relative = std::sqrt(sq);
  std::stable_sort(u.components.begin(), u.components.end(), [](const auto& a, const auto& b) {
    return a.share * a.relative > b.share * b.relative;
  });
  u.time_s = {time_s * (1 - u.relative), time_s * (1 + u.relative)};
  u.tokens_per_s = {tokens_per_s / (1 + u.relative), u.relative < 1 ? tokens_per_s / (1 - u.relative) : 0};
  return u;
}

Uncertainty slower_of(const Uncertainty& a, const Uncertainty& b, double time_s, double tokens_per_s) {
  const auto central = [](const Uncertainty& u) { return 0.5 * (u.time_s.first + u.time_s.second); };
  Uncertainty u = central(b) > central(a) ? b : a;
  const std::pair<double, double> ends{std::max(a.time_s.first, b.time_s.first),
                                       std::max(a.time_s.second, b.time_s.second)};
  if (ends == u.time_s) return u;  // the slower one's band holds both
  u.time_s = ends;
  u.relative = time_s > 0 ? std::max(u.time_s.second - time_s, time_s - u.time_s.first) / time_s : 0;
  u.tokens_per_s = {u.time_s.second > 0 ? tokens_per_s * time_s / u.time_s.second : 0,
                    u.time_s.first > 0 ? tokens_per_s * time_s / u.time_s.first : 0};
  return u;
}

namespace {

// The measurement a part's band rests on in common with others, and that measurement's band.
const std::string& shared_basis(const UncertaintyComponent& c) { return c.shared_basis.empty() ? c.basis : c.shared_basis; }
double shared_relative(const UncertaintyComponent& c) { return c.shared_basis.empty() ? c.relative : c.shared_relative; }

// Two parts err together when they rest on the same evidence: the same kernel fit, roofline figure
// or comm model (all of their band), or one GPU's measurement carried to a sibling (that
// measurement's band). A part whose band is the prediction's own (the placement spread of its
// launches) differs between predictions of other shapes, and is independent then.
bool same_evidence(const UncertaintyComponent& a, const UncertaintyComponent& b) {
  return a.what == b.what && shared_basis(a) == shared_basis(b) && shared_relative(a) == shared_relative(b);
}
bool identical_evidence(const UncertaintyComponent& a, const UncertaintyComponent& b) {
  return same_evidence(a, b) && a.basis == b.basis && a.relative == b.relative;
}

// The variance a part adds alone: its band beyond the shared measurement's.
double own_variance(const UncertaintyComponent& c, double shared) {
  return c.share * c.share * std::max(0.0, c.relative * c.relative - shared * shared);
}

}  // namespace

double ratio_band(const Uncertainty& a, const Uncertainty& b) {
  double sq = 0;
  for (const auto& ca : a.components) {
    const auto match = std::find_if(b.components.begin(), b.components.end(),
                                    [&](const UncertaintyComponent& cb) { return same_evidence(ca, cb); });
    if (match == b.components.end()) {
      sq += (ca.share * ca.relative) * (ca.share * ca.relative);
      continue;
    }
    // The same figure (two layouts on one GPU): all of its band is common.
    const double shared = identical_evidence(ca, *match) ? ca.relative : shared_relative(ca);
    const double common = (ca.share - match->share) * shared;
    sq += common * common + own_variance(ca, shared) + own_variance(*match, shared);
  }
  for (const auto& cb : b.components) {
    const bool matched = std::any_of(a.components.begin(), a.components.end(),
                                     [&](const UncertaintyComponent& ca) { return same_evidence(ca, cb); });
    if (!matched) sq += (cb.share * cb.relative) * (cb.share * cb.relative);
  }
  return std::sqrt(sq);
}

bool bands_overlap(const Uncertainty& a, const Uncertainty& b) {
  return a.time_s.first <= b.time_s.second && b.time_s.first <= a.time_s.second;
}

}  // namespace hcpsim

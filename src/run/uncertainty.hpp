// The band of a prediction (docs/cost-model.md §5). A step's time is split into what decides it
// on the critical path: attention kernels, GEMMs, memory-bound kernels and exposed communication
// (the slowest rank's layer, times layers and micro batches, plus the step-level ops). Each part
// carries the relative band of its own evidence (CostParams::evidence: a calibration's residuals,
// the built-in fits' residuals, a roofline margin; communication: the comm model's error against
// the published nccl-tests anchors). Parts rest on independent evidence, so the step's relative
// band is the root sum of squares of (share x band); within a part all kernels err together.
// Where a launch's time depends on a block placement hcpsim cannot know (FlashAttention-2's
// forward, drawn placements), that dependence is one more part of the attention time; so is a
// varlen launch's dependence on the unmeasured cost of its exiting CTAs.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "cost/cost_model.hpp"
#include "engine/timeline.hpp"
#include "workload/workload.hpp"

namespace hcpsim {

// Seconds of a span by what takes them; they add up to the span.
// attention_placement_s is not a share of its own: the attention seconds weighted by each
// launch's placement spread (CostModel::placement_spread), so attention_placement_s / attention_s
// is the attention time's relative dependence on which blocks share an SM.
// userbuffers_gemm_s is the part of gemm_s run under TE's TP overlap (Op::userbuffers: split in
// chunks or on the SMs its comm kernels leave), whose composition is not measured.
// host_s is time the step waits for the CPU's launches (a step bound by the host: its layers'
// seconds are the CPU's, run/step_composition.hpp), a part of its own.
struct TimeShares {
  double attention_s = 0, gemm_s = 0, elementwise_s = 0, comm_s = 0;
  double attention_placement_s = 0;
  double userbuffers_gemm_s = 0;
  double host_s = 0;
  double attention_tables_s = 0;  // the part of attention_s timed by the tables where a shape model exists
  double offload_s = 0;           // the activation offload's waits and HBM time
  double attention_varlen_exit_s = 0;  // as attention_placement_s, by CostModel::varlen_exit_spread
  double total_s() const { return attention_s + gemm_s + elementwise_s + comm_s + host_s + offload_s; }
  TimeShares scaled(double k) const {
    return {attention_s * k,        gemm_s * k, elementwise_s * k, comm_s * k, attention_placement_s * k,
            userbuffers_gemm_s * k, host_s * k, attention_tables_s * k, offload_s * k, attention_varlen_exit_s * k};
  }
  TimeShares& operator+=(const TimeShares& o);
  friend bool operator==(const TimeShares&, const TimeShares&) = default;
};

// `rank`'s ops of `phase` whose area `include` accepts: compute seconds per class, scaled so that
// they fill the union of the kernels' intervals, and the rest of `span_s` (no kernel running) as
// exposed communication; `cost` gives each attention launch's placement spread.
TimeShares time_shares(const Timeline& t, int32_t phase, int32_t rank, const std::vector<RankProgram>& programs,
                       double span_s, bool (*include)(OpArea), const CostModel& cost);

struct UncertaintyComponent {
  std::string what;    // "attention kernels", "GEMM kernels", "memory-bound kernels", "communication"
  double share = 0;    // of the predicted time
  double relative = 0; // band of this part's own time
  std::string basis;
  // The measurement this band rests on in common with other predictions, and its part of
  // `relative` (KernelEvidence::shared_basis); empty: `basis` and `relative` themselves.
  std::string shared_basis;
  double shared_relative = 0;
  friend bool operator==(const UncertaintyComponent&, const UncertaintyComponent&) = default;
};

struct Uncertainty {
  double relative = 0;                       // of the predicted time
  std::pair<double, double> time_s{0, 0};    // [low, high]
  std::pair<double, double> tokens_per_s{0, 0};
  std::vector<UncertaintyComponent> components;  // largest contribution (share x relative) first
  friend bool operator==(const Uncertainty&, const Uncertainty&) = default;
};

// The comm model's validation error (bench/published/results.txt): the relative band of exposed
// communication.
inline constexpr double kCommValidationRelative = 0.10;

// The stated band of the GEMMs run under TE's TP overlap (docs/simulation.md): no multi-GPU
// timing of it exists. Half the cost the 16-SM margin is given on an H100/H200 (132 / 116 = +14 %
// for a GEMM of many waves; one of few waves pays less, chunk launches and tails add).
inline constexpr double kTpOverlapStatedRelative = 0.07;
// The activation offload's part: its waits rest on the host link's figure (measured on PCIe Gen5,
// derived for NVLink-C2C) and its HBM time on bytes alone, which an H100 measured 1.46-1.65x
// (calibrate/RESULTS.md, twenty-sixth run): a margin of its largest shortfall there, 65 % of its time.
inline constexpr double kOffloadStatedRelative = 0.65;
// The band of attention the FLOPs tables time beside a shape model that does not cover it (a
// sliding window, another head dim): the tables' gap to the shape model on the same work, a window
// as long as the sequence (Mistral-7B, a2a CP8 on the H200 defaults: -7.5 % at 128K tokens, -16 %
// at 4K), rounded up.
inline constexpr double kAttentionTablesRelative = 0.16;

Uncertainty uncertainty_of(const TimeShares& shares, const CostParams& params, double time_s, double tokens_per_s);

// A time that is the larger of two, each with its band (the GPUs' schedule and the CPU's
// launches, run/step_composition.hpp): from the larger low end to the larger high end, relative to
// `time_s` (their larger central value) on its wider side; the parts of the one whose central
// value is larger (the first on a tie).
Uncertainty slower_of(const Uncertainty& a, const Uncertainty& b, double time_s, double tokens_per_s);

// Whether two predictions' bands overlap (a tie: neither is reliably faster).
bool bands_overlap(const Uncertainty& a, const Uncertainty& b);

// The relative band of the ratio of two predictions' times. Parts resting on the same evidence
// (same `what`, `basis` and band: the same kernel fit, the same comm model) err together in both,
// so only the difference of their shares is uncertain, (share_a - share_b) x relative; parts on
// different evidence (two GPUs, two calibrations) are independent and add in quadrature, as are
// parts whose band is each prediction's own (attention block placement: other shapes, other
// spreads). A part whose evidence was carried from another GPU's measurement (B200's cuDNN figures
// from GB200's) shares that measurement's band with the GPU it was measured on and adds the carry
// independently: (share_a - share_b)^2 x shared^2 + share_a^2 (rel_a^2 - shared^2) + share_b^2
// (rel_b^2 - shared^2). Two layouts on one cluster share nearly everything; two clusters share little.
double ratio_band(const Uncertainty& a, const Uncertainty& b);

}  // namespace hcpsim

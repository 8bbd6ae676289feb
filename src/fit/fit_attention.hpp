// Fit of the shape-aware attention model (cost/cost_model.hpp AttentionShapeModel) to
// measured kernel times, one coefficient set per (pass, mask):
//   t = t0_s + cta_s x CTAs + tile_s x tiles + masked_tile_s x masked + empty_cta_s x empty CTAs
//       (busiest SM) + split_element_s x split accumulator elements + query_element_s x query
//       elements + combine_launch_s + combine_row_s x rows (a split-KV forward's combine kernel)
// Times measured at different SM clocks (measurement sm_clock_mhz) are first brought to one
// clock, their median, which the model keeps (AttentionShapeModel::clock_mhz).
// Least squares on relative time error (rows divided by the measured time, right-hand side
// 1; Eigen column-pivoting QR). Which SM is busiest depends on the costs (causal CTAs
// differ in length), so the fit alternates: schedule with the current costs, refit, five
// times from cost = tiles. Every coefficient is a time and must be >= 0: a negative one is
// fixed at 0 and the rest refitted (the most negative first), and a column that is zero in
// every sample (no masked tiles) is left out; empty_cta_s, left out so or for want of samples, is
// cta_s (an empty CTA not measured costs what a CTA does).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "fit/fit.hpp"
#include "cost/calibration_file.hpp"

namespace hcpsim {

struct AttentionTimeSample {
  AttentionShape shape;
  double time_s = 0;
  double flops = 0;  // for the summary's range
};

struct AttentionPartFit {
  AttentionTileTimes times;
  FitSummary summary;                   // relative time errors; range: FLOPs
  std::pair<double, double> tiles{0, 0};  // tiles on the busiest SM, over the samples
};

// Throws std::invalid_argument when `samples` is empty or sm_count <= 0.
// `backend`'s kernel geometry (attention_tiles.hpp).
AttentionPartFit fit_attention_part(const std::vector<AttentionTimeSample>& samples, int64_t sm_count,
                                    AttentionBackend backend = AttentionBackend::Hcpsim);

// Tiles on the busiest SM of `s` under `times` (the extrapolation measure of check).
double busiest_sm_tiles(const AttentionShape& s, int64_t sm_count, const AttentionTileTimes& times,
                        AttentionBackend backend = AttentionBackend::Hcpsim);

// The shape model from `set`'s attention measurements of head dim 128 (the geometry of
// attention_tiles.hpp) that `opt.use` accepts, on environment.sm_count SMs, into
// out.calibration.attention_shape; a warning instead where something it needs is missing. cuDNN's
// backward parts rest on records whose SM clock the GPU counted (Measurement::sm_clock_counted):
// without them the model covers the forward only and the backward keeps the FLOPs tables. Each
// measurement counts as the kernel its backend ran on a GPU of SM version `compute_capability`
// (executed_attention_shape: cuDNN's bottom-right causal backward is a no-mask kernel).
void fit_attention_shape(const MeasurementSet& set, const FitOptions& opt, int64_t compute_capability, FitResult& out);

// Whether `s` (an attention kernel the model applies to, as its backend runs it on SM version
// `compute_capability`) puts more or fewer tiles on its busiest SM than any measurement its
// (pass, mask) coefficients were fitted on (slack: relative).
bool attention_shape_extrapolates(const CalibratedAttentionShape& a, const AttentionShape& s,
                                  int64_t compute_capability, double slack);

// The fitted coefficients, one line per (pass, mask), with residuals and the ranges they rest on.
std::string format_attention_shape(const CalibratedAttentionShape& a);

}  // namespace hcpsim

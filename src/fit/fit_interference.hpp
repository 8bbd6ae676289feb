// Interference in `hcpsim fit` / `hcpsim check`: hcpcal's interference rows read through the
// model the engine applies (rules/interference.hpp).
//
// A row's classes: victim or aggressor gemm -> GEMM, attention_fwd / attention_bwd / attention ->
// attention, hbm_copy -> memory-bound. Predicted slowdown of a row:
//   compute victim beside cta_copy or a collective:                        compute_slowdown(class)
//   compute victim beside cta_spin (SM share, no transfer):                1
//   cta_copy victim (k CTAs) launched after a kernel of class c:           comm_slowdown(c, k)
//   cta_copy victim launched before the kernel ("transfer_first"):         comm_shared_slowdown(c, k)
//   a collective or device copy beside attention: no channel count -> listed, not predicted;
//   a kernel beside a copy-engine device copy (not an NCCL transfer) -> listed, not predicted.
// Fit: compute_slowdown[c] = the median over k of class c beside cta_copy; comm_slowdown[c][k] =
// the median of the k-CTA copy launched after a kernel of class c (attention: forward and
// backward together), comm_shared_slowdown[c][k] the same launched before it; each
// at least 1 (a slowdown below 1 is the alone run's clock drift). Values without rows keep
// their defaults.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "fit/fit.hpp"
#include "rules/interference.hpp"

namespace hcpsim {

// The row's predicted slowdown under `m`; nullopt when the model does not cover it.
std::optional<double> predicted_interference_slowdown(const InterferenceModel& m, const InterferenceConfig& row);

// The interference_* parameter a row measures: interference_comm[_shared]_<class>_k<k> for the
// k-CTA copy beside a kernel, interference_compute_<class> for a kernel beside a transfer (the
// victim's own name where it has no class, e.g. a collective of parts (a), (b)).
std::string interference_parameter(const InterferenceConfig& row);

// Adds interference_* scalars fitted from the rows (accepted by opt.use, checked, overlap seen).
void fit_interference(const MeasurementSet& set, const FitOptions& opt, FitResult& out);

}  // namespace hcpsim

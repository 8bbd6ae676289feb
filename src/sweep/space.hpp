// The candidates of `hcpsim sweep`: every TP x PP x CP x cp_comm_type x HCP split x virtual
// stages (x micro batch x recompute) the scenario's sweep bounds allow, each as a
// complete scenario document validated by the same parser as a single run.
//
// Default space (a dimension the "sweep" section and flags leave open):
//   TP        divisors of gpus_per_node up to 8 that divide num_attention_heads
//   PP        depths up to 16 with TP*PP dividing the world size whose stages split the
//             layers (the scenario's own split options, e.g. the embedding and loss accounted);
//             a layout with PP > 1 only where its PP = 1 twin (same TP, CP, transport, micro
//             batch and recompute, PP times the DP) does not fit or is not valid: where the
//             twin fits it does the same work per GPU without the bubble (space.cpp,
//             pipeline_pays). Listing PP in the bounds takes every layout.
//   CP        powers of two with TP*CP*PP dividing the world size
//   VPP       1, and 2 where PP > 2 and the stage's layers split in two (interleaved 1F1B; its
//             micro-batch rules reject what does not fill the pipeline)
//   comm      p2p, all_gather, a2a, a2a+p2p (CP 1 is one candidate: no CP)
//   HCP       every [A, CP/A] with 1 < A < CP and A dividing CP
//   recompute none, selective and full (every layer on its own, and the scenario's own full
//             recompute where it sets other units or block), and where the layout fits only with recompute, full
//             recompute by block (Megatron's recompute_method "block") of the fewest layers a
//             chunk under which it fits ("block"; with "lightest_fitting": the scenario's own,
//             and the lightest heavier one that fits where it does not)
//   micro batch 1, 2, 4, ... while the global batch splits into micro batch x DP
//             and some recompute setting fits (1 alone with PP > 1: a larger one raises the
//             bubble); the scenario's own where it sets
//             no global batch (the global batch would change with it)
//   sequence parallel: on exactly when TP > 1 ("auto")
// Whatever the validator rejects (a2a needing KV heads / TP % CP == 0, the
// global batch dividing by micro batch x DP, ...) stays in the list with the
// diagnostics that rejected it.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/diagnostics.hpp"
#include "scenario/scenario.hpp"
#include "scenario/parse.hpp"
#include "scenario/sweep_spec.hpp"

namespace hcpsim {

struct SweepCandidate {
  int index = 0;          // position in the enumeration (TP, CP, comm, split, micro batch, recompute)
  std::string key;        // stable id, e.g. "tp1-cp16-a2a+p2p-8x2-mbs1-none": resume, shards and merge match on it
  std::string label;      // "TP1 + a2a+p2p CP16 [8,2]", "TP2 + a2a CP4 + full recompute"
  nlohmann::json input;   // the candidate's scenario document (hcpsim runs it alone as it is)
  std::string digest;     // of `input` and the hcpsim version: a resumed result is reused only if it matches
  std::optional<Scenario> scenario;  // when valid
  std::vector<Diagnostic> rejected;  // when not: every rule it breaks
};

struct SweepSpace {
  std::vector<SweepCandidate> candidates;
  std::string digest;  // of every candidate's key and digest: shards of one sweep share it
};

// `base_doc` is the scenario's JSON (its "sweep" section already folded into
// `spec`); `base` the validated scenario; `opt` resolves relative paths.
// Throws InputError when the base cannot be swept (not a training step).
SweepSpace enumerate_sweep(const nlohmann::json& base_doc, const Scenario& base, const SweepSpec& spec,
                           const ParseOptions& opt);

// What the sweep command refuses (InputError, exit 2) before running anything: a space with no
// candidate (the sizes asked for leave no layout of the GPUs), and an HCP split given with --hcp
// (`flag_hcp`) that no candidate uses (its A x P is none of the CP sizes tried, or a2a+p2p is not
// among the transports). A split of the scenario's "sweep" section may go unused: flags narrow it.
void check_sweep_space(const SweepSpace& space, const std::vector<std::vector<int64_t>>& flag_hcp, const Scenario& base);

// The default dimensions, exposed for tests and the printed summary.
std::vector<int64_t> default_tp_sizes(const Scenario& base);
std::vector<int64_t> default_pp_sizes(const Scenario& base, int64_t tp);
std::vector<int64_t> default_cp_sizes(const Scenario& base, int64_t tp, int64_t pp);
std::vector<int64_t> default_vpp_sizes(const Scenario& base, int64_t pp);
std::vector<std::vector<int64_t>> default_hcp_splits(int64_t cp);

// 64-bit FNV-1a as 16 hex digits.
std::string fnv1a_hex(const std::string& text);

}  // namespace hcpsim

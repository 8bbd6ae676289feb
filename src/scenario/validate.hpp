// The rules that relate scenario fields to each other (docs/cp-transports.md §5, §7,
// §8, §9), each with its own message. Also derives data_parallel_size and the
// default global batch, and records warnings for valid-but-notable settings.
#pragma once

#include "common/diagnostics.hpp"
#include "scenario/scenario.hpp"

namespace hcpsim {

// Which sections the scenario has; whether each field parsed is read off the
// DiagnosticSink (rules that read a broken field are skipped).
struct ParsedSections {
  bool model_present = false, training_present = false, parallel_present = false, cluster_present = false;
};

// Full: every rule. LayoutFree: the rules that do not depend on the parallel layout (TP, CP, their
// transport, DP and the batch split), for the base of a sweep, whose own layout is only a default.
enum class ValidationScope { Full, LayoutFree };

void validate_scenario(Scenario& sc, const ParsedSections& ok, bool global_batch_given, DiagnosticSink& sink,
                       ValidationScope scope = ValidationScope::Full);

// Largest world size hcpsim will simulate (SimGrid actor limits, docs/simgrid.md "Actors and their stacks").
constexpr int64_t kMaxSimulatedGpus = 32768;
// First TE versions with each transport (docs/cp-transports.md §0).
constexpr Version kTeWithCpCommType{1, 10, 0};  // all_gather; cp_comm_type passed at all
constexpr Version kTeWithA2A{1, 11, 0};
constexpr Version kTeWithHcp{1, 12, 0};

}  // namespace hcpsim

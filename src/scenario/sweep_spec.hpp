// The bounds of `hcpsim sweep`: the optional top-level "sweep" section of a
// scenario (command-line flags override it key by key). Every list is a set of
// values to try; an absent key means the sweep's default for that dimension
// (sweep/space.hpp documents the defaults).
//
//   "sweep": {
//     "tensor_model_parallel_size": [1, 2],
//     "context_parallel_size": [4, 8, 16],
//     "pipeline_model_parallel_size": [1, 2, 4],    (default: depths up to 16 that split the layers and the GPUs)
//     "virtual_pipeline_model_parallel_size": [1, 2] (default: 1, and 2 where PP > 2 allows it)
//     "cp_comm_type": ["a2a", "a2a+p2p"],
//     "hierarchical_context_parallel_sizes": [[8, 2], [4, 4]],
//     "micro_batch_size": [1, 2],                 (default: powers of two that fit, sweep/space.hpp)
//     "recompute_granularity": ["none", "full", "block"]   or "lightest_fitting" (default: all four;
//                                                   "block": the fewest layers recomputed by block that fit)
//     "sequence_parallel": "auto"                 or true / false
//     "tp_comm_overlap": [false, true]            (default: the scenario's)
//     "use_megatron_fsdp": [false, true]          (default: the scenario's; PP = 1 layouts only)
//   }
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <vector>

#include "common/diagnostics.hpp"
#include "scenario/scenario.hpp"

namespace hcpsim {

enum class SweepSequenceParallel { Auto, On, Off };  // Auto: on exactly when TP > 1

struct SweepSpec {
  std::optional<std::vector<int64_t>> tp;
  std::optional<std::vector<int64_t>> cp;
  std::optional<std::vector<int64_t>> pp;
  std::optional<std::vector<int64_t>> vpp;
  std::optional<std::vector<CpCommType>> comm_types;
  std::optional<std::vector<std::vector<int64_t>>> hcp_sizes;  // each [inner a2a, outer p2p]
  std::optional<std::vector<int64_t>> micro_batch_sizes;
  // Recompute settings to try (default: none, selective and full); with lightest_fitting (and
  // recompute empty): the scenario's own setting, plus the lightest heavier one that fits when
  // that does not.
  std::vector<RecomputeGranularity> recompute{RecomputeGranularity::None, RecomputeGranularity::Selective,
                                              RecomputeGranularity::Full};
  bool recompute_lightest_fitting = false;
  // Where a layout fits only with recompute, also full recompute by block of the fewest layers a
  // chunk that fits ("block" in the list; on by default, off where a list leaves it out).
  bool recompute_block = true;
  SweepSequenceParallel sequence_parallel = SweepSequenceParallel::Auto;
  // TE's TP overlap to try on every layout of TP > 1 (false, true or both); absent: the scenario's.
  std::optional<std::vector<bool>> tp_comm_overlap;
  // Megatron-FSDP to try on every layout without a pipeline (false, true or both); absent: the scenario's.
  std::optional<std::vector<bool>> use_megatron_fsdp;
};

// The keys the section may have.
const std::vector<std::string>& sweep_spec_keys();

// Reads a "sweep" object (path "sweep"), recording every problem in `sink`.
SweepSpec parse_sweep_spec(const nlohmann::json& section, DiagnosticSink& sink);

}  // namespace hcpsim

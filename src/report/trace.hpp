// Chrome / Perfetto trace of a simulation (opens in ui.perfetto.dev or
// chrome://tracing): one process per GPU rank, one track per stream, every op
// a complete event ("ph":"X") with its FLOPs or bytes and peers in "args".
#pragma once

#include <string>
#include <vector>

#include "workload/workload.hpp"
#include "engine/timeline.hpp"
#include "run/comm_routes.hpp"
#include "run/pipeline_timing.hpp"

namespace hcpsim {

struct TracePhase {
  std::string name;                          // "layer", "step"
  const std::vector<RankProgram>* programs;  // indexed by rank
};

// Deterministic: the same timeline gives byte-identical text.
// `routes` (may be null): each comm op's NCCL algorithm, protocol, channels and flows, in its args.
// `schedule` (may be null or empty): the composed pipeline schedule, one more process
// ("pipeline schedule") with a track per stage and every forward / backward of a micro batch
// through a model chunk, on the composed step's own clock (it starts at 0 like the phases).
std::string chrome_trace_json(const Timeline& t, const std::vector<TracePhase>& phases,
                              const std::vector<ProcessGroup>& groups, const CommRouteTable* routes = nullptr,
                              const PipelineTiming* schedule = nullptr);

}  // namespace hcpsim

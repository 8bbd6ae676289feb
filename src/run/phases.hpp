#pragma once
// The phases simulate() hands the engine, in this order (engine/execute.hpp: a phase starts when
// the one before has ended on every rank). The step and pipeline phases exist only for a whole step.

#include <cstdint>

namespace hcpsim {

inline constexpr int32_t kLayerPhase = 0;     // one transformer layer, forward and backward
inline constexpr int32_t kStepPhase = 1;      // the step around the layers (embedding, head, DP sync, optimizer)
inline constexpr int32_t kPipelinePhase = 2;  // only with PP > 1: the pipeline schedule

}  // namespace hcpsim

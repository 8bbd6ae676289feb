// What frees GPU memory, as advice: one list for every message that says a step does not fit or
// leaves too little (a run's warning, the allocator's margin, the study's and the sweep's reasons).
#pragma once

#include <string>

#include "scenario/scenario.hpp"

namespace hcpsim {

// "add recompute (training.recompute_granularity); raise TP, CP or PP; shard with Megatron-FSDP
// (...); offload activations to the host (...); or use GPUs with more memory": for `sc`, the levers
// it has not pulled yet and may pull under Megatron's rules, each pulled in a copy of `sc` and asked
// of the validator (scenario/validate.cpp, the rules' one definition), "with PP 1 instead" where it
// takes only that; without a scenario (the options of a sweep or study), every lever with the
// conditions it takes.
std::string memory_relief_words(const Scenario* sc);

}  // namespace hcpsim

// Several simulated options side by side (the built-in study): step, throughput, MFU,
// attention, exposed CP comm, memory peak and headroom per option.
#pragma once

#include <string>
#include <vector>

#include "sweep/choose.hpp"

namespace hcpsim {

std::string format_study_table(const std::vector<StudyRow>& rows);

}  // namespace hcpsim

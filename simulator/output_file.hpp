// Output files are written completely or not at all: write to a temporary file
// in the same folder, flush, then rename over the destination.
#pragma once

#include <string>
#include <string_view>

namespace hcpsim {

// Throws std::runtime_error naming the path and the OS error on failure; the
// destination is then untouched.
void write_file_atomically(const std::string& path, std::string_view content);

}  // namespace hcpsim

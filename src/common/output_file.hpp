// Output files are written completely or not at all: write to a temporary file
// in the same folder, flush, then rename over the destination. A symbolic link is
// followed (the file it names is replaced, the link stays); /dev/stdout, /dev/stderr and
// /dev/fd/N are written through the open descriptor (a shell's > or >> file keeps what it
// holds); a device or FIFO is written to in place. Write errors are reported.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace hcpsim {

// A file the user asked for could not be written (a user error: exit code 2).
class OutputFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws OutputFileError naming the path and the OS error on failure; the
// destination is then untouched.
void write_file_atomically(const std::string& path, std::string_view content);

// Throws OutputFileError unless `path`'s folder exists and is writable, so a
// long simulation does not run only to fail at the end.
void check_writable(const std::string& path);

// Whether `a` and `b` name one file that an output would replace: one existing file by any links, or
// one path once the links of its folders are followed (a file not written yet). A stream
// (/dev/stdout, /dev/fd/N, /dev/null, a FIFO) is written in place, never replaced: two streams are
// never the same; a stream and a file are where the stream is that file (stdout redirected to it).
bool same_file(const std::string& a, const std::string& b);

}  // namespace hcpsim

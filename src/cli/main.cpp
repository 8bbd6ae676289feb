// hcpsim command-line entry point; the commands live in cli_*.cpp.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>

#include "cli/cli.hpp"

int main(int argc, char** argv) {
  const int code = hcpsim::cli_main(argc, argv);
  // Output to a full disk fails at a write or at this flush: a script that redirected stdout must
  // not read success from half a file. (-o FILE is written atomically and checked where written.)
  errno = 0;
  std::cout.flush();
  if (!std::cout || std::fflush(stdout) != 0 || std::ferror(stdout)) {
    const int err = errno;
    std::cerr << "error: <stdout>: cannot write the output" << (err ? std::string(": ") + std::strerror(err) : "")
              << " (output files must be writable) \u2014 write it with -o FILE, or free space where stdout goes\n";
    return code == hcpsim::kExitInternal ? code : hcpsim::kExitInvalidInput;
  }
  return code;
}

// The hcpsim command line. Exit codes: 0 success, 2 invalid input, 1 internal failure.
#pragma once

namespace hcpsim {

constexpr int kExitOk = 0;
constexpr int kExitInternal = 1;
constexpr int kExitInvalidInput = 2;

int cli_main(int argc, char** argv);

}  // namespace hcpsim

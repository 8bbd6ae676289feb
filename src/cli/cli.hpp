// The hcpsim command line. Exit codes: 0 success, 2 invalid input, 1 internal failure, 4 a step
// that does not fit where --require-fit (or --require-margin) asks that it does.
#pragma once

namespace hcpsim {

constexpr int kExitOk = 0;
constexpr int kExitInternal = 1;
constexpr int kExitInvalidInput = 2;
constexpr int kExitDoesNotFit = 4;

int cli_main(int argc, char** argv);

}  // namespace hcpsim

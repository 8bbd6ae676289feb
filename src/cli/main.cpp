// hcpsim command-line entry point; the commands live in cli_*.cpp.
#include "cli/cli.hpp"

int main(int argc, char** argv) { return hcpsim::cli_main(argc, argv); }

#include "simulator/cli.hpp"

#include <CLI/CLI.hpp>
#include <iostream>

namespace hcpsim {

int cli_main(int argc, char** argv) {
  CLI::App app{"hcpsim: simulate context-parallel attention on a modelled GPU cluster"};
  app.set_version_flag("--version", HCPSIM_VERSION);
  CLI11_PARSE(app, argc, argv);
  std::cout << "hcpsim " << HCPSIM_VERSION << "\n";
  return kExitOk;
}

}  // namespace hcpsim

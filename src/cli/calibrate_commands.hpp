// `hcpsim fit` and `hcpsim check` (calibration, issue 6) as CLI11 subcommands, and the
// top-level `--calibration FILE`; cli.cpp registers them with add_calibrate_commands and
// hands over when a subcommand was given.
#pragma once

#include <memory>
#include <vector>

#include "cli/commands.hpp"

namespace CLI {
class App;
}

namespace hcpsim {

class CalibrateCommands {
 public:
  virtual ~CalibrateCommands() = default;
  virtual bool active() const = 0;  // after parsing: was fit or check given?
  virtual int run() = 0;            // exit code: 0 ok, 2 invalid input, 3 check above --max-error
  // The top-level --calibration FILE: checks the file (InputError at "--calibration")
  // and makes every scenario use it, the built-in study's too.
  virtual void apply_to(std::vector<NamedScenario>& inputs) const = 0;
};

std::unique_ptr<CalibrateCommands> add_calibrate_commands(CLI::App& app);

}  // namespace hcpsim

// `hcpsim fit` and `hcpsim check` (calibration, issue 6) as CLI11 subcommands; cli.cpp
// registers them with add_calibrate_commands and hands over when one was given.
#pragma once

#include <memory>

namespace CLI {
class App;
}

namespace hcpsim {

class CalibrateCommands {
 public:
  virtual ~CalibrateCommands() = default;
  virtual bool active() const = 0;  // after parsing: was fit or check given?
  virtual int run() = 0;            // exit code: 0 ok, 2 invalid input, 3 check above --max-error
};

std::unique_ptr<CalibrateCommands> add_calibrate_commands(CLI::App& app);

}  // namespace hcpsim

// `hcpsim collective`: nccl-tests for a modelled cluster (run/collective_sweep.hpp). cli.cpp
// registers it with add_collective_command and hands over when it was given.
#pragma once

#include <memory>

namespace CLI {
class App;
}

namespace hcpsim {

class CollectiveCommand {
 public:
  virtual ~CollectiveCommand() = default;
  virtual bool active() const = 0;
  virtual int run() = 0;  // 0 ok, 2 invalid input
};

std::unique_ptr<CollectiveCommand> add_collective_command(CLI::App& app);

}  // namespace hcpsim

// An output must not replace an input: hcpsim writes its outputs atomically over whatever the path
// names, so `-o scenario.json` would otherwise replace the scenario it ran.
#include "cli/commands.hpp"
#include "common/diagnostics.hpp"
#include "common/output_file.hpp"

namespace hcpsim {

void check_output_not_input(const std::string& flag, const std::string& path, const std::vector<std::string>& inputs) {
  if (path.empty()) return;
  for (const std::string& in : inputs)
    if (same_file(path, in))
      throw InputError({{flag, "\"" + path + "\" is " + (path == in ? "" : "the same file as \"" + in + "\", ") +
                                   "a file this command reads or writes already",
                         "an output must not replace an input or another output",
                         "write it to another file"}});
}

}  // namespace hcpsim

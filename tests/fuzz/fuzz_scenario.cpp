// libFuzzer target: any bytes through the scenario parser and validator.
// The only acceptable outcomes are a valid Scenario or a InputError with at
// least one diagnostic; anything else (a crash, another exception, a sanitizer
// report, an empty error list) is a bug.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/diagnostics.hpp"
#include "scenario/parse.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  hcpsim::ParseOptions opt;
  opt.base_dir = HCPSIM_SCENARIO_DIR;  // lets "hf_config" reach the shipped example
  try {
    const hcpsim::Scenario sc = hcpsim::parse_scenario_text(
        std::string_view(reinterpret_cast<const char*>(data), size), opt);
    if (sc.parallel.data_parallel_size < 1 || sc.num_microbatches() < 1) std::abort();
  } catch (const hcpsim::InputError& e) {
    if (e.diagnostics().empty()) std::abort();
  }
  return 0;
}

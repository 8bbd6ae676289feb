// hcpcal's cp-suite flags (--cp-transports, --hcp, --cp-pass): parsed values, defaults, and
// a message naming the flag for each kind of bad value.
#include <catch2/catch.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "calibrate/hcpcal/options.h"

namespace {

hcpcal::Options parse_cp(std::vector<std::string> args) {
  args.insert(args.begin(), "hcpcal");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return hcpcal::parse_options(int(argv.size()), argv.data());
}

std::string error_of(std::vector<std::string> args) {
  try {
    parse_cp(std::move(args));
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("hcpcal cp flags: transports, HCP splits and passes", "[calibrate]") {
  const auto d = parse_cp({});
  CHECK(d.cp_transports == std::vector<std::string>{"p2p", "all_gather", "a2a", "a2a+p2p"});
  CHECK(d.hcp == std::vector<std::pair<int, int>>{{2, 2}, {2, 4}, {4, 2}});
  CHECK(d.cp_passes == std::vector<std::string>{"fwd", "bwd"});

  const auto o = parse_cp({"--cp-transports", "a2a+p2p,p2p", "--hcp", "4x2,2x8", "--cp-pass", "bwd", "--cp-seq", "32768"});
  CHECK(o.cp_transports == std::vector<std::string>{"a2a+p2p", "p2p"});
  CHECK(o.hcp == std::vector<std::pair<int, int>>{{4, 2}, {2, 8}});
  CHECK(o.cp_passes == std::vector<std::string>{"bwd"});
}

TEST_CASE("hcpcal cp flags: bad values name the flag and the rule", "[calibrate]") {
  CHECK(error_of({"--cp-transports", "allgather"}).find("--cp-transports: unknown transport 'allgather'") == 0);
  CHECK(error_of({"--hcp", "2by4"}).find("--hcp: '2by4' is not AxP") == 0);
  CHECK(error_of({"--hcp", "1x4"}).find("--hcp: '1' is not an integer >= 2") == 0);
  CHECK(error_of({"--cp-pass", "fwd,both"}).find("--cp-pass: unknown pass 'both'") == 0);
  // 2 x (4 x 4) = 32 does not divide 16400 (DualChunkSwap needs 2 chunks per rank).
  CHECK(error_of({"--cp-ranks", "2", "--cp-seq", "16400", "--hcp", "4x4"}).find("(--hcp 4x4)") != std::string::npos);
  CHECK(error_of({"--cp-ranks", "2", "--cp-seq", "16384", "--hcp", "4x4"}).empty());
}

// hcpcal's host logic without a GPU: its flags, and its measurements.json writer read back
// by hcpsim's reader (the two sides of the schema must agree).
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "calibrate/hcpcal/options.h"
#include "calibrate/hcpcal/results.h"
#include "fit/measurements.hpp"

namespace {

hcpcal::Options parse(std::vector<std::string> args) {
  args.insert(args.begin(), "hcpcal");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return hcpcal::parse_options(int(argv.size()), argv.data());
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("hcpcal flags follow nccl-tests: sizes with suffixes, short and long forms", "[calibrate]") {
  const auto o = parse({"-b", "64K", "--maxbytes", "2G", "-f", "2", "-n", "7", "-w", "0", "-c", "0", "--suite",
                        "copy,cp", "--cp-ranks", "2,4", "--cp-seq", "8192", "--gemm", "128,256,512;1,2,3"});
  CHECK(o.min_bytes == 64 * 1024);
  CHECK(o.max_bytes == 2LL << 30);
  CHECK(o.step_factor == 2);
  CHECK(o.iters == 7);
  CHECK(o.warmup == 0);
  CHECK_FALSE(o.check);
  CHECK(o.suites == std::vector<std::string>{"copy", "cp"});
  CHECK(o.cp_ranks == std::vector<int>{2, 4});
  REQUIRE(o.gemms.size() == 2);
  CHECK(o.gemms[0].n == 256);
  CHECK(o.argv.size() == 21);  // "hcpcal" and 20 arguments
  CHECK(parse({"--seq-factor", "1.5"}).seq_factor == 1.5);
  const auto d = parse({});
  CHECK(d.suites == std::vector<std::string>{"attention", "gemm", "copy", "cp", "nccl", "interference"});
  CHECK(d.check);
}

TEST_CASE("hcpcal warms up by count and by time: the sustained-clock rule", "[calibrate]") {
  const auto d = parse({});
  CHECK(d.warmup == 3);
  CHECK(d.warmup_ms == 500);
  // 500 ms of 1/512 s runs is 0.5 x 512 = 256 runs; of 0.3 s runs, ceil(1.67) = 2, below the
  // count of 3; of 2^-20 s runs, 2^19 (binary fractions, so the quotients are exact).
  CHECK(hcpcal::warmup_runs(d, 1.0 / 512) == 256);
  CHECK(hcpcal::warmup_runs(d, 0.3) == 3);
  CHECK(hcpcal::warmup_runs(d, std::ldexp(1.0, -20)) == 524288);
  CHECK(hcpcal::warmup_runs(d, 1e-9) == 1000000);  // capped
  CHECK(hcpcal::warmup_runs(d, 0.0) == 3);         // no time measured: the count alone
  const auto by_count = parse({"--warmup-ms", "0", "-w", "5"});
  CHECK(by_count.warmup_ms == 0);
  CHECK(hcpcal::warmup_runs(by_count, 1e-6) == 5);
  CHECK(hcpcal::warmup_runs(parse({"--warmup-ms", "2000", "-w", "0"}), 0.7) == 3);  // ceil(2 / 0.7)
}

TEST_CASE("a measured SM clock outside 1 MHz .. 100 GHz is an error naming the record", "[calibrate]") {
  nlohmann::json rec = {{"kind", "copy"}, {"config", {{"bytes", 1 << 20}}}, {"median_s", 1e-5}, {"sm_clock_mhz", -3}};
  const nlohmann::json file = {{"format", "hcpsim-measurements/1"}, {"complete", true},
                               {"environment", {{"gpu_model", "NVIDIA H200"}}}, {"measurements", {rec}}};
  try {
    hcpsim::parse_measurements_text(file.dump(), "m.json");
    FAIL("no error");
  } catch (const std::exception& e) {
    CHECK(std::string(e.what()).find("measurements[0].sm_clock_mhz") != std::string::npos);
  }
}

TEST_CASE("hcpcal rejects bad flags with the flag in the message", "[calibrate]") {
  auto message = [](std::vector<std::string> args) {
    try {
      parse(std::move(args));
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(message({"--suite", "nccls"}).find("unknown suite 'nccls'") != std::string::npos);
  CHECK(message({"-g", "0"}).find("-g: '0' is not an integer >= 1") != std::string::npos);
  CHECK(message({"-n", "0"}).find("-n: '0' is not an integer >= 1") != std::string::npos);
  CHECK(message({"--cp-seq", "1000", "--cp-ranks", "8"}).find("not a multiple of 2 x 8") != std::string::npos);
  CHECK(message({"--heads-kv", "5"}).find("does not divide 32") != std::string::npos);
  CHECK(message({"--gemm", "1,2"}).find("is not m,n,k") != std::string::npos);
  CHECK(message({"-b", "2G", "-e", "1G"}).find("-b is larger than -e") != std::string::npos);
  CHECK(message({"--seq-factor", "1.0"}).find("not a number in [1.1, 16]") != std::string::npos);
  CHECK(message({"--bogus", "1"}).find("unknown flag '--bogus'") != std::string::npos);
}

TEST_CASE("measurements hcpcal writes are read back by hcpsim, after every row", "[calibrate]") {
  const auto path = (std::filesystem::temp_directory_path() / "hcpsim_test_measurements.json").string();
  hcpcal::MeasurementLog log(path, {"hcpcal", "-n", "3"}, R"({"gpu_model": "NVIDIA H200", "l2_bytes": 62914560})");
  hcpcal::Record a;
  a.kind = "attention";
  a.backend = "hcpsim-flash";
  a.config = {{"name", hcpcal::json_string("s1024")}, {"pass", hcpcal::json_string("bwd")}, {"batch", "1"},
              {"sq", "1024"}, {"skv", "2048"}, {"heads_q", "32"}, {"heads_kv", "8"}, {"head_dim", "128"},
              {"mask", hcpcal::json_string("none")}};
  a.iterations = 3;
  a.median_s = 2e-4, a.min_s = 1e-4, a.max_s = 3e-4;
  a.sm_clock_mhz = 1845.5;
  a.checked = true;
  log.add(a);
  // An interrupted run: the file holds the finished row and says it is incomplete.
  hcpsim::MeasurementSet part = hcpsim::parse_measurements_text(slurp(path), path);
  CHECK_FALSE(part.complete);
  REQUIRE(part.items.size() == 1);
  CHECK(part.items[0].attention.skv == 2048);
  CHECK(part.items[0].attention.backward);
  CHECK(part.items[0].sm_clock_mhz == 1845.5);

  hcpcal::Record cp = a;
  cp.kind = "cp_attention";
  cp.config = {{"transport", hcpcal::json_string("p2p")}, {"pass", hcpcal::json_string("fwd")}, {"ranks", "2"},
               {"seq", "4096"}, {"heads_q", "32"}, {"heads_kv", "8"}, {"head_dim", "128"},
               {"mask", hcpcal::json_string("causal")}};
  cp.results = {{"step_kernel_median_s", "[1e-4, 9e-5]"}};
  cp.sm_clock_mhz = 0;  // not probed: no key written
  log.add(cp);
  log.finish();
  const hcpsim::MeasurementSet all = hcpsim::parse_measurements_text(slurp(path), path);
  CHECK(all.complete);
  CHECK(all.l2_bytes == 62914560);
  REQUIRE(all.items.size() == 3);  // the CP record expands into its 2 steps
  CHECK(all.items[1].kind == hcpsim::MeasurementKind::CpStep);
  CHECK(all.items[1].attention.sq == 2048);  // 2c, c = 4096 / (2 x 2)
  CHECK(all.items[1].attention.mask == hcpsim::KernelMask::CausalTopLeft);
  CHECK(all.items[2].attention.skv == 1024);
  CHECK(all.items[2].median_s == 9e-5);
  CHECK(all.items[2].sm_clock_mhz == 0);
  CHECK(slurp(path).find("\"sm_clock_mhz\": 1845.5") != std::string::npos);
  std::filesystem::remove(path);
}

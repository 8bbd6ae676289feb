// The sweep's results log: rows appended one line each survive; a torn last
// line (a crash mid-write) is dropped on reading, the rest kept.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "sweep/state.hpp"

using namespace hcpsim;
using nlohmann::json;

namespace {

std::string temp_dir() {
  const auto p = std::filesystem::temp_directory_path() / ("hcpsim-sweep-state-" + std::to_string(::getpid()));
  std::filesystem::remove_all(p);
  return p.string();
}

}  // namespace

TEST_CASE("sweep state: appended rows are read back, a torn line is dropped", "[sweep]") {
  const std::string dir = temp_dir() + "/nested";
  const SweepState s = open_sweep_state(dir);
  reset_results(s);
  CHECK(load_results(s).empty());
  append_result(s, {{"key", "a"}, {"status", "ok"}, {"x", 1}});
  append_result(s, {{"key", "b"}, {"status", "failed"}});
  {
    std::ofstream torn(s.results_path(), std::ios::app);
    torn << R"({"key": "c", "status": "o)";  // the process died here
  }
  const auto rows = load_results(s);
  REQUIRE(rows.size() == 2);
  CHECK(rows.at("a")["x"] == 1);
  CHECK(rows.at("b")["status"] == "failed");
  // The log was rewritten without the torn line, so appending continues cleanly.
  append_result(s, {{"key", "c"}, {"status", "ok"}});
  CHECK(load_results(s).size() == 3);
  reset_results(s);
  CHECK(load_results(s).empty());
  std::filesystem::remove_all(std::filesystem::path(dir).parent_path());
}

TEST_CASE("sweep state: a folder that cannot be made is an output error", "[sweep]") {
  CHECK_THROWS(open_sweep_state("/proc/hcpsim-no-such-folder/x"));
}

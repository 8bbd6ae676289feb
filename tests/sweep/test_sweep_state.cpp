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

TEST_CASE("sweep state: appended rows are read back, a torn line is set aside", "[sweep]") {
  const std::string dir = temp_dir() + "/nested";
  const SweepState s = open_sweep_state(dir);
  reset_results(s);
  int64_t set_aside = 0;
  CHECK(load_results(s, set_aside).empty());
  append_result(s, {{"key", "a"}, {"digest", "1"}, {"status", "ok"}, {"x", 1}});
  append_result(s, {{"key", "b"}, {"digest", "2"}, {"status", "failed"}});
  {
    std::ofstream torn(s.results_path(), std::ios::app);
    torn << R"({"key": "c", "status": "o)";  // the process died here
  }
  const auto rows = load_results(s, set_aside);
  REQUIRE(rows.size() == 2);
  CHECK(rows.at("a")["x"] == 1);
  CHECK(rows.at("b")["status"] == "failed");
  CHECK(set_aside == 1);  // the torn line, now the previous log's first
  // The log was rewritten without the torn line, so appending continues cleanly.
  append_result(s, {{"key", "c"}, {"digest", "3"}, {"status", "ok"}});
  CHECK(load_results(s, set_aside).size() == 3);
  CHECK(set_aside == 1);
  // A fresh sweep over the folder keeps its three results as the previous log, not lost.
  CHECK(reset_results(s) == 3);
  CHECK(load_results(s, set_aside).empty());
  std::ifstream previous(s.previous_path());
  int64_t lines = 0;
  for (std::string line; std::getline(previous, line);) ++lines;
  CHECK(lines == 1 + 3);
  CHECK(reset_results(s) == 0);  // an empty log leaves the previous one as it was
  CHECK(std::filesystem::file_size(s.previous_path()) > 0);
  // A later run's results go after the earlier ones': 3 + 1 lines, none replaced.
  append_result(s, {{"key", "d"}, {"digest", "4"}, {"status", "ok"}});
  CHECK(reset_results(s) == 1);
  std::ifstream both(s.previous_path());
  lines = 0;
  for (std::string line; std::getline(both, line);) ++lines;
  CHECK(lines == 1 + 4);
  std::filesystem::remove_all(std::filesystem::path(dir).parent_path());
}

TEST_CASE("sweep state: a line edited into another shape is set aside, not an error", "[sweep]") {
  // Each of these once made --resume end in an internal error (a key that is no string) or a
  // crash (a row nested 100000 levels deep, printed back); now each is a row to simulate again.
  const std::string dir = temp_dir() + "/edited";
  const SweepState s = open_sweep_state(dir);
  reset_results(s);
  append_result(s, {{"key", "kept"}, {"digest", "d"}, {"status", "ok"}});
  {
    std::ofstream edited(s.results_path(), std::ios::app);
    edited << R"({"key": 5, "digest": "d", "status": "ok"})" << "\n"
           << R"({"key": "k2", "digest": 7, "status": "ok"})" << "\n"
           << R"({"key": "k3", "digest": "d", "status": null})" << "\n"
           << R"({"key": "k4", "key": "k5", "digest": "d", "status": "ok"})" << "\n"
           << R"({"key": "k6", "digest": "d", "status": "ok", "x": )" << std::string(100000, '[')
           << std::string(100000, ']') << "}\n"
           << "[1, 2]\n";
  }
  std::map<std::string, json> rows;
  int64_t set_aside = 0;
  REQUIRE_NOTHROW(rows = load_results(s, set_aside));
  REQUIRE(rows.size() == 1);
  CHECK(rows.count("kept") == 1);
  CHECK(set_aside == 6);  // kept in the previous log, not lost
  CHECK(std::filesystem::file_size(s.previous_path()) > 200000);
  std::filesystem::remove_all(std::filesystem::path(dir).parent_path());
}

TEST_CASE("sweep state: a folder that cannot be made is an output error", "[sweep]") {
  CHECK_THROWS(open_sweep_state("/proc/hcpsim-no-such-folder/x"));
}

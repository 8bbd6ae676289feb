#include "sweep/state.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "common/json_text.hpp"
#include "common/output_file.hpp"

namespace hcpsim {

SweepState open_sweep_state(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir))
    throw OutputFileError("cannot create the state folder \"" + dir + "\": " + (ec ? ec.message() : "not a folder"));
  SweepState s{dir};
  check_writable(s.results_path());
  return s;
}

int64_t reset_results(const SweepState& s) {
  int64_t lines = 0;
  {
    std::ifstream in(s.results_path());
    for (std::string line; std::getline(in, line);) lines += line.empty() ? 0 : 1;
  }
  if (lines > 0) {  // appended after any earlier runs' (no run's results are lost to a later one)
    std::ifstream current(s.results_path());
    std::ofstream previous(s.previous_path(), std::ios::app | std::ios::binary);
    previous << current.rdbuf();
    previous.flush();
    if (!previous)
      throw OutputFileError("cannot append \"" + s.results_path() + "\" to \"" + s.previous_path() + "\"");
  }
  write_file_atomically(s.results_path(), "");
  return lines;
}

std::map<std::string, nlohmann::json> load_results(const SweepState& s, int64_t& set_aside) {
  std::map<std::string, nlohmann::json> rows;
  std::ifstream in(s.results_path());
  if (!in) return rows;
  std::string line, kept, unread;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const bool complete = !in.eof();  // a last line without its newline was torn
    // A line is a result only where it is an object whose key, digest and status are strings (as
    // append_result writes them); any other (torn, edited, nested too deep) is simulated again.
    DiagnosticSink unreadable;
    const std::optional<nlohmann::json> row = complete ? parse_json_text(line, s.results_path(), "", unreadable) : std::nullopt;
    const auto is_string = [&row](const char* k) { return row->contains(k) && (*row)[k].is_string(); };
    if (!row || !row->is_object() || !is_string("key") || !is_string("digest") || !is_string("status")) {
      unread += line + "\n";
      ++set_aside;
      continue;
    }
    rows[(*row)["key"].get<std::string>()] = *row;
    kept += line + "\n";
  }
  if (!unread.empty()) {  // kept beside earlier runs' results, not lost with the rewrite
    std::ofstream previous(s.previous_path(), std::ios::app | std::ios::binary);
    previous << unread;
    previous.flush();
    if (!previous) throw OutputFileError("cannot append to \"" + s.previous_path() + "\"");
    write_file_atomically(s.results_path(), kept);
  }
  return rows;
}

void append_result(const SweepState& s, const nlohmann::json& row) {
  const std::string line = row.dump() + "\n";
  const int fd = ::open(s.results_path().c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw OutputFileError("cannot append to \"" + s.results_path() + "\": " + std::strerror(errno));
  size_t off = 0;
  while (off < line.size()) {
    const ssize_t n = ::write(fd, line.data() + off, line.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int e = errno;
      ::close(fd);
      throw OutputFileError("cannot append to \"" + s.results_path() + "\": " + std::strerror(e));
    }
    off += static_cast<size_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
}

}  // namespace hcpsim

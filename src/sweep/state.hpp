// The sweep's record of finished simulations: DIR/results.jsonl, one JSON
// object per line, appended (one write, then fsync) as each simulation
// finishes, so an interrupted sweep keeps every finished result and --resume
// continues it. A line torn by a crash is dropped when the log is read.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>

namespace hcpsim {

struct SweepState {
  std::string dir;
  std::string results_path() const { return dir + "/results.jsonl"; }
  std::string previous_path() const { return dir + "/results.previous.jsonl"; }
};

// Creates the folder if needed (throws OutputFileError when it cannot).
SweepState open_sweep_state(const std::string& dir);

// Starts an empty log (a fresh sweep). A log that holds lines is kept at the end of previous_path()
// (after the runs before it), not lost: the lines it held are returned, 0 where there were none.
int64_t reset_results(const SweepState& s);

// Rows by "key"; lines that are not a result (a torn last write, an edited line) are appended to
// the previous log, their count to `set_aside`, and the log is rewritten without them.
std::map<std::string, nlohmann::json> load_results(const SweepState& s, int64_t& set_aside);

// Appends one row as one line.
void append_result(const SweepState& s, const nlohmann::json& row);

}  // namespace hcpsim

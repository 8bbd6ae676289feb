// The measurements hcpcal has finished, written to measurements.json after every one
// (temporary file + rename), so an interrupted run keeps what it finished.
// Schema (format "hcpsim-measurements/1"; read by calibrate/measurements.cpp):
//   { "format", "tool", "argv": [..], "complete": bool,
//     "environment": { "hostname", "gpu_model", "gpu_count", "compute_capability", "sm_count",
//                      "l2_bytes", "driver", "cuda_runtime", "cublas", "nccl", "cudnn", "topology" },
//     "measurements": [ { "kind": "attention"|"gemm"|"copy", "backend", "config": {..},
//                         "iterations", "median_s", "min_s", "max_s",
//                         "check": { "done": bool, "wrong": N }, "results": {..} (optional) } ] }
#pragma once
#include <string>
#include <utility>
#include <vector>

namespace hcpcal {

// A JSON value written as text: numbers and strings are formatted by the helpers below.
std::string json_string(const std::string& s);
std::string json_number(double v);

struct Record {
  std::string kind;     // attention | gemm | copy
  std::string backend;  // hcpsim-flash | cublas | cudaMemcpy
  std::vector<std::pair<std::string, std::string>> config;  // key -> JSON text
  int iterations = 0;
  double median_s = 0, min_s = 0, max_s = 0;
  bool checked = false;
  long long wrong = 0;
  std::vector<std::pair<std::string, std::string>> results;  // extra results (key -> JSON text), e.g. per-step times
};

class MeasurementLog {
 public:
  // `environment` is a JSON object's text; the file is written at once (no measurements yet).
  MeasurementLog(std::string path, std::vector<std::string> argv, std::string environment);
  void add(Record r);        // appends and rewrites the file
  void finish();             // marks the file complete
  long long total_wrong() const;

 private:
  void write(bool complete) const;
  std::string path_;
  std::vector<std::string> argv_;
  std::string environment_;
  std::vector<Record> records_;
};

// Writes `text` to `path` through `path.tmp` and a rename; throws std::runtime_error on failure.
void write_atomically(const std::string& path, const std::string& text);

}  // namespace hcpcal

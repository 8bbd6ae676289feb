// The measurements hcpcal has finished, written to measurements.json after every one
// (temporary file + rename), so an interrupted run keeps what it finished.
// Schema (format "hcpsim-measurements/1"; read by fit/measurements.cpp):
//   { "format", "tool", "argv": [..], "complete": bool,
//     "environment": { "hostname", "gpu_model", "gpu_count", "compute_capability", "sm_count",
//                      "l2_bytes", "driver", "cuda_runtime", "cublas", "nccl", "cudnn", "topology" },
//     "measurements": [ { "kind": "attention"|"gemm"|"copy", "backend", "config": {..},
//                         "iterations", "median_s", "min_s", "max_s",
//                         "check": { "done": bool, "wrong": N }, "results": {..} (optional) } ] }
// kind "cp_attention" (suite cp; suite_cp.cu, cp_attention.h): one record per transport, CP
// size and pass.
//   config: transport "p2p"|"all_gather"|"a2a"|"a2a+p2p", pass "fwd"|"bwd", ranks R,
//           hcp [A, P] (a2a+p2p only; A the inner a2a size), seq (whole sequence S), batch 1,
//           heads_q, heads_kv, head_dim, mask "causal", format "bshd", launch "virtual"|"nccl".
//   median_s/min_s/max_s: the whole pass of all ranks, first op to last (CUDA events).
//   check: forward output, backward dQ/dK/dV of every rank against single-GPU attention.
//   results.kernels: [{ "rank", "label", "median_s", "min_s", "max_s" }]: every attention
//           kernel of every rank, labelled as hcpsim's workload builder names the op
//           (attn.{fwd,bwd}.step{i}.{diag,lower,upper} for p2p and a2a+p2p,
//           attn.{fwd,bwd}.chunk{id} for all_gather, attn.{fwd,bwd}.kernel for a2a).
//   results.peak_bytes: per rank, its memory pool's cudaMemPoolAttrUsedMemHigh over the pass.
//           Scope: fwd = the rank's inputs q, k, v (L = S/R tokens each, bf16) + everything
//           the pass allocates, at the point TE allocates it and freed where TE drops it
//           (docs/cp-transports.md §2.2, §3, §4, §6) + its outputs o and lse (and what TE saves for
//           backward, alive when forward returns). bwd = its inputs, the tensors TE saved in
//           forward (q, the K/V the first step uses, o, lse; a2a/a2a+p2p: the post-a2a ones,
//           same sizes; p2p: K/V as one packed [K | V] buffer) + dO + everything the pass
//           allocates (the flash backward's workspace too) + the outputs dq, dk, dv (p2p:
//           dk/dv are views into the last [KV | dKV] ring buffer, which stays allocated).
//           The pool counts requested bytes (a 1-byte allocation reads as 1 byte on the H200,
//           printed in the log's cp header), so no granularity is recorded.
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
  double sm_clock_mhz = 0;  // the SM clock the timed runs ended at; 0: not probed (not written)
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

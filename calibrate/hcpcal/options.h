// hcpcal's command line, in the manner of nccl-tests: short and long forms, sizes with
// K/M/G suffixes, every flag with a default (printed by --help).
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace hcpcal {

struct GemmShape {
  int64_t m = 0, n = 0, k = 0;  // C[m,n] = A[m,k] B[k,n], row-major
};

struct Options {
  int64_t min_bytes = 1 << 20;        // -b: copy and nccl suites, smallest buffer (bytes)
  int64_t max_bytes = 1LL << 30;      // -e: largest buffer (bytes)
  double step_factor = 4;             // -f: multiply the size by this each step
  int64_t min_seq = 1024;             // --seq-min: attention, shortest sq/skv (tokens)
  int64_t max_seq = 32768;            // --seq-max: longest sq/skv (tokens)
  double seq_factor = 2;              // --seq-factor: length multiplier per step (e.g. 1.5 for a denser grid)
  std::vector<int> heads_kv = {32, 8};  // --heads-kv: KV head counts (32 query heads, head dim 128)
  int iters = 10;                     // -n: timed iterations per measurement
  int warmup = 3;                     // -w: untimed iterations before them
  double warmup_ms = 500;             // --warmup-ms: and at least this long (ms) of them, so that the timed
                                      // iterations see the clock the GPU sustains under load (power capping)
  bool check = true;                  // -c 0|1: check results (the #wrong column)
  std::string out = "measurements.json";  // --out
  std::vector<std::string> suites = {"attention", "gemm", "copy", "cp", "nccl", "interference"};  // --suite
  int gpus = 1;                       // -g: GPUs this process drives (nccl-tests' -g)
  std::vector<GemmShape> gemms;       // --gemm m,n,k[;m,n,k...]; empty: Llama-3.1-8B layer shapes
  std::vector<int64_t> gemm_tokens = {4096, 8192, 16384};  // --gemm-tokens: token counts of the built-in list
  std::vector<int> cp_ranks = {2, 4, 8};  // --cp-ranks: virtual ranks of the CP suite
  int64_t cp_seq = 16384;             // --cp-seq: whole sequence of the CP suite (tokens)
  std::vector<std::string> cp_transports = {"p2p", "all_gather", "a2a", "a2a+p2p"};  // --cp-transports
  std::vector<std::pair<int, int>> hcp = {{2, 2}, {2, 4}, {4, 2}};  // --hcp AxP: a2a+p2p splits (CP = A*P)
  std::vector<std::string> cp_passes = {"fwd", "bwd"};  // --cp-pass
  std::vector<std::string> argv;      // as given, recorded in measurements.json
  bool help = false;
};

// Throws std::invalid_argument with a message naming the flag on a bad value.
Options parse_options(int argc, char** argv);
std::string usage();
// "64M" -> 67108864; plain numbers are bytes.
int64_t parse_size(const std::string& text);
bool wants(const Options& o, const std::string& suite);

// Untimed runs before the timed ones: at least o.warmup, and enough runs of `first_run_s`
// seconds each (the first, untimed run, counted among them) to fill o.warmup_ms. A GPU at
// its power limit lowers its clock only after a sustained load (on the H200 the forward
// attention kernels run 6-9% slower after half a second than in the first milliseconds,
// RESULTS.md): a training step runs in that state, so the calibration measures it.
int warmup_runs(const Options& o, double first_run_s);

}  // namespace hcpcal

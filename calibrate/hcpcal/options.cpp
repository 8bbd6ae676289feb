#include "options.h"

#include "rules/nccl_tests_size.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

namespace hcpcal {

namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, sep))
    if (!item.empty()) out.push_back(item);
  return out;
}

int64_t parse_int(const std::string& flag, const std::string& text, int64_t min) {
  size_t used = 0;
  int64_t v = 0;
  try {
    v = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || v < min)
    throw std::invalid_argument(flag + ": '" + text + "' is not an integer >= " + std::to_string(min));
  return v;
}

double parse_factor(const std::string& flag, const std::string& text) {
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || !(v >= 1.1 && v <= 16))
    throw std::invalid_argument(flag + ": '" + text + "' is not a number in [1.1, 16]");
  return v;
}

std::vector<GemmShape> parse_gemms(const std::string& text) {
  std::vector<GemmShape> out;
  for (const auto& item : split(text, ';')) {
    const auto f = split(item, ',');
    if (f.size() != 3) throw std::invalid_argument("--gemm: '" + item + "' is not m,n,k");
    out.push_back({parse_int("--gemm", f[0], 1), parse_int("--gemm", f[1], 1), parse_int("--gemm", f[2], 1)});
  }
  return out;
}

}  // namespace

int64_t parse_size(const std::string& text) {
  const std::optional<int64_t> bytes = hcpsim::parse_nccl_tests_size(text);
  if (!bytes) throw std::invalid_argument("size: '" + text + "' is not a whole number of bytes >= 1 with an optional K, M or G");
  return *bytes;
}

bool wants(const Options& o, const std::string& suite) {
  for (const auto& s : o.suites)
    if (s == suite) return true;
  return false;
}

int warmup_runs(const Options& o, double first_run_s) {
  constexpr double kMaxRuns = 1e6;  // a 1-us kernel fills 500 ms with 5e5 runs
  if (!(o.warmup_ms > 0) || !(first_run_s > 0)) return o.warmup;
  const double runs = std::ceil(o.warmup_ms * 1e-3 / first_run_s);
  return std::max(o.warmup, int(std::min(runs, kMaxRuns)));
}

std::string usage() {
  return "usage: hcpcal [options]\n"
         "  -b,--minbytes SIZE     copy and nccl suites: smallest buffer (default 1M)\n"
         "  -e,--maxbytes SIZE     copy and nccl suites: largest buffer (default 1G)\n"
         "  -f,--stepfactor F      size multiplier per step (default 4)\n"
         "  --seq-min N            attention: shortest sq/skv (default 1024)\n"
         "  --seq-max N            attention: longest sq/skv (default 32768)\n"
         "  --seq-factor F         attention: length step, rounded to 128 tokens (default 2)\n"
         "  --heads-kv A,B         attention: KV head counts, 32 query heads (default 32,8)\n"
         "  --gemm m,n,k[;m,n,k]   GEMM shapes (default: Llama-3.1-8B layer at --gemm-tokens)\n"
         "  --gemm-tokens A,B      token counts of the built-in GEMM list (default 4096,8192,16384)\n"
         "  -n,--iters N           timed iterations (default 10)\n"
         "  -w,--warmup_iters N    warm-up iterations (default 3)\n"
         "  --warmup-ms MS         and at least MS ms of warm-up, for the GPU's sustained clock (default 500; 0: by count)\n"
         "  -c,--check 0|1         check results, #wrong column (default 1)\n"
         "  --cp-ranks A,B         cp suite: CP sizes (one process, one GPU: virtual ranks; under mpirun/-g N: the world size) (default 2,4,8)\n"
         "  --cp-seq N             cp suite: whole sequence, tokens (default 16384)\n"
         "  --cp-transports LIST   cp suite: p2p,all_gather,a2a,a2a+p2p (default all four)\n"
         "  --hcp AxP[,AxP]        cp suite, a2a+p2p: inner a2a x outer p2p sizes, CP = A*P (default 2x2,2x4,4x2)\n"
         "  --cp-pass LIST         cp suite: fwd,bwd (default both)\n"
         "  --suite LIST           attention,gemm,copy,cp,nccl,interference (default all)\n"
         "  -g,--gpus N            GPUs this process drives (default 1); one process per GPU under\n"
         "                         mpirun/srun (NCCL bootstrapped over MPI), or one process with -g N\n"
         "  --out FILE             measurements JSON, written atomically after each row (default measurements.json)\n";
}

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 0; i < argc; ++i) o.argv.emplace_back(argv[i]);
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "-h" || flag == "--help") {
      o.help = true;
      continue;
    }
    if (i + 1 >= argc) throw std::invalid_argument(flag + ": missing value (or unknown flag)");
    const std::string v = argv[++i];
    if (flag == "-b" || flag == "--minbytes") o.min_bytes = parse_size(v);
    else if (flag == "-e" || flag == "--maxbytes") o.max_bytes = parse_size(v);
    else if (flag == "-f" || flag == "--stepfactor") o.step_factor = double(parse_int(flag, v, 2));
    else if (flag == "--seq-min") o.min_seq = parse_int(flag, v, 128);
    else if (flag == "--seq-max") o.max_seq = parse_int(flag, v, 128);
    else if (flag == "--seq-factor") o.seq_factor = parse_factor(flag, v);
    else if (flag == "-n" || flag == "--iters") o.iters = int(parse_int(flag, v, 1));
    else if (flag == "-w" || flag == "--warmup_iters") o.warmup = int(parse_int(flag, v, 0));
    else if (flag == "--warmup-ms") o.warmup_ms = double(parse_int(flag, v, 0));
    else if (flag == "-c" || flag == "--check") o.check = parse_int(flag, v, 0) != 0;
    else if (flag == "--out") o.out = v;
    else if (flag == "--suite") o.suites = split(v, ',');
    else if (flag == "-g" || flag == "--gpus") o.gpus = int(parse_int(flag, v, 1));
    else if (flag == "--gemm") o.gemms = parse_gemms(v);
    else if (flag == "--gemm-tokens") {
      o.gemm_tokens.clear();
      for (const auto& t : split(v, ',')) o.gemm_tokens.push_back(parse_int(flag, t, 1));
    } else if (flag == "--cp-ranks") {
      o.cp_ranks.clear();
      for (const auto& t : split(v, ',')) o.cp_ranks.push_back(int(parse_int(flag, t, 1)));
    } else if (flag == "--cp-transports") {
      o.cp_transports = split(v, ',');
      for (const auto& t : o.cp_transports)
        if (t != "p2p" && t != "all_gather" && t != "a2a" && t != "a2a+p2p")
          throw std::invalid_argument("--cp-transports: unknown transport '" + t + "' (p2p, all_gather, a2a, a2a+p2p)");
    } else if (flag == "--hcp") {
      o.hcp.clear();
      for (const auto& t : split(v, ',')) {
        const auto ap = split(t, 'x');
        if (ap.size() != 2) throw std::invalid_argument("--hcp: '" + t + "' is not AxP (e.g. 2x4)");
        o.hcp.emplace_back(int(parse_int(flag, ap[0], 2)), int(parse_int(flag, ap[1], 2)));
      }
    } else if (flag == "--cp-pass") {
      o.cp_passes = split(v, ',');
      for (const auto& p : o.cp_passes)
        if (p != "fwd" && p != "bwd") throw std::invalid_argument("--cp-pass: unknown pass '" + p + "' (fwd, bwd)");
    } else if (flag == "--cp-seq") {
      o.cp_seq = parse_int(flag, v, 256);
    } else if (flag == "--heads-kv") {
      o.heads_kv.clear();
      for (const auto& t : split(v, ',')) o.heads_kv.push_back(int(parse_int(flag, t, 1)));
    } else {
      throw std::invalid_argument("unknown flag '" + flag + "'");
    }
  }
  for (const auto& s : o.suites)
    if (s != "attention" && s != "gemm" && s != "copy" && s != "cp" && s != "nccl" && s != "interference")
      throw std::invalid_argument("--suite: unknown suite '" + s + "' (attention, gemm, copy, cp, nccl, interference)");
  for (int r : o.cp_ranks)
    if (o.cp_seq % (2 * r) != 0)
      throw std::invalid_argument("--cp-seq " + std::to_string(o.cp_seq) + " is not a multiple of 2 x " +
                                  std::to_string(r) + " ranks");
  for (const auto& [a, p] : o.hcp)
    if (o.cp_seq % (2 * a * p) != 0)
      throw std::invalid_argument("--cp-seq " + std::to_string(o.cp_seq) + " is not a multiple of 2 x " +
                                  std::to_string(a * p) + " ranks (--hcp " + std::to_string(a) + "x" +
                                  std::to_string(p) + ")");
  if (o.min_bytes > o.max_bytes) throw std::invalid_argument("-b is larger than -e");
  if (o.min_seq > o.max_seq) throw std::invalid_argument("--seq-min is larger than --seq-max");
  for (int hk : o.heads_kv)
    if (32 % hk != 0) throw std::invalid_argument("--heads-kv: " + std::to_string(hk) + " does not divide 32");
  return o;
}

}  // namespace hcpcal

// The benchmark's shape list, shared in spirit with sdpa_bench.py (same names, same order):
// head dim 128, 32 query heads, 8 and 32 KV heads, sq = skv in {2K..32K} causal and not,
// plus the CP lower (2c x c) and upper (c x 2c) step shapes without a mask.
#pragma once
#include <string>
#include <vector>

namespace hcpsim::bench {

struct BenchShape {
  std::string name;
  int seqlen_q, seqlen_kv, heads_q, heads_kv, head_dim;
  bool causal;
};

inline std::vector<BenchShape> bench_shapes() {
  std::vector<BenchShape> out;
  for (int hk : {32, 8}) {
    for (int s : {2048, 4096, 8192, 16384, 32768}) {
      for (bool causal : {false, true}) {
        out.push_back({"s" + std::to_string(s) + (causal ? "_causal" : "_full") + "_hk" + std::to_string(hk), s, s, 32,
                       hk, 128, causal});
      }
    }
    for (int s : {8192, 16384}) {
      out.push_back({"s" + std::to_string(s) + "_lower_hk" + std::to_string(hk), s, s / 2, 32, hk, 128, false});
      out.push_back({"s" + std::to_string(s) + "_upper_hk" + std::to_string(hk), s / 2, s, 32, hk, 128, false});
    }
  }
  return out;
}

// FLOPs convention of docs/cost-model.md: 4*h*sq*skv*d forward (halved when causal), 2.5x backward.
inline double fwd_flops(const BenchShape& s) {
  return 4.0 * s.heads_q * s.seqlen_q * static_cast<double>(s.seqlen_kv) * s.head_dim * (s.causal ? 0.5 : 1.0);
}
inline double bwd_flops(const BenchShape& s) { return 2.5 * fwd_flops(s); }

}  // namespace hcpsim::bench

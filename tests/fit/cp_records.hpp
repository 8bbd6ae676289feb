// Synthetic cp_attention, collective and interference records (the agreed measurements.json
// formats) whose expected values the tests derive by hand.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace hcpsim::test {

// Attention-kernel labels of CP rank r, written from docs/cp-transports.md, not from the builder:
//  p2p ring of n, ring rank p (§2.2, §2.5): forward step 0 diagonal, steps 1..p lower (KV of
//  a lower rank), p+1..n-1 upper; backward step i = forward step n-1-i: n-1 diagonal,
//  i >= n-1-p lower, the rest upper.  all_gather (§3): one kernel per local Q chunk, chunks r
//  and 2R-1-r.  a2a (§4): one kernel.  a2a+p2p [A, P] (§5): the p2p ring of P, ring rank
//  r div A (§5.3).
inline std::vector<std::string> expected_cp_labels(const std::string& transport, int ranks, int a2a, int r, bool bwd) {
  const std::string pass = bwd ? "bwd" : "fwd";
  std::vector<std::string> out;
  if (transport == "a2a") return {"attn." + pass + ".kernel"};
  if (transport == "all_gather")
    return {"attn." + pass + ".chunk" + std::to_string(r), "attn." + pass + ".chunk" + std::to_string(2 * ranks - 1 - r)};
  const int n = transport == "a2a+p2p" ? ranks / a2a : ranks;
  const int p = transport == "a2a+p2p" ? r / a2a : r;
  for (int i = 0; i < n; ++i) {
    std::string sec;
    if (!bwd) sec = i == 0 ? "diag" : (i <= p ? "lower" : "upper");
    else sec = i == n - 1 ? "diag" : (i >= n - 1 - p ? "lower" : "upper");
    out.push_back("attn." + pass + ".step" + std::to_string(i) + "." + sec);
  }
  return out;
}

// A cp_attention record with every kernel at `kernel_s` seconds and the given peaks.
inline nlohmann::json cp_record(const std::string& transport, bool bwd, int ranks, std::vector<int> hcp, int seq,
                                double kernel_s, const std::vector<double>& peaks) {
  nlohmann::json cfg = {{"transport", transport}, {"pass", bwd ? "bwd" : "fwd"}, {"ranks", ranks}, {"seq", seq},
                        {"batch", 1}, {"heads_q", 32}, {"heads_kv", 8}, {"head_dim", 128}, {"mask", "causal"},
                        {"format", "bshd"}, {"launch", "virtual"}};
  if (!hcp.empty()) cfg["hcp"] = hcp;
  nlohmann::json kernels = nlohmann::json::array();
  for (int r = 0; r < ranks; ++r)
    for (const auto& l : expected_cp_labels(transport, ranks, hcp.empty() ? 1 : hcp[0], r, bwd))
      kernels.push_back({{"rank", r}, {"label", l}, {"median_s", kernel_s}, {"min_s", kernel_s}, {"max_s", kernel_s}});
  nlohmann::json rec = {{"kind", "cp_attention"}, {"backend", "synthetic"}, {"config", cfg},
                        {"median_s", 1e-3}, {"min_s", 1e-3}, {"max_s", 1e-3},
                        {"check", {{"done", true}, {"wrong", 0}}},
                        {"results", {{"kernels", kernels}}}};
  if (!peaks.empty()) rec["results"]["peak_bytes"] = peaks;
  return rec;
}

inline nlohmann::json collective_record(const std::string& op, double bytes, int ranks, const std::string& layout,
                                        double t) {
  return {{"kind", "collective"},
          {"backend", "nccl"},
          {"config", {{"op", op}, {"bytes", int64_t(bytes)}, {"dtype", "bf16"}, {"ranks", ranks}, {"layout", layout},
                      {"nodes", layout == "intra-node" ? 1 : 2}, {"gpus_per_node", 8}}},
          {"median_s", t}, {"min_s", t}, {"max_s", t},
          {"results", {{"algbw_GBps", bytes / t / 1e9}, {"busbw_GBps", 0}}}};
}

inline nlohmann::json interference_record(const std::string& victim, const std::string& aggressor, double alone_s,
                                          double slowdown) {
  const double t = alone_s * slowdown;
  return {{"kind", "interference"},
          {"config", {{"victim", victim}, {"aggressor", aggressor}, {"bytes", 1 << 28}}},
          {"median_s", t}, {"min_s", t}, {"max_s", t},
          {"results", {{"alone_median_s", alone_s}, {"slowdown", slowdown}}}};
}

}  // namespace hcpsim::test

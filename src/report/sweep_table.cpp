#include "report/sweep_outputs.hpp"

#include <algorithm>
#include <cstdio>

namespace hcpsim {

namespace {

constexpr double kGB = 1e9;

std::string fmt(const char* format, double a) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, a);
  return buf;
}

std::string pad(std::string s, size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

std::string layout_of(const nlohmann::json& r) {
  const auto& p = r["result"]["parallel"];
  return std::to_string(p["tp"].get<int>()) + "x" + std::to_string(p["cp"].get<int>()) + "x" +
         std::to_string(p["dp"].get<int>());
}

std::string first_rule(const nlohmann::json& row) {
  const auto& d = row["rejected_by"].at(0);
  std::string s = d["rule"].get<std::string>() + " [" + d["path"].get<std::string>() + "]";
  if (row["rejected_by"].size() > 1) s += " and " + std::to_string(row["rejected_by"].size() - 1) + " more";
  return s;
}

}  // namespace

std::string format_sweep_table(const SweepOutcome& o, const SweepRecommendation& rec) {
  size_t w = 6;
  int counts[4] = {0, 0, 0, 0};  // ok, rejected, failed, missing
  for (const auto& r : o.rows) {
    w = std::max(w, r["label"].get<std::string>().size());
    const std::string s = r.value("status", "");
    ++counts[s == "ok" ? 0 : s == "rejected" ? 1 : s == "failed" ? 2 : 3];
  }
  const auto& m = o.meta;
  counts[3] += m.value("missing_candidates", 0);
  std::string t = "hcpsim sweep: " + m.value("scenario", std::string()) + " (" + m.value("source", std::string()) + ")\n";
  t += m.value("summary", std::string());
  t += std::to_string(o.rows.size()) + " candidates: " + std::to_string(counts[0]) + " simulated, " +
       std::to_string(counts[1]) + " rejected by validation";
  if (counts[2]) t += ", " + std::to_string(counts[2]) + " failed";
  if (counts[3]) t += ", " + std::to_string(counts[3]) + " MISSING (a shard was not merged)";
  t += "\n\n";
  const std::vector<int> order = ranked_rows(o);
  const std::string head = "rank  " + pad("option", w) +
                           "  TPxCPxDP  step s  tok/s/GPU  MFU%  attn ms  exposed  peak GB  headroom\n";
  char units[160];
  std::snprintf(units, sizeof units, "      %s%10s%8s%11s%6s%9s%9s%9s%10s\n", pad("", w).c_str(), "", "", "", "", "/layer",
                "comm ms", "", "GB");
  bool fit_header = false, nofit_header = false;
  int rank = 0;
  for (int i : order) {
    const auto& r = o.rows[i];
    const auto& s = r["result"]["step"];
    const auto& a = r["result"]["attention"];
    const auto& mem = r["result"]["memory"];
    const bool fits = row_fits(r);
    if (fits && !fit_header) {
      t += "Fit in memory, ranked by tokens/s per GPU:\n" + head + units;
      fit_header = true;
    }
    if (!fits && !nofit_header) {
      t += std::string(fit_header ? "\n" : "") + "Do not fit in memory (shortfall = peak - capacity):\n" + head + units;
      nofit_header = true;
    }
    char buf[256];
    std::snprintf(buf, sizeof buf, "  %8s %7.3f %10.1f %5.1f %8.2f %8.2f %8.1f %9s\n", layout_of(r).c_str(),
                  s["time_s"].get<double>(), row_tokens_per_s_per_gpu(r), 100 * s["mfu"].get<double>(),
                  1e3 * (a["forward_s"].get<double>() + a["backward_s"].get<double>()),
                  1e3 * a["exposed_comm_s"].get<double>(), mem["peak_bytes"].get<double>() / kGB,
                  fits ? fmt("%.1f", row_headroom_gb(r)).c_str() : fmt("-%.1f", -row_headroom_gb(r)).c_str());
    t += (fits ? pad(std::to_string(++rank), 4) : std::string("  - ")) + (i == rec.row ? "* " : "  ") +
         pad(r["label"].get<std::string>(), w) + buf;
  }
  bool header = false;
  for (const auto& r : o.rows) {
    if (r.value("status", "") == "ok") continue;
    if (!header) t += "\nNot simulated:\n";
    header = true;
    const std::string s = r.value("status", "");
    std::string why = s == "rejected" ? "rejected: " + first_rule(r)
                      : s == "failed" ? "failed: " + r.value("error", std::string())
                                      : "missing: no merged shard has it";
    t += "      " + pad(r["label"].get<std::string>(), w) + "  " + why + "\n";
  }
  t += "\nRecommendation: " + (rec.row >= 0 ? o.rows[rec.row]["label"].get<std::string>() : std::string("none")) + "\n  " +
       rec.reasons + "\n";
  return t;
}

}  // namespace hcpsim

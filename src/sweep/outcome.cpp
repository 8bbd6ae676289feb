#include "sweep/outcome.hpp"

#include <algorithm>
#include <cstdio>

namespace hcpsim {

namespace {

constexpr double kGB = 1e9;

}  // namespace

bool row_ok(const nlohmann::json& row) { return row.value("status", "") == "ok"; }
bool row_fits(const nlohmann::json& row) { return row_ok(row) && row["result"]["memory"]["fits"].get<bool>(); }
double row_tokens_per_s_per_gpu(const nlohmann::json& row) {
  return row["result"]["step"]["tokens_per_s_per_gpu"].get<double>();
}
double row_headroom_gb(const nlohmann::json& row) { return row["result"]["memory"]["headroom_bytes"].get<double>() / kGB; }

std::vector<int> ranked_rows(const SweepOutcome& o) {
  std::vector<int> fit, nofit;
  for (int i = 0; i < static_cast<int>(o.rows.size()); ++i) {
    if (!row_ok(o.rows[i])) continue;
    (row_fits(o.rows[i]) ? fit : nofit).push_back(i);
  }
  std::stable_sort(fit.begin(), fit.end(), [&](int a, int b) {
    return row_tokens_per_s_per_gpu(o.rows[a]) > row_tokens_per_s_per_gpu(o.rows[b]);
  });
  std::stable_sort(nofit.begin(), nofit.end(),
                   [&](int a, int b) { return row_headroom_gb(o.rows[a]) > row_headroom_gb(o.rows[b]); });
  fit.insert(fit.end(), nofit.begin(), nofit.end());
  return fit;
}

}  // namespace hcpsim

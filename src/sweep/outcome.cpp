#include "sweep/outcome.hpp"

#include <algorithm>

namespace hcpsim {

const char* to_string(RowStatus s) {
  switch (s) {
    case RowStatus::Ok: return "ok";
    case RowStatus::Rejected: return "rejected";
    case RowStatus::Failed: return "failed";
    case RowStatus::Missing: return "missing";
    case RowStatus::Unfit: return "unfit";
  }
  return "?";
}

double SweepRow::tokens_per_s_per_gpu() const { return result->step->tokens_per_s_per_gpu; }
double SweepRow::headroom_gb() const {
  if (result) return result->memory.headroom_bytes / 1e9;
  return (unfit->capacity_bytes - unfit->peak_bytes) / 1e9;
}

std::vector<int> ranked_rows(const SweepOutcome& o) {
  std::vector<int> fit, nofit;
  for (int i = 0; i < static_cast<int>(o.rows.size()); ++i) {
    if (!o.rows[i].ok()) continue;
    (o.rows[i].fits() ? fit : nofit).push_back(i);
  }
  std::stable_sort(fit.begin(), fit.end(), [&](int a, int b) {
    return o.rows[a].tokens_per_s_per_gpu() > o.rows[b].tokens_per_s_per_gpu();
  });
  std::stable_sort(nofit.begin(), nofit.end(),
                   [&](int a, int b) { return o.rows[a].headroom_gb() > o.rows[b].headroom_gb(); });
  fit.insert(fit.end(), nofit.begin(), nofit.end());
  return fit;
}

}  // namespace hcpsim

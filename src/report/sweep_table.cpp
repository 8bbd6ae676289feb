#include "report/sweep_outputs.hpp"

#include <algorithm>
#include <cstdio>

#include "common/strprintf.hpp"

namespace hcpsim {

namespace {

constexpr double kGB = 1e9;

std::string layout_of(const SweepRow& r) {
  const ParallelSpec& p = r.result->scenario.parallel;
  return std::to_string(p.tensor_model_parallel_size) + "x" + std::to_string(p.context_parallel_size) + "x" +
         std::to_string(p.data_parallel_size);
}

std::string first_rule(const SweepRow& row) {
  const Diagnostic& d = row.rejected_by.at(0);
  std::string s = d.rule + " [" + d.path + "]";
  if (row.rejected_by.size() > 1) s += " and " + std::to_string(row.rejected_by.size() - 1) + " more";
  return s;
}

}  // namespace

std::string format_sweep_table(const SweepOutcome& o, const SweepRecommendation& rec) {
  size_t w = 6;
  int counts[5] = {0, 0, 0, 0, 0};  // ok, rejected, failed, missing, unfit
  for (const SweepRow& r : o.rows) {
    w = std::max(w, r.label.size());
    ++counts[static_cast<int>(r.status)];  // RowStatus order: ok, rejected, failed, missing, unfit
  }
  const SweepMeta& m = o.meta;
  counts[3] += int(m.missing_candidates);
  std::string t = "hcpsim sweep: " + m.scenario + " (" + m.source + ")\n";
  t += m.summary;
  t += std::to_string(o.rows.size()) + " candidates: " + std::to_string(counts[0]) + " simulated, ";
  if (counts[4]) t += std::to_string(counts[4]) + " do not fit in memory (not simulated), ";
  t += std::to_string(counts[1]) + " rejected by validation";
  if (counts[2]) t += ", " + std::to_string(counts[2]) + " failed";
  if (counts[3]) t += ", " + std::to_string(counts[3]) + " MISSING (a shard was not merged)";
  t += "\n\n";
  const std::vector<int> order = ranked_rows(o);
  const std::string head = "rank  " + pad_right("option", w) +
                           "  TPxCPxDP  step s  band  tok/s/GPU  MFU%  attn ms  exposed  peak GB  headroom\n";
  // Under fp8 (NVFP4) training MFU is of the fp8 (fp4) peak: the units row says so.
  const auto trained_in = [&o](Precision p) {
    return std::any_of(o.rows.begin(), o.rows.end(),
                       [p](const SweepRow& r) { return r.result && r.result->scenario.training.precision == p; });
  };
  const char* peak_unit = trained_in(Precision::NVFP4) ? "fp4pk" : trained_in(Precision::FP8) ? "fp8pk" : "";
  // The label's width first, the numbers' units after: a long label (FSDP, TP overlap) widens the row.
  const std::string units = "      " + pad_right("", w) +
                            strprintf("%10s%8s%6s%11s%6s%9s%9s%9s%10s\n", "", "", "+-%", "", peak_unit, "/layer",
                                      "comm ms", "", "GB");
  bool fit_header = false, nofit_header = false;
  int rank = 0;
  for (int i : order) {
    const SweepRow& r = o.rows[i];
    const StepMetrics& s = *r.result->step;
    const AttentionMetrics& a = r.result->attention;
    const MemoryEstimate& mem = r.result->memory;
    const bool fits = r.fits();
    if (fits && !fit_header) {
      t += "Fit in memory, ranked by tokens/s per GPU:\n" + head + units;
      fit_header = true;
    }
    if (!fits && !nofit_header) {
      t += std::string(fit_header ? "\n" : "") + "Do not fit in memory (shortfall = peak - capacity):\n" + head + units;
      nofit_header = true;
    }
    char buf[256];
    std::snprintf(buf, sizeof buf, "  %8s %7.3f %5.1f %10.1f %5.1f %8.2f %8.2f %8.1f %9s\n", layout_of(r).c_str(),
                  s.time_s, 100 * r.result->uncertainty.relative, s.tokens_per_s_per_gpu, 100 * s.mfu, 1e3 * (a.forward_s + a.backward_s),
                  1e3 * a.exposed_comm_s, mem.peak_bytes / kGB,
                  fits ? strprintf("%.1f", r.headroom_gb()).c_str() : strprintf("-%.1f", -r.headroom_gb()).c_str());
    t += (fits ? pad_right(std::to_string(++rank), 4) : std::string("  - ")) + (i == rec.row ? "* " : "  ") +
         pad_right(r.label, w) + buf;
  }
  bool header = false;
  for (const SweepRow& r : o.rows) {
    if (r.status == RowStatus::Ok) continue;
    if (!header) t += "\nNot simulated:\n";
    header = true;
    const std::string why = r.status == RowStatus::Rejected ? "rejected: " + first_rule(r)
                            : r.status == RowStatus::Failed ? "failed: " + r.error
                            : r.status == RowStatus::Unfit
                                ? "does not fit: peak " + strprintf("%.1f", r.unfit->peak_bytes / kGB) + " GB (" +
                                      r.unfit->peak_phase + ") > " + strprintf("%.1f", r.unfit->capacity_bytes / kGB) + " GB"
                                : "missing: no merged shard has it";
    t += "      " + pad_right(r.label, w) + "  " + why + "\n";
  }
  t += "\nRecommendation: " + (rec.row >= 0 ? o.rows[rec.row].label : std::string("none")) + "\n  " + rec.reasons + "\n";
  return t;
}

}  // namespace hcpsim

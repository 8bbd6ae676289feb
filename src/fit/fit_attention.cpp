#include "fit/fit_attention.hpp"
#include "fit/median.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <array>
#include <cstdio>
#include <cmath>
#include <map>
#include <stdexcept>

#include "fit/replay.hpp"

namespace hcpsim {

namespace {

// t0, CTAs, tiles, masked tiles, split accumulator elements, query elements, empty CTAs, combine
// launches, combine rows: AttentionTileTimes' coefficients in times_of's order.
constexpr int kColumns = 9;
constexpr int kEmptyColumn = 6;
constexpr int kScheduleRounds = 5;  // schedule with the current costs, refit

std::array<double, kColumns> features(const AttentionShape& s, int64_t sm_count, const AttentionTileTimes& t,
                                     AttentionBackend backend) {
  const AttentionWork w = attention_work(s, sm_count, t, backend);
  return {1.0,
          double(w.busiest.ctas),
          double(w.busiest.tiles),
          double(w.busiest.masked),
          double(w.split_elements),
          double(w.query_elements),
          double(w.busiest.empty),
          double(w.combine_launches),
          double(w.combine_rows)};
}

AttentionTileTimes times_of(const std::array<double, kColumns>& c) {
  AttentionTileTimes t{c[0], c[1], c[2], c[3], c[4], c[5]};
  t.empty_cta_s = c[6], t.combine_launch_s = c[7], t.combine_row_s = c[8];
  return t;
}

// Least squares over the active columns; inactive ones are 0. Drops negative coefficients (held
// at 0), and, with fewer samples than columns, the least essential columns: `unfitted` says
// which of those it dropped so (their coefficient says nothing about the data).
std::array<double, kColumns> solve(const std::vector<std::array<double, kColumns>>& rows,
                                   const std::vector<double>& times, std::array<bool, kColumns> active,
                                   std::array<bool, kColumns>& unfitted) {
  unfitted.fill(false);
  for (;;) {
    std::vector<int> cols;
    for (int j = 0; j < kColumns; ++j)
      if (active[size_t(j)]) cols.push_back(j);
    while (cols.size() > rows.size()) {  // fewer samples than unknowns: keep t0 and tiles first
      int drop = 0;
      for (const int j : {8, 7, 6, 5, 4, 3, 1})
        if (active[size_t(j)]) {
          drop = j;
          break;
        }
      active[size_t(drop)] = false;
      unfitted[size_t(drop)] = true;
      cols.erase(std::find(cols.begin(), cols.end(), drop));
    }
    Eigen::MatrixXd a(Eigen::Index(rows.size()), Eigen::Index(cols.size()));
    for (size_t i = 0; i < rows.size(); ++i)
      for (size_t k = 0; k < cols.size(); ++k) a(Eigen::Index(i), Eigen::Index(k)) = rows[i][size_t(cols[k])] / times[i];
    const Eigen::VectorXd x = a.colPivHouseholderQr().solve(Eigen::VectorXd::Ones(Eigen::Index(rows.size())));
    std::array<double, kColumns> c{};
    int worst = -1;
    for (size_t k = 0; k < cols.size(); ++k) {
      c[size_t(cols[k])] = x(Eigen::Index(k));
      if (x(Eigen::Index(k)) < 0 && (worst < 0 || x(Eigen::Index(k)) < c[size_t(worst)])) worst = cols[k];
    }
    if (worst < 0 || worst == 2) {  // tiles is the one column never dropped
      c[2] = std::max(c[2], 1e-12);
      return c;
    }
    active[size_t(worst)] = false;
  }
}

}  // namespace

double busiest_sm_tiles(const AttentionShape& s, int64_t sm_count, const AttentionTileTimes& times,
                        AttentionBackend backend) {
  return double(attention_tiling(s, sm_count, times.cta_cost(), backend).busiest.tiles);
}

AttentionPartFit fit_attention_part(const std::vector<AttentionTimeSample>& samples, int64_t sm_count,
                                    AttentionBackend backend) {
  if (samples.empty()) throw std::invalid_argument("attention fit: no samples");
  if (sm_count <= 0) throw std::invalid_argument("attention fit: sm_count must be > 0");
  std::vector<double> times;
  for (const auto& s : samples) {
    if (!(s.time_s > 0)) throw std::invalid_argument("attention fit: times must be > 0");
    times.push_back(s.time_s);
  }
  AttentionTileTimes t{0, 0, 1, 0};  // first schedule: cost = tiles
  std::vector<std::array<double, kColumns>> rows(samples.size());
  for (int round = 0; round < kScheduleRounds; ++round) {
    std::array<bool, kColumns> active{true, true, true};
    for (size_t i = 0; i < samples.size(); ++i) {
      rows[i] = features(samples[i].shape, sm_count, t, backend);
      for (int j = 3; j < kColumns; ++j)
        if (rows[i][size_t(j)] > 0) active[size_t(j)] = true;
    }
    std::array<bool, kColumns> unfitted{};
    std::array<double, kColumns> c = solve(rows, times, active, unfitted);
    // No measured launch had an empty CTA on its busiest SM (or too few samples to fit one): an
    // empty CTA costs a CTA's time (what the model assumed before it had the column), not nothing.
    if (!active[kEmptyColumn] || unfitted[kEmptyColumn]) c[kEmptyColumn] = c[1];
    t = times_of(c);
  }
  AttentionPartFit out;
  out.times = t;
  FitSummary& f = out.summary;
  f.samples = int(samples.size());
  f.range_lo = f.range_hi = samples.front().flops;
  out.tiles = {rows.front()[2], rows.front()[2]};
  double sq = 0;
  for (size_t i = 0; i < samples.size(); ++i) {
    const AttentionWork w = attention_work(samples[i].shape, sm_count, t, backend);  // one list schedule per sample
    const double predicted = w.time_s(t);
    const double err = predicted / times[i] - 1;
    sq += err * err;
    f.max_error = std::max(f.max_error, std::fabs(err));
    f.range_lo = std::min(f.range_lo, samples[i].flops);
    f.range_hi = std::max(f.range_hi, samples[i].flops);
    out.tiles.first = std::min(out.tiles.first, double(w.busiest.tiles));
    out.tiles.second = std::max(out.tiles.second, double(w.busiest.tiles));
  }
  f.rms_error = std::sqrt(sq / double(samples.size()));
  return out;
}

namespace {

// The SM clock the shape model's times are at, the one the simulator's steps run at: the median
// clock of the backend's layer measurements (a training layer's kernels back to back) where the
// set has them, else of its attention kernels. A GPU at its power limit clocks lower under a
// heavier load: one small attention launch at a time runs near the boost clock (1980 MHz on the
// H200), a layer of GEMMs and attention at 1470-1560 MHz (hcpcal_torch's v12 layer suite, cuDNN).
// The layers' clocks are taken whether or not a check holds their times out: the clock is the
// state the GPU runs a training load in, an input of the prediction, not the time it predicts.
double reference_clock_mhz(const MeasurementSet& set, const std::vector<const Measurement*>& used,
                           AttentionBackend backend, std::vector<std::string>& warnings) {
  std::vector<double> clocks;
  for (const Measurement* m : used)
    if (m->sm_clock_mhz > 0) clocks.push_back(m->sm_clock_mhz);
  if (!clocks.empty() && clocks.size() < used.size())
    warnings.push_back("attention_shape: " + std::to_string(used.size() - clocks.size()) + " of " +
                       std::to_string(used.size()) + " measurements have no sm_clock_mhz; their times are taken as"
                       " measured at the reference clock");
  std::vector<double> layers;
  for (const auto& m : set.items)
    if (m.kind == MeasurementKind::Layer && m.sm_clock_mhz > 0 && attention_backend_of(m) == backend)
      layers.push_back(m.sm_clock_mhz);
  if (!layers.empty()) return median(layers);
  return clocks.empty() ? 0 : median(clocks);
}

}  // namespace

void fit_attention_shape(const MeasurementSet& set, const FitOptions& opt, int64_t compute_capability,
                         FitResult& out) {
  constexpr int64_t kHeadDim = 128;  // attention_tiles.hpp describes the head-dim-128 kernels
  std::vector<const Measurement*> used;
  for (const auto& m : set.items) {
    if (m.kind != MeasurementKind::Attention || m.wrong > 0 || (opt.use && !opt.use(m))) continue;
    if (m.attention.head_dim_qk != kHeadDim || m.attention.head_dim_v != kHeadDim || m.attention.window != 0) continue;
    used.push_back(&m);
  }
  if (used.empty()) return;
  const AttentionBackend kernels = attention_backend_of(*used.front()).value_or(AttentionBackend::Hcpsim);
  // Times at one SM clock (reference_clock_mhz): a kernel measured while the GPU held a lower
  // clock at its power limit took longer for the same work.
  const double clock_mhz = reference_clock_mhz(set, used, kernels, out.warnings);
  std::map<std::string, std::vector<AttentionTimeSample>> parts;
  std::string backend;
  int64_t uncounted_bwd = 0;
  for (const Measurement* m : used) {
    if (attention_backend_of(*m).value_or(AttentionBackend::Hcpsim) != kernels)
      throw std::invalid_argument("attention_shape: measurements of several backends (fit one at a time)");
    // The kernel the backend ran (as the tables count it; today this changes only cuDNN's
    // bottom-right causal backward: the no-mask rectangle with every tile masked, the only
    // records that determine the no-mask backward's masked_tile_s).
    const AttentionShape x = executed_attention_shape(m->attention, kernels, compute_capability);
    // cuDNN's backward schedule is fitted on records whose SM clock the GPU counted: on NVML's
    // readings (10-20 % off on short back-to-back stretches) it missed held-out sizes by 18 %,
    // the FLOPs tables by 15 %; on counted clocks by 4.3 % (calibrate/RESULTS.md, fourteenth run).
    if (kernels == AttentionBackend::CuDNN && x.backward && !m->sm_clock_counted) {
      ++uncounted_bwd;
      continue;
    }
    const std::string part = std::string(x.backward ? "bwd" : "fwd") + "_" + (x.mask == KernelMask::None ? "nomask" : "causal");
    parts[part].push_back({x, at_sm_clock(m->median_s, m->sm_clock_mhz, clock_mhz), measured_size(*m)});
    backend = m->backend;
  }
  const nlohmann::json* sms = set.environment.is_object() && set.environment.contains("sm_count")
                                  ? &set.environment["sm_count"]
                                  : nullptr;
  if (!sms || !sms->is_number_integer() || sms->get<int64_t>() <= 0) {
    out.warnings.push_back("attention_shape: environment.sm_count missing; attention keeps the FLOPs tables");
    return;
  }
  CalibratedAttentionShape a;
  a.model.sm_count = sms->get<int64_t>();
  a.model.head_dim = kHeadDim;
  a.model.clock_mhz = clock_mhz;
  a.model.backend = kernels;
  // cuDNN: both backward parts, or neither (a model of the forward only: the backward keeps the
  // tables). Other backends need both; the loop below says which part is missing.
  a.model.backward = kernels != AttentionBackend::CuDNN || (parts.count("bwd_causal") && parts.count("bwd_nomask"));
  if (uncounted_bwd > 0)
    out.warnings.push_back("attention_shape: " + std::to_string(uncounted_bwd) +
                           " cuDNN backward measurements left out of the shape model: their SM clock is NVML's "
                           "reading, not the GPU's count (results.sm_clock_source is not gpu_cycles)" +
                           (a.model.backward ? std::string("; it rests on the others")
                                             : std::string("; cuDNN's backward keeps the FLOPs tables")) +
                           " (measure with calibrate/torch/hcpcal_torch.py's GPU-counted clock)");
  else if (!a.model.backward && (parts.count("bwd_causal") || parts.count("bwd_nomask")))
    out.warnings.push_back("attention_shape: cuDNN backward measurements of one mask only; its backward keeps the "
                           "FLOPs tables");
  a.backend = backend;
  for (const auto& part : attention_shape_parts()) {
    if (!has_part(a, part)) continue;
    auto it = parts.find(part.name);
    if (it == parts.end()) {
      out.warnings.push_back(std::string("attention_shape: no ") + part.name +
                             " measurements of head dim 128; attention keeps the FLOPs tables");
      return;
    }
    const AttentionPartFit f = fit_attention_part(it->second, a.model.sm_count, kernels);
    a.model.*part.times = f.times;
    a.*part.fit = f.summary;
    (a.*part.fit).backend = backend;
    a.*part.tiles = f.tiles;
  }
  out.calibration.attention_shape = a;
}

bool attention_shape_extrapolates(const CalibratedAttentionShape& a, const AttentionShape& shape,
                                  int64_t compute_capability, double slack) {
  if (!a.model.applies_to(shape) || shape.sq <= 0 || shape.skv <= 0) return false;
  const AttentionShape s = executed_attention_shape(shape, a.model.backend, compute_capability);
  for (const auto& part : attention_shape_parts()) {
    if (&(a.model.*part.times) != &a.model.times_for(s)) continue;
    const double tiles = busiest_sm_tiles(s, a.model.sm_count, a.model.*part.times, a.model.backend);
    return tiles < (a.*part.tiles).first * (1 - slack) || tiles > (a.*part.tiles).second * (1 + slack);
  }
  return false;
}

std::string format_attention_shape(const CalibratedAttentionShape& a) {
  std::string t = "# attention_shape (head dim " + std::to_string(a.model.head_dim) + ", " +
                  std::to_string(a.model.sm_count) + " SMs" +
                  (a.model.clock_mhz > 0 ? ", times at an SM clock of " + std::to_string(int(a.model.clock_mhz + 0.5)) +
                                               " MHz, the layer measurements' median, else the kernels'"
                                         : std::string(", no SM clocks recorded")) +
                  "):\n# t = t0 + cta x CTAs + tile x tiles + masked x masked tiles + empty x empty CTAs (busiest SM)"
                  " + split x split accumulator elements + query x query elements (backward)\n#     + combine +"
                  " row x rows (a split-KV forward's combine kernel)\n";
  t += "# part        samples  t0      cta     tile    masked   split    query    empty   combine  row      "
       "busiest-SM tiles   FLOPs range             rms_err max_err\n";
  t += "#                      (us)    (us)    (us)    (us)     (ps)     (ps)     (us)    (us)     (ps)     "
       "                                                (%)     (%)\n";
  for (const auto& part : attention_shape_parts()) {
    if (!has_part(a, part)) {
      t += "  " + std::string(part.name) + ": not modelled (" + to_string(a.model.backend) +
           "'s backward schedule; its attention tables time it)\n";
      continue;
    }
    const AttentionTileTimes& c = a.model.*part.times;
    const FitSummary& f = a.*part.fit;
    char buf[420];
    std::snprintf(buf, sizeof buf,
                  "  %-12s %5d %7.2f %7.3f %7.4f %7.4f %8.3f %8.3f %7.3f %7.3f %8.1f   %6.0f .. %6.0f   %9.3g .. %9.3g"
                  "  %6.2f %6.2f\n",
                  part.name, f.samples, c.t0_s * 1e6, c.cta_s * 1e6, c.tile_s * 1e6, c.masked_tile_s * 1e6,
                  c.split_element_s * 1e12, c.query_element_s * 1e12, c.empty_cta_s * 1e6, c.combine_launch_s * 1e6,
                  c.combine_row_s * 1e12, (a.*part.tiles).first, (a.*part.tiles).second,
                  f.range_lo, f.range_hi, 100 * f.rms_error, 100 * f.max_error);
    t += buf;
  }
  return t;
}

}  // namespace hcpsim

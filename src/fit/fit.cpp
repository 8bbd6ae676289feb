#include "fit/fit.hpp"

#include <algorithm>
#include <cstdio>
#include <map>

#include "fit/fit_attention.hpp"
#include "fit/fit_collective.hpp"
#include "fit/fit_interference.hpp"
#include "fit/fit_table.hpp"
#include "fit/replay.hpp"
#include "common/diagnostics.hpp"

namespace hcpsim {

namespace {

constexpr double kDefaultL2Bytes = 50e6;  // when the environment does not say
constexpr double kL2Multiple = 4;         // copies at least this many L2s move through HBM

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

}  // namespace

bool cache_resident_copy(const Measurement& m, const MeasurementSet& set) {
  const double l2 = set.l2_bytes > 0 ? set.l2_bytes : kDefaultL2Bytes;
  return m.kind == MeasurementKind::Copy && m.copy_bytes_moved < kL2Multiple * 2 * l2;
}

std::string parameter_of(const Measurement& m, const GpuSpec* gpu, std::optional<AttentionBackend> calibration_backend) {
  switch (m.kind) {
    case MeasurementKind::Attention:
    case MeasurementKind::CpStep:
      return gpu ? attention_table_parameter_for(m.attention, rules_backend(m, calibration_backend), *gpu).name
                 : attention_table_parameter(m.attention.backward, m.attention.mask).name;
    case MeasurementKind::Gemm: return rules::gemm_table_name(m.gemm_type);
    case MeasurementKind::Copy: return "memory_efficiency";
    case MeasurementKind::CpRun: return std::string("cp_") + to_string(m.cp.transport);
    case MeasurementKind::Collective:
      return std::string("collective ") + to_string(m.collective.op) + " " + to_string(m.collective.layout);
    case MeasurementKind::Interference: return interference_parameter(m.interference);
    case MeasurementKind::Layer: return "layer";
    case MeasurementKind::Elementwise: return elementwise_parameter(m.elementwise);
  }
  return {};
}

std::vector<AttentionBackend> attention_backends_in(const MeasurementSet& set) {
  std::vector<AttentionBackend> out;
  for (AttentionBackend b : kAttentionBackends)
    if (std::any_of(set.items.begin(), set.items.end(), [&](const Measurement& m) { return attention_backend_of(m) == b; }))
      out.push_back(b);
  return out;
}

std::optional<AttentionBackend> fitted_backend(const MeasurementSet& set, const FitOptions& opt) {
  const std::vector<AttentionBackend> in = attention_backends_in(set);
  std::string names;
  for (AttentionBackend b : in) names += (names.empty() ? "" : ", ") + std::string(to_string(b));
  if (opt.backend) {
    if (std::find(in.begin(), in.end(), *opt.backend) == in.end() && !in.empty())
      throw InputError({{"--backend", std::string("no attention records of backend ") + to_string(*opt.backend),
                         "a backend the measurements hold", "choose one of: " + names}});
    return opt.backend;
  }
  if (in.size() > 1)
    throw InputError({{"--backend", "the measurements hold attention records of several backends (" + names + ")",
                       "a calibration describes one backend's attention kernels",
                       "fit each with --backend <name> (one calibration file per backend)"}});
  return in.empty() ? std::nullopt : std::optional<AttentionBackend>(in.front());
}

bool of_backend(const Measurement& m, std::optional<AttentionBackend> backend) {
  const std::optional<AttentionBackend> b = attention_backend_of(m);
  return !b || !backend || *b == *backend;
}

FitResult fit_calibration(const MeasurementSet& set, const ClusterSpec& node, const FitOptions& fit_opt) {
  const GpuSpec gpu = measured_gpu(set, node.gpu);
  FitOptions opt = fit_opt;
  const std::optional<AttentionBackend> fitted = fitted_backend(set, fit_opt);
  opt.use = [&](const Measurement& m) { return of_backend(m, fitted) && (!fit_opt.use || fit_opt.use(m)); };
  FitResult out;
  CalibrationFile& c = out.calibration;
  c.gpu = set.gpu_model;
  c.peak_bf16_flops_per_s = gpu.peak_bf16_flops_per_s;
  c.hbm_bytes_per_s = gpu.hbm_bytes_per_s;
  c.measurements = opt.measurements_name;
  c.attention_backend = fitted;
  const std::string tables =
      opt.method == TableMethod::Curve
          ? "efficiency tables: eff = a - b (FLOPs/1e10)^-k fitted by least squares on relative error (Eigen QR, k "
            "by grid search), tabulated every 1/8 decade over the measured range"
          : "efficiency tables piecewise linear in log10(FLOPs), values at up to " + std::to_string(opt.max_knots) +
                " knots on the measured FLOP values by least squares on relative error (Eigen QR)";
  const std::string work_axis = fitted == AttentionBackend::CuDNN
                                    ? "; cuDNN attention tables on FLOPs x the busiest SM's share over " +
                                          std::to_string(gpu.sm_count) + " SMs (work: flops_x_balance)"
                                    : "";
  c.method = "hcpsim fit: " + tables + work_axis + "; memory efficiency constant from copies >= 4x L2; efficiencies are "
             "fractions of " + gpu.name + " peaks (gemm_fp8_*: of the fp8 peak); collectives: alpha-beta per op and layout on nccl-tests bus bytes "
             "(Eigen QR, relative error; a table by size where the line misses by > 10%); link efficiencies = median "
             "busbw / preset line rate; interference: compute slowdown per kernel class beside k copying CTAs and the k-CTA "
             "copy's slowdown beside each class (medians; rules/interference.hpp)";
  if (!set.complete) out.warnings.push_back("measurements are incomplete (hcpcal was interrupted): fitting what finished");

  std::map<std::string, std::vector<EfficiencySample>> groups;
  std::map<std::string, std::string> backend;
  const double l2 = set.l2_bytes > 0 ? set.l2_bytes : kDefaultL2Bytes;
  for (const auto& m : set.items) {
    if (!is_kernel_measurement(m) || m.kind == MeasurementKind::CpStep) continue;  // CP: checked, never fitted on
    if (opt.use && !opt.use(m)) continue;
    if (m.wrong > 0) {
      out.warnings.push_back(m.path + " (" + m.name + "): left out, its check found " + std::to_string(m.wrong) +
                             " wrong elements");
      continue;
    }
    if (cache_resident_copy(m, set)) continue;
    const std::string parameter = parameter_of(m, &gpu, fitted);
    groups[parameter].push_back({measured_work(m, gpu, fitted), measured_efficiency(m, gpu, fitted)});
    backend[parameter] = m.backend;
  }
  for (const auto& name : calibration_table_names()) {
    auto it = groups.find(name);
    if (it == groups.end()) continue;
    TableFit f = opt.method == TableMethod::Curve ? fit_efficiency_curve(it->second)
                                                  : fit_efficiency_table(it->second, opt.max_knots);
    f.summary.backend = backend[name];
    const bool balanced = is_attention_parameter(name) && backend[name] == "cudnn";
    c.tables.push_back({name, f.table, f.summary, balanced ? kWorkFlopsTimesBalance : ""});
  }
  if (auto it = groups.find("memory_efficiency"); it != groups.end()) {
    CalibratedScalar s = fit_constant_efficiency(it->second, "memory_efficiency");
    s.fit.backend = backend["memory_efficiency"];
    c.scalars.push_back(s);
  } else if (std::any_of(set.items.begin(), set.items.end(),
                         [](const Measurement& m) { return m.kind == MeasurementKind::Copy; })) {
    out.warnings.push_back("memory_efficiency: no copy of at least " + fmt("%.0f", kL2Multiple * l2 / 1e6) +
                           " MB; left at its default");
  }
  // The measured memory-bound kernels (hcpcal_torch's kernels suite): one efficiency per kind and pass.
  for (const auto& [name, samples] : groups) {
    if (name.rfind("memory_efficiency_", 0) != 0) continue;
    CalibratedScalar s = fit_constant_efficiency(samples, name.c_str());
    s.fit.backend = backend[name];
    c.scalars.push_back(s);
  }
  // The shape model: the tiling and schedule of the fitted backend's kernels (attention_tiles.hpp).
  fit_attention_shape(set, opt, gpu.compute_capability, out);
  if (out.calibration.attention_shape)
    c.method += std::string("; attention_shape: t = t0 + cta x CTAs + tile x tiles + masked x masked tiles on the busiest "
                            "SM (the ") + to_string(out.calibration.attention_shape->model.backend) +
                " kernels' schedule of their units over the SMs), per pass and mask of the kernel run, least squares on relative error "
                "(Eigen QR, coefficients >= 0), overriding the attention tables for head dim 128 in the passes it models";
  fit_comm_parameters(set, node, opt, out);
  fit_interference(set, opt, out);
  return out;
}

std::string format_fit(const CalibrationFile& c) {
  std::string t = "# parameter              samples  range                      rms_err  max_err  backend\n";
  t += "#                                 (FLOPs; bytes for memory)   (%)      (%)\n";
  auto row = [&](const std::string& name, const FitSummary& f) {
    char buf[256];
    std::snprintf(buf, sizeof buf, "  %-24s %5d  %9.3g .. %9.3g  %8.2f %8.2f  %s\n", name.c_str(), f.samples, f.range_lo,
                  f.range_hi, 100 * f.rms_error, 100 * f.max_error, f.backend.c_str());
    t += buf;
  };
  for (const auto& tb : c.tables) row(tb.name, tb.fit);
  for (const auto& s : c.scalars) row(s.name, s.fit);
  t += "# table points (FLOPs: efficiency of " + fmt("%.0f", c.peak_bf16_flops_per_s / 1e12) +
       " TFLOP/s; gemm_fp8_* of the fp8 peak)\n";
  for (const auto& tb : c.tables) {
    t += "  " + tb.name + ":";
    for (const auto& [x, y] : tb.table.points) t += " " + fmt("%.3g", x) + ":" + fmt("%.3f", y);
    t += "\n";
  }
  for (const auto& s : c.scalars) t += "  " + s.name + ": " + fmt("%.4f", s.value) + "\n";
  if (c.attention_shape) t += format_attention_shape(*c.attention_shape);
  if (!c.collectives.empty()) {
    t += "# collectives: t = latency + bytes x bus bandwidth factor / busbw (nccl-tests busbw), per op and layout\n";
    t += "# op              layout                  samples  bytes range              latency   busbw    rms_err  max_err\n";
    t += "#                                                                             (us)    (GB/s)     (%)      (%)\n";
    for (const auto& k : c.collectives) {
      char buf[320];
      std::snprintf(buf, sizeof buf, "  %-16s %-23s %5d  %9.3g .. %9.3g  %8.2f %8.1f %8.2f %8.2f%s\n", to_string(k.op),
                    to_string(k.layout), k.fit.samples, k.fit.range_lo, k.fit.range_hi, k.latency_s * 1e6,
                    k.busbw_bytes_per_s / 1e9, 100 * k.fit.rms_error, 100 * k.fit.max_error,
                    k.table.empty() ? "" : "  (table by size)");
      t += buf;
    }
  }
  return t;
}

}  // namespace hcpsim

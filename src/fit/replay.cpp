#include "fit/replay.hpp"
#include "fit/median.hpp"

#include <algorithm>
#include <cassert>
#include <vector>

#include "workload/attention_common.hpp"
#include "common/diagnostics.hpp"
#include "common/join_words.hpp"
#include "common/json_reader.hpp"
#include "scenario/presets.hpp"
#include "workload/program_builder.hpp"

namespace hcpsim {

ElementwiseKind elementwise_kind(const ElementwiseConfig& e) {
  if (e.op == "rmsnorm") return ElementwiseKind::Norm;
  if (e.op == "rope") return ElementwiseKind::Rope;
  if (e.op == "swiglu") return ElementwiseKind::Activation;
  if (e.op == "add") return ElementwiseKind::Add;
  if (e.op == "cross_entropy") return ElementwiseKind::CrossEntropy;
  if (e.op == "adamw") return ElementwiseKind::Optimizer;
  assert(!"read_elementwise accepts only these ops");
  return ElementwiseKind::Copy;
}

std::string elementwise_parameter(const ElementwiseConfig& e) {
  const ElementwiseKind k = elementwise_kind(e);
  const std::string base = std::string("memory_efficiency_") + to_string(k);
  if (k == ElementwiseKind::Add || k == ElementwiseKind::Optimizer) return base;  // one value, both passes
  return base + (e.pass == "bwd" ? "_bwd" : "_fwd");
}

Op measured_op(const Measurement& m) {
  RankProgram prog;
  ProgramBuilder b(prog);
  switch (m.kind) {
    case MeasurementKind::Attention:
    case MeasurementKind::CpStep:
      b.set_phase(m.attention.backward ? Phase::Backward : Phase::Forward);
      attention_kernel(b, Stream::Compute, m.name, m.attention, std::nullopt, {});
      break;
    case MeasurementKind::Gemm:
      prog.ops[size_t(b.gemm(Stream::Compute, m.name, m.gemm, rules::is_fp8(m.gemm_type) ? 1 : 2))].gemm_type = m.gemm_type;
      break;
    case MeasurementKind::Copy:
      b.elementwise(Stream::Compute, "copy", m.copy_bytes_moved);
      break;
    case MeasurementKind::Elementwise:
      // Its minimum traffic as hcpcal_torch counts it, the same count the workload uses.
      b.set_phase(m.elementwise.pass == "bwd" ? Phase::Backward : Phase::Forward);
      b.elementwise(Stream::Compute, m.name, elementwise_kind(m.elementwise), m.elementwise.bytes_moved);
      break;
    case MeasurementKind::CpRun:
    case MeasurementKind::Collective:
    case MeasurementKind::Interference:
    case MeasurementKind::Layer:
      assert(!"not one kernel: replayed by replay_cp / check");
      break;
  }
  return prog.ops.empty() ? Op{} : prog.ops.back();
}

double measured_size(const Measurement& m) {
  const Op op = measured_op(m);
  return m.kind == MeasurementKind::Copy || m.kind == MeasurementKind::Elementwise ? op.bytes : op.flops;
}

AttentionBackend rules_backend(const Measurement& m, std::optional<AttentionBackend> calibration_backend) {
  return attention_backend_of(m).value_or(calibration_backend.value_or(AttentionBackend::CuDNN));
}

double measured_work(const Measurement& m, const GpuSpec& gpu, std::optional<AttentionBackend> calibration_backend) {
  if (m.kind != MeasurementKind::Attention && m.kind != MeasurementKind::CpStep) return measured_size(m);
  return attention_table_work(measured_op(m), gpu, rules_backend(m, calibration_backend));
}

GpuSpec measured_gpu(const MeasurementSet& set, const GpuSpec& preset_gpu) {
  GpuSpec gpu = preset_gpu;
  const nlohmann::json& e = set.environment;
  if (e.is_object() && e.contains("sm_count") && e["sm_count"].is_number_integer() && e["sm_count"].get<int64_t>() > 0)
    gpu.sm_count = e["sm_count"].get<int64_t>();
  return gpu;
}

double measured_efficiency(const Measurement& m, const GpuSpec& gpu, std::optional<AttentionBackend> calibration_backend) {
  const bool memory = m.kind == MeasurementKind::Copy || m.kind == MeasurementKind::Elementwise;
  const rules::GemmType type = m.kind == MeasurementKind::Gemm ? m.gemm_type : rules::GemmType::Bf16;
  const double rate = memory ? gpu.hbm_bytes_per_s : gemm_peak_flops_per_s(gpu, type);  // the cost model's peak
  double t = m.median_s;
  const bool attention = m.kind == MeasurementKind::Attention || m.kind == MeasurementKind::CpStep;
  if (attention && rules_backend(m, calibration_backend) == AttentionBackend::CuDNN && m.attention.backward &&
      m.attention.heads_q > m.attention.heads_kv) {
    // The table describes cuDNN's attention kernels without its GQA reduction, which the
    // simulator adds back at the defaults' HBM copy efficiency (cudnn_gqa_reduce_s).
    const CostParams d = default_cost_params(gpu, AttentionBackend::CuDNN);
    const double reduce_s = cudnn_gqa_reduce_s(m.attention, AttentionBackend::CuDNN, gpu.hbm_bytes_per_s,
                                               d.memory_efficiency, d.kernel_floor_s);
    assert(reduce_s < t);  // two memory-bound passes over dK, dV: a fraction of the backward
    t -= reduce_s;
  }
  return measured_work(m, gpu, calibration_backend) / (t * rate);
}

double predicted_at_clock_s(const CostModel& model, const Op& op, double clock_mhz) {
  const double t = model.compute_time_s(op);
  const auto& shape = model.params().attention_shape;
  if (op.kind != OpKind::Compute || op.compute_class != ComputeClass::Attention || !shape || !shape->applies_to(op.attn))
    return t;
  return at_sm_clock(t, shape->clock_mhz, clock_mhz);
}

double predicted_time_s(const CostModel& model, const Measurement& m) {
  if (m.kind != MeasurementKind::CpStep || m.cp_step <= 0 || m.cp_ranks <= 0)
    return predicted_at_clock_s(model, measured_op(m), m.sm_clock_mhz);
  // hcpcal's step time is the median over the ranks of step i: rank r runs the lower step
  // (2c x c) when i <= r, the upper one (c x 2c) otherwise; equal FLOPs, not equal time.
  Measurement lower = m, upper = m;
  upper.attention.sq = m.attention.skv;
  upper.attention.skv = m.attention.sq;
  const double t_lower = model.compute_time_s(measured_op(lower)), t_upper = model.compute_time_s(measured_op(upper));
  std::vector<double> t;
  for (int64_t r = 0; r < m.cp_ranks; ++r) t.push_back(m.cp_step <= r ? t_lower : t_upper);
  return median(t);
}

ClusterSpec node_for_measurements(const std::string& gpu_model, const std::string& preset,
                                  std::vector<std::string>* warnings) {
  const ClusterPreset* measured = nullptr;  // the preset of the GPU the measurements ran on, if any
  for (const auto& p : cluster_presets())
    if (!measured && gpu_model_matches(gpu_model, p.spec.gpu)) measured = &p;
  if (!preset.empty()) {
    const ClusterPreset* p = find_cluster_preset(preset);
    if (!p)
      throw InputError({{"--gpu", "unknown cluster preset \"" + preset + "\"", "a name from `hcpsim presets`",
                         "use one of: " + join_words(cluster_preset_names(), "or")}});
    // Efficiencies are fractions of the measured GPU's peaks: another GPU's would be wrong by the
    // ratio of their peaks, and a calibration is never carried to another GPU model. A GPU no
    // preset has (a GH200, say) is fitted against the preset given, said.
    if (gpu_model_matches(gpu_model, p->spec.gpu)) return p->spec;
    if (measured)
      throw InputError({{"--gpu", "preset \"" + preset + "\" has a " + p->spec.gpu.name + ", not the measurements' \"" +
                                      gpu_model + "\" (environment.gpu_model)",
                         "the preset names the GPU the measurements ran on",
                         "leave --gpu out, or give a preset of that GPU (see `hcpsim presets`)"}});
    if (warnings)
      warnings->push_back("no preset has the measured \"" + gpu_model + "\": fitted against --gpu " + preset + "'s " +
                          p->spec.gpu.name + " peaks and links, which the calibration's efficiencies are fractions of");
    return p->spec;
  }
  if (measured) return measured->spec;
  throw InputError({{"environment.gpu_model", "no preset GPU matches \"" + gpu_model + "\"",
                     "the peaks a calibration's efficiencies are fractions of come from the preset of the measured GPU",
                     "pass --gpu with the preset closest to it (see `hcpsim presets`): its peaks and links are then "
                     "the fit's"}});
}

}  // namespace hcpsim

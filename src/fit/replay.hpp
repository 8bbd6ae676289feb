// A measurement as the simulator sees it: the op the workload builder would emit for the
// same shape (same FLOP and byte counts), and the time the cost model gives that op.
#pragma once

#include <string>

#include "fit/measurements.hpp"
#include "cost/cost_model.hpp"

namespace hcpsim {

// The compute op for `m`: attention through attention_kernel(), GEMM through
// ProgramBuilder::gemm (bf16), a copy as an elementwise op of its bytes moved.
Op measured_op(const Measurement& m);

// The kind of memory-bound kernel an elementwise record timed (rmsnorm: Norm, rope: Rope,
// swiglu: Activation, add: Add, cross_entropy: CrossEntropy, adamw: Optimizer), and the
// calibration parameter its efficiency is ("memory_efficiency_norm_fwd", "memory_efficiency_add").
ElementwiseKind elementwise_kind(const ElementwiseConfig& e);
std::string elementwise_parameter(const ElementwiseConfig& e);

// Size of the op: FLOPs (bytes for copies and memory-bound kernels). What check orders shapes
// by to pick the half it fits on, whatever the model.
double measured_size(const Measurement& m);

// Work of the op in the unit its efficiency table is indexed by on `gpu`: its size, and for
// cuDNN attention the table's work (attention_table_work: FLOPs x the busiest SM's share).
double measured_work(const Measurement& m, const GpuSpec& gpu,
                     std::optional<AttentionBackend> calibration_backend = std::nullopt);

// Whose kernel rules (table axis, extra kernels) an attention record follows in fit and check:
// its own backend; a record of an unknown one, the calibration's; else cuDNN (the scenarios'
// default).
AttentionBackend rules_backend(const Measurement& m, std::optional<AttentionBackend> calibration_backend);

// The GPU the measurements ran on: `preset_gpu` with the SM count hcpcal recorded
// (environment.sm_count), where it did: an H100 PCIe matches the H100 preset but has 114 SMs, and
// cuDNN's tables are on the busiest SM's work over the SMs measured.
GpuSpec measured_gpu(const MeasurementSet& set, const GpuSpec& preset_gpu);

// Efficiency the measurement shows: work / (median time x the GPU's peak rate).
double measured_efficiency(const Measurement& m, const GpuSpec& gpu,
                           std::optional<AttentionBackend> calibration_backend = std::nullopt);

double predicted_time_s(const CostModel& model, const Measurement& m);

// The cost model's time for `op` on a GPU whose SM clock was `clock_mhz` (0: unknown): an
// attention op timed by the calibrated shape model scales from the model's clock to it.
double predicted_at_clock_s(const CostModel& model, const Op& op, double clock_mhz);

// The node the measurements ran on: the cluster preset named `preset` (e.g. "dgx-h200"),
// or, when empty, the first preset whose GPU name (up to its first '-') appears in
// `gpu_model` ("NVIDIA H200" -> dgx-h200). Its GPU's peaks are what efficiencies are
// fractions of; its links' line rates are what collective efficiencies are fractions of.
// Throws InputError at "environment.gpu_model" when none matches: hcpsim does not guess.
ClusterSpec node_for_measurements(const std::string& gpu_model, const std::string& preset,
                                  std::vector<std::string>* warnings = nullptr);

}  // namespace hcpsim

// The one place that turns work (FLOPs, bytes) into time.
//
// Compute time of an op = max(launch floor, work / (peak rate x efficiency)),
// where the efficiency depends on the kernel class and its size:
//   GEMM        FLOPs / (peak x eff_gemm(FLOPs))
//   attention   FLOPs / (bf16 peak x eff_attn(pass, mask, FLOPs)), or, when a calibration
//               holds an attention shape model for the op's head dim, the time of the
//               busiest SM of hcpsim's own kernels (AttentionShapeModel below)
//   elementwise bytes / (HBM bandwidth x memory efficiency)
// Efficiency tables are piecewise linear in log10(FLOPs) and clamped at the
// ends. Defaults come from measurements on an H200 (docs/cost-model.md,
// cuDNN fused attention = Transformer Engine's FusedAttention backend, cuBLAS
// GEMMs) expressed as fractions of the datasheet peak, and are applied to other
// GPUs' peaks as fractions too; a calibration file replaces them.
//
// Network: link bandwidths are the cluster's line rates times a per-class
// efficiency (what NCCL achieves on them), applied once when the platform is
// built (`effective_cluster`).
#pragma once

#include <array>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cost/attention_tiles.hpp"
#include "scenario/gpu_names.hpp"
#include "scenario/scenario.hpp"
#include "cost/calibrated_collective.hpp"
#include "cost/roofline.hpp"
#include "rules/fp8_gemm.hpp"
#include "rules/interference.hpp"
#include "workload/workload.hpp"

namespace hcpsim {

// The range of every efficiency a calibration gives (a fraction of a peak): below a thousandth a
// kernel or link would take a thousand times its roofline, no measurement's outcome but a broken
// file (and SimGrid's rates leave their range); above 1.5, a peak that is wrong.
inline constexpr double kMinEfficiency = 1e-3;
inline constexpr double kMaxEfficiency = 1.5;

// (FLOPs, efficiency) points, FLOPs increasing.
struct EfficiencyTable {
  std::vector<std::pair<double, double>> points;
  double at(double flops) const;
};

// Seconds of one attention launch from the load of its busiest SM (attention_tiles.hpp):
//   t = t0_s + cta_s x CTAs + tile_s x tiles + masked_tile_s x masked tiles  (busiest SM)
//       + empty_cta_s x empty CTAs                                          (busiest SM)
//       + split_element_s x fp32 partial-result elements  (split backward; split-KV forward)
//       + combine_launch_s + combine_row_s x output rows  (split-KV forward's combine kernel)
//       + query_element_s x query elements                                  (backward)
// t0_s: launch, the side kernels (backward: dQ zeroing, delta, dQ conversion) and the tail;
// cta_s: a CTA's prologue/epilogue (first loads, output store); tile_s: one tile (forward
// 128 x 128) or query step (backward 64 x 128); masked_tile_s: what a mask adds to one;
// empty_cta_s: a CTA with no tiles in its range (FlashAttention-2's split-KV forward: a causal
// split past its rows' diagonal writes its zero partial output and exits); cta_s where the
// measurements had none;
// split_element_s: one fp32 element of the partial results summed after the units: a backward's
// dK/dV whose query heads split over CTAs (the atomic adds of every head and the conversion), or
// a split-KV forward's partial outputs (written by the split kernel, read by the combine);
// combine_launch_s, combine_row_s: the split-KV forward's second kernel (flash_fwd_splitkv_
// combine_kernel): its launch behind the first and fixed time, and one output row it merges
// (batch x query heads x sq rows; attention_tiles.hpp, split_combine_rows);
// query_element_s: one element of the backward's memory-bound side kernels, which scale with
// the query side (batch x sq x query heads x head dim: zeroing and converting the fp32 dQ
// accumulator, delta = rowsum(dO * O)).
struct AttentionTileTimes {
  double t0_s = 0, cta_s = 0, tile_s = 0, masked_tile_s = 0, split_element_s = 0, query_element_s = 0;
  double empty_cta_s = 0, combine_launch_s = 0, combine_row_s = 0;
  CtaCost cta_cost() const { return {cta_s, tile_s, masked_tile_s, empty_cta_s}; }
};

// What the time model counts for one launch: the busiest SM's load under `t`'s CTA costs, the
// partial-result elements summed after the units, and the split-KV forward's combine kernel
// (launches 1 and its rows, or 0). time_s is the one formula above.
struct AttentionWork {
  SmLoad busiest;
  int64_t split_elements = 0;
  int64_t query_elements = 0;  // backward: batch x sq x query heads x head dim; forward: 0
  int64_t combine_launches = 0, combine_rows = 0;
  std::optional<PlacementRange> placements;  // where the schedule is drawn (AttentionTiling)
  double time_s(const AttentionTileTimes& t) const;
  // Half the range of time_s over the drawn placements, relative to time_s (0 where the
  // schedule is not drawn): how much the launch's time depends on which blocks share an SM.
  double placement_spread(const AttentionTileTimes& t) const;
};
AttentionWork attention_work(const AttentionShape& s, int64_t sm_count, const AttentionTileTimes& t,
                             AttentionBackend backend = AttentionBackend::Hcpsim);

// Seconds of SM-clock-bound work that took `seconds` at `from_mhz`, at `to_mhz` (time
// scales with 1 / clock); unchanged where either clock is unknown (0).
double at_sm_clock(double seconds, double from_mhz, double to_mhz);

// Fitted per pass and mask for `backend`'s kernels (head dim `head_dim`; their geometry:
// attention_tiles.hpp) on a GPU of `sm_count` SMs, at SM clock `clock_mhz`: the clock the calibration's measurements ran at under
// sustained load (their median; 0 where the measurements did not record clocks). A GPU at its
// power limit runs the same kernel at a lower clock and proportionally slower (RESULTS.md).
struct AttentionShapeModel {
  AttentionBackend backend = AttentionBackend::Hcpsim;
  int64_t sm_count = 0;
  int64_t head_dim = 0;
  double clock_mhz = 0;
  AttentionTileTimes fwd_causal, fwd_nomask, bwd_causal, bwd_nomask;
  // Whether the backward parts are fitted: false for a cuDNN model fitted without backward
  // records of a GPU-counted clock (fit_attention.hpp), whose backward its tables time.
  bool backward = true;
  const AttentionTileTimes& times_for(const AttentionShape& s) const;
  // Same head dim for Q/K and V, no sliding window, a pass the model covers.
  bool applies_to(const AttentionShape& s) const;
  double time_s(const AttentionShape& s) const;  // at clock_mhz
  struct Timing {
    double time_s = 0;            // at clock_mhz
    double placement_spread = 0;  // AttentionWork::placement_spread
    // A FlashAttention-2 varlen launch (AttentionShape::more): its CTAs past a shorter document's
    // end exit at once, at a cost hcpsim has not measured, between none and the fitted empty CTA's
    // (a split-KV forward's empty split, which writes its zero partial result; the backward's CTA
    // term). time_s takes the middle; this is half the range, relative to it.
    double exit_spread = 0;
  };
  Timing timing(const AttentionShape& s) const;
};

// How far to trust one kernel class's times, and why (run/uncertainty.hpp turns these into
// the band of a prediction): `relative` is the band of that class's time.
// `shared_basis` (empty: `basis` itself) is the measurement the band rests on in common with other
// GPUs' predictions, `shared_relative` its part of `relative` (a figure carried from a sibling
// GPU: the sibling's measurement and margin, the carry adding the rest independently).
struct KernelEvidence {
  std::string what;   // "attention", "gemm", "elementwise"
  double relative = 0;
  std::string basis;  // the evidence: a calibration's residuals, a roofline margin, ...
  std::string shared_basis;
  double shared_relative = 0;
};

struct CostParams {
  // The attention backend the attention tables and shape model describe (one per scenario:
  // software.attention_backend); a calibration of another backend leaves them at these.
  AttentionBackend attention_backend = AttentionBackend::CuDNN;
  EfficiencyTable gemm;  // bf16 (cuBLAS)
  // Transformer Engine's fp8 GEMMs (rules/fp8_gemm.hpp), fraction of the fp8 peak; empty where
  // not measured on this GPU model, when they take the bf16 table's fractions (gemm_table).
  EfficiencyTable gemm_fp8_fast_accum, gemm_fp8_split_accum;
  EfficiencyTable gemm_mxfp8;  // Blackwell's block-scaled GEMMs; empty: the bf16 table's fractions
  // NVFP4's GEMMs, fraction of the fp4 peak: a calibration's, else made from the fp8 table under
  // NVFP4 training (cost_params_for; rules::kNvfp4OverFp8Rate); empty: the bf16 table's fractions
  EfficiencyTable gemm_nvfp4;
  const EfficiencyTable& gemm_table(rules::GemmType type) const;
  EfficiencyTable attention_fwd_causal, attention_fwd_nomask;
  EfficiencyTable attention_bwd_causal, attention_bwd_nomask;
  std::optional<AttentionShapeModel> attention_shape;  // from a calibration; overrides the tables where it applies
  std::optional<RooflineFigures> roofline;  // set where kernel times come from a roofline (an unmeasured GPU)
  double memory_efficiency = 0.9;      // copies and fused memory-bound kernels: fraction of HBM bandwidth
  // The layer's and loss's memory-bound kernels as measured (ElementwiseKind Norm .. Optimizer),
  // [kind][backward]: fraction of HBM bandwidth of their minimum traffic. Add and Optimizer have
  // one value (index 0) for both passes.
  std::array<std::array<double, 2>, kElementwiseKinds> elementwise_efficiency{};
  double elementwise_efficiency_of(ElementwiseKind kind, bool backward) const;
  double kernel_floor_s = 2e-6;        // shortest kernel (launch + tail)
  InterferenceModel interference;      // NCCL beside compute, both ways (rules/interference.hpp)
  // Collectives a calibration measured (op x layout): what the simulator runs such calls at
  // instead of NCCL's cost model (docs/nccl.md §6). Empty: NCCL's model.
  std::vector<CalibratedCollective> collectives;
  double intra_node_efficiency = 1.0;  // achieved / line rate, intra-node links (NVLink, PCIe)
  double nic_efficiency = 1.0;         // achieved / line rate, NIC and fabric links
  std::string source;                  // where these numbers come from (printed in reports)
  std::vector<std::string> calibrated; // parameters taken from a calibration file (calibration_file.hpp)
  std::vector<std::string> warnings;   // what the user should know (a calibration of another GPU model)
  std::vector<KernelEvidence> evidence;  // per kernel class: attention, gemm, elementwise
  void set_evidence(const std::string& what, double relative, const std::string& basis,
                    const std::string& shared_basis = "", double shared_relative = 0);
  const KernelEvidence* evidence_for(const std::string& what) const;
};

// Defaults from public figures and the H200 anchors (sources in cost_model.cpp): cuDNN's
// attention on an H200 at its sustained clock.
CostParams default_cost_params();
// The defaults for `backend`'s attention kernels on `gpu` (docs/cost-model.md §2).
CostParams default_cost_params(const GpuSpec& gpu, AttentionBackend backend);

// The parameters a calibration file may set, by the name the file, the fit and the check use:
// one list, so that the reader, apply_calibration and the fit cannot drift apart.
struct CostTableParameter {
  const char* name;  // "gemm", "attention_fwd_causal", ...
  EfficiencyTable CostParams::*member;
};
struct CostScalarParameter {
  const char* name;                 // "memory_efficiency", "interference_comm_gemm_k8", ...
  double& (*ref)(CostParams&);      // the value in a CostParams
  double lo, hi;                    // the range a calibration file may give
};
const std::vector<CostTableParameter>& cost_table_parameters();
const std::vector<CostScalarParameter>& cost_scalar_parameters();

// The attention table a kernel of this pass and mask takes its efficiency from (any causal
// mask, top-left or bottom-right, takes the causal table). Pass the executed kernel's mask
// (attention_table_parameter_for below), not the scores'.
const CostTableParameter& attention_table_parameter(bool backward, KernelMask mask);

// The table of the kernel `backend` runs for s (executed_attention_shape, attention_tiles.hpp):
// the one rule the simulator, `fit` and `check` use.
const CostTableParameter& attention_table_parameter_for(const AttentionShape& s, AttentionBackend backend,
                                                        const GpuSpec& gpu);

// How much longer a GEMM takes on `sm_count` SMs less `margin` (TE userbuffers' set_sm_margin:
// cuBLAS is given the SMs the comm kernels leave, rules/tp_comm_overlap.hpp) than on all of them:
// sm_count / (sm_count - margin), a GEMM of many waves running at the SM count it has. 1 where no
// margin is held or the SM count is not given (validation warns).
double gemm_sm_margin_factor(int64_t margin, int64_t sm_count);

// Exponentials per second of `gpu`'s special-function units (the softmax's exp): 16 per clock
// per SM on sm_80 .. sm_100 (CUDA C++ Programming Guide, arithmetic instruction throughput:
// exp2f), 32 on Blackwell Ultra sm_103 (FlashAttention-4 paper); 0 when the SM count or clock is
// not given.
double exp_ops_per_s(const GpuSpec& gpu);

// How much longer than its FLOPs say an attention kernel of head dim `head_dim` takes, given the
// efficiency `efficiency` its table gives for head dim 128 (docs/cost-model.md, "head dims"):
// per score, the matmuls take 4 d (forward; backward 10 d) FLOPs and the softmax one exponential
// on the special-function units, which do not run beside the tensor cores in FlashAttention-2's
// schedule. The head-dim-128 time splits into matmul x (1 - x) and exp x; at head dim d the matmul
// part scales by d / 128 and the exp part does not: factor = (1 - x) + x x 128 / d. 1 at head dim
// 128 and where exp_ops_per_s is 0.
double head_dim_factor(const GpuSpec& gpu, double peak_flops_per_s, double efficiency, int64_t head_dim, bool backward);

// The work an attention op's efficiency table is indexed by, and its time is proportional to:
// for cuDNN, whose tables are fitted so, the FLOPs of the kernel it executes (every tile of the
// rectangle where executed_attention_shape drops the mask; op.flops, the scores', stay the
// model FLOPs of MFU) x attention_balance on `sm_count` SMs (the busiest SM's share; a
// persistent kernel of unpublished schedule, attention_tiles.hpp; none where gpu.sm_count is 0);
// for the other backends its FLOPs. The simulator, `fit` and `check` all index the tables by it.
double attention_table_work(const Op& op, const GpuSpec& gpu, AttentionBackend backend);

// Seconds of the memory-bound kernels cuDNN's GQA backward runs after its main kernel: dK and dV
// are computed per query head and summed over each KV head's group by two fmha_reduce_head kernels
// (launch records, calibrate/RESULTS.md seventh run), each reading the per-query-head tensor and
// writing the per-KV-head one in bf16: batch x skv x head dim x (heads_q + heads_kv) x 2 bytes, at
// the HBM copy's efficiency, no shorter than `kernel_floor_s`. 0 for a forward, without GQA, or
// for another backend. The simulator adds it to cuDNN's table time; `fit` takes it off the
// measured time before the table sees it.
double cudnn_gqa_reduce_s(const AttentionShape& s, AttentionBackend backend, double hbm_bytes_per_s,
                          double memory_efficiency, double kernel_floor_s);

class CostModel {
 public:
  CostModel(const GpuSpec& gpu, Precision precision, CostParams params);
  // Seconds one compute op takes alone on the GPU; 0 for comm ops.
  double compute_time_s(const Op& op) const;
  // The part of compute_time_s(op) that depends on which blocks share an SM, relative: an
  // attention launch's placement spread where its schedule is drawn (FlashAttention-2's forward
  // under its shape model), else 0.
  double placement_spread(const Op& op) const;
  double varlen_exit_spread(const Op& op) const;  // AttentionShapeModel::Timing::exit_spread, 0 elsewhere
  // Whether op is an attention op the FLOPs tables time although a shape model exists: the model
  // does not cover its shape (a sliding window, another head dim). Its band is the tables' own.
  bool attention_outside_shape_model(const Op& op) const {
    return op.kind == OpKind::Compute && op.compute_class == ComputeClass::Attention && params_.attention_shape &&
           !shape_model_applies(op);
  }
  const CostParams& params() const { return params_; }
  // Whether op is an attention op the shape model times (else the attention tables do, by FLOPs:
  // a varlen launch's exiting CTAs then count nothing).
  bool shape_model_applies(const Op& op) const;
  // The training precision's GEMM peak (fp8 when training in fp8): MFU's denominator. Each GEMM's
  // own time takes the peak of its type (Op::gemm_type).
  double gemm_peak_flops_per_s() const { return gemm_peak_; }

 private:
  GpuSpec gpu_;
  double gemm_peak_ = 0;  // bf16, or fp8 when training in fp8 (MFU)
  CostParams params_;
  // The shape model's time of each executed attention shape, once: a layer's ring steps repeat a
  // few shapes many times, and FlashAttention-2's forward is scheduled under several drawn
  // placements (cost/attention_tiles.hpp). One CostModel serves one simulation (one thread).
  mutable std::map<AttentionShape, AttentionShapeModel::Timing> shape_timing_;
  // The factor on attention's time at its head dim against the head-dim-128 tables: 1 / the measured
  // rate on Hopper (cost/head_dim_rates.hpp), else head_dim_factor's exponential model.
  double head_dim_slowdown(const Op& op, double efficiency) const;
  // The shape model's timing of op (an attention op it applies to), memoized.
  const AttentionShapeModel::Timing& shape_timing(const Op& op) const;
};

// The defaults, with the scenario's calibration file (if any) applied for its cluster's GPU.
// Throws InputError at "calibration" when the file cannot be read or is malformed.
CostParams cost_params_for(const Scenario& sc);
CostModel cost_model_for(const Scenario& sc);

// The scenario's cluster with link bandwidths scaled to what NCCL achieves.
ClusterSpec effective_cluster(const ClusterSpec& cluster, const CostParams& params);

}  // namespace hcpsim

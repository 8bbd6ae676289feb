// calibration.json: the cost-model parameters a calibration overrides, written by
// `hcpsim fit` (calibrate/) and read here for a scenario's "calibration" key.
//
//   { "format": "hcpsim-calibration/1",
//     "gpu": "NVIDIA H200",                       // what the measurements ran on
//     "peak_bf16_flops_per_s": 9.89e14,           // peaks the efficiencies are fractions of
//     "hbm_bytes_per_s": 4.8e12,
//     "measurements": "measurements.json",        // provenance, free text
//     "method": "...",                            // how the fit was made, free text
//     "parameters": {
//       "<table>": { "points": [[flops, efficiency], ...],   // FLOPs increasing
//                    "backend": "hcpsim-flash", "samples": 12, "flops_range": [lo, hi],
//                    "rms_error": 0.01, "max_error": 0.03 },  // relative time error of the fit
//       "<scalar>": { "value": 0.9, "samples": 4, "range": [lo, hi], "rms_error": .., "max_error": .. } } }
//
//     "collectives": [ { "op": "all_reduce", "layout": "intra-node", "latency_s": 2e-5,
//                        "busbw_bytes_per_s": 3.6e11, "table": [[bus_bytes, s], ...] (optional),
//                        "samples": .., "bytes_range": [lo, hi], "rms_error": .., "max_error": .. } ]
//   (optional; files without it load as before)
//     "attention_shape": { "sm_count": 132, "head_dim": 128, "sm_clock_mhz": 1845, "backend": "hcpsim-flash",
//                          "fwd_causal": { "t0_s": .., "cta_s": .., "tile_s": .., "masked_tile_s": ..,
//                                          "split_element_s": .., "query_element_s": ..,
//                                          "samples": .., "flops_range": [lo, hi], "tiles_range": [lo, hi],
//                                          "rms_error": .., "max_error": .. },
//                          "fwd_nomask": {..}, "bwd_causal": {..}, "bwd_nomask": {..} }
//   (optional, format /2: the shape-aware attention model, cost_model.hpp AttentionShapeModel;
//   it replaces the attention tables for ops of its head dim. Format /3 adds sm_clock_mhz, the
//   SM clock its times are at, split_element_s and query_element_s; /2 and /1 files still load.)
// <table> is gemm, attention_fwd_causal, attention_fwd_nomask, attention_bwd_causal or
// attention_bwd_nomask; <scalar> is memory_efficiency, kernel_floor_s, intra_node_efficiency,
// nic_efficiency or an interference factor (interference_compute_<class>,
// interference_comm_<class>_k<k>; rules/interference.hpp). Parameters left out keep their
// defaults; the old comm_interference is read and left out with a warning.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cost/cost_model.hpp"

namespace hcpsim {

// A table's size axis: FLOPs (bytes for memory-bound kernels), or for cuDNN attention its FLOPs x
// attention_balance over `sm_count` SMs (cost_model.hpp, attention_table_work).
inline constexpr const char* kWorkFlopsTimesBalance = "flops_x_balance";

struct CalibratedTable {
  std::string name;  // e.g. "attention_fwd_causal"
  EfficiencyTable table;
  FitSummary fit;
  std::string work;  // kWorkFlopsTimesBalance for cuDNN attention; empty: FLOPs
};

struct CalibratedScalar {
  std::string name;  // e.g. "memory_efficiency"
  double value = 0;
  FitSummary fit;
};

// The attention shape model with the evidence behind each (pass, mask) set of coefficients;
// the range of tiles on the busiest SM that set was fitted on, besides FLOPs.
struct CalibratedAttentionShape {
  AttentionShapeModel model;
  std::string backend;
  FitSummary fwd_causal, fwd_nomask, bwd_causal, bwd_nomask;                   // range: FLOPs
  std::pair<double, double> tiles_fwd_causal, tiles_fwd_nomask, tiles_bwd_causal, tiles_bwd_nomask;  // busiest SM
};

// Names of the four (pass, mask) sets, in file order, with their members.
struct AttentionShapePart {
  const char* name;  // "fwd_causal", ...
  AttentionTileTimes AttentionShapeModel::*times;
  FitSummary CalibratedAttentionShape::*fit;
  std::pair<double, double> CalibratedAttentionShape::*tiles;
  bool backward;  // a backward part (absent from a model that covers the forward only)
};
// Whether `a`'s model has `part` (AttentionShapeModel::backward).
bool has_part(const CalibratedAttentionShape& a, const AttentionShapePart& part);
const std::vector<AttentionShapePart>& attention_shape_parts();

// How a calibration predicted measurements it was not fitted on (top-level "held_out_check",
// optional): `hcpsim check --in-sample` of the file on held-out measurement files, summarised by
// calibrate/make_defaults.py for the built-in defaults. Errors are relative, of kernel time.
struct HeldOutCheck {
  double relative = 0;      // time-weighted rms error: the error of a kernel drawn in proportion to its time
  double median_error = 0;  // median |error| over the cases
  double max_error = 0;     // largest |error|
  int64_t cases = 0;
  std::string measurements;  // the held-out files
};

struct CalibrationFile {
  std::string gpu;
  double peak_bf16_flops_per_s = 0;
  double hbm_bytes_per_s = 0;
  std::string measurements;
  std::string method;
  std::vector<CalibratedTable> tables;
  std::vector<CalibratedScalar> scalars;
  std::vector<CalibratedCollective> collectives;  // top-level "collectives" (optional)
  std::optional<CalibratedAttentionShape> attention_shape;  // top-level "attention_shape" (optional)
  // The backend whose kernels the attention tables and shape model describe (top-level
  // "attention_backend", format /4; older files: from the tables' "backend", hcpcal's kernels).
  std::optional<AttentionBackend> attention_backend;
  bool legacy_comm_interference = false;  // the file has the old one-factor comm_interference (ignored)
  std::optional<HeldOutCheck> attention_held_out;  // "held_out_check": {"attention": ...} (optional)
};

// The parameter names a calibration may hold.
const std::vector<std::string>& calibration_table_names();
const std::vector<std::string>& calibration_scalar_names();

// Throws InputError with every problem, each at its JSON path under `json_path`.
CalibrationFile read_calibration_file(const std::string& file_path, const std::string& json_path = "calibration");
CalibrationFile parse_calibration_text(const std::string& text, const std::string& source,
                                       const std::string& json_path = "calibration");
std::string calibration_to_json(const CalibrationFile& c);

// `base` with the file's parameters in place of its own, for a cluster of `gpu`; `source` then
// names the file, the parameters taken from it and those left at their defaults. A calibration
// of another GPU model (gpu_model_matches) carries over only the parameters that do not depend
// on the GPU model (depends_on_gpu_model: the NIC efficiency and the kernel launch floor), and
// says so in `warnings`. `base.attention_backend` is the scenario's backend: attention tables and
// the shape model of a calibration of another backend are left out, with a warning.
CostParams apply_calibration(const CalibrationFile& c, CostParams base, const std::string& file_path, const GpuSpec& gpu);

// Whether a calibration parameter describes an attention backend's kernels (the attention_*
// tables and attention_shape): those carry only to scenarios of that backend.
bool is_attention_parameter(const std::string& name);

// Whether any of `names` (parameters taken from a calibration, CostParams::calibrated) starts
// with `prefix` ("gemm", "attention_").
bool took_parameter(const std::vector<std::string>& names, const std::string& prefix);

// The largest rms relative residual of the file's attention fits (tables and shape model): the
// band its attention times carry (run/uncertainty.hpp).
double attention_fit_residual(const CalibrationFile& c);

// The attention part's band (docs/cost-model.md, bands) from a calibration of attention kernels:
// its held-out check where the file has one, else its fits' rms residual (in sample). `what`
// names the calibration in the basis ("the built-in h200-cudnn attention fit", a file path).
void set_attention_evidence(const CalibrationFile& c, const std::string& what, CostParams& p);

// Whether a calibration parameter describes the GPU it was measured on: kernel efficiency
// tables, the attention shape model, HBM efficiency, NCCL's slowdown of kernels, NVLink
// efficiency. The NIC efficiency (the network) and kernel_floor_s (the host's launch) do not.
bool depends_on_gpu_model(const std::string& parameter);

}  // namespace hcpsim

// measurements.json as hcpcal writes it (schema in calibrate/hcpcal/results.h), read into
// plain structs. Every problem is reported at its JSON path (InputError, exit 2).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "scenario/scenario.hpp"
#include "workload/workload.hpp"

namespace hcpsim {

// CpStep: one step of hcpcal's virtual-rank CP attention ("cp_attention" in the file,
// expanded into one item per step): its attention kernel's median time, with the shape of
// that step (diagonal: 2c x 2c causal; later steps: 2c x c, no mask). Never fitted on,
// always checked: it tests the tables on the shapes the CP schedule runs.
// CpRun: a whole virtual-rank CP attention pass of the new format (config.transport, any of
// the four, fwd or bwd; results.kernels = every attention kernel of every rank, labelled as
// the workload builder labels the op; results.peak_bytes per rank). Replayed through the
// workload builder (fit/replay_cp.hpp), never fitted on.
// Collective: one nccl-tests size of one collective on one layout (fitted, alpha-beta).
// Interference: a victim's time with an aggressor beside it and alone (fitted, factors).
// Layer: one whole transformer layer (hcpcal_torch's layer suite), fwd, bwd or fwd+bwd.
// Elementwise: one of the layer's memory-bound kernels alone (RMSNorm, RoPE, SwiGLU, the
// residual add, cross entropy, AdamW), from hcpcal_torch's kernels suite.
enum class MeasurementKind { Attention, Gemm, Copy, CpStep, CpRun, Collective, Interference, Layer, Elementwise };

// One measured attention kernel of a CpRun.
struct CpKernelTime {
  int64_t rank = 0;
  std::string label;  // e.g. "attn.fwd.step1.lower"
  double median_s = 0, min_s = 0, max_s = 0;
  double sm_clock_mhz = 0;  // the SM clock this kernel's timed runs ended at; 0: not recorded (the record's)
  std::string path;   // "measurements[3].results.kernels[5]"
};

struct CpRunConfig {
  CpCommType transport = CpCommType::P2P;
  bool backward = false;
  int64_t ranks = 0;              // CP size R
  std::vector<int64_t> hcp;       // [A, P] for a2a+p2p, else empty
  int64_t seq = 0, batch = 1, heads_q = 0, heads_kv = 0, head_dim = 0;
  bool causal = true;
  std::string launch = "virtual";  // "virtual" (one GPU) or "nccl"
  std::vector<CpKernelTime> kernels;
  std::vector<double> peak_bytes;  // per rank; empty when not measured
  double pool_granularity_bytes = 0;  // what a 1-byte allocation occupies in the pool (0: not given)
};


struct CollectiveConfig {
  CommPattern op = CommPattern::AllReduce;
  double bytes = 0;  // nccl-tests size: the whole buffer (per rank for all_gather's output, as nccl-tests)
  int64_t ranks = 0, nodes = 1, gpus_per_node = 0;
  CollectiveLayout layout = CollectiveLayout::IntraNode;
  double algbw_GBps = 0, busbw_GBps = 0;
};

struct InterferenceConfig {
  std::string victim;     // attention_fwd, attention_bwd, collective, gemm, hbm_copy, cta_copy
  std::string aggressor;  // collective, copy, attention, cta_copy, cta_spin, attention_fwd/bwd, gemm
  int64_t ctas = 0;       // the CTAs of a cta_copy / cta_spin (config.shape.ctas; 0: none)
  bool transfer_first = false;  // config.shape.launch_order "transfer_first": the victim transfer launched before the kernel
  double alone_median_s = 0, slowdown = 0;  // slowdown = median_s / alone_median_s
  bool overlap_verified = true;              // config.shape.overlap_verified where given
};

// A layer of hcpcal_torch (config of kind "layer"): the model it is, the tokens and the pass.
struct LayerConfig {
  std::string model;  // "llama3.1-8b"
  int64_t seq = 0, batch = 1, hidden = 0, heads_q = 0, heads_kv = 0, head_dim = 0, ffn = 0;
  std::string pass;   // "fwd", "bwd", "fwd+bwd"
};

// An elementwise kernel of hcpcal_torch: which op, which pass, over how many tokens (or
// parameters for the optimizer), and the minimum bytes it moves as the harness counts them.
struct ElementwiseConfig {
  std::string op;    // rmsnorm, rope, swiglu, add, cross_entropy, adamw
  std::string pass;  // fwd, bwd, step
  int64_t tokens = 0, params = 0;
  double bytes_moved = 0;
};

// A case a backend could not run (the file's top-level "unsupported"), with the reason.
struct UnsupportedCase {
  std::string backend, name, reason;
};

struct Measurement {
  MeasurementKind kind = MeasurementKind::Attention;
  std::string backend;
  std::string name;          // config.name where given, else built from the shape
  AttentionShape attention;  // kinds Attention and CpStep (mask None or CausalTopLeft; backward = pass "bwd")
  GemmShape gemm;            // kind Gemm
  rules::GemmType gemm_type = rules::GemmType::Bf16;  // kind Gemm: config.dtype and fast_accum
  double copy_bytes_moved = 0;  // kind Copy: bytes read + written
  int iterations = 0;
  double median_s = 0, min_s = 0, max_s = 0;
  double sm_clock_mhz = 0;  // the SM clock the timed runs ended at (hcpcal probes it); 0: not recorded
  // Whether the GPU counted that clock (results.sm_clock_source "gpu_cycles": hcpcal_torch's spin
  // kernels of known cycles) rather than NVML reporting it, which on short back-to-back stretches at
  // the power limit can sit 10-20 % off the clock the kernels ran at (calibrate/RESULTS.md, fourteenth run).
  bool sm_clock_counted = false;
  bool checked = false;
  int64_t wrong = 0;
  std::string path;  // "measurements[3]", for messages
  // Kind CpStep: step `cp_step` of a ring of `cp_ranks` (rank r runs lower if cp_step <= r, else upper).
  int64_t cp_ranks = 0, cp_step = -1;
  CpRunConfig cp;                  // kind CpRun
  CollectiveConfig collective;     // kind Collective
  InterferenceConfig interference; // kind Interference
  LayerConfig layer;               // kind Layer
  ElementwiseConfig elementwise;   // kind Elementwise
};

// The attention backend whose kernels a record timed: "cudnn" and "flash" (hcpcal_torch),
// "hcpsim-flash..." (hcpcal's own kernels, also with "+device-copy" etc.), and the layer
// suite's "torch+cudnn" / "torch+flash"; nullopt for records of no attention backend.
std::optional<AttentionBackend> attention_backend_of(const Measurement& m);

// Attention, Gemm, Copy, CpStep and Elementwise: one kernel the cost model times directly.
inline bool is_kernel_measurement(const Measurement& m) {
  return m.kind == MeasurementKind::Attention || m.kind == MeasurementKind::Gemm ||
         m.kind == MeasurementKind::Copy || m.kind == MeasurementKind::CpStep || m.kind == MeasurementKind::Elementwise;
}

struct MeasurementSet {
  nlohmann::json environment;
  std::string gpu_model;
  double l2_bytes = 0;
  bool complete = false;
  std::vector<Measurement> items;
  std::vector<UnsupportedCase> unsupported;  // cases a backend could not express (hcpcal_torch)
};

MeasurementSet parse_measurements_text(const std::string& text, const std::string& source);
MeasurementSet read_measurements_file(const std::string& file_path);

// Several files as one set (e.g. hcpcal's attention suite and its cp suite, run apart): items
// in file order, their paths prefixed with the file ("cp.json: measurements[3]") when there
// is more than one; environment and L2 size from the first. Throws InputError at
// "environment.gpu_model" when the files name different GPUs.
MeasurementSet read_measurement_files(const std::vector<std::string>& file_paths);

// Key of the shape a measurement times, without the pass: forward and backward of one
// attention shape share it, and so do the KV-head variants of one (sq, skv, mask, query heads).
std::string shape_group_key(const Measurement& m);

}  // namespace hcpsim

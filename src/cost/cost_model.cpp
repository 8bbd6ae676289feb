#include "cost/cost_model.hpp"

#include "cost/attention_tiles.hpp"
#include "cost/calibration_file.hpp"
#include "cost/default_calibrations.hpp"
#include "cost/head_dim_rates.hpp"
#include "cost/roofline.hpp"
#include "common/strprintf.hpp"
#include "rules/fused_kernels.hpp"
#include "rules/memory_bound_transfer.hpp"
#include "scenario/presets.hpp"
#include "workload/attention_common.hpp"

#include <algorithm>
#include <array>
#include <string>
#include <utility>
#include <cctype>
#include <cassert>
#include <cmath>

namespace hcpsim {

namespace {

constexpr double kH200PeakBf16 = 989e12;  // datasheet dense bf16, the denominator of every anchor fraction

// FLOPs of one attention call as docs/cost-model.md counts them: 4*h*sq*skv*d, halved when causal; backward 2.5x.
double anchor_attention_flops(double seq, bool causal, bool backward) {
  const double heads = 32, head_dim = 128;
  double f = 4 * heads * seq * seq * head_dim * (causal ? 0.5 : 1.0);
  return backward ? 2.5 * f : f;
}

// Measured TFLOP/s (docs/cost-model.md [H200-SDPA], cuDNN, bf16, b=1, 32 heads, d=128) at sq = skv = 2K..32K.
EfficiencyTable attention_table(const double (&tflops)[5], bool causal, bool backward) {
  const double seqs[5] = {2048, 4096, 8192, 16384, 32768};
  EfficiencyTable t;
  for (int i = 0; i < 5; ++i)
    t.points.emplace_back(anchor_attention_flops(seqs[i], causal, backward), tflops[i] * 1e12 / kH200PeakBf16);
  return t;
}

}  // namespace

double EfficiencyTable::at(double flops) const {
  assert(!points.empty());
  if (flops <= points.front().first) return points.front().second;
  if (flops >= points.back().first) return points.back().second;
  for (size_t i = 1; i < points.size(); ++i) {
    if (flops <= points[i].first) {
      const auto [x0, y0] = points[i - 1];
      const auto [x1, y1] = points[i];
      const double u = (std::log10(flops) - std::log10(x0)) / (std::log10(x1) - std::log10(x0));
      return y0 + u * (y1 - y0);
    }
  }
  return points.back().second;
}

const AttentionTileTimes& AttentionShapeModel::times_for(const AttentionShape& s) const {
  const bool causal = s.mask != KernelMask::None;
  return s.backward ? (causal ? bwd_causal : bwd_nomask) : (causal ? fwd_causal : fwd_nomask);
}

bool AttentionShapeModel::applies_to(const AttentionShape& s) const {
  return sm_count > 0 && s.head_dim_qk == head_dim && s.head_dim_v == head_dim && s.window == 0 &&
         (backward || !s.backward);
}

double at_sm_clock(double seconds, double from_mhz, double to_mhz) {
  return from_mhz > 0 && to_mhz > 0 ? seconds * from_mhz / to_mhz : seconds;
}

double AttentionWork::time_s(const AttentionTileTimes& t) const {
  return t.t0_s + t.cta_s * double(busiest.ctas) + t.tile_s * double(busiest.tiles) +
         t.masked_tile_s * double(busiest.masked) + t.empty_cta_s * double(busiest.empty) +
         t.split_element_s * double(split_elements) + t.combine_launch_s * double(combine_launches) +
         t.combine_row_s * double(combine_rows) + t.query_element_s * double(query_elements);
}

double AttentionWork::placement_spread(const AttentionTileTimes& t) const {
  const double median = time_s(t);
  if (!placements || !(median > 0)) return 0;
  AttentionWork shortest = *this, longest = *this;
  shortest.busiest = placements->shortest, longest.busiest = placements->longest;
  return (longest.time_s(t) - shortest.time_s(t)) / (2 * median);
}

AttentionWork attention_work(const AttentionShape& s, int64_t sm_count, const AttentionTileTimes& t,
                             AttentionBackend backend) {
  AttentionWork w;
  const AttentionTiling tiling = attention_tiling(s, sm_count, t.cta_cost(), backend);
  w.busiest = tiling.busiest;
  w.placements = tiling.placements;
  w.split_elements = split_accumulator_elements(s, backend, sm_count);
  if (s.backward)
    for (const AttentionShape& p : sequence_parts(s)) w.query_elements += p.batch * p.sq * p.heads_q * p.head_dim_qk;
  w.combine_rows = split_combine_rows(s, backend, sm_count);
  w.combine_launches = w.combine_rows > 0 ? 1 : 0;
  return w;
}

double AttentionShapeModel::time_s(const AttentionShape& s) const { return timing(s).time_s; }

AttentionShapeModel::Timing AttentionShapeModel::timing(const AttentionShape& s) const {
  const AttentionTileTimes& c = times_for(s);
  const AttentionWork w = attention_work(s, sm_count, c, backend);
  Timing t{w.time_s(c), w.placement_spread(c), 0};
  if (s.ragged() && backend == AttentionBackend::Flash) {  // its empty CTAs are the exiting ones (no key split)
    const double exiting_s = c.empty_cta_s * w.busiest.empty;
    t.time_s -= exiting_s / 2;
    t.exit_spread = t.time_s > 0 ? exiting_s / 2 / t.time_s : 0;
  }
  return t;
}

CostParams default_cost_params() {
  CostParams p;
  // cuBLAS bf16 GEMM on H200: 731 TFLOP/s at 4096^3, 702 at 8192^3 (docs/cost-model.md [H200-SDPA]).
  p.gemm.points = {{2.0 * 4096 * 4096 * 4096, 731e12 / kH200PeakBf16}, {2.0 * 8192 * 8192 * 8192, 702e12 / kH200PeakBf16}};
  // cuDNN fused attention on H200 (docs/cost-model.md [H200-SDPA]), sq = skv = 2K, 4K, 8K, 16K, 32K.
  p.attention_fwd_nomask = attention_table({600, 623, 618, 615, 620}, false, false);
  p.attention_fwd_causal = attention_table({412, 517, 561, 584, 605}, true, false);
  p.attention_bwd_nomask = attention_table({437, 493, 516, 531, 546}, false, true);
  p.attention_bwd_causal = attention_table({291, 417, 464, 510, 530}, true, true);
  // Device-to-device copy on H200: 4.3 TB/s of 4.8 (docs/cost-model.md [H200-SDPA]).
  p.memory_efficiency = 4.3 / 4.8;
  for (auto& k : p.elementwise_efficiency) k = {p.memory_efficiency, p.memory_efficiency};
  p.kernel_floor_s = 2e-6;
  // NCCL beside compute, measured on an H200 (hcpcal --suite interference, part (c);
  // calibrate/results/h200-interference-cta.json, calibrate/RESULTS.md "Fifth run"), the values
  // `hcpsim fit` derives from it: compute slowdown per class beside k copying CTAs (median over
  // k), and the k-CTA copy's slowdown launched after the GEMM / attention (forward and backward
  // together) and launched just before it (shared). No memory-bound kernel was measured as the
  // aggressor: 1.
  p.interference.compute_slowdown = {1.0579, 1.0005, 1.0};
  p.interference.comm_slowdown = {{{1.3012, 1.2860, 1.5321, 2.6033, 3.3980, 3.2727},
                                   {1.1278, 1.0705, 1.0290, 1.0846, 1.5972, 2.3654},
                                   {1, 1, 1, 1, 1, 1}}};
  p.interference.comm_shared_slowdown = {{{1.1863, 1.2436, 1.0939, 1.1369, 1.1643, 1.1331},
                                          {1.1019, 1.0663, 1.0, 1.0165, 1.0238, 1.0349},
                                          {1, 1, 1, 1, 1, 1}}};
  // NCCL busbw 8xH100 in a node ~370 GB/s of 450 (nccl-tests #212); NDR 400 Gb/s NIC 46-49 GB/s of 50
  // (nccl-tests #267, #290).
  p.intra_node_efficiency = 370.0 / 450.0;
  p.nic_efficiency = 47.5 / 50.0;
  p.source = "defaults: H200 anchors (cuDNN attention, cuBLAS GEMM, copy bandwidth) and public NCCL bandwidths";
  p.set_evidence("attention", 0.05, "cuDNN attention anchors on an H200 (docs/cost-model.md)");
  p.set_evidence("gemm", 0.05, "cuBLAS GEMM anchors on an H200 (docs/cost-model.md)");
  // Norms, RoPE, SwiGLU, adds, loss and optimizer at the HBM copy efficiency: PyTorch's unfused
  // kernels measured on the H200 reach 0.1-1.0 of it (calibrate/torch/README.md, kernels suite).
  p.set_evidence("elementwise", 0.5, "HBM copy efficiency for every memory-bound kernel (not measured per kernel)");
  return p;
}

namespace {

// The embedded calibration `name` (default_calibrations.hpp), parsed once.
const CalibrationFile& default_calibration(const std::string& name) {
  static const std::vector<std::pair<std::string, CalibrationFile>> files = [] {
    std::vector<std::pair<std::string, CalibrationFile>> v;
    for (const auto& [n, text] : default_calibration_texts())
      v.emplace_back(n, parse_calibration_text(text, "built-in " + n + ".json"));
    return v;
  }();
  for (const auto& [n, c] : files)
    if (n == name) return c;
  assert(!"default_calibrations.cmake embeds every file named here");
  return files.front().second;
}

const char* default_file_of(AttentionBackend b) {
  switch (b) {
    case AttentionBackend::CuDNN: return "h200-cudnn";
    case AttentionBackend::Flash: return "h200-flash";
    case AttentionBackend::Hcpsim: return "h200-hcpsim";
  }
  return "h200-cudnn";
}

const EfficiencyTable* table_in(const CalibrationFile& c, const std::string& name) {
  for (const auto& t : c.tables)
    if (t.name == name) return &t.table;
  return nullptr;
}

// The table's large-kernel plateau: its highest efficiency (the measured curve can dip at its end,
// e.g. a 128K-token kernel that runs alone at a lower clock).
double plateau_of(const EfficiencyTable& t) {
  double best = 0;
  for (const auto& pt : t.points) best = std::max(best, pt.second);
  return best;
}

// `t` for a GPU of peak `peak` whose large kernels reach `fraction` of it, from a table measured
// on a GPU of peak `ref_peak` (roofline.hpp): equal time at peak, the plateau rescaled.
EfficiencyTable rooflined(const EfficiencyTable& t, double ref_peak, double peak, double fraction) {
  EfficiencyTable out;
  const double plateau = plateau_of(t);
  for (const auto& [flops, eff] : t.points) out.points.emplace_back(flops * peak / ref_peak, eff / plateau * fraction);
  return out;
}

}  // namespace

double CostParams::elementwise_efficiency_of(ElementwiseKind kind, bool backward) const {
  switch (kind) {
    case ElementwiseKind::Copy:
    case ElementwiseKind::Fused: return memory_efficiency;
    default: break;
  }
  const auto& e = elementwise_efficiency[static_cast<int>(kind)];
  const bool one_value = kind == ElementwiseKind::Add || kind == ElementwiseKind::Optimizer;
  const double v = e[one_value || !backward ? 0 : 1];
  return v > 0 ? v : memory_efficiency;  // not set (parameters built by hand): the copy's
}

void CostParams::set_evidence(const std::string& what, double relative, const std::string& basis,
                              const std::string& shared_basis, double shared_relative) {
  assert(shared_basis.empty() || shared_relative <= relative);
  for (KernelEvidence& e : evidence)
    if (e.what == what) {
      e = {what, relative, basis, shared_basis, shared_relative};
      return;
    }
  evidence.push_back({what, relative, basis, shared_basis, shared_relative});
}

const KernelEvidence* CostParams::evidence_for(const std::string& what) const {
  for (const KernelEvidence& e : evidence)
    if (e.what == what) return &e;
  return nullptr;
}

namespace {

double table_residual(const CalibrationFile& c, const std::string& name) {
  for (const auto& t : c.tables)
    if (t.name == name) return t.fit.rms_error;
  return 0;
}

const CalibratedScalar* scalar_in(const CalibrationFile& c, const std::string& name) {
  for (const CalibratedScalar& sc : c.scalars)
    if (sc.name == name) return &sc;
  return nullptr;
}

// Whether `c` was measured on the scenario's GPU: its model token and its HBM bandwidth (an H100
// PCIe shares the token, not the memory).
bool measured_on(const CalibrationFile& c, const GpuSpec& gpu) {
  return gpu_model_matches(c.gpu, gpu) && c.hbm_bytes_per_s > 0 &&
         std::abs(gpu.hbm_bytes_per_s - c.hbm_bytes_per_s) <= 0.01 * c.hbm_bytes_per_s;
}

double sm_rate(const GpuSpec& g) { return double(g.sm_count) * g.sm_clock_mhz; }

const GpuSpec& preset_gpu(const char* preset) {
  const ClusterPreset* c = find_cluster_preset(preset);
  assert(c && "the measured GPUs' presets exist");
  return c->spec.gpu;
}

// The memory-bound kernels' fractions of `gpu`'s HBM bandwidth (docs/cost-model.md, "Memory-bound
// kernels on other GPUs"): a GPU they were measured on (H200, H100) keeps its own; any other gets
// the H200's, carried by each kernel's HBM share, measured between the two
// (rules/memory_bound_transfer.hpp).
void set_memory_bound_defaults(const GpuSpec& gpu, CostParams& p) {
  const CalibrationFile& h200 = default_calibration("h200-memory-bound");
  const CalibrationFile& h100 = default_calibration("h100-memory-bound");
  const GpuSpec& h200_gpu = preset_gpu("dgx-h200");
  const GpuSpec& h100_gpu = preset_gpu("dgx-h100");
  const double k_h100 = rules::memory_bound_k(h200_gpu.hbm_bytes_per_s, sm_rate(h200_gpu), h100_gpu.hbm_bytes_per_s,
                                              sm_rate(h100_gpu));
  const double k_gpu = rules::memory_bound_k(h200_gpu.hbm_bytes_per_s, sm_rate(h200_gpu), gpu.hbm_bytes_per_s, sm_rate(gpu));
  const bool own_h200 = measured_on(h200, gpu), own_h100 = !own_h200 && measured_on(h100, gpu);
  double residual = 0;
  for (const CalibratedScalar& ref : h200.scalars) {
    const CalibratedScalar* other = scalar_in(h100, ref.name);
    double fraction = ref.value, rms = ref.fit.rms_error;
    if (own_h100 && other) {
      fraction = other->value, rms = other->fit.rms_error;
    } else if (!own_h200) {
      const double share = other ? rules::memory_bound_share(ref.value, other->value, k_h100) : -1;
      fraction = rules::memory_bound_fraction_on(ref.value, share < 0 ? 1.0 : share, k_gpu, p.memory_efficiency);
    }
    for (const CostScalarParameter& q : cost_scalar_parameters())
      if (ref.name == q.name) q.ref(p) = fraction;
    residual = std::max(residual, rms);
  }
  const std::string kernels = "PyTorch's RMSNorm, RoPE, SwiGLU, add, cross entropy, fused AdamW";
  std::string basis = "rms residual of the memory-bound kernel fits (built-in ";
  if (own_h100)
    basis += "h100-memory-bound: PyTorch's RMSNorm, RoPE, SwiGLU and add on an H100; its cross entropy and fused AdamW, "
             "not measured there, the H200's as fractions of its bandwidth)";
  else if (own_h200)
    basis += "h200-memory-bound: " + kernels + " on an H200)";
  else
    basis += "h200-memory-bound, " + kernels + " on an H200), carried to " + gpu.name +
             (k_gpu > 0 ? " by each kernel's HBM share (measured against an H100)"
                        : " as fractions of its HBM bandwidth (its SM count or clock is not given)");
  // Carried to another GPU: at least the transfer's own validation error (rules::kCarriedMemoryBoundBand).
  // A GPU of a measured one's balance of SMs to bandwidth (k of 1 or the H100's: the H800) keeps the fits'.
  const auto near = [](double a, double b) { return std::abs(a - b) <= 0.01 * b; };
  const bool carried = !own_h200 && !own_h100 && !(k_gpu > 0 && (near(k_gpu, 1) || near(k_gpu, k_h100)));
  if (carried) basis += "; the transfer's error against NVIDIA's PyTorch RMSNorm on GB200 and GB300";
  p.set_evidence("elementwise", carried ? std::max(residual, rules::kCarriedMemoryBoundBand) : residual, basis);
}

// Transformer Engine's fp8 GEMMs of the GPU models hcpsim measured them on (built-in h100-fp8-gemm,
// h200-fp8-gemm: hcpcal_torch's gemm suite); elsewhere the tables stay empty and the bf16 fractions
// serve, with their band (cost_params_for, rules/fp8_gemm.hpp).
void set_fp8_gemm_defaults(const GpuSpec& gpu, CostParams& p) {
  for (const char* file : {"h100-fp8-gemm", "h200-fp8-gemm"}) {
    const CalibrationFile& c = default_calibration(file);
    if (!measured_on(c, gpu)) continue;
    double residual = 0;
    for (const CostTableParameter& t : cost_table_parameters())
      if (std::string(t.name).rfind("gemm_fp8_", 0) == 0)
        if (const EfficiencyTable* g = table_in(c, t.name)) {
          p.*(t.member) = *g;
          residual = std::max(residual, table_residual(c, t.name));
        }
    p.set_evidence("gemm_fp8", residual,
                   std::string("rms residual of the built-in fp8 GEMM fits (Transformer Engine's, through cuBLASLt; ") +
                       file + ", sustained clock)");
    return;
  }
}

}  // namespace

CostParams default_cost_params(const GpuSpec& gpu, AttentionBackend backend) {
  CostParams p = default_cost_params();
  p.attention_backend = backend;
  // Kernels measured on the H200 at its sustained clock (src/cost/defaults/, docs/cost-model.md §2):
  // cuBLAS GEMM and the copy from hcpcal's run, attention from the backend's own run.
  const CalibrationFile& kernels = default_calibration("h200-hcpsim");
  const CalibrationFile& attention = default_calibration(default_file_of(backend));
  // The H100's own cuBLAS GEMM and copy where the scenario's GPU is one (built-in h100-hcpsim): it
  // holds a higher clock than the H200 under GEMMs at the same power cap (docs/cost-model.md).
  const CalibrationFile& h100 = default_calibration("h100-hcpsim");
  const CalibrationFile& gemm_copy = measured_on(h100, gpu) ? h100 : kernels;
  if (const EfficiencyTable* g = table_in(gemm_copy, "gemm")) p.gemm = *g;
  set_fp8_gemm_defaults(gpu, p);
  if (const CalibratedScalar* copy = scalar_in(gemm_copy, "memory_efficiency"))
    p.memory_efficiency = copy->value;  // the HBM copy, sustained
  set_memory_bound_defaults(gpu, p);
  for (const CostTableParameter& t : cost_table_parameters())
    if (is_attention_parameter(t.name))
      if (const EfficiencyTable* a = table_in(attention, t.name)) p.*(t.member) = *a;
  const std::optional<RooflineFigures> roof = roofline_figures(gpu, backend);
  if (!roof) {  // Hopper: the H200's own measurements (same SMs, clocks and power cap on H100/H800)
    if (attention.attention_shape) p.attention_shape = attention.attention_shape->model;
    set_attention_evidence(attention, std::string("the built-in h200-") + to_string(backend) + " attention fit (H200, sustained clock)", p);
    p.set_evidence("gemm", table_residual(gemm_copy, "gemm"),
                   "rms residual of the built-in cuBLAS GEMM fit (" + std::string(&gemm_copy == &h100 ? "H100" : "H200") +
                       ", sustained clock)");
    p.source = std::string("defaults: ") + to_string(backend) +
               (&gemm_copy == &h100 ? " attention measured on an H200, cuBLAS GEMM on an H100, at the sustained clock (built-in h200-" +
                                          std::string(to_string(backend)) + ", h100-hcpsim)"
                                    : " attention and cuBLAS GEMM measured on an H200 at its sustained clock (built-in h200-" +
                                          std::string(to_string(backend)) + ", h200-hcpsim)") +
               ", public NCCL bandwidths";
    return p;
  }
  const double ref_peak = kernels.peak_bf16_flops_per_s > 0 ? kernels.peak_bf16_flops_per_s : kH200PeakBf16;
  // GEMM: the GPU's MAMF fraction brought to the sustained clock and training's shapes by the
  // ratio Hopper shows between the two (roofline.hpp), against the H200 fit's plateau.
  const double gemm_fraction = sustained_gemm_fraction(*roof, plateau_of(p.gemm));
  p.gemm = rooflined(p.gemm, ref_peak, gpu.peak_bf16_flops_per_s, gemm_fraction);
  // fp8 GEMMs where the GPU has an fp8 matmul benchmark figure: the same conversion against the H200's
  // fp8 fit (the benchmark asks for the split accumulator), the falloff of that fit at equal time.
  // Blackwell's tensor cores accumulate in fp32 (no split-accumulator pass), so TE's forward and
  // gradient GEMMs take one table; MXFP8's block-scaled GEMMs run at rules::kMxfp8OverFp8Rate of it.
  double fp8_fraction = 0;
  if (roof->gemm_fp8_mamf > 0 && gpu.peak_fp8_flops_per_s > 0) {
    const CalibrationFile& h200_fp8 = default_calibration("h200-fp8-gemm");
    const EfficiencyTable* split = table_in(h200_fp8, "gemm_fp8_split_accum");
    assert(split);
    const double ref_fp8_peak = 2 * ref_peak;  // Hopper's dense fp8 rate is twice its bf16 rate
    fp8_fraction = sustained_fp8_gemm_fraction(*roof, plateau_of(*split));
    p.gemm_fp8_fast_accum = rooflined(*split, ref_fp8_peak, gpu.peak_fp8_flops_per_s, fp8_fraction);
    p.gemm_fp8_split_accum = p.gemm_fp8_fast_accum;
    p.gemm_mxfp8 = rooflined(*split, ref_fp8_peak, gpu.peak_fp8_flops_per_s, fp8_fraction * rules::kMxfp8OverFp8Rate);
    p.set_evidence("gemm_fp8", roof->gemm_fp8_margin,
                   std::string("roofline margin for ") + gpu.name + " (" + roof->gemm_fp8_basis + ")");
  }
  // Attention: the backend's published fraction on this GPU, per table; NVIDIA's cuDNN benchmark
  // brought to the sustained clock by its H200 figures against hcpsim's sustained H200 cuDNN fit.
  const CalibrationFile& cudnn_h200 = default_calibration(default_file_of(AttentionBackend::CuDNN));
  const AttentionFigures& a = roof->attention;
  double fwd = 0, bwd = 0;  // the causal tables' fractions, for the summary
  for (const CostTableParameter& t : cost_table_parameters()) {
    const std::string name = t.name;
    if (!is_attention_parameter(name)) continue;
    const bool backward = name.find("bwd") != std::string::npos, causal = name.find("causal") != std::string::npos;
    const EfficiencyTable* h200 = table_in(cudnn_h200, name);
    assert(h200);
    const EfficiencyTable* own = table_in(attention, name);  // the backend's H200 fit
    const double fraction = a.h200_fractions && own ? plateau_of(*own)
                                                    : sustained_attention_fraction(a, backward, causal, plateau_of(*h200));
    p.*(t.member) = rooflined(p.*(t.member), ref_peak, gpu.peak_bf16_flops_per_s, fraction);
    if (causal) (backward ? bwd : fwd) = fraction;
  }
  p.roofline = *roof;
  p.set_evidence("attention", a.margin, std::string("roofline margin for ") + gpu.name + " (" + a.basis + ")",
                 roof->attention_shared_basis, roof->attention_shared_margin);
  p.set_evidence("gemm", roof->gemm_margin, std::string("roofline margin for ") + gpu.name + " (" + roof->gemm_basis + ")",
                 roof->gemm_shared_basis, roof->gemm_shared_margin);
  const auto pct = [](double x) { return std::to_string(int(x * 100 + 0.5)) + "%"; };
  p.source = std::string("roofline for ") + gpu.name + ": GEMM " + pct(gemm_fraction) + " (matmul benchmark " +
             pct(roof->gemm_mamf) + " (its fastest call, best shape), x the H200's sustained / benchmark ratio; " + roof->gemm_basis +
             ")" +
             (fp8_fraction > 0 ? ", fp8 GEMM " + pct(fp8_fraction) + " of the fp8 peak (benchmark " + pct(roof->gemm_fp8_mamf) +
                                     ", the same conversion; " + roof->gemm_fp8_basis + ")"
                               : std::string()) +
             ", " + to_string(backend) + " attention fwd " + pct(fwd) + " / bwd " + pct(bwd) + " of its peak, causal (" +
             a.basis + (a.cudnn_benchmark ? ", x the benchmark's H200 sustained / published ratio" : "") + "; " +
             a.source + "), small-kernel falloff of the H200's measured " + to_string(backend) + " curves at equal time";
  return p;
}

const EfficiencyTable& CostParams::gemm_table(rules::GemmType type) const {
  const EfficiencyTable& quantized = type == rules::GemmType::Nvfp4          ? gemm_nvfp4
                                     : type == rules::GemmType::Mxfp8        ? gemm_mxfp8
                                     : type == rules::GemmType::Fp8FastAccum ? gemm_fp8_fast_accum
                                                                             : gemm_fp8_split_accum;
  return rules::is_quantized(type) && !quantized.points.empty() ? quantized : gemm;
}

const std::vector<CostTableParameter>& cost_table_parameters() {
  static const std::vector<CostTableParameter> t = {{"gemm", &CostParams::gemm},
                                                    {"attention_fwd_causal", &CostParams::attention_fwd_causal},
                                                    {"attention_fwd_nomask", &CostParams::attention_fwd_nomask},
                                                    {"attention_bwd_causal", &CostParams::attention_bwd_causal},
                                                    {"attention_bwd_nomask", &CostParams::attention_bwd_nomask},
                                                    {"gemm_fp8_fast_accum", &CostParams::gemm_fp8_fast_accum},
                                                    {"gemm_fp8_split_accum", &CostParams::gemm_fp8_split_accum},
                                                    {"gemm_mxfp8", &CostParams::gemm_mxfp8},
                                                    {"gemm_nvfp4", &CostParams::gemm_nvfp4}};
  return t;
}

namespace {

template <ElementwiseKind K, int B>
double& elementwise_ref(CostParams& p) {
  return p.elementwise_efficiency[static_cast<int>(K)][B];
}

template <int C>
double& compute_slowdown_ref(CostParams& p) {
  return p.interference.compute_slowdown[C];
}
// Table T of the interference model: 0 comm_slowdown, 1 comm_shared_slowdown.
template <int T, int C, int K>
double& comm_slowdown_ref(CostParams& p) {
  return (T == 0 ? p.interference.comm_slowdown : p.interference.comm_shared_slowdown)[C][K];
}
template <int T, int C, int... K>
void add_comm_slowdowns(std::vector<CostScalarParameter>& s, std::integer_sequence<int, K...>) {
  static const std::array<std::string, sizeof...(K)> names = {
      (std::string(T == 0 ? "interference_comm_" : "interference_comm_shared_") + kInterferenceClassNames[C] + "_k" +
       std::to_string(kInterferenceChannels[K]))...};
  (s.push_back({names[K].c_str(), &comm_slowdown_ref<T, C, K>, 1, 10}), ...);
}

}  // namespace

const std::vector<CostScalarParameter>& cost_scalar_parameters() {
  static const std::vector<CostScalarParameter> s = [] {
    std::vector<CostScalarParameter> v = {
        {"memory_efficiency", [](CostParams& p) -> double& { return p.memory_efficiency; }, kMinEfficiency, kMaxEfficiency},
        {"kernel_floor_s", [](CostParams& p) -> double& { return p.kernel_floor_s; }, 0, 1e-3},
        {"intra_node_efficiency", [](CostParams& p) -> double& { return p.intra_node_efficiency; }, kMinEfficiency, kMaxEfficiency},
        {"nic_efficiency", [](CostParams& p) -> double& { return p.nic_efficiency; }, kMinEfficiency, kMaxEfficiency},
        {"interference_compute_gemm", &compute_slowdown_ref<0>, 1, 10},
        {"interference_compute_attention", &compute_slowdown_ref<1>, 1, 10},
        {"interference_compute_elementwise", &compute_slowdown_ref<2>, 1, 10}};
    // The measured memory-bound kernels (calibrate/torch, kernels suite), by kind and pass.
    v.push_back({"memory_efficiency_norm_fwd", &elementwise_ref<ElementwiseKind::Norm, 0>, kMinEfficiency, kMaxEfficiency});
    v.push_back({"memory_efficiency_norm_bwd", &elementwise_ref<ElementwiseKind::Norm, 1>, kMinEfficiency, kMaxEfficiency});
    v.push_back({"memory_efficiency_rope_fwd", &elementwise_ref<ElementwiseKind::Rope, 0>, kMinEfficiency, kMaxEfficiency});
    v.push_back({"memory_efficiency_rope_bwd", &elementwise_ref<ElementwiseKind::Rope, 1>, kMinEfficiency, kMaxEfficiency});
    v.push_back({"memory_efficiency_activation_fwd", &elementwise_ref<ElementwiseKind::Activation, 0>, kMinEfficiency, kMaxEfficiency});
    v.push_back({"memory_efficiency_activation_bwd", &elementwise_ref<ElementwiseKind::Activation, 1>, kMinEfficiency, kMaxEfficiency});
    v.push_back({"memory_efficiency_add", &elementwise_ref<ElementwiseKind::Add, 0>, kMinEfficiency, kMaxEfficiency});
    v.push_back({"memory_efficiency_cross_entropy_fwd", &elementwise_ref<ElementwiseKind::CrossEntropy, 0>, kMinEfficiency, kMaxEfficiency});
    v.push_back({"memory_efficiency_cross_entropy_bwd", &elementwise_ref<ElementwiseKind::CrossEntropy, 1>, kMinEfficiency, kMaxEfficiency});
    v.push_back({"memory_efficiency_optimizer", &elementwise_ref<ElementwiseKind::Optimizer, 0>, kMinEfficiency, kMaxEfficiency});
    const auto knots = std::make_integer_sequence<int, kInterferenceKnots>{};
    add_comm_slowdowns<0, 0>(v, knots);
    add_comm_slowdowns<0, 1>(v, knots);
    add_comm_slowdowns<0, 2>(v, knots);
    add_comm_slowdowns<1, 0>(v, knots);
    add_comm_slowdowns<1, 1>(v, knots);
    add_comm_slowdowns<1, 2>(v, knots);
    return v;
  }();
  return s;
}

const CostTableParameter& attention_table_parameter(bool backward, KernelMask mask) {
  const bool causal = mask != KernelMask::None;
  static const char* const names[2][2] = {{"attention_fwd_nomask", "attention_fwd_causal"},
                                          {"attention_bwd_nomask", "attention_bwd_causal"}};
  const std::string want = names[backward][causal];
  for (const CostTableParameter& t : cost_table_parameters())
    if (want == t.name) return t;
  assert(!"every attention table is a cost table parameter");
  return cost_table_parameters().front();
}

double gemm_sm_margin_factor(int64_t margin, int64_t sm_count) {
  if (margin <= 0 || sm_count <= margin) return 1;
  return double(sm_count) / double(sm_count - margin);
}

double exp_ops_per_s(const GpuSpec& gpu) {
  const double lanes = gpu.compute_capability == 103 ? 32 : 16;
  return double(gpu.sm_count) * gpu.sm_clock_mhz * 1e6 * lanes;
}

double head_dim_factor(const GpuSpec& gpu, double peak_flops_per_s, double efficiency, int64_t head_dim, bool backward) {
  constexpr int64_t kTableHeadDim = 128;  // the head dim every attention table was measured at
  const double exp_rate = exp_ops_per_s(gpu);
  if (head_dim == kTableHeadDim || head_dim <= 0 || !(exp_rate > 0) || !(efficiency > 0)) return 1;
  const double score_s = (backward ? 10.0 : 4.0) * kTableHeadDim / (peak_flops_per_s * efficiency);  // per score at 128
  const double x = std::min(0.9, 1 / (exp_rate * score_s));  // exp share of it
  return (1 - x) + x * double(kTableHeadDim) / double(head_dim);
}

double cudnn_gqa_reduce_s(const AttentionShape& s, AttentionBackend backend, double hbm_bytes_per_s,
                          double memory_efficiency, double kernel_floor_s) {
  if (backend != AttentionBackend::CuDNN || !s.backward || s.heads_kv <= 0 || s.heads_q <= s.heads_kv) return 0;
  if (!(hbm_bytes_per_s > 0) || !(memory_efficiency > 0)) return 0;
  constexpr double kBf16Bytes = 2;
  double keys = 0;
  for (const AttentionShape& p : sequence_parts(s)) keys += double(p.batch) * double(p.skv);
  const double rows = keys * double(s.heads_q + s.heads_kv) * kBf16Bytes;
  const double rate = hbm_bytes_per_s * memory_efficiency;
  return std::max(kernel_floor_s, rows * double(s.head_dim_qk) / rate) +
         std::max(kernel_floor_s, rows * double(s.head_dim_v) / rate);
}

const CostTableParameter& attention_table_parameter_for(const AttentionShape& s, AttentionBackend backend,
                                                        const GpuSpec& gpu) {
  return attention_table_parameter(s.backward, executed_attention_shape(s, backend, gpu.compute_capability).mask);
}

double attention_table_work(const Op& op, const GpuSpec& gpu, AttentionBackend backend) {
  if (backend != AttentionBackend::CuDNN) return op.flops;
  const int64_t sm_count = gpu.sm_count;
  const AttentionShape x = executed_attention_shape(op.attn, backend, gpu.compute_capability);
  double flops = op.flops;
  if (x.mask != op.attn.mask) {  // every tile of the rectangle: scale the scores' FLOPs to it
    double visible = 0, computed = 0;
    for (const AttentionShape& p : sequence_parts(op.attn)) {
      visible += double(p.batch) * visible_elements(p.sq, p.skv, op.attn.mask, std::nullopt);
      computed += double(p.batch) * visible_elements(p.sq, p.skv, x.mask, std::nullopt);
    }
    if (visible > 0) flops *= computed / visible;
  }
  return sm_count > 0 ? flops * attention_balance(x, sm_count, backend) : flops;
}

CostModel::CostModel(const GpuSpec& gpu, Precision precision, CostParams params)
    : gpu_(gpu), params_(std::move(params)) {
  gemm_peak_ = precision_peak_flops_per_s(gpu, precision);
}

double CostModel::compute_time_s(const Op& op) const {
  if (op.kind != OpKind::Compute) return 0;
  double t = 0;
  switch (op.compute_class) {
    case ComputeClass::Gemm: {
      // An fp8 (fp4) GEMM on the fp8 (fp4) peak at its type's fractions (validation keeps fp8 and
      // NVFP4 off GPUs without them).
      const rules::GemmType type = gemm_type_run_on(gpu_, op.gemm_type);
      const double peak = hcpsim::gemm_peak_flops_per_s(gpu_, type);
      const EfficiencyTable& table = params_.gemm_table(type);
      t = op.flops / (peak * table.at(op.gemm_whole_flops > 0 ? op.gemm_whole_flops : op.flops)) *
          gemm_sm_margin_factor(op.gemm_sm_margin, gpu_.sm_count);
      break;
    }
    case ComputeClass::Attention: {
      // Attention runs in bf16 (TE's fp8 attention is out of scope, docs/cp-transports.md §10).
      if (shape_model_applies(op)) {
        t = shape_timing(op).time_s;
        break;
      }
      const EfficiencyTable& table = params_.*attention_table_parameter_for(op.attn, params_.attention_backend, gpu_).member;
      // The tables were measured at head dim 128: a kernel of head dim d sits on their size axis
      // where the head-dim-128 kernel of the same scores would (work x 128 / d).
      const double d = double(op.attn.head_dim_qk > 0 ? op.attn.head_dim_qk : 128);
      const double work = attention_table_work(op, gpu_, params_.attention_backend);
      const double eff = table.at(work * 128 / d);
      t = work / (gpu_.peak_bf16_flops_per_s * eff) * head_dim_slowdown(op, eff) +
          cudnn_gqa_reduce_s(op.attn, params_.attention_backend, gpu_.hbm_bytes_per_s, params_.memory_efficiency,
                             params_.kernel_floor_s);
      break;
    }
    case ComputeClass::Elementwise: {
      const bool backward = op.phase == Phase::Backward && !op.recompute;
      t = op.bytes / (gpu_.hbm_bytes_per_s * params_.elementwise_efficiency_of(op.elementwise, backward) *
                      (op.elementwise == ElementwiseKind::Fused ? op.fused_of_copy : 1.0));
      break;
    }
  }
  return std::max(t, params_.kernel_floor_s);
}

const AttentionShapeModel::Timing& CostModel::shape_timing(const Op& op) const {
  const AttentionShape x = executed_attention_shape(op.attn, params_.attention_shape->backend, gpu_.compute_capability);
  const auto known = shape_timing_.find(x);
  return known != shape_timing_.end() ? known->second
                                      : shape_timing_.emplace(x, params_.attention_shape->timing(x)).first->second;
}

double CostModel::head_dim_slowdown(const Op& op, double efficiency) const {
  const int64_t d = op.attn.head_dim_qk;
  if (d <= 0 || d == 128) return 1;
  // The Hopper kernels' measured rates at head dim d (cost/head_dim_rates.hpp); elsewhere the
  // softmax-exponential model, with its band (cost_params_for).
  if (measured_hopper_die(gpu_)) {  // the rates are this die's, each kernel at the clock it sustains
    const bool causal =
        executed_attention_shape(op.attn, params_.attention_backend, gpu_.compute_capability).mask != KernelMask::None;
    if (const auto rate = measured_head_dim_rate(params_.attention_backend, op.attn.backward, causal, d)) return 1 / *rate;
  }
  return head_dim_factor(gpu_, gpu_.peak_bf16_flops_per_s, efficiency, d, op.attn.backward);
}

bool CostModel::shape_model_applies(const Op& op) const {
  return op.kind == OpKind::Compute && op.compute_class == ComputeClass::Attention && params_.attention_shape &&
         params_.attention_shape->applies_to(op.attn);
}

double CostModel::placement_spread(const Op& op) const {
  return shape_model_applies(op) ? shape_timing(op).placement_spread : 0;
}

double CostModel::varlen_exit_spread(const Op& op) const {
  return shape_model_applies(op) ? shape_timing(op).exit_spread : 0;
}

namespace {

// Under fp8 training the layer's GEMMs are TE's fp8 ones: their band is their own fits' where this
// GPU model measured them, else the error of taking the bf16 fractions on the fp8 peak, with a
// warning (rules/fp8_gemm.hpp, kFp8FromBf16Band).
void apply_fp8_gemm_evidence(const GpuSpec& gpu, CostParams& p) {
  const KernelEvidence* bf16 = p.evidence_for("gemm");
  const double base = bf16 ? bf16->relative : 0;
  if (const KernelEvidence* fp8 = p.evidence_for("gemm_fp8")) {  // the larger of the two, both named
    const KernelEvidence measured = *fp8;
    p.set_evidence("gemm", std::max(base, measured.relative),
                   (bf16 ? bf16->basis + "; " : std::string()) + "fp8: " + measured.basis);
    return;
  }
  const std::string basis = std::string("fp8 GEMMs not measured on ") + gpu.name +
                            ": the bf16 GEMM's fractions on the fp8 peak, which on the H100 and H200 put Transformer "
                            "Engine's fp8 GEMMs up to " + std::to_string(int(rules::kFp8FromBf16Band * 100 + 0.5)) +
                            "% fast (docs/cost-model.md, fp8 GEMMs)";
  if (rules::kFp8FromBf16Band > base) p.set_evidence("gemm", rules::kFp8FromBf16Band, basis);
  p.warnings.push_back(basis + "; measure them with hcpcal_torch.py --suite gemm and hcpsim fit");
}

// Under NVFP4 training the layer's GEMMs are NVFP4's: the GPU's fp8 GEMM table (its own fit, the
// roofline's, or unmeasured the bf16 fractions, as gemm_table takes them) at
// rules::nvfp4_over_fp8_rate of its rate (Transformer Engine's NVFP4/fp8 kernel rate on a B300, read
// both ways), on the fp4 peak, the size axis at equal time. A calibration's gemm_nvfp4 table stands
// as measured. The band: the fp8 GEMMs', the measured rate's and the two readings' gap, independent.
void apply_nvfp4_gemm(const GpuSpec& gpu, CostParams& p) {
  apply_fp8_gemm_evidence(gpu, p);
  if (std::find(p.calibrated.begin(), p.calibrated.end(), "gemm_nvfp4") != p.calibrated.end()) return;
  assert(gpu.peak_fp4_flops_per_s > 0 && gpu.peak_fp8_flops_per_s > 0);  // validation
  const EfficiencyTable& fp8 = p.gemm_table(rules::GemmType::Fp8SplitAccum);
  const double fp8_fraction = plateau_of(fp8);
  const double rate = rules::nvfp4_over_fp8_rate(gpu.peak_fp8_flops_per_s, gpu.peak_fp4_flops_per_s);
  const double gap = rules::nvfp4_reading_gap(gpu.peak_fp8_flops_per_s, gpu.peak_fp4_flops_per_s);
  const double nvfp4_fraction = fp8_fraction * rate * gpu.peak_fp8_flops_per_s / gpu.peak_fp4_flops_per_s;
  p.gemm_nvfp4 = rooflined(fp8, 1.0, rate, nvfp4_fraction);
  const KernelEvidence* e = p.evidence_for("gemm");
  const double fp8_band = e ? e->relative : 0;
  const double band = std::hypot(rules::kNvfp4RateBand, gap);
  const std::string basis =
      std::string("NVFP4 GEMMs: ") + strprintf("%.2f", rate) + "x the fp8 GEMMs' rate (" + strprintf("%.0f", 100 * nvfp4_fraction) +
      "% of the fp4 peak), from Transformer Engine's NVFP4/fp8 kernel rate measured on one B300 (one layer's GEMMs, its "
      "GEMM profiling guide)" +
      (gap > 0.01 ? ", read as a rate and as a fraction of the peak, which differ by " +
                        strprintf("%.0f", 100 * (std::exp(2 * gap) - 1)) + "% on " + gpu.name
                  : std::string()) +
      " (+-" + std::to_string(int(band * 100 + 0.5)) + "% beside the fp8 GEMMs' band; docs/cost-model.md, NVFP4)";
  p.set_evidence("gemm", std::hypot(fp8_band, band), (e ? e->basis + "; " : std::string()) + basis,
                 e ? e->shared_basis : std::string(), e ? e->shared_relative : 0.0);
  p.source += ", NVFP4 GEMM " + strprintf("%.2f", rate) + "x the fp8 GEMM's rate, " + strprintf("%.0f", 100 * nvfp4_fraction) +
              "% of the fp4 peak (Transformer Engine's B300 GEMM profiling)";
  p.warnings.push_back(basis);
}

}  // namespace

// TE's fused RoPE and its quantize kernels run at the copy's efficiency, unmeasured: the memory-bound
// kernels' band is this wide with them (docs/cost-model.md); the measured fused kernels' is
// rules::kMeasuredFusedKernelBand.
constexpr double kUnmeasuredFusedKernelBand = 0.3;

CostParams cost_params_for(const Scenario& sc) {
  CostParams params = default_cost_params(sc.cluster.gpu, sc.software.attention_backend);
  if (sc.calibration_path)
    params = apply_calibration(read_calibration_file(*sc.calibration_path), std::move(params), *sc.calibration_path,
                               sc.cluster.gpu);
  if (sc.training.precision == Precision::FP8) apply_fp8_gemm_evidence(sc.cluster.gpu, params);
  if (sc.training.precision == Precision::NVFP4) apply_nvfp4_gemm(sc.cluster.gpu, params);
  // A GPU hcpsim has not measured: say so, unless a calibration of this GPU gave its kernels.
  const bool bf16_gemm_calibrated =  // "gemm" itself, not only the gemm_fp8_* tables
      std::find(params.calibrated.begin(), params.calibrated.end(), "gemm") != params.calibrated.end();
  if (params.roofline && !(bf16_gemm_calibrated && took_parameter(params.calibrated, "attention_")))
    params.warnings.push_back(std::string("no kernel measurements of ") + sc.cluster.gpu.name +
                              ": kernel times come from a roofline at the clock it sustains at its full power limit (" +
                              params.roofline->gemm_basis + ", +-" +
                              std::to_string(int(params.roofline->gemm_margin * 100 + 0.5)) + "%; " +
                              params.roofline->attention.basis + ", +-" +
                              std::to_string(int(params.roofline->attention.margin * 100 + 0.5)) + "%" +
                              (took_parameter(params.calibrated, "memory_efficiency_")
                                   ? std::string()
                                   : "; memory-bound kernels: the H200's, carried by each kernel's HBM share, +-" +
                                         std::to_string(int(rules::kCarriedMemoryBoundBand * 100 + 0.5)) + "%") +
                              "; docs/cost-model.md, the roofline); calibrate on this GPU (hcpcal, hcpsim fit) for its own");
  // Attention at a head dim other than 128, the tables' (cost/head_dim_rates.hpp): the Hopper kernels'
  // measured rates, or the exponential model where none was measured, each with its error as the band.
  if (const int64_t d = sc.model.kv_channels; d > 0 && d != 128) {
    const bool measured =
        measured_hopper_die(sc.cluster.gpu) && measured_head_dim_rate(params.attention_backend, false, true, d).has_value();
    // Without SM figures the model makes no correction: its widest error then.
    const double band = !measured && !(exp_ops_per_s(sc.cluster.gpu) > 0) ? head_dim_band(false, 0) : head_dim_band(measured, d);
    const std::string off = std::to_string(int(band * 100 + 0.5)) + "%";
    const std::string basis =
        "attention at head dim " + std::to_string(d) +
        (measured ? ": the Hopper kernels' rates measured at head dims 64-256 (on held-out shapes up to " + off + " off there)"
         : exp_ops_per_s(sc.cluster.gpu) > 0
             ? ": the softmax-exponential model, no head-dim measurement of these kernels on this GPU (up to " + off +
                   " off there on an H100, docs/cost-model.md)"
             : ": timed as at head dim 128, no head-dim measurement of these kernels on this GPU and no cluster.gpu "
               "sm_count and sm_clock_mhz for the softmax-exponential model (+-" + off + ", docs/cost-model.md)");
    // On top of the attention kernels' own evidence (their fit, a roofline margin): independent errors.
    const KernelEvidence* e = params.evidence_for("attention");
    params.set_evidence("attention", e ? std::hypot(e->relative, band) : band, e ? e->basis + "; " + basis : basis,
                        e ? e->shared_basis : std::string(), e ? e->shared_relative : 0.0);
    if (!measured) params.warnings.push_back(basis);
  }
  // Fused kernels: Megatron's (software.fusions) and, under fp8 or NVFP4, TE's quantize kernels.
  const FusionSettings& f = sc.software.fusions;
  const bool quantized = sc.training.precision != Precision::BF16;
  if (f.rope || f.swiglu || f.cross_entropy || quantized) {
    const bool unmeasured = f.rope || quantized;
    const double band = unmeasured ? kUnmeasuredFusedKernelBand : rules::kMeasuredFusedKernelBand;
    const KernelEvidence* e = params.evidence_for("elementwise");
    if (!e || e->relative < band)
      params.set_evidence(
          "elementwise", band,
          unmeasured ? std::string("fused kernels at the HBM copy's efficiency, not measured: ") +
                           (f.rope ? "TE's fused RoPE (software.fusions.rope)" : "") + (f.rope && quantized ? ", " : "") +
                           (quantized ? "TE's quantize kernels" : "")
                     : "fused kernels (software.fusions: SwiGLU, cross entropy) at their measured fraction of the HBM "
                       "copy's efficiency, up to 20% off it (docs/cost-model.md)");
  }
  return params;
}

CostModel cost_model_for(const Scenario& sc) {
  return CostModel(sc.cluster.gpu, sc.training.precision, cost_params_for(sc));
}

ClusterSpec effective_cluster(const ClusterSpec& cluster, const CostParams& params) {
  ClusterSpec c = cluster;
  c.intra_node.bandwidth_bytes_per_s *= params.intra_node_efficiency;
  c.inter_node.nic_bandwidth_bytes_per_s *= params.nic_efficiency;
  return c;
}

}  // namespace hcpsim

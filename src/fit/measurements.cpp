#include "fit/measurements.hpp"

#include "common/diagnostics.hpp"
#include "common/json_reader.hpp"
#include "common/json_text.hpp"

#include <algorithm>

namespace hcpsim {

namespace {

constexpr const char* kFormat = "hcpsim-measurements/1";

// A record's or a CP kernel's sm_clock_mhz: the SM clock its timed runs ran at; 0 when not given.
double sm_clock_mhz_of(ObjectReader& r) { return r.number("sm_clock_mhz", 1, 1e5, "the SM clock in MHz").value_or(0); }

void require(ObjectReader& r, DiagnosticSink& sink, const std::string& key, const std::string& fix) {
  if (!r.has(key)) sink.error(r.path_of(key), "missing", "required key", fix);
}

void read_attention(ObjectReader& c, DiagnosticSink& sink, Measurement& m) {
  const std::string fix = "hcpcal writes batch, sq, skv, heads_q, heads_kv, head_dim, mask and pass";
  for (const char* k : {"sq", "skv", "heads_q", "heads_kv", "head_dim", "mask", "pass"}) require(c, sink, k, fix);
  AttentionShape& a = m.attention;
  a.batch = c.integer("batch", 1, 1 << 20).value_or(1);
  a.sq = c.integer("sq", 1, int64_t(1) << 40).value_or(0);
  a.skv = c.integer("skv", 1, int64_t(1) << 40).value_or(0);
  a.heads_q = c.integer("heads_q", 1, 1 << 20).value_or(0);
  a.heads_kv = c.integer("heads_kv", 1, 1 << 20).value_or(0);
  a.head_dim_qk = a.head_dim_v = c.integer("head_dim", 1, 1 << 16).value_or(0);
  a.mask = c.choice<KernelMask>("mask",
                                {{"none", KernelMask::None},
                                 {"causal", KernelMask::CausalTopLeft},
                                 {"causal_bottom_right", KernelMask::CausalBottomRight}},
                                {{"causal_top_left", "write \"causal\" (top-left aligned)"}})
               .value_or(KernelMask::None);
  a.backward = c.choice<bool>("pass", {{"fwd", false}, {"bwd", true}}, {{"forward", "write \"fwd\""},
                                                                        {"backward", "write \"bwd\""}})
                   .value_or(false);
  if (a.heads_q && a.heads_kv && a.heads_q % a.heads_kv != 0)
    sink.error(c.path_of("heads_kv"), "heads_q " + std::to_string(a.heads_q) + " is not a multiple of heads_kv " +
               std::to_string(a.heads_kv), "heads_q % heads_kv == 0", "fix the measurement's configuration");
}

void read_layer(ObjectReader& c, DiagnosticSink& sink, Measurement& m) {
  const std::string fix = "hcpcal_torch writes model, seq, batch, hidden, heads_q, heads_kv, head_dim, ffn and pass";
  for (const char* k : {"model", "seq", "hidden", "heads_q", "heads_kv", "head_dim", "ffn", "pass"}) require(c, sink, k, fix);
  LayerConfig& l = m.layer;
  l.model = c.string("model").value_or("");
  l.seq = c.integer("seq", 1, int64_t(1) << 40).value_or(0);
  l.batch = c.integer("batch", 1, 1 << 20).value_or(1);
  l.hidden = c.integer("hidden", 1, 1 << 24).value_or(0);
  l.heads_q = c.integer("heads_q", 1, 1 << 20).value_or(0);
  l.heads_kv = c.integer("heads_kv", 1, 1 << 20).value_or(0);
  l.head_dim = c.integer("head_dim", 1, 1 << 16).value_or(0);
  l.ffn = c.integer("ffn", 1, 1 << 24).value_or(0);
  l.pass = c.choice<std::string>("pass", {{"fwd", "fwd"}, {"bwd", "bwd"}, {"fwd+bwd", "fwd+bwd"}}).value_or("fwd");
}

// A GEMM record's type: "bf16" (hcpcal, hcpcal_torch), or an fp8 GEMM "fp8_<A>_<B>" with A and B
// e4m3 or e5m2 (not both e5m2: cuBLASLt has no such kernel) and fast_accum (hcpcal_torch's gemm
// suite; rules/fp8_gemm.hpp).
rules::GemmType gemm_type_of(ObjectReader& c, DiagnosticSink& sink) {
  const std::optional<std::string> d = c.string("dtype");
  if (!d || *d == "bf16") {
    if (c.has("fast_accum"))
      sink.error(c.path_of("fast_accum"), "fast_accum on a bf16 GEMM", "fast_accum describes an fp8 GEMM only",
                 "drop it, or give the fp8 dtype");
    return rules::GemmType::Bf16;
  }
  static const std::vector<std::string> fp8 = {"fp8_e4m3_e4m3", "fp8_e4m3_e5m2", "fp8_e5m2_e4m3"};
  if (std::find(fp8.begin(), fp8.end(), *d) == fp8.end()) {
    sink.error(c.path_of("dtype"), "dtype \"" + *d + "\" is not a GEMM hcpsim fits",
               "bf16, fp8_e4m3_e4m3, fp8_e4m3_e5m2 or fp8_e5m2_e4m3", "measure with hcpcal or hcpcal_torch's gemm suite");
    return rules::GemmType::Bf16;
  }
  if (!c.has("fast_accum")) {
    sink.error(c.path_of("fast_accum"), "missing", "an fp8 GEMM says whether it accumulated fast (true) or split (false)",
               "hcpcal_torch's gemm suite writes it");
    return rules::GemmType::Fp8FastAccum;
  }
  return c.boolean("fast_accum").value_or(true) ? rules::GemmType::Fp8FastAccum : rules::GemmType::Fp8SplitAccum;
}

void read_elementwise(ObjectReader& c, DiagnosticSink& sink, Measurement& m) {
  for (const char* k : {"op", "pass", "bytes_moved"})
    require(c, sink, k, "hcpcal_torch writes op, pass, tokens (or params) and bytes_moved");
  ElementwiseConfig& e = m.elementwise;
  e.op = c.choice<std::string>("op", {{"rmsnorm", "rmsnorm"},
                                      {"rope", "rope"},
                                      {"swiglu", "swiglu"},
                                      {"add", "add"},
                                      {"cross_entropy", "cross_entropy"},
                                      {"adamw", "adamw"}})
             .value_or("");
  e.pass = c.choice<std::string>("pass", {{"fwd", "fwd"}, {"bwd", "bwd"}, {"step", "step"}}).value_or("fwd");
  e.tokens = c.integer("tokens", 1, int64_t(1) << 40).value_or(0);
  e.params = c.integer("params", 1, int64_t(1) << 44).value_or(0);
  e.bytes_moved = double(c.integer("bytes_moved", 1, int64_t(1) << 50).value_or(0));
  if (e.tokens == 0 && e.params == 0)
    sink.error(c.path_of("tokens"), "missing", "tokens (or params, for the optimizer) required",
               "hcpcal_torch writes the token count of every kernel");
}

// A cp_attention record of the new format (results.kernels): one CpRun item.
void read_cp_run(ObjectReader& r, ObjectReader& c, DiagnosticSink& sink, Measurement m, std::vector<Measurement>& out) {
  const std::string fix = "hcpcal's cp suite writes transport, pass, ranks, seq, heads_q, heads_kv, head_dim and mask";
  for (const char* k : {"transport", "pass", "ranks", "seq", "heads_q", "heads_kv", "head_dim"}) require(c, sink, k, fix);
  CpRunConfig& cp = m.cp;
  m.kind = MeasurementKind::CpRun;
  cp.transport = c.choice<CpCommType>("transport", {{"p2p", CpCommType::P2P},
                                                    {"all_gather", CpCommType::AllGather},
                                                    {"a2a", CpCommType::A2A},
                                                    {"a2a+p2p", CpCommType::A2AP2P}},
                                      {{"allgather", "write \"all_gather\" (TE's name)"}})
                     .value_or(CpCommType::P2P);
  cp.backward = c.choice<bool>("pass", {{"fwd", false}, {"bwd", true}}).value_or(false);
  cp.causal = c.choice<bool>("mask", {{"causal", true}, {"none", false}}).value_or(true);
  c.choice<std::string>("format", {{"bshd", std::string("bshd")}});
  cp.launch = c.choice<std::string>("launch", {{"virtual", std::string("virtual")}, {"nccl", std::string("nccl")}})
                  .value_or("virtual");
  cp.ranks = c.integer("ranks", 1, 4096).value_or(0);
  cp.seq = c.integer("seq", 2, int64_t(1) << 40).value_or(0);
  cp.batch = c.integer("batch", 1, 1 << 20).value_or(1);
  cp.heads_q = c.integer("heads_q", 1, 1 << 20).value_or(0);
  cp.heads_kv = c.integer("heads_kv", 1, 1 << 20).value_or(0);
  cp.head_dim = c.integer("head_dim", 1, 1 << 16).value_or(0);
  const bool hierarchical = cp.transport == CpCommType::A2AP2P;
  if (hierarchical) {
    require(c, sink, "hcp", "a2a+p2p records give hcp: [A, P] (inner a2a size first)");
    if (auto h = c.integer_list("hcp", 1, 4096)) {
      if (h->size() != 2 || (cp.ranks && (*h)[0] * (*h)[1] != cp.ranks))
        sink.error(c.path_of("hcp"), "must be [A, P] with A * P = ranks (" + std::to_string(cp.ranks) + ")",
                   "two sizes whose product is the CP size", "write e.g. [2, 2] for ranks 4");
      else
        cp.hcp = *h;
    }
  } else if (c.has("hcp")) {
    sink.error(c.path_of("hcp"), "given for transport " + std::string(to_string(cp.transport)),
               "hcp belongs to a2a+p2p only", "remove it, or set transport to \"a2a+p2p\"");
  }
  if (cp.ranks && cp.seq && cp.seq % (2 * cp.ranks) != 0)
    sink.error(c.path_of("seq"), std::to_string(cp.seq) + " is not a multiple of 2 ranks = " + std::to_string(2 * cp.ranks),
               "seq % (2 ranks) == 0 (DualChunkSwap, docs/cp-transports.md \u00a71)", "measure a multiple of 2 ranks");
  const int64_t heads_div = cp.transport == CpCommType::A2A ? cp.ranks : (cp.hcp.empty() ? 1 : cp.hcp[0]);
  for (const char* k : {"heads_q", "heads_kv"}) {
    const int64_t h = std::string(k) == "heads_q" ? cp.heads_q : cp.heads_kv;
    if (h && heads_div > 1 && h % heads_div != 0)
      sink.error(c.path_of(k), std::to_string(h) + " heads do not split over the a2a group of " + std::to_string(heads_div),
                 "heads % a2a size == 0 (docs/cp-transports.md \u00a74)", "measure a head count divisible by the a2a size");
  }
  if (cp.heads_q && cp.heads_kv && cp.heads_q % cp.heads_kv != 0)
    sink.error(c.path_of("heads_kv"), "heads_q is not a multiple of heads_kv", "heads_q % heads_kv == 0",
               "fix the measurement's configuration");
  const nlohmann::json* res = r.object("results");
  if (!res) return sink.error(r.path_of("results"), "missing", "cp_attention records carry per-kernel times",
                              "hcpcal writes results.kernels and results.peak_bytes");
  // bottom_right_path: how hcpcal_torch ran bottom-right causal kernels (e.g. cuDNN's graph API), for the reader
  ObjectReader rr(*res, r.path_of("results"), sink, {"kernels", "peak_bytes", "pool_granularity_bytes", "bottom_right_path"});
  rr.string("bottom_right_path");
  cp.pool_granularity_bytes = double(rr.integer("pool_granularity_bytes", 1, int64_t(1) << 40).value_or(0));
  const nlohmann::json* list = rr.raw("kernels");
  if (!list->is_array() || list->empty())
    return sink.error(rr.path_of("kernels"), "must be a non-empty array", "type",
                      "write [{rank, label, median_s, min_s, max_s}, ...]");
  for (size_t i = 0; i < list->size(); ++i) {
    CpKernelTime k;
    k.path = rr.path_of("kernels") + "[" + std::to_string(i) + "]";
    // back_to_back: hcpcal_torch timed the kernel in back-to-back runs (its Timer), and
    // sm_clock_source how it knows the clock (results.sm_clock_source of a kernel record): for the reader
    ObjectReader kr((*list)[i], k.path, sink,
                    {"rank", "label", "median_s", "min_s", "max_s", "sm_clock_mhz", "sm_clock_source", "back_to_back"});
    kr.boolean("back_to_back");
    kr.string("sm_clock_source");
    k.sm_clock_mhz = sm_clock_mhz_of(kr);
    for (const char* key : {"rank", "label", "median_s"}) require(kr, sink, key, "each kernel has rank, label and median_s");
    k.rank = kr.integer("rank", 0, std::max<int64_t>(cp.ranks - 1, 0), "a rank in [0, ranks)").value_or(0);
    k.label = kr.string("label").value_or("");
    k.median_s = kr.number("median_s", 1e-9, 1e6, "a kernel time in seconds, > 0").value_or(0);
    k.min_s = kr.number("min_s", 0, 1e6).value_or(k.median_s);
    k.max_s = kr.number("max_s", 0, 1e6).value_or(k.median_s);
    cp.kernels.push_back(k);
  }
  if (const nlohmann::json* peaks = rr.raw("peak_bytes")) {
    if (!peaks->is_array() || int64_t(peaks->size()) != cp.ranks)
      return sink.error(rr.path_of("peak_bytes"), "must hold one value per rank (ranks = " + std::to_string(cp.ranks) + ")",
                        "an array of `ranks` byte counts > 0", "write each rank's pool high-water mark");
    for (size_t i = 0; i < peaks->size(); ++i) {
      const nlohmann::json& v = (*peaks)[i];
      if (!v.is_number() || !(v.get<double>() > 0))
        sink.error(rr.path_of("peak_bytes") + "[" + std::to_string(i) + "]", "must be a byte count > 0", "bytes",
                   "write the rank's high-water mark");
      else
        cp.peak_bytes.push_back(v.get<double>());
    }
  }
  if (m.name.empty())
    m.name = std::string("cp_") + to_string(cp.transport) + "_r" + std::to_string(cp.ranks) +
             (cp.hcp.empty() ? "" : "_a" + std::to_string(cp.hcp[0])) + "_s" + std::to_string(cp.seq) + "_" +
             (cp.backward ? "bwd" : "fwd");
  out.push_back(m);
}

void read_collective(ObjectReader& r, ObjectReader& c, DiagnosticSink& sink, Measurement& m) {
  const std::string fix = "C's collective suite writes op, bytes, dtype, ranks, layout, nodes and gpus_per_node";
  for (const char* k : {"op", "bytes", "ranks", "layout"}) require(c, sink, k, fix);
  CollectiveConfig& k = m.collective;
  k.op = c.choice("op", named_choices(kCommPatterns),
                               {{"alltoall", "write \"all_to_all\""}, {"allgather", "write \"all_gather\""},
                                {"allreduce", "write \"all_reduce\""}, {"reducescatter", "write \"reduce_scatter\""}})
             .value_or(CommPattern::AllReduce);
  k.bytes = double(c.integer("bytes", 1, int64_t(1) << 50).value_or(0));
  if (auto d = c.string("dtype"); d && *d != "bf16")
    sink.error(c.path_of("dtype"), "dtype \"" + *d + "\" is not modelled", "bf16 only", "measure bf16 collectives");
  k.ranks = c.integer("ranks", 1, 1 << 20).value_or(0);
  k.nodes = c.integer("nodes", 1, 1 << 20).value_or(1);
  k.gpus_per_node = c.integer("gpus_per_node", 1, 1024).value_or(k.ranks);
  k.layout = c.choice("layout", named_choices(kCollectiveLayouts), {{"intra_node", "write \"intra-node\""}})
                 .value_or(CollectiveLayout::IntraNode);
  if (k.layout == CollectiveLayout::IntraNode && k.nodes != 1)
    sink.error(c.path_of("nodes"), std::to_string(k.nodes) + " nodes with layout intra-node", "intra-node means nodes = 1",
               "set layout to a cross-node one, or nodes to 1");
  if (k.ranks > k.nodes * k.gpus_per_node)
    sink.error(c.path_of("ranks"), std::to_string(k.ranks) + " ranks on " + std::to_string(k.nodes * k.gpus_per_node) +
               " GPUs", "ranks <= nodes * gpus_per_node", "fix nodes or gpus_per_node");
  if (const nlohmann::json* res = r.object("results")) {
    ObjectReader rr(*res, r.path_of("results"), sink, {"algbw_GBps", "busbw_GBps"});
    k.algbw_GBps = rr.number("algbw_GBps", 0, 1e6).value_or(0);
    k.busbw_GBps = rr.number("busbw_GBps", 0, 1e6).value_or(0);
  }
  if (m.name.empty())
    m.name = std::string(to_string(k.op)) + "_" + to_string(k.layout) + "_n" + std::to_string(k.ranks) + "_" +
             std::to_string(int64_t(k.bytes));
}

void read_interference(ObjectReader& r, ObjectReader& c, DiagnosticSink& sink, Measurement& m) {
  for (const char* k : {"victim", "aggressor"}) require(c, sink, k, "interference records name victim and aggressor");
  InterferenceConfig& f = m.interference;
  // hcpcal's interference suite: (a)/(b) attention beside a collective or device copy and the
  // transfer beside attention; (c) attention, a GEMM or a device copy beside k CTAs that copy
  // (cta_copy) or spin (cta_spin), and the k-CTA copy beside attention or the GEMM.
  auto names = [](std::initializer_list<const char*> v) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const char* s : v) out.emplace_back(s, s);
    return out;
  };
  f.victim = c.choice<std::string>("victim", names({"attention_fwd", "attention_bwd", "collective", "gemm", "hbm_copy",
                                                    "cta_copy"}))
                 .value_or("");
  f.aggressor = c.choice<std::string>("aggressor", names({"collective", "copy", "attention", "cta_copy", "cta_spin",
                                                          "attention_fwd", "attention_bwd", "gemm"}))
                    .value_or("");
  // config.shape is free-form (the victim's shape, the transfer); its overlap_verified says
  // whether the aggressor really ran beside the victim.
  if (const nlohmann::json* shape = c.raw("shape"); shape && shape->is_object() && shape->contains("overlap_verified") &&
                                                    (*shape)["overlap_verified"].is_boolean())
    f.overlap_verified = (*shape)["overlap_verified"].get<bool>();
  if (const nlohmann::json* shape = c.raw("shape"); shape && shape->is_object() && shape->contains("ctas") &&
                                                    (*shape)["ctas"].is_number_integer())
    f.ctas = (*shape)["ctas"].get<int64_t>();
  if (const nlohmann::json* shape = c.raw("shape"); shape && shape->is_object() && shape->contains("launch_order") &&
                                                    (*shape)["launch_order"].is_string())
    f.transfer_first = (*shape)["launch_order"].get<std::string>() == "transfer_first";
  c.integer("bytes", 1, int64_t(1) << 50);
  const nlohmann::json* res = r.object("results");
  if (!res) return sink.error(r.path_of("results"), "missing", "interference records carry the time alone",
                              "write results.alone_median_s and results.slowdown");
  ObjectReader rr(*res, r.path_of("results"), sink, {"alone_median_s", "slowdown"});
  require(rr, sink, "alone_median_s", "the victim's median time without the aggressor");
  f.alone_median_s = rr.number("alone_median_s", 1e-9, 1e6, "seconds > 0").value_or(0);
  f.slowdown = rr.number("slowdown", 0.1, 100).value_or(f.alone_median_s > 0 ? m.median_s / f.alone_median_s : 0);
  if (m.name.empty())
    m.name = f.victim + "_with_" + f.aggressor + (f.ctas > 0 ? "_k" + std::to_string(f.ctas) : "") +
             (f.transfer_first ? "_transfer_first" : "");
}

// A cp_attention record: one CpStep item per step, from results.step_kernel_median_s.
void expand_cp(ObjectReader& r, ObjectReader& c, DiagnosticSink& sink, const Measurement& m, std::vector<Measurement>& out) {
  const std::string fix = "hcpcal's cp suite writes transport, pass, ranks, seq, heads_q, heads_kv, head_dim and mask";
  for (const char* k : {"transport", "ranks", "seq", "heads_q", "heads_kv", "head_dim"}) require(c, sink, k, fix);
  c.choice<std::string>("transport", {{"p2p", std::string("p2p")}});
  c.choice<std::string>("pass", {{"fwd", std::string("fwd")}});
  c.choice<std::string>("mask", {{"causal", std::string("causal")}});
  const int64_t ranks = c.integer("ranks", 1, 4096).value_or(0);
  const int64_t seq = c.integer("seq", 2, int64_t(1) << 40).value_or(0);
  AttentionShape a;
  a.batch = 1;
  a.heads_q = c.integer("heads_q", 1, 1 << 20).value_or(0);
  a.heads_kv = c.integer("heads_kv", 1, 1 << 20).value_or(0);
  a.head_dim_qk = a.head_dim_v = c.integer("head_dim", 1, 1 << 16).value_or(0);
  const nlohmann::json* res = r.object("results");
  if (!res) {
    sink.error(r.path_of("results"), "missing", "cp_attention records carry per-step times",
               "hcpcal writes results.step_kernel_median_s");
    return;
  }
  ObjectReader rr(*res, r.path_of("results"), sink, {"step_kernel_median_s"});
  const nlohmann::json* steps = rr.raw("step_kernel_median_s");
  if (!steps || !steps->is_array() || int64_t(steps->size()) != ranks || ranks == 0 || seq % (2 * ranks) != 0) {
    sink.error(rr.path_of("step_kernel_median_s"), "must hold one time per step (ranks = " + std::to_string(ranks) + ")",
               "an array of `ranks` seconds > 0; seq % (2 ranks) == 0", "write one median per ring step");
    return;
  }
  const int64_t chunk = seq / (2 * ranks);
  for (int64_t i = 0; i < ranks; ++i) {
    const nlohmann::json& t = (*steps)[size_t(i)];
    if (!t.is_number() || !(t.get<double>() > 0)) {
      sink.error(rr.path_of("step_kernel_median_s") + "[" + std::to_string(i) + "]", "must be a time > 0", "seconds",
                 "write the step's median kernel time");
      continue;
    }
    Measurement s = m;
    s.kind = MeasurementKind::CpStep;
    s.attention = a;
    s.attention.sq = 2 * chunk;
    s.attention.skv = i == 0 ? 2 * chunk : chunk;  // lower and upper steps have equal work
    s.attention.mask = i == 0 ? KernelMask::CausalTopLeft : KernelMask::None;
    s.name = "cp_p2p_r" + std::to_string(ranks) + "_step" + std::to_string(i);
    s.cp_ranks = ranks;
    s.cp_step = i;
    s.median_s = s.min_s = s.max_s = t.get<double>();
    s.path = m.path + ".results.step_kernel_median_s[" + std::to_string(i) + "]";
    out.push_back(s);
  }
}

void read_one(const nlohmann::json& j, const std::string& path, DiagnosticSink& sink, std::vector<Measurement>& out) {
  Measurement m;
  m.path = path;
  ObjectReader r(j, path, sink,
                 {"kind", "backend", "config", "iterations", "median_s", "min_s", "max_s", "sm_clock_mhz", "check",
                  "results"});
  for (const char* k : {"kind", "config", "median_s"}) require(r, sink, k, "hcpcal writes kind, config and median_s");
  const std::optional<MeasurementKind> kind =
      r.choice<MeasurementKind>("kind", {{"attention", MeasurementKind::Attention},
                                         {"gemm", MeasurementKind::Gemm},
                                         {"copy", MeasurementKind::Copy},
                                         {"cp_attention", MeasurementKind::CpStep},
                                         {"collective", MeasurementKind::Collective},
                                         {"interference", MeasurementKind::Interference},
                                         {"layer", MeasurementKind::Layer},
                                         {"elementwise", MeasurementKind::Elementwise}});
  m.kind = kind.value_or(MeasurementKind::Attention);
  m.backend = r.string("backend").value_or("");
  m.iterations = int(r.integer("iterations", 1, 1 << 30).value_or(1));
  m.median_s = r.number("median_s", 1e-9, 1e6, "a kernel time in seconds, > 0").value_or(0);
  m.min_s = r.number("min_s", 0, 1e6).value_or(m.median_s);
  m.max_s = r.number("max_s", 0, 1e6).value_or(m.median_s);
  m.sm_clock_mhz = sm_clock_mhz_of(r);
  if (const nlohmann::json* res = r.raw("results"); res && res->is_object()) {
    const auto source = res->find("sm_clock_source");
    m.sm_clock_counted = source != res->end() && source->is_string() && *source == "gpu_cycles";
  }
  if (m.median_s > 0 && (m.min_s > m.median_s || m.max_s < m.median_s))
    sink.error(r.path_of("median_s"), "median outside [min_s, max_s]", "min_s <= median_s <= max_s",
               "write the statistics of one set of iterations");
  if (const nlohmann::json* chk = r.object("check")) {
    ObjectReader cr(*chk, r.path_of("check"), sink, {"done", "wrong"});
    m.checked = cr.boolean("done").value_or(false);
    m.wrong = cr.integer("wrong", 0, int64_t(1) << 62).value_or(0);
  }
  const nlohmann::json* cfg = r.object("config");
  if (!cfg || !kind) return out.push_back(m);  // without its kind, no config's keys to check
  std::vector<std::string> keys;
  switch (m.kind) {
    case MeasurementKind::Attention: keys = {"name", "pass", "batch", "sq", "skv", "heads_q", "heads_kv", "head_dim", "mask"}; break;
    case MeasurementKind::Gemm: keys = {"name", "m", "n", "k", "dtype", "fast_accum"}; break;
    case MeasurementKind::Copy: keys = {"bytes", "bytes_moved"}; break;
    case MeasurementKind::CpStep:
      keys = {"transport", "pass", "ranks", "hcp", "seq", "batch", "heads_q", "heads_kv", "head_dim", "mask", "format",
              "launch"};
      break;
    case MeasurementKind::CpRun: break;  // set below from CpStep
    case MeasurementKind::Collective: keys = {"name", "op", "bytes", "dtype", "ranks", "layout", "nodes", "gpus_per_node"}; break;
    case MeasurementKind::Interference: keys = {"name", "victim", "aggressor", "shape", "bytes"}; break;
    case MeasurementKind::Layer:
      keys = {"name", "model", "seq", "batch", "hidden", "heads_q", "heads_kv", "head_dim", "ffn", "pass"};
      break;
    case MeasurementKind::Elementwise: keys = {"name", "op", "pass", "tokens", "params", "bytes_moved"}; break;
  }
  ObjectReader c(*cfg, r.path_of("config"), sink, keys);
  m.name = c.has("name") ? c.string("name").value_or("") : "";
  switch (m.kind) {
    case MeasurementKind::Attention:
      read_attention(c, sink, m);
      break;
    case MeasurementKind::Gemm:
      for (const char* k : {"m", "n", "k"}) require(c, sink, k, "give the GEMM's m, n and k");
      m.gemm = {c.integer("m", 1, int64_t(1) << 32).value_or(0), c.integer("n", 1, int64_t(1) << 32).value_or(0),
                c.integer("k", 1, int64_t(1) << 32).value_or(0)};
      m.gemm_type = gemm_type_of(c, sink);
      break;
    case MeasurementKind::Copy:
      require(c, sink, "bytes_moved", "give the bytes read plus written");
      c.integer("bytes", 1, int64_t(1) << 50);
      m.copy_bytes_moved = double(c.integer("bytes_moved", 1, int64_t(1) << 50).value_or(0));
      break;
    case MeasurementKind::CpStep: {
      // New format: results.kernels; old files: results.step_kernel_median_s (p2p fwd).
      const nlohmann::json* res = j.is_object() && j.contains("results") ? &j["results"] : nullptr;
      if (res && res->is_object() && res->contains("kernels")) return read_cp_run(r, c, sink, m, out);
      return expand_cp(r, c, sink, m, out);
    }
    case MeasurementKind::CpRun: break;
    case MeasurementKind::Collective: read_collective(r, c, sink, m); break;
    case MeasurementKind::Interference: read_interference(r, c, sink, m); break;
    case MeasurementKind::Layer: read_layer(c, sink, m); break;
    case MeasurementKind::Elementwise: read_elementwise(c, sink, m); break;
  }
  if (m.name.empty()) m.name = shape_group_key(m);
  out.push_back(m);
}

}  // namespace

MeasurementSet parse_measurements_text(const std::string& text, const std::string& source) {
  DiagnosticSink sink;
  MeasurementSet set;
  auto doc = parse_json_text(text, source, "measurements.json", sink);
  if (!doc) sink.throw_if_any();
  ObjectReader top(*doc, "", sink, {"format", "tool", "argv", "complete", "environment", "measurements", "unsupported"});
  require(top, sink, "format", std::string("hcpcal writes \"format\": \"") + kFormat + "\"");
  if (auto f = top.string("format"); f && *f != kFormat)
    sink.error("format", "unknown format \"" + *f + "\"", std::string("must be ") + kFormat, "measure with hcpcal");
  require(top, sink, "environment", "hcpcal records the GPU, driver and library versions there");
  require(top, sink, "measurements", "hcpcal writes the list of measurements there");
  set.complete = top.boolean("complete").value_or(false);
  if (const nlohmann::json* env = top.object("environment")) {
    set.environment = *env;
    if (env->contains("gpu_model") && (*env)["gpu_model"].is_string()) set.gpu_model = (*env)["gpu_model"];
    if (env->contains("l2_bytes") && (*env)["l2_bytes"].is_number()) set.l2_bytes = (*env)["l2_bytes"];
    if (set.gpu_model.empty())
      sink.error("environment.gpu_model", "missing", "required key", "name the GPU the measurements ran on");
  }
  if (const nlohmann::json* list = top.raw("measurements")) {
    if (!list->is_array()) {
      sink.error("measurements", "must be an array", "type", "write [ {measurement}, ... ]");
    } else {
      for (size_t i = 0; i < list->size(); ++i)
        read_one((*list)[i], "measurements[" + std::to_string(i) + "]", sink, set.items);
    }
  }
  if (const nlohmann::json* list = top.raw("unsupported")) {
    if (!list->is_array()) sink.error("unsupported", "must be an array", "type", "write [ {backend, name, reason}, ... ]");
    for (size_t i = 0; list->is_array() && i < list->size(); ++i) {
      ObjectReader u((*list)[i], "unsupported[" + std::to_string(i) + "]", sink, {"backend", "name", "reason"});
      set.unsupported.push_back({u.string("backend").value_or(""), u.string("name").value_or(""),
                                 u.string("reason").value_or("")});
    }
  }
  sink.throw_if_any();
  return set;
}

MeasurementSet read_measurements_file(const std::string& file_path) {
  DiagnosticSink sink;
  auto text = read_text_file(file_path, "", sink);  // a command-line path: from the current folder
  sink.throw_if_any();
  return parse_measurements_text(*text, file_path);
}

MeasurementSet read_measurement_files(const std::vector<std::string>& file_paths) {
  MeasurementSet all;
  for (size_t f = 0; f < file_paths.size(); ++f) {
    MeasurementSet one = read_measurements_file(file_paths[f]);
    if (f == 0) {
      all.environment = one.environment;
      all.gpu_model = one.gpu_model;
      all.l2_bytes = one.l2_bytes;
      all.complete = one.complete;
    } else if (one.gpu_model != all.gpu_model) {
      throw InputError({{file_paths[f] + ": environment.gpu_model",
                            "\"" + one.gpu_model + "\" is not the first file's \"" + all.gpu_model + "\"",
                            "the files describe one GPU", "fit and check each GPU's measurements apart"}});
    }
    all.complete = all.complete && one.complete;
    all.unsupported.insert(all.unsupported.end(), one.unsupported.begin(), one.unsupported.end());
    for (auto& m : one.items) {
      if (file_paths.size() > 1) m.path = file_paths[f] + ": " + m.path;
      all.items.push_back(std::move(m));
    }
  }
  return all;
}

std::string shape_group_key(const Measurement& m) {
  switch (m.kind) {
    case MeasurementKind::CpStep:
      return "cp/" + m.name;
    case MeasurementKind::Attention:
      return "attn/" + std::to_string(m.attention.sq) + "x" + std::to_string(m.attention.skv) + "/" +
             to_string(m.attention.mask) + "/d" + std::to_string(m.attention.head_dim_qk) +
             "/hq" + std::to_string(m.attention.heads_q);
    case MeasurementKind::Gemm:
      return "gemm/" + std::to_string(m.gemm.m) + "x" + std::to_string(m.gemm.n) + "x" + std::to_string(m.gemm.k);
    case MeasurementKind::Copy:
      return "copy/" + std::to_string(int64_t(m.copy_bytes_moved));
    case MeasurementKind::CpRun:
      return "cprun/" + std::string(to_string(m.cp.transport)) + "/s" + std::to_string(m.cp.seq) + "/h" +
             std::to_string(m.cp.heads_q) + "/" + std::to_string(m.cp.heads_kv) + "/d" + std::to_string(m.cp.head_dim);
    case MeasurementKind::Collective:
      return "coll/" + std::string(to_string(m.collective.op)) + "/" + to_string(m.collective.layout) + "/n" +
             std::to_string(m.collective.ranks) + "/" + std::to_string(int64_t(m.collective.bytes));
    case MeasurementKind::Interference:
      return "intf/" + m.interference.victim + "/" + m.interference.aggressor + "/" +
             std::to_string(m.interference.alone_median_s);
    case MeasurementKind::Layer:
      return "layer/" + m.layer.model + "/s" + std::to_string(m.layer.seq) + "/b" + std::to_string(m.layer.batch);
    case MeasurementKind::Elementwise:
      return "elem/" + m.elementwise.op + "/" + std::to_string(m.elementwise.tokens) + "/" +
             std::to_string(m.elementwise.params);
  }
  return {};
}

std::optional<AttentionBackend> attention_backend_of(const Measurement& m) {
  switch (m.kind) {
    case MeasurementKind::Attention:
    case MeasurementKind::CpStep:
    case MeasurementKind::CpRun:
    case MeasurementKind::Layer: break;
    default: return std::nullopt;
  }
  const std::string& b = m.backend;
  const auto has = [&](const char* s) { return b.find(s) != std::string::npos; };
  if (b.empty() || has("hcpsim")) return AttentionBackend::Hcpsim;  // hcpcal's own kernels (older files: no backend)
  if (has("cudnn")) return AttentionBackend::CuDNN;
  if (has("flash")) return AttentionBackend::Flash;
  return std::nullopt;
}

}  // namespace hcpsim

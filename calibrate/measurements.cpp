#include "calibrate/measurements.hpp"

#include "model/diagnostics.hpp"
#include "model/json_reader.hpp"
#include "model/json_text.hpp"

namespace hcpsim {

namespace {

constexpr const char* kFormat = "hcpsim-measurements/1";

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
  a.mask = c.choice<KernelMask>("mask", {{"none", KernelMask::None}, {"causal", KernelMask::CausalTopLeft}},
                                {{"causal_top_left", "write \"causal\" (top-left aligned)"}})
               .value_or(KernelMask::None);
  a.backward = c.choice<bool>("pass", {{"fwd", false}, {"bwd", true}}, {{"forward", "write \"fwd\""},
                                                                        {"backward", "write \"bwd\""}})
                   .value_or(false);
  if (a.heads_q && a.heads_kv && a.heads_q % a.heads_kv != 0)
    sink.error(c.path_of("heads_kv"), "heads_q " + std::to_string(a.heads_q) + " is not a multiple of heads_kv " +
               std::to_string(a.heads_kv), "heads_q % heads_kv == 0", "fix the measurement's configuration");
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
    s.median_s = s.min_s = s.max_s = t.get<double>();
    s.path = m.path + ".results.step_kernel_median_s[" + std::to_string(i) + "]";
    out.push_back(s);
  }
}

void read_one(const nlohmann::json& j, const std::string& path, DiagnosticSink& sink, std::vector<Measurement>& out) {
  Measurement m;
  m.path = path;
  ObjectReader r(j, path, sink,
                 {"kind", "backend", "config", "iterations", "median_s", "min_s", "max_s", "check", "results"});
  for (const char* k : {"kind", "config", "median_s"}) require(r, sink, k, "hcpcal writes kind, config and median_s");
  m.kind = r.choice<MeasurementKind>("kind", {{"attention", MeasurementKind::Attention},
                                              {"gemm", MeasurementKind::Gemm},
                                              {"copy", MeasurementKind::Copy},
                                              {"cp_attention", MeasurementKind::CpStep}})
               .value_or(MeasurementKind::Attention);
  m.backend = r.string("backend").value_or("");
  m.iterations = int(r.integer("iterations", 1, 1 << 30).value_or(1));
  m.median_s = r.number("median_s", 1e-9, 1e6, "a kernel time in seconds, > 0").value_or(0);
  m.min_s = r.number("min_s", 0, 1e6).value_or(m.median_s);
  m.max_s = r.number("max_s", 0, 1e6).value_or(m.median_s);
  if (m.median_s > 0 && (m.min_s > m.median_s || m.max_s < m.median_s))
    sink.error(r.path_of("median_s"), "median outside [min_s, max_s]", "min_s <= median_s <= max_s",
               "write the statistics of one set of iterations");
  if (const nlohmann::json* chk = r.object("check")) {
    ObjectReader cr(*chk, r.path_of("check"), sink, {"done", "wrong"});
    m.checked = cr.boolean("done").value_or(false);
    m.wrong = cr.integer("wrong", 0, int64_t(1) << 62).value_or(0);
  }
  const nlohmann::json* cfg = r.object("config");
  if (!cfg) return out.push_back(m);
  std::vector<std::string> keys;
  switch (m.kind) {
    case MeasurementKind::Attention: keys = {"name", "pass", "batch", "sq", "skv", "heads_q", "heads_kv", "head_dim", "mask"}; break;
    case MeasurementKind::Gemm: keys = {"name", "m", "n", "k", "dtype"}; break;
    case MeasurementKind::Copy: keys = {"bytes", "bytes_moved"}; break;
    case MeasurementKind::CpStep: keys = {"transport", "pass", "ranks", "seq", "heads_q", "heads_kv", "head_dim", "mask"}; break;
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
      if (auto d = c.string("dtype"); d && *d != "bf16")
        sink.error(c.path_of("dtype"), "dtype \"" + *d + "\" is not fitted", "bf16 only",
                   "measure bf16 GEMMs (the cost model's GEMM table is bf16)");
      break;
    case MeasurementKind::Copy:
      require(c, sink, "bytes_moved", "give the bytes read plus written");
      c.integer("bytes", 1, int64_t(1) << 50);
      m.copy_bytes_moved = double(c.integer("bytes_moved", 1, int64_t(1) << 50).value_or(0));
      break;
    case MeasurementKind::CpStep:
      return expand_cp(r, c, sink, m, out);
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
  ObjectReader top(*doc, "", sink, {"format", "tool", "argv", "complete", "environment", "measurements"});
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
  sink.throw_if_any();
  return set;
}

MeasurementSet read_measurements_file(const std::string& file_path) {
  DiagnosticSink sink;
  auto text = read_text_file(file_path, "measurements.json", sink);
  sink.throw_if_any();
  return parse_measurements_text(*text, file_path);
}

std::string shape_group_key(const Measurement& m) {
  switch (m.kind) {
    case MeasurementKind::CpStep:
      return "cp/" + m.name;
    case MeasurementKind::Attention:
      return "attn/" + std::to_string(m.attention.sq) + "x" + std::to_string(m.attention.skv) + "/" +
             to_string(m.attention.mask) + "/d" + std::to_string(m.attention.head_dim_qk);
    case MeasurementKind::Gemm:
      return "gemm/" + std::to_string(m.gemm.m) + "x" + std::to_string(m.gemm.n) + "x" + std::to_string(m.gemm.k);
    case MeasurementKind::Copy:
      return "copy/" + std::to_string(int64_t(m.copy_bytes_moved));
  }
  return {};
}

}  // namespace hcpsim

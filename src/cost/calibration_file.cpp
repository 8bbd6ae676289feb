#include "cost/calibration_file.hpp"

#include <algorithm>
#include <type_traits>
#include <cassert>
#include <cmath>
#include <nlohmann/json.hpp>

#include "common/diagnostics.hpp"
#include "common/json_reader.hpp"
#include "common/json_text.hpp"
#include "common/strprintf.hpp"

namespace hcpsim {

namespace {

constexpr const char* kFormat = "hcpsim-calibration/5";    // written
constexpr const char* kFormatV4 = "hcpsim-calibration/4";  // read too (no empty CTA or combine kernel terms)
constexpr const char* kFormatV3 = "hcpsim-calibration/3";  // read too (no attention_backend: hcpcal's kernels)
constexpr const char* kFormatV2 = "hcpsim-calibration/2";  // read too (no clock, no split_element_s)
constexpr const char* kFormatV1 = "hcpsim-calibration/1";  // read too (no attention_shape)

void require(ObjectReader& r, DiagnosticSink& sink, const std::string& key, const std::string& fix) {
  if (!r.has(key)) sink.error(r.path_of(key), "missing", "required key", fix);
}

// [lo, hi] with 0 <= lo <= hi, or nullopt (recorded).
std::optional<std::pair<double, double>> read_range(ObjectReader& r, DiagnosticSink& sink, const std::string& key) {
  const nlohmann::json* v = r.raw(key);
  if (!v) return std::nullopt;
  if (!v->is_array() || v->size() != 2 || !(*v)[0].is_number() || !(*v)[1].is_number() ||
      (*v)[0].get<double>() > (*v)[1].get<double>() || (*v)[0].get<double>() < 0) {
    sink.error(r.path_of(key), "must be [lo, hi], got " + v->dump(), "two numbers, 0 <= lo <= hi",
               "write the range of the measurements the parameter rests on");
    return std::nullopt;
  }
  return std::make_pair((*v)[0].get<double>(), (*v)[1].get<double>());
}

FitSummary read_summary(ObjectReader& r, DiagnosticSink& sink, const std::string& range_key) {
  FitSummary f;
  if (auto n = r.integer("samples", 0, 1 << 30)) f.samples = int(*n);
  if (auto rg = read_range(r, sink, range_key)) f.range_lo = rg->first, f.range_hi = rg->second;
  if (auto e = r.number("rms_error", 0, 1e9)) f.rms_error = *e;
  if (auto e = r.number("max_error", 0, 1e9)) f.max_error = *e;
  if (auto b = r.string("backend")) f.backend = *b;
  return f;
}

std::optional<EfficiencyTable> read_points(ObjectReader& r, DiagnosticSink& sink) {
  const std::string path = r.path_of("points");
  const nlohmann::json* v = r.raw("points");
  if (!v) {
    sink.error(path, "missing", "required key", "give [[flops, efficiency], ...] with FLOPs increasing");
    return std::nullopt;
  }
  const std::string range = strprintf("FLOPs > 0, %g <= efficiency <= %g", kMinEfficiency, kMaxEfficiency);
  const std::string fix = "give [[flops, efficiency], ...] with FLOPs increasing and " + range.substr(range.find(", ") + 2);
  if (!v->is_array() || v->empty()) {
    sink.error(path, "must be a non-empty array, got " + v->dump().substr(0, 40), "type", fix);
    return std::nullopt;
  }
  EfficiencyTable t;
  for (size_t i = 0; i < v->size(); ++i) {
    const auto& p = (*v)[i];
    const std::string pi = path + "[" + std::to_string(i) + "]";
    if (!p.is_array() || p.size() != 2 || !p[0].is_number() || !p[1].is_number()) {
      sink.error(pi, "must be [flops, efficiency], got " + p.dump().substr(0, 40), "type", fix);
      return std::nullopt;
    }
    const double x = p[0].get<double>(), y = p[1].get<double>();
    if (!(x > 0) || !(y >= kMinEfficiency && y <= kMaxEfficiency)) {
      sink.error(pi, "value " + p.dump() + " is out of range", range, fix);
      return std::nullopt;
    }
    if (!t.points.empty() && !(x > t.points.back().first)) {
      sink.error(pi, "FLOPs " + p[0].dump() + " do not increase", "points sorted by FLOPs, strictly increasing", fix);
      return std::nullopt;
    }
    t.points.emplace_back(x, y);
  }
  return t;
}

// Allowed range of each scalar, as CostParams documents it.
std::pair<double, double> scalar_range(const std::string& name) {
  for (const CostScalarParameter& s : cost_scalar_parameters())
    if (name == s.name) return {s.lo, s.hi};
  return {0, 0};
}

// Replaced by interference_* (rules/interference.hpp): read, then left out with a warning.
constexpr const char* kLegacyCommInterference = "comm_interference";

nlohmann::json summary_json(const FitSummary& f, const char* range_key) {
  nlohmann::json j;
  if (!f.backend.empty()) j["backend"] = f.backend;
  j["samples"] = f.samples;
  j[range_key] = {f.range_lo, f.range_hi};
  j["rms_error"] = f.rms_error;
  j["max_error"] = f.max_error;
  return j;
}

void read_collectives(const nlohmann::json& list, const std::string& path, DiagnosticSink& sink, CalibrationFile& c) {
  if (!list.is_array()) return sink.error(path, "must be an array", "type", "write [ {op, layout, latency_s, ...}, ... ]");
  for (size_t i = 0; i < list.size(); ++i) {
    ObjectReader r(list[i], path + "[" + std::to_string(i) + "]", sink,
                   {"op", "layout", "latency_s", "busbw_bytes_per_s", "table", "backend", "samples", "bytes_range",
                    "rms_error", "max_error"});
    for (const char* k : {"op", "layout", "latency_s", "busbw_bytes_per_s"})
      require(r, sink, k, "`hcpsim fit` writes op, layout, latency_s and busbw_bytes_per_s");
    CalibratedCollective k;
    k.op = r.choice("op", named_choices(kCommPatterns)).value_or(CommPattern::AllReduce);
    k.layout = r.choice("layout", named_choices(kCollectiveLayouts)).value_or(CollectiveLayout::IntraNode);
    k.latency_s = r.number("latency_s", 0, 1).value_or(0);
    k.busbw_bytes_per_s = r.number("busbw_bytes_per_s", 1e6, 1e15).value_or(0);
    if (const nlohmann::json* t = r.raw("table")) {
      const std::string tp = r.path_of("table");
      if (!t->is_array()) sink.error(tp, "must be an array", "type", "write [[bus_bytes, seconds], ...]");
      for (size_t j = 0; t->is_array() && j < t->size(); ++j) {
        const auto& p = (*t)[j];
        if (!p.is_array() || p.size() != 2 || !p[0].is_number() || !p[1].is_number() || !(p[0].get<double>() > 0) ||
            !(p[1].get<double>() > 0) || (!k.table.empty() && !(p[0].get<double>() > k.table.back().first))) {
          sink.error(tp + "[" + std::to_string(j) + "]", "must be [bus_bytes, seconds], got " + p.dump().substr(0, 40),
                     "positive numbers, bytes strictly increasing", "rewrite the file with `hcpsim fit`");
          break;
        }
        k.table.emplace_back(p[0].get<double>(), p[1].get<double>());
      }
    }
    k.fit = read_summary(r, sink, "bytes_range");
    c.collectives.push_back(k);
  }
}

std::optional<CalibratedAttentionShape> read_attention_shape(const nlohmann::json& j, const std::string& path,
                                                            DiagnosticSink& sink) {
  std::vector<std::string> keys = {"sm_count", "head_dim", "sm_clock_mhz", "backend"};
  for (const auto& part : attention_shape_parts()) keys.push_back(part.name);
  ObjectReader r(j, path, sink, keys);
  const std::string fix = "rewrite the file with `hcpsim fit`";
  for (const char* k : {"sm_count", "head_dim"}) require(r, sink, k, fix);
  CalibratedAttentionShape a;
  a.model.sm_count = r.integer("sm_count", 1, 1 << 20).value_or(0);
  a.model.head_dim = r.integer("head_dim", 1, 1 << 16).value_or(0);
  a.model.clock_mhz = r.number("sm_clock_mhz", 1, 1e5, "the SM clock the times are at, MHz").value_or(0);
  a.backend = r.string("backend").value_or("");
  // A model of the forward only leaves out both backward parts (AttentionShapeModel::backward).
  const bool bwd_causal = j.is_object() && j.contains("bwd_causal"), bwd_nomask = j.is_object() && j.contains("bwd_nomask");
  a.model.backward = bwd_causal && bwd_nomask;
  if (bwd_causal != bwd_nomask)
    sink.error(r.path_of(bwd_causal ? "bwd_nomask" : "bwd_causal"), "one backward part of two",
               "both backward parts, or neither (a model of the forward only: cuDNN's)",
               "give both, or remove " + std::string(bwd_causal ? "bwd_causal" : "bwd_nomask") + " (" + fix + ")");
  for (const auto& part : attention_shape_parts()) {
    if (!has_part(a, part)) continue;
    require(r, sink, part.name, "give t0_s, cta_s, tile_s and masked_tile_s (" + fix + ")");
    const nlohmann::json* p = r.object(part.name);
    if (!p) continue;
    ObjectReader pr(*p, r.path_of(part.name), sink,
                    {"t0_s", "cta_s", "tile_s", "masked_tile_s", "split_element_s", "query_element_s", "empty_cta_s",
                     "combine_launch_s", "combine_row_s", "backend", "samples", "flops_range", "tiles_range",
                     "rms_error", "max_error"});
    AttentionTileTimes& t = a.model.*part.times;
    for (const char* k : {"t0_s", "cta_s", "tile_s", "masked_tile_s"}) require(pr, sink, k, fix);
    // Seconds; t0 may be slightly negative (an intercept), the per-work costs may not.
    t.t0_s = pr.number("t0_s", -1, 1).value_or(0);
    t.cta_s = pr.number("cta_s", 0, 1).value_or(0);
    t.tile_s = pr.number("tile_s", 1e-12, 1).value_or(0);
    t.masked_tile_s = pr.number("masked_tile_s", -1, 1).value_or(0);
    t.split_element_s = pr.number("split_element_s", 0, 1).value_or(0);  // format /3
    t.query_element_s = pr.number("query_element_s", 0, 1).value_or(0);  // format /3
    t.empty_cta_s = pr.number("empty_cta_s", 0, 1).value_or(t.cta_s);    // format /5; before, a CTA's cost
    t.combine_launch_s = pr.number("combine_launch_s", 0, 1).value_or(0);  // format /5
    t.combine_row_s = pr.number("combine_row_s", 0, 1).value_or(0);        // format /5
    a.*part.fit = read_summary(pr, sink, "flops_range");
    if (auto rg = read_range(pr, sink, "tiles_range")) a.*part.tiles = *rg;
  }
  return a;
}

nlohmann::json attention_shape_json(const CalibratedAttentionShape& a) {
  nlohmann::json j;
  j["sm_count"] = a.model.sm_count;
  j["head_dim"] = a.model.head_dim;
  if (a.model.clock_mhz > 0) j["sm_clock_mhz"] = a.model.clock_mhz;
  if (!a.backend.empty()) j["backend"] = a.backend;
  for (const auto& part : attention_shape_parts()) {
    if (!has_part(a, part)) continue;
    nlohmann::json e = summary_json(a.*part.fit, "flops_range");
    const AttentionTileTimes& t = a.model.*part.times;
    e["t0_s"] = t.t0_s;
    e["cta_s"] = t.cta_s;
    e["tile_s"] = t.tile_s;
    e["masked_tile_s"] = t.masked_tile_s;
    e["split_element_s"] = t.split_element_s;
    e["query_element_s"] = t.query_element_s;
    e["empty_cta_s"] = t.empty_cta_s;
    e["combine_launch_s"] = t.combine_launch_s;
    e["combine_row_s"] = t.combine_row_s;
    e["tiles_range"] = {(a.*part.tiles).first, (a.*part.tiles).second};
    j[part.name] = e;
  }
  return j;
}

}  // namespace

const std::vector<AttentionShapePart>& attention_shape_parts() {
  static const std::vector<AttentionShapePart> p = {
      {"fwd_causal", &AttentionShapeModel::fwd_causal, &CalibratedAttentionShape::fwd_causal,
       &CalibratedAttentionShape::tiles_fwd_causal, false},
      {"fwd_nomask", &AttentionShapeModel::fwd_nomask, &CalibratedAttentionShape::fwd_nomask,
       &CalibratedAttentionShape::tiles_fwd_nomask, false},
      {"bwd_causal", &AttentionShapeModel::bwd_causal, &CalibratedAttentionShape::bwd_causal,
       &CalibratedAttentionShape::tiles_bwd_causal, true},
      {"bwd_nomask", &AttentionShapeModel::bwd_nomask, &CalibratedAttentionShape::bwd_nomask,
       &CalibratedAttentionShape::tiles_bwd_nomask, true}};
  return p;
}

bool has_part(const CalibratedAttentionShape& a, const AttentionShapePart& part) {
  return !part.backward || a.model.backward;
}

namespace {
template <class Parameter>
std::vector<std::string> names_of(const std::vector<Parameter>& parameters) {
  std::vector<std::string> v;
  for (const auto& q : parameters) v.emplace_back(q.name);
  return v;
}
}  // namespace

const std::vector<std::string>& calibration_table_names() {
  static const std::vector<std::string> n = names_of(cost_table_parameters());
  return n;
}

const std::vector<std::string>& calibration_scalar_names() {
  static const std::vector<std::string> n = names_of(cost_scalar_parameters());
  return n;
}

namespace {

// "held_out_check": {"attention": {"relative", "median_error", "max_error", "cases", "measurements"}}.
std::optional<HeldOutCheck> read_held_out(const nlohmann::json& j, const std::string& path, DiagnosticSink& sink) {
  ObjectReader hr(j, path, sink, {"attention"});
  const nlohmann::json* a = hr.object("attention");
  if (!a) return std::nullopt;
  ObjectReader ar(*a, hr.path_of("attention"), sink, {"relative", "median_error", "max_error", "cases", "measurements"});
  require(ar, sink, "relative", "give the time-weighted rms relative error of the held-out check (0.02 = 2%)");
  require(ar, sink, "cases", "give the number of held-out kernels the check predicted");
  require(ar, sink, "measurements", "name the held-out measurement files");
  constexpr std::string_view kFraction = "a fraction: 0.017 = 1.7%";
  HeldOutCheck k;
  const std::optional<double> relative = ar.number("relative", 0, 1, kFraction);
  k.median_error = ar.number("median_error", 0, 1, kFraction).value_or(0);
  k.max_error = ar.number("max_error", 0, 1, kFraction).value_or(0);
  k.cases = ar.integer("cases", 1, 100000000).value_or(0);
  k.measurements = ar.string("measurements").value_or("");
  if (!relative || k.cases <= 0 || k.measurements.empty()) return std::nullopt;
  k.relative = *relative;
  return k;
}

}  // namespace

CalibrationFile parse_calibration_text(const std::string& text, const std::string& source, const std::string& json_path) {
  DiagnosticSink sink;
  CalibrationFile c;
  auto doc = parse_json_text(text, source, json_path, sink);
  if (!doc) sink.throw_if_any();
  ObjectReader top(*doc, json_path, sink,
                   {"format", "gpu", "peak_bf16_flops_per_s", "hbm_bytes_per_s", "measurements", "method", "parameters",
                    "collectives", "attention_shape", "attention_backend", "held_out_check"});
  require(top, sink, "format", std::string("start the file with \"format\": \"") + kFormat + "\"");
  if (auto f = top.string("format");
      f && *f != kFormat && *f != kFormatV4 && *f != kFormatV3 && *f != kFormatV2 && *f != kFormatV1)
    sink.error(top.path_of("format"), "unknown format \"" + *f + "\"",
               std::string("must be ") + kFormat + ", " + kFormatV4 + ", " + kFormatV3 + ", " + kFormatV2 + " or " +
                   kFormatV1,
               "write it with this hcpsim's `hcpsim fit`");
  require(top, sink, "parameters", "give the fitted parameters (run `hcpsim fit`)");
  c.gpu = top.string("gpu").value_or("");
  c.peak_bf16_flops_per_s = top.number("peak_bf16_flops_per_s", 1e9, 1e18).value_or(0);
  c.hbm_bytes_per_s = top.number("hbm_bytes_per_s", 1e6, 1e15).value_or(0);
  c.measurements = top.string("measurements").value_or("");
  c.method = top.string("method").value_or("");
  std::vector<std::string> known = calibration_table_names();
  for (const auto& s : calibration_scalar_names()) known.push_back(s);
  known.push_back(kLegacyCommInterference);
  if (const nlohmann::json* params = top.object("parameters")) {
    ObjectReader pr(*params, top.path_of("parameters"), sink, known);
    for (const auto& name : calibration_table_names()) {
      const nlohmann::json* t = pr.object(name);
      if (!t) continue;
      ObjectReader tr(*t, pr.path_of(name), sink,
                      {"points", "backend", "samples", "flops_range", "rms_error", "max_error", "work"});
      auto table = read_points(tr, sink);
      FitSummary f = read_summary(tr, sink, "flops_range");
      const std::string work = tr.string("work").value_or("");
      if (!work.empty() && work != kWorkFlopsTimesBalance)
        sink.error(tr.path_of("work"), "unknown size axis \"" + work + "\"", std::string("\"") + kWorkFlopsTimesBalance +
                   "\" or absent (FLOPs)", "write it with this hcpsim's `hcpsim fit`");
      // cuDNN's attention tables are read on the busiest SM's work: a table fitted on FLOPs would
      // be read on the wrong axis, small launches off by up to 2x (docs/cost-model.md).
      if (is_attention_parameter(name) && f.backend == "cudnn" && work.empty())
        sink.error(tr.path_of("work"), "missing: a cuDNN attention table fitted on FLOPs, before hcpsim indexed them "
                   "by the busiest SM's work (flops_x_balance)", "cuDNN tables on the busiest SM's work",
                   "refit the measurements with this hcpsim's `hcpsim fit`");
      if (table) c.tables.push_back({name, *table, f, work});
    }
    for (const auto& name : calibration_scalar_names()) {
      const nlohmann::json* s = pr.object(name);
      if (!s) continue;
      ObjectReader sr(*s, pr.path_of(name), sink, {"value", "backend", "samples", "range", "rms_error", "max_error"});
      require(sr, sink, "value", "give the fitted value");
      const auto [lo, hi] = scalar_range(name);
      auto v = sr.number("value", lo, hi);
      FitSummary f = read_summary(sr, sink, "range");
      if (v) c.scalars.push_back({name, *v, f});
    }
    c.legacy_comm_interference = pr.has(kLegacyCommInterference);
  }
  if (const nlohmann::json* list = top.raw("collectives")) read_collectives(*list, top.path_of("collectives"), sink, c);
  if (const nlohmann::json* a = top.object("attention_shape")) c.attention_shape = read_attention_shape(*a, top.path_of("attention_shape"), sink);
  c.attention_backend = top.choice("attention_backend", named_choices(kAttentionBackends));
  if (const nlohmann::json* h = top.object("held_out_check")) c.attention_held_out = read_held_out(*h, top.path_of("held_out_check"), sink);
  const bool has_attention =
      c.attention_shape || std::any_of(c.tables.begin(), c.tables.end(),
                                       [](const CalibratedTable& t) { return is_attention_parameter(t.name); });
  if (!c.attention_backend && has_attention) {
    // Files before /4 name the backend on each table (and on the shape model): hcpcal's own
    // kernels ("hcpsim-flash") or, from hcpcal_torch, "cudnn" / "flash". Naming none: any backend.
    std::vector<std::string> named;
    for (const auto& t : c.tables)
      if (is_attention_parameter(t.name) && !t.fit.backend.empty()) named.push_back(t.fit.backend);
    if (c.attention_shape && !c.attention_shape->backend.empty()) named.push_back(c.attention_shape->backend);
    for (const std::string& b : named) {
      const std::optional<AttentionBackend> k = b.rfind("hcpsim", 0) == 0 ? std::optional(AttentionBackend::Hcpsim)
                                                : b == "cudnn"             ? std::optional(AttentionBackend::CuDNN)
                                                : b == "flash"             ? std::optional(AttentionBackend::Flash)
                                                                           : std::nullopt;
      if (!k) continue;  // not an attention backend hcpsim knows: it names none
      if (c.attention_backend && *c.attention_backend != *k)
        sink.error(top.path_of("parameters"), "attention tables of two backends (" + std::string(to_string(*c.attention_backend)) +
                   " and " + to_string(*k) + ")", "a calibration describes one backend's attention kernels",
                   "fit each backend apart (hcpsim fit --backend)");
      if (!c.attention_backend) c.attention_backend = k;
    }
  }
  // The shape model times the named backend's kernels with their geometry (attention_tiles.hpp);
  // files naming none were fitted on hcpsim's own (only hcpcal wrote them before /4).
  if (c.attention_shape) {
    c.attention_shape->model.backend = c.attention_backend.value_or(AttentionBackend::Hcpsim);
    const AttentionShapeModel& m = c.attention_shape->model;
    // A cuDNN model may cover its forward only (fitted without backward records of a GPU-counted
    // clock, fit_attention.hpp): its backward keeps the attention tables. Other backends have both.
    if (!m.backward && m.backend != AttentionBackend::CuDNN)
      sink.error(top.path_of("attention_shape"), std::string("a shape model of ") + to_string(m.backend) + "'s forward only",
                 "a shape model covers both passes (only cuDNN's, fitted without GPU-counted clocks, may leave "
                 "its backward to the attention tables)",
                 "give bwd_causal and bwd_nomask, or refit with `hcpsim fit`");
  }
  sink.throw_if_any();
  return c;
}

CalibrationFile read_calibration_file(const std::string& file_path, const std::string& json_path) {
  DiagnosticSink sink;
  auto text = read_text_file(file_path, json_path, sink);
  sink.throw_if_any();
  return parse_calibration_text(*text, file_path, json_path);
}

std::string calibration_to_json(const CalibrationFile& c) {
  nlohmann::json j;
  j["format"] = kFormat;
  j["gpu"] = c.gpu;
  if (c.peak_bf16_flops_per_s > 0) j["peak_bf16_flops_per_s"] = c.peak_bf16_flops_per_s;
  if (c.hbm_bytes_per_s > 0) j["hbm_bytes_per_s"] = c.hbm_bytes_per_s;
  j["measurements"] = c.measurements;
  j["method"] = c.method;
  nlohmann::json params = nlohmann::json::object();
  for (const auto& t : c.tables) {
    nlohmann::json e = summary_json(t.fit, "flops_range");
    nlohmann::json pts = nlohmann::json::array();
    for (const auto& [x, y] : t.table.points) pts.push_back({x, y});
    e["points"] = pts;
    if (!t.work.empty()) e["work"] = t.work;
    params[t.name] = e;
  }
  for (const auto& s : c.scalars) {
    nlohmann::json e = summary_json(s.fit, "range");
    e["value"] = s.value;
    params[s.name] = e;
  }
  j["parameters"] = params;
  if (c.attention_backend) j["attention_backend"] = to_string(*c.attention_backend);
  if (c.attention_shape) j["attention_shape"] = attention_shape_json(*c.attention_shape);
  if (const auto& h = c.attention_held_out)
    j["held_out_check"]["attention"] = {{"relative", h->relative}, {"median_error", h->median_error},
                                        {"max_error", h->max_error}, {"cases", h->cases},
                                        {"measurements", h->measurements}};
  if (!c.collectives.empty()) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& k : c.collectives) {
      nlohmann::json e = summary_json(k.fit, "bytes_range");
      e["op"] = to_string(k.op);
      e["layout"] = to_string(k.layout);
      e["latency_s"] = k.latency_s;
      e["busbw_bytes_per_s"] = k.busbw_bytes_per_s;
      if (!k.table.empty()) {
        nlohmann::json pts = nlohmann::json::array();
        for (const auto& [x, y] : k.table) pts.push_back({x, y});
        e["table"] = pts;
      }
      list.push_back(e);
    }
    j["collectives"] = list;
  }
  return j.dump(2) + "\n";
}

bool is_attention_parameter(const std::string& name) { return name.rfind("attention_", 0) == 0; }

bool took_parameter(const std::vector<std::string>& names, const std::string& prefix) {
  return std::any_of(names.begin(), names.end(), [&](const std::string& n) { return n.rfind(prefix, 0) == 0; });
}

double attention_fit_residual(const CalibrationFile& c) {
  double r = 0;
  for (const auto& t : c.tables)
    if (is_attention_parameter(t.name)) r = std::max(r, t.fit.rms_error);
  if (c.attention_shape)
    for (const auto& part : attention_shape_parts())
      if (has_part(*c.attention_shape, part)) r = std::max(r, ((*c.attention_shape).*part.fit).rms_error);
  return r;
}

namespace {

// A list "a, b, c, d" as "a, b and 2 more files" past `keep` items (a band's basis stays a line;
// the calibration file keeps the whole list).
std::string shortened_list(const std::string& list, size_t keep) {
  std::vector<std::string> items;
  for (size_t at = 0; at <= list.size();) {
    const size_t comma = std::min(list.find(", ", at), list.size());
    items.push_back(list.substr(at, comma - at));
    at = comma + 2;
  }
  if (items.size() <= keep + 1) return list;
  std::string out = items[0];
  for (size_t i = 1; i < keep; ++i) out += ", " + items[i];
  return out + " and " + std::to_string(items.size() - keep) + " more files";
}

}  // namespace

void set_attention_evidence(const CalibrationFile& c, const std::string& what, CostParams& p) {
  const auto pct = [](double x) { return strprintf("%.1f%%", 100 * x); };
  if (const auto& h = c.attention_held_out) {
    p.set_evidence("attention", h->relative,
                   "time-weighted rms error of " + what + " on " + std::to_string(h->cases) +
                       " kernels it was not fitted on (" + shortened_list(h->measurements, 2) + "; median " +
                       pct(h->median_error) + ", max " + pct(h->max_error) + ")");
    return;
  }
  p.set_evidence("attention", attention_fit_residual(c), "rms residual of " + what + " (in sample: `hcpsim check` tells out of sample)");
}

bool depends_on_gpu_model(const std::string& parameter) {
  return parameter != "nic_efficiency" && parameter != "kernel_floor_s";
}

CostParams apply_calibration(const CalibrationFile& c, CostParams p, const std::string& file_path, const GpuSpec& gpu) {
  const bool same_gpu = gpu_model_matches(c.gpu, gpu);
  // Attention parameters describe one backend's kernels: they carry to the scenario's only.
  const bool same_backend = !c.attention_backend || *c.attention_backend == p.attention_backend;
  std::vector<std::string> other_backend;
  const auto carried = [&](const std::string& name) {
    if (is_attention_parameter(name) && !same_backend) return false;
    return same_gpu || !depends_on_gpu_model(name);
  };
  std::vector<std::string> used, left_out;
  // Sets the parameter `name` (one of `params`) to `value` when it carries to this GPU.
  const auto set = [&](const auto& params, const std::string& name, const auto& value) {
    if (!carried(name)) return (is_attention_parameter(name) && !same_backend ? other_backend : left_out).push_back(name);
    const auto it = std::find_if(params.begin(), params.end(), [&](const auto& q) { return name == q.name; });
    assert(it != params.end() && "parse_calibration_text reads only the names of cost_*_parameters()");
    if constexpr (std::is_same_v<std::decay_t<decltype(value)>, double>)
      it->ref(p) = value;
    else
      p.*(it->member) = value;
    used.push_back(name);
  };
  for (const auto& t : c.tables) set(cost_table_parameters(), t.name, t.table);
  for (const auto& s : c.scalars) set(cost_scalar_parameters(), s.name, s.value);
  if (!c.collectives.empty()) {
    if (same_gpu) {
      p.collectives = c.collectives;
      used.push_back("collectives (" + std::to_string(c.collectives.size()) + " op x layout lines)");
    } else {
      left_out.push_back("collectives");
    }
  }
  if (c.legacy_comm_interference)
    p.warnings.push_back(file_path + ": comm_interference (one factor for every kernel beside any transfer) is no longer "
                         "used; the interference model has a factor per kernel class and a transfer slowdown per "
                         "channel count (interference_*); rerun hcpcal --suite interference and hcpsim fit for them");
  // Attention tables of this backend without a shape model: the tables time every attention kernel
  // (a default shape model, fitted on other measurements, would override them).
  if (!c.attention_shape && std::any_of(used.begin(), used.end(), [&](const std::string& u) { return is_attention_parameter(u); }))
    p.attention_shape.reset();
  if (c.attention_shape && !same_backend) {
    other_backend.push_back("attention_shape");
  } else if (c.attention_shape && same_gpu) {
    p.attention_shape = c.attention_shape->model;
    const AttentionShapeModel& a = c.attention_shape->model;
    used.push_back("attention_shape (head dim " + std::to_string(a.head_dim) +
                   (a.clock_mhz > 0 ? ", at the sustained SM clock of " + std::to_string(int(a.clock_mhz + 0.5)) + " MHz"
                                    : std::string()) +
                   ")");
  } else if (c.attention_shape) {
    left_out.push_back("attention_shape");
  }
  // Evidence of what was taken: the held-out check, or the fit's own residuals.
  if (took_parameter(used, "attention_")) set_attention_evidence(c, "the attention fit in " + file_path, p);
  if (took_parameter(used, "gemm"))
    for (const auto& t : c.tables)
      if (t.name == "gemm") p.set_evidence("gemm", t.fit.rms_error, "rms residual of the GEMM fit in " + file_path);
  double fp8_residual = -1;  // TE's fp8 GEMMs this file measured (rules/fp8_gemm.hpp)
  for (const auto& t : c.tables)
    if (t.name.rfind("gemm_fp8_", 0) == 0 && std::find(used.begin(), used.end(), t.name) != used.end())
      fp8_residual = std::max(fp8_residual, t.fit.rms_error);
  if (fp8_residual >= 0) p.set_evidence("gemm_fp8", fp8_residual, "rms residual of the fp8 GEMM fits in " + file_path);
  if (took_parameter(used, "memory_efficiency_")) {  // the memory-bound kernels this GPU's file measured
    double residual = 0;
    size_t taken = 0, kinds = 0;
    for (const auto& s : c.scalars)
      if (s.name.rfind("memory_efficiency_", 0) == 0 && std::find(used.begin(), used.end(), s.name) != used.end())
        residual = std::max(residual, s.fit.rms_error), ++taken;
    for (const auto& q : cost_scalar_parameters()) kinds += std::string(q.name).rfind("memory_efficiency_", 0) == 0;
    const std::string fits = "rms residual of the memory-bound kernel fits in " + file_path;
    const KernelEvidence* before = p.evidence_for("elementwise");
    if (taken == kinds || !before)
      p.set_evidence("elementwise", residual, fits);
    else  // the kinds it lacks keep the defaults' evidence
      p.set_evidence("elementwise", std::max(residual, before->relative),
                     fits + " (" + std::to_string(taken) + " of " + std::to_string(kinds) + " kinds); the others: " + before->basis);
  }
  std::vector<std::string> defaults;
  for (const auto* names : {&calibration_table_names(), &calibration_scalar_names()})
    for (const auto& n : *names)
      if (std::find(used.begin(), used.end(), n) == used.end()) defaults.push_back(n);
  auto join = [](const std::vector<std::string>& v) {  // interference_* counted as one entry
    std::string s;
    size_t interference = 0;
    for (const auto& x : v) {
      if (x.rfind("interference_", 0) == 0) ++interference;
      else s += (s.empty() ? "" : ", ") + x;
    }
    if (interference > 0) s += (s.empty() ? "" : ", ") + std::string("interference (") + std::to_string(interference) + " values)";
    return v.empty() ? std::string("nothing") : s;
  };
  p.calibrated = used;
  p.source = "calibration " + file_path + (c.gpu.empty() ? "" : " (" + c.gpu + ")") + ": " +
             join(used) + "; defaults for " + join(defaults) + " (" + p.source + ")";
  if (!other_backend.empty())
    p.warnings.push_back(file_path + " calibrates the " + to_string(*c.attention_backend) +
                         " attention backend, but this scenario runs " + to_string(p.attention_backend) +
                         " (software.attention_backend): its attention parameters (" + join(other_backend) +
                         ") are left at the " + to_string(p.attention_backend) +
                         " defaults (fit the measurements of that backend with `hcpsim fit --backend " +
                         to_string(p.attention_backend) + "`)");
  if (!same_gpu)
    p.warnings.push_back(file_path + " was calibrated on " + (c.gpu.empty() ? std::string("an unnamed GPU") : c.gpu) +
                         ", but this cluster's GPU is " + gpu.name + ": its GPU-specific parameters (" + join(left_out) +
                         ") are left at their defaults; carried over: " + join(used) + " (calibrate on this GPU for its own)");
  return p;
}

}  // namespace hcpsim

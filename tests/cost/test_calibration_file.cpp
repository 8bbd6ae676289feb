// Malformed measurements and calibration files give `error: <json.path>: ...` diagnostics.
#include <catch2/catch.hpp>

#include "fit/measurements.hpp"
#include "cost/calibration_file.hpp"
#include "cost/cost_model.hpp"
#include "cost/default_calibrations.hpp"
#include "scenario/presets.hpp"
#include "common/diagnostics.hpp"
#include "tests/fit/synthetic_measurements.hpp"

using namespace hcpsim;
using nlohmann::json;

namespace {

// The diagnostics parsing `text` raises (empty if it parses).
template <class Parse>
std::vector<Diagnostic> errors_of(Parse parse) {
  try {
    parse();
  } catch (const InputError& e) {
    return e.diagnostics();
  }
  return {};
}

bool has(const std::vector<Diagnostic>& d, const std::string& path, const std::string& what_part) {
  for (const auto& x : d)
    if (x.path == path && x.what.find(what_part) != std::string::npos) return true;
  return false;
}

std::string all(const std::vector<Diagnostic>& d) {
  std::string s;
  for (const auto& x : d) s += x.str() + "\n";
  return s;
}

json good_calibration() {
  return {{"format", "hcpsim-calibration/1"},
          {"gpu", "NVIDIA H200"},
          {"parameters",
           {{"gemm", {{"points", {{1e9, 0.5}, {1e12, 0.7}}}, {"samples", 2}, {"flops_range", {1e9, 1e12}}}},
            {"memory_efficiency", {{"value", 0.85}}}}}};
}

}  // namespace

TEST_CASE("measurement errors name the measurement and key", "[calibrate]") {
  json list = test::synthetic_attention_measurements();
  list[0].erase("median_s");
  list[1]["config"]["mask"] = "diagonal";
  list[2]["config"]["heads_kv"] = 5;
  list[3]["colour"] = "red";
  const auto d = errors_of([&] { parse_measurements_text(test::synthetic_measurement_file(list).dump(), "m.json"); });
  INFO(all(d));
  CHECK(has(d, "measurements[0].median_s", "missing"));
  CHECK(has(d, "measurements[1].config.mask", "diagonal"));
  CHECK(has(d, "measurements[2].config.heads_kv", "not a multiple"));
  CHECK(has(d, "measurements[3].colour", "unknown key"));
  CHECK(d[0].str().rfind("error: measurements[0].median_s: missing (required key) \u2014 ", 0) == 0);
}

TEST_CASE("a measurements file needs its format, environment and GPU", "[calibrate]") {
  const auto d = errors_of([] { parse_measurements_text(R"({"format": "other", "environment": {}})", "m.json"); });
  INFO(all(d));
  CHECK(has(d, "format", "unknown format"));
  CHECK(has(d, "environment.gpu_model", "missing"));
  CHECK(has(d, "measurements", "missing"));
  const auto syntax = errors_of([] { parse_measurements_text("{\"format\": ", "m.json"); });
  REQUIRE(syntax.size() == 1);
  CHECK(syntax[0].what.find("m.json:1:") != std::string::npos);
}

TEST_CASE("calibration files round-trip and reject bad tables", "[calibrate]") {
  const CalibrationFile c = parse_calibration_text(good_calibration().dump(), "c.json");
  REQUIRE(c.tables.size() == 1);
  CHECK(c.tables[0].table.points[1].second == 0.7);
  const CalibrationFile again = parse_calibration_text(calibration_to_json(c), "c2.json");
  CHECK(again.tables[0].table.points == c.tables[0].table.points);
  CHECK(again.scalars[0].value == 0.85);

  json bad = good_calibration();
  bad["parameters"]["gemm"]["points"] = {{1e12, 0.5}, {1e9, 0.7}};
  bad["parameters"]["memory_efficiency"]["value"] = 3;
  bad["parameters"]["attention_fwd"] = json::object();
  const auto d = errors_of([&] { parse_calibration_text(bad.dump(), "c.json"); });
  INFO(all(d));
  CHECK(has(d, "calibration.parameters.gemm.points[1]", "do not increase"));
  CHECK(has(d, "calibration.parameters.memory_efficiency.value", "out of range"));
  CHECK(has(d, "calibration.parameters.attention_fwd", "unknown key"));

  // An efficiency below a thousandth (1e-300 deadlocked SimGrid; 1e-9 gave a step of 1.9e10 s) is
  // refused as the scalars' is, at the point: [kMinEfficiency, kMaxEfficiency] = [0.001, 1.5].
  for (const double e : {1e-300, 1e-9, 9.9e-4, 1.51}) {
    json tiny = good_calibration();
    tiny["parameters"]["gemm"]["points"] = {{1e9, 0.5}, {1e12, e}};
    const auto t = errors_of([&] { parse_calibration_text(tiny.dump(), "c.json"); });
    INFO(e << ": " << all(t));
    REQUIRE(t.size() == 1);
    CHECK(t[0].path == "calibration.parameters.gemm.points[1]");
    CHECK(t[0].rule == "FLOPs > 0, 0.001 <= efficiency <= 1.5");
  }
  json edge = good_calibration();
  edge["parameters"]["gemm"]["points"] = {{1e9, 0.001}, {1e12, 1.5}};  // both ends are in range
  CHECK_NOTHROW(parse_calibration_text(edge.dump(), "c.json"));
}

TEST_CASE("attention measurements read the bottom-right causal mask and key shapes by query heads", "[calibrate]") {
  // hcpcal's grid has all_gather's chunk shapes (bottom-right causal) and a2a's kernels
  // (32/R query heads): both must reach the model as such, and shapes that differ only in
  // query heads are different shapes for the out-of-sample split.
  json list = test::synthetic_attention_measurements();
  list[0]["config"]["mask"] = "causal_bottom_right";
  list[0]["config"]["sq"] = 1024;
  list[0]["config"]["skv"] = 4096;
  list[1]["config"]["heads_q"] = 8;
  list[1]["config"]["heads_kv"] = 2;
  const MeasurementSet set = parse_measurements_text(test::synthetic_measurement_file(list).dump(), "m.json");
  CHECK(set.items[0].attention.mask == KernelMask::CausalBottomRight);
  CHECK(shape_group_key(set.items[0]) == "attn/1024x4096/causal_bottom_right/d128/hq32");
  CHECK(set.items[1].attention.heads_q == 8);
  CHECK(shape_group_key(set.items[1]).substr(shape_group_key(set.items[1]).size() - 4) == "/hq8");
}

TEST_CASE("a cuDNN attention table must say it is on the busiest SM's work, others are on FLOPs", "[calibrate]") {
  json c = good_calibration();
  c["format"] = "hcpsim-calibration/4";
  c["parameters"]["attention_fwd_causal"] = {
      {"points", {{1e9, 0.2}, {1e13, 0.6}}}, {"backend", "cudnn"}, {"samples", 2}, {"flops_range", {1e9, 1e13}}};
  // Fitted on FLOPs (no "work"): read on the new axis it would be wrong for small launches.
  const auto d = errors_of([&] { parse_calibration_text(c.dump(), "c.json"); });
  INFO(all(d));
  CHECK(has(d, "calibration.parameters.attention_fwd_causal.work", "missing"));
  // With its axis it reads, and writes it back.
  c["parameters"]["attention_fwd_causal"]["work"] = kWorkFlopsTimesBalance;
  const CalibrationFile ok = parse_calibration_text(c.dump(), "c.json");
  REQUIRE(ok.tables.size() == 2);
  const CalibrationFile again = parse_calibration_text(calibration_to_json(ok), "c2.json");
  bool found = false;
  for (const auto& t : again.tables)
    if (t.name == "attention_fwd_causal") found = t.work == kWorkFlopsTimesBalance;
  CHECK(found);
  // FlashAttention's tables and the GEMM's are on FLOPs; an unknown axis is refused.
  c["parameters"]["attention_fwd_causal"]["backend"] = "flash";
  c["parameters"]["attention_fwd_causal"].erase("work");
  CHECK(parse_calibration_text(c.dump(), "c.json").tables.size() == 2);
  c["parameters"]["gemm"]["work"] = "tokens";
  const auto e = errors_of([&] { parse_calibration_text(c.dump(), "c.json"); });
  CHECK(has(e, "calibration.parameters.gemm.work", "unknown size axis"));
}

TEST_CASE("a calibration's held-out check is the band of its attention, without one, its fit's rms residual",
          "[calibrate][uncertainty]") {
  json c = good_calibration();
  c["format"] = "hcpsim-calibration/4";
  c["attention_backend"] = "cudnn";
  c["parameters"]["attention_fwd_causal"] = {{"points", {{1e9, 0.2}, {1e13, 0.6}}}, {"backend", "cudnn"},
                                             {"samples", 2}, {"flops_range", {1e9, 1e13}}, {"rms_error", 0.04},
                                             {"work", kWorkFlopsTimesBalance}};
  const GpuSpec h200 = find_cluster_preset("dgx-h200")->spec.gpu;
  const CostParams base = default_cost_params(h200, AttentionBackend::CuDNN);

  // No held-out check: the fit's own residual, said to be in sample.
  const CostParams in_sample = apply_calibration(parse_calibration_text(c.dump(), "c.json"), base, "c.json", h200);
  REQUIRE(in_sample.evidence_for("attention"));
  CHECK(in_sample.evidence_for("attention")->relative == 0.04);
  CHECK(in_sample.evidence_for("attention")->basis.find("in sample") != std::string::npos);

  // With one: its time-weighted rms, and the basis names the cases, the files, median and max.
  c["held_out_check"] = {{"attention", {{"relative", 0.017}, {"median_error", 0.02}, {"max_error", 0.154},
                                        {"cases", 100}, {"measurements", "held.json"}}}};
  const CalibrationFile f = parse_calibration_text(c.dump(), "c.json");
  REQUIRE(f.attention_held_out);
  const CalibrationFile again = parse_calibration_text(calibration_to_json(f), "c2.json");
  REQUIRE(again.attention_held_out);
  CHECK(again.attention_held_out->relative == 0.017);
  CHECK(again.attention_held_out->cases == 100);
  CHECK(again.attention_held_out->measurements == "held.json");
  CHECK(again.attention_held_out->median_error == 0.02);
  CHECK(again.attention_held_out->max_error == 0.154);
  const CostParams held_out = apply_calibration(f, base, "c.json", h200);
  REQUIRE(held_out.evidence_for("attention"));
  CHECK(held_out.evidence_for("attention")->relative == 0.017);
  const std::string basis = held_out.evidence_for("attention")->basis;
  CHECK(basis.find("100 kernels it was not fitted on (held.json; median 2.0%, max 15.4%)") != std::string::npos);
  // Three files are named; past that the basis names two and counts the rest (the file keeps all).
  c["held_out_check"]["attention"]["measurements"] = "a.json, b.json, c.json";
  CHECK(apply_calibration(parse_calibration_text(c.dump(), "c.json"), base, "c.json", h200)
            .evidence_for("attention")
            ->basis.find("(a.json, b.json, c.json; median") != std::string::npos);
  c["held_out_check"]["attention"]["measurements"] = "a.json, b.json, c.json, d.json";
  const CalibrationFile four = parse_calibration_text(c.dump(), "c.json");
  CHECK(four.attention_held_out->measurements == "a.json, b.json, c.json, d.json");
  CHECK(apply_calibration(four, base, "c.json", h200)
            .evidence_for("attention")
            ->basis.find("(a.json, b.json and 2 more files; median") != std::string::npos);
  c["held_out_check"]["attention"]["measurements"] = "held.json";

  // The built-in defaults carry theirs, and the H200's attention band is it.
  std::string builtin_text;
  for (const auto& [name, text] : default_calibration_texts())
    if (name == "h200-cudnn") builtin_text = text;
  const CalibrationFile builtin = parse_calibration_text(builtin_text, "h200-cudnn.json");
  REQUIRE(builtin.attention_held_out);
  REQUIRE(base.evidence_for("attention"));
  CHECK(base.evidence_for("attention")->relative == builtin.attention_held_out->relative);

  // Bad values are named at their path: a percentage where a fraction belongs, a missing count.
  c["held_out_check"]["attention"]["relative"] = 1.7;
  c["held_out_check"]["attention"]["colour"] = "red";
  c["held_out_check"]["attention"].erase("cases");
  const auto d = errors_of([&] { parse_calibration_text(c.dump(), "c.json"); });
  INFO(all(d));
  CHECK(has(d, "calibration.held_out_check.attention.relative", "out of range"));
  CHECK(has(d, "calibration.held_out_check.attention.colour", "unknown key"));
  CHECK(has(d, "calibration.held_out_check.attention.cases", "missing"));
}

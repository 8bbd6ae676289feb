// The shape-aware attention fit (fit/fit_attention.hpp) recovers the coefficients of
// times made with the model itself, clock-scaled times included; calibration files carry the
// model (format /5) and formats /4, /2 and /1 still load.
#include <catch2/catch.hpp>
#include <cmath>

#include "fit/fit_attention.hpp"
#include "fit/replay.hpp"
#include "common/diagnostics.hpp"
#include "tests/fit/synthetic_measurements.hpp"

using namespace hcpsim;

namespace {

AttentionShape shape(int64_t sq, int64_t skv, int64_t hk, bool causal, bool backward) {
  AttentionShape s;
  s.batch = 1;
  s.sq = sq;
  s.skv = skv;
  s.heads_q = 32;
  s.heads_kv = hk;
  s.head_dim_qk = s.head_dim_v = 128;
  s.mask = causal ? KernelMask::CausalTopLeft : KernelMask::None;
  s.backward = backward;
  return s;
}

// Shapes of one part: whole and partial tiles, upper/lower rectangles, both KV-head counts.
std::vector<AttentionShape> part_shapes(bool causal, bool backward) {
  std::vector<AttentionShape> out;
  const std::vector<std::pair<int64_t, int64_t>> lengths =
      causal ? std::vector<std::pair<int64_t, int64_t>>{{1024, 1024}, {1600, 1600}, {2304, 2304}, {4096, 4096},
                                                        {5248, 5248}, {8192, 8192}, {16384, 16384}}
             : std::vector<std::pair<int64_t, int64_t>>{{1024, 1024}, {1600, 1600}, {2048, 1024}, {1024, 2048},
                                                        {4096, 4096}, {3000, 5000}, {8192, 8192}};
  for (const auto& [sq, skv] : lengths)
    for (int64_t hk : {32, 8}) out.push_back(shape(sq, skv, hk, causal, backward));
  return out;
}

constexpr int64_t kSms = 132;

// Samples of one part timed by a model of `backend`'s kernels with the same coefficients `t` in
// every part: the truth a fit should recover.
std::vector<AttentionTimeSample> samples_made_with(const AttentionTileTimes& t, AttentionBackend backend, bool causal,
                                                   bool backward) {
  AttentionShapeModel truth;
  truth.backend = backend;
  truth.sm_count = kSms;
  truth.head_dim = 128;
  truth.fwd_causal = truth.fwd_nomask = truth.bwd_causal = truth.bwd_nomask = t;
  std::vector<AttentionTimeSample> samples;
  for (const auto& s : part_shapes(causal, backward)) samples.push_back({s, truth.time_s(s), 1.0});
  return samples;
}

}  // namespace

TEST_CASE("the attention fit recovers the coefficients its samples were made with", "[calibrate][attention]") {
  for (bool backward : {false, true})
    for (bool causal : {false, true}) {
      INFO("backward " << backward << " causal " << causal);
      // The split and query terms only exist in the backward (their elements are 0 forward).
      const AttentionTileTimes t{15e-6, 2.5e-6, 2e-6, 0.4e-6, backward ? 1e-12 : 0.0, backward ? 3e-12 : 0.0};
      const std::vector<AttentionTimeSample> samples = samples_made_with(t, AttentionBackend::Hcpsim, causal, backward);
      const AttentionPartFit f = fit_attention_part(samples, kSms);
      CHECK(f.times.t0_s == Approx(t.t0_s).epsilon(1e-6));
      CHECK(f.times.tile_s == Approx(t.tile_s).epsilon(1e-6));
      if (causal && !backward) {
        // Every causal forward CTA has exactly one masked tile (its diagonal), so masked
        // tiles = CTAs on every SM: only cta_s + masked_tile_s is determined.
        CHECK(f.times.cta_s + f.times.masked_tile_s == Approx(t.cta_s + t.masked_tile_s).epsilon(1e-6));
      } else {
        CHECK(f.times.cta_s == Approx(t.cta_s).epsilon(1e-6));
        CHECK(f.times.masked_tile_s == Approx(t.masked_tile_s).epsilon(1e-6));
      }
      CHECK(f.times.split_element_s == Approx(t.split_element_s).epsilon(1e-6).margin(1e-18));
      CHECK(f.times.query_element_s == Approx(t.query_element_s).epsilon(1e-6).margin(1e-18));
      CHECK(f.summary.max_error < 1e-9);
      CHECK(f.summary.samples == int(samples.size()));
    }
}

TEST_CASE("the no-mask backward's masked-tile cost comes from kernels that mask every tile by value", "[calibrate][attention]") {
  // cuDNN's bottom-right backward on sm_90 runs as the no-mask rectangle with every tile masked
  // (executed_attention_shape): records of it join the no-mask backward and alone determine its
  // masked_tile_s (no no-mask record has a masked tile). Truth: a masked tile 8 % dearer.
  const AttentionTileTimes t{38e-6, 4e-6, 2.7e-6, 0.216e-6, 7e-13, 4.6e-12};
  AttentionShapeModel truth;
  truth.backend = AttentionBackend::CuDNN;
  truth.sm_count = kSms;
  truth.head_dim = 128;
  truth.bwd_nomask = t;
  std::vector<AttentionTimeSample> samples = samples_made_with(t, AttentionBackend::CuDNN, false, true);
  for (int64_t c : {1024, 4096, 16384})
    for (int64_t m : {2, 4, 8}) {
      AttentionShape br = shape(c, m * c, 8, false, true);
      br.mask = KernelMask::CausalBottomRight;
      const AttentionShape x = executed_attention_shape(br, AttentionBackend::CuDNN, 90);
      REQUIRE(x.every_tile_masked);
      samples.push_back({x, truth.time_s(x), 1.0});
    }
  const AttentionPartFit f = fit_attention_part(samples, kSms, AttentionBackend::CuDNN);
  CHECK(f.times.t0_s == Approx(t.t0_s).epsilon(1e-6));
  CHECK(f.times.cta_s == Approx(t.cta_s).epsilon(1e-6));
  CHECK(f.times.tile_s == Approx(t.tile_s).epsilon(1e-6));
  CHECK(f.times.masked_tile_s == Approx(t.masked_tile_s).epsilon(1e-6));
  CHECK(f.summary.max_error < 1e-9);
  // Without them no sample's busiest SM runs a masked tile (3000 x 5000's partial last key block
  // lands on a lighter SM): the column is left out and masked_tile_s stays 0.
  const AttentionPartFit plain = fit_attention_part(samples_made_with(t, AttentionBackend::CuDNN, false, true), kSms,
                                                    AttentionBackend::CuDNN);
  CHECK(plain.times.masked_tile_s == 0);
}

TEST_CASE("the backward's split and query terms count the elements the kernel moves", "[calibrate][attention]") {
  // 1024 x 1024, 32/8 heads: 8 key blocks x 8 KV heads = 64 CTAs < 256, so each of the 4 query
  // heads of a KV head gets its own CTA and the fp32 dK and dV accumulators take 4 adds per
  // element: 2 x 1024 x 8 x 128 x 4 = 8388608. Query elements: 1024 x 32 x 128 = 4194304.
  const AttentionShape bwd = shape(1024, 1024, 8, true, true);
  CHECK(split_accumulator_elements(bwd, AttentionBackend::Hcpsim, 132) == 8388608);
  // 4096 keys: 32 x 8 = 256 CTAs, not under 256: no split. 32 KV heads: no GQA, no split.
  CHECK(split_accumulator_elements(shape(4096, 4096, 8, true, true), AttentionBackend::Hcpsim, 132) == 0);
  CHECK(split_accumulator_elements(shape(1024, 1024, 32, true, true), AttentionBackend::Hcpsim, 132) == 0);
  CHECK(split_accumulator_elements(shape(1024, 1024, 8, true, false), AttentionBackend::Hcpsim, 132) == 0);  // forward
  const AttentionTileTimes t{10e-6, 0, 0, 0, 1e-12, 2e-12};
  const AttentionWork w = attention_work(bwd, kSms, t);
  CHECK(w.split_elements == 8388608);
  CHECK(w.query_elements == 4194304);
  // t = t0 + 1 ps x 8388608 + 2 ps x 4194304 = 10 us + 8.388608 us + 8.388608 us
  CHECK(w.time_s(t) == Approx(10e-6 + 8.388608e-6 + 8.388608e-6).epsilon(1e-12));
  CHECK(attention_work(shape(1024, 1024, 8, true, false), kSms, t).query_elements == 0);
}

TEST_CASE("FlashAttention-2's split-KV forward: the fit recovers empty CTAs' cost and the combine kernel's",
          "[calibrate][attention]") {
  // Forwards of 1-32 heads at 512-8192 tokens: the small ones split their keys (rules/
  // flash_fwd_splitkv.hpp: 2-11 splits), causal ones with empty splits; the large ones do not.
  // Times made with the model itself; the fit starts from cost = tiles and must come back to them.
  AttentionTileTimes t{9e-6, 2.2e-6, 1.7e-6, 0, 2e-12, 0};
  t.empty_cta_s = 0.6e-6, t.combine_launch_s = 2.5e-6, t.combine_row_s = 150e-12;
  for (bool causal : {false, true}) {
    INFO("causal " << causal);
    AttentionShapeModel truth;
    truth.backend = AttentionBackend::Flash;
    truth.sm_count = kSms;
    truth.head_dim = 128;
    truth.fwd_causal = truth.fwd_nomask = t;
    std::vector<AttentionTimeSample> samples;
    int64_t split = 0;
    for (int64_t sq : {512, 1024, 1152, 1280, 2048, 4096, 8192})
      for (int64_t h : {1, 2, 3, 5, 8, 12, 16, 32}) {
        AttentionShape s = shape(sq, sq, h, causal, false);
        s.heads_q = h;
        samples.push_back({s, truth.time_s(s), 1.0});
        split += split_combine_rows(s, AttentionBackend::Flash, kSms) > 0;
      }
    REQUIRE(split >= 10);
    const AttentionPartFit f = fit_attention_part(samples, kSms, AttentionBackend::Flash);
    // No mask: every unit of a launch alike, the schedule does not move with the costs, the fit
    // is exact. Causal: which units share the busiest SM under the drawn placements changes with
    // the costs, and the alternating fit (five rounds) stops within a percent of the truth
    // (measured: max error 0.55 %, each coefficient within 1 %).
    const double tol = causal ? 0.02 : 1e-4;
    CHECK(f.summary.max_error < (causal ? 0.01 : 1e-6));
    CHECK(f.times.t0_s == Approx(t.t0_s).epsilon(tol));
    CHECK(f.times.tile_s == Approx(t.tile_s).epsilon(tol));
    CHECK(f.times.combine_launch_s == Approx(t.combine_launch_s).epsilon(tol));
    CHECK(f.times.combine_row_s == Approx(t.combine_row_s).epsilon(tol));
    CHECK(f.times.split_element_s == Approx(t.split_element_s).epsilon(tol));
    if (causal) {  // a causal split CTA has one masked step: masked_tile_s and cta_s barely apart
      CHECK(f.times.cta_s + f.times.masked_tile_s == Approx(t.cta_s).epsilon(tol));
      CHECK(f.times.empty_cta_s == Approx(t.empty_cta_s).epsilon(tol));
    } else {  // no empty split: an empty CTA is not measured and costs a CTA's time
      CHECK(f.times.cta_s == Approx(t.cta_s).epsilon(tol));
      CHECK(f.times.empty_cta_s == f.times.cta_s);
    }
  }
}

TEST_CASE("attention times scale with 1 / SM clock, and the fit works at the median clock", "[calibrate][attention]") {
  CHECK(at_sm_clock(1e-3, 1800, 1980) == Approx(1e-3 * 1800 / 1980));
  CHECK(at_sm_clock(1e-3, 0, 1980) == 1e-3);  // clock unknown: unchanged
  CHECK(at_sm_clock(1e-3, 1980, 0) == 1e-3);
  // Synthetic measurements made at 1980 MHz, re-timed as if run at clocks of 1700..1980 MHz:
  // every time x 1980 / f. The fit brings them to one clock (the median, 1840 MHz for the
  // clocks below): its coefficients are those of the same records without clocks (all at
  // 1980 MHz) times 1980 / 1840, and a prediction scales with 1 / the clock asked for.
  const ClusterSpec h200 = node_for_measurements("NVIDIA H200", "");
  nlohmann::json plain = test::synthetic_measurement_file(test::synthetic_attention_measurements());
  plain["environment"]["sm_count"] = kSms;
  const FitResult at_1980 = fit_calibration(parse_measurements_text(plain.dump(), "plain"), h200, FitOptions{});
  REQUIRE(at_1980.calibration.attention_shape);
  CHECK(at_1980.calibration.attention_shape->model.clock_mhz == 0);
  nlohmann::json list = test::synthetic_attention_measurements();
  const std::vector<double> clocks = {1700, 1980, 1840, 1760, 1900, 1840, 1980};
  for (size_t i = 0; i < list.size(); ++i) {
    const double f = clocks[i % clocks.size()];
    for (const char* k : {"median_s", "min_s", "max_s"}) list[i][k] = list[i][k].get<double>() * 1980 / f;
    list[i]["sm_clock_mhz"] = f;
  }
  nlohmann::json file = test::synthetic_measurement_file(list);
  file["environment"]["sm_count"] = kSms;
  const MeasurementSet set = parse_measurements_text(file.dump(), "clocks");
  const FitResult r = fit_calibration(set, h200, FitOptions{});
  REQUIRE(r.calibration.attention_shape);
  CHECK(r.calibration.attention_shape->model.clock_mhz == 1840);
  for (const auto& part : attention_shape_parts()) {
    INFO(part.name);
    const AttentionTileTimes& a = r.calibration.attention_shape->model.*part.times;
    const AttentionTileTimes& b = at_1980.calibration.attention_shape->model.*part.times;
    CHECK(a.tile_s == Approx(b.tile_s * 1980 / 1840).epsilon(1e-9));
    CHECK(a.t0_s == Approx(b.t0_s * 1980 / 1840).epsilon(1e-9).margin(1e-15));
  }
  const CostModel model(h200.gpu, Precision::BF16,
                        apply_calibration(r.calibration, default_cost_params(), "fit", h200.gpu));
  for (const auto& m : set.items) {
    INFO(m.name << " at " << m.sm_clock_mhz << " MHz");
    CHECK(m.sm_clock_mhz > 0);
    const double at_own = predicted_at_clock_s(model, measured_op(m), m.sm_clock_mhz);
    const double at_median = predicted_at_clock_s(model, measured_op(m), 1840);
    CHECK(at_own / at_median == Approx(1840 / m.sm_clock_mhz).epsilon(1e-12));
  }
}

TEST_CASE("a coefficient the data would make negative is held at zero", "[calibrate][attention]") {
  // Times = 5 us + 2 us per tile - 1 us per CTA: the unconstrained fit would give cta < 0;
  // held at 0, the rest are refitted, so the fit errs but every coefficient stays >= 0.
  std::vector<AttentionTimeSample> samples;
  for (const auto& s : part_shapes(false, false)) {
    const SmLoad l = attention_tiling(s, kSms, CtaCost{0, 1, 0}).busiest;
    samples.push_back({s, 5e-6 + 2e-6 * double(l.tiles) - 1e-6 * double(l.ctas), 1.0});
  }
  const AttentionPartFit f = fit_attention_part(samples, kSms);
  CHECK(f.times.cta_s == 0);
  CHECK(f.times.t0_s >= 0);
  CHECK(f.times.tile_s > 0);
  CHECK(f.times.masked_tile_s >= 0);
  CHECK(f.summary.max_error > 0);
}

TEST_CASE("fit writes the shape model from measurements with the SM count", "[calibrate][attention]") {
  nlohmann::json file = test::synthetic_measurement_file(test::synthetic_attention_measurements());
  const ClusterSpec node = node_for_measurements("NVIDIA H200", "");
  SECTION("without environment.sm_count the tables stay and a warning says why") {
    const FitResult r = fit_calibration(parse_measurements_text(file.dump(), "synthetic"), node, FitOptions{});
    CHECK(!r.calibration.attention_shape);
    bool warned = false;
    for (const auto& w : r.warnings) warned |= w.find("sm_count") != std::string::npos;
    CHECK(warned);
  }
  SECTION("with it, each part is fitted on its samples") {
    file["environment"]["sm_count"] = kSms;
    const FitResult r = fit_calibration(parse_measurements_text(file.dump(), "synthetic"), node, FitOptions{});
    REQUIRE(r.calibration.attention_shape);
    const CalibratedAttentionShape& a = *r.calibration.attention_shape;
    CHECK(a.model.sm_count == kSms);
    CHECK(a.model.head_dim == 128);
    for (const auto& part : attention_shape_parts()) {
      INFO(part.name);
      CHECK((a.*part.fit).samples == 6);  // 1K .. 32K, one KV-head count
      CHECK((a.model.*part.times).tile_s > 0);
      CHECK((a.*part.tiles).first <= (a.*part.tiles).second);
    }
    // The calibration round-trips through its JSON, format /5, naming the backend it describes.
    const std::string text = calibration_to_json(r.calibration);
    CHECK(text.find("hcpsim-calibration/5") != std::string::npos);
    const CalibrationFile back = parse_calibration_text(text, "roundtrip");
    REQUIRE(back.attention_shape);
    CHECK(back.attention_shape->model.fwd_causal.tile_s == Approx(a.model.fwd_causal.tile_s));
    CHECK(back.attention_shape->bwd_nomask.samples == a.bwd_nomask.samples);
    CHECK(back.attention_shape->tiles_bwd_causal == a.tiles_bwd_causal);
    // apply_calibration puts the model into the cost parameters of a scenario of that backend.
    // The records name a backend hcpsim does not know ("synthetic"): the calibration names none
    // and applies to a scenario of any backend.
    REQUIRE_FALSE(back.attention_backend.has_value());
    const CostParams p = apply_calibration(back, default_cost_params(), "x.json", node.gpu);
    REQUIRE(p.attention_shape);
    CHECK(p.attention_shape->sm_count == kSms);
  }
}

TEST_CASE("format /2 calibration files still load: a shape model without a clock", "[calibrate][attention]") {
  const CalibrationFile c =
      read_calibration_file(std::string(HCPSIM_SOURCE_DIR) + "/calibrate/results/h200-v3-calibration.json");
  REQUIRE(c.attention_shape);
  CHECK(c.attention_shape->model.clock_mhz == 0);
  CHECK(c.attention_shape->model.bwd_nomask.split_element_s == 0);
  CHECK(c.attention_shape->model.fwd_causal.tile_s > 0);
}

TEST_CASE("format /4 calibration files still load: an empty CTA costs a CTA, no combine kernel term",
          "[calibrate][attention]") {
  // The committed v23 cuDNN calibration is a /4 file with a shape model.
  const CalibrationFile c =
      read_calibration_file(std::string(HCPSIM_SOURCE_DIR) + "/calibrate/results/h200-v23-cudnn-calibration.json");
  REQUIRE(c.attention_shape);
  const AttentionTileTimes& f = c.attention_shape->model.fwd_causal;
  CHECK(f.empty_cta_s == f.cta_s);
  CHECK(f.combine_launch_s == 0);
  CHECK(f.combine_row_s == 0);
}

TEST_CASE("format /1 calibration files still load, without a shape model", "[calibrate][attention]") {
  const CalibrationFile c = read_calibration_file(std::string(HCPSIM_SOURCE_DIR) + "/calibrate/results/h200-calibration.json");
  CHECK(!c.attention_shape);
  CHECK(c.tables.size() == 5);
  const CostParams p = apply_calibration(c, default_cost_params(), "h200-calibration.json", node_for_measurements("NVIDIA H200", "").gpu);
  CHECK(!p.attention_shape);
}

TEST_CASE("a broken attention_shape names the key", "[calibrate][attention]") {
  const nlohmann::json part = {{"t0_s", 1e-5}, {"cta_s", 1e-6}, {"tile_s", 2e-6}, {"masked_tile_s", 0}};
  nlohmann::json doc = {{"format", "hcpsim-calibration/2"},
                        {"parameters", nlohmann::json::object()},
                        {"attention_shape",
                         {{"sm_count", 132},
                          {"head_dim", 128},
                          {"fwd_causal", part},
                          {"fwd_nomask", part},
                          {"bwd_causal", part},
                          {"bwd_nomask", part}}}};
  CHECK(parse_calibration_text(doc.dump(), "ok").attention_shape);
  doc["attention_shape"]["bwd_nomask"].erase("tile_s");
  doc["attention_shape"]["fwd_causal"]["cta_s"] = -1;
  try {
    parse_calibration_text(doc.dump(), "bad");
    FAIL("accepted a broken attention_shape");
  } catch (const InputError& e) {
    std::string paths;
    for (const auto& d : e.diagnostics()) paths += d.path + "\n";
    CHECK(paths.find("calibration.attention_shape.bwd_nomask.tile_s") != std::string::npos);
    CHECK(paths.find("calibration.attention_shape.fwd_causal.cta_s") != std::string::npos);
  }
}

TEST_CASE("the fit uses the backend's kernel geometry, cuDNN's backward only on GPU-counted clocks, else its tables",
          "[calibrate][attention]") {
  // Times made with FlashAttention-2's geometry (128 x 64 forward tiles, per-query-head backward;
  // cost/attention_tiles.hpp) are recovered by a fit in that geometry.
  for (bool backward : {false, true}) {
    INFO("backward " << backward);
    const AttentionTileTimes t{12e-6, 1.5e-6, 1.2e-6, 0.3e-6, backward ? 2e-12 : 0.0, backward ? 4e-12 : 0.0};
    const std::vector<AttentionTimeSample> samples = samples_made_with(t, AttentionBackend::Flash, true, backward);
    // The busiest SM depends on the costs; the fit alternates schedule and least squares from
    // cost = tiles (fit_attention.hpp), which lands within a percent of the truth here.
    const AttentionPartFit f = fit_attention_part(samples, kSms, AttentionBackend::Flash);
    CHECK(f.times.tile_s == Approx(t.tile_s).epsilon(0.01));
    CHECK(f.times.t0_s == Approx(t.t0_s).epsilon(0.05));
    CHECK(f.summary.max_error < 0.005);
  }
  // cuDNN's forward: 128-row units dealt round robin over the SMs (rules/cudnn_persistent.hpp).
  {
    const AttentionTileTimes t{12e-6, 1.5e-6, 1.2e-6, 0.3e-6, 0.0, 0.0};
    const AttentionPartFit f =
        fit_attention_part(samples_made_with(t, AttentionBackend::CuDNN, true, false), kSms, AttentionBackend::CuDNN);
    CHECK(f.times.tile_s == Approx(t.tile_s).epsilon(0.01));
    CHECK(f.summary.max_error < 0.005);
  }
  // cuDNN's backward: 128-key units per query head taken by the first free SM, head after head.
  {
    const AttentionTileTimes t{12e-6, 1.5e-6, 2.2e-6, 0.3e-6, 1e-12, 3e-12};
    const AttentionPartFit f =
        fit_attention_part(samples_made_with(t, AttentionBackend::CuDNN, true, true), kSms, AttentionBackend::CuDNN);
    CHECK(f.times.tile_s == Approx(t.tile_s).epsilon(0.01));
    CHECK(f.summary.max_error < 0.005);
  }
  nlohmann::json list = test::synthetic_attention_measurements();
  const ClusterSpec node = node_for_measurements("NVIDIA H200", "");
  const auto fitted = [&](const char* backend) {
    for (auto& m : list) m["backend"] = backend;
    nlohmann::json file = test::synthetic_measurement_file(list);
    file["environment"]["sm_count"] = kSms;
    return fit_calibration(parse_measurements_text(file.dump(), backend), node, FitOptions{});
  };
  const FitResult flash = fitted("flash");
  REQUIRE(flash.calibration.attention_shape);
  CHECK(flash.calibration.attention_shape->model.backend == AttentionBackend::Flash);
  // The file names the backend; read back, the model keeps its geometry.
  const std::string text = calibration_to_json(flash.calibration);
  CHECK(parse_calibration_text(text, "flash.json").attention_shape->model.backend == AttentionBackend::Flash);
  // cuDNN: its backward rests on records whose SM clock the GPU counted. These records carry no
  // results.sm_clock_source: a model of its forward only, said in a warning, written without the
  // backward parts and read back so.
  const FitResult cudnn = fitted("cudnn");
  REQUIRE(cudnn.calibration.attention_shape);
  CHECK_FALSE(cudnn.calibration.attention_shape->model.backward);
  CHECK(std::any_of(cudnn.warnings.begin(), cudnn.warnings.end(), [](const std::string& w) {
    return w.find("sm_clock_source") != std::string::npos && w.find("keeps the FLOPs tables") != std::string::npos;
  }));
  const std::string cudnn_text = calibration_to_json(cudnn.calibration);
  const nlohmann::json cudnn_doc = nlohmann::json::parse(cudnn_text);
  CHECK(cudnn_doc["attention_shape"].contains("fwd_causal"));
  CHECK_FALSE(cudnn_doc["attention_shape"].contains("bwd_causal"));
  const CalibrationFile back = parse_calibration_text(cudnn_text, "cudnn.json");
  REQUIRE(back.attention_shape);
  CHECK(back.attention_shape->model.backend == AttentionBackend::CuDNN);
  CHECK_FALSE(back.attention_shape->model.backward);
  // It does not apply to a backward, which cuDNN's tables time.
  AttentionShape bwd;
  bwd.sq = bwd.skv = 1024, bwd.heads_q = bwd.heads_kv = 8, bwd.head_dim_qk = bwd.head_dim_v = 128, bwd.batch = 1;
  CHECK(back.attention_shape->model.applies_to(bwd));
  bwd.backward = true;
  CHECK_FALSE(back.attention_shape->model.applies_to(bwd));
  // With the GPU-counted clock on every record, cuDNN's model has both passes, read back so.
  for (auto& m : list) m["results"]["sm_clock_source"] = "gpu_cycles";
  const FitResult counted = fitted("cudnn");
  REQUIRE(counted.calibration.attention_shape);
  CHECK(counted.calibration.attention_shape->model.backward);
  const CalibrationFile counted_back = parse_calibration_text(calibration_to_json(counted.calibration), "cudnn.json");
  REQUIRE(counted_back.attention_shape);
  CHECK(counted_back.attention_shape->model.backward);
  CHECK(counted_back.attention_shape->model.applies_to(bwd));
  // Refused, naming the key: a flash model without backward parts, and a model with one backward
  // part of two.
  const auto refused = [](const nlohmann::json& doc, const char* what) {
    try {
      parse_calibration_text(doc.dump(), "bad.json");
      FAIL(what);
    } catch (const InputError& e) {
      CHECK_THAT(std::string(e.what()), Catch::Contains("attention_shape"));
    }
  };
  nlohmann::json flash_fwd_only = nlohmann::json::parse(text);
  flash_fwd_only["attention_shape"].erase("bwd_causal");
  flash_fwd_only["attention_shape"].erase("bwd_nomask");
  refused(flash_fwd_only, "a forward-only model of FlashAttention-2 was accepted");
  nlohmann::json one_part = nlohmann::json::parse(text);
  one_part["attention_shape"].erase("bwd_nomask");
  refused(one_part, "a model with one backward part was accepted");
}

// fit and check end to end on synthetic measurements made by a known efficiency curve.
#include <catch2/catch.hpp>
#include <cmath>

#include "fit/check.hpp"
#include "fit/fit.hpp"
#include "fit/replay.hpp"
#include "tests/fit/synthetic_measurements.hpp"

using namespace hcpsim;

namespace {

// The synthetic curve is linear in log10(FLOPs): free knots hold it exactly.
FitOptions knots() {
  FitOptions o;
  o.method = TableMethod::Knots;
  return o;
}

MeasurementSet synthetic_set() {
  return parse_measurements_text(test::synthetic_measurement_file(test::synthetic_attention_measurements()).dump(),
                                 "synthetic");
}

}  // namespace

TEST_CASE("fit recovers the curve the synthetic measurements were made with", "[calibrate]") {
  const MeasurementSet set = synthetic_set();
  const ClusterSpec node = node_for_measurements(set.gpu_model, "");
  CHECK(node.gpu.peak_bf16_flops_per_s == test::kH200Peak);
  const FitResult r = fit_calibration(set, node, knots());
  REQUIRE(r.calibration.tables.size() == 4);  // fwd/bwd x causal/nomask; no GEMM measured
  for (const auto& t : r.calibration.tables) {
    INFO(t.name);
    CHECK(t.fit.samples == 6);  // 1K .. 32K
    CHECK(t.fit.max_error < 1e-9);
    const bool bwd = t.name.find("bwd") != std::string::npos;
    for (const auto& [flops, eff] : t.table.points)
      CHECK(eff == Approx(test::synthetic_attention_efficiency(flops, bwd)).epsilon(1e-9));
  }
}

TEST_CASE("check fits on one half of the shapes and predicts the other", "[calibrate]") {
  MeasurementSet set = synthetic_set();
  const ClusterSpec node = node_for_measurements(set.gpu_model, "");
  const std::set<std::string> train = fit_half(set);
  // Per mask, sizes 1K..32K sorted: 1K, 4K, 16K alternate in, and 32K as the largest.
  CHECK(train.count("attn/1024x1024/no_mask/d128/hq32"));
  CHECK(train.count("attn/32768x32768/causal/d128/hq32"));
  CHECK_FALSE(train.count("attn/2048x2048/no_mask/d128/hq32"));
  CHECK(train.size() == 8);

  CheckReport r = check_out_of_sample(set, node, knots(), nullptr);
  CHECK(r.rows.size() == 8);  // 2K and 8K, each causal and not, fwd and bwd
  for (const auto& row : r.rows) {
    CHECK_FALSE(train.count(shape_group_key(*row.m)));
    CHECK_FALSE(row.extrapolated);
  }
  CHECK(r.max_abs_error < 1e-9);

  // A checked kernel 20% slower than the curve: predicted/measured - 1 = 1/1.2 - 1.
  for (auto& m : set.items)
    if (m.attention.sq == 8192 && m.attention.mask == KernelMask::None && !m.attention.backward) m.median_s *= 1.2;
  r = check_out_of_sample(set, node, knots(), nullptr);
  CHECK(std::fabs(r.max_abs_error - (1 - 1 / 1.2)) < 1e-9);
}

TEST_CASE("cuDNN's GQA backward: fit takes the group reductions off, check adds them back", "[calibrate]") {
  // The synthetic curve's kernels as cuDNN with 32 query heads on 8 KV heads: each backward also
  // runs two reductions of batch x skv x 128 x (32 + 8) x 2 bytes at the defaults' HBM copy
  // efficiency (cudnn_gqa_reduce_s), added to the curve's time here from that closed form. The
  // fit must recover the curve itself, and check must predict the held-out records exactly.
  const ClusterSpec node = node_for_measurements("NVIDIA H200", "");
  const CostParams d = default_cost_params(node.gpu, AttentionBackend::CuDNN);
  nlohmann::json list = test::synthetic_attention_measurements();
  for (auto& m : list) {
    m["backend"] = "cudnn";
    m["config"]["heads_kv"] = 8;
    if (m["config"]["pass"] != "bwd") continue;
    const double s = m["config"]["skv"].get<double>();
    const double one = s * 128 * (32 + 8) * 2 / (node.gpu.hbm_bytes_per_s * d.memory_efficiency);
    const double extra = 2 * std::max(d.kernel_floor_s, one);
    for (const char* k : {"median_s", "min_s", "max_s"}) m[k] = m[k].get<double>() + extra;
  }
  const MeasurementSet set =
      parse_measurements_text(test::synthetic_measurement_file(list).dump(), "synthetic-cudnn-gqa");
  const FitResult fit = fit_calibration(set, node, knots());
  for (const auto& t : fit.calibration.tables) {
    INFO(t.name);
    CHECK(t.work == kWorkFlopsTimesBalance);  // 32 heads: every balance is 1, the axis is FLOPs' values
    const bool bwd = t.name.find("bwd") != std::string::npos;
    for (const auto& [flops, eff] : t.table.points)
      CHECK(eff == Approx(test::synthetic_attention_efficiency(flops, bwd)).epsilon(1e-9));
  }
  const CheckReport r = check_out_of_sample(set, node, knots(), nullptr);
  CHECK(r.rows.size() == 8);
  CHECK(r.max_abs_error < 1e-9);
}

TEST_CASE("cuDNN's bottom-right causal backwards join the no-mask table at their rectangle's FLOPs", "[calibrate]") {
  // cuDNN's backward of a bottom-right causal mask computes every tile (executed_attention_shape):
  // records of it, made here on the synthetic no-mask backward curve at the FLOPs of their whole
  // c x 2c rectangle (4 x 32 x 128 x 2c^2 x 2.5), must be fitted into that table, leave it
  // exactly the curve, and be predicted exactly by check.
  nlohmann::json list = test::synthetic_attention_measurements();
  for (auto& m : list) m["backend"] = "cudnn";
  for (int c : {1024, 2048, 4096}) {
    const double flops = 4.0 * 32 * 128 * (2.0 * c * c) * 2.5;
    const double t = flops / (test::kH200Peak * test::synthetic_attention_efficiency(flops, true));
    list.push_back({{"kind", "attention"},
                    {"backend", "cudnn"},
                    {"config",
                     {{"name", "c" + std::to_string(c) + "_prefix2"}, {"pass", "bwd"}, {"batch", 1}, {"sq", c},
                      {"skv", 2 * c}, {"heads_q", 32}, {"heads_kv", 32}, {"head_dim", 128},
                      {"mask", "causal_bottom_right"}}},
                    {"iterations", 10},
                    {"median_s", t},
                    {"min_s", t},
                    {"max_s", t},
                    {"check", {{"done", true}, {"wrong", 0}}}});
  }
  const MeasurementSet set = parse_measurements_text(test::synthetic_measurement_file(list).dump(), "synthetic-br");
  const Measurement& br = set.items.back();
  REQUIRE(br.attention.mask == KernelMask::CausalBottomRight);
  const ClusterSpec node = node_for_measurements(set.gpu_model, "");
  REQUIRE(node.gpu.compute_capability == 90);
  CHECK(parameter_of(br, &node.gpu) == "attention_bwd_nomask");
  CHECK(parameter_of(br, &node.gpu, AttentionBackend::Flash) == "attention_bwd_nomask");  // its own backend decides
  CHECK(parameter_of(br) == "attention_bwd_causal");  // no GPU given: the scores' mask
  const FitResult fit = fit_calibration(set, node, knots());
  for (const auto& t : fit.calibration.tables) {
    INFO(t.name);
    CHECK(t.fit.samples == (t.name == "attention_bwd_nomask" ? 9 : 6));
    CHECK(t.fit.max_error < 1e-9);
  }
  const CheckReport r = check_out_of_sample(set, node, knots(), nullptr);
  CHECK(r.max_abs_error < 1e-9);
}

TEST_CASE("check flags work outside the fitted range as extrapolated", "[calibrate]") {
  const MeasurementSet set = synthetic_set();
  const ClusterSpec node = node_for_measurements(set.gpu_model, "");
  FitOptions opt = knots();
  opt.use = [](const Measurement& m) { return m.attention.sq <= 8192; };
  const FitResult fit = fit_calibration(set, node, opt);
  const CheckReport r = check_against(set, fit.calibration, node, nullptr);
  for (const auto& row : r.rows) CHECK(row.extrapolated == (row.m->attention.sq > 8192));
}

TEST_CASE("measurements whose check failed are left out of the fit", "[calibrate]") {
  nlohmann::json list = test::synthetic_attention_measurements();
  list[0]["check"]["wrong"] = 3;
  list[0]["median_s"] = 1.0;  // garbage time: must not reach the fit
  list[0]["max_s"] = 1.0;
  nlohmann::json file = test::synthetic_measurement_file(list);
  file["environment"]["sm_count"] = 132;  // so the attention shape model is fitted too
  const MeasurementSet set = parse_measurements_text(file.dump(), "x");
  const FitResult r = fit_calibration(set, node_for_measurements(set.gpu_model, ""), knots());
  REQUIRE(r.warnings.size() == 1);
  CHECK(r.warnings[0].find("3 wrong elements") != std::string::npos);
  for (const auto& t : r.calibration.tables) CHECK(t.fit.max_error < 1e-9);
  REQUIRE(r.calibration.attention_shape);
  CHECK(r.calibration.attention_shape->fwd_nomask.samples == 5);  // 6 lengths, the wrong one left out
  CHECK(r.calibration.attention_shape->fwd_nomask.max_error < 0.5);  // a 1 s time would miss by far more
}

TEST_CASE("copies that stay in the L2 are neither fitted nor predicted", "[calibrate]") {
  // l2_bytes 62914560 (60 MiB) in the synthetic environment: a copy is HBM-bound only when it
  // moves at least 4 x 2 x 60 MiB = 480 MiB. At 4.0 TB/s a 1 GiB copy (2 GiB moved) takes
  // 2^31 / 4e12 s; the 16 MiB one is faster than HBM could be (all in L2).
  auto copy = [](double moved, double t) {
    return nlohmann::json{{"kind", "copy"}, {"backend", "cudaMemcpy"},
                          {"config", {{"bytes", int64_t(moved / 2)}, {"bytes_moved", int64_t(moved)}}},
                          {"iterations", 10}, {"median_s", t}, {"min_s", t}, {"max_s", t},
                          {"check", {{"done", true}, {"wrong", 0}}}};
  };
  const double big = 2.0 * (1 << 30), small = 32.0 * (1 << 20);
  nlohmann::json list = nlohmann::json::array({copy(big, big / 4e12), copy(small, small / 12e12)});
  const MeasurementSet set = parse_measurements_text(test::synthetic_measurement_file(list).dump(), "m.json");
  CHECK_FALSE(cache_resident_copy(set.items[0], set));
  CHECK(cache_resident_copy(set.items[1], set));
  const ClusterSpec node = node_for_measurements(set.gpu_model, "");
  FitOptions opt;
  const FitResult f = fit_calibration(set, node, opt);
  REQUIRE(f.calibration.scalars.size() == 1);
  CHECK(f.calibration.scalars[0].fit.samples == 1);  // the big copy only
  CHECK(f.calibration.scalars[0].value == Approx(4e12 / node.gpu.hbm_bytes_per_s));
  const CheckReport r = check_against(set, f.calibration, node, nullptr);
  REQUIRE(r.rows.size() == 2);
  CHECK_FALSE(r.rows[0].listed_only);
  CHECK(r.rows[0].error == Approx(0).margin(1e-9));
  CHECK(r.rows[1].listed_only);
}

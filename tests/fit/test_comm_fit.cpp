// Collectives (alpha-beta per op and layout) and interference: fit, calibration file, check.
#include <catch2/catch.hpp>
#include <cmath>

#include "fit/check.hpp"
#include "fit/fit_collective.hpp"
#include "fit/fit_interference.hpp"
#include "fit/replay.hpp"
#include "scenario/presets.hpp"
#include "tests/fit/cp_records.hpp"
#include "common/diagnostics.hpp"
#include "tests/fit/synthetic_measurements.hpp"

using namespace hcpsim;
using nlohmann::json;

namespace {

constexpr double kAlpha = 12e-6, kBusbw = 360e9;  // the synthetic NCCL

// nccl-tests all_reduce over 8 ranks moves 2 (n-1)/n of its bytes per rank: bus bytes.
double all_reduce_s(double bytes) { return kAlpha + bytes * 2 * 7 / 8 / kBusbw; }

json comm_list() {
  json list = json::array();
  for (double b = 1 << 10; b <= double(1 << 30); b *= 4)
    list.push_back(test::collective_record("all_reduce", b, 8, "intra-node", all_reduce_s(b)));
  list.push_back(test::collective_record("all_reduce", 2.0 * (1 << 30), 1, "intra-node", 5e-6));  // 1 rank: listed only
  // Victims of 1, 2 and 3 ms (the split orders them by alone time).
  for (int i : {1, 2, 3}) {  // attention beside 8 copying CTAs (hcpcal interference, part (c))
    list.push_back(test::interference_record("attention_fwd", "cta_copy", i * 1e-3, i == 1 ? 1.04 : i == 2 ? 1.10 : 1.06));
    list.back()["config"]["shape"] = {{"ctas", 8}};
  }
  list.push_back(test::interference_record("collective", "attention", 5e-3, 1.5));  // no channel count: listed
  return list;
}

MeasurementSet comm_set() { return parse_measurements_text(test::synthetic_measurement_file(comm_list()).dump(), "x"); }

}  // namespace

TEST_CASE("the alpha-beta fit recovers the latency and bus bandwidth", "[calibrate][comm]") {
  const MeasurementSet set = comm_set();
  const ClusterSpec node = node_for_measurements(set.gpu_model, "");
  const FitResult r = fit_calibration(set, node, {});
  REQUIRE(r.calibration.collectives.size() == 1);
  const CalibratedCollective& c = r.calibration.collectives[0];
  CHECK(c.op == CommPattern::AllReduce);
  CHECK(c.layout == CollectiveLayout::IntraNode);
  CHECK(c.latency_s == Approx(kAlpha).epsilon(1e-9));
  CHECK(c.busbw_bytes_per_s == Approx(kBusbw).epsilon(1e-9));
  CHECK(c.table.empty());
  CHECK(c.fit.samples == 11);  // 1 KiB .. 1 GiB in x4 steps; the 1-rank record left out
  CHECK(c.fit.range_lo == 1024);
  bool warned = false;
  for (const auto& w : r.warnings) warned |= w.find("1 rank moves nothing") != std::string::npos;
  CHECK(warned);
  // Link efficiency for the simulator: busbw / dgx-h200's 450 GB/s NVLink.
  // interference_compute_attention: median of the attention slowdowns 1.04, 1.06, 1.10.
  double intra = 0, interference = 0;
  for (const auto& s : r.calibration.scalars) {
    if (s.name == "intra_node_efficiency") intra = s.value;
    if (s.name == "interference_compute_attention") interference = s.value;
  }
  CHECK(intra == Approx(kBusbw / 450e9).epsilon(1e-9));
  CHECK(interference == Approx(1.06));
  // Round trip through calibration.json; the cost model takes the factors.
  const CalibrationFile back = parse_calibration_text(calibration_to_json(r.calibration), "x");
  REQUIRE(back.collectives.size() == 1);
  CHECK(back.collectives[0].busbw_bytes_per_s == Approx(kBusbw).epsilon(1e-12));
  const CostParams p = apply_calibration(back, default_cost_params(), "x", node_for_measurements("NVIDIA H200", "").gpu);
  CHECK(p.intra_node_efficiency == Approx(kBusbw / 450e9).epsilon(1e-9));
  CHECK(p.interference.compute_slowdown[1] == Approx(1.06));
}

TEST_CASE("a collective one line misses by > 10% is kept as a table by size", "[calibrate][comm]") {
  // Latency-bound below 1 MiB (20 us flat), bandwidth-bound above: a line cannot follow both.
  std::vector<std::pair<double, double>> s;
  for (double x = 1 << 10; x <= double(1 << 30); x *= 4) s.emplace_back(x, std::max(20e-6, x / 300e9));
  const CalibratedCollective c = fit_collective_line(s, 0.10);
  REQUIRE(c.table.size() == s.size());
  CHECK(c.fit.max_error < 1e-12);  // the table is exact at its sizes
  // Between two sizes: log-log interpolation, sqrt of the neighbours' product at the midpoint.
  const double mid = std::sqrt(s[5].first * s[6].first);
  CHECK(collective_time_s(c, mid) == Approx(std::sqrt(s[5].second * s[6].second)).epsilon(1e-12));
}

// check simulates each held-out collective through the engine (run/collective_sweep.hpp) with the
// fitted line in the cost parameters: the call keeps NCCL's ring and flows but runs at the line's
// time, alpha + bus bytes / beta, exactly (alpha = 12 us exceeds the ring's route latencies, and
// the ring's flows are capped below the H200 node's NVLink).
TEST_CASE("check predicts the held-out collective sizes and interference", "[calibrate][comm]") {
  const MeasurementSet set = comm_set();
  const CheckReport r = check_out_of_sample(set, node_for_measurements(set.gpu_model, ""), {}, nullptr);
  size_t collectives = 0, interference = 0;
  for (const auto& row : r.rows) {
    if (row.kind == "collective all_reduce" && row.m->collective.ranks == 8) {
      ++collectives;
      INFO(row.m->collective.bytes << " B: measured " << row.measured_s << " s, predicted " << row.predicted_s << " s");
      CHECK(std::fabs(row.error) < 1e-9);
      CHECK_FALSE(row.extrapolated);
    }
    if (row.kind == "interference") ++interference;
  }
  // Sorted by bytes: 1K .. 1G (x4) then the 1-rank 2 GiB; alternate ones from the first and
  // the largest go to the fit half: 1K 16K 256K 4M 64M 1G (+2G), so 4K 64K 1M 16M 256M are checked.
  CHECK(collectives == 5);
  // Interference by alone time: 1 ms (fit), 2 ms (checked), 3 ms (fit), the collective victim
  // 5 ms (fit, largest; no channel count): interference_compute_attention = median(1.04, 1.06) = 1.05.
  CHECK(interference == 1);
  for (const auto& row : r.rows)
    if (row.kind == "interference" && row.m->interference.victim == "attention_fwd")
      CHECK(row.error == Approx(1.05 / 1.10 - 1).epsilon(1e-9));
}

TEST_CASE("collective and interference parse errors carry JSON paths", "[calibrate][comm]") {
  json list = json::array({test::collective_record("allreduce", 1024, 8, "intra-node", 1e-5),
                           test::collective_record("all_gather", 1024, 8, "cross-node-same-rail", 1e-5),
                           test::interference_record("attention_fwd", "collective", 1e-3, 1.1)});
  list[1]["config"]["nodes"] = 1;  // 8 ranks on 1 node x 8 GPUs: fine; make ranks too many
  list[1]["config"]["ranks"] = 16;
  list[2]["results"].erase("alone_median_s");
  try {
    parse_measurements_text(test::synthetic_measurement_file(list).dump(), "x");
    FAIL("parsed");
  } catch (const InputError& e) {
    std::vector<std::string> paths;
    for (const auto& d : e.diagnostics()) paths.push_back(d.path);
    CHECK(std::count(paths.begin(), paths.end(), "measurements[0].config.op") == 1);
    CHECK(std::count(paths.begin(), paths.end(), "measurements[1].config.ranks") == 1);
    CHECK(std::count(paths.begin(), paths.end(), "measurements[2].results.alone_median_s") == 1);
  }
}

TEST_CASE("cp_attention parse errors carry JSON paths", "[calibrate][cp]") {
  json a = test::cp_record("a2a+p2p", false, 4, {2, 2}, 8192, 1e-4, {1, 2, 3, 4});
  a["config"]["hcp"] = {2, 4};  // product 8 != ranks 4
  json b = test::cp_record("a2a", false, 4, {}, 8192, 1e-4, {1, 2, 3});  // 3 peaks for 4 ranks
  b["config"]["heads_kv"] = 2;                                          // 2 KV heads over an a2a of 4
  json c = test::cp_record("p2p", false, 2, {}, 4096, 1e-4, {});
  c["results"]["kernels"][0]["rank"] = 2;  // ranks 0..1
  c["config"]["transport"] = "p2p";
  json d = test::cp_record("p2p", false, 2, {}, 4096, 1e-4, {});
  d["config"]["transport"] = "allgather";
  try {
    parse_measurements_text(test::synthetic_measurement_file(json::array({a, b, c, d})).dump(), "x");
    FAIL("parsed");
  } catch (const InputError& e) {
    std::vector<std::string> paths;
    for (const auto& x : e.diagnostics()) paths.push_back(x.path);
    INFO(e.what());
    for (const char* p : {"measurements[0].config.hcp", "measurements[1].results.peak_bytes",
                          "measurements[1].config.heads_kv", "measurements[2].results.kernels[0].rank",
                          "measurements[3].config.transport"})
      CHECK(std::count(paths.begin(), paths.end(), p) == 1);
  }
}

TEST_CASE("measurements are fitted against the node they ran on, never a guessed one", "[calibrate][comm]") {
  // The GPU name picks the preset whose GPU it names: an H800 is not an H100, whose
  // NVLink is 2.25x faster (900 vs 400 GB/s bidirectional, the presets' sources).
  const ClusterSpec h800 = node_for_measurements("NVIDIA H800 80GB HBM3", "");
  CHECK(h800 == find_cluster_preset("hgx-h800")->spec);
  CHECK(h800.intra_node.bandwidth_bytes_per_s <
        find_cluster_preset("dgx-h100")->spec.intra_node.bandwidth_bytes_per_s);
  // --gpu names the node outright, among the presets of the measured GPU; a preset of another GPU
  // is an error at --gpu: its peaks would scale every efficiency (a B200's 2.25 PFLOP/s against an
  // H200's 0.99 made a fitted H200 step 1.9x slow), its links every comm fit.
  CHECK(node_for_measurements("NVIDIA H200", "dgx-h200") == find_cluster_preset("dgx-h200")->spec);
  for (const auto& [gpu, preset] : {std::pair<const char*, const char*>{"NVIDIA H800 80GB HBM3", "dgx-h100"},
                                    {"NVIDIA H200", "dgx-b200"}}) {
    try {
      node_for_measurements(gpu, preset);
      FAIL(gpu << " was fitted against " << preset);
    } catch (const InputError& e) {
      CHECK(e.diagnostics().at(0).path == "--gpu");
    }
  }
  // A GPU no preset has is fitted against the preset --gpu names, and said.
  std::vector<std::string> warnings;
  CHECK(node_for_measurements("NVIDIA GH200 480GB", "dgx-h100", &warnings) == find_cluster_preset("dgx-h100")->spec);
  REQUIRE(warnings.size() == 1);
  CHECK_THAT(warnings[0], Catch::Contains("no preset has the measured \"NVIDIA GH200 480GB\""));
  // A GPU no preset has is an input error at the field, not the first preset.
  try {
    node_for_measurements("NVIDIA GeForce RTX 4090", "");
    FAIL("an unknown GPU was given a preset's links");
  } catch (const InputError& e) {
    CHECK(e.diagnostics().at(0).path == "environment.gpu_model");
  }
}

TEST_CASE("k-CTA interference rows are read with their CTA count and listed, not predicted", "[calibrate][comm]") {
  json list = json::array({test::interference_record("cta_copy", "gemm", 2e-3, 2.5),
                           test::interference_record("gemm", "cta_spin", 1.4e-3, 1.01),
                           test::interference_record("attention_fwd", "cta_carry", 1e-3, 1.1)});
  list[0]["config"]["shape"] = {{"ctas", 8}, {"overlap_verified", true}};
  list[1]["config"]["shape"] = {{"ctas", 32}};
  try {  // an aggressor hcpcal never writes is an error at its path
    parse_measurements_text(test::synthetic_measurement_file(list).dump(), "x");
    FAIL("parsed");
  } catch (const InputError& e) {
    REQUIRE(e.diagnostics().size() == 1);
    CHECK(e.diagnostics()[0].path == "measurements[2].config.aggressor");
  }
  list.erase(2);
  const MeasurementSet set = parse_measurements_text(test::synthetic_measurement_file(list).dump(), "x");
  REQUIRE(set.items.size() == 2);
  CHECK(set.items[0].interference.ctas == 8);
  CHECK(set.items[0].name == "cta_copy_with_gemm_k8");
  CHECK(set.items[1].interference.ctas == 32);
  CHECK(set.items[1].interference.slowdown == Approx(1.01));
  CHECK_FALSE(set.items[0].interference.transfer_first);
  // The model's view: the copy launched after a GEMM is slowed by comm_slowdown(gemm, 8), launched
  // first by comm_shared_slowdown(gemm, 8); a kernel beside spinning CTAs is not slowed.
  InterferenceModel m;
  m.comm_slowdown[0] = {1.1, 1.2, 1.3, 1.4, 1.5, 1.6};
  m.comm_shared_slowdown[0] = {1.01, 1.02, 1.03, 1.04, 1.05, 1.06};
  CHECK(*predicted_interference_slowdown(m, set.items[0].interference) == Approx(1.4));
  InterferenceConfig first = set.items[0].interference;
  first.transfer_first = true;
  CHECK(*predicted_interference_slowdown(m, first) == Approx(1.04));
  CHECK(*predicted_interference_slowdown(m, set.items[1].interference) == 1.0);
  json with_order = list;
  with_order[0]["config"]["shape"]["launch_order"] = "transfer_first";
  const MeasurementSet ordered = parse_measurements_text(test::synthetic_measurement_file(with_order).dump(), "x");
  CHECK(ordered.items[0].interference.transfer_first);
  CHECK(ordered.items[0].name == "cta_copy_with_gemm_k8_transfer_first");
}

// CP runs replayed through the workload builder: label sets per transport, kernel times
// against FLOPs counted by hand, peak memory against closed forms, schedule mismatches.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "fit/check.hpp"
#include "fit/replay.hpp"
#include "fit/replay_cp.hpp"
#include "tests/fit/cp_records.hpp"
#include "common/diagnostics.hpp"
#include "tests/fit/synthetic_measurements.hpp"

using namespace hcpsim;
using nlohmann::json;

namespace {

MeasurementSet set_of(const json& list) {
  return parse_measurements_text(test::synthetic_measurement_file(list).dump(), "synthetic");
}

CostModel default_model() {
  return CostModel(node_for_measurements("NVIDIA H200", "").gpu, Precision::BF16, default_cost_params());
}

// An attention op as the cost model sees it, with FLOPs counted by hand.
Op attention_op(double flops, KernelMask mask, bool bwd) {
  Op op;
  op.compute_class = ComputeClass::Attention;
  op.flops = flops;
  op.attn.mask = mask;
  op.attn.backward = bwd;
  return op;
}

}  // namespace

TEST_CASE("the replay's attention kernels are the schedule docs/cp-transports.md describes", "[calibrate][cp]") {
  struct Case { const char* transport; int ranks; std::vector<int> hcp; };
  std::vector<Case> cases;
  for (const char* t : {"p2p", "all_gather", "a2a"})
    for (int r : {2, 4, 8}) cases.push_back({t, r, {}});
  for (std::vector<int> h : {std::vector<int>{2, 2}, {2, 4}, {4, 2}}) cases.push_back({"a2a+p2p", h[0] * h[1], h});
  for (const auto& c : cases)
    for (bool bwd : {false, true}) {
      INFO(c.transport << " R=" << c.ranks << (bwd ? " bwd" : " fwd"));
      const MeasurementSet set = set_of(json::array({test::cp_record(c.transport, bwd, c.ranks, c.hcp, 2048 * c.ranks, 1e-4, {})}));
      REQUIRE(set.items.size() == 1);
      const Measurement& m = set.items[0];
      CHECK(m.kind == MeasurementKind::CpRun);
      for (int r = 0; r < c.ranks; ++r)
        CHECK(cp_kernel_labels(m, r) ==
              test::expected_cp_labels(c.transport, c.ranks, c.hcp.empty() ? 1 : c.hcp[0], r, bwd));
      const CpReplay rep = replay_cp_run(m, default_model());  // labels match: no throw
      CHECK(rep.ranks.size() == size_t(c.ranks));
    }
}

TEST_CASE("p2p R=4 forward: each kernel predicted from its tile's FLOPs", "[calibrate][cp]") {
  // S = 16384, R = 4: L = 4096 local tokens, c = 2048; 32 q heads, d = 128.
  // forward FLOPs = 4 hq d visible: diagonal 2c x 2c causal: visible 4096*4097/2;
  // lower 2c x c and upper c x 2c, no mask: visible 2c*c = 4096*2048.
  const double diag = 4.0 * 32 * 128 * (4096.0 * 4097 / 2), half = 4.0 * 32 * 128 * (4096.0 * 2048);
  const CostModel model = default_model();
  const double t_diag = model.compute_time_s(attention_op(diag, KernelMask::CausalTopLeft, false));
  const double t_half = model.compute_time_s(attention_op(half, KernelMask::None, false));
  const MeasurementSet set = set_of(json::array({test::cp_record("p2p", false, 4, {}, 16384, 1e-4, {})}));
  const CpReplay rep = replay_cp_run(set.items[0], model);
  REQUIRE(rep.kernels.size() == 16);
  for (const auto& k : rep.kernels) {
    INFO(k.label);
    CHECK(k.predicted_s == Approx(k.label.find("diag") != std::string::npos ? t_diag : t_half).epsilon(1e-12));
    CHECK(k.measured_s == 1e-4);
  }
  for (const auto& r : rep.ranks) {  // compute side: 1 diagonal + 3 half tiles on every rank
    CHECK(r.predicted_compute_s == Approx(t_diag + 3 * t_half).epsilon(1e-12));
    CHECK(r.measured_compute_s == Approx(4e-4));
  }
}

TEST_CASE("peak memory of a CP pass against closed forms", "[calibrate][cp]") {
  // S = 16384, R = 4, hq 32, hk 8, d 128, bf16: L = 4096.
  const double L = 4096, Q = L * 32 * 128 * 2, K = L * 8 * 128 * 2, X = 2 * K, LSE = 32 * L * 4;
  const CostModel model = default_model();
  SECTION("p2p forward, rank r") {
    // inputs Q + X; 4 KV buffers (4X); per-step outputs and LSEs: r+1 full steps, 3-r half
    // steps (upper: second half of the rows); the merged out |O| = |Q| and lse.
    const MeasurementSet set = set_of(json::array({test::cp_record("p2p", false, 4, {}, 16384, 1e-4, {})}));
    const CpReplay rep = replay_cp_run(set.items[0], model);
    for (int r = 0; r < 4; ++r)
      CHECK(rep.ranks[size_t(r)].predicted_peak_bytes ==
            Approx(Q + X + 4 * X + ((r + 1) + 0.5 * (3 - r)) * (Q + LSE) + Q + LSE).epsilon(1e-12));
  }
  SECTION("a2a forward") {
    // inputs Q + X; post-a2a q, k, v (Q + X, same bytes); output stage 3|O| > 2 max(|Q|, |K|);
    // the post-a2a lse |LSE|; the local o is the out a2a's output (counted in 3|O|).
    const MeasurementSet set = set_of(json::array({test::cp_record("a2a", false, 4, {}, 16384, 1e-4, {})}));
    const CpReplay rep = replay_cp_run(set.items[0], model);
    for (const auto& r : rep.ranks) CHECK(r.predicted_peak_bytes == Approx(2 * (Q + X) + 3 * Q + LSE).epsilon(1e-12));
  }
  SECTION("p2p backward") {
    // inputs q, k, v, o, lse, dO; two [2, KV] buffers 4X; dq_buffer |Q|; the LSE's second
    // half |LSE|/2; the largest step's dq_, dk_, dv_ and hcpsim's flash backward workspace:
    //   diagonal 4096 x 4096: |Q| + X + fp32 dQ 2|Q| + two fp32 row stats 2|LSE|
    //     (256 CTAs of 128 keys x 8 KV heads: no head split);
    //   lower 4096 x 2048: |Q| + X/2 + 2|Q| + 2|LSE| + fp32 dK, dV 2 * 2|K| = X (128 CTAs: split);
    //   upper 2048 x 4096: |Q|/2 + X + |Q| + |LSE| (smaller).
    // Rank 0 runs no lower step; ranks 1-3 do (measured on the H200: 321.75 and 329.75 MiB).
    const MeasurementSet set = set_of(json::array({test::cp_record("p2p", true, 4, {}, 16384, 1e-4, {})}));
    const CpReplay rep = replay_cp_run(set.items[0], model);
    const double base = (Q + X + Q + LSE + Q) + 4 * X + Q + LSE / 2;
    CHECK(rep.ranks[0].predicted_peak_bytes == Approx(base + 3 * Q + X + 2 * LSE).epsilon(1e-12));
    CHECK(base + 3 * Q + X + 2 * LSE == 321.75 * (1 << 20));
    for (int r = 1; r < 4; ++r)
      CHECK(rep.ranks[size_t(r)].predicted_peak_bytes == Approx(base + 3 * Q + 1.5 * X + 2 * LSE).epsilon(1e-12));
  }
  SECTION("all_gather forward") {
    // Gather stage: inputs Q + X, seq-first copies X + gathered 4X, then gathered 4X + one
    // reordered copy 4|K| = 2X; kernel stage: reordered 4X + chunk outputs |O| + out |O| + lse.
    // Here the kernel stage is larger: 4X + 2Q + LSE = 64 + 64 + 0.5 MiB against 6X = 96 MiB.
    const MeasurementSet set = set_of(json::array({test::cp_record("all_gather", false, 4, {}, 16384, 1e-4, {})}));
    const CpReplay rep = replay_cp_run(set.items[0], model);
    for (const auto& r : rep.ranks)
      CHECK(r.predicted_peak_bytes == Approx(Q + X + std::max(std::max(X + 4 * X, 4 * X + 2 * X), 4 * X + 2 * Q + LSE)).epsilon(1e-12));
  }
  SECTION("check rows: measured peak 1% above the prediction") {
    std::vector<double> peaks;
    for (int r = 0; r < 4; ++r) peaks.push_back(1.01 * (Q + X + 4 * X + ((r + 1) + 0.5 * (3 - r)) * (Q + LSE) + Q + LSE));
    const MeasurementSet set = set_of(json::array({test::cp_record("p2p", false, 4, {}, 16384, 1e-4, peaks)}));
    const CheckReport r = check_against(set, CalibrationFile{}, node_for_measurements(set.gpu_model, ""), nullptr);
    size_t memory_rows = 0;
    for (const auto& row : r.rows) {
      if (row.kind != "hcpsim cp memory p2p") continue;
      ++memory_rows;
      CHECK(row.error == Approx(1 / 1.01 - 1).epsilon(1e-9));
    }
    CHECK(memory_rows == 4);
    std::vector<std::string> kinds;
    for (const auto& k : r.by_kind) kinds.push_back(k.label);
    CHECK(kinds == std::vector<std::string>{"hcpsim cp kernels p2p", "hcpsim cp compute p2p", "hcpsim cp memory p2p"});
  }
}

TEST_CASE("a CP size that does not divide 8 replays on 3 nodes", "[calibrate][cp]") {
  // R = 12 (p2p): gcd(12, 8) = 4, so 12 / 4 = 3 nodes of 8 GPUs (24 = 2 x 12).
  const MeasurementSet set = set_of(json::array({test::cp_record("p2p", false, 12, {}, 24 * 1024, 1e-4, {})}));
  CHECK(cp_run_scenario(set.items[0]).cluster.num_nodes == 3);
  const CpReplay rep = replay_cp_run(set.items[0], default_model());
  CHECK(rep.kernels.size() == 12 * 12);
}

TEST_CASE("a schedule mismatch names both label lists", "[calibrate][cp]") {
  json rec = test::cp_record("p2p", false, 2, {}, 4096, 1e-4, {});
  // At R = 2 rank 0 runs its diagonal and one upper step (KV of rank 1); claim a lower one.
  rec["results"]["kernels"][1]["label"] = "attn.fwd.step1.lower";
  const MeasurementSet set = set_of(json::array({rec}));
  try {
    replay_cp_run(set.items[0], default_model());
    FAIL("no error");
  } catch (const InputError& e) {
    REQUIRE(e.diagnostics().size() == 1);
    const Diagnostic& d = e.diagnostics()[0];
    CHECK(d.path == "measurements[0].results.kernels");
    CHECK(d.what.find("rank 0's measured kernels [attn.fwd.step0.diag, attn.fwd.step1.lower]") != std::string::npos);
    CHECK(d.what.find(": [attn.fwd.step0.diag, attn.fwd.step1.upper]") != std::string::npos);
  }
}

TEST_CASE("old p2p files with step_kernel_median_s still read as CP steps", "[calibrate][cp]") {
  const json rec = {{"kind", "cp_attention"},
                    {"config", {{"transport", "p2p"}, {"pass", "fwd"}, {"ranks", 2}, {"seq", 4096}, {"heads_q", 32},
                                {"heads_kv", 8}, {"head_dim", 128}, {"mask", "causal"}}},
                    {"median_s", 1e-3},
                    {"results", {{"step_kernel_median_s", {2e-4, 1e-4}}}}};
  const MeasurementSet set = set_of(json::array({rec}));
  REQUIRE(set.items.size() == 2);
  CHECK(set.items[0].kind == MeasurementKind::CpStep);
  CHECK(set.items[1].attention.skv == 1024);  // c = 4096 / 4
}

TEST_CASE("several measurement files read as one set, paths naming their file", "[calibrate][cp]") {
  const std::string dir = std::filesystem::temp_directory_path() / ("hcpsim-sets-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string a = dir + "/attn.json", b = dir + "/cp.json", c = dir + "/other.json";
  std::ofstream(a) << test::synthetic_measurement_file(test::synthetic_attention_measurements()).dump();
  std::ofstream(b) << test::synthetic_measurement_file(json::array({test::cp_record("p2p", false, 2, {}, 4096, 1e-4, {})})).dump();
  json other = test::synthetic_measurement_file(json::array());
  other["environment"]["gpu_model"] = "NVIDIA B200";
  std::ofstream(c) << other.dump();
  const MeasurementSet set = read_measurement_files({a, b});
  REQUIRE(set.items.size() == 24 + 1);  // 6 sizes x causal/not x fwd/bwd attention, 1 CP run
  CHECK(set.items.back().path == b + ": measurements[0]");
  CHECK(set.items.back().kind == MeasurementKind::CpRun);
  // The out-of-sample check fits attention on half the shapes and replays the CP run.
  const CheckReport r = check_out_of_sample(set, node_for_measurements(set.gpu_model, ""), {}, nullptr);
  size_t cp_rows = 0;
  for (const auto& row : r.rows) cp_rows += row.kind == "hcpsim cp compute p2p";
  CHECK(cp_rows == 2);
  try {
    read_measurement_files({a, c});
    FAIL("two GPUs read as one set");
  } catch (const InputError& e) {
    CHECK(e.diagnostics().at(0).path == c + ": environment.gpu_model");
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("a CP kernel that carries its own clock is predicted at it, the others at the record's", "[calibrate][cp]") {
  // The built-in cuDNN defaults' shape model keeps its times at one clock f0 (its sm_clock_mhz);
  // a kernel measured at f takes t(f0) x f0 / f. Of a 2-rank p2p backward's four kernels one says
  // it ran at 1500 MHz; the others say nothing and take the record's 1700 MHz.
  const ClusterSpec node = node_for_measurements("NVIDIA H200", "");
  const CostParams p = default_cost_params(node.gpu, AttentionBackend::CuDNN);
  REQUIRE(p.attention_shape);
  const double f0 = p.attention_shape->clock_mhz;
  REQUIRE(f0 > 0);
  const CostModel model(node.gpu, Precision::BF16, p);
  json plain = test::cp_record("p2p", true, 2, {}, 16384, 1e-3, {});
  plain["backend"] = "cudnn";
  // The clocked kernel: rank 0's step1.diag, a label rank 1 runs too (the ranks' step 0 are the
  // upper and lower halves): rank 1's kernel of that label must keep the record's clock.
  json clocked = plain;
  clocked["sm_clock_mhz"] = 1700;
  const std::string first = "attn.bwd.step1.diag";
  size_t at = 0;
  while (at < clocked["results"]["kernels"].size() &&
         !(clocked["results"]["kernels"][at]["rank"] == 0 && clocked["results"]["kernels"][at]["label"] == first))
    ++at;
  REQUIRE(at < clocked["results"]["kernels"].size());
  clocked["results"]["kernels"][at]["sm_clock_mhz"] = 1500;
  clocked["results"]["kernels"][at]["sm_clock_source"] = "gpu_cycles";
  const CpReplay at_model = replay_cp_run(set_of(json::array({plain})).items[0], model);
  const CpReplay at_own = replay_cp_run(set_of(json::array({clocked})).items[0], model);
  REQUIRE(at_own.kernels.size() == at_model.kernels.size());
  size_t checked = 0, same_label_elsewhere = 0;
  for (size_t i = 0; i < at_own.kernels.size(); ++i) {
    const CpKernelReplay& k = at_own.kernels[i];
    const bool own = k.rank == 0 && k.label == first;
    same_label_elsewhere += k.rank != 0 && k.label == first;
    INFO("rank " << k.rank << " " << k.label);
    CHECK(k.predicted_s == Approx(at_model.kernels[i].predicted_s * f0 / (own ? 1500.0 : 1700.0)).epsilon(1e-12));
    ++checked;
  }
  CHECK(checked == 4);
  CHECK(same_label_elsewhere == 1);
}

TEST_CASE("a CP kernel's own clock must be a clock: the error names the kernel's entry", "[calibrate][cp]") {
  // The range of the record's sm_clock_mhz (1 to 1e5 MHz): 0, null and a string are refused at
  // results.kernels[0].sm_clock_mhz; an entry without one is read (the record's clock applies).
  for (const json& bad : {json(0.0), json(nullptr), json("1500"), json(2e5)}) {
    json r = test::cp_record("p2p", true, 2, {}, 16384, 1e-3, {});
    r["results"]["kernels"][0]["sm_clock_mhz"] = bad;
    INFO(bad.dump());
    try {
      set_of(json::array({r}));
      FAIL("a kernel clock of " << bad.dump() << " was read");
    } catch (const InputError& e) {
      REQUIRE(!e.diagnostics().empty());
      const std::string path = e.diagnostics().at(0).path;
      const std::string tail = "results.kernels[0].sm_clock_mhz";
      REQUIRE(path.size() >= tail.size());
      CHECK(path.substr(path.size() - tail.size()) == tail);
    }
  }
  json ok = test::cp_record("p2p", true, 2, {}, 16384, 1e-3, {});
  ok["results"]["kernels"][0]["sm_clock_mhz"] = 1500;
  CHECK(set_of(json::array({ok})).items[0].cp.kernels[0].sm_clock_mhz == 1500);
  CHECK(set_of(json::array({test::cp_record("p2p", true, 2, {}, 16384, 1e-3, {})})).items[0].cp.kernels[0].sm_clock_mhz == 0);
}

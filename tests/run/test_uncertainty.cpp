// Issue 14: the band of a prediction from the evidence behind each part of its time
// (run/uncertainty.hpp), checked against the closed form worked out by hand.
#include <catch2/catch.hpp>

#include <cmath>

#include "cost/cost_model.hpp"
#include "run/uncertainty.hpp"
#include "scenario/parse.hpp"

using namespace hcpsim;

TEST_CASE("uncertainty: root sum of squares of share x band, largest contributor first", "[run][uncertainty]") {
  CostParams p;
  p.set_evidence("attention", 0.05, "attention fit");
  p.set_evidence("gemm", 0.02, "gemm fit");
  p.set_evidence("elementwise", 0.5, "copy efficiency");
  // 10 s: attention 6, GEMM 3, memory-bound 1, no exposed communication.
  const TimeShares shares{6, 3, 1, 0};
  const Uncertainty u = uncertainty_of(shares, p, 10.0, 1000.0);
  // sqrt((0.6 x 0.05)^2 + (0.3 x 0.02)^2 + (0.1 x 0.5)^2) = sqrt(0.0009 + 0.000036 + 0.0025) = 0.0586174
  const double r = std::sqrt(0.0009 + 0.000036 + 0.0025);
  CHECK(u.relative == Approx(r).epsilon(1e-12));
  CHECK(u.time_s.first == Approx(10 * (1 - r)));
  CHECK(u.time_s.second == Approx(10 * (1 + r)));
  CHECK(u.tokens_per_s.first == Approx(1000 / (1 + r)));
  CHECK(u.tokens_per_s.second == Approx(1000 / (1 - r)));
  REQUIRE(u.components.size() == 3);  // no communication part: nothing exposed
  CHECK(u.components[0].what == "memory-bound kernels");  // 0.1 x 0.5 = 0.05
  CHECK(u.components[1].what == "attention kernels");     // 0.6 x 0.05 = 0.03
  CHECK(u.components[2].what == "GEMM kernels");          // 0.3 x 0.02 = 0.006
  CHECK(u.components[1].share == Approx(0.6));
  CHECK(u.components[1].basis == "attention fit");
}

TEST_CASE("uncertainty: exposed communication carries the comm model's validation error", "[run][uncertainty]") {
  CostParams p;
  p.set_evidence("attention", 0.0, "exact");
  const Uncertainty u = uncertainty_of(TimeShares{5, 0, 0, 5}, p, 10.0, 0);
  CHECK(u.relative == Approx(0.5 * kCommValidationRelative));
  REQUIRE(u.components.front().what == "communication");
}

TEST_CASE("uncertainty: bands overlap symmetrically", "[run][uncertainty]") {
  Uncertainty a, b;
  a.time_s = {9.0, 10.0};
  b.time_s = {10.0, 11.0};
  CHECK(bands_overlap(a, b));
  CHECK(bands_overlap(b, a));
  b.time_s = {10.01, 11.0};
  CHECK_FALSE(bands_overlap(a, b));
}

TEST_CASE("uncertainty: the band of a comparison counts shared evidence once", "[run][uncertainty]") {
  Uncertainty a, b;
  a.components = {{"attention kernels", 0.7, 0.05, "fit F"}, {"communication", 0.3, 0.10, "comm model"}};
  b.components = {{"attention kernels", 0.5, 0.05, "fit F"}, {"communication", 0.5, 0.10, "comm model"}};
  // Shared: ((0.7 - 0.5) x 0.05)^2 + ((0.3 - 0.5) x 0.10)^2 = 0.0001 + 0.0004 -> 0.02236
  CHECK(ratio_band(a, b) == Approx(std::sqrt(0.0001 + 0.0004)));
  // b's attention from another fit: independent, (0.7 x 0.05)^2 + (0.5 x 0.05)^2 + 0.0004
  b.components[0].basis = "fit G";
  CHECK(ratio_band(a, b) == Approx(std::sqrt(0.035 * 0.035 + 0.025 * 0.025 + 0.0004)));
  CHECK(ratio_band(a, a) == 0);
}

TEST_CASE("uncertainty: attention that depends on an unknown block placement is one more part", "[run][uncertainty]") {
  CostParams p;
  p.set_evidence("attention", 0.01, "attention fit");
  // 10 s: attention 8 (its launches weighted by their placement spreads: 0.4 s, a 5 % spread on
  // average), exposed communication 2.
  TimeShares shares{8, 0, 0, 2};
  shares.attention_placement_s = 0.4;
  const Uncertainty u = uncertainty_of(shares, p, 10.0, 0);
  // sqrt((0.8 x 0.01)^2 + (0.8 x 0.05)^2 + (0.2 x 0.10)^2) = sqrt(0.000064 + 0.0016 + 0.0004)
  CHECK(u.relative == Approx(std::sqrt(0.000064 + 0.0016 + 0.0004)).epsilon(1e-12));
  REQUIRE(u.components.size() == 3);
  CHECK(u.components[0].what == "attention block placement");  // 0.8 x 0.05 = 0.04
  CHECK(u.components[0].share == Approx(0.8));
  CHECK(u.components[0].relative == Approx(0.05));
  // Without a drawn launch the part is absent; it adds and scales with the other seconds.
  shares.attention_placement_s = 0;
  CHECK(uncertainty_of(shares, p, 10.0, 0).components.size() == 2);
  TimeShares twice = shares.scaled(2);
  twice.attention_placement_s = 1;
  twice += TimeShares{0, 0, 0, 0, 0.5};
  CHECK(twice.attention_placement_s == 1.5);
  CHECK(twice.scaled(2).attention_placement_s == 3);
  CHECK(twice.total_s() == 20);  // not a share of its own
}

TEST_CASE("uncertainty: varlen launches' exiting CTAs are one more part, as the placement is", "[run][uncertainty]") {
  CostParams p;
  p.set_evidence("attention", 0.01, "attention fit");
  // 10 s: attention 8, its launches weighted by their exit spreads 1.6 s (20 % on average),
  // exposed communication 2: sqrt((0.8 x 0.01)^2 + (0.8 x 0.2)^2 + (0.2 x 0.10)^2).
  TimeShares shares{8, 0, 0, 2};
  shares.attention_varlen_exit_s = 1.6;
  const Uncertainty u = uncertainty_of(shares, p, 10.0, 0);
  CHECK(u.relative == Approx(std::sqrt(0.000064 + 0.0256 + 0.0004)).epsilon(1e-12));
  REQUIRE(u.components.size() == 3);
  CHECK(u.components[0].what == "varlen launches' exiting CTAs");
  CHECK(u.components[0].relative == Approx(0.2));
  TimeShares sum = shares.scaled(0.5);
  sum += shares;
  CHECK(sum.attention_varlen_exit_s == Approx(2.4));
  CHECK(sum.total_s() == Approx(15));  // not a share of its own
}

TEST_CASE("uncertainty: a part whose band is the prediction's own counts as independent in a comparison",
          "[run][uncertainty]") {
  // Two layouts, one calibration: the attention fit's part is shared; their placement parts rest
  // on the same kind of evidence but on other launches (5 % against 1 %): independent.
  Uncertainty a, b;
  const std::string basis = "placement draws";
  a.components = {{"attention kernels", 0.8, 0.01, "fit F"}, {"attention block placement", 0.8, 0.05, basis}};
  b.components = {{"attention kernels", 0.7, 0.01, "fit F"}, {"attention block placement", 0.7, 0.01, basis}};
  // ((0.8 - 0.7) x 0.01)^2 + (0.8 x 0.05)^2 + (0.7 x 0.01)^2 = 0.000001 + 0.0016 + 0.000049
  const double r = std::sqrt(0.000001 + 0.0016 + 0.000049);
  CHECK(ratio_band(a, b) == Approx(r));
  CHECK(ratio_band(b, a) == Approx(r));  // symmetric
  // The same launches (same spread): shared, only the shares' difference is uncertain.
  b.components[1].relative = 0.05;
  CHECK(ratio_band(a, b) == Approx(std::sqrt(0.000001 + (0.1 * 0.05) * (0.1 * 0.05))));
}

TEST_CASE("uncertainty: GEMMs under TE's TP overlap are one more part, at its stated margin", "[run][uncertainty]") {
  CostParams p;
  p.set_evidence("gemm", 0.02, "gemm fit");
  // 10 s of GEMMs, 6 of them split or on the SM margin by userbuffers: the GEMM part (10 x 0.02)
  // and the overlap's (6 x 0.07), sqrt(0.02^2 + (0.6 x 0.07)^2) = sqrt(0.0004 + 0.001764).
  TimeShares shares{0, 10, 0, 0};
  shares.userbuffers_gemm_s = 6;
  const Uncertainty u = uncertainty_of(shares, p, 10.0, 0);
  CHECK(kTpOverlapStatedRelative == Approx((132.0 / 116.0 - 1) / 2).epsilon(0.02));  // half the 16-SM margin's cost
  CHECK(u.relative == Approx(std::sqrt(0.0004 + 0.6 * 0.6 * kTpOverlapStatedRelative * kTpOverlapStatedRelative)));
  REQUIRE(u.components.size() == 2);
  CHECK(u.components[0].what == "TP overlap (userbuffers)");
  CHECK(u.components[0].share == Approx(0.6));
  // It scales and adds with the rest of the shares (composition of layers and micro batches).
  CHECK(shares.scaled(2).userbuffers_gemm_s == 12);
  TimeShares sum = shares;
  sum += shares;
  CHECK(sum.userbuffers_gemm_s == 12);
}

TEST_CASE("the slower of two banded times: from the larger low end to the larger high end", "[run]") {
  Uncertainty gpu, cpu;
  gpu.time_s = {9.0, 11.5};  // centre 10.25
  gpu.relative = 1.25 / 10.25;
  gpu.components = {{"GEMM kernels", 1.0, 0.12, "fit"}};
  cpu.time_s = {9.5, 10.5};  // centre 10
  cpu.relative = 0.05;
  cpu.components = {{"CPU launches", 1.0, 0.05, "probe"}};
  // The GPUs' centre is the larger: its parts; ends max(9, 9.5) = 9.5 and max(11.5, 10.5) = 11.5;
  // about 10.25 s the wider side is 11.5 - 10.25 = 1.25 s: 12.195 %; tokens 100 x 10.25 / 11.5 and / 9.5.
  const Uncertainty u = slower_of(gpu, cpu, 10.25, 100);
  CHECK(u.components.front().what == "GEMM kernels");
  CHECK(u.time_s.first == Approx(9.5));
  CHECK(u.time_s.second == Approx(11.5));
  CHECK(u.relative == Approx(1.25 / 10.25));
  CHECK(u.tokens_per_s.first == Approx(100 * 10.25 / 11.5));
  CHECK(u.tokens_per_s.second == Approx(100 * 10.25 / 9.5));
  // A CPU band that holds the other's (centre 12 s, 11-13 against 9-11.5): the CPU's, unchanged.
  cpu.time_s = {11.0, 13.0};
  cpu.relative = 1.0 / 12;
  const Uncertainty c = slower_of(gpu, cpu, 12, 100);
  CHECK(c == cpu);
}

TEST_CASE("uncertainty: attention the shape model does not cover carries the tables' margin", "[run][uncertainty]") {
  CostParams p;
  p.set_evidence("attention", 0.01, "attention fit");
  // 10 s: attention 6, of which 2 timed by the tables (a sliding window), exposed communication 4.
  TimeShares shares{6, 0, 0, 4};
  shares.attention_tables_s = 2;
  const Uncertainty u = uncertainty_of(shares, p, 10.0, 0);
  // sqrt((0.4 x 0.01)^2 + (0.2 x 0.16)^2 + (0.4 x 0.10)^2) = sqrt(0.000016 + 0.001024 + 0.0016)
  CHECK(u.relative == Approx(std::sqrt(0.000016 + 0.001024 + 0.0016)).epsilon(1e-12));
  REQUIRE(u.components.size() == 3);
  CHECK(u.components[1].what == "attention kernels outside the shape model");
  CHECK(u.components[1].share == Approx(0.2));
  CHECK(u.components[1].relative == Approx(kAttentionTablesRelative));
  // Where the attention evidence is wider (a roofline's 25 %), the tables' part keeps it.
  p.set_evidence("attention", 0.25, "roofline");
  const Uncertainty wide = uncertainty_of(shares, p, 10.0, 0);
  for (const auto& c : wide.components)
    if (c.what == "attention kernels outside the shape model") CHECK(c.relative == Approx(0.25));
  CHECK(shares.scaled(2).attention_tables_s == 4);
  TimeShares sum = shares;
  sum += shares;
  CHECK(sum.attention_tables_s == 4);
}

TEST_CASE("uncertainty: a band carried from another GPU's measurement shares that measurement's part", "[run][uncertainty]") {
  // GB200's cuDNN figures measured on it (+-10 %), B200's carried from them (+-15 %: the same
  // measurement and a carry of sqrt(0.15^2 - 0.10^2) = 0.1118 of its own). Attention is 0.4 of
  // GB200's step and 0.5 of B200's; the rest, communication, on one comm model (+-10 %).
  Uncertainty gb200, b200;
  const std::string measured = "cuDNN measured on GB200 (benchmark)";
  gb200.components = {{"attention kernels", 0.4, 0.10, "roofline margin for GB200 (cuDNN measured on GB200)", measured, 0.10},
                      {"communication", 0.6, 0.10, "comm model"}};
  b200.components = {{"attention kernels", 0.5, 0.15, "roofline margin for B200 (cuDNN carried from GB200)", measured, 0.10},
                     {"communication", 0.5, 0.10, "comm model"}};
  // shared: ((0.4 - 0.5) x 0.10)^2 = 0.0001; carry, B200's alone: 0.5^2 x (0.15^2 - 0.10^2) = 0.003125;
  // GB200's beyond its own measurement: 0; communication: ((0.6 - 0.5) x 0.10)^2 = 0.0001.
  const double r = std::sqrt(0.0001 + 0.003125 + 0.0001);
  CHECK(ratio_band(gb200, b200) == Approx(r));
  CHECK(ratio_band(b200, gb200) == Approx(r));
  // Before (each band its own evidence): (0.4 x 0.10)^2 + (0.5 x 0.15)^2 + 0.0001 = 0.0074 -> +-8.6 %
  // instead of +-5.8 %.
  Uncertainty apart = b200;
  apart.components[0].shared_basis.clear();
  CHECK(ratio_band(gb200, apart) == Approx(std::sqrt(0.0016 + 0.005625 + 0.0001)));
  // Two layouts on B200 (the same carried figure): all of its band is common, the carry too:
  // ((0.5 - 0.3) x 0.15)^2 + ((0.5 - 0.7) x 0.10)^2.
  Uncertainty other_layout = b200;
  other_layout.components[0].share = 0.3;
  other_layout.components[1].share = 0.7;
  CHECK(ratio_band(b200, other_layout) == Approx(std::sqrt(0.0009 + 0.0004)));
  // Another measurement behind it: independent.
  apart.components[0].shared_basis = "cuDNN measured on GB300 (benchmark)";
  apart.components[0].shared_relative = 0.10;
  CHECK(ratio_band(gb200, apart) == Approx(std::sqrt(0.0016 + 0.005625 + 0.0001)));
}

TEST_CASE("uncertainty: B200's and GB200's roofline cuDNN evidence rest on GB200's measurement", "[run][uncertainty]") {
  const auto on = [](const std::string& preset) {
    return parse_scenario_text(R"({"model": {"preset": "llama3.1-8b"},
      "training": {"seq_length": 8192, "micro_batch_size": 1, "global_batch_size": 72},
      "parallel": {"tensor_model_parallel_size": 1, "context_parallel_size": 1},
      "cluster": {"preset": ")" + preset + R"(", "num_nodes": 1}})",
                               ParseOptions{});
  };
  const Scenario b200 = on("dgx-b200"), gb200 = on("gb200-nvl72");
  const CostParams pb = cost_params_for(b200), pg = cost_params_for(gb200);
  const KernelEvidence* a = pb.evidence_for("attention");
  const KernelEvidence* g = pg.evidence_for("attention");
  REQUIRE(a);
  REQUIRE(g);
  CHECK(a->relative == Approx(0.15));  // carried: the roofline's margin for B200 (cost/roofline.cpp)
  CHECK(g->relative == Approx(0.10));  // measured on it
  CHECK_FALSE(a->shared_basis.empty());
  CHECK(a->shared_basis == g->shared_basis);
  CHECK(a->shared_relative == Approx(0.10));
  CHECK(g->shared_relative == Approx(0.10));
  // Their GEMMs were each measured on their own GPU: nothing shared.
  REQUIRE(pb.evidence_for("gemm"));
  REQUIRE(pg.evidence_for("gemm"));
  CHECK(pb.evidence_for("gemm")->shared_basis != pg.evidence_for("gemm")->shared_basis);
}

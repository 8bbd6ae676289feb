// hcpcal's CP suite on real ranks, its plain C++ part (launch.h): each process writes its
// local ranks' results as text, process 0 decodes every process's text and merges it into
// one table row. Expected values are derived by hand beside each check.
#include <catch2/catch.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "calibrate/hcpcal/launch.h"

namespace {

using namespace hcpcal;

CpRankResult rank_result(int rank, RankTiming pass, unsigned long long peak, std::vector<CpKernelStat> kernels) {
  CpRankResult r;
  r.rank = rank;
  r.pass = pass;
  r.peak_bytes = peak;
  r.kernels = std::move(kernels);
  return r;
}

}  // namespace

TEST_CASE("hcpcal cp gather: results survive the trip through text", "[calibrate]") {
  // 0.1 and 1/3 have no short decimal form: they come back bit for bit only if every digit
  // %.17g writes is read back. The label keeps its spaces (it is the rest of the line).
  const std::vector<CpRankResult> sent = {
      rank_result(6, {0.1, 1.0 / 3, 2.5e-3, 7}, 18446744073709551615ull,
                  {{"attn.fwd.step0.diag", 1e-7, 0.9e-7, 1.2e-7}, {"a label with spaces", 0.1, 0.1, 0.1}}),
      rank_result(7, {4e-6, 3e-6, 5e-6, 0}, 0, {})};
  const std::vector<CpRankResult> got = decode_cp_results(encode_cp_results(sent));
  REQUIRE(got.size() == 2);
  CHECK(got[0].rank == 6);
  CHECK(got[0].pass.median_s == 0.1);
  CHECK(got[0].pass.min_s == 1.0 / 3);
  CHECK(got[0].pass.max_s == 2.5e-3);
  CHECK(got[0].pass.wrong == 7);
  CHECK(got[0].peak_bytes == 18446744073709551615ull);  // 2^64 - 1: no narrowing on the way
  REQUIRE(got[0].kernels.size() == 2);
  CHECK(got[0].kernels[0].label == "attn.fwd.step0.diag");
  CHECK(got[0].kernels[0].median_s == 1e-7);
  CHECK(got[0].kernels[1].label == "a label with spaces");
  CHECK(got[1].rank == 7);
  CHECK(got[1].kernels.empty());
  CHECK(decode_cp_results("").empty());  // a process that drives no rank of the group
}

TEST_CASE("hcpcal cp gather: 2 processes x 2 GPUs merge to the slowest rank", "[calibrate]") {
  // Process 0 drives ranks 0 and 1; process 1 ranks 2 and 3, written in reverse order (the
  // merge orders by rank, not by arrival).
  const std::string p0 = encode_cp_results(
      {rank_result(0, {100e-6, 90e-6, 130e-6, 0}, 1000, {{"attn.fwd.step0.diag", 10e-6, 9e-6, 11e-6},
                                                          {"attn.fwd.step1.lower", 20e-6, 19e-6, 21e-6}}),
       rank_result(1, {120e-6, 95e-6, 125e-6, 2}, 3000, {{"attn.fwd.step0.diag", 40e-6, 39e-6, 41e-6}})});
  const std::string p1 = encode_cp_results(
      {rank_result(3, {105e-6, 99e-6, 111e-6, 1}, 500, {}),
       rank_result(2, {110e-6, 80e-6, 150e-6, 0}, 2000,
                   {{"k1", 5e-6, 5e-6, 5e-6}, {"k2", 5e-6, 5e-6, 5e-6}, {"k3", 5e-6, 5e-6, 5e-6}})});
  const CpMerged m = merge_cp_results({p0, p1}, 4);
  // Pass: median = max of the medians {100, 120, 110, 105} us = rank 1's 120 us; min = min of
  // the mins {90, 95, 80, 99} = 80 us; max = max of the maxes {130, 125, 150, 111} = 150 us;
  // wrong = 0 + 2 + 0 + 1 = 3.
  CHECK(m.pass.median_s == Approx(120e-6));
  CHECK(m.pass.min_s == Approx(80e-6));
  CHECK(m.pass.max_s == Approx(150e-6));
  CHECK(m.pass.wrong == 3);
  // Kernels: per-rank sums of medians 10 + 20 = 30, 40, 5 + 5 + 5 = 15, 0 us: the slowest is 40.
  CHECK(m.kernels_s == Approx(40e-6));
  CHECK(m.peak_bytes == std::vector<unsigned long long>{1000, 3000, 2000, 500});
  REQUIRE(m.ranks.size() == 4);
  for (int r = 0; r < 4; ++r) CHECK(m.ranks[r].rank == r);
  CHECK(m.ranks[2].kernels.size() == 3);
  CHECK(m.ranks[1].kernels[0].min_s == Approx(39e-6));
}

TEST_CASE("hcpcal cp gather: a missing, repeated or foreign rank and garbled text are refused", "[calibrate]") {
  const std::string r0 = encode_cp_results({rank_result(0, {1e-6, 1e-6, 1e-6, 0}, 1, {})});
  const std::string r1 = encode_cp_results({rank_result(1, {1e-6, 1e-6, 1e-6, 0}, 1, {})});
  const std::string r2 = encode_cp_results({rank_result(2, {1e-6, 1e-6, 1e-6, 0}, 1, {})});
  CHECK(merge_cp_results({r0, r1}, 2).peak_bytes.size() == 2);  // the well-formed case passes
  CHECK_THROWS_WITH(merge_cp_results({r0}, 2), Catch::Contains("no process reported rank 1"));
  CHECK_THROWS_WITH(merge_cp_results({r0, r0}, 2), Catch::Contains("rank 0") && Catch::Contains("twice"));
  CHECK_THROWS_WITH(merge_cp_results({r0, r2}, 2), Catch::Contains("rank 2 is outside 0..1"));
  CHECK_THROWS_AS(decode_cp_results("rank 0 1e-6 x 1e-6 0 1\n"), std::invalid_argument);  // not a number
  CHECK_THROWS_AS(decode_cp_results("rank 0 1e-6 1e-6 1e-6 0 1 extra\n"), std::invalid_argument);
  CHECK_THROWS_AS(decode_cp_results("kernel 1e-6 1e-6 1e-6 k\n"), std::invalid_argument);  // no rank line before
  CHECK_THROWS_AS(decode_cp_results(r0 + "kernel 1e-6 1e-6 1e-6 \n"), std::invalid_argument);  // empty label
  CHECK_THROWS_AS(decode_cp_results(r0 + "\n"), std::invalid_argument);  // a blank line
}

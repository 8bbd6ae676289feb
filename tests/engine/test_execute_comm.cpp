// Executor: point-to-point and collective times against closed forms. With
// CM02, no crosstraffic and no TCP-gamma (platform.hpp), a flow alone on its
// links takes  route latency + bytes / bandwidth; flows sharing a link direction
// split its bandwidth evenly (same route latency).
#include <catch2/catch.hpp>

#include "engine/collective_member.hpp"
#include "tests/engine/execute_harness.hpp"

using namespace hcpsim;
using namespace hcpsim::test;

namespace {

constexpr double kBytes = 64e6;
const double kNvlinkStepS = kNvlinkLatencyS + kBytes / kNvlinkBytesPerS;  // 144.2 us
const double kNicStepS = kNicLatencyS + kBytes / kNicBytesPerS;           // 1285 us

// Ranks 0..n-1, one op each: a collective on group 0 = all ranks in order.
PhaseData one_collective(int32_t n, CommPattern pattern, double bytes) {
  PhaseData p(n);
  p.groups.push_back({"g", {}});
  for (int32_t r = 0; r < n; ++r) p.groups[0].ranks.push_back(r);
  for (int32_t r = 0; r < n; ++r) {
    ProgramBuilder b;
    b.collective(pattern, 0, bytes, 1);
    p.set(r, b);
  }
  return p;
}

double end_of_rank0(const Timeline& t) { return record(t, 0, 0, 0).end_s; }

}  // namespace

TEST_CASE("execute: a comm-bound p2p ring step takes latency + bytes / bandwidth", "[simulator][simgrid]") {
  // Intra-node ring of 8: rank r sends to r+1 and receives from r-1; each NVLink
  // direction carries one flow, so every op ends at  L_nvl + B / bw_nvl.
  PhaseData intra(8);
  for (int32_t r = 0; r < 8; ++r) {
    ProgramBuilder b;
    b.sendrecv((r + 1) % 8, (r + 7) % 8, kBytes, 1);
    intra.set(r, b);
  }
  const Timeline ti = simulate(make_input(make_cluster({.nodes = 1, .nics_per_node = 0}), {.cp = 8}, {intra}));
  for (int32_t r = 0; r < 8; ++r) REQUIRE(record(ti, 0, r, 0).end_s == Approx(kNvlinkStepS).epsilon(1e-9));

  // Inter-node ring of 2 per rail (HCP outer ring): rank r <-> r+8, one flow per NIC direction.
  PhaseData inter(16);
  for (int32_t r = 0; r < 16; ++r) {
    ProgramBuilder b;
    b.sendrecv((r + 8) % 16, (r + 8) % 16, kBytes, 1);
    inter.set(r, b);
  }
  const Timeline tn = simulate(make_input(make_cluster({.nodes = 2}), {.cp = 16}, {inter}));
  for (int32_t r = 0; r < 16; ++r) {
    const OpRecord& o = record(tn, 0, r, 0);
    REQUIRE(o.end_s == Approx(kNicStepS).epsilon(1e-9));
    REQUIRE(o.start_s == 0);
  }
}

TEST_CASE("execute: ring all-gather, reduce-scatter and all-reduce inside a node", "[simulator][simgrid]") {
  // N = 8 on one NVSwitch: every ring step moves one message per NVLink
  // direction, so a step takes L + m/bw and the steps run back to back:
  //   AG, RS: (N-1)(L + m/bw)        AR: 2(N-1)(L + (m/N)/bw)
  const ClusterSpec node = make_cluster({.nodes = 1, .nics_per_node = 0});
  const double n = 8;
  for (CommPattern p : {CommPattern::AllGather, CommPattern::ReduceScatter}) {
    INFO(to_string(p));
    const Timeline t = simulate(make_input(node, {.cp = 8}, {one_collective(8, p, kBytes)}));
    REQUIRE(end_of_rank0(t) == Approx((n - 1) * kNvlinkStepS).epsilon(1e-9));
  }
  const Timeline ar = simulate(make_input(node, {.cp = 8}, {one_collective(8, CommPattern::AllReduce, kBytes)}));
  REQUIRE(end_of_rank0(ar) == Approx(2 * (n - 1) * (kNvlinkLatencyS + kBytes / n / kNvlinkBytesPerS)).epsilon(1e-9));
}

TEST_CASE("execute: all-to-all inside a node vs across nodes scales with the bandwidth ratio", "[simulator][simgrid]") {
  // 8 ranks, each sends m/8 to each of 7 peers at once: a GPU's up-link carries
  // 7 flows of m/8, so the op takes  L + 7 (m/8) / bw.
  const double share = 7 * kBytes / 8;
  const Timeline intra = simulate(make_input(make_cluster({.nodes = 1, .nics_per_node = 0}), {.cp = 8},
                                             {one_collective(8, CommPattern::AllToAll, kBytes)}));
  REQUIRE(end_of_rank0(intra) == Approx(kNvlinkLatencyS + share / kNvlinkBytesPerS).epsilon(1e-9));

  // The same group across 8 nodes on rail 0 (ranks 0, 8, ..., 56 of a TP8 layout).
  PhaseData across(64);
  across.groups.push_back({"rail0", {0, 8, 16, 24, 32, 40, 48, 56}});
  for (int32_t r = 0; r < 64; r += 8) {
    ProgramBuilder b;
    b.collective(CommPattern::AllToAll, 0, kBytes, 1);
    across.set(r, b);
  }
  const Timeline inter = simulate(make_input(make_cluster({.nodes = 8}), {.tp = 8, .cp = 8}, {across}));
  REQUIRE(end_of_rank0(inter) == Approx(kNicLatencyS + share / kNicBytesPerS).epsilon(1e-9));
  REQUIRE((end_of_rank0(inter) - kNicLatencyS) / (end_of_rank0(intra) - kNvlinkLatencyS) ==
          Approx(kNvlinkBytesPerS / kNicBytesPerS).epsilon(1e-9));
}

TEST_CASE("execute: ring macro-steps keep a comm-bound ring's time", "[simulator][simgrid]") {
  // Plan: 31 steps as at most 4 transfers = 8, 8, 8, 7.
  REQUIRE(ring_macro_steps(31, 4) == std::vector<int64_t>{8, 8, 8, 7});
  REQUIRE(ring_macro_steps(3, 16) == std::vector<int64_t>{1, 1, 1});
  // A ring of 32 over 4 nodes (GPU 7 -> 8 crosses NICs): every step is bound by
  // the NIC, (N-1)(L_nic + m/bw_nic) in all. Aggregating into K = 4 transfers
  // plus (steps - K) x latency waits (the skipped steps' latency) keeps it within 1%.
  const ClusterSpec spec = make_cluster({.nodes = 4});
  const PhaseData ring = one_collective(32, CommPattern::AllGather, kBytes / 8);
  const double closed = 31 * (kNicLatencyS + kBytes / 8 / kNicBytesPerS);
  const Timeline exact = simulate(make_input(spec, {.cp = 32}, {ring}, {.interference = {}, .ring_max_macro_steps = 31}));
  const Timeline folded = simulate(make_input(spec, {.cp = 32}, {ring}, {.interference = {}, .ring_max_macro_steps = 4}));
  REQUIRE(end_of_rank0(exact) == Approx(closed).epsilon(1e-9));
  REQUIRE(end_of_rank0(folded) == Approx(end_of_rank0(exact)).epsilon(0.01));
  REQUIRE(folded.activities < exact.activities);
}

TEST_CASE("execute: bytes each rank sends equal bytes_sent_per_rank", "[simulator][simgrid]") {
  // Inside one node every flow of rank r leaves through its own NVLink up-link,
  // so that link's byte count is exactly what rank r sent.
  const ClusterSpec node = make_cluster({.nodes = 1, .gpus_per_node = 4, .nics_per_node = 0});
  for (CommPattern p : {CommPattern::AllGather, CommPattern::ReduceScatter, CommPattern::AllReduce,
                        CommPattern::AllToAll}) {
    INFO(to_string(p));
    const PhaseData phase = one_collective(4, p, 1e6);
    const std::vector<double> got = in_child([&] {
      const Timeline t = execute_programs(make_input(node, {.cp = 4}, {phase}));
      std::vector<double> sent(4, 0.0);
      for (const LinkRecord& l : t.links)
        for (int r = 0; r < 4; ++r)
          if (l.name == "gpu" + std::to_string(r) + "-n0.nvswitch_UP") sent[static_cast<size_t>(r)] += l.bytes;
      return sent;
    });
    for (int32_t r = 0; r < 4; ++r)
      REQUIRE(got[static_cast<size_t>(r)] == Approx(bytes_sent_per_rank(phase.programs[r].ops[0], 4)).epsilon(1e-12));
  }
}

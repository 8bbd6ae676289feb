// Executor: link accounting, DP replica folding, deadlock reports, bad input,
// determinism.
#include <catch2/catch.hpp>

#include "engine/replica_folding.hpp"
#include "engine/link_accounting.hpp"
#include "tests/engine/execute_harness.hpp"

using namespace hcpsim;
using namespace hcpsim::test;

namespace {

// TP1 x CP4 x DP2 on one node: each replica runs a ring all-gather and a p2p
// exchange inside its CP group {4d .. 4d+3}, plus compute.
PhaseData two_replicas() {
  PhaseData p(8);
  p.groups = {{"cp", {0, 1, 2, 3}}, {"cp", {4, 5, 6, 7}}};
  for (int32_t r = 0; r < 8; ++r) {
    const int32_t base = r / 4 * 4, c = r % 4;
    ProgramBuilder b;
    const int32_t x = b.compute(50e-6);
    const int32_t ag = b.collective(CommPattern::AllGather, r / 4, 8e6, 1, {x});
    b.sendrecv(base + (c + 1) % 4, base + (c + 3) % 4, 16e6, 2, {ag});
    b.compute(20e-6, Stream::Cp, {ag});
    p.set(r, b);
  }
  return p;
}

}  // namespace

TEST_CASE("execute: link bytes and busy time follow the flows", "[simulator][simgrid]") {
  // One 45 MB flow GPU0 -> GPU1: it crosses gpu0's NVLink up and gpu1's down,
  // each carrying 45 MB and moving bytes for 45e6 / 450e9 = 100 us.
  PhaseData p(2);
  ProgramBuilder s, r;
  s.sendrecv(1, -1, 45e6, 1);
  r.sendrecv(-1, 0, 45e6, 1);
  p.set(0, s);
  p.set(1, r);
  const Timeline t = simulate(make_input(make_cluster({.nodes = 1, .nics_per_node = 0}), {.cp = 2}, {p}));
  REQUIRE(t.links.size() == 2);
  for (const LinkRecord& l : t.links) {
    REQUIRE(l.cls == LinkClass::NvLink);
    REQUIRE(l.bytes == 45e6);
    REQUIRE(l.busy_s == Approx(45e6 / kNvlinkBytesPerS).epsilon(1e-9));
  }
}

TEST_CASE("execute: link busy time is the union of the flows' transfer intervals", "[simulator]") {
  // Pure accounting. GPU0 -> GPU1 has a 2 us route latency, so flows started at
  // 0, 5 and 28 us and ending at 12, 17 and 32 us move bytes over [2, 12],
  // [7, 17] (overlapping) and [30, 32] us: busy 15 + 2 = 17 us on both hops.
  const ClusterGraph g = build_cluster_graph(make_cluster({.nodes = 1, .nics_per_node = 0}));
  const Placement pl = megatron_placement(g, {.cp = 8});
  const std::vector<FlowRecord> flows{{0, 1, 1e6, 0, 12e-6}, {0, 1, 2e6, 5e-6, 17e-6}, {0, 1, 3e6, 28e-6, 32e-6}};
  const std::vector<LinkRecord> links = account_links(g, pl, flows);
  REQUIRE(links.size() == 2);
  for (const LinkRecord& l : links) {
    REQUIRE(l.bytes == 6e6);
    REQUIRE(l.busy_s == Approx(17e-6).epsilon(1e-9));
  }
}

TEST_CASE("execute: folding DP replicas that share no link gives the same times", "[simulator][simgrid]") {
  const PhaseData p = two_replicas();
  const ClusterSpec node = make_cluster({.nodes = 1, .nics_per_node = 0});
  const RankLayout layout{.cp = 4, .dp = 2};
  const Timeline full = simulate(make_input(node, layout, {p}));
  const Timeline folded = simulate(make_input(node, layout, {p}, {.interference = {}, .fold_dp_replicas = true}));
  REQUIRE_FALSE(full.phases[0].folded);
  REQUIRE(folded.phases[0].folded);
  REQUIRE(folded.phases[0].replicas == 2);
  REQUIRE(folded.phases[0].simulated_ranks == 4);
  REQUIRE(folded.ops.size() == full.ops.size() / 2);
  for (const OpRecord& o : folded.ops) {
    const OpRecord& same = record(full, 0, o.rank, o.op);
    REQUIRE(o.start_s == same.start_s);
    REQUIRE(o.end_s == same.end_s);
    // The other replica's twin op ran at the same times too.
    REQUIRE(record(full, 0, o.rank + 4, o.op).end_s == same.end_s);
  }
  REQUIRE(folded.phase_end_s[0] == full.phase_end_s[0]);
}

TEST_CASE("execute: folding is refused when replicas share a link or talk to each other", "[simulator]") {
  // Two nodes of 2 GPUs, one NIC per node. Replica 0 = ranks {0, 1} on GPUs
  // {0, 2}, replica 1 = ranks {2, 3} on GPUs {1, 3}: both rings cross node 0's
  // NIC, so replica 1's traffic slows replica 0's and folding would hide it.
  const ClusterGraph g = build_cluster_graph(make_cluster({.nodes = 2, .gpus_per_node = 2, .nics_per_node = 1}));
  const RankLayout layout{.cp = 2, .dp = 2};
  PhaseData p(4);
  p.groups = {{"cp", {0, 1}}, {"cp", {2, 3}}};
  for (int32_t r = 0; r < 4; ++r) {
    ProgramBuilder b;
    b.collective(CommPattern::AllGather, r / 2, 1e6, 1);
    p.set(r, b);
  }
  const FoldDecision shared = decide_folding(p.phase(), layout, g, Placement{{0, 2, 1, 3}}, true);
  REQUIRE_FALSE(shared.folded);
  REQUIRE(shared.program_indices.size() == 4);
  REQUIRE_THAT(shared.note, Catch::Contains("share link") && Catch::Contains("nic"));
  // With the Megatron placement each replica stays in its node: disjoint, folded.
  const FoldDecision apart = decide_folding(p.phase(), layout, g, Placement{{0, 1, 2, 3}}, true);
  REQUIRE(apart.folded);
  REQUIRE(apart.program_indices == std::vector<int32_t>{0, 1});
  // A data-parallel all-reduce crosses replicas: not folded.
  PhaseData dp(4);
  dp.groups = {{"dp", {0, 2}}, {"dp", {1, 3}}};
  for (int32_t r = 0; r < 4; ++r) {
    ProgramBuilder b;
    b.collective(CommPattern::AllReduce, r % 2, 1e6, 1);
    dp.set(r, b);
  }
  const FoldDecision crossing = decide_folding(dp.phase(), layout, g, Placement{{0, 1, 2, 3}}, true);
  REQUIRE_FALSE(crossing.folded);
  REQUIRE_THAT(crossing.note, Catch::Contains("crosses DP replicas"));
}

TEST_CASE("execute: a replica whose ring crosses the spine is no copy of one inside a leaf", "[simulator]") {
  // 6 nodes of 8 GPUs, 8 NICs a node, leaves grouped by node: 32 ports / 8 = 4 nodes a leaf, so
  // nodes 0-3 on leaf 0 and 4-5 on leaf 1. CP24 x DP2, rank r on GPU r: replica 0 (nodes 0-2) rings
  // through leaf 0 alone; replica 1 (nodes 3-5) rings from node 3 up through the spine to leaf 1.
  // No link is shared and the programs are alike, but the routes are not: both are simulated.
  const ClusterGraph g = build_cluster_graph(make_cluster({.nodes = 6, .rail_optimized = false, .oversubscription = 4.0}));
  REQUIRE(g.leaves.size() == 2);
  const RankLayout layout{.cp = 24, .dp = 2};
  PhaseData p(48);
  p.groups = {{"cp", {}}, {"cp", {}}};
  for (int32_t r = 0; r < 48; ++r) p.groups[size_t(r / 24)].ranks.push_back(r);
  for (int32_t r = 0; r < 48; ++r) {
    ProgramBuilder b;
    b.collective(CommPattern::AllGather, r / 24, 1e6, 1);
    p.set(r, b);
  }
  std::vector<int64_t> gpu(48);
  for (int32_t r = 0; r < 48; ++r) gpu[size_t(r)] = r;
  const FoldDecision d = decide_folding(p.phase(), layout, g, Placement{gpu}, true);
  REQUIRE_FALSE(d.folded);
  REQUIRE(d.program_indices.size() == 48);
  REQUIRE_THAT(d.note, Catch::Contains("take other links"));
}

// DP2 x PP4 on one node of 8 GPUs (rank = dp + 2 pp): each stage's two ranks all-reduce their
// gradients across the DP replicas, then compute. Stage 0 computes 30 us more (an embedding) and
// stage 3 sends twice the bytes (a head's gradients); stages 1 and 2 are alike.
PhaseData stage_sync() {
  PhaseData p(8, "step");
  for (int32_t s = 0; s < 4; ++s) p.groups.push_back({"dp", {2 * s, 2 * s + 1}});
  for (int32_t r = 0; r < 8; ++r) {
    const int32_t stage = r / 2;
    ProgramBuilder b;
    const int32_t x = b.compute(stage == 0 ? 80e-6 : 50e-6);
    b.collective(CommPattern::AllReduce, stage, stage == 3 ? 16e6 : 8e6, 1, {x});
    p.set(r, b);
  }
  return p;
}

TEST_CASE("execute: folding alike pipeline stages keeps every stage's times", "[simulator][simgrid]") {
  // The DP all-reduce crosses DP replicas, so neither (dp, pp) pairs nor DP replicas fold. Each
  // stage's group stays in it and, on one NVSwitch node, the stages' flows use disjoint GPU
  // links: stage 2 is stage 1 translated, so stages 0, 1 and 3 run and stage 2's ranks read
  // stage 1's records (their stand-ins). Unfolded, stage 2's ops end when stage 1's do.
  const PhaseData p = stage_sync();
  const ClusterSpec node = make_cluster({.nodes = 1, .nics_per_node = 0});
  const RankLayout layout{.dp = 2, .pp = 4};
  const FoldDecision d = decide_folding(p.phase(), layout, build_cluster_graph(node), Placement{{0, 1, 2, 3, 4, 5, 6, 7}}, true);
  REQUIRE(d.folded);
  REQUIRE(d.program_indices == std::vector<int32_t>{0, 1, 2, 3, 6, 7});
  REQUIRE(d.stand_in == std::vector<int32_t>{0, 1, 2, 3, 2, 3, 6, 7});
  REQUIRE_THAT(d.note, Catch::Contains("pipeline stages 0-1, 3 of 4") && Catch::Contains("2 copy 1"));

  const Timeline full = simulate(make_input(node, layout, {p}));
  const Timeline folded = simulate(make_input(node, layout, {p}, {.interference = {}, .fold_dp_replicas = true}));
  REQUIRE(folded.phases[0].folded);
  REQUIRE(folded.phases[0].simulated_ranks == 6);
  REQUIRE(folded.phases[0].stand_in == d.stand_in);
  for (int32_t r = 0; r < 8; ++r)
    for (int32_t op = 0; op < 2; ++op) {
      const OpRecord& stand_in = record(folded, 0, folded.phases[0].stand_in[size_t(r)], op);
      REQUIRE(stand_in.end_s == record(full, 0, r, op).end_s);
    }
  REQUIRE(folded.phase_end_s[0] == full.phase_end_s[0]);
}

TEST_CASE("execute: stages differing in their groups or bytes are not folded together", "[simulator]") {
  const ClusterGraph g = build_cluster_graph(make_cluster({.nodes = 1, .nics_per_node = 0}));
  const RankLayout layout{.dp = 2, .pp = 4};
  const Placement pl{{0, 1, 2, 3, 4, 5, 6, 7}};
  // Every stage sends different bytes: no two alike, nothing folded, the note names a rank.
  PhaseData bytes = stage_sync();
  for (int32_t r = 0; r < 8; ++r) bytes.programs[size_t(r)].ops[1].message_bytes = 1e6 * (1 + r / 2);
  const FoldDecision all_differ = decide_folding(bytes.phase(), layout, g, pl, true);
  REQUIRE_FALSE(all_differ.folded);
  REQUIRE(all_differ.program_indices.size() == 8);
  REQUIRE(all_differ.stand_in == std::vector<int32_t>{0, 1, 2, 3, 4, 5, 6, 7});
  // Stage 2's group lists its ranks in the other order, so its ring neighbours are not stage 1's
  // translated: stage 2 is a kind of its own though its ops and bytes are stage 1's. Stage 3,
  // given stage 1's bytes, copies stage 1.
  PhaseData order = stage_sync();
  order.groups[2].ranks = {5, 4};
  for (int32_t r : {6, 7}) order.programs[size_t(r)].ops[1].message_bytes = 8e6;
  const FoldDecision reordered = decide_folding(order.phase(), layout, g, pl, true);
  REQUIRE(reordered.folded);
  REQUIRE(reordered.program_indices == std::vector<int32_t>{0, 1, 2, 3, 4, 5});
  REQUIRE(reordered.stand_in == std::vector<int32_t>{0, 1, 2, 3, 4, 5, 2, 3});
  REQUIRE_THAT(reordered.note, Catch::Contains("pipeline stages 0-2 of 4 (3 copy 1)"));
}

TEST_CASE("execute: a deadlock names the rank, the op and what it waits for", "[simulator][simgrid]") {
  // Group {0, 1, 2}: ranks 0 and 1 call the all-gather, rank 2 never does.
  PhaseData p(3);
  p.groups = {{"cp", {0, 1, 2}}};
  for (int32_t r = 0; r < 3; ++r) {
    ProgramBuilder b;
    b.compute(1e-6);
    if (r < 2) {
      b.collective(CommPattern::AllGather, 0, 1e6, 7);
      b.program.ops.back().label = "attn.fwd.ag_kv";
    }
    p.set(r, b);
  }
  const std::vector<PhaseData> phases{p};  // the input's views point into these
  const ExecuteInput in = make_input(make_cluster({.nodes = 1, .nics_per_node = 0}), {.cp = 3}, phases);
  REQUIRE_THROWS_WITH(simulate(in), Catch::Contains("deadlock in phase 'phase'") &&
                                        Catch::Contains("rank 0 op 1 'attn.fwd.ag_kv'") &&
                                        Catch::Contains("waits for ranks 2 (no such op) to arrive (2 of 3 arrived)"));
}

TEST_CASE("execute: malformed programs are rejected before running", "[simulator][simgrid]") {
  const ClusterSpec node = make_cluster({.nodes = 1, .nics_per_node = 0});
  // Rank 0 sends to rank 1, which posts no receive.
  PhaseData unmatched(2);
  ProgramBuilder s;
  s.sendrecv(1, -1, 1e6, 3);
  unmatched.set(0, s);
  REQUIRE_THROWS_WITH(simulate(make_input(node, {.cp = 2}, {unmatched})),
                      Catch::Contains("rank 0 op 0 'op0': no op on rank 1 receives from rank 0 with tag 3"));
  // A negative kernel time.
  PhaseData negative(1);
  ProgramBuilder n;
  n.compute(-1);
  negative.set(0, n);
  REQUIRE_THROWS_WITH(simulate(make_input(node, {}, {negative})), Catch::Contains("finite and >= 0"));
}

TEST_CASE("execute: the same input gives the same timeline", "[simulator][simgrid]") {
  const std::vector<PhaseData> phases{two_replicas()};
  const ExecuteInput in = make_input(make_cluster({.nodes = 1, .nics_per_node = 0}), {.cp = 4, .dp = 2}, phases,
                                     {.interference = {.compute_slowdown = {1.2, 1.2, 1.2}}});
  const std::vector<double> a = in_child([&] { return encode(execute_programs(in)); });
  const std::vector<double> b = in_child([&] { return encode(execute_programs(in)); });
  REQUIRE(a == b);
}

// Executor: streams, GPU sharing, compute/comm overlap, interference, phases.
#include <catch2/catch.hpp>

#include "nccl/comm_shape.hpp"
#include "tests/engine/execute_harness.hpp"

using namespace hcpsim;
using namespace hcpsim::test;

namespace {

const ClusterSpec kNode = make_cluster({.nodes = 1, .nics_per_node = 0});

// A transfer slowed by `beside` at every channel count and class when launched beside a running
// kernel, by `shared` when launched just before one (rules/interference.hpp); kernels not slowed.
InterferenceModel comm_slowdowns(double beside, double shared) {
  InterferenceModel m;
  for (auto& row : m.comm_slowdown) row.fill(beside);
  for (auto& row : m.comm_shared_slowdown) row.fill(shared);
  return m;
}

// Seconds op `op` of rank 0 takes when `p` runs alone on one node laid out as `layout`, under NCCL's
// model (its rate caps) and the interference `m`.
double rank0_op_s(const PhaseData& p, const RankLayout& layout, const InterferenceModel& m, int32_t op) {
  const std::vector<PhaseData> phases{p};  // outlives `in`, which views it
  ExecuteInput in = make_input(kNode, layout, phases, {.interference = m});
  in.nccl_node = nccl_node(kNode);
  const Timeline t = simulate(in);
  return record(t, 0, 0, op).end_s - record(t, 0, 0, op).start_s;
}

// A GEMM kernel (interference class 0); its seconds are given where it is added.
Op gemm_op() {
  Op gemm;
  gemm.kind = OpKind::Compute;
  gemm.compute_class = ComputeClass::Gemm;
  return gemm;
}

}  // namespace

TEST_CASE("execute: kernels on two streams of one GPU share it and keep stream order", "[simulator][simgrid]") {
  // A (compute) and B (cp) start together and each gets half the GPU: both end
  // at 2T. C follows A on the compute stream: [2T, 3T]. D on cp depends on C: [3T, 4T].
  constexpr double kT = 1e-3;
  PhaseData p(1);
  ProgramBuilder b;
  const int32_t a = b.compute(kT, Stream::Compute);
  const int32_t bb = b.compute(kT, Stream::Cp);
  const int32_t c = b.compute(kT, Stream::Compute);
  const int32_t d = b.compute(kT, Stream::Cp, {c});
  p.set(0, b);
  const Timeline t = simulate(make_input(kNode, {}, {p}));
  REQUIRE(record(t, 0, 0, a).end_s == Approx(2 * kT).epsilon(1e-9));
  REQUIRE(record(t, 0, 0, bb).end_s == Approx(2 * kT).epsilon(1e-9));
  REQUIRE(record(t, 0, 0, c).start_s == Approx(2 * kT).epsilon(1e-9));
  REQUIRE(record(t, 0, 0, c).end_s == Approx(3 * kT).epsilon(1e-9));
  REQUIRE(record(t, 0, 0, d).ready_s == Approx(3 * kT).epsilon(1e-9));
  REQUIRE(record(t, 0, 0, d).end_s == Approx(4 * kT).epsilon(1e-9));
  REQUIRE(t.activities == 4);
}

TEST_CASE("execute: a compute-bound ring hides its communication", "[simulator][simgrid]") {
  // TE's p2p ring on N = 4 ranks: at step k the compute stream issues the
  // transfer for step k+1 (comm_k depends on compute_{k-1}), then computes
  // step k, which needs comm_{k-1}'s data. With compute C >= one transfer
  // (L + B/bw), compute never waits: the last step ends at N x C exactly.
  constexpr int32_t kN = 4;
  constexpr double kBytes = 64e6;                 // 144.2 us on NVLink
  constexpr double kComputeS = 300e-6;
  PhaseData p(kN);
  for (int32_t r = 0; r < kN; ++r) {
    ProgramBuilder b;
    int32_t prev_compute = -1, prev_comm = -1;
    for (int32_t k = 0; k < kN; ++k) {
      int32_t comm = -1;
      if (k < kN - 1) {
        std::vector<int32_t> issued_after = prev_compute >= 0 ? std::vector<int32_t>{prev_compute} : std::vector<int32_t>{};
        comm = b.sendrecv((r + 1) % kN, (r + kN - 1) % kN, kBytes, k + 1, issued_after);
      }
      std::vector<int32_t> needs = prev_comm >= 0 ? std::vector<int32_t>{prev_comm} : std::vector<int32_t>{};
      prev_compute = b.compute(kComputeS, Stream::Compute, needs);
      prev_comm = comm;
    }
    p.set(r, b);
  }
  const Timeline t = simulate(make_input(kNode, {.cp = kN}, {p}));
  REQUIRE(t.phase_end_s[0] == Approx(kN * kComputeS).epsilon(1e-9));
  // Exposed comm = time compute waited for data = 0: every compute starts when its predecessor ends.
  for (const OpRecord& o : t.ops) REQUIRE(o.start_s >= o.ready_s);
}

TEST_CASE("execute: a kernel that starts beside NCCL traffic is slowed by its class's interference factor",
          "[simulator][simgrid]") {
  // Rank 0 issues a 64 MB send (t_c = 144.2 us on NVLink), then a C = 100 us
  // kernel on another stream: it starts while the comm is in flight, so its
  // work is 1.5 C. A second kernel starts when the comm ends (no comm in
  // flight: work C) and shares the GPU with the first from t_c on:
  //   first ends at  1.5C + (1.5C - t_c)  (its last 1.5C - t_c of work at half speed)
  //   second ends at 2.5C                 (the GPU was never idle: total work 1.5C + C)
  constexpr double kComputeS = 100e-6;
  PhaseData p(2);
  ProgramBuilder r0, r1;
  const int32_t comm = r0.sendrecv(1, -1, 64e6, 1);
  const int32_t beside = r0.compute(kComputeS, Stream::Compute);
  const int32_t after = r0.compute(kComputeS, Stream::Cp, {comm});
  r1.sendrecv(-1, 0, 64e6, 1);
  p.set(0, r0);
  p.set(1, r1);
  // The test's kernels are elementwise (class 2): only that class's factor applies.
  const Timeline t = simulate(make_input(kNode, {.cp = 2}, {p}, {.interference = {.compute_slowdown = {3.0, 3.0, 1.5}}}));
  const double comm_end_s = record(t, 0, 0, comm).end_s;
  REQUIRE(comm_end_s == Approx(kNvlinkLatencyS + 64e6 / kNvlinkBytesPerS).epsilon(1e-9));
  REQUIRE(record(t, 0, 0, beside).end_s == Approx(1.5 * kComputeS + (1.5 * kComputeS - comm_end_s)).epsilon(1e-9));
  REQUIRE(record(t, 0, 0, after).end_s == Approx(2.5 * kComputeS).epsilon(1e-9));
}

TEST_CASE("execute: phases run one after another behind a barrier", "[simulator][simgrid]") {
  // Phase 0: rank 0 computes 1 ms, rank 1 2 ms. Phase 1 starts when both are
  // done (2 ms); both compute 1 ms there: it ends at 3 ms.
  PhaseData first(2, "first"), second(2, "second");
  for (int32_t r = 0; r < 2; ++r) {
    ProgramBuilder a, b;
    a.compute(1e-3 * (r + 1));
    b.compute(1e-3);
    first.set(r, a);
    second.set(r, b);
  }
  const Timeline t = simulate(make_input(kNode, {.cp = 2}, {first, second}));
  REQUIRE(t.phase_start_s[0] == 0);
  REQUIRE(t.phase_start_s[1] == Approx(2e-3));
  REQUIRE(t.phase_end_s[0] == Approx(2e-3));
  REQUIRE(t.phase_end_s[1] == Approx(3e-3));
  REQUIRE(record(t, 1, 0, 0).start_s == Approx(2e-3));
  REQUIRE(record(t, 1, 0, 0).end_s == Approx(3e-3));
  REQUIRE(t.ops.size() == 4);
}

TEST_CASE("execute: a transfer that starts beside a running kernel moves at its rate cap / the comm slowdown",
          "[simulator][simgrid]") {
  // Under the NCCL model (nccl_node set) a send of B bytes to a rank of the same node runs at
  // NCCL's p2p rate cap R (NVLink faster than R): B / R plus its route latency L. With a kernel
  // running beside it and a comm_slowdown of 2 at every channel count, it runs at R / 2: the
  // transfer part doubles, (t2 - L) = 2 (t1 - L). Issued just before the kernel instead (its CTAs
  // resident first), it takes the shared slowdown 1.5: (t3 - L) = 1.5 (t1 - L). The kernel
  // (10 ms, GEMM) outlasts the send.
  // 256 KiB: a few p2p channels, whose rate is below the NVLink's.
  constexpr double kBytes = 256 * 1024;
  enum class Kernel { None, Before, After };
  auto run = [&](Kernel kernel) {
    PhaseData p(2);
    ProgramBuilder r0, r1;
    const Op gemm = gemm_op();
    if (kernel == Kernel::Before) r0.add(gemm, 10e-3);
    const int32_t send = r0.sendrecv(1, -1, kBytes, 1);
    if (kernel == Kernel::After) r0.add(gemm, 10e-3);
    r1.sendrecv(-1, 0, kBytes, 1);
    p.set(0, r0);
    p.set(1, r1);
    return rank0_op_s(p, {.cp = 2}, comm_slowdowns(2, 1.5), send);
  };
  const double alone_s = run(Kernel::None), beside_s = run(Kernel::Before), shared_s = run(Kernel::After);
  REQUIRE(alone_s > kNvlinkLatencyS + kBytes / kNvlinkBytesPerS);  // the cap, not the link, binds
  REQUIRE(beside_s - kNvlinkLatencyS == Approx(2 * (alone_s - kNvlinkLatencyS)).epsilon(1e-6));
  REQUIRE(shared_s - kNvlinkLatencyS == Approx(1.5 * (alone_s - kNvlinkLatencyS)).epsilon(1e-6));
}

TEST_CASE("execute: a userbuffers transfer moves at the link's rate, beside a kernel too", "[simulator][simgrid]") {
  // TE's ring exchange sends by the copy engines (Op::userbuffers): no NCCL p2p cap and no comm
  // slowdown. The same 256 KiB send as above, alone or issued while a GEMM runs, so ends at the
  // route latency + bytes / NVLink bandwidth, where the NCCL send (above) is held to its cap.
  // A userbuffers reduce-scatter of the ranks' 8 MiB beside a running GEMM takes what it takes alone.
  constexpr double kBytes = 256 * 1024;
  auto send_s = [&](bool beside_kernel) {
    PhaseData p(2);
    ProgramBuilder r0, r1;
    const Op gemm = gemm_op();
    if (beside_kernel) r0.add(gemm, 10e-3);
    const int32_t send = r0.sendrecv(1, -1, kBytes, 1);
    r0.program.ops[static_cast<size_t>(send)].userbuffers = true;
    const int32_t recv = r1.sendrecv(-1, 0, kBytes, 1);
    r1.program.ops[static_cast<size_t>(recv)].userbuffers = true;
    p.set(0, r0);
    p.set(1, r1);
    return rank0_op_s(p, {.cp = 2}, comm_slowdowns(2, 1), send);
  };
  REQUIRE(send_s(false) == Approx(kNvlinkLatencyS + kBytes / kNvlinkBytesPerS).epsilon(1e-9));
  REQUIRE(send_s(true) == Approx(kNvlinkLatencyS + kBytes / kNvlinkBytesPerS).epsilon(1e-9));

  auto reduce_scatter_s = [&](bool userbuffers, bool beside_kernel) {
    PhaseData p(2);
    p.groups.push_back({"tp", {0, 1}});
    for (int32_t r = 0; r < 2; ++r) {
      ProgramBuilder b;
      const Op gemm = gemm_op();
      if (beside_kernel) b.add(gemm, 10e-3);
      const int32_t rs = b.collective(CommPattern::ReduceScatter, 0, 8.0 * 1024 * 1024, 1, {}, Stream::NcclTp);
      b.program.ops[static_cast<size_t>(rs)].userbuffers = userbuffers;
      p.set(r, b);
    }
    const int32_t op = beside_kernel ? 1 : 0;
    return rank0_op_s(p, {.tp = 2}, comm_slowdowns(2, 1), op);
  };
  const double nccl_alone_s = reduce_scatter_s(false, false);
  REQUIRE(reduce_scatter_s(false, true) > 1.5 * nccl_alone_s);  // NCCL's CTAs wait for the GEMM's SMs
  REQUIRE(reduce_scatter_s(true, true) == Approx(reduce_scatter_s(true, false)).epsilon(1e-9));
  REQUIRE(reduce_scatter_s(true, false) == Approx(nccl_alone_s).epsilon(1e-9));  // same plan, same links
}

TEST_CASE("execute: a collective keeps the slowdown it started with for all its stages", "[simulator][simgrid]") {
  // An 8-rank ring all-gather (several stages) on NCCL's plan, alone, with a GEMM already running
  // (comm_slowdown 2 from its launch) and with the GEMM issued right after it (its CTAs resident
  // first: comm_shared_slowdown 1.5, kept while the GEMM runs on). NCCL's kernel keeps its CTAs
  // for every stage, so the factor decided at launch holds for all of them: with S the time its
  // rate caps give the stages and L what latency adds (unscaled), alone = S + L, before = 2 S + L,
  // after = 1.5 S + L, and (before - alone) = 2 (after - alone). The 10 ms GEMM outlasts it.
  enum class Kernel { None, Before, After };
  auto run = [&](Kernel kernel) {
    PhaseData p(8);
    p.groups.push_back({"tp", {0, 1, 2, 3, 4, 5, 6, 7}});
    int32_t ag = -1;
    for (int32_t r = 0; r < 8; ++r) {
      ProgramBuilder b;
      if (kernel == Kernel::Before) b.add(gemm_op(), 10e-3);
      ag = b.collective(CommPattern::AllGather, 0, 1024.0 * 1024, 1, {}, Stream::NcclTp);
      if (kernel == Kernel::After) b.add(gemm_op(), 10e-3);
      p.set(r, b);
    }
    return rank0_op_s(p, {.tp = 8}, comm_slowdowns(2, 1.5), ag);
  };
  const double alone_s = run(Kernel::None), before_s = run(Kernel::Before), after_s = run(Kernel::After);
  REQUIRE(before_s > alone_s);
  REQUIRE(before_s - alone_s == Approx(2 * (after_s - alone_s)).epsilon(1e-6));
}

TEST_CASE("execute: a kernel started during a collective slows its later stages by the shared factor",
          "[simulator][simgrid]") {
  // A ring all-gather of 7 ranks (0, 2..7) launched with no kernel running (factor 1). On rank 0
  // a 10 ms GEMM starts partway through it, once rank 1's message (sent after rank 1's 0.1 ms
  // kernel) has arrived. NCCL's CTAs were resident first: the stages after that run at the shared
  // slowdown (1.5), the ones before at full speed, so the call takes longer than alone and less
  // than 1.5 x alone. (Without the GEMM, rank 1's message changes nothing on the ring's links.)
  constexpr double kAgBytes = 32.0 * 1024 * 1024;
  auto run = [&](bool late_gemm) {
    PhaseData p(8);
    p.groups.push_back({"ring7", {0, 2, 3, 4, 5, 6, 7}});
    int32_t ag = -1;
    for (int32_t r = 0; r < 8; ++r) {
      ProgramBuilder b;
      if (r == 1) {
        const int32_t k = b.compute(0.1e-3, Stream::Cp);
        b.sendrecv(0, -1, 1024, 7, {k});
      } else {
        const int32_t id = b.collective(CommPattern::AllGather, 0, kAgBytes, 1, {}, Stream::NcclTp);
        if (r == 0) {
          ag = id;
          const int32_t got = b.sendrecv(-1, 1, 1024, 7);
          if (late_gemm) b.add([&] { Op g = gemm_op(); g.deps = {got}; return g; }(), 10e-3);
        }
      }
      p.set(r, b);
    }
    return rank0_op_s(p, {.tp = 8}, comm_slowdowns(2, 1.5), ag);
  };
  const double alone_s = run(false), late_s = run(true);
  CHECK(alone_s > 0.3e-3);  // the GEMM starts (at about 0.1 ms) well before the call ends
  CHECK(late_s > alone_s * 1.01);
  CHECK(late_s < alone_s * 1.5);
}

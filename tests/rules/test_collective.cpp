// The collective arithmetic every side shares (rules/collective.hpp), against values derived
// by hand from NCCL's ring and nccl-tests' conventions.
#include <catch2/catch.hpp>

#include "rules/collective.hpp"

using namespace hcpsim;
using namespace hcpsim::collective;

TEST_CASE("collective: nccl-tests bus bandwidth factors", "[rules]") {
  // doc/PERFORMANCE.md of nccl-tests: all-reduce 2(n-1)/n, all-gather, reduce-scatter and
  // all-to-all (n-1)/n, sendrecv 1; a group of one moves nothing.
  CHECK(bus_bandwidth_factor(CommPattern::AllReduce, 8) == 2.0 * 7 / 8);
  CHECK(bus_bandwidth_factor(CommPattern::AllGather, 8) == 7.0 / 8);
  CHECK(bus_bandwidth_factor(CommPattern::ReduceScatter, 4) == 0.75);
  CHECK(bus_bandwidth_factor(CommPattern::AllToAll, 2) == 0.5);
  CHECK(bus_bandwidth_factor(CommPattern::SendRecv, 8) == 1.0);
  CHECK(bus_bandwidth_factor(CommPattern::AllReduce, 1) == 0.0);
}

TEST_CASE("collective: ring steps and bytes per step", "[rules]") {
  // Ring all-gather of 8 shards of 1 MB: 7 steps of 1 MB each (every rank forwards the
  // shard it received last). All-reduce of a 8 MB buffer: reduce-scatter then all-gather
  // of 1 MB shards, 2 x 7 = 14 steps. All-to-all: one round, 8 MB / 8 to each peer.
  CHECK(transfer_steps(CommPattern::AllGather, 8) == 7);
  CHECK(step_bytes(CommPattern::AllGather, 1e6, 8) == 1e6);
  CHECK(transfer_steps(CommPattern::ReduceScatter, 8) == 7);
  CHECK(transfer_steps(CommPattern::AllReduce, 8) == 14);
  CHECK(step_bytes(CommPattern::AllReduce, 8e6, 8) == 1e6);
  CHECK(transfer_steps(CommPattern::AllToAll, 8) == 1);
  CHECK(step_bytes(CommPattern::AllToAll, 8e6, 8) == 1e6);
  CHECK(transfer_steps(CommPattern::SendRecv, 2) == 1);
  CHECK(transfer_steps(CommPattern::AllReduce, 1) == 0);
}

TEST_CASE("collective: bytes sent per rank = nccl-tests bytes x bus factor = steps x step bytes", "[rules]") {
  // All-gather, shard m = 3 MB, n = 4: the output (nccl-tests size) is 12 MB, each rank sends
  // the 3 shards it does not own: 9 MB = 12 MB x 3/4 = 3 steps x 3 MB.
  CHECK(nccl_tests_bytes(CommPattern::AllGather, 3e6, 4) == 12e6);
  CHECK(bytes_sent_per_rank(CommPattern::AllGather, 3e6, 4) == 9e6);
  // All-reduce of B = 12 MB over 4: 2 x 3 steps of 3 MB = 18 MB = 12 MB x 2 x 3/4.
  CHECK(bytes_sent_per_rank(CommPattern::AllReduce, 12e6, 4) == 18e6);
  // All-to-all of a 12 MB send buffer over 4: 3 MB to each of 3 peers = 9 MB.
  CHECK(bytes_sent_per_rank(CommPattern::AllToAll, 12e6, 4) == 9e6);
  for (CommPattern p : kCommPatterns)
    for (int64_t n : {2, 3, 8, 64}) {
      const double m = 6e6;
      const double by_steps = p == CommPattern::AllToAll ? double(n - 1) * step_bytes(p, m, n)
                                                         : double(transfer_steps(p, n)) * step_bytes(p, m, n);
      CHECK(bytes_sent_per_rank(p, m, n) == Approx(by_steps));
    }
}

TEST_CASE("collective: hcpcal's buffers of an nccl-tests size", "[rules]") {
  // 1 MiB all-gather over 8: each rank sends its 128 KiB shard and receives the whole 1 MiB;
  // a reduce-scatter the reverse.
  CHECK(send_buffer_bytes(CommPattern::AllGather, 1 << 20, 8) == 131072);
  CHECK(recv_buffer_bytes(CommPattern::AllGather, 1 << 20, 8) == 1 << 20);
  CHECK(send_buffer_bytes(CommPattern::ReduceScatter, 1 << 20, 8) == 1 << 20);
  CHECK(recv_buffer_bytes(CommPattern::ReduceScatter, 1 << 20, 8) == 131072);
  CHECK(send_buffer_bytes(CommPattern::AllReduce, 1 << 20, 8) == 1 << 20);
}

TEST_CASE("collective: names read back", "[rules]") {
  for (CommPattern p : kCommPatterns) {
    CommPattern q = CommPattern::SendRecv;
    REQUIRE(comm_pattern_named(to_string(p), q));
    CHECK(q == p);
  }
  CommPattern q;
  CHECK_FALSE(comm_pattern_named("allreduce", q));
  CHECK(std::string(to_string(CollectiveLayout::CrossNodeSameRail)) == "cross-node-same-rail");
}

// NCCL's topology search in closed form (nccl/search.hpp) against the channel counts NCCL
// itself logs on these machines (docs/nccl.md cites each log), with the arithmetic beside.
#include <catch2/catch.hpp>

#include "nccl/search.hpp"
#include "tests/nccl/nccl_fixtures.hpp"

using namespace hcpsim;
using hcpsim::test::shape_on;

TEST_CASE("nccl: NVLink as NCCL counts it", "[nccl]") {
  // 18 NVLink4 links x 20.6 GB/s (topo.h SM90_NVLINK_BW) = 370.8; the preset's 450 GB/s line
  // rate is 18 x 25. H800: 8 links x 20.6 = 164.8. A100: 12 x 20 = 240. B200: 18 x 40.1 = 721.8.
  CHECK(shape_on("dgx-h100", 1, 8).node.nvlink_GBps == Approx(370.8));
  CHECK(shape_on("hgx-h800", 1, 8).node.nvlink_GBps == Approx(164.8));
  CHECK(shape_on("dgx-a100", 1, 8).node.nvlink_GBps == Approx(240.0));
  CHECK(shape_on("dgx-b200", 1, 8).node.nvlink_GBps == Approx(721.8));
  CHECK(shape_on("dgx-h100", 1, 8).node.nvlink_sharp);
  CHECK_FALSE(shape_on("dgx-a100", 1, 8).node.nvlink_sharp);  // NVLS needs Hopper
  CHECK_FALSE(shape_on("l40s-pcie", 1, 8).node.nvlink_sharp);
}

TEST_CASE("nccl: one DGX H100 node: 24 ring channels, 16 NVLS CTAs, 32 p2p channels per peer", "[nccl]") {
  // sm90 intra ladder 60, 50, 40, ...: 6 x 60 = 360 <= 370.8 is the best c x s (7 x 50 = 350,
  // 9 x 40 = 360 ties at a lower speed); 60 >= 50 duplicates to 12 x 30; runtime 2 x 12 = 24.
  // NVLS: 8 heads, 370.8 / 9 = 41.2 -> 40 per head, inter min(2 x 40, 60) = 60; 16 CTAs.
  // p2p: pow2Up(24) = 32 channels; per peer min(pow2Up(2 x 18 links) = 64, 32) = 32.
  // NCCL's log on such a node: "24 coll channels, 0 collnet channels, 16 nvls channels,
  // 32 p2p channels, 32 p2p channels per peer" (NVIDIA/nccl#1259).
  const NcclTopology t = nccl_topology(shape_on("dgx-h100", 1, 8), {});
  CHECK(t.ring.channels == 12);
  CHECK(t.ring.bw_intra_GBps == 30);
  CHECK(t.coll_channels == 24);
  CHECK(t.nvls.channels == 8);
  CHECK(t.nvls.bw_intra_GBps == 40);
  CHECK(t.nvls.bw_inter_GBps == 60);
  CHECK(t.nvls_ctas == 16);
  CHECK(t.p2p_channels == 32);
  CHECK(t.p2p_channels_per_peer == 32);
  CHECK(t.rails == 0);
}

TEST_CASE("nccl: NVLS CTAs: 16 on Hopper, on Blackwell 24 in one NVLink domain and 32 across", "[nccl]") {
  // transport/nvls.cc: NVLS_NCHANNELS_SM90 16, NVLS_NCHANNELS_SM100_NVL 24 (one node or MNNVL
  // clique), NVLS_NCHANNELS_SM100 32 (ranks beyond it); NCCL_MAX_CTAS / NCCL_MIN_CTAS clamp it.
  CHECK(nccl_topology(shape_on("dgx-b200", 1, 8), {}).nvls_ctas == 24);
  CHECK(nccl_topology(shape_on("dgx-b200", 2, 8), {}).nvls_ctas == 32);
  CHECK(nccl_topology(shape_on("gb200-nvl72", 1, 72), {}).nvls_ctas == 24);
  CHECK(nccl_topology(shape_on("gb200-nvl72", 2, 72), {}).nvls_ctas == 32);
  NcclSettings capped;
  capped.max_ctas = 20;
  CHECK(nccl_topology(shape_on("dgx-b200", 2, 8), capped).nvls_ctas == 20);
}

TEST_CASE("nccl: NVLS-tree leaves a node through one NIC per NVLS head", "[nccl]") {
  // Across nodes NCCL's NVLS search takes one head per NIC the node's ranks reach, up to 32
  // (search.cc); each head's tree traffic leaves through its own NIC. One node: no NIC at all.
  CHECK(nccl_topology(shape_on("dgx-h100", 1, 8), {}).nvls_rails == 0);
  CHECK(nccl_topology(shape_on("dgx-h100", 2, 8), {}).nvls_rails == 8);      // min(8 ranks, 8 NICs)
  CHECK(nccl_topology(shape_on("dgx-h100", 2, 4), {}).nvls_rails == 4);      // 4 ranks a node, each its NIC
  CHECK(nccl_topology(shape_on("dgx-h100", 2, 8, 2), {}).nvls_rails == 2);   // 8 ranks sharing 2 NICs
  CHECK(nccl_topology(shape_on("gb200-nvl72", 2, 72, 16), {}).nvls_rails == 16);  // 72 ranks, 16 NICs
  CHECK(nccl_topology(shape_on("gb200-nvl72", 2, 72, 64), {}).nvls_rails == 32);  // at most 32 heads
}

TEST_CASE("nccl: DGX H100 across nodes: one channel per NIC, 16 runtime channels", "[nccl]") {
  // Inter ladder <= min(NIC 50, PCIe Gen5 48) = 48; 8 NICs -> 8 channels; 48 < 50 with 8 > 4
  // channels is not duplicated; runtime 2 x 8 = 16 ("Channel 00/16", NVIDIA/nccl#1453).
  // p2p: pow2Up(16) = 16; per peer min(36, 2 per net peer) = 2; with 64 ranks 2 x 64 > 4 x 16
  // halves it to 1.
  const NcclTopology t = nccl_topology(shape_on("dgx-h100", 2, 8), {});
  CHECK(t.ring.channels == 8);
  CHECK(t.ring.bw_inter_GBps == 48);
  CHECK(t.coll_channels == 16);
  CHECK(t.rails == 8);
  CHECK(t.p2p_channels == 16);
  CHECK(t.p2p_channels_per_peer == 2);
  CHECK(nccl_topology(shape_on("dgx-h100", 8, 8), {}).p2p_channels_per_peer == 1);
  // NCCL_NCHANNELS_PER_NET_PEER=4 raises it.
  NcclSettings four;
  four.net_channels_per_peer = 4;
  CHECK(nccl_topology(shape_on("dgx-h100", 2, 8), four).p2p_channels_per_peer == 4);
}

TEST_CASE("nccl: across nodes the ring's channels fit the GPUs' own links", "[nccl]") {
  // search.cc's accounting (followPath): a channel is a send over NVLink from every rank of the
  // node but the one it leaves from, c - floor(c / G) on the busiest link; a NIC starts
  // floor(NIC / s) channels. The speeds below are NCCL 2.28.9's own search, run on these nodes'
  // topologies, and the same by hand.
  // HGX H800 x 2 (164.8 GB/s NVLink, 8 NICs of 50, PCIe 48), sm90 inter ladder from 48: 48 -> 3
  // channels (144), 45 -> 3, 42 -> 3, 40 -> 4 (160), 30 -> 5, 24 -> 6, 22 -> 8 - 1 = 7 <= 7: 8
  // (176 >= 164.8: stop). 22 < 25 is not duplicated; 24 with 8 channels needs 7 <= 6: no. Runtime
  // 16. (The ring took 8 x 48 = 384 GB/s through 164.8 GB/s of NVLink.)
  const NcclTopology h800 = nccl_topology(shape_on("hgx-h800", 2, 8), {});
  CHECK(h800.ring.channels == 8);
  CHECK(h800.ring.bw_inter_GBps == 22);
  CHECK(h800.coll_channels == 16);
  CHECK(h800.rails == 8);
  // Two GB200 NVL72 racks (NCCL merges an MNNVL clique into one node: 72 GPUs, 72 NICs; 721.8 GB/s
  // NVLink), sm100 ladder from 48 (the PCIe path): 48 -> 15 (720), 45.1 -> 16 (721.6), 42 -> 17
  // (714), 40 -> 18 (720), 30 -> 24, 24 -> 30 (720), then 22 / 45.1 < 0.49: 16 x 45.1, not
  // duplicated (45.1 < 50, 16 > 4), 48 does not fit 16; runtime 32 (it was 32 x 48, runtime 64).
  const NcclTopology racks = nccl_topology(shape_on("gb200-nvl72", 2, 72), {});
  CHECK(racks.ring.channels == 16);
  CHECK(racks.ring.bw_inter_GBps == Approx(45.1));
  CHECK(racks.coll_channels == 32);
  CHECK(racks.rails == 16);
  // L40S nodes on PCIe Gen4 (24 in NCCL's units), 4 NICs of 25: every channel enters and leaves
  // each GPU over its link, so 1 x 24 fills it (stop); 24 < 25 is not duplicated; runtime 2
  // (it was 4 x 24, runtime 8). NCCL on an Intel host reads 1 x 20 (its PCIe-to-CPU hop costs
  // 1.2x, which hcpsim does not model).
  const NcclTopology l40s = nccl_topology(shape_on("l40s-pcie", 2, 8), {});
  CHECK(l40s.ring.channels == 1);
  CHECK(l40s.ring.bw_inter_GBps == 24);
  CHECK(l40s.coll_channels == 2);
}

TEST_CASE("nccl: fewer NICs, fewer rails", "[nccl]") {
  // One NIC: 1 x 48 duplicates (1 <= 4 channels) to 2 x 24; runtime 4; NCCL's ring busbw model
  // stays 48. Four NICs (one per two GPUs): 4 x 48 -> 8 x 24, busbw 192.
  const NcclTopology one = nccl_topology(shape_on("dgx-h100", 2, 8, 1), {});
  CHECK(one.rails == 1);
  CHECK(one.ring.channels == 2);
  CHECK(one.ring.bw_inter_GBps == 24);
  CHECK(one.coll_channels == 4);
  const NcclTopology four = nccl_topology(shape_on("dgx-h100", 2, 8, 4), {});
  CHECK(four.rails == 4);
  CHECK(four.ring.channels * four.ring.bw_inter_GBps == Approx(192));
  // A communicator with one rank per node reaches that rank's NIC only (PXN needs another rank).
  CHECK(nccl_topology(shape_on("dgx-h100", 4, 1), {}).rails == 1);
}

TEST_CASE("nccl: H800 and A100 nodes", "[nccl]") {
  // H800, 164.8 GB/s: 40 x 4 = 160 beats 60 x 2, 50 x 3, 30 x 5; 40 < 50 with 4 (not > 4)
  // channels duplicates to 8 x 20; runtime 16; p2p per peer pow2Up(2 x 8) = 16
  // ("16 coll channels ... 16 p2p channels per peer", NVIDIA/nccl#892).
  const NcclTopology h800 = nccl_topology(shape_on("hgx-h800", 1, 8), {});
  CHECK(h800.ring.channels == 8);
  CHECK(h800.ring.bw_intra_GBps == 20);
  CHECK(h800.coll_channels == 16);
  CHECK(h800.p2p_channels_per_peer == 16);
  // A100, 240 GB/s, default ladder 40: 6 x 40 = 240; sm80 is not > 80, so 12 x 20; runtime 24
  // ("Channel 19/24", NVIDIA/nccl-tests#100). Across nodes, 200 Gb/s NICs (25 GB/s): ladder
  // <= min(25, Gen4 24) = 24, 8 x 24 = 192 GB/s, the all-reduce busbw NCCL's maintainers
  // measure on DGX A100 (NVIDIA/nccl#812).
  const NcclTopology a100 = nccl_topology(shape_on("dgx-a100", 1, 8), {});
  CHECK(a100.ring.channels == 12);
  CHECK(a100.coll_channels == 24);
  const NcclTopology a100x2 = nccl_topology(shape_on("dgx-a100", 2, 8), {});
  CHECK(a100x2.ring.channels * a100x2.ring.bw_inter_GBps == Approx(192));
}

TEST_CASE("nccl: PCIe nodes and the channel limits", "[nccl]") {
  // L40S over PCIe Gen4 (24 in NCCL's units): 12 x 2 = 24 beats 20 x 1; 12 < 25: no
  // duplication; runtime 4; no NVLS.
  const NcclTopology pcie = nccl_topology(shape_on("l40s-pcie", 1, 8), {});
  CHECK(pcie.ring.channels * pcie.ring.bw_intra_GBps == Approx(24));
  CHECK(pcie.coll_channels == 4);
  CHECK(pcie.nvls.channels == 0);
  // NCCL_MAX_CTAS / NCCL_MIN_CTAS clamp the runtime channels; NCCL_NVLS_ENABLE=0 removes NVLS.
  NcclSettings s;
  s.max_ctas = 8;
  s.nvls = false;
  const NcclTopology clamped = nccl_topology(shape_on("dgx-h100", 1, 8), s);
  CHECK(clamped.coll_channels == 8);
  CHECK(clamped.nvls.channels == 0);
}

// hcpcal's multi-rank logic without GPUs or MPI: launcher detection from the environment,
// device choice, rank placement from hostnames, the group layouts, the NCCL suite's sizes and
// bus bandwidth factors, and the merge of per-rank timings. Expected values are derived by
// hand beside each check.
#include <catch2/catch.hpp>
#include <map>
#include <set>
#include <stdexcept>
#include <string>

#include "calibrate/hcpcal/launch.h"

namespace {

using namespace hcpcal;

EnvLookup env_of(const std::map<std::string, std::string>& vars) {
  return [vars](const char* name) -> const char* {
    const auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

// 16 processes, 8 per host, hosts named as a block placement puts them.
std::vector<std::string> two_hosts_of_eight() {
  std::vector<std::string> h;
  for (int p = 0; p < 16; ++p) h.push_back(p < 8 ? "gpu-a" : "gpu-b");
  return h;
}

}  // namespace

TEST_CASE("hcpcal launch: no launcher variables is one process", "[calibrate]") {
  const LaunchInfo l = detect_launch(env_of({}), 1);
  CHECK(l.launcher == Launcher::kSingle);
  CHECK(l.processes == 1);
  CHECK(l.ranks() == 1);
  // -g 4: one process drives ranks 0..3.
  const LaunchInfo g = detect_launch(env_of({}), 4);
  CHECK(g.ranks() == 4);
  CHECK(g.first_rank() == 0);
  CHECK_THROWS_AS(detect_launch(env_of({}), 0), std::invalid_argument);
}

TEST_CASE("hcpcal launch: a 16-rank OpenMPI job, 8 per node", "[calibrate]") {
  // mpirun -np 16 --map-by ppr:8:node: world rank 11 is the 4th process (local rank 3) of node 1.
  const LaunchInfo l = detect_launch(env_of({{"OMPI_COMM_WORLD_SIZE", "16"},
                                             {"OMPI_COMM_WORLD_RANK", "11"},
                                             {"OMPI_COMM_WORLD_LOCAL_RANK", "3"},
                                             {"OMPI_COMM_WORLD_LOCAL_SIZE", "8"},
                                             {"SLURM_PROCID", "0"},  // OpenMPI's own variables win
                                             {"SLURM_NTASKS", "1"}}),
                                     1);
  CHECK(l.launcher == Launcher::kOpenMpi);
  CHECK(std::string(launcher_name(l.launcher)) == "openmpi");
  CHECK(l.processes == 16);
  CHECK(l.process == 11);
  CHECK(l.local_process == 3);
  CHECK(l.local_processes == 8);
  CHECK(l.first_rank() == 11);
  // Every GPU of the node visible: device = local rank 3; only its own visible: device 0.
  CHECK(device_for_slot(l, 0, 8) == 3);
  CHECK(device_for_slot(l, 0, 1) == 0);
  CHECK_THROWS_AS(device_for_slot(l, 0, 0), std::invalid_argument);
  // The node placement from the 16 hostnames: rank 11 on node 1 (gpu-b), rail 11 - 8 = 3.
  const Placement p = place_ranks(two_hosts_of_eight(), 1);
  CHECK(p.node_count() == 2);
  CHECK(p.gpus_per_node == 8);
  CHECK(p.uniform);
  CHECK(p.ranks[11].node == 1);
  CHECK(p.ranks[11].local_gpu == 3);
  CHECK(p.nodes[1] == "gpu-b");
}

TEST_CASE("hcpcal launch: PMI (MPICH) and srun variables", "[calibrate]") {
  const LaunchInfo m = detect_launch(
      env_of({{"PMI_SIZE", "4"}, {"PMI_RANK", "2"}, {"MPI_LOCALRANKID", "0"}, {"MPI_LOCALNRANKS", "2"}}), 2);
  CHECK(m.launcher == Launcher::kPmi);
  CHECK(m.ranks() == 8);        // 4 processes x -g 2
  CHECK(m.first_rank() == 4);   // process 2 drives ranks 4 and 5
  CHECK(device_for_slot(m, 1, 4) == 1);  // local process 0, slot 1 of a node's 4 GPUs
  // srun -N 2 --ntasks-per-node 4: SLURM_TASKS_PER_NODE "4(x2)" gives 4 local processes.
  const LaunchInfo s = detect_launch(
      env_of({{"SLURM_NTASKS", "8"}, {"SLURM_PROCID", "6"}, {"SLURM_LOCALID", "2"}, {"SLURM_TASKS_PER_NODE", "4(x2)"}}),
      1);
  CHECK(s.launcher == Launcher::kSlurm);
  CHECK(s.process == 6);
  CHECK(s.local_process == 2);
  CHECK(s.local_processes == 4);
  CHECK(device_for_slot(s, 0, 4) == 2);
}

TEST_CASE("hcpcal launch: a broken launcher variable names itself", "[calibrate]") {
  auto message = [](std::map<std::string, std::string> vars) {
    try {
      detect_launch(env_of(vars), 1);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(message({{"OMPI_COMM_WORLD_SIZE", "4"}, {"OMPI_COMM_WORLD_RANK", "4"}}).find("OMPI_COMM_WORLD_RANK='4'") !=
        std::string::npos);
  CHECK(message({{"PMI_SIZE", "x"}, {"PMI_RANK", "0"}}).find("PMI_SIZE='x' is not an integer") != std::string::npos);
  CHECK(message({{"OMPI_COMM_WORLD_SIZE", "4"}}).find("OMPI_COMM_WORLD_RANK is not") != std::string::npos);
}

TEST_CASE("hcpcal launch: group layouts of 2 nodes x 8 GPUs", "[calibrate]") {
  const Placement p = place_ranks(two_hosts_of_eight(), 1);
  std::vector<std::string> why;
  const auto layouts = group_layouts(p, &why);
  REQUIRE(layouts.size() == 3);
  CHECK(why.empty());
  // intra-node: the 8 ranks of each node.
  CHECK(layouts[0].layout == CollectiveLayout::IntraNode);
  CHECK(layouts[0].group_size == 8);
  CHECK(group_members(layouts[0], 1) == std::vector<int>{8, 9, 10, 11, 12, 13, 14, 15});
  // same rail: local GPU g of both nodes, ranks g and 8 + g.
  CHECK(std::string(to_string(layouts[1].layout)) == "cross-node-same-rail");
  CHECK(group_members(layouts[1], 5) == std::vector<int>{5, 13});
  // cross rail: group c = node 0 rail c and node 1 rail (c + 1) mod 8, i.e. ranks c and
  // 8 + (c + 1) mod 8: c = 0 -> {0, 9}, c = 7 -> {7, 8}.
  const GroupLayout& x = layouts[2];
  CHECK(x.layout == CollectiveLayout::CrossNodeCrossRail);
  CHECK(group_members(x, 0) == std::vector<int>{0, 9});
  CHECK(group_members(x, 7) == std::vector<int>{7, 8});
  // Each group: one rank per node, two different rails; every rank in exactly one group.
  std::set<int> seen;
  for (int c = 0; c < 8; ++c) {
    const auto m = group_members(x, c);
    REQUIRE(m.size() == 2);
    CHECK(p.ranks[m[0]].node != p.ranks[m[1]].node);
    CHECK(p.ranks[m[0]].local_gpu != p.ranks[m[1]].local_gpu);
    seen.insert(m.begin(), m.end());
  }
  CHECK(seen.size() == 16);
}

TEST_CASE("hcpcal launch: layouts with few ranks say why they are missing", "[calibrate]") {
  std::vector<std::string> why;
  // One rank: one group of 1.
  const auto one = group_layouts(place_ranks({"h"}, 1), &why);
  REQUIRE(one.size() == 1);
  CHECK(one[0].group_size == 1);
  REQUIRE(why.size() == 1);
  CHECK(why[0].find(">= 2 ranks") != std::string::npos);
  // One process driving 4 GPUs (-g 4): intra-node only.
  why.clear();
  const auto node = group_layouts(place_ranks({"h"}, 4), &why);
  REQUIRE(node.size() == 1);
  CHECK(node[0].group_size == 4);
  CHECK(group_members(node[0], 0) == std::vector<int>{0, 1, 2, 3});
  CHECK(why.size() == 1);
  // 3 nodes x 2 GPUs: no cross-rail (3 nodes need 3 rails); round-robin hosts are placed by name.
  why.clear();
  const Placement rr = place_ranks({"a", "b", "c", "a", "b", "c"}, 1);
  CHECK(rr.ranks[3].node == 0);
  CHECK(rr.ranks[3].local_gpu == 1);
  const auto three = group_layouts(rr, &why);
  CHECK(three.size() == 2);
  CHECK(group_members(three[1], 1) == std::vector<int>{3, 4, 5});  // rail 1 of nodes a, b, c
  // Unequal nodes: nothing measured.
  why.clear();
  const Placement uneven = place_ranks({"a", "a", "b"}, 1);
  CHECK_FALSE(uneven.uniform);
  CHECK(group_layouts(uneven, &why).empty());
  CHECK(why.size() == 1);
}

TEST_CASE("hcpcal launch: NCCL message sizes", "[calibrate]") {
  // 1K..1M by 4 over 8 ranks (granule 16 B): 1024, 4096, 16384, 65536, 262144, 1048576.
  CHECK(message_sizes(1024, 1 << 20, 4, 16) == std::vector<long long>{1024, 4096, 16384, 65536, 262144, 1048576});
  // 100 B over 3 ranks (granule 6): 96; then 200 -> 198, 400 -> 396.
  CHECK(message_sizes(100, 400, 2, 6) == std::vector<long long>{96, 198, 396});
  // Smaller than a granule: one granule.
  CHECK(message_sizes(1, 2, 2, 16) == std::vector<long long>{16});
}

TEST_CASE("hcpcal launch: per-rank timings merge to the slowest rank", "[calibrate]") {
  // Medians 10, 12, 11 us -> 12 us; min of mins 9; max of maxes 15; wrong 0 + 2 + 1 = 3.
  const RankTiming m = merge_rank_timings({{10e-6, 9e-6, 13e-6, 0}, {12e-6, 11e-6, 15e-6, 2}, {11e-6, 10e-6, 14e-6, 1}});
  CHECK(m.median_s == Approx(12e-6));
  CHECK(m.min_s == Approx(9e-6));
  CHECK(m.max_s == Approx(15e-6));
  CHECK(m.wrong == 3);
}

TEST_CASE("hcpcal launch: the NCCL split of a CP group and its siblings", "[calibrate]") {
  // Whole CP group of 4 in ring order 0,1,2,3: one color, key = rank.
  const SplitPlan whole = split_plan({0, 1, 2, 3}, 4);
  CHECK(whole.color == std::vector<int>{0, 0, 0, 0});
  CHECK(whole.key == std::vector<int>{0, 1, 2, 3});
  // a2a+p2p with R = 8, A = 4: inner group {4,5,6,7}; siblings {0..3}: color r / 4, key r mod 4.
  const SplitPlan inner = split_plan({4, 5, 6, 7}, 8);
  CHECK(inner.color == std::vector<int>{0, 0, 0, 0, 1, 1, 1, 1});
  CHECK(inner.key == std::vector<int>{0, 1, 2, 3, 0, 1, 2, 3});
  // Outer ring of P = 2 with stride A = 4: group {1, 5}; color r mod 4, key r / 4.
  const SplitPlan outer = split_plan({1, 5}, 8);
  CHECK(outer.color == std::vector<int>{0, 1, 2, 3, 0, 1, 2, 3});
  CHECK(outer.key == std::vector<int>{0, 0, 0, 0, 1, 1, 1, 1});
  // A group given in another order keeps it for its siblings: {3,2,1,0} of 8 -> key 3 - (r mod 4).
  const SplitPlan reversed = split_plan({3, 2, 1, 0}, 8);
  CHECK(reversed.key == std::vector<int>{3, 2, 1, 0, 3, 2, 1, 0});
  // One rank: a group of 1.
  CHECK(split_plan({0}, 1).key == std::vector<int>{0});
  // Neither family: {0, 2, 3} of 6; a block not aligned to its size: {1, 2} of 4.
  CHECK_THROWS_AS(split_plan({0, 2, 3}, 6), std::invalid_argument);
  CHECK_THROWS_AS(split_plan({1, 2}, 4), std::invalid_argument);
}

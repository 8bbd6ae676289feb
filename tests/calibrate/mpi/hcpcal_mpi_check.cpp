// hcpcal's process group under a real mpiexec with 4 processes (ctest: calibrate.hcpcal_mpi,
// registered where CMake finds MPI): the launcher's variables agree with MPI, strings of
// different lengths and doubles gather by process rank, process 0's bytes reach everyone, and
// the gathered hostnames place the ranks as launch.h says. No GPU. Every process checks;
// exit 1 on any mismatch (mpiexec then fails), 0 when all hold.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "calibrate/hcpcal/launch.h"
#include "calibrate/hcpcal/launch_mpi.h"

namespace {

int failures = 0;

void expect(bool ok, const std::string& what, int process) {
  if (ok) return;
  std::fprintf(stderr, "hcpcal_mpi_check (process %d): %s\n", process, what.c_str());
  ++failures;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace hcpcal;
  // Each process drives 2 "GPUs" (-g 2): 4 processes are 8 ranks.
  const LaunchInfo l = detect_launch([](const char* n) -> const char* { return std::getenv(n); }, 2);
  ProcessGroup pg(&argc, &argv, l);
  const int p = pg.rank();
  expect(pg.uses_mpi() && pg.size() == 4 && l.processes == 4, "expected 4 MPI processes from a launcher", p);
  if (failures) return 1;
  expect(l.first_rank() == 2 * p, "process p drives ranks 2p and 2p + 1", p);

  // Made-up hosts, alternating, of different lengths: even processes on "a", odd on "node-b".
  const std::vector<std::string> hosts = pg.allgather(std::string(p % 2 ? "node-b" : "a"));
  expect(hosts == std::vector<std::string>{"a", "node-b", "a", "node-b"}, "hostnames gathered by process rank", p);

  // Doubles: process q sends {q, 10 q}.
  const std::vector<double> all = pg.allgather(std::vector<double>{double(p), 10.0 * p});
  expect(all == std::vector<double>{0, 0, 1, 10, 2, 20, 3, 30}, "doubles gathered by process rank", p);

  // Process 0's bytes reach all (the NCCL unique id travels so).
  char id[16] = {};
  if (p == 0) std::snprintf(id, sizeof id, "unique-id-%d", 42);
  pg.broadcast(id, sizeof id);
  expect(std::string(id) == "unique-id-42", "broadcast from process 0", p);

  // Placement from the gathered hosts: node a holds ranks 0,1 (process 0) and 4,5 (process 2)
  // as rails 0-3; node-b ranks 2,3 and 6,7. Cross-rail group 0: node a rail 0 (rank 0) and
  // node-b rail 1 (rank 3).
  const Placement pl = place_ranks(hosts, l.gpus_per_process);
  expect(pl.node_count() == 2 && pl.gpus_per_node == 4 && pl.uniform, "2 nodes x 4 ranks", p);
  expect(pl.ranks[5].node == 0 && pl.ranks[5].local_gpu == 3, "rank 5 is rail 3 of node a", p);
  const auto layouts = group_layouts(pl, nullptr);
  expect(layouts.size() == 3 && group_members(layouts[2], 0) == std::vector<int>{0, 3}, "cross-rail group 0 = {0, 3}", p);

  pg.barrier();
  // Every process's verdict: the run fails if any failed.
  double failed = 0;
  for (double v : pg.allgather(std::vector<double>{double(failures)})) failed += v;
  if (p == 0) std::printf("hcpcal_mpi_check: %d processes, %s\n", pg.size(), failed ? "FAILED" : "all checks hold");
  return failed ? 1 : 0;
}

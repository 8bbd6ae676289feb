// hcpcal's process group under a real mpiexec with 4 processes (ctest: calibrate.hcpcal_mpi,
// registered where CMake finds MPI): the launcher's variables agree with MPI, strings of
// different lengths and doubles gather by process rank, process 0's bytes reach everyone, and
// the gathered hostnames place the ranks as launch.h says, and the CP suite's per-rank results
// (two ranks per process, as text) reach every process and merge to the slowest rank. No
// GPU. Every process checks;
// exit 1 on any mismatch (mpiexec then fails), 0 when all hold.
#include <cmath>
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

  // The CP suite's gather (suite_cp.cu on real ranks): process p reports its ranks q = 2p and
  // 2p + 1 with median (10 + 3q mod 8) us, min = median - (q + 1) us, max = median + 1 us,
  // wrong q mod 2, peak 1024 (q + 1) bytes and q mod 3 + 1 kernels of (q + 1) us each, one
  // label with spaces; texts differ in length across processes.
  std::vector<CpRankResult> mine;
  for (int q = l.first_rank(); q < l.first_rank() + l.gpus_per_process; ++q) {
    CpRankResult r;
    r.rank = q;
    const double med = (10 + (3 * q) % 8) * 1e-6;
    r.pass = {med, med - (q + 1) * 1e-6, med + 1e-6, q % 2};
    r.peak_bytes = 1024ull * (q + 1);
    for (int k = 0; k <= q % 3; ++k) r.kernels.push_back({"attn.fwd.step" + std::to_string(k) + " of rank " + std::to_string(q),
                                                          (q + 1) * 1e-6, (q + 1) * 1e-6, (q + 1) * 1e-6});
    mine.push_back(r);
  }
  const CpMerged m = merge_cp_results(pg.allgather(encode_cp_results(mine)), l.ranks());
  auto near = [](double a, double b) { return std::fabs(a - b) < 1e-12; };
  // Medians by q = 0..7: 10, 13, 16, 11, 14, 17, 12, 15 us: the slowest is rank 5's 17 us.
  // Mins: 10-1, 13-2, 16-3, 11-4, 14-5, 17-6, 12-7, 15-8 = 9, 11, 13, 7, 9, 11, 5, 7: 5 us.
  // Maxes: medians + 1: 18 us. Wrong: ranks 1, 3, 5, 7 have 1 each: 4.
  expect(near(m.pass.median_s, 17e-6) && near(m.pass.min_s, 5e-6) && near(m.pass.max_s, 18e-6) && m.pass.wrong == 4,
         "CP pass merged to the slowest rank (17/5/18 us, 4 wrong)", p);
  // Kernel sums (q mod 3 + 1)(q + 1) us: 1, 4, 9, 4, 10, 18, 7, 16: the slowest is 18 us.
  expect(near(m.kernels_s, 18e-6), "CP kernels: the slowest rank's sum is 18 us", p);
  expect(m.peak_bytes == std::vector<unsigned long long>{1024, 2048, 3072, 4096, 5120, 6144, 7168, 8192},
         "CP peaks by rank", p);
  expect(m.ranks[7].kernels.size() == 2 && m.ranks[7].kernels[1].label == "attn.fwd.step1 of rank 7",
         "CP kernel labels with spaces arrive whole", p);

  pg.barrier();
  // Every process's verdict: the run fails if any failed.
  double failed = 0;
  for (double v : pg.allgather(std::vector<double>{double(failures)})) failed += v;
  if (p == 0) std::printf("hcpcal_mpi_check: %d processes, %s\n", pg.size(), failed ? "FAILED" : "all checks hold");
  return failed ? 1 : 0;
}

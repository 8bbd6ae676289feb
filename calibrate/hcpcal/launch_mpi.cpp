#include "launch_mpi.h"

#include <cstdlib>

#ifdef HCPCAL_HAVE_MPI
#define OMPI_SKIP_MPICXX 1  // the C API only: no C++ bindings (and their warnings)
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#endif

namespace hcpcal {

#ifdef HCPCAL_HAVE_MPI
namespace {
void check_mpi(int rc, const char* what) {
  if (rc != MPI_SUCCESS) throw std::runtime_error(std::string("MPI: ") + what + " failed (code " + std::to_string(rc) + ")");
}
}  // namespace
#endif

ProcessGroup::ProcessGroup(int* argc, char*** argv, const LaunchInfo& l) {
#ifdef HCPCAL_HAVE_MPI
  if (l.launcher != Launcher::kSingle) {
    check_mpi(MPI_Init(argc, argv), "MPI_Init");
    mpi_ = true;
    check_mpi(MPI_Comm_rank(MPI_COMM_WORLD, &rank_), "MPI_Comm_rank");
    check_mpi(MPI_Comm_size(MPI_COMM_WORLD, &size_), "MPI_Comm_size");
    if (rank_ != l.process || size_ != l.processes)
      throw LaunchError("MPI says rank " + std::to_string(rank_) + " of " + std::to_string(size_) + " but " +
                        launcher_name(l.launcher) + "'s variables say " + std::to_string(l.process) + " of " +
                        std::to_string(l.processes) + " (hcpcal built against another MPI than mpirun's?)");
  }
#else
  (void)argc, (void)argv;
  if (l.processes > 1)
    throw LaunchError(std::string("launched as ") + std::to_string(l.processes) + " processes (" +
                      launcher_name(l.launcher) +
                      ") but this hcpcal was built without MPI, which bootstraps NCCL across processes: rebuild "
                      "where find_package(MPI) finds mpi.h (e.g. apt install libopenmpi-dev), or run one process "
                      "with -g N for the GPUs of one node");
  rank_ = l.process;
#endif
}

ProcessGroup::~ProcessGroup() {
#ifdef HCPCAL_HAVE_MPI
  if (mpi_) MPI_Finalize();
#endif
}

std::vector<std::string> ProcessGroup::allgather(const std::string& mine) const {
  if (!mpi_) return {mine};
#ifdef HCPCAL_HAVE_MPI
  const int n = int(mine.size());
  std::vector<int> lens(size_), offs(size_);
  check_mpi(MPI_Allgather(&n, 1, MPI_INT, lens.data(), 1, MPI_INT, MPI_COMM_WORLD), "MPI_Allgather");
  int total = 0;
  for (int p = 0; p < size_; ++p) offs[p] = total, total += lens[p];
  std::string all(size_t(total), '\0');
  check_mpi(MPI_Allgatherv(mine.data(), n, MPI_CHAR, all.data(), lens.data(), offs.data(), MPI_CHAR, MPI_COMM_WORLD),
            "MPI_Allgatherv");
  std::vector<std::string> out;
  for (int p = 0; p < size_; ++p) out.push_back(all.substr(size_t(offs[p]), size_t(lens[p])));
  return out;
#else
  return {mine};
#endif
}

std::vector<double> ProcessGroup::allgather(const std::vector<double>& mine) const {
  if (!mpi_) return mine;
#ifdef HCPCAL_HAVE_MPI
  std::vector<double> all(mine.size() * size_t(size_));
  check_mpi(MPI_Allgather(mine.data(), int(mine.size()), MPI_DOUBLE, all.data(), int(mine.size()), MPI_DOUBLE,
                          MPI_COMM_WORLD),
            "MPI_Allgather");
  return all;
#else
  return mine;
#endif
}

void ProcessGroup::broadcast(void* data, size_t bytes) const {
#ifdef HCPCAL_HAVE_MPI
  if (mpi_) check_mpi(MPI_Bcast(data, int(bytes), MPI_BYTE, 0, MPI_COMM_WORLD), "MPI_Bcast");
#else
  (void)data, (void)bytes;
#endif
}

void ProcessGroup::barrier() const {
#ifdef HCPCAL_HAVE_MPI
  if (mpi_) check_mpi(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
#endif
}

void ProcessGroup::abort(int code) const {
#ifdef HCPCAL_HAVE_MPI
  if (mpi_ && size_ > 1) MPI_Abort(MPI_COMM_WORLD, code);
#endif
  std::exit(code);
}

}  // namespace hcpcal

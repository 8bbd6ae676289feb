// hcpcal's processes: MPI when hcpcal was built with it (HCPCAL_HAVE_MPI) and a launcher
// started it, otherwise this one process. Plain C++ (no CUDA), so a CPU test runs it under
// mpiexec (tests/hcpcal/mpi/hcpcal_mpi_check.cpp).
#pragma once
#include <stdexcept>
#include <string>
#include <vector>

#include "launch.h"

namespace hcpcal {

// A launch hcpcal cannot run (e.g. several processes but no MPI built in): exit 2.
struct LaunchError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

class ProcessGroup {
 public:
  // Initialises MPI when built with it and `l` came from a launcher; throws LaunchError when
  // l.processes > 1 and hcpcal has no MPI.
  ProcessGroup(int* argc, char*** argv, const LaunchInfo& l);
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool uses_mpi() const { return mpi_; }
  // Every process's string, by process rank.
  std::vector<std::string> allgather(const std::string& mine) const;
  // Every process's doubles (the same count everywhere), concatenated by process rank.
  std::vector<double> allgather(const std::vector<double>& mine) const;
  // `bytes` at `data` from process 0 to all.
  void broadcast(void* data, size_t bytes) const;
  void barrier() const;
  // Ends every process (MPI_Abort) after a failure on this one, so none waits forever.
  [[noreturn]] void abort(int code) const;

 private:
  int rank_ = 0, size_ = 1;
  bool mpi_ = false;
};

}  // namespace hcpcal

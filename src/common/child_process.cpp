#include "common/child_process.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

namespace hcpsim {

namespace {

void write_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    const ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) _exit(3);
    off += static_cast<size_t>(n);
  }
}

}  // namespace

std::string run_in_child(const std::function<std::string()>& job) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  std::fflush(stdout);  // or buffered output is duplicated in the child
  std::fflush(stderr);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::close(fds[0]);
    int code = 0;
    std::string out;
    try {
      out = "R" + job();  // R: result, E: error message
    } catch (const std::exception& e) {
      out = std::string("E") + e.what();
      code = 1;
    }
    write_all(fds[1], out);
    ::close(fds[1]);
    std::fflush(stdout);
    _exit(code);
  }
  ::close(fds[1]);
  std::string got;
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status))
    throw std::runtime_error(std::string("simulation process killed by signal ") + strsignal(WTERMSIG(status)));
  if (got.empty()) throw std::runtime_error("simulation process returned nothing");
  if (got[0] == 'E') throw std::runtime_error(got.substr(1));
  return got.substr(1);
}

}  // namespace hcpsim

#include "sweep/pool.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <poll.h>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace hcpsim {

namespace {

struct Child {
  pid_t pid = -1;
  int fd = -1;
  size_t index = 0;
  std::string got;
};

[[noreturn]] void child_main(int fd, size_t i, const std::function<std::string(size_t)>& work) {
  std::signal(SIGINT, SIG_DFL);  // the parent keeps what finished; the child just goes
  std::signal(SIGTERM, SIG_DFL);
  std::string out;
  int code = 0;
  try {
    out = "R" + work(i);
  } catch (const std::exception& e) {
    out = std::string("E") + e.what();
    code = 1;
  }
  size_t off = 0;
  while (off < out.size()) {
    const ssize_t n = ::write(fd, out.data() + off, out.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) _exit(3);
    off += static_cast<size_t>(n);
  }
  ::close(fd);
  _exit(code);
}

Child start(size_t i, const std::function<std::string(size_t)>& work) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::close(fds[0]);
    child_main(fds[1], i, work);
  }
  ::close(fds[1]);
  return {pid, fds[0], i, {}};
}

PoolOutcome finish(Child& c) {
  ::close(c.fd);
  int status = 0;
  while (::waitpid(c.pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status))
    return {false, std::string("simulation process killed by signal ") + strsignal(WTERMSIG(status))};
  if (c.got.empty()) return {false, "simulation process returned nothing"};
  return {c.got[0] == 'R', c.got.substr(1)};
}

}  // namespace

size_t run_pool(size_t n, int jobs, const std::function<std::string(size_t)>& work,
                const std::function<void(size_t, const PoolOutcome&)>& done, const volatile std::sig_atomic_t* stop) {
  std::vector<Child> running;
  size_t next = 0, reported = 0;
  const size_t limit = static_cast<size_t>(jobs < 1 ? 1 : jobs);
  while ((next < n && !*stop) || !running.empty()) {
    while (next < n && running.size() < limit && !*stop) running.push_back(start(next++, work));
    if (*stop) break;
    std::vector<pollfd> fds;
    for (const Child& c : running) fds.push_back({c.fd, POLLIN, 0});
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("poll: ") + std::strerror(errno));
    }
    for (size_t k = running.size(); k-- > 0;) {
      if (!(fds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[1 << 16];
      const ssize_t got = ::read(running[k].fd, buf, sizeof buf);
      if (got < 0 && errno == EINTR) continue;
      if (got > 0) {
        running[k].got.append(buf, static_cast<size_t>(got));
        continue;
      }
      Child c = std::move(running[k]);
      running.erase(running.begin() + static_cast<std::ptrdiff_t>(k));
      done(c.index, finish(c));
      ++reported;
    }
  }
  for (Child& c : running) {  // interrupted: what is still running is lost, what finished was reported
    ::kill(c.pid, SIGKILL);
    finish(c);
  }
  return reported;
}

}  // namespace hcpsim

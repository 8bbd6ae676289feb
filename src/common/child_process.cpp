#include "common/child_process.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <new>
#include <nlohmann/json.hpp>
#include <poll.h>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

namespace hcpsim {

namespace {

struct Child {
  pid_t pid = -1;
  int fd = -1;
  size_t index = 0;
  std::string got;
};

std::string encode_diagnostics(const std::vector<Diagnostic>& list) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& d : list) j.push_back({d.path, d.what, d.rule, d.fix});
  return j.dump();
}

std::vector<Diagnostic> decode_diagnostics(const std::string& text) {
  std::vector<Diagnostic> out;
  for (const auto& d : nlohmann::json::parse(text))
    out.push_back({d[0].get<std::string>(), d[1].get<std::string>(), d[2].get<std::string>(), d[3].get<std::string>()});
  return out;
}

[[noreturn]] void child_main(int fd, const std::function<std::string()>& job) {
  std::signal(SIGINT, SIG_DFL);  // the parent keeps what finished; the child just goes
  std::signal(SIGTERM, SIG_DFL);
  std::string out;
  int code = 0;
  try {
    out = "R" + job();
  } catch (const InputError& e) {
    out = "I" + encode_diagnostics(e.diagnostics());
    code = 2;
  } catch (const std::bad_alloc&) {
    out = std::string("E") + kChildOutOfMemory;
    code = 1;
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
  std::fflush(stdout);
  _exit(code);
}

Child start(size_t i, const std::function<std::string()>& job) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  std::fflush(stdout);  // or buffered output is duplicated in the child
  std::fflush(stderr);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::close(fds[0]);
    child_main(fds[1], job);
  }
  ::close(fds[1]);
  return {pid, fds[0], i, {}};
}

// Reads what is there; false once the child closed its end.
bool read_some(Child& c) {
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(c.fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    c.got.append(buf, static_cast<size_t>(n));
    return true;
  }
}

ChildOutcome finish(Child& c) {
  ::close(c.fd);
  int status = 0;
  while (::waitpid(c.pid, &status, 0) < 0 && errno == EINTR) {
  }
  ChildOutcome o;
  if (WIFSIGNALED(status)) {
    o.text = std::string("simulation process killed by signal ") + strsignal(WTERMSIG(status));
    if (WTERMSIG(status) == SIGKILL)  // what Linux's out-of-memory killer sends
      o.text += " (the system's out-of-memory killer sends it: the scenario may need more memory than this machine has)";
    return o;
  }
  if (c.got.empty()) {
    o.text = "simulation process returned nothing";
    return o;
  }
  const std::string body = c.got.substr(1);
  switch (c.got[0]) {
    case 'R':
      o.status = ChildOutcome::Status::Ok;
      o.text = body;
      break;
    case 'I':
      o.status = ChildOutcome::Status::InputError;
      o.diagnostics = decode_diagnostics(body);
      o.text = InputError(o.diagnostics).what();
      break;
    default: o.text = body;
  }
  return o;
}

}  // namespace

ChildOutcome run_in_child(const std::function<std::string()>& job) {
  Child c = start(0, job);
  while (read_some(c)) {
  }
  return finish(c);
}

std::string result_of_child(const std::function<std::string()>& job) {
  ChildOutcome o = run_in_child(job);
  if (o.status == ChildOutcome::Status::InputError) throw InputError(o.diagnostics);
  if (!o.ok() && o.text == kChildOutOfMemory) throw std::bad_alloc();  // said as such by the caller
  if (!o.ok()) throw std::runtime_error(o.text);
  return o.text;
}

size_t run_pool(size_t n, int jobs, const std::function<std::string(size_t)>& work,
                const std::function<void(size_t, const ChildOutcome&)>& done, const volatile std::sig_atomic_t* stop) {
  std::vector<Child> running;
  size_t next = 0, reported = 0;
  const size_t limit = static_cast<size_t>(jobs < 1 ? 1 : jobs);
  while ((next < n && !*stop) || !running.empty()) {
    while (next < n && running.size() < limit && !*stop) {
      const size_t i = next++;
      running.push_back(start(i, [&work, i] { return work(i); }));
    }
    if (*stop) break;
    std::vector<pollfd> fds;
    for (const Child& c : running) fds.push_back({c.fd, POLLIN, 0});
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("poll: ") + std::strerror(errno));
    }
    for (size_t k = running.size(); k-- > 0;) {
      if (!(fds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      if (read_some(running[k])) continue;
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

// Test helpers that run a SimGrid simulation in a forked child, so that one
// TEST_CASE (or a whole test binary run directly) can run several simulations:
// SimGrid allows only one engine per process.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <simgrid/s4u/Actor.hpp>
#include <simgrid/s4u/Comm.hpp>
#include <simgrid/s4u/Engine.hpp>
#include <simgrid/s4u/Mailbox.hpp>

#include <cstdio>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/platform.hpp"

namespace hcpsim::test {

// Runs `body` in a child process and returns the numbers it produced; throws
// with the child's message if it failed.
inline std::vector<double> in_child(const std::function<std::vector<double>()>& body) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
  std::fflush(nullptr);  // or buffered output is written twice
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    close(fds[0]);
    std::string out;
    int code = 0;
    try {
      const std::vector<double> v = body();
      out.assign(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(double));
    } catch (const std::exception& e) {
      out = e.what();
      code = 1;
    }
    for (size_t done = 0; done < out.size();) {
      const ssize_t n = write(fds[1], out.data() + done, out.size() - done);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    close(fds[1]);
    _exit(code);
  }
  close(fds[1]);
  std::string in;
  char buf[65536];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) in.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error("simulation child failed: " + (WIFEXITED(status) ? in : std::string("killed by a signal")));
  std::vector<double> v(in.size() / sizeof(double));
  std::copy(in.data(), in.data() + v.size() * sizeof(double), reinterpret_cast<char*>(v.data()));
  return v;
}

struct Flow {
  int64_t src_gpu = 0, dst_gpu = 0;
  double bytes = 0;
  double rate_cap_Bps = 0;  // 0: none (Comm::set_rate otherwise)
};

// All flows start at t = 0 (Comm::sendto from an actor on the source GPU);
// returns each flow's completion time in seconds.
inline std::vector<double> simulate_flows(const ClusterSpec& spec, ZoneKind zone, const std::vector<Flow>& flows,
                                          const TopologyOptions& topo = {}) {
  return in_child([&] {
    SimEngine engine;
    ClusterGraph graph = build_cluster_graph(spec, topo);
    Placement placement = megatron_placement(graph, RankLayout{.dp = graph.num_gpus()});
    Platform platform(std::move(graph), std::move(placement), {.zone = zone});
    std::vector<double> finish_s(flows.size(), -1.0);
    for (size_t i = 0; i < flows.size(); ++i) {
      simgrid::s4u::Host* src = platform.host_of_gpu(flows[i].src_gpu);
      simgrid::s4u::Host* dst = platform.host_of_gpu(flows[i].dst_gpu);
      const auto bytes = static_cast<uint64_t>(flows[i].bytes);
      const double cap = flows[i].rate_cap_Bps;
      if (cap > 0) {  // a capped flow: a mailbox put with Comm::set_rate, as the engine sends
        simgrid::s4u::Mailbox* box = simgrid::s4u::Mailbox::by_name("flow" + std::to_string(i));
        simgrid::s4u::Actor::create("recv" + std::to_string(i), dst, [box] { box->get<double>(); });
        simgrid::s4u::Actor::create("flow" + std::to_string(i), src, [box, bytes, cap, i, &finish_s] {
          static double payload = 0;
          box->put_init(&payload, bytes)->set_rate(cap)->start()->wait();
          finish_s[i] = simgrid::s4u::Engine::get_clock();
        });
        continue;
      }
      simgrid::s4u::Actor::create("flow" + std::to_string(i), src, [src, dst, bytes, i, &finish_s] {
        simgrid::s4u::Comm::sendto(src, dst, bytes);
        finish_s[i] = simgrid::s4u::Engine::get_clock();
      });
    }
    engine.run();
    return finish_s;
  });
}

}  // namespace hcpsim::test

// The SimGrid platform built from the cluster graph: the one adapter between
// topology/ and SimGrid. Hosts are GPUs, each graph link becomes a split-duplex
// SimGrid link (its _UP half is LinkDir::Up), and routes come from either
//   ZoneKind::Fast:  a custom NetZoneImpl whose get_local_route calls
//                    topology's route_into (O(1) per hop, O(GPUs) memory), or
//   ZoneKind::Stock: a stock full zone with every GPU pair's route added through
//                    the public S4U API (O(GPUs^2) memory: small clusters only;
//                    tests compare it against the fast zone).
// This header only forward-declares SimGrid types.
//
// Sending at scale: use mailbox put_async/get_async. Comm::sendto(_async) in
// SimGrid 3.32 costs O(active comms) per transfer (a list scan inside
// CommImpl): measured 146 us per transfer at 8192 GPUs vs 35 us with mailboxes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "topology/cluster_graph.hpp"
#include "topology/placement.hpp"

namespace simgrid::s4u {
class Engine;
class Host;
class Link;
}  // namespace simgrid::s4u

namespace hcpsim {

enum class ZoneKind { Fast, Stock };
const char* to_string(ZoneKind z);  // "fast", "stock"

// The stock zone stores GPUs^2 routes (1024 GPUs: 1M routes, about 4 s to
// build on a 2-core machine); above this it is refused.
inline constexpr int64_t kStockZoneMaxGpus = 1024;

struct EngineOptions {
  // Extra SimGrid settings "key:value", applied after hcpsim's network settings
  // (so they override them), e.g. "contexts/stack-size:64".
  std::vector<std::string> cfg;
  bool quiet = true;  // hide xbt_cfg's "Configuration change" lines
};

// The one SimGrid engine of this process (SimGrid allows one simulation per
// process; sweeps fork). Construction does, in the order SimGrid requires:
// silence xbt_cfg, construct the Engine, set network/model:CM02,
// network/crosstraffic:0, network/TCP-gamma:1e300 (the settings under which SimGrid
// matches latency + bytes/bandwidth exactly and honours a flow's rate cap), then options.cfg. Build the
// Platform afterwards: the first zone fixes the network model.
class SimEngine {
 public:
  explicit SimEngine(const EngineOptions& options = {});
  ~SimEngine();
  SimEngine(const SimEngine&) = delete;
  SimEngine& operator=(const SimEngine&) = delete;

  simgrid::s4u::Engine& engine() const { return *engine_; }
  void run() const;
  static double clock_s();

 private:
  std::unique_ptr<simgrid::s4u::Engine> engine_;
};

struct PlatformOptions {
  ZoneKind zone = ZoneKind::Fast;
  // Host speed; 0 takes cluster.gpu.peak_bf16_flops_per_s. Compute time comes
  // from hcpsim's cost model (sleep_for, or exec of time * speed FLOPs).
  double host_speed_flops_per_s = 0;
};

// One direction of one graph link as SimGrid sees it (metrics: utilisation).
struct PlatformLink {
  LinkId id;
  LinkClass cls = LinkClass::NvLink;
  double bandwidth_bytes_per_s = 0;
  double latency_s = 0;
  simgrid::s4u::Link* link = nullptr;  // name "<graph link name>_UP" / "_DOWN"
};

// A GPU pair's path as SimGrid routes it.
struct PathInfo {
  double latency_s = 0;
  double bottleneck_bytes_per_s = 0;  // smallest link bandwidth on the path
  int hops = 0;
};

class Platform {
 public:
  // Needs a SimEngine and no platform yet; throws std::logic_error otherwise,
  // std::invalid_argument for a bad option (stock zone too large, no speed).
  Platform(ClusterGraph graph, Placement placement, const PlatformOptions& options = {});
  ~Platform();
  Platform(const Platform&) = delete;
  Platform& operator=(const Platform&) = delete;

  const ClusterGraph& graph() const { return *graph_; }
  const Placement& placement() const { return placement_; }
  ZoneKind zone_kind() const { return zone_; }
  double build_wall_s() const { return build_wall_s_; }  // time spent creating the SimGrid platform

  simgrid::s4u::Host* host_of_gpu(int64_t gpu) const { return hosts_.at(gpu); }
  simgrid::s4u::Host* host_of_rank(int64_t rank) const { return hosts_.at(placement_.gpu_of_rank.at(rank)); }

  // Two entries per graph link: index 2*edge is the Up half, 2*edge+1 the Down half.
  const std::vector<PlatformLink>& links() const { return links_; }
  // nullptr when the link is not one of this platform's.
  const PlatformLink* find_link(const simgrid::s4u::Link* link) const;

  PathInfo path(int64_t gpu_a, int64_t gpu_b) const;

 private:
  std::shared_ptr<const ClusterGraph> graph_;
  Placement placement_;
  ZoneKind zone_;
  double build_wall_s_ = 0;
  std::vector<simgrid::s4u::Host*> hosts_;
  std::vector<PlatformLink> links_;
  std::unordered_map<const simgrid::s4u::Link*, size_t> link_index_;
};

}  // namespace hcpsim

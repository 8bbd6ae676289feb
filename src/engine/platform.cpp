// SimEngine (engine construction and network settings) and Platform (the
// SimGrid view of the cluster graph).
#include "engine/platform.hpp"

#include <simgrid/s4u/Engine.hpp>
#include <simgrid/s4u/Host.hpp>
#include <simgrid/s4u/Link.hpp>
#include <simgrid/s4u/NetZone.hpp>
#include <xbt/log.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <stdexcept>

#include "engine/platform_zones.hpp"

namespace sg4 = simgrid::s4u;

namespace hcpsim {

const char* to_string(ZoneKind z) { return z == ZoneKind::Fast ? "fast" : "stock"; }

SimEngine::SimEngine(const EngineOptions& options) {
  if (sg4::Engine::is_initialized())
    throw std::logic_error("SimGrid runs one simulation per process: a SimEngine already exists");
  if (options.quiet) xbt_log_control_set("xbt_cfg.thresh:warning");  // before the Engine: it logs on construction
  engine_ = std::make_unique<sg4::Engine>("hcpsim");
  // After the Engine exists, before the first zone (which instantiates the model).
  sg4::Engine::set_config("network/model", std::string("CM02"));  // latency and bandwidth factors 1
  sg4::Engine::set_config("network/crosstraffic", false);         // no reverse-path (ACK) load
  // No TCP window cap: CM02 bounds a flow by min(its rate, gamma / (2 L)) on a route of latency
  // L > 0 (network_cm02.cpp), so gamma = 0 makes that bound 0, which the solver reads as "no
  // bound" and drops the flow's own rate cap (Comm::set_rate) with it. A gamma this large leaves
  // every flow bounded by its rate cap alone, and uncapped flows as before.
  sg4::Engine::set_config("network/TCP-gamma", 1e300);
  for (const std::string& c : options.cfg) sg4::Engine::set_config(c);
}

SimEngine::~SimEngine() = default;

void SimEngine::run() const { engine_->run(); }

double SimEngine::clock_s() { return sg4::Engine::get_clock(); }

Platform::Platform(ClusterGraph graph, Placement placement, const PlatformOptions& options)
    : graph_(std::make_shared<const ClusterGraph>(std::move(graph))),
      placement_(std::move(placement)),
      zone_(options.zone) {
  if (!sg4::Engine::is_initialized()) throw std::logic_error("Platform needs a SimEngine first");
  if (sg4::Engine::get_instance()->get_netzone_root() != nullptr)
    throw std::logic_error("SimGrid already has a platform (one per process)");
  for (int64_t gpu : placement_.gpu_of_rank)
    if (gpu < 0 || gpu >= graph_->num_gpus()) throw std::invalid_argument("placement names a GPU outside the cluster");
  const double speed = options.host_speed_flops_per_s > 0 ? options.host_speed_flops_per_s
                                                          : graph_->spec.gpu.peak_bf16_flops_per_s;
  if (!(speed > 0)) throw std::invalid_argument("host speed: set cluster.gpu.peak_bf16_flops_per_s or host_speed_flops_per_s");
  if (zone_ == ZoneKind::Stock && graph_->num_gpus() > kStockZoneMaxGpus)
    throw std::invalid_argument("the stock zone stores GPUs^2 routes; " + std::to_string(graph_->num_gpus()) +
                                " GPUs is above its limit of " + std::to_string(kStockZoneMaxGpus) + ": use the fast zone");

  const auto start = std::chrono::steady_clock::now();
  detail::ZoneContents c = zone_ == ZoneKind::Fast ? detail::build_fast_zone(graph_, speed)
                                                   : detail::build_stock_zone(*graph_, speed);
  build_wall_s_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  hosts_ = std::move(c.hosts);
  links_.reserve(2 * c.links.size());
  for (size_t e = 0; e < c.links.size(); ++e) {
    const Link& l = graph_->links[e];
    for (LinkDir dir : {LinkDir::Up, LinkDir::Down}) {
      sg4::Link* half = dir == LinkDir::Up ? c.links[e]->get_link_up() : c.links[e]->get_link_down();
      link_index_.emplace(half, links_.size());
      links_.push_back({LinkId{static_cast<int32_t>(e), dir}, l.cls, l.bandwidth_bytes_per_s, l.latency_s, half});
    }
  }
}

Platform::~Platform() = default;

const PlatformLink* Platform::find_link(const sg4::Link* link) const {
  const auto it = link_index_.find(link);
  return it == link_index_.end() ? nullptr : &links_[it->second];
}

PathInfo Platform::path(int64_t gpu_a, int64_t gpu_b) const {
  std::vector<sg4::Link*> route;
  PathInfo p;
  host_of_gpu(gpu_a)->route_to(host_of_gpu(gpu_b), route, &p.latency_s);
  p.hops = static_cast<int>(route.size());
  p.bottleneck_bytes_per_s = std::numeric_limits<double>::infinity();
  for (const sg4::Link* l : route) p.bottleneck_bytes_per_s = std::min(p.bottleneck_bytes_per_s, l->get_bandwidth());
  return p;
}

}  // namespace hcpsim

// The fast zone (custom NetZoneImpl, arithmetic routes) and the stock zone
// (full zone, explicit routes through the public S4U API).
#include "engine/platform_zones.hpp"

#include <simgrid/kernel/routing/NetPoint.hpp>
#include <simgrid/kernel/routing/NetZoneImpl.hpp>
#include <simgrid/s4u/NetZone.hpp>
#include <simgrid/version.h>

#include <stdexcept>
#include <string>

#include "topology/routes.hpp"

// NetZoneImpl, Route and get_local_route are installed but semi-internal: their
// shape changes between releases. Re-check GpuClusterZone before moving on.
static_assert(SIMGRID_VERSION == 33200, "GpuClusterZone is written against SimGrid 3.32's NetZoneImpl");

namespace sg4 = simgrid::s4u;
namespace routing = simgrid::kernel::routing;

namespace hcpsim::detail {
namespace {

// Hosts in GPU order (so that a host's NetPoint id in its zone is its GPU
// index), then one split-duplex link per graph edge.
ZoneContents populate(sg4::NetZone* zone, const ClusterGraph& g, double host_speed_flops_per_s) {
  ZoneContents c;
  c.hosts.reserve(g.num_gpus());
  for (int64_t gpu = 0; gpu < g.num_gpus(); ++gpu)
    c.hosts.push_back(zone->create_host(g.graph[g.gpus[gpu]].name, host_speed_flops_per_s)->seal());
  c.links.reserve(g.links.size());
  for (const Link& l : g.links) {
    sg4::SplitDuplexLink* link = zone->create_split_duplex_link(l.name, l.bandwidth_bytes_per_s);
    link->set_latency(l.latency_s);
    link->seal();
    c.links.push_back(link);
  }
  return c;
}

/// Routes between the GPU hosts of one flat zone, computed per communication
/// by topology's route_into: no route table, O(1) per hop.
class GpuClusterZone final : public routing::NetZoneImpl {
 public:
  GpuClusterZone(const std::string& name, std::shared_ptr<const ClusterGraph> graph)
      : NetZoneImpl(name), graph_(std::move(graph)) {}

  // halves[2*edge] is the Up half of graph edge `edge`, halves[2*edge+1] the Down half.
  void set_link_halves(std::vector<simgrid::kernel::resource::StandardLinkImpl*> halves) { halves_ = std::move(halves); }

  void get_local_route(const routing::NetPoint* src, const routing::NetPoint* dst, routing::Route* into,
                       double* latency) override {
    RoutePath path;
    route_into(*graph_, static_cast<int64_t>(src->id()), static_cast<int64_t>(dst->id()), path);
    for (const LinkId& hop : path.view()) {
      into->link_list_.push_back(halves_[2 * hop.edge + (hop.dir == LinkDir::Down ? 1 : 0)]);
      if (latency) *latency += graph_->links[hop.edge].latency_s;
    }
  }

 private:
  std::shared_ptr<const ClusterGraph> graph_;
  std::vector<simgrid::kernel::resource::StandardLinkImpl*> halves_;
};

}  // namespace

ZoneContents build_fast_zone(const std::shared_ptr<const ClusterGraph>& graph, double host_speed_flops_per_s) {
  // The first zone created becomes the root; SimGrid owns and deletes it.
  auto* impl = new GpuClusterZone("hcpsim-fast", graph);
  sg4::NetZone* zone = impl->get_iface();
  ZoneContents c = populate(zone, *graph, host_speed_flops_per_s);
  for (size_t gpu = 0; gpu < c.hosts.size(); ++gpu)
    if (c.hosts[gpu]->get_netpoint()->id() != gpu)
      throw std::logic_error("fast zone: host " + c.hosts[gpu]->get_name() + " has NetPoint id " +
                             std::to_string(c.hosts[gpu]->get_netpoint()->id()) + ", expected its GPU index");
  std::vector<simgrid::kernel::resource::StandardLinkImpl*> halves;
  halves.reserve(2 * c.links.size());
  for (sg4::SplitDuplexLink* l : c.links) {
    halves.push_back(l->get_link_up()->get_impl());
    halves.push_back(l->get_link_down()->get_impl());
  }
  impl->set_link_halves(std::move(halves));
  zone->seal();
  return c;
}

ZoneContents build_stock_zone(const ClusterGraph& graph, double host_speed_flops_per_s) {
  sg4::NetZone* zone = sg4::create_full_zone("hcpsim-stock");
  ZoneContents c = populate(zone, graph, host_speed_flops_per_s);
  RoutePath path;
  std::vector<sg4::LinkInRoute> links;
  for (int64_t a = 0; a < graph.num_gpus(); ++a)
    for (int64_t b = 0; b < graph.num_gpus(); ++b) {
      if (a == b) continue;
      route_into(graph, a, b, path);
      links.clear();
      for (const LinkId& hop : path.view())
        links.emplace_back(c.links[hop.edge], hop.dir == LinkDir::Up ? sg4::LinkInRoute::Direction::UP
                                                                     : sg4::LinkInRoute::Direction::DOWN);
      // not symmetrical: D-mod-k picks the spine by destination, so b -> a may differ
      zone->add_route(c.hosts[a]->get_netpoint(), c.hosts[b]->get_netpoint(), nullptr, nullptr, links, false);
    }
  zone->seal();
  return c;
}

}  // namespace hcpsim::detail

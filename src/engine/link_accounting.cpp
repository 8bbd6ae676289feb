// Link accounting: bytes per link direction and the union of busy intervals,
// swept in order of interval start (one open interval per link).
#include "engine/link_accounting.hpp"

#include <algorithm>
#include <numeric>

#include "topology/routes.hpp"

namespace hcpsim {

namespace {

size_t slot_of(const LinkId& l) { return 2 * static_cast<size_t>(l.edge) + (l.dir == LinkDir::Up ? 0 : 1); }

struct LinkSweep {
  double bytes = 0, busy_s = 0;
  double open_begin_s = 0, open_end_s = -1;  // the current merged interval (none while end < begin)
  bool used = false;

  void add(double begin_s, double end_s) {
    if (end_s <= begin_s) return;
    if (begin_s > open_end_s) {
      if (open_end_s > open_begin_s) busy_s += open_end_s - open_begin_s;
      open_begin_s = begin_s;
      open_end_s = end_s;
    } else {
      open_end_s = std::max(open_end_s, end_s);
    }
  }
  double total_busy_s() const { return busy_s + std::max(0.0, open_end_s - open_begin_s); }
};

}  // namespace

std::vector<LinkRecord> account_links(const ClusterGraph& graph, const Placement& placement,
                                      const std::vector<FlowRecord>& flows) {
  // Interval begin per flow (start + its route latency), then sweep in that order.
  std::vector<double> begin_s(flows.size());
  RoutePath path;
  for (size_t f = 0; f < flows.size(); ++f) {
    route_into(graph, placement.gpu_of_rank.at(flows[f].src_rank), placement.gpu_of_rank.at(flows[f].dst_rank), path);
    begin_s[f] = flows[f].start_s + route_latency_s(graph, path.view());
  }
  std::vector<size_t> order(flows.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return begin_s[a] < begin_s[b]; });

  std::vector<LinkSweep> sweep(2 * graph.links.size());
  for (size_t f : order) {
    route_into(graph, placement.gpu_of_rank.at(flows[f].src_rank), placement.gpu_of_rank.at(flows[f].dst_rank), path);
    for (const LinkId& l : path.view()) {
      LinkSweep& s = sweep[slot_of(l)];
      s.used = true;
      s.bytes += flows[f].bytes;
      s.add(begin_s[f], flows[f].end_s);
    }
  }

  std::vector<LinkRecord> out;
  for (size_t i = 0; i < sweep.size(); ++i) {
    if (!sweep[i].used) continue;
    const Link& l = graph.links[i / 2];
    out.push_back({0, l.name + (i % 2 == 0 ? "_UP" : "_DOWN"), l.cls, l.bandwidth_bytes_per_s, sweep[i].bytes,
                   sweep[i].total_busy_s()});
  }
  return out;
}

}  // namespace hcpsim

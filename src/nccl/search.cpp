#include "nccl/search.hpp"

#include <algorithm>
#include <array>
#include <cmath>

namespace hcpsim {

namespace {

// NCCL 2.28 src/graph/search.cc: speedArrayIntra/Inter (default), sm90SpeedArrayIntra/Inter,
// sm100SpeedArrayIntra/Inter.
constexpr std::array<double, 13> kIntraDefault = {40, 30, 20, 18, 15, 12, 10, 9, 7, 6, 5, 4, 3};
constexpr std::array<double, 19> kInterDefault = {48, 30, 28, 24, 20, 18, 15, 12, 10, 9,
                                                  7,  6,  5,  4,  3,  2.4, 1.2, 0.24, 0.12};
constexpr std::array<double, 11> kIntraSm90 = {60, 50, 40, 30, 24, 20, 15, 12, 11, 6, 3};
constexpr std::array<double, 17> kInterSm90 = {48, 45, 42, 40, 30, 24, 22, 20, 17.5, 15, 12, 6, 3, 2.4, 1.2, 0.24, 0.12};
constexpr std::array<double, 11> kIntraSm100 = {90, 80, 70, 60, 50, 40, 30, 24, 20, 19, 18};
constexpr std::array<double, 18> kInterSm100 = {96, 48, 45.1, 42, 40, 30, 24, 22, 20,
                                                17.5, 15, 12, 6, 3, 2.4, 1.2, 0.24, 0.12};

constexpr int64_t kMaxSearchChannels = 32;  // MAXCHANNELS / 2
constexpr int64_t kMaxChannels = 64;        // MAXCHANNELS

// The highest ladder speed <= limit; the ladder's lowest when none is.
double speed_at_most(std::span<const double> ladder, double limit) {
  for (double s : ladder)
    if (s <= limit) return s;
  return ladder.back();
}

// One-node ring search: from the highest ladder speed s0 <= total, down while a speed is more
// than 0.49 x s0 (search.cc's pass-1 fallback), maximise c x s with c x s <= total, c <= 32;
// the higher speed wins a tie.
NcclGraph one_node_ring(std::span<const double> ladder, double total_GBps) {
  NcclGraph best;
  double first = 0;
  for (double s : ladder) {
    if (s > total_GBps) continue;
    if (first == 0) first = s;
    if (s <= 0.49 * first) break;
    const auto c = std::min<int64_t>(kMaxSearchChannels, static_cast<int64_t>(std::floor(total_GBps / s + 1e-9)));
    if (c * s > best.channels * best.bw_intra_GBps + 1e-9) best = {c, s, s};
  }
  if (best.channels == 0) best = {1, ladder.back(), ladder.back()};
  return best;
}

// ncclTopoDupChannels: double the channels at half the speed unless the speed is low.
NcclGraph duplicated(NcclGraph g, int64_t cc) {
  const double s = g.bw_intra_GBps;
  if (s < 25 || (cc > 80 && s < 50 && g.channels > 4)) return g;
  g.channels = std::min(kMaxSearchChannels * 2, g.channels * 2);
  g.bw_intra_GBps /= 2;
  g.bw_inter_GBps /= 2;
  return g;
}

// Multi-node ring search (search.cc ncclTopoCompute, with followPath's link accounting), as
// NCCL 2.28.9 runs it on nodes whose G ranks reach each other through NVSwitch (or their PCIe
// link) and their own rail NICs. A channel enters the node through one NIC, visits every rank
// and leaves through a NIC: over NVLink each channel is a send from every rank but the one it
// leaves from (c - floor(c / G) sends on the busiest GPU's link); over PCIe every channel enters
// and leaves each GPU through its one link. A NIC and its PCIe link start floor(bw / s)
// channels each. Pass 1 walks the inter ladder down from the first speed <= the GPU-NIC path and
// the GPU's total, while a speed is above 0.49 x the best found, keeping a strictly larger c x s
// and stopping once c x s reaches the total; then duplication (ncclTopoDupChannels); pass 2 raises
// the speed while the same channels still fit.
NcclGraph multi_node_ring(std::span<const double> ladder, const NcclNode& n, int64_t ranks_per_node,
                          int64_t nics, int64_t cc, int64_t* rails) {
  const bool nvlink = n.intra != IntraNodeKind::PCIe;
  const double total = std::max(nvlink ? n.nvlink_GBps : 0.0, n.pcie_GBps);  // system->totalBw
  const double path = std::min(n.nic_GBps, n.pcie_GBps);                     // system->maxBw
  const int64_t g = std::max<int64_t>(1, ranks_per_node);
  const auto most_channels = [&](double s) {  // the most channels that fit at speed s (0: none)
    const auto fit = [&](double bw) { return static_cast<int64_t>(std::floor(bw / s + 1e-9)); };
    const int64_t per_link = fit(nvlink ? n.nvlink_GBps : n.pcie_GBps);
    int64_t c = std::min(kMaxSearchChannels, std::max<int64_t>(1, nics) * std::min(fit(n.nic_GBps), fit(n.pcie_GBps)));
    while (c > 0 && (nvlink ? c - c / g : c) > per_link) --c;
    return c;
  };
  NcclGraph best;
  for (double s : ladder) {
    if (s > path + 1e-9 || s > total + 1e-9) continue;
    if (best.channels > 0 && s / best.bw_inter_GBps <= 0.49) break;
    const int64_t c = most_channels(s);
    if (static_cast<double>(c) * s > static_cast<double>(best.channels) * best.bw_inter_GBps + 1e-9) best = {c, s, s};
    if (best.channels > 0 && static_cast<double>(best.channels) * best.bw_inter_GBps >= total - 1e-9) break;
  }
  if (best.channels == 0) best = {1, ladder.back(), ladder.back()};
  *rails = std::min(best.channels, std::max<int64_t>(1, nics));
  NcclGraph g2 = duplicated(best, cc);
  for (size_t i = ladder.size(); i-- > 0;) {  // pass 2: the next speed up while the channels fit
    const double s = ladder[i];
    if (s <= g2.bw_inter_GBps + 1e-9) continue;
    if (most_channels(s) < g2.channels) break;
    g2.bw_intra_GBps = g2.bw_inter_GBps = s;
  }
  return g2;
}

int64_t pow2_up(int64_t v) {
  int64_t p = 1;
  while (p < v) p *= 2;
  return p;
}

}  // namespace

std::span<const double> nccl_intra_speeds(NcclArch arch) {
  if (arch == NcclArch::Blackwell) return kIntraSm100;
  if (arch == NcclArch::Hopper) return kIntraSm90;
  return kIntraDefault;
}

std::span<const double> nccl_inter_speeds(NcclArch arch) {
  if (arch == NcclArch::Blackwell) return kInterSm100;
  if (arch == NcclArch::Hopper) return kInterSm90;
  return kInterDefault;
}

NcclTopology nccl_topology(const CommShape& shape, const NcclSettings& settings) {
  const NcclNode& n = shape.node;
  const NcclArch arch = nccl_arch(n.compute_capability);
  const int64_t cc = n.compute_capability;
  NcclTopology t;
  // What a GPU reaches the other GPUs of its node with: NVLink, or its PCIe link.
  const double intra_total = n.intra == IntraNodeKind::PCIe ? n.pcie_GBps : n.nvlink_GBps;
  const NcclGraph one_node = duplicated(one_node_ring(nccl_intra_speeds(arch), intra_total), cc);
  t.p2p_nvlink_channel_GBps = one_node.bw_intra_GBps;
  const double net_speed = n.nic_GBps > 0 ? speed_at_most(nccl_inter_speeds(arch), std::min(n.nic_GBps, n.pcie_GBps)) : 0;
  t.p2p_net_channel_GBps = net_speed;

  if (shape.single_node()) {
    t.ring = one_node;
  } else {
    t.ring = multi_node_ring(nccl_inter_speeds(arch), n, shape.ranks_per_node, shape.nics_per_node, cc, &t.rails);
  }
  t.tree = t.ring;
  t.coll_channels = std::min(kMaxChannels, 2 * t.ring.channels);
  if (!shape.single_node() && cc >= 90 && t.ring.bw_inter_GBps > 45 && t.coll_channels < 16)
    t.coll_channels = std::min(kMaxChannels, 2 * t.coll_channels);
  if (settings.max_ctas > 0) t.coll_channels = std::min(t.coll_channels, settings.max_ctas);
  if (settings.min_ctas > 0) t.coll_channels = std::max(t.coll_channels, settings.min_ctas);

  // NVLS: NVLink SHARP, one head per local rank (per NIC across nodes), at least two local ranks.
  const int64_t heads = std::min<int64_t>(32, shape.single_node() ? shape.ranks_per_node
                                                                  : std::min(shape.ranks_per_node, shape.nics_per_node));
  if (n.nvlink_sharp && settings.nvls && shape.ranks_per_node >= 2 && heads >= 1) {
    const auto intra = nccl_intra_speeds(arch);
    const double per_head = speed_at_most(intra, n.nvlink_GBps / static_cast<double>(heads + 1));
    const double inter = shape.single_node() ? std::min(2 * per_head, intra.front()) : net_speed;
    t.nvls = {heads, per_head, inter};
    if (!shape.single_node()) t.nvls_rails = heads;  // each head its own NIC (search.cc, NVLS search)
    // NVLS_NCHANNELS (transport/nvls.cc): 16 on Hopper; on Blackwell 24 within one node or NVLink
    // domain, 32 across them; NCCL_MIN_CTAS / NCCL_MAX_CTAS clamp it.
    t.nvls_ctas = arch == NcclArch::Blackwell ? (shape.single_node() ? 24 : 32) : 16;
    if (settings.max_ctas > 0) t.nvls_ctas = std::min(t.nvls_ctas, settings.max_ctas);
    if (settings.min_ctas > 0) t.nvls_ctas = std::max(t.nvls_ctas, settings.min_ctas);
  }

  // Point-to-point (paths.cc): p2p channels, and per peer the fewest over the peer kinds present.
  t.p2p_channels = pow2_up(std::min(kMaxChannels, t.coll_channels));
  int64_t per_peer = n.intra == IntraNodeKind::PCIe
                         ? 2
                         : 2 * static_cast<int64_t>(std::llround(n.nvlink_GBps / (cc >= 100 ? 40.1 : cc >= 90 ? 20.6 : 20.0)));
  if (!shape.single_node()) {
    int64_t net = settings.net_channels_per_peer;
    if (net <= 0) {
      net = 2;
      while (net > 1 && 2 * shape.ranks > 4 * t.p2p_channels) net /= 2;
    }
    per_peer = std::min(per_peer, net);
  }
  t.p2p_channels_per_peer = std::min(t.p2p_channels, pow2_up(std::max<int64_t>(1, per_peer)));
  return t;
}

}  // namespace hcpsim

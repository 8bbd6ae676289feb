#include "nccl/tuner.hpp"

#include <algorithm>
#include <array>
#include <cmath>

namespace hcpsim {

namespace {

// ---- NCCL 2.28.9 constants (src/graph/tuning.cc, ncclTunerConstantsDefaults; docs/nccl.md) --------
// Indices: algorithm Tree, Ring, CollNetDirect, CollNetChain, NVLS, NVLSTree, PAT; protocol LL,
// LL128, Simple; architecture Volta, Ampere, Hopper, Blackwell; nodes 1, 2, >= 3.
constexpr int kAlgos = 7, kProtos = 3;
using AlgoProto = std::array<std::array<double, kProtos>, kAlgos>;

constexpr AlgoProto kBaseLatencyUs = {{{6.8, 14.0, 8.4}, {6.6, 14.0, 8.4}, {0, 0, 0}, {0, 0, 0},
                                       {0, 0, 0}, {0, 0, 0}, {8.0, 8.0, 8.0}}};
constexpr AlgoProto kNvlinkLatencyUs = {{{0.6, 1.25, 4.0}, {0.6, 1.9, 3.4}, {0, 0, 3.7}, {0, 0, 2.8},
                                         {0, 0, 25}, {0, 0, 25}, {0, 0, 4.0}}};
constexpr AlgoProto kPcieLatencyUs = {{{1.0, 1.9, 4.0}, {1.0, 2.5, 5.7}, {0, 0, 3.7}, {0, 0, 2.8},
                                       {0, 0, 0}, {0, 0, 0}, {0, 0, 4.0}}};
constexpr AlgoProto kNetLatencyUs = {{{5.0, 8.5, 14}, {2.7, 4.0, 14.0}, {0, 0, 31}, {0, 0, 30},
                                      {0, 0, 18}, {0, 0, 20.9}, {0, 0, 14}}};

using ArchNodes = std::array<std::array<double, 3>, 4>;
// llMaxBws: rows are the architecture on one node, the CPU vendor across nodes (row 0 = Intel,
// which hcpsim assumes); whole-communicator caps of the LL protocol.
constexpr ArchNodes kLlMaxBw = {{{39.0, 39.0, 20.4}, {87.7, 22.5, 19.0}, {141.0, 45.0, 35.0}, {282.0, 90.0, 70.0}}};
constexpr ArchNodes kPerChMaxRingLL128Bw = {{{20, 20, 20}, {20, 20, 20}, {36.7, 36.7, 36.7}, {73.4, 34.6, 73.4}}};
constexpr ArchNodes kPerChMaxTreeLL128Bw = {{{20, 20, 20}, {20, 20, 20}, {36.7, 36.7, 29.0}, {55.6, 31.67, 20.0}}};
constexpr ArchNodes kPerChMaxTreeBw = {{{26.5, 18.5, 10.0}, {24.0, 23.6, 17.8}, {38.7, 41.4, 36.0}, {70.0, 42.8, 24.0}}};
constexpr ArchNodes kPerChMaxNvlsTreeBw = {{{26.5, 18.5, 10.0}, {24.0, 23.6, 17.8}, {0.0, 57.7, 45.5}, {0.0, 96.0, 43.8}}};
constexpr std::array<double, 4> kNvlsEfficiency = {0, 0, 0.85, 0.74};
constexpr double kNetOverheadUs = 1.0;  // Intel x86 (NCCL_NET_OVERHEAD default)

// treeCorrectionFactor[proto][floor(log2(bytes / 64))], sizes 64 B .. 256 MiB.
constexpr std::array<std::array<double, 23>, 3> kTreeCorrection = {{
    {1.0, 1.0, 1.0, 1.0, .9, .8, .7, .7, .7, .7, .6, .5, .4, .4, .5, .6, .7, .8, .9, 1.0, 1.0, 1.0, 1.0},
    {1.0, 1.0, 1.0, 1.0, 1.0, .9, .8, .8, .8, .7, .6, .6, .6, .6, .6, .6, .8, .9, .9, .9, .9, 1.0, 1.0},
    {.9, .9, .9, .9, .9, .9, .9, .8, .7, .6, .6, .5, .5, .5, .5, .6, .7, .8, .7, .7, .8, .9, .9}}};

// Bytes per thread below which NCCL uses fewer channels (comm.h), and threads per channel.
constexpr std::array<double, kProtos> kThreadThreshold = {8, 8, 64};

int idx(NcclAlgorithm a) { return static_cast<int>(a); }
int idx(NcclProtocol p) { return static_cast<int>(p); }

bool allowed(const NcclSettings& s, NcclAlgorithm a) {
  return s.algorithms.empty() || std::find(s.algorithms.begin(), s.algorithms.end(), a) != s.algorithms.end();
}
bool allowed(const NcclSettings& s, NcclProtocol p) {
  return s.protocols.empty() || std::find(s.protocols.begin(), s.protocols.end(), p) != s.protocols.end();
}

const NcclGraph& graph_of(const NcclTopology& t, NcclAlgorithm a) {
  switch (a) {
    case NcclAlgorithm::Ring: return t.ring;
    case NcclAlgorithm::Nvls:
    case NcclAlgorithm::NvlsTree: return t.nvls;
    default: return t.tree;  // Tree, PAT (PAT runs on the tree graph)
  }
}

// Whether NCCL considers (a, p) for pattern `pat` here (tuning.cc: the algorithms each collective
// has; enqueue.cc updateCollCostTable: NVLS needs support, PAT one rank per node; LL128 NVLink).
bool supported(const NcclTopology& t, const CommShape& s, CommPattern pat, NcclAlgorithm a, NcclProtocol p,
               const NcclSettings& settings) {
  if (!allowed(settings, a) || !allowed(settings, p)) return false;
  const bool gather = pat == CommPattern::AllGather || pat == CommPattern::ReduceScatter;
  const bool simple_only = a != NcclAlgorithm::Tree && a != NcclAlgorithm::Ring;
  if (simple_only && p != NcclProtocol::Simple) return false;
  // LL128 needs an NVLink node (typeIntra <= NVB); an explicit NCCL_PROTO skips the check.
  if (p == NcclProtocol::LL128 && s.node.intra == IntraNodeKind::PCIe && settings.protocols.empty()) return false;
  switch (a) {
    case NcclAlgorithm::Ring: return true;
    case NcclAlgorithm::Tree: return pat == CommPattern::AllReduce;
    // Multi-node NVLS needs CollNet; NVLS other than all-reduce takes at most 32 local ranks
    // (NCCL_MAX_NVLS_ARITY, enqueue.cc updateCollCostTable).
    case NcclAlgorithm::Nvls:
      return t.nvls.channels >= 2 && s.single_node() && (pat == CommPattern::AllReduce || s.ranks_per_node <= 32);
    case NcclAlgorithm::NvlsTree: return pat == CommPattern::AllReduce && t.nvls.channels >= 2 && !s.single_node();
    case NcclAlgorithm::Pat: return gather && s.ranks > 1 && s.nodes == s.ranks;
    default: return false;  // CollNet: IB SHARP is not modelled (docs/nccl.md)
  }
}

struct Model {
  double latency_us = 0, bandwidth_GBps = 0;
};

Model model(const NcclTopology& t, const CommShape& s, CommPattern pat, NcclAlgorithm a, NcclProtocol p) {
  const int arch = static_cast<int>(nccl_arch(s.node.compute_capability));
  const int nodes_idx = s.nodes <= 1 ? 0 : s.nodes == 2 ? 1 : 2;
  const double n = static_cast<double>(s.ranks), nodes = static_cast<double>(std::max<int64_t>(1, s.nodes));
  const double ppn = n / nodes;
  const NcclGraph& g = graph_of(t, a);
  const bool ar = pat == CommPattern::AllReduce;
  const double ch = static_cast<double>(g.channels);
  const double ll_max = s.nodes <= 1 ? kLlMaxBw[arch][0] : kLlMaxBw[0][nodes_idx];

  // Bandwidth (tuning.cc L267-L352).
  double b = s.nodes <= 2 ? g.bw_intra_GBps : g.bw_inter_GBps;
  if (a == NcclAlgorithm::Nvls || a == NcclAlgorithm::NvlsTree) {
    double intra = g.bw_intra_GBps * kNvlsEfficiency[arch] * (ch - 1) / ch;
    intra *= ar ? 2 : (ppn - 1) / ppn;
    const double inter = g.bw_inter_GBps * (a == NcclAlgorithm::NvlsTree && s.nodes <= 2 ? 2 : 1);
    b = std::min(intra, inter);
    if (a == NcclAlgorithm::NvlsTree) b = std::min(b, kPerChMaxNvlsTreeBw[arch][nodes_idx]);
  }
  double bus = ch * b;
  if (a == NcclAlgorithm::Ring && p == NcclProtocol::LL) bus = std::min(ll_max, 0.5 * bus);
  if (a == NcclAlgorithm::Ring && p == NcclProtocol::LL128)
    bus = std::min(0.92 * bus, ch * kPerChMaxRingLL128Bw[arch][nodes_idx]);
  if (a == NcclAlgorithm::Tree && ar) bus = std::min(0.92 * bus, ch * kPerChMaxTreeBw[arch][nodes_idx]);
  if (a == NcclAlgorithm::Tree && p == NcclProtocol::LL) bus = std::min(bus / 3.8, ll_max);
  if (a == NcclAlgorithm::Tree && p == NcclProtocol::LL128)
    bus = std::min(bus * (s.nodes <= 1 ? 7.0 / 9.0 : 120.0 / 128.0), ch * kPerChMaxTreeLL128Bw[arch][nodes_idx]);
  if (a == NcclAlgorithm::Pat) bus *= 0.75;
  const double nsteps = ar ? 2 * (n - 1) : n - 1;
  double alg = bus;
  if (a == NcclAlgorithm::Ring || ((a == NcclAlgorithm::Nvls || a == NcclAlgorithm::NvlsTree) && ar))
    alg = bus * n / nsteps;
  else if (a == NcclAlgorithm::Tree)
    alg = bus * 0.5;  // PAT and NVLS all-gather / reduce-scatter: no conversion (their bytes are the whole buffer)

  // Latency (tuning.cc L353-L401).
  const auto& hw_intra = s.node.intra == IntraNodeKind::PCIe ? kPcieLatencyUs : kNvlinkLatencyUs;
  double lat = kBaseLatencyUs[idx(a)][idx(p)];
  double intra = hw_intra[idx(a)][idx(p)];
  const double inter = (ppn <= 1 ? kNetLatencyUs[idx(NcclAlgorithm::Tree)][idx(p)] : kNetLatencyUs[idx(a)][idx(p)]);
  const double log2_nodes = std::floor(std::log2(nodes));
  switch (a) {
    case NcclAlgorithm::Ring: {
      const double net_overhead = s.nodes > 1 ? kNetOverheadUs * (p == NcclProtocol::Simple ? 3 : 1) : 0;
      intra = std::max(intra, net_overhead);
      const double inter_steps = s.nodes <= 1 ? 0 : ar ? 2 * (nodes - 1) : nodes - 1;
      lat += (nsteps - inter_steps) * intra + inter_steps * inter;
      break;
    }
    case NcclAlgorithm::Tree:
      lat += 2 * ((std::floor(n / nodes) - 1) * intra + log2_nodes * inter);
      break;
    case NcclAlgorithm::Nvls:
      lat = intra + (s.nodes > 1 ? inter : 0);
      break;
    case NcclAlgorithm::NvlsTree:
      lat += intra + 2 * log2_nodes * inter;
      break;
    case NcclAlgorithm::Pat:
      lat += log2_nodes * inter / 3.5 + 2.8 * n;
      break;
    default: break;
  }
  return {lat, alg};
}

// Channels the call runs (enqueue.cc): all of them, fewer while the bytes per thread are below
// the protocol's threshold; NVLS runs its own CTAs.
int64_t call_channels(const NcclTopology& t, const CommShape& s, NcclAlgorithm a, NcclProtocol p, double bytes) {
  if (a == NcclAlgorithm::Nvls || a == NcclAlgorithm::NvlsTree) return t.nvls_ctas;
  const double threads = p == NcclProtocol::LL128 ? 640 : 512;
  double threshold = kThreadThreshold[idx(p)];
  if (a == NcclAlgorithm::Ring && p == NcclProtocol::LL) threshold *= static_cast<double>(s.ranks);
  int64_t nc = t.coll_channels;
  while (nc > 1 && bytes < static_cast<double>(nc) * threads * threshold) --nc;
  return std::max<int64_t>(1, nc);
}

}  // namespace

std::vector<NcclChoice> nccl_candidates(const NcclTopology& t, const CommShape& s, CommPattern pat, double bytes,
                                        const NcclSettings& settings) {
  std::vector<NcclChoice> out;
  if (s.ranks <= 1) {
    out.push_back({NcclAlgorithm::Ring, NcclProtocol::Simple, 0, 0, bytes, 1});
    return out;
  }
  for (NcclAlgorithm a : kNcclAlgorithms)
    for (NcclProtocol p : kNcclProtocols) {
      if (!supported(t, s, pat, a, p, settings)) continue;
      Model m = model(t, s, pat, a, p);
      if (!(m.bandwidth_GBps > 0)) continue;
      if (a == NcclAlgorithm::Tree && pat == CommPattern::AllReduce && bytes >= 64) {
        const int log_size = static_cast<int>(std::floor(std::log2(bytes / 64)));
        if (log_size >= 0 && log_size < 23) m.bandwidth_GBps *= kTreeCorrection[idx(p)][log_size];
      }
      if (a == NcclAlgorithm::Ring && p == NcclProtocol::Simple && pat == CommPattern::AllReduce && s.nodes > 1 &&
          bytes / (static_cast<double>(t.coll_channels) * static_cast<double>(s.ranks)) >= 64)
        m.latency_us *= s.node.compute_capability >= 80 ? 1.4 : 1.9;
      out.push_back({a, p, m.latency_us * 1e-6, m.bandwidth_GBps * 1e9, bytes, call_channels(t, s, a, p, bytes)});
    }
  return out;
}

std::optional<NcclChoice> nccl_choose(const NcclTopology& t, const CommShape& s, CommPattern pat, double bytes,
                                      const NcclSettings& settings) {
  std::optional<NcclChoice> best;
  for (const NcclChoice& c : nccl_candidates(t, s, pat, bytes, settings))
    if (!best || c.time_s() < best->time_s()) best = c;  // strict: the lower index wins a tie
  return best;
}

NcclChoice p2p_choice(const NcclTopology& t, const CommShape& s, double bytes, bool peer_on_other_node) {
  // Per-op protocol and channels (enqueue.cc, addP2pToPlan). A send of at most the per-peer budget
  // x NCCL_P2P_LL_THRESHOLD (16 KiB) runs LL, its step the LL buffer's eighth (64 KiB); a larger
  // one Simple, its step p2pChunkSize (init.cc): 128 KiB across nodes, 512 KiB on one all-NVLink
  // node, 128 KiB on one PCIe node. A channel's part is step/2 .. step across nodes and step/8 ..
  // 32 x step on one node. Channels: the per-op budget (the per-peer one shared by all ranks), or
  // fewer where divUp(bytes, min part) is less, doubled while a part is above the max.
  constexpr double kLLThresholdBytes = 16384;      // NCCL_P2P_LL_THRESHOLD
  constexpr double kLLStepBytes = 524288.0 / 8;   // DEFAULT_LL_BUFFSIZE / NCCL_STEPS
  const bool multi_node = !s.single_node();
  const int64_t per_peer = std::max<int64_t>(1, t.p2p_channels_per_peer);
  const bool ll = bytes <= static_cast<double>(per_peer) * kLLThresholdBytes;
  const double step = ll                                                     ? kLLStepBytes
                      : !multi_node && s.node.intra != IntraNodeKind::PCIe ? 512.0 * 1024
                                                                           : 128.0 * 1024;
  const double min_part = multi_node ? step / 2 : step / 8;
  const double max_part = multi_node ? step : 32 * step;
  int64_t per_op_min = per_peer;
  while (per_op_min > 1 && per_op_min * s.ranks > t.p2p_channels) per_op_min /= 2;
  int64_t nc = std::max<int64_t>(1, std::min<int64_t>(per_op_min, static_cast<int64_t>(std::ceil(bytes / min_part))));
  double part = std::max(min_part, std::ceil(bytes / static_cast<double>(nc)));
  while (part > max_part && nc <= per_peer / 2) {
    nc *= 2;
    part = std::ceil(bytes / static_cast<double>(nc));
  }
  // Each channel moves the ring's per-channel speed over NVLink, the inter-node one over the
  // network; LL's 16-byte lines carry 8 bytes of data, half (NCCL's ring LL model, tuning.cc).
  const double per_channel = (peer_on_other_node ? t.p2p_net_channel_GBps : t.p2p_nvlink_channel_GBps) * (ll ? 0.5 : 1.0);
  return {NcclAlgorithm::Direct, ll ? NcclProtocol::LL : NcclProtocol::Simple, 0,
          static_cast<double>(nc) * per_channel * 1e9, bytes, nc};
}

}  // namespace hcpsim

// NCCL's choice of algorithm, protocol and channels for one collective call, by NCCL's own cost
// model (src/graph/tuning.cc, src/enqueue.cc of NCCL 2.28; docs/nccl.md):
//
//   per (algorithm, protocol): latency L (base + hops x per-hop latency of NVLink, PCIe or the
//   network) and bandwidth B (channels x per-channel bandwidth, capped per protocol, converted
//   from bus to algorithm bandwidth); time = L + bytes / B, bytes the nccl-tests size (the whole
//   gathered buffer for all-gather and reduce-scatter); NCCL runs the fastest, the lower
//   algorithm and then protocol index on a tie, among those NCCL_ALGO / NCCL_PROTO allow and
//   the hardware supports (NVLS needs NVLink SHARP; PAT one rank per node; LL128 NVLink).
//
// Send/recv and all-to-all are not tuned: they run NCCL's point-to-point channels (p2p_choice).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "nccl/search.hpp"
#include "rules/collective.hpp"
#include "rules/nccl_algorithm.hpp"

namespace hcpsim {

struct NcclChoice {
  NcclAlgorithm algorithm = NcclAlgorithm::Ring;
  NcclProtocol protocol = NcclProtocol::Simple;
  double latency_s = 0;            // NCCL's latency for the call
  double bandwidth_Bps = 0;        // NCCL's algorithm bandwidth: bytes / (time - latency)
  double bytes = 0;                // the bytes NCCL's model divides (nccl-tests size)
  int64_t channels = 0;            // CTAs the call runs (per peer for p2p)
  bool calibrated = false;         // latency and bandwidth are a calibration's measurement, not NCCL's model
  double time_s() const { return latency_s + (bandwidth_Bps > 0 ? bytes / bandwidth_Bps : 0); }
};

// Every (algorithm, protocol) NCCL would consider for this call on this communicator, with its
// modelled time; the settings' masks applied. Empty when none is available.
std::vector<NcclChoice> nccl_candidates(const NcclTopology& t, const CommShape& s, CommPattern p, double nccl_bytes,
                                        const NcclSettings& settings);

// The one NCCL runs (AllGather, ReduceScatter, AllReduce); nullopt when the settings leave none
// (NCCL >= 2.24 fails the call then).
std::optional<NcclChoice> nccl_choose(const NcclTopology& t, const CommShape& s, CommPattern p, double nccl_bytes,
                                      const NcclSettings& settings);

// A send of `bytes` to one peer (send/recv, or one peer of an all-to-all), on the same node or
// across nodes: NCCL's p2p channels for it (enqueue.cc) and what they move per second.
NcclChoice p2p_choice(const NcclTopology& t, const CommShape& s, double bytes, bool peer_on_other_node);

}  // namespace hcpsim

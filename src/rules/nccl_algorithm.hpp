// NCCL's algorithms and protocols by the names NCCL_ALGO and NCCL_PROTO use: the one list the
// scenario (software.nccl), the NCCL model (src/nccl/), the engine and the reports share.
// Plain C++17. Sources: NCCL's env documentation (NCCL_ALGO, NCCL_PROTO) and
// src/include/plugin/nccl_tuner.h (the algorithm and protocol indices), docs/nccl.md.
#pragma once

#include <cstdint>
#include <string_view>

namespace hcpsim {

// In NCCL's index order (ties in its tuner go to the lower index), then Direct: the point-to-point
// sends NCCL runs for send/recv and all-to-all, which its tuner does not choose.
enum class NcclAlgorithm : uint8_t { Tree, Ring, CollNetDirect, CollNetChain, Nvls, NvlsTree, Pat, Direct };
enum class NcclProtocol : uint8_t { LL, LL128, Simple };

inline constexpr NcclAlgorithm kNcclAlgorithms[] = {NcclAlgorithm::Tree,         NcclAlgorithm::Ring,
                                                    NcclAlgorithm::CollNetDirect, NcclAlgorithm::CollNetChain,
                                                    NcclAlgorithm::Nvls,         NcclAlgorithm::NvlsTree,
                                                    NcclAlgorithm::Pat};
inline constexpr NcclProtocol kNcclProtocols[] = {NcclProtocol::LL, NcclProtocol::LL128, NcclProtocol::Simple};

// NCCL_ALGO's spelling in lower case ("tree", "ring", "collnet_direct", "collnet_chain", "nvls",
// "nvls_tree", "pat"); "p2p" for Direct.
inline const char* to_string(NcclAlgorithm a) {
  switch (a) {
    case NcclAlgorithm::Tree: return "tree";
    case NcclAlgorithm::Ring: return "ring";
    case NcclAlgorithm::CollNetDirect: return "collnet_direct";
    case NcclAlgorithm::CollNetChain: return "collnet_chain";
    case NcclAlgorithm::Nvls: return "nvls";
    case NcclAlgorithm::NvlsTree: return "nvls_tree";
    case NcclAlgorithm::Pat: return "pat";
    case NcclAlgorithm::Direct: return "p2p";
  }
  return "?";
}

// NCCL_PROTO's spelling: "LL", "LL128", "Simple".
inline const char* to_string(NcclProtocol p) {
  switch (p) {
    case NcclProtocol::LL: return "LL";
    case NcclProtocol::LL128: return "LL128";
    case NcclProtocol::Simple: return "Simple";
  }
  return "?";
}

}  // namespace hcpsim

// The NCCL CpTransport: the CP ranks are the NcclWorld's ranks (one per process, or the -g N
// GPUs of one process), each exchange an NCCL operation on a communicator split off the world
// for the exchange's group family (launch.h: split_plan), made on first use and cached.
#pragma once
#include <memory>

#include "cp_transport.h"

namespace hcpcal {

class NcclWorld;
// `world` must outlive the transport.
std::unique_ptr<CpTransport> make_nccl_transport(NcclWorld& world);

}  // namespace hcpcal

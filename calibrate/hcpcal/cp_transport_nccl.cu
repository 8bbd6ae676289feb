// CpTransport over NCCL (cp_transport_nccl.h). Each local rank has its own compute, side and
// communication streams on its device. A group operation is one ncclGroupStart/End around the
// parts of every member this process drives, on the communicator of the group's family
// (split_plan: whole CP group, a2a+p2p inner blocks, outer strided rings); its NCCL rank in
// that communicator is its position in the group, so ring shifts and all-to-all slots keep
// the group's order. Every process must call the same operations in the same order (SPMD), as
// TE's ranks do; the first use of a family splits the world communicator (collective).
// All-to-all is grouped ncclSend/ncclRecv, one pair per peer, as TE's a2a (flash_attn_a2a).
#include <map>
#include <string>

#include "cp_transport_nccl.h"
#include "cuda_check.h"
#include "launch.cuh"

namespace hcpcal {

namespace {

class NcclTransport final : public CpTransport {
 public:
  explicit NcclTransport(NcclWorld& w) : w_(w) {
    for (int s = 0; s < w_.slots(); ++s) {
      HCPSIM_CUDA_CHECK(cudaSetDevice(w_.device(s)));
      for (auto* v : {&compute_, &side_, &comm_}) {
        cudaStream_t st{};
        HCPSIM_CUDA_CHECK(cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking));
        v->push_back(st);
      }
    }
    HCPSIM_CUDA_CHECK(cudaSetDevice(w_.device(0)));
    create_pools();
  }
  ~NcclTransport() override {
    for (auto* v : {&compute_, &side_, &comm_})
      for (cudaStream_t st : *v) {
        cudaStreamSynchronize(st);
        cudaStreamDestroy(st);
      }
  }

  int world() const override { return w_.ranks(); }
  std::vector<int> local_ranks() const override {
    std::vector<int> r;
    for (int s = 0; s < w_.slots(); ++s) r.push_back(w_.rank_of(s));
    return r;
  }
  int device_of(int rank) const override { return w_.device(slot(rank)); }
  const char* launch() const override { return "nccl"; }
  cudaStream_t compute_stream(int rank) override { return compute_[slot(rank)]; }
  cudaStream_t side_stream(int rank) override { return side_[slot(rank)]; }
  cudaStream_t comm_stream(int rank) override { return comm_[slot(rank)]; }

  void send_recv(const CpGroup& ring, int shift, const std::vector<const void*>& send, const std::vector<void*>& recv,
                 size_t bytes) override {
    const int n = ring.size();
    for_each_member(ring, [&](int i, int s, ncclComm_t c) {
      HCPCAL_NCCL_CHECK(ncclSend(send[i], bytes, ncclUint8, ((i + shift) % n + n) % n, c, comm_[s]));
      HCPCAL_NCCL_CHECK(ncclRecv(recv[i], bytes, ncclUint8, ((i - shift) % n + n) % n, c, comm_[s]));
    });
  }
  void all_gather(const CpGroup& g, const std::vector<const void*>& send, const std::vector<void*>& recv,
                  size_t bytes_per_rank) override {
    for_each_member(g, [&](int i, int s, ncclComm_t c) {
      HCPCAL_NCCL_CHECK(ncclAllGather(send[i], recv[i], bytes_per_rank, ncclUint8, c, comm_[s]));
    });
  }
  void all_to_all(const CpGroup& g, const std::vector<const void*>& send, const std::vector<void*>& recv,
                  size_t bytes_per_peer) override {
    for_each_member(g, [&](int i, int s, ncclComm_t c) {
      for (int j = 0; j < g.size(); ++j) {
        HCPCAL_NCCL_CHECK(ncclSend(static_cast<const char*>(send[i]) + j * bytes_per_peer, bytes_per_peer, ncclUint8, j,
                                   c, comm_[s]));
        HCPCAL_NCCL_CHECK(
            ncclRecv(static_cast<char*>(recv[i]) + j * bytes_per_peer, bytes_per_peer, ncclUint8, j, c, comm_[s]));
      }
    });
  }
  void reduce_scatter_bf16_sum(const CpGroup& g, const std::vector<const void*>& send, const std::vector<void*>& recv,
                               size_t elems_per_rank) override {
    for_each_member(g, [&](int i, int s, ncclComm_t c) {
      HCPCAL_NCCL_CHECK(ncclReduceScatter(send[i], recv[i], elems_per_rank, ncclBfloat16, ncclSum, c, comm_[s]));
    });
  }

 private:
  int slot(int rank) const { return rank - w_.rank_of(0); }

  // fn(position in group, slot, communicator) for every member this process drives, inside
  // one NCCL group; the family's communicators are split on first use.
  template <class Fn>
  void for_each_member(const CpGroup& g, Fn fn) {
    const SplitPlan plan = split_plan(g.ranks, w_.ranks());
    std::string name = "cp";
    for (int r = 0; r < w_.ranks(); ++r) name += "," + std::to_string(plan.color[r]) + ":" + std::to_string(plan.key[r]);
    const std::vector<ncclComm_t>& comms = w_.split(name, plan.color, plan.key);
    HCPCAL_NCCL_CHECK(ncclGroupStart());
    for (int s = 0; s < w_.slots(); ++s) {
      const int i = g.index_of(w_.rank_of(s));
      if (i >= 0) fn(i, s, comms[s]);
    }
    HCPCAL_NCCL_CHECK(ncclGroupEnd());
  }

  NcclWorld& w_;
  std::vector<cudaStream_t> compute_, side_, comm_;
};

}  // namespace

std::unique_ptr<CpTransport> make_nccl_transport(NcclWorld& world) { return std::make_unique<NcclTransport>(world); }

}  // namespace hcpcal

// The transport hcpcal's CP attention (cp_attention.h) is written against, once, for "the
// ranks this process drives":
//   virtual: all R ranks in one process on one GPU; K/V move between per-rank buffers with
//            device copies on a second stream (cp_transport_virtual.cu);
//   nccl:    one rank per process, or every GPU of a node in one process (cp_transport_nccl.cu).
//
// Ranks are global CP ranks 0..world()-1. A CpGroup lists the global ranks of one exchange in
// group order (the whole CP group; an a2a+p2p inner group of A consecutive ranks; an outer
// ring of P ranks with stride A). Pointer vectors of the group operations are indexed by
// position in group.ranks; an entry of a member this process does not drive is ignored (pass
// nullptr). A group operation enqueues the part of every member this process drives on that
// member's comm_stream(); ordering against compute is the caller's job (events).
//
// Memory: every tensor of a rank's pass comes from that rank's own CUDA memory pool through
// alloc()/free() (stream-ordered), so peak_bytes() after reset_peak() is the pass's peak
// (cudaMemPoolAttrUsedMemHigh). Pools keep freed memory (release threshold = max), so the
// timed iterations do not pay for cudaMalloc. Call create_pools() from the derived
// constructor, once device_of() works.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <map>
#include <memory>
#include <vector>

namespace hcpcal {

struct CpGroup {
  std::vector<int> ranks;  // global CP ranks, in group order
  int size() const { return static_cast<int>(ranks.size()); }
  int index_of(int rank) const;  // position of `rank` in the group, -1 when absent
};

class CpTransport {
 public:
  virtual ~CpTransport();
  virtual int world() const = 0;                     // CP size R
  virtual std::vector<int> local_ranks() const = 0;  // the ranks this process drives, ascending
  virtual int device_of(int rank) const = 0;         // CUDA device of a local rank
  virtual const char* launch() const = 0;            // "virtual" | "nccl" (the record's config.launch)
  // Where the rank's attention kernels run (TE's current stream). Virtual: one stream shared
  // by all ranks, so kernel timings do not overlap each other.
  virtual cudaStream_t compute_stream(int rank) = 0;
  // TE's cp_stream, where TE puts some attention kernels (p2p forward odd steps, all_gather's
  // second chunk, the a2a reorders). Virtual: the compute stream (clean kernel timings).
  virtual cudaStream_t side_stream(int rank) = 0;
  // Where this transport's operations are enqueued for the rank (virtual: one copy stream
  // for all ranks; nccl: the communicator's stream).
  virtual cudaStream_t comm_stream(int rank) = 0;

  // Ring step: member i sends `bytes` from send[i] to member (i + shift) mod n and receives
  // into recv[i] from member (i - shift) mod n (forward ring shift +1, backward -1).
  // Where exchanges_per_rank(), recv may hold null entries: those members receive nothing now.
  virtual void send_recv(const CpGroup& ring, int shift, const std::vector<const void*>& send,
                         const std::vector<void*>& recv, size_t bytes) = 0;
  // How the rings issue a step's transfers. false (NCCL): one grouped call for every local
  // rank before the step's kernels, as TE issues its send/recv. true (virtual): rank by rank,
  // each right before that rank's kernel, since virtual ranks share one GPU's memory: issued
  // at once, all R ranks' transfers would run beside one kernel, while on R GPUs each
  // memory carries one rank's send and receive beside that rank's kernel.
  virtual bool exchanges_per_rank() const { return false; }
  // recv[i] = [n][bytes_per_rank]: slot j holds send[j] of member j.
  virtual void all_gather(const CpGroup& g, const std::vector<const void*>& send, const std::vector<void*>& recv,
                          size_t bytes_per_rank) = 0;
  // send[i] = [n][bytes_per_peer], slot j goes to member j; recv[i] slot j came from member j.
  virtual void all_to_all(const CpGroup& g, const std::vector<const void*>& send, const std::vector<void*>& recv,
                          size_t bytes_per_peer) = 0;
  // send[i] = [n][elems_per_rank] bf16; recv[i] (elems_per_rank bf16) = sum over members j of
  // slot i of send[j] (fp32 sum, one rounding to bf16 in the virtual transport).
  virtual void reduce_scatter_bf16_sum(const CpGroup& g, const std::vector<const void*>& send,
                                       const std::vector<void*>& recv, size_t elems_per_rank) = 0;

  // Makes device_of(rank) current (the caller launches that rank's kernels next).
  void use(int rank) const;
  // Stream-ordered allocation from / free to the rank's pool (256-byte aligned).
  void* alloc(int rank, size_t bytes, cudaStream_t stream);
  void free(int rank, void* ptr, cudaStream_t stream);
  // cudaMemPoolAttrUsedMemHigh of the rank's pool, and its reset to the current use.
  size_t peak_bytes(int rank) const;
  size_t used_bytes(int rank) const;
  void reset_peak(int rank);
  // Bytes a 1-byte allocation occupies in a pool (its rounding), measured at creation.
  size_t pool_granularity_bytes() const { return granularity_bytes_; }

 protected:
  void create_pools();  // one pool per local rank, on device_of(rank)

 private:
  std::map<int, cudaMemPool_t> pools_;
  size_t granularity_bytes_ = 0;
};

// All R ranks on the current device; one compute stream, one copy stream.
std::unique_ptr<CpTransport> make_virtual_transport(int ranks);

}  // namespace hcpcal

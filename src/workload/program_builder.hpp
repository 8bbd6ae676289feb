// Appends ops to one rank's program while keeping the stream semantics of
// workload.hpp: per-stream order, "issued by" dependencies of comm ops, and
// CUDA stream waits (req.wait(), wait_stream) as pending dependencies of the
// next compute op on the waiting stream.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "workload/workload.hpp"

namespace hcpsim {

class ProgramBuilder {
 public:
  explicit ProgramBuilder(RankProgram& program);

  // Phase and label prefix of the ops appended from now on ("recompute." in
  // the backward re-run of a forward).
  void set_phase(Phase p) { phase_ = p; }
  Phase phase() const { return phase_; }
  void set_prefix(std::string_view prefix) { prefix_ = prefix; }

  // A compute op on CUDA stream `s`; it also waits for everything the stream
  // was told to wait for since its last compute op.
  int32_t elementwise(Stream s, std::string_view label, double bytes, std::vector<int32_t> deps = {});
  int32_t gemm(Stream s, std::string_view label, const GemmShape& shape, double bytes_per_element);
  int32_t attention(Stream s, std::string_view label, const AttentionShape& shape, double flops,
                    double bytes, std::vector<int32_t> deps = {});

  // A collective on NCCL stream `nccl`, issued by CUDA stream `issuer`.
  int32_t collective(Stream nccl, Stream issuer, std::string_view label, CommPattern pattern,
                     int32_t group, double message_bytes, std::vector<int32_t> deps = {});
  // One isend/irecv pair (TE's flash_attn_p2p_communicate), issued by `issuer`.
  int32_t sendrecv(Stream nccl, Stream issuer, std::string_view label, int32_t send_peer,
                   int32_t recv_peer, double send_bytes, double recv_bytes,
                   std::vector<int32_t> deps = {});

  // `waiter` waits for op `id` (req.wait() on that stream).
  void wait(Stream waiter, int32_t id);
  // waiter.wait_stream(waited): everything issued on `waited` so far.
  void wait_stream(Stream waiter, Stream waited);
  // A synchronous collective: the issuing stream waits for it.
  int32_t sync(Stream issuer, int32_t comm_id) {
    wait(issuer, comm_id);
    return comm_id;
  }

  int32_t last(Stream s) const { return last_[static_cast<int>(s)]; }
  RankProgram& program() { return prog_; }

 private:
  Op& append(Stream s, std::string_view label, std::vector<int32_t>&& deps);
  int32_t compute_op(Stream s, std::string_view label, ComputeClass c, double flops, double bytes,
                     std::vector<int32_t>&& deps);
  int32_t comm_op(Stream nccl, Stream issuer, std::string_view label, std::vector<int32_t>&& deps);

  RankProgram& prog_;
  Phase phase_ = Phase::Forward;
  std::string prefix_;
  int64_t next_tag_ = 1;  // same op sequence on every rank => same tags
  std::array<int32_t, kNumStreams> last_;
  std::array<std::vector<int32_t>, kNumStreams> pending_;
};

}  // namespace hcpsim

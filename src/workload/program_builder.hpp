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

  // Phase, area and recompute flag of the ops appended from now on; every op's label is
  // op_label(area, phase, what, recompute) of the `what` its call names (rules/op_label.hpp).
  void set_phase(Phase p) { phase_ = p; }
  Phase phase() const { return phase_; }
  void set_area(OpArea a) { area_ = a; }
  OpArea area() const { return area_; }
  void set_recompute(bool r) { recompute_ = r; }

  // A compute op on CUDA stream `s` named `what`; it also waits for everything the stream
  // was told to wait for since its last compute op.
  int32_t elementwise(Stream s, std::string_view what, double bytes, std::vector<int32_t> deps = {});
  // A memory-bound kernel of a kind with its own efficiency (norm, RoPE, SwiGLU, ...); a fused one
  // at `fused_of_copy` of the copy's (rules/fused_kernels.hpp).
  int32_t elementwise(Stream s, std::string_view what, ElementwiseKind kind, double bytes, double fused_of_copy = 1.0);
  int32_t gemm(Stream s, std::string_view what, const GemmShape& shape, double bytes_per_element);
  int32_t attention(Stream s, std::string_view what, const AttentionShape& shape, double flops,
                    double bytes, std::vector<int32_t> deps = {});

  // A collective on NCCL stream `nccl`, issued by CUDA stream `issuer`.
  int32_t collective(Stream nccl, Stream issuer, std::string_view what, CommPattern pattern,
                     int32_t group, double message_bytes, std::vector<int32_t> deps = {});
  // One isend/irecv pair (TE's flash_attn_p2p_communicate), issued by `issuer`, on
  // communicator `group` (-1: none named; the engine then plans it as a two-rank pair).
  int32_t sendrecv(Stream nccl, Stream issuer, std::string_view what, int32_t send_peer,
                   int32_t recv_peer, double send_bytes, double recv_bytes, int32_t group,
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
  Op& append(Stream s, std::string_view what, std::vector<int32_t>&& deps);
  int32_t compute_op(Stream s, std::string_view what, ComputeClass c, double flops, double bytes,
                     std::vector<int32_t>&& deps);
  int32_t comm_op(Stream nccl, Stream issuer, std::string_view what, std::vector<int32_t>&& deps);

  RankProgram& prog_;
  Phase phase_ = Phase::Forward;
  OpArea area_ = OpArea::Layer;
  bool recompute_ = false;
  int64_t next_tag_ = 1;  // same op sequence on every rank => same tags
  std::array<int32_t, kNumStreams> last_;
  std::array<std::vector<int32_t>, kNumStreams> pending_;
};

// The ops appended while it lives belong to `area`; the area before comes back after.
class AreaScope {
 public:
  AreaScope(ProgramBuilder& b, OpArea area) : b_(b), saved_(b.area()) { b.set_area(area); }
  ~AreaScope() { b_.set_area(saved_); }
  AreaScope(const AreaScope&) = delete;
  AreaScope& operator=(const AreaScope&) = delete;

 private:
  ProgramBuilder& b_;
  OpArea saved_;
};

}  // namespace hcpsim

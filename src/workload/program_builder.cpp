#include "workload/program_builder.hpp"

#include <algorithm>
#include <cassert>

namespace hcpsim {

namespace {
void add_dep(std::vector<int32_t>& deps, int32_t id) {
  if (id >= 0 && std::find(deps.begin(), deps.end(), id) == deps.end()) deps.push_back(id);
}
}  // namespace

ProgramBuilder::ProgramBuilder(RankProgram& program) : prog_(program) { last_.fill(-1); }

Op& ProgramBuilder::append(Stream s, std::string_view what, std::vector<int32_t>&& deps) {
  Op& op = prog_.ops.emplace_back();
  op.id = static_cast<int32_t>(prog_.ops.size() - 1);
  op.stream = s;
  op.phase = phase_;
  std::sort(deps.begin(), deps.end());
  op.deps = std::move(deps);
  op.area = area_;
  op.recompute = recompute_;
  op.label = op_label(area_, phase_, what, recompute_);
  last_[static_cast<int>(s)] = op.id;
  return op;
}

int32_t ProgramBuilder::compute_op(Stream s, std::string_view what, ComputeClass c, double flops,
                                   double bytes, std::vector<int32_t>&& deps) {
  auto& pending = pending_[static_cast<int>(s)];
  for (int32_t id : pending) add_dep(deps, id);
  pending.clear();
  Op& op = append(s, what, std::move(deps));
  op.kind = OpKind::Compute;
  op.compute_class = c;
  op.flops = flops;
  op.bytes = bytes;
  return op.id;
}

int32_t ProgramBuilder::elementwise(Stream s, std::string_view what, double bytes,
                                    std::vector<int32_t> deps) {
  return compute_op(s, what, ComputeClass::Elementwise, 0, bytes, std::move(deps));
}

int32_t ProgramBuilder::elementwise(Stream s, std::string_view what, ElementwiseKind kind, double bytes,
                                    double fused_of_copy) {
  assert(fused_of_copy > 0 && (kind == ElementwiseKind::Fused || fused_of_copy == 1.0));
  const int32_t id = elementwise(s, what, bytes);
  prog_.ops[id].elementwise = kind;
  prog_.ops[id].fused_of_copy = fused_of_copy;
  return id;
}

int32_t ProgramBuilder::gemm(Stream s, std::string_view what, const GemmShape& g,
                             double bytes_per_element) {
  const double m = double(g.m), n = double(g.n), k = double(g.k);
  // Read A[m,k] and B[k,n], write C[m,n].
  const int32_t id = compute_op(s, what, ComputeClass::Gemm, 2 * m * n * k,
                                (m * k + k * n + m * n) * bytes_per_element, {});
  prog_.ops[id].gemm = g;
  return id;
}

int32_t ProgramBuilder::attention(Stream s, std::string_view what, const AttentionShape& shape,
                                  double flops, double bytes, std::vector<int32_t> deps) {
  const int32_t id = compute_op(s, what, ComputeClass::Attention, flops, bytes, std::move(deps));
  prog_.ops[id].attn = shape;
  return id;
}

int32_t ProgramBuilder::comm_op(Stream nccl, Stream issuer, std::string_view what,
                                std::vector<int32_t>&& deps) {
  // The NCCL stream starts after everything the issuing stream has queued,
  // including the waits it was told to do.
  add_dep(deps, last(issuer));
  for (int32_t id : pending_[static_cast<int>(issuer)]) add_dep(deps, id);
  Op& op = append(nccl, what, std::move(deps));
  op.kind = OpKind::Comm;
  op.tag = next_tag_++;
  return op.id;
}

int32_t ProgramBuilder::collective(Stream nccl, Stream issuer, std::string_view what,
                                   CommPattern pattern, int32_t group, double message_bytes,
                                   std::vector<int32_t> deps) {
  assert(pattern != CommPattern::SendRecv && group >= 0);
  const int32_t id = comm_op(nccl, issuer, what, std::move(deps));
  Op& op = prog_.ops[id];
  op.pattern = pattern;
  op.group = group;
  op.message_bytes = message_bytes;
  return id;
}

int32_t ProgramBuilder::sendrecv(Stream nccl, Stream issuer, std::string_view what,
                                 int32_t send_peer, int32_t recv_peer, double send_bytes,
                                 double recv_bytes, int32_t group, std::vector<int32_t> deps) {
  const int32_t id = comm_op(nccl, issuer, what, std::move(deps));
  Op& op = prog_.ops[id];
  op.pattern = CommPattern::SendRecv;
  op.send_peer = send_peer;
  op.recv_peer = recv_peer;
  op.message_bytes = send_bytes;
  op.recv_bytes = recv_bytes;
  op.group = group;
  return id;
}

void ProgramBuilder::wait(Stream waiter, int32_t id) {
  add_dep(pending_[static_cast<int>(waiter)], id);
}

void ProgramBuilder::wait_stream(Stream waiter, Stream waited) {
  if (waiter == waited) return;
  wait(waiter, last(waited));
  // Waits queued on `waited` are part of what it has issued.
  for (int32_t id : pending_[static_cast<int>(waited)]) wait(waiter, id);
}

}  // namespace hcpsim

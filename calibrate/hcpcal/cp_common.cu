// CP attention plumbing: kernel timing, pool allocations, stream joins, the dispatch.
#include <stdexcept>

#include "cp_detail.h"
#include "cuda_check.h"

namespace hcpcal {

const char* to_string(CpKind k) {
  switch (k) {
    case CpKind::kP2p: return "p2p";
    case CpKind::kAllGather: return "all_gather";
    case CpKind::kA2a: return "a2a";
    case CpKind::kA2aP2p: return "a2a+p2p";
  }
  return "?";
}

KernelLog::~KernelLog() {
  for (auto& s : slots_) {
    cudaEventDestroy(s.start);
    cudaEventDestroy(s.end);
  }
}

void KernelLog::begin(int rank, const std::string& label, cudaStream_t s) {
  if (next_ == slots_.size()) {
    Slot slot;
    HCPSIM_CUDA_CHECK(cudaEventCreate(&slot.start));
    HCPSIM_CUDA_CHECK(cudaEventCreate(&slot.end));
    slots_.push_back(slot);
  }
  slots_[next_].rank = rank;
  slots_[next_].label = label;
  HCPSIM_CUDA_CHECK(cudaEventRecord(slots_[next_].start, s));
}

void KernelLog::end(cudaStream_t s) { HCPSIM_CUDA_CHECK(cudaEventRecord(slots_[next_++].end, s)); }

std::vector<KernelLog::Entry> KernelLog::read() const {
  std::vector<Entry> out;
  for (size_t i = 0; i < next_; ++i) {
    float ms = 0;
    HCPSIM_CUDA_CHECK(cudaEventElapsedTime(&ms, slots_[i].start, slots_[i].end));
    out.push_back({slots_[i].rank, slots_[i].label, ms * 1e-3});
  }
  return out;
}

Buf CpContext::alloc(int rank, size_t bytes) {
  Buf b;
  b.bytes = bytes;
  b.p = t.alloc(rank, bytes, t.compute_stream(rank));
  return b;
}

void CpContext::free(int rank, Buf& b) {
  if (b.owner && b.p) t.free(rank, b.p, t.compute_stream(rank));
  b = Buf{};
}

void cp_forward(CpContext& ctx) {
  switch (ctx.shape.kind) {
    case CpKind::kP2p: cpd::p2p_forward(ctx); return;
    case CpKind::kAllGather: cpd::all_gather_forward(ctx); return;
    case CpKind::kA2a:
    case CpKind::kA2aP2p: cpd::a2a_forward(ctx); return;
  }
}

void cp_backward(CpContext& ctx) {
  switch (ctx.shape.kind) {
    case CpKind::kP2p: cpd::p2p_backward(ctx); return;
    case CpKind::kAllGather: cpd::all_gather_backward(ctx); return;
    case CpKind::kA2a:
    case CpKind::kA2aP2p: cpd::a2a_backward(ctx); return;
  }
}

namespace cpd {

void stream_wait(cudaStream_t waiter, cudaStream_t on) {
  if (waiter == on) return;
  cudaEvent_t e{};
  HCPSIM_CUDA_CHECK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
  HCPSIM_CUDA_CHECK(cudaEventRecord(e, on));
  HCPSIM_CUDA_CHECK(cudaStreamWaitEvent(waiter, e));
  HCPSIM_CUDA_CHECK(cudaEventDestroy(e));  // released once it completed
}

void wait_on(CpContext& ctx, int rank, cudaStream_t waiter, cudaStream_t on) {
  ctx.t.use(rank);
  stream_wait(waiter, on);
}

void copy_async(void* dst, const void* src, size_t bytes, cudaStream_t s) {
  HCPSIM_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, s));
}

std::vector<RingMember> ring_members(const CpContext& ctx) {
  const int A = ctx.shape.kind == CpKind::kA2aP2p ? ctx.shape.a2a : 1;
  const int P = ctx.shape.ranks / A;
  std::vector<RingMember> out;
  for (size_t i = 0; i < ctx.ranks.size(); ++i) {
    const int c = ctx.ranks[i].rank;  // flat CP rank c: ring rank c / A, ring of ranks with c % A
    RingMember m;
    m.local = int(i);
    m.pos = c / A;
    for (int p = 0; p < P; ++p) m.ring.ranks.push_back(p * A + c % A);
    out.push_back(m);
  }
  return out;
}

void timed_fwd(CpContext& ctx, int rank, const std::string& label, const hcpsim::kernels::FwdArgs& a, cudaStream_t s) {
  ctx.log.begin(rank, label, s);
  hcpsim::kernels::flash_fwd(a, s);
  ctx.log.end(s);
}

void timed_bwd(CpContext& ctx, int rank, const std::string& label, const hcpsim::kernels::BwdArgs& a, cudaStream_t s) {
  ctx.log.begin(rank, label, s);
  hcpsim::kernels::flash_bwd(a, s);
  ctx.log.end(s);
}

}  // namespace cpd
}  // namespace hcpcal

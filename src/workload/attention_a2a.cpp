#include "workload/attention_a2a.hpp"

namespace hcpsim {

// Per tensor X (TE cp.py flash_attn_a2a_communicate, reorder_seq_chunks_for_a2a):
//  before_attn: current stream: view + movedim(-3, 0).contiguous()       -> copy
//               cp_stream:      wait a2a; movedim(0, seq_dim).contiguous() -> copy for bshd
//                               (a no-op for sbhd, seq_dim = 0); index_select -> copy
//  after_attn:  current stream: movedim(seq_dim, 0).contiguous()          -> copy for bshd;
//                               index_select                             -> copy
//               cp_stream:      wait a2a; movedim(0,-3).movedim(0,seq_dim).contiguous() -> copy
// A copy of X reads and writes |X|. Loop i = 0 .. n+1: launch a2a(i-1), then the
// cp_stream post-processing of i-2 and the current-stream pre-processing of i
// (in that order before attention, the other order after). Finally the current
// stream waits for cp_stream.
std::vector<int32_t> a2a_communicate(ProgramBuilder& b, Stream nccl, int32_t group,
                                     const std::vector<A2aTensor>& tensors, bool before_attn, QkvFormat format) {
  const int64_t n = static_cast<int64_t>(tensors.size());
  const double bshd = format == QkvFormat::Bshd ? 1 : 0;
  std::vector<int32_t> a2a(n, -1);
  auto label = [&](int64_t i, const char* what) {
    return "a2a_" + tensors[i].name + what;
  };
  auto pre = [&](int64_t i) {
    const double copies = before_attn ? 1 : 1 + bshd;
    b.elementwise(Stream::Compute, label(i, ".pre_copy"), copies * 2 * tensors[i].bytes);
  };
  auto post = [&](int64_t i) {
    b.wait(Stream::Cp, a2a[i]);
    const double copies = before_attn ? 1 + bshd : 1;
    b.elementwise(Stream::Cp, label(i, ".post_copy"), copies * 2 * tensors[i].bytes);
  };
  for (int64_t i = 0; i < n + 2; ++i) {
    if (i > 0 && i <= n)
      a2a[i - 1] = b.collective(nccl, Stream::Compute, label(i - 1, ""), CommPattern::AllToAll,
                                group, tensors[i - 1].bytes);
    if (before_attn) {
      if (i > 1) post(i - 2);
      if (i < n) pre(i);
    } else {
      if (i < n) pre(i);
      if (i > 1) post(i - 2);
    }
  }
  b.wait_stream(Stream::Compute, Stream::Cp);
  return a2a;
}

}  // namespace hcpsim

// AttnFuncWithCPAndKVAllGather (docs/cp-transports.md §3): synchronous K and V
// all-gathers, one kernel per local Q chunk over the visible KV prefix.
#include "workload/attention_cp.hpp"

#include <algorithm>
#include <cassert>
#include <string>

namespace hcpsim {

namespace {

struct ChunkTile {
  int64_t chunk_id = 0;
  int64_t skv = 0;  // keys the chunk's queries can see, ending at the chunk's end
  KernelMask mask = KernelMask::None;
};

// Chunk j = 0 is chunk r (current stream), j = 1 is chunk 2N-1-r (cp_stream).
// Causal: the prefix [0, (chunk_id+1)c), clipped to the window's first key,
// with a bottom-right causal mask. No mask: the whole gathered sequence.
ChunkTile chunk_tile(const CpAttention& a, int64_t j) {
  assert(a.local.documents.empty() && "all_gather over documents of unequal lengths is refused by validation");
  const int64_t c = a.local.len / 2;
  ChunkTile t;
  t.chunk_id = dual_chunk_id(a.cp, a.cp_rank, j);
  if (!a.causal) {
    t.skv = a.seq_length;
    return t;
  }
  const int64_t end = (t.chunk_id + 1) * c;
  const int64_t start = a.window ? std::max<int64_t>(0, t.chunk_id * c - (*a.window - 1)) : 0;
  t.skv = end - start;
  t.mask = KernelMask::CausalBottomRight;
  return t;
}

// K and V to sequence-first layout (a copy for bshd), the two synchronous
// all-gathers, and the reorder of each gathered tensor to natural order.
void gather_kv(ProgramBuilder& b, const CpAttention& a) {
  const double k = a.local.k_bytes(), n = double(a.cp);
  if (a.format == QkvFormat::Bshd) {
    b.elementwise(Stream::Compute, "k_seq_first_copy", 2 * k);
    b.elementwise(Stream::Compute, "v_seq_first_copy", 2 * k);
  }
  for (const char* t : {"k", "v"})
    b.sync(Stream::Compute, b.collective(Stream::NcclCp, Stream::Compute, std::string("ag_") + t,
                                         CommPattern::AllGather, a.cp_group, k));
  for (const char* t : {"k", "v"})
    b.elementwise(Stream::Compute, std::string("ag_") + t + ".reorder", 2 * n * k);
}

AttentionShape chunk_shape(const CpAttention& a, const ChunkTile& t, bool backward) {
  return attention_shape(a.local, a.local.len / 2, t.skv, t.mask, backward);
}

std::optional<int64_t> chunk_window(const CpAttention& a) {
  // no_mask + window is not modelled for all_gather (see attention_cp.hpp).
  return a.causal ? a.window : std::nullopt;
}

}  // namespace

void all_gather_forward(ProgramBuilder& b, const CpAttention& a) {
  gather_kv(b, a);
  b.wait_stream(Stream::Cp, Stream::Compute);
  for (int64_t j = 0; j < 2; ++j) {
    const Stream s = alternating_stream(j);
    const ChunkTile t = chunk_tile(a, j);
    const std::string base = chunk_what(t.chunk_id);
    attention_kernel(b, s, base, chunk_shape(a, t, false), chunk_window(a));
    // out[:, j].copy_(out_per_step[j]): half of O read and written.
    b.elementwise(s, base + ".out_copy", a.local.q_bytes());
  }
  b.wait_stream(Stream::Compute, Stream::Cp);
}

void all_gather_backward(ProgramBuilder& b, const CpAttention& a) {
  gather_kv(b, a);  // only the local K, V were saved
  const double kv = 2 * a.local.k_bytes(), n = double(a.cp);
  // Zero-initialized full-length dK and dV in the input dtype.
  b.elementwise(Stream::Compute, "dkv_zero", n * kv);
  b.wait_stream(Stream::Cp, Stream::Compute);
  int32_t add = -1;  // the dK/dV adds are serialized with an event
  for (int64_t j = 0; j < 2; ++j) {
    const Stream s = alternating_stream(j);
    const ChunkTile t = chunk_tile(a, j);
    const std::string base = chunk_what(t.chunk_id);
    attention_kernel(b, s, base, chunk_shape(a, t, true), chunk_window(a));
    // dK/dV of the visible range added into the full-length buffers.
    const double part = double(t.skv) / double(a.local.len) * kv;
    add = b.elementwise(s, base + ".dkv_add", 3 * part,
                        add >= 0 ? std::vector<int32_t>{add} : std::vector<int32_t>{});
  }
  b.wait_stream(Stream::Compute, Stream::Cp);
  b.elementwise(Stream::Compute, "dkv_reorder", 2 * n * kv);
  for (const char* t : {"dk", "dv"})
    b.sync(Stream::Compute, b.collective(Stream::NcclCp, Stream::Compute,
                                         std::string("rs_") + t, CommPattern::ReduceScatter,
                                         a.cp_group, a.local.k_bytes()));
  for (int64_t j = 0; j < 2; ++j)  // dQ chunks copied into place
    b.elementwise(Stream::Compute,
                  chunk_what(chunk_tile(a, j).chunk_id) + ".dq_copy",
                  a.local.q_bytes());
}

}  // namespace hcpsim

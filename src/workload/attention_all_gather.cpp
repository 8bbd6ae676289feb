// AttnFuncWithCPAndKVAllGather (docs/cp-transports.md §3): synchronous K and V
// all-gathers, one kernel per local Q chunk over the visible KV prefix.
#include "workload/attention_cp.hpp"

#include <algorithm>
#include <cassert>
#include <string>

namespace hcpsim {

namespace {

struct ChunkTile {
  int64_t skv = 0;  // keys the chunk's queries can see, ending at the chunk's end
  KernelMask mask = KernelMask::None;
};

// Chunk j = 0 is chunk r (current stream), j = 1 is chunk 2N-1-r (cp_stream).
int64_t chunk_id_of(const CpAttention& a, int64_t j) { return dual_chunk_id(a.cp, a.cp_rank, j); }

// The keys chunk j of one sequence (or document) sees, its rank's piece `len` tokens (two chunks of
// c = len/2). Causal: the prefix [0, (chunk_id+1)c), clipped to the window's first key, with a
// bottom-right causal mask. No mask: the whole gathered sequence, CP pieces.
ChunkTile chunk_tile(const CpAttention& a, int64_t len, int64_t j) {
  const int64_t c = len / 2, id = chunk_id_of(a, j);
  if (!a.causal) return {len * a.cp, KernelMask::None};
  const int64_t end = (id + 1) * c;
  const int64_t start = a.window ? std::max<int64_t>(0, id * c - (*a.window - 1)) : 0;
  return {end - start, KernelMask::CausalBottomRight};
}

// Chunk j's kernel. Packed documents (THD): TE's per-step cu_seqlens give every document's chunk
// j against that document's visible prefix, one varlen launch over the documents (over_documents).
AttentionShape chunk_shape(const CpAttention& a, int64_t j, bool backward) {
  return over_documents(a.local, [&](const AttnDims& g) {
    const ChunkTile t = chunk_tile(a, g.len, j);
    return attention_shape(g, g.len / 2, t.skv, t.mask, backward);
  });
}

// K and V to sequence-first layout (a copy for bshd), the two synchronous
// all-gathers, and the reorder of each gathered tensor to natural order (THD:
// thd_cp_rank_order_to_sequence_order, the same bytes).
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

std::optional<int64_t> chunk_window(const CpAttention& a) {
  // no_mask + window is not modelled for all_gather (see attention_cp.hpp).
  return a.causal ? a.window : std::nullopt;
}

}  // namespace

void all_gather_forward(ProgramBuilder& b, const CpAttention& a) {
  gather_kv(b, a);
  // TE from 2.18 zeroes a second output (all_gather_zeroes_an_output, rules/cp_schedule.hpp): THD
  // copies each chunk's valid tokens into it; sbhd and bshd return the other, empty one.
  assert((a.ag_zeroed_output || a.format != QkvFormat::Thd) && "THD all_gather from TE 2.18 (validation)");
  if (a.ag_zeroed_output) b.elementwise(Stream::Compute, "out_zero", a.local.q_bytes());
  b.wait_stream(Stream::Cp, Stream::Compute);
  for (int64_t j = 0; j < 2; ++j) {
    const Stream s = alternating_stream(j);
    const std::string base = chunk_what(chunk_id_of(a, j));
    // THD hands the call the whole output (o_shape), which FusedAttention zero-fills.
    attention_call(b, s, base, a.local, chunk_shape(a, j, false), chunk_window(a), a.local.q_bytes());
    // out[:, j].copy_(out_per_step[j]) (THD: thd_copy_valid_tokens_from_per_split_to_rank_local):
    // half of O read and written.
    b.elementwise(s, base + ".out_copy", a.local.q_bytes());
  }
  b.wait_stream(Stream::Compute, Stream::Cp);
}

void all_gather_backward(ProgramBuilder& b, const CpAttention& a) {
  const bool thd = a.format == QkvFormat::Thd;
  gather_kv(b, a);  // only the local K, V were saved
  // Zero-initialized full-length dK and dV in the input dtype; THD zeroes dQ too (torch.zeros
  // where sbhd and bshd take torch.empty).
  const double kv = 2 * a.local.k_bytes(), n = double(a.cp);
  if (thd) b.elementwise(Stream::Compute, "dq_zero", a.local.q_bytes());
  b.elementwise(Stream::Compute, "dkv_zero", n * kv);
  b.wait_stream(Stream::Cp, Stream::Compute);
  int32_t add = -1;  // the dK/dV adds are serialized with an event
  for (int64_t j = 0; j < 2; ++j) {
    const Stream s = alternating_stream(j);
    const std::string base = chunk_what(chunk_id_of(a, j));
    // THD hands the call the whole Q and the gathered K, V: dQ |Q|, dK and dV N|K| each, zero-filled.
    attention_call(b, s, base, a.local, chunk_shape(a, j, true), chunk_window(a), a.local.q_bytes() + n * kv);
    // dK/dV added into the full-length buffers: the visible range (its share of the N pieces is
    // the same for every document), or under THD the full packed tensors (dk.add_(dk_per_step)).
    const double part = thd ? n * kv : double(chunk_tile(a, a.local.len, j).skv) / double(a.local.len) * kv;
    add = b.elementwise(s, base + ".dkv_add", 3 * part,
                        add >= 0 ? std::vector<int32_t>{add} : std::vector<int32_t>{});
  }
  b.wait_stream(Stream::Compute, Stream::Cp);
  b.elementwise(Stream::Compute, "dkv_reorder", 2 * n * kv);
  for (const char* t : {"dk", "dv"})
    b.sync(Stream::Compute, b.collective(Stream::NcclCp, Stream::Compute,
                                         std::string("rs_") + t, CommPattern::ReduceScatter,
                                         a.cp_group, a.local.k_bytes()));
  // The dQ chunks copied into place (THD: their valid tokens), half of dQ read and written each.
  // TE copies each on its chunk's stream after the kernel; hcpsim and hcpcal after the
  // reduce-scatters (docs/cp-transports.md §3).
  for (int64_t j = 0; j < 2; ++j)
    b.elementwise(Stream::Compute, chunk_what(chunk_id_of(a, j)) + ".dq_copy", a.local.q_bytes());
}

}  // namespace hcpsim

#include "cost/attention_tiles.hpp"

#include <algorithm>
#include <cassert>
#include <functional>
#include <limits>
#include <queue>
#include <tuple>
#include <utility>

#include "rules/block_placement.hpp"
#include "rules/cudnn_bottom_right.hpp"
#include "rules/cudnn_persistent.hpp"
#include "rules/flash_bwd_workspace.hpp"
#include "rules/flash_fwd_splitkv.hpp"

namespace hcpsim {

namespace {

constexpr int64_t kWavesHeadsFastest = 4;      // kernels/attn_params.h launch_order_heads_fastest
constexpr int64_t kListScheduleMaxWaves = 64;  // beyond this the schedule is balanced to within one CTA

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

bool is_causal(const AttentionShape& s) { return s.mask != KernelMask::None; }

// Key column of query row 0's diagonal: 0 top-left, skv - sq bottom-right.
int64_t diagonal_offset(const AttentionShape& s) { return s.mask == KernelMask::CausalBottomRight ? s.skv - s.sq : 0; }

// Backward: units per KV head and key tile (the query heads that get their own unit).
int64_t units_per_kv_head(const AttentionShape& s, const AttentionKernelGeometry& g) {
  if (g.per_query_head) return s.heads_q / s.heads_kv;
  return g.head_split ? kernels::bwd_head_split(s.batch, s.skv, s.heads_q, s.heads_kv, s.head_dim_qk) : 1;
}

// Forward: key tiles the unit of query rows m0 .. m0 + block_q - 1 walks (causal: up to its last
// row's diagonal).
int64_t forward_unit_tiles(const AttentionShape& s, const AttentionKernelGeometry& g, int64_t m0) {
  const int64_t kv_end = is_causal(s) ? std::clamp(m0 + g.block_q + diagonal_offset(s), int64_t(0), s.skv) : s.skv;
  return ceil_div(kv_end, g.block_kv);
}

// Backward: the first query step the unit of keys n0 .. walks (causal: the one holding its
// diagonal), and how many it walks per query head.
std::pair<int64_t, int64_t> backward_unit_steps(const AttentionShape& s, const AttentionKernelGeometry& g, int64_t n0) {
  const int64_t q_steps = ceil_div(s.sq, g.block_q);
  const int64_t m_first = is_causal(s) ? std::max<int64_t>(0, n0 - diagonal_offset(s)) / g.block_q : 0;
  return {m_first, std::max<int64_t>(q_steps - m_first, 0)};
}

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0); }

}  // namespace

// Key tiles n (keys n bkv .. n bkv + bkv - 1) are masked past the first n_end = min(keys: the
// first tile that reaches past the key end, skv / bkv; causal: the first whose last key lies past
// the unit's last row's diagonal, n bkv + bkv - 1 > m0 + off, i.e. n >= floor((m0 + off - bkv + 1)
// / bkv) + 1); those before it are not.
int64_t forward_unit_masked_tiles(const AttentionShape& s, const AttentionKernelGeometry& g, int64_t m0, int64_t tiles) {
  if (tiles <= 0) return 0;
  if (s.every_tile_masked) return tiles;
  int64_t unmasked = s.skv / g.block_kv;
  if (is_causal(s))
    unmasked = std::min(unmasked, std::max<int64_t>(0, floor_div(m0 + diagonal_offset(s) - g.block_kv + 1, g.block_kv) + 1));
  return tiles - std::clamp<int64_t>(unmasked, 0, tiles);
}

// A unit of keys reaching past the key end masks every step; causal, the steps m with
// m bq + off < n0 + bkv - 1 (rows above its last key's diagonal), i.e. m < ceil((n0 + bkv - 1 - off) / bq).
int64_t backward_unit_masked_steps(const AttentionShape& s, const AttentionKernelGeometry& g, int64_t n0,
                                   int64_t m_first, int64_t m_count) {
  if (m_count <= 0) return 0;
  if (s.every_tile_masked || n0 + g.block_kv > s.skv) return m_count;
  if (!is_causal(s)) return 0;
  const int64_t above = n0 + g.block_kv - 1 - diagonal_offset(s);
  const int64_t m_end = above <= 0 ? 0 : ceil_div(above, g.block_q);
  return std::clamp<int64_t>(m_end - m_first, 0, m_count);
}

namespace {

// A persistent kernel's deal order (UnitOrder::LongestFirst): the blocks longest first (stable:
// equal blocks keep their order), each block's units (its batches and heads) together. The units
// of a block are alike, so this is the launch's units sorted longest first, sorting only blocks.
std::vector<CtaWork> dealt_longest_first(std::vector<CtaWork> per_block, int64_t units_per_block) {
  std::stable_sort(per_block.begin(), per_block.end(),
                   [](const CtaWork& a, const CtaWork& b) { return a.tiles > b.tiles; });
  std::vector<CtaWork> out;
  out.reserve(per_block.size() * size_t(units_per_block));
  for (const CtaWork& w : per_block) out.insert(out.end(), size_t(units_per_block), w);
  return out;
}

// Forward: units over (batch, head, query tile), each walking key tiles.
std::vector<CtaWork> forward_ctas(const AttentionShape& s, const AttentionKernelGeometry& g, int64_t sm_count) {
  const int64_t m_blocks = ceil_div(s.sq, g.block_q);
  const bool longest_first = is_causal(s) && g.order == UnitOrder::HcpsimGrid;
  std::vector<CtaWork> per_block(static_cast<size_t>(m_blocks));  // by launch index
  for (int64_t mi = 0; mi < m_blocks; ++mi) {
    const int64_t m0 = (longest_first ? m_blocks - 1 - mi : mi) * g.block_q;
    CtaWork& w = per_block[size_t(mi)];
    w.tiles = forward_unit_tiles(s, g, m0);
    w.masked = forward_unit_masked_tiles(s, g, m0, w.tiles);
  }
  if (g.order == UnitOrder::LongestFirst) return dealt_longest_first(per_block, s.heads_q * s.batch);
  const int64_t ctas = m_blocks * s.heads_q * s.batch;
  const bool heads_fastest = g.order == UnitOrder::HcpsimGrid && ctas <= kWavesHeadsFastest * sm_count;
  std::vector<CtaWork> out;
  out.reserve(size_t(ctas));
  for (int64_t b = 0; b < s.batch; ++b) {
    const int64_t outer = heads_fastest ? m_blocks : s.heads_q, inner = heads_fastest ? s.heads_q : m_blocks;
    for (int64_t i = 0; i < outer; ++i)
      for (int64_t j = 0; j < inner; ++j) out.push_back(per_block[size_t(heads_fastest ? i : j)]);
  }
  return out;
}

// FlashAttention-2's split-KV forward (rules/flash_fwd_splitkv.hpp): units over (64-row query
// block, split, batch x head), the query block fastest; each walks its split's key blocks, up to its
// last row's diagonal when causal (empty splits are units too: they only write their empty
// partial result). A 64 x 128 tile is the ordinary kernel's 128 x 64 at head dim 128, the one head
// dim the shape model applies to (other head dims change the key block, not the count here). Like
// the library's kernel, a unit walks its blocks from the last and masks its first
// ceil(64 / block) steps with a causal mask (one more when the lengths are not whole blocks),
// whether or not they cross the diagonal; without a causal mask only a partial last key block.
std::vector<CtaWork> flash_split_forward_ctas(const AttentionShape& s, int64_t splits) {
  const int64_t bm = rules::kFlashSplitBlockM, bn = rules::flash_splitkv_block_n(s.head_dim_qk);
  const int64_t m_blocks = ceil_div(s.sq, bm), per_split = ceil_div(ceil_div(s.skv, bn), splits);
  const bool causal = is_causal(s), even = s.sq % bm == 0 && s.skv % bn == 0;
  const int64_t masking_steps = causal ? ceil_div(bm, bn) + (even ? 0 : 1) : (s.skv % bn != 0 ? 1 : 0);
  const AttentionKernelGeometry g{bm, bn, false, false, UnitOrder::TilesAscending};
  std::vector<CtaWork> per_head;  // (split, query block), query block fastest
  per_head.reserve(size_t(splits * m_blocks));
  for (int64_t split = 0; split < splits; ++split)
    for (int64_t m = 0; m < m_blocks; ++m) {
      const int64_t lo = split * per_split;
      const int64_t hi = std::min(forward_unit_tiles(s, g, m * bm), lo + per_split);
      CtaWork w;
      w.tiles = std::max<int64_t>(hi - lo, 0);
      // Only the unit holding the key end has the partial block without a causal mask.
      w.masked = causal ? std::min(masking_steps, w.tiles) : (w.tiles > 0 && hi * bn >= s.skv ? masking_steps : 0);
      per_head.push_back(w);
    }
  std::vector<CtaWork> out;
  out.reserve(size_t(s.batch * s.heads_q) * per_head.size());
  for (int64_t bh = 0; bh < s.batch * s.heads_q; ++bh) out.insert(out.end(), per_head.begin(), per_head.end());
  return out;
}

// FlashAttention-2's key splits for a forward of `s` on `sm_count` SMs (1 for other kernels).
int64_t flash_forward_splits(const AttentionShape& s, int64_t sm_count, AttentionBackend backend) {
  if (backend != AttentionBackend::Flash || s.backward || s.varlen_launch()) return 1;  // varlen: ragged_ctas
  return rules::flash_fwd_num_splits(s.batch, s.heads_q, s.sq, s.skv, s.head_dim_qk, sm_count);
}

// Backward: units over (batch, KV head slot or query head, key tile), each walking query steps
// of its heads.
std::vector<CtaWork> backward_ctas(const AttentionShape& s, const AttentionKernelGeometry& g, int64_t sm_count) {
  const int64_t n_blocks = ceil_div(s.skv, g.block_kv);
  const int64_t group = s.heads_q / s.heads_kv;
  const int64_t split = units_per_kv_head(s, g);
  const int64_t heads_per_cta = group / split, unit_heads = s.heads_kv * split;
  std::vector<CtaWork> per_block(static_cast<size_t>(n_blocks));
  for (int64_t j = 0; j < n_blocks; ++j) {
    const int64_t n0 = j * g.block_kv;
    const auto [m_first, m_count] = backward_unit_steps(s, g, n0);
    per_block[size_t(j)] = {m_count * heads_per_cta, backward_unit_masked_steps(s, g, n0, m_first, m_count) * heads_per_cta};
  }
  const int64_t ctas = n_blocks * unit_heads * s.batch;
  const bool heads_fastest = g.order == UnitOrder::HcpsimGrid && ctas <= kWavesHeadsFastest * sm_count;
  std::vector<CtaWork> out;
  out.reserve(size_t(ctas));
  for (int64_t b = 0; b < s.batch; ++b) {
    const int64_t outer = heads_fastest ? n_blocks : unit_heads, inner = heads_fastest ? unit_heads : n_blocks;
    for (int64_t i = 0; i < outer; ++i)
      for (int64_t j = 0; j < inner; ++j) out.push_back(per_block[size_t(heads_fastest ? i : j)]);
  }
  return out;
}

// The units attention_balance counts: the kernel's (attention_kernel_geometry), but for cuDNN,
// whose FLOPs tables were fitted on the balance of the launch records' first reading, 64 query
// rows per forward unit and 64 keys per backward unit (calibrate/RESULTS.md, seventh run). Its
// shape model uses the units its launch times show, 128 rows and 128 keys
// (rules/cudnn_persistent.hpp); indexed by those, the tables fit v12 worse (the causal forward at
// rms 6.8 % / max 27 % instead of 2.2 % / 4.9 %, the backward's maxima 40-55 %; RESULTS, thirteenth
// run): the index is the tables', not a second account of the kernel.
AttentionKernelGeometry table_balance_geometry(AttentionBackend backend, const AttentionShape& s) {
  if (backend == AttentionBackend::CuDNN)
    return s.backward ? AttentionKernelGeometry{64, 64, true, false, UnitOrder::TilesAscending}
                      : AttentionKernelGeometry{64, 128, false, false, UnitOrder::TilesAscending};
  return attention_kernel_geometry(backend, s);
}

}  // namespace

AttentionKernelGeometry attention_kernel_geometry(AttentionBackend backend, const AttentionShape& s) {
  switch (backend) {
    case AttentionBackend::Flash:
      return s.backward ? AttentionKernelGeometry{64, 128, true, false, UnitOrder::TilesAscending}
                        : AttentionKernelGeometry{128, 64, false, false, UnitOrder::TilesAscending};
    case AttentionBackend::CuDNN:
      return s.backward ? AttentionKernelGeometry{rules::kCudnnBwdBlockQ, rules::kCudnnBwdBlockKv, true, false,
                                                  UnitOrder::TilesAscending}
                        : AttentionKernelGeometry{rules::kCudnnFwdBlockQ, rules::kCudnnFwdBlockKv, false, false,
                                                  UnitOrder::LongestFirst};
    case AttentionBackend::Hcpsim:
      break;
  }
  return s.backward ? AttentionKernelGeometry{64, 128, false, true, UnitOrder::HcpsimGrid}
                    : AttentionKernelGeometry{128, 128, false, false, UnitOrder::HcpsimGrid};
}

namespace {

bool empty_shape(const AttentionShape& s) {
  return s.sq <= 0 || s.skv <= 0 || s.heads_q <= 0 || s.heads_kv <= 0 || s.batch <= 0;
}

// One sequence and one query head of a launch's group: its units in launch order (a unit per
// query head: FlashAttention-2's forward and backward).
std::vector<CtaWork> one_sequence_ctas(AttentionShape part, const AttentionKernelGeometry& g, int64_t sm_count) {
  assert(g.per_query_head || !part.backward);
  part.batch = 1, part.heads_q = 1, part.heads_kv = 1;
  return part.backward ? backward_ctas(part, g, sm_count) : forward_ctas(part, g, sm_count);
}

// A varlen launch's units (packed documents of unequal lengths, AttentionShape::more): each
// group's as its own launch would have them, no key splits (FlashAttention-2 splits keys in a
// varlen forward only for decoding: mha_varlen_fwd, "Only apply split-k for decoding"; nor in a
// varlen launch of documents of one length, AttentionShape::varlen: flash_forward_splits).
// FlashAttention-2's grid is (blocks of the longest sequence, sequences, heads), the blocks
// fastest: for each head, each sequence's blocks, those past its end CTAs that find no rows and
// exit. cuDNN's forward deals every unit of the launch longest first (its persistent deal, now
// over all sequences); its backward, like hcpsim's kernels, takes the groups one after another.
// `empty_ctas` counts FlashAttention-2's exiting CTAs; they are listed (`empty_listed`) where the
// whole launch is at most `list_up_to` CTAs.
struct RaggedCtas {
  std::vector<CtaWork> ctas;
  int64_t empty_ctas = 0;
  bool empty_listed = true;
};
RaggedCtas ragged_ctas(const AttentionShape& s, int64_t sm_count, AttentionBackend backend,
                       int64_t list_up_to = std::numeric_limits<int64_t>::max()) {
  const AttentionKernelGeometry g = attention_kernel_geometry(backend, s);
  const std::vector<AttentionShape> parts = sequence_parts(s);
  RaggedCtas out;
  if (backend != AttentionBackend::Flash) {
    for (const AttentionShape& p : parts) {
      const std::vector<CtaWork> c = p.backward ? backward_ctas(p, g, sm_count) : forward_ctas(p, g, sm_count);
      out.ctas.insert(out.ctas.end(), c.begin(), c.end());
    }
    if (backend == AttentionBackend::CuDNN && !s.backward)
      std::stable_sort(out.ctas.begin(), out.ctas.end(), [](const CtaWork& a, const CtaWork& b) { return a.tiles > b.tiles; });
    return out;
  }
  std::vector<std::vector<CtaWork>> per_sequence;  // each group's units of one sequence and one head
  size_t blocks = 0;
  int64_t sequences = 0;
  for (const AttentionShape& p : parts) {
    per_sequence.push_back(one_sequence_ctas(p, g, sm_count));
    blocks = std::max(blocks, per_sequence.back().size());
    sequences += p.batch;
  }
  out.empty_listed = s.heads_q * sequences <= list_up_to / std::max<int64_t>(int64_t(blocks), 1);
  for (int64_t h = 0; h < s.heads_q; ++h)
    for (size_t i = 0; i < parts.size(); ++i)
      for (int64_t b = 0; b < parts[i].batch; ++b) {
        out.ctas.insert(out.ctas.end(), per_sequence[i].begin(), per_sequence[i].end());
        const int64_t past_end = int64_t(blocks - per_sequence[i].size());
        out.empty_ctas += past_end;
        if (out.empty_listed) out.ctas.insert(out.ctas.end(), size_t(past_end), CtaWork{});
      }
  return out;
}

}  // namespace

std::vector<CtaWork> attention_ctas(const AttentionShape& s, int64_t sm_count, AttentionBackend backend) {
  if (empty_shape(s) || sm_count <= 0) return {};
  if (s.ragged()) return ragged_ctas(s, sm_count, backend).ctas;
  if (const int64_t splits = flash_forward_splits(s, sm_count, backend); splits > 1)
    return flash_split_forward_ctas(s, splits);
  const AttentionKernelGeometry g = attention_kernel_geometry(backend, s);
  return s.backward ? backward_ctas(s, g, sm_count) : forward_ctas(s, g, sm_count);
}

int64_t split_combine_rows(const AttentionShape& s, AttentionBackend backend, int64_t sm_count) {
  if (s.sq <= 0 || s.skv <= 0 || s.heads_q <= 0 || s.batch <= 0 || sm_count <= 0) return 0;
  return flash_forward_splits(s, sm_count, backend) > 1 ? s.batch * s.heads_q * s.sq : 0;
}

int64_t split_accumulator_elements(const AttentionShape& s, AttentionBackend backend, int64_t sm_count) {
  if (s.sq <= 0 || s.skv <= 0 || s.heads_kv <= 0 || s.batch <= 0) return 0;
  if (s.ragged()) {  // the groups' sums (their forwards split no keys: sequence_parts keeps them varlen)
    int64_t all = 0;
    for (const AttentionShape& p : sequence_parts(s)) all += split_accumulator_elements(p, backend, sm_count);
    return all;
  }
  if (!s.backward) {  // FlashAttention-2's split-KV forward: the fp32 partial outputs its combine kernel merges
    // (their log-sum-exps and the library's padding of sq and head dim are in the fitted cost per element)
    const int64_t splits = flash_forward_splits(s, sm_count, backend);
    return splits > 1 ? splits * s.batch * s.heads_q * s.sq * s.head_dim_v : 0;
  }
  const int64_t split = units_per_kv_head(s, attention_kernel_geometry(backend, s));
  return split > 1 ? 2 * s.batch * s.skv * s.heads_kv * s.head_dim_qk * split : 0;
}

AttentionShape executed_attention_shape(const AttentionShape& s, AttentionBackend backend, int64_t compute_capability) {
  AttentionShape x = s;
  if (backend == AttentionBackend::CuDNN && s.mask == KernelMask::CausalBottomRight && s.window == 0 &&
      cudnn_bottom_right_measured(compute_capability) && !cudnn_bottom_right_skips_masked_tiles(s.backward)) {
    x.mask = KernelMask::None;
    x.every_tile_masked = true;
  }
  return x;
}

namespace {

// The tiles of all a launch's units and of its longest, in attention_balance's units: O(blocks)
// per group, no per-tile mask walk (every head and batch of a group has the same units).
std::pair<int64_t, int64_t> balance_tiles(const AttentionShape& s, int64_t sm_count, AttentionBackend backend) {
  int64_t per_head = 0, longest = 0, heads = 0;
  if (flash_forward_splits(s, sm_count, backend) > 1) {  // a small launch: every unit of every head, counted
    int64_t all = 0;
    for (const CtaWork& w : attention_ctas(s, sm_count, backend)) all += w.tiles, longest = std::max(longest, w.tiles);
    return {all, longest};
  }
  const AttentionKernelGeometry g = table_balance_geometry(backend, s);
  if (!s.backward) {
    for (int64_t m0 = 0; m0 < s.sq; m0 += g.block_q) {
      const int64_t tiles = forward_unit_tiles(s, g, m0);
      per_head += tiles, longest = std::max(longest, tiles);
    }
    heads = s.heads_q;
  } else {
    const int64_t split = units_per_kv_head(s, g);
    const int64_t heads_per_unit = s.heads_q / s.heads_kv / split;
    for (int64_t n0 = 0; n0 < s.skv; n0 += g.block_kv) {
      const int64_t steps = backward_unit_steps(s, g, n0).second * heads_per_unit;
      per_head += steps, longest = std::max(longest, steps);
    }
    heads = s.heads_kv * split;
  }
  return {per_head * heads * s.batch, longest};
}

}  // namespace

double attention_balance(const AttentionShape& s, int64_t sm_count, AttentionBackend backend) {
  if (empty_shape(s) || sm_count <= 0) return 1;
  int64_t total = 0, longest = 0;
  for (const AttentionShape& p : sequence_parts(s)) {  // a varlen launch: over its groups, no key splits
    const auto [all, unit] = balance_tiles(p, sm_count, backend);
    total += all, longest = std::max(longest, unit);
  }
  if (total <= 0) return 1;
  const double even = double(total) / double(sm_count);
  return std::max(double(longest), even) / even;
}

SharedSmSchedule shared_sm_schedule_once(const std::vector<CtaWork>& ctas, int64_t sm_count, const CtaCost& cost,
                                         double lone_rate, const SmFillOrder& order, rules::PlacementDraws* ties) {
  if (ctas.empty() || sm_count <= 0 || lone_rate <= 0) return {};
  assert(order.first.size() == size_t(sm_count) && order.second.size() == size_t(sm_count));
  struct Resident {
    size_t cta;
    double left, shared = 0, alone = 0;  // work left; work done sharing the SM, alone
  };
  struct Sm {
    std::vector<Resident> on;
    double updated = 0, finish = 0;
    SmLoad load;
    int64_t version = 0;
  };
  std::vector<Sm> sms(static_cast<size_t>(sm_count));
  size_t next = 0;
  const auto place = [&](Sm& sm) { sm.on.push_back({next, cost.of(ctas[next])}), ++next; };
  for (const std::vector<int64_t>* fill : {&order.first, &order.second})
    for (const int64_t m : *fill)
      if (next < ctas.size()) place(sms[size_t(m)]);
  const auto next_finish = [&](const Sm& sm) {  // when its next resident finishes, from its residents now
    double left = sm.on.front().left;
    for (const Resident& r : sm.on) left = std::min(left, r.left);
    return sm.updated + std::max(left, 0.0) / (sm.on.size() > 1 ? 0.5 : lone_rate);
  };
  using Event = std::tuple<double, int64_t, int64_t>;  // time, SM, version
  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> events;
  for (int64_t m = 0; m < sm_count; ++m)
    if (!sms[size_t(m)].on.empty()) events.push({next_finish(sms[size_t(m)]), m, 0});
  std::vector<int64_t> freed;
  while (!events.empty()) {
    // Every completion at this instant first, then the freed slots get the next units.
    const double now = std::get<0>(events.top());
    freed.clear();
    while (!events.empty() && std::get<0>(events.top()) <= now * (1 + 1e-12)) {
      const auto [at, m, version] = events.top();
      events.pop();
      Sm& sm = sms[size_t(m)];
      if (version != sm.version) continue;
      const bool shared = sm.on.size() > 1;
      const double progress = (at - sm.updated) * (shared ? 0.5 : lone_rate);
      sm.updated = at;
      for (Resident& r : sm.on) r.left -= progress, (shared ? r.shared : r.alone) += progress;
      const double smallest = std::min_element(sm.on.begin(), sm.on.end(), [](const Resident& a, const Resident& b) {
                                return a.left < b.left;
                              })->left;
      for (size_t i = sm.on.size(); i-- > 0;) {
        const Resident& r = sm.on[i];
        if (r.left > smallest + 1e-12 * (r.shared + r.alone + r.left)) continue;
        const double w = r.shared + r.alone;
        const double f = w > 0 ? (r.shared + r.alone / lone_rate) / w : 1.0;  // its time per unit of its work
        sm.load.add(ctas[r.cta], f);
        sm.on.erase(sm.on.begin() + std::ptrdiff_t(i));
      }
      sm.finish = at;
      ++sm.version;
      freed.push_back(m);
    }
    std::sort(freed.begin(), freed.end());
    if (ties) ties->shuffle(freed);
    for (const int64_t m : freed)  // empty SMs first
      if (next < ctas.size() && sms[size_t(m)].on.empty()) place(sms[size_t(m)]);
    for (const int64_t m : freed)  // then second slots
      if (next < ctas.size() && sms[size_t(m)].on.size() == 1) place(sms[size_t(m)]);
    for (const int64_t m : freed)
      if (!sms[size_t(m)].on.empty()) events.push({next_finish(sms[size_t(m)]), m, sms[size_t(m)].version});
  }
  const auto last = std::max_element(sms.begin(), sms.end(), [](const Sm& a, const Sm& b) { return a.finish < b.finish; });
  return {last->load, last->finish};
}

bool led_launch(int64_t ctas, int64_t sm_count) { return sm_count < ctas && ctas < rules::kFlashFwdCtasPerSm * sm_count; }

SmFillOrder index_fill_order(int64_t sm_count) {
  SmFillOrder o;
  for (int64_t m = 0; m < sm_count; ++m) o.first.push_back(m);
  o.second = o.first;
  return o;
}

SmFillOrder with_second_fill_lead(const SmFillOrder& order, int64_t start_tpc, int64_t second_fill_blocks) {
  const std::vector<int64_t> lead = rules::second_fill_lead(start_tpc, second_fill_blocks);
  if (order.first.size() < size_t(rules::kSecondFillLeadTpcs * rules::kSmsPerTpc)) return order;
  SmFillOrder out{order.first, {}};
  std::vector<bool> in_lead(order.first.size(), false);
  for (const int64_t position : lead) {
    const int64_t sm = order.first[size_t(position)];
    out.second.push_back(sm), in_lead[size_t(sm)] = true;
  }
  for (const int64_t sm : order.second)
    if (!in_lead[size_t(sm)]) out.second.push_back(sm);
  return out;
}

std::vector<SharedSmSchedule> shared_sm_schedules(const std::vector<CtaWork>& ctas, int64_t sm_count,
                                                  const CtaCost& cost, double lone_rate, int64_t lead_start_tpc) {
  std::vector<SharedSmSchedule> out;
  if (ctas.empty() || sm_count <= 0 || lone_rate <= 0) return out;
  const int64_t n = int64_t(ctas.size());
  for (int sample = 0; sample < rules::kPlacementSamples; ++sample) {
    rules::PlacementDraws draws{uint64_t(sample)};
    SmFillOrder order = index_fill_order(sm_count);
    draws.shuffle(order.first);
    draws.shuffle(order.second);
    if (led_launch(n, sm_count)) order = with_second_fill_lead(order, lead_start_tpc, n - sm_count);
    out.push_back(shared_sm_schedule_once(ctas, sm_count, cost, lone_rate, order, &draws));
  }
  return out;
}

DrawnSchedule shared_sm_schedule(const std::vector<CtaWork>& ctas, int64_t sm_count, const CtaCost& cost,
                                 double lone_rate) {
  std::vector<SharedSmSchedule> runs = shared_sm_schedules(ctas, sm_count, cost, lone_rate);
  if (runs.empty()) return {};
  // Stable: equal finishes keep draw order, the same pick on every standard library.
  const auto by_finish = [](const SharedSmSchedule& a, const SharedSmSchedule& b) { return a.finish < b.finish; };
  std::stable_sort(runs.begin(), runs.end(), by_finish);
  DrawnSchedule drawn{runs[runs.size() / 2].busiest, {runs.front().busiest, runs.back().busiest}};
  const int64_t second_fill = int64_t(ctas.size()) - sm_count;
  if (led_launch(int64_t(ctas.size()), sm_count) &&  // the range: the lead from two TPCs later too, where it differs
      rules::second_fill_lead(rules::kSecondFillLaterStartTpc, second_fill) !=
          rules::second_fill_lead(rules::kSecondFillUsualStartTpc, second_fill)) {
    runs = {runs.front(), runs.back()};
    for (const SharedSmSchedule& r :
         shared_sm_schedules(ctas, sm_count, cost, lone_rate, rules::kSecondFillLaterStartTpc))
      runs.push_back(r);
    std::stable_sort(runs.begin(), runs.end(), by_finish);
    drawn.range = {runs.front().busiest, runs.back().busiest};
  }
  return drawn;
}

SmLoad persistent_sm_schedule(const std::vector<CtaWork>& ctas, int64_t sm_count, const CtaCost& cost) {
  if (ctas.empty() || sm_count <= 0) return {};
  std::vector<SmLoad> load(std::min(ctas.size(), size_t(sm_count)));
  std::vector<double> finish(load.size(), 0.0);
  for (size_t i = 0; i < ctas.size(); ++i) {  // unit i on the CTA (SM) i mod sm_count
    load[i % load.size()].add(ctas[i]);
    finish[i % load.size()] += cost.of(ctas[i]);
  }
  return load[size_t(std::max_element(finish.begin(), finish.end()) - finish.begin())];
}

namespace {

// A launch of more than kListScheduleMaxWaves waves balances to the mean: ceil(ctas / SMs) CTAs
// on the busiest SM, the empty ones in the launch's proportion, an even share of the tiles.
SmLoad balanced_load(int64_t ctas, int64_t empty, int64_t tiles, int64_t masked, int64_t sm_count) {
  const double per_sm = double(ceil_div(ctas, sm_count));
  const double empty_share = double(empty) / double(ctas);
  return SmLoad{per_sm * (1 - empty_share), double(ceil_div(tiles, sm_count)), double(ceil_div(masked, sm_count)),
                per_sm * empty_share};
}

}  // namespace

AttentionTiling attention_tiling(const AttentionShape& s, int64_t sm_count, const CtaCost& cost,
                                 AttentionBackend backend) {
  AttentionTiling t;
  if (empty_shape(s) || sm_count <= 0) return t;
  // A varlen launch lists FlashAttention-2's exiting CTAs only where its schedule is run CTA by
  // CTA; a longer one counts them (`unlisted`) into the mean.
  RaggedCtas ragged;
  if (s.ragged()) ragged = ragged_ctas(s, sm_count, backend, kListScheduleMaxWaves * sm_count);
  const int64_t unlisted = ragged.empty_listed ? 0 : ragged.empty_ctas;
  const std::vector<CtaWork> ctas = s.ragged() ? std::move(ragged.ctas) : attention_ctas(s, sm_count, backend);
  if (ctas.empty()) return t;
  t.ctas = int64_t(ctas.size()) + unlisted;
  for (const auto& c : ctas) t.tiles += c.tiles, t.masked += c.masked;
  t.waves = double(t.ctas) / double(sm_count);
  if (backend == AttentionBackend::CuDNN && !s.backward) {
    t.busiest = persistent_sm_schedule(ctas, sm_count, cost);
    return t;
  }
  if (backend == AttentionBackend::Flash && !s.backward && t.ctas <= kListScheduleMaxWaves * sm_count) {
    const DrawnSchedule drawn = shared_sm_schedule(ctas, sm_count, cost, rules::kFlashFwdLoneCtaRate);
    t.busiest = drawn.median;
    t.placements = drawn.range;
    return t;
  }
  const bool uniform = std::all_of(ctas.begin(), ctas.end(), [&](const CtaWork& c) {
    return c.tiles == ctas.front().tiles && c.masked == ctas.front().masked;
  });
  if (uniform && unlisted == 0) {  // every SM runs ceil(ctas / SMs) CTAs
    t.busiest.add(ctas.front(), double(ceil_div(t.ctas, sm_count)));
    return t;
  }
  if (t.ctas > kListScheduleMaxWaves * sm_count) {  // very long launches balance to the mean
    const int64_t empty = unlisted + std::count_if(ctas.begin(), ctas.end(), [](const CtaWork& c) { return c.tiles == 0; });
    t.busiest = balanced_load(t.ctas, empty, t.tiles, t.masked, sm_count);
    return t;
  }
  // List scheduling: the next CTA goes to the SM that is free first (lowest index on ties).
  using Slot = std::pair<double, int64_t>;
  std::priority_queue<Slot, std::vector<Slot>, std::greater<Slot>> free_at;
  for (int64_t i = 0; i < sm_count; ++i) free_at.push({0.0, i});
  std::vector<SmLoad> load(static_cast<size_t>(sm_count));
  std::vector<double> finish(static_cast<size_t>(sm_count), 0.0);
  for (const auto& c : ctas) {
    const auto [at, sm] = free_at.top();
    free_at.pop();
    load[size_t(sm)].add(c);
    finish[size_t(sm)] = at + cost.of(c);
    free_at.push({finish[size_t(sm)], sm});
  }
  t.busiest = load[size_t(std::max_element(finish.begin(), finish.end()) - finish.begin())];
  return t;
}

}  // namespace hcpsim

// Core attention per transport (docs/cp-transports.md §1-§5): FLOPs conservation and
// balance, p2p step types, and per-rank wire bytes against closed forms.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>

#include "workload/attention_common.hpp"
#include "workload/builder.hpp"
#include "tests/workload/workload_helpers.hpp"

using namespace hcpsim;
using namespace hcpsim::test;

namespace {

struct Case {
  CpCommType type;
  int64_t cp;
  std::vector<int64_t> hcp;
};

std::vector<Case> all_cases() {
  std::vector<Case> cases;
  for (CpCommType t : {CpCommType::P2P, CpCommType::AllGather, CpCommType::A2A})
    for (int64_t cp : {1, 2, 4, 8, 16}) cases.push_back({t, cp, {}});
  for (auto hcp : std::vector<std::vector<int64_t>>{{2, 2}, {2, 4}, {4, 2}, {8, 2}, {1, 4}, {4, 1}})
    cases.push_back({CpCommType::A2AP2P, hcp[0] * hcp[1], hcp});
  return cases;
}

double attention_flops(const RankProgram& p, Phase phase) {
  double f = 0;
  for (const Op& op : p.ops)
    if (op.compute_class == ComputeClass::Attention && op.phase == phase &&
        op.label.rfind("recompute.", 0) != 0)
      f += op.flops;
  return f;
}

double sent(const Workload& w, const RankProgram& p, Phase phase, Stream nccl) {
  double b = 0;
  for (const Op& op : p.ops)
    if (op.kind == OpKind::Comm && op.phase == phase && op.stream == nccl)
      b += bytes_sent_per_rank(op, op.group >= 0 ? int64_t(w.groups[op.group].ranks.size()) : 2);
  return b;
}

}  // namespace

TEST_CASE("visible elements of masks are exact", "[model][workload]") {
  // Top-left causal n x n: row i sees i+1 keys -> n(n+1)/2.
  REQUIRE(visible_elements(64, 64, KernelMask::CausalTopLeft, {}) == 64.0 * 65 / 2);
  // Bottom-right c x kc (all_gather chunk k-1): row i sees (k-1)c + i + 1 keys
  // -> c*(k-1)c + c(c+1)/2; c = 8, k = 3: 8*16 + 36 = 164.
  REQUIRE(visible_elements(8, 24, KernelMask::CausalBottomRight, {}) == 164);
  REQUIRE(visible_elements(8, 16, KernelMask::None, {}) == 128);
  // Window w = 4 on a 10 x 10 causal tile: rows 0..3 see 1..4 keys, rows 4..9 see 4 -> 10 + 24.
  REQUIRE(visible_elements(10, 10, KernelMask::CausalTopLeft, 4) == 34);
  // No mask, |i - j| < 2 on 5 x 5: a tridiagonal band 5 + 2*4 = 13.
  REQUIRE(visible_elements(5, 5, KernelMask::None, 2) == 13);
}

TEST_CASE("causal attention FLOPs over CP ranks equal the unsplit sequence's, or its documents', balanced",
          "[model][workload]") {
  // Full causal attention over S for one TP rank's hq heads: 4 b hq d S(S+1)/2 forward, 2.5x
  // backward. Packed as documents of lengths D_i (attention inside each): sum_i D_i(D_i+1)/2
  // visible scores a head instead: S/D x D(D+1)/2 for S/D documents of D = 1024, and for the
  // unequal packing 2048 + 1024 + 512 + 256 + 256 = S (one varlen launch a kernel). Every
  // transport; DualChunkSwap (each document split over CP as a sequence is) balances exactly: every
  // rank has the same diagonal terms of every document (all_gather: a document's chunks r and
  // 2N-1-r of c tokens see c^2 (2N-1) + c(c+1) scores, the same on every rank, D(D+1)/2 over them).
  const std::vector<std::vector<int64_t>> packings = {{}, {1024, 1024, 1024, 1024}, {2048, 1024, 512, 256, 256}};
  for (const std::vector<int64_t>& documents : packings)
    for (const Case& c : all_cases()) {
      const bool unequal = documents.size() > 1 && documents.front() != documents.back();
      CAPTURE(documents, to_string(c.type), c.cp, c.hcp);
      Shape sh{.cp = c.cp, .type = c.type, .hcp = c.hcp, .heads = 32, .groups = 16};
      if (unequal) sh.document_lengths = documents;
      else if (!documents.empty()) sh.document_length = documents.front();
      const Workload w = build_workload(make_scenario(sh));
      for (const Op& op : w.layer.front().ops)  // packed documents: every kernel a varlen launch
        if (op.compute_class == ComputeClass::Attention && op.kind == OpKind::Compute)
          CHECK(op.attn.varlen == !documents.empty());
      double visible = 0;
      for (const double d : documents) visible += d * (d + 1) / 2;
      if (documents.empty()) visible = double(sh.seq) * double(sh.seq + 1) / 2;
      const double full = 4.0 * sh.batch * sh.heads * sh.head_dim * visible;
      double fwd = 0, bwd = 0, lo = 1e300, hi = 0;
      for (const RankProgram& p : w.layer) {
        const double f = attention_flops(p, Phase::Forward);
        fwd += f;
        bwd += attention_flops(p, Phase::Backward);
        lo = std::min(lo, f);
        hi = std::max(hi, f);
      }
      CHECK(fwd == Approx(full).epsilon(1e-12));
      CHECK(bwd == Approx(2.5 * full).epsilon(1e-12));
      CHECK(hi == Approx(lo).epsilon(1e-12));
    }
}

TEST_CASE("documents split in contiguous blocks over the ring: the documents' causal FLOPs, unbalanced", "[model][workload]") {
  // ring-flash-attention's varlen ring: each document of D tokens in CP contiguous blocks of
  // l = D/CP; rank r computes its block against rank j's whole for j < r, its own causally, none
  // above: CP l(l+1)/2 + CP(CP-1)/2 l^2 = D(D+1)/2 over the ranks, as unsplit. The last rank
  // computes the most: l(l+1)/2 + (CP-1) l^2 a document, the first l(l+1)/2.
  const std::vector<int64_t> documents = {2048, 1024, 512, 256, 256};
  Shape sh{.cp = 8, .type = CpCommType::P2P, .order = CpLoadBalance::Contiguous, .heads = 32, .groups = 16};
  sh.document_lengths = documents;
  const Workload w = build_workload(make_scenario(sh));
  double visible = 0, first = 0, last = 0;
  for (const double d : documents) {
    const double l = d / 8;
    visible += d * (d + 1) / 2, first += l * (l + 1) / 2, last += l * (l + 1) / 2 + 7 * l * l;
  }
  const double per_score = 4.0 * sh.batch * sh.heads * sh.head_dim;
  double fwd = 0;
  for (const RankProgram& p : w.layer) fwd += attention_flops(p, Phase::Forward);
  CHECK(fwd == Approx(per_score * visible).epsilon(1e-12));
  CHECK(attention_flops(w.layer.front(), Phase::Forward) == Approx(per_score * first).epsilon(1e-12));
  CHECK(attention_flops(w.layer.back(), Phase::Forward) == Approx(per_score * last).epsilon(1e-12));
}

TEST_CASE("non-causal attention FLOPs are S^2 per head over all ranks", "[model][workload]") {
  for (const Case& c : all_cases()) {
    CAPTURE(to_string(c.type), c.cp, c.hcp);
    Shape sh{.cp = c.cp, .type = c.type, .hcp = c.hcp, .groups = 16, .causal = false};
    const Workload w = build_workload(make_scenario(sh));
    double fwd = 0;
    for (const RankProgram& p : w.layer) fwd += attention_flops(p, Phase::Forward);
    const double S = double(sh.seq);
    REQUIRE(fwd == Approx(4.0 * sh.heads * sh.head_dim * S * S).epsilon(1e-12));
  }
}

TEST_CASE("p2p: each rank runs 1 diagonal, r lower and N-1-r upper steps", "[model][workload]") {
  for (int64_t n : {2, 4, 8}) {
    Shape sh{.cp = n, .type = CpCommType::P2P};
    const Workload w = build_workload(make_scenario(sh));
    const int64_t c = sh.seq / (2 * n);
    for (int64_t r = 0; r < n; ++r) {
      for (Phase ph : {Phase::Forward, Phase::Backward}) {
        std::map<std::string, int> count;
        for (const Op& op : w.layer[r].ops) {
          if (op.compute_class != ComputeClass::Attention || op.phase != ph) continue;
          const AttentionShape& a = op.attn;
          if (a.sq == 2 * c && a.skv == 2 * c && a.mask == KernelMask::CausalTopLeft) ++count["diag"];
          else if (a.sq == 2 * c && a.skv == c && a.mask == KernelMask::None) ++count["lower"];
          else if (a.sq == c && a.skv == 2 * c && a.mask == KernelMask::None) ++count["upper"];
          else ++count["other"];
        }
        CAPTURE(n, r, to_string(ph));
        REQUIRE(count["diag"] == 1);
        REQUIRE(count["lower"] == r);
        REQUIRE(count["upper"] == n - 1 - r);
        REQUIRE(count["other"] == 0);
      }
    }
  }
}

TEST_CASE("p2p rings of the contiguous and striped token orders: each rank's causal work", "[model][workload]") {
  // A rank of a ring of n holds L = S/n tokens (after an HCP a2a of A: n = P, L = A S / P with hq/A
  // heads). Forward FLOPs are 4 b hq d per visible score. Contiguous: rank r sees its own block
  // causally, L(L+1)/2, and each lower rank's whole, L^2: L(L+1)/2 + r L^2; the higher ranks'
  // steps run nothing. Stripes: token a n + r sees keys b n + s with b <= a for s <= r (L(L+1)/2)
  // and b < a for s > r (L(L-1)/2): (r+1) L(L+1)/2 + (n-1-r) L(L-1)/2. Both sum over the ranks
  // to the unsplit S(S+1)/2 with S = nL: n L(L+1)/2 + n(n-1)/2 L^2 = (n^2 L^2 + n L)/2, and
  // n(n+1)/2 L(L+1)/2 + n(n-1)/2 L(L-1)/2 = (2 n^2 L^2 + 2 n L)/4.
  for (const CpLoadBalance order : {CpLoadBalance::Contiguous, CpLoadBalance::Stripe})
    for (const Case& c : {Case{CpCommType::P2P, 4, {}}, Case{CpCommType::P2P, 8, {}}, Case{CpCommType::A2AP2P, 8, {2, 4}}}) {
      CAPTURE(to_string(order), to_string(c.type), c.cp);
      Shape sh{.cp = c.cp, .type = c.type, .hcp = c.hcp, .order = order, .heads = 32, .groups = 16};
      const Workload w = build_workload(make_scenario(sh));
      const int64_t a2a = c.hcp.empty() ? 1 : c.hcp[0], n = c.cp / a2a;
      const double L = double(sh.seq) / double(n), per_score = 4.0 * sh.batch * (sh.heads / a2a) * sh.head_dim;
      const double S = double(sh.seq);
      double total = 0;
      for (int64_t g = 0; g < c.cp; ++g) {
        const int64_t r = g / a2a;  // ring rank of CP rank g (rings of ranks A apart)
        const double want = order == CpLoadBalance::Contiguous
                                ? L * (L + 1) / 2 + double(r) * L * L
                                : double(r + 1) * L * (L + 1) / 2 + double(n - 1 - r) * L * (L - 1) / 2;
        const double fwd = attention_flops(w.layer[size_t(g)], Phase::Forward);
        CAPTURE(g, r);
        CHECK(fwd == Approx(per_score * want).epsilon(1e-12));
        CHECK(attention_flops(w.layer[size_t(g)], Phase::Backward) == Approx(2.5 * per_score * want).epsilon(1e-12));
        total += fwd;
      }
      CHECK(total == Approx(4.0 * sh.batch * sh.heads * sh.head_dim * S * (S + 1) / 2).epsilon(1e-12));
    }
}

TEST_CASE("bytes per rank per transport match the closed forms", "[model][workload]") {
  const int64_t b = 2, S = 8192, hq = 32, hk = 8, d = 128, e = 2;
  for (const Case& c : all_cases()) {
    if (c.cp == 1) continue;
    CAPTURE(to_string(c.type), c.cp, c.hcp);
    Shape sh{.cp = c.cp, .type = c.type, .hcp = c.hcp, .seq = S, .batch = b, .heads = hq,
             .groups = c.type == CpCommType::A2A ? 16 : hk};
    const Workload w = build_workload(make_scenario(sh));
    const double N = double(c.cp), L = double(S) / N;
    const double K = b * L * double(sh.groups) * d * e;  // |K| = |V|
    const double Q = b * L * double(hq) * d * e;         // |Q| = |O| = |dO| = |dQ|
    for (const RankProgram& p : w.layer) {
      const double f = sent(w, p, Phase::Forward, Stream::NcclCp);
      const double g = sent(w, p, Phase::Backward, Stream::NcclCp);
      switch (c.type) {
        case CpCommType::P2P:
          REQUIRE(f == Approx((N - 1) * 2 * K));
          REQUIRE(g == Approx(2 * (N - 1) * 2 * K));
          break;
        case CpCommType::AllGather:  // ring AG sends (N-1) shards; RS as many
          REQUIRE(f == Approx((N - 1) * K * 2));
          REQUIRE(g == Approx((N - 1) * K * 4));
          break;
        case CpCommType::A2A:
          REQUIRE(f == Approx((N - 1) / N * (Q + 2 * K + Q)));
          REQUIRE(g == Approx((N - 1) / N * (Q + Q + 2 * K)));
          break;
        case CpCommType::A2AP2P: {
          const double A = double(c.hcp[0]), P = double(c.hcp[1]);
          const double fi = sent(w, p, Phase::Forward, Stream::NcclCpInner);
          const double gi = sent(w, p, Phase::Backward, Stream::NcclCpInner);
          if (A == 1) {  // TE falls back to pure p2p over the ring group
            REQUIRE(f == Approx((P - 1) * 2 * K));
            REQUIRE(fi == 0);
          } else if (P == 1) {  // ... or to pure a2a over the inner group
            REQUIRE(fi == Approx((A - 1) / A * (2 * Q + 2 * K)));
            REQUIRE(f == 0);
          } else {
            // Inner a2a moves (A-1)/A of each tensor; the ring message is the
            // post-a2a b*(S/P)*(hk/A)*d*e*2 = |K| + |V| of pure p2p.
            const double ring_kv = b * (double(S) / P) * (double(hk) / A) * d * e * 2;
            REQUIRE(ring_kv == Approx(2 * K));
            REQUIRE(fi == Approx((A - 1) / A * (2 * Q + 2 * K)));
            REQUIRE(gi == Approx((A - 1) / A * (2 * Q + 2 * K)));
            REQUIRE(f == Approx((P - 1) * ring_kv));
            REQUIRE(g == Approx(2 * (P - 1) * ring_kv));
          }
          break;
        }
      }
    }
  }
}

TEST_CASE("p2p forward: transfer i+1 is issued before kernel i and kernel i waits for it",
          "[model][workload]") {
  const Workload w = build_workload(make_scenario({.cp = 4, .type = CpCommType::P2P}));
  const RankProgram& p = w.layer[1];
  std::map<std::string, int32_t> id;
  for (const Op& op : p.ops) id[op.label] = op.id;
  for (int i = 1; i < 4; ++i) {
    const Op& send = p.ops[id["attn.fwd.kv_send" + std::to_string(i)]];
    // Ring neighbours: send to r+1, receive from r-1.
    REQUIRE(send.send_peer == 2);
    REQUIRE(send.recv_peer == 0);
    // Issued at step i-1, before that step's kernel.
    const std::string kernel_prev = i - 1 == 0 ? "attn.fwd.step0.diag"
                                               : (i - 1 <= 1 ? "attn.fwd.step1.lower" : "attn.fwd.step2.upper");
    REQUIRE(send.id < id[kernel_prev]);
    const std::string kernel = i <= 1 ? "attn.fwd.step1.lower" : "attn.fwd.step" + std::to_string(i) + ".upper";
    const Op& k = p.ops[id[kernel]];
    REQUIRE(std::count(k.deps.begin(), k.deps.end(), send.id) == 1);
    REQUIRE(k.stream == (i % 2 ? Stream::Cp : Stream::Compute));
  }
}

TEST_CASE("sliding window FLOPs over ranks equal the windowed unsplit sequence", "[model][workload]") {
  for (CpCommType t : {CpCommType::AllGather, CpCommType::A2A})
    for (int64_t cp : {1, 2, 4, 8}) {
      for (int64_t win : {100, 1000, 5000}) {
        CAPTURE(to_string(t), cp, win);
        Scenario s = make_scenario({.cp = cp, .type = t, .groups = 8});
        s.model.sliding_window = win;
        const Workload w = build_workload(s);
        double fwd = 0;
        for (const RankProgram& p : w.layer) fwd += attention_flops(p, Phase::Forward);
        // Row i of the S x S causal matrix sees min(i+1, w) keys:
        // sum = w(w+1)/2 + (S-w)w for w <= S, S(S+1)/2 otherwise.
        const double S = 4096, W = double(std::min<int64_t>(win, 4096));
        const double visible = W * (W + 1) / 2 + (S - W) * W;
        REQUIRE(fwd == Approx(4.0 * 32 * 128 * visible).epsilon(1e-12));
      }
    }
}

TEST_CASE("HCP [8,2]: inner a2a over consecutive CP ranks, ring of ranks A apart",
          "[model][workload]") {
  // Seed option A: TP1, CP16, sizes [8,2] -> a2a groups {0..7},{8..15}; ring pairs {c, c+-8}.
  const Workload w = build_workload(
      make_scenario({.cp = 16, .type = CpCommType::A2AP2P, .hcp = {8, 2}, .seq = 8192, .groups = 8}));
  for (int32_t c = 0; c < 16; ++c) {
    const RankProgram& p = w.layer[c];
    int a2a_fwd = 0, a2a_bwd = 0;
    for (const Op& op : p.ops) {
      if (op.kind == OpKind::Comm && op.pattern == CommPattern::AllToAll) {
        const ProcessGroup& g = w.groups[op.group];
        REQUIRE(g.name == "cp_a2a");
        REQUIRE(g.ranks.size() == 8);
        REQUIRE(g.ranks.front() == c / 8 * 8);
        REQUIRE(g.ranks[c % 8] == c);  // a2a rank = c mod A
        (op.phase == Phase::Forward ? a2a_fwd : a2a_bwd)++;
      }
      if (op.kind == OpKind::Comm && op.pattern == CommPattern::SendRecv) {
        // Ring rank c div A; neighbours cp_global_ranks[((p +- 1) mod P) * A + c mod A].
        const int32_t other = ((c / 8 + 1) % 2) * 8 + c % 8;
        REQUIRE(op.send_peer == other);
        REQUIRE(op.recv_peer == other);
      }
      if (op.compute_class == ComputeClass::Attention && op.label == "attn.fwd.step0.diag") {
        // Post-a2a: S/P = 4096 tokens, hq/A = 4 and hk/A = 1 heads.
        REQUIRE(op.attn.sq == 4096);
        REQUIRE(op.attn.heads_q == 4);
        REQUIRE(op.attn.heads_kv == 1);
      }
    }
    REQUIRE(a2a_fwd == 4);  // Q, K, V before; O after
    REQUIRE(a2a_bwd == 4);  // dO before; dQ, dK, dV after
  }
}

TEST_CASE("a2a and all_gather issue the documented collectives", "[model][workload]") {
  auto count = [](const RankProgram& p, CommPattern pat, Phase ph) {
    int n = 0;
    for (const Op& op : p.ops) n += op.kind == OpKind::Comm && op.pattern == pat && op.phase == ph;
    return n;
  };
  const Workload a2a = build_workload(make_scenario({.cp = 4, .type = CpCommType::A2A, .groups = 8}));
  REQUIRE(count(a2a.layer[2], CommPattern::AllToAll, Phase::Forward) == 4);
  REQUIRE(count(a2a.layer[2], CommPattern::AllToAll, Phase::Backward) == 4);
  const Workload ag = build_workload(make_scenario({.cp = 4, .type = CpCommType::AllGather}));
  REQUIRE(count(ag.layer[1], CommPattern::AllGather, Phase::Forward) == 2);
  REQUIRE(count(ag.layer[1], CommPattern::AllGather, Phase::Backward) == 2);
  REQUIRE(count(ag.layer[1], CommPattern::ReduceScatter, Phase::Backward) == 2);
  // Chunk r on the current stream, chunk 2N-1-r on cp_stream, bottom-right causal prefixes.
  int kernels = 0;
  for (const Op& op : ag.layer[1].ops)
    if (op.compute_class == ComputeClass::Attention && op.phase == Phase::Forward) {
      const bool first = op.label == "attn.fwd.chunk1";
      REQUIRE((first || op.label == "attn.fwd.chunk6"));
      REQUIRE(op.stream == (first ? Stream::Compute : Stream::Cp));
      REQUIRE(op.attn.mask == KernelMask::CausalBottomRight);
      REQUIRE(op.attn.skv == (first ? 2 : 7) * 512);  // c = 4096/8
      ++kernels;
    }
  REQUIRE(kernels == 2);
}

TEST_CASE("all_gather over unequal documents: each chunk one varlen launch, THD's zeroed outputs and whole dK/dV adds",
          "[model][workload]") {
  // TE 2.18's THD all_gather (context_parallel.py, AttnFuncWithCPAndKVAllGather): chunk j's per-step
  // cu_seqlens give every document's chunk (c_d = D/(2N) tokens) against that document's visible
  // prefix, (id+1) c_d keys, bottom-right causal. N = 4, rank 1: chunks 1 and 6. Documents 2048,
  // 1024, 512, 256, 256 (S = 4096): c_d = 256, 128, 64, 32 (two of them).
  Shape sh{.cp = 4, .type = CpCommType::AllGather, .heads = 32, .groups = 8};
  sh.document_lengths = {2048, 1024, 512, 256, 256};
  const Workload w = build_workload(make_scenario(sh));
  const RankProgram& p = w.layer[1];
  std::map<std::string, const Op*> ops;
  for (const Op& op : p.ops) ops[op.label] = &op;
  for (const auto& [label, id] : std::vector<std::pair<std::string, int64_t>>{{"attn.fwd.chunk1", 1}, {"attn.fwd.chunk6", 6}}) {
    REQUIRE(ops.count(label));
    const AttentionShape& a = ops.at(label)->attn;
    CAPTURE(label);
    CHECK(a.varlen);
    CHECK(a.mask == KernelMask::CausalBottomRight);
    CHECK(SequenceTile{a.batch, a.sq, a.skv} == SequenceTile{1, 256, (id + 1) * 256});
    CHECK(a.more == std::vector<SequenceTile>{{1, 128, (id + 1) * 128}, {1, 64, (id + 1) * 64}, {2, 32, (id + 1) * 32}});
  }
  // Bytes, per rank: |Q| = |O| = 1024 tokens x 32 heads x 128 x 2 B; |K| = |V| with 8 heads.
  const double Q = 1024.0 * 32 * 128 * 2, K = 1024.0 * 8 * 128 * 2, N = 4;
  const auto bytes = [&](const std::string& label) {
    CAPTURE(label);
    REQUIRE(ops.count(label));
    return ops.at(label)->bytes;
  };
  CHECK(bytes("attn.fwd.out_zero") == Q);  // torch.zeros of the output (from TE 2.18, every format; THD returns it)
  CHECK(bytes("attn.bwd.dq_zero") == Q);   // torch.zeros of dQ (THD only)
  CHECK(bytes("attn.bwd.dkv_zero") == N * 2 * K);
  // dk.add_(dk_per_step), dv likewise: the whole packed N|K| each, read twice and written once.
  CHECK(bytes("attn.bwd.chunk1.dkv_add") == 3 * N * 2 * K);
  CHECK(bytes("attn.bwd.chunk6.dkv_add") == 3 * N * 2 * K);
  // TE's FusedAttention zero-fills a THD call's outputs inside the call (csrc/extensions/attention.cpp:
  // te_O.zero_(), dQ/dK/dV fill_(0)): the whole output handed to each chunk (o_shape, |O|) forward,
  // the whole dQ and gathered dK, dV (|Q| + N(|K| + |V|)) backward; no launch of its own.
  CHECK(bytes("attn.fwd.chunk1.zero_fill") == Q);
  CHECK(bytes("attn.bwd.chunk6.zero_fill") == Q + N * 2 * K);
  CHECK_FALSE(ops.at("attn.fwd.chunk6.zero_fill")->own_launch);
  // FlashAttention's calls fill nothing (TE refuses it for THD all_gather: the p2p ring here), nor
  // does a p2p ring off THD; on THD a ring step's call fills its own rows: rank 1's diagonal step,
  // 2c = 1024 tokens of every document: |Q| forward, |Q| + |K| + |V| backward.
  Shape ring{.cp = 4, .type = CpCommType::P2P, .heads = 32, .groups = 8};
  ring.document_lengths = sh.document_lengths;
  Scenario ring_cudnn = make_scenario(ring), ring_flash = ring_cudnn;
  ring_flash.software.attention_backend = AttentionBackend::Flash;
  const Workload ring_fills = build_workload(ring_cudnn), ring_none = build_workload(ring_flash);
  std::map<std::string, double> fills;
  for (const Op& op : ring_fills.layer[1].ops)
    if (contains(op.label, ".zero_fill")) fills[op.label] = op.bytes;
  REQUIRE(fills.count("attn.fwd.step0.diag.zero_fill"));
  REQUIRE(fills.count("attn.bwd.step3.diag.zero_fill"));  // rank 1's backward runs its diagonal last
  CHECK(fills.at("attn.fwd.step0.diag.zero_fill") == Q);
  CHECK(fills.at("attn.bwd.step3.diag.zero_fill") == Q + 2 * K);
  for (const Op& op : ring_none.layer[1].ops) CHECK_FALSE(contains(op.label, ".zero_fill"));
  // The same layout unpacked (sbhd): no zeroed dQ, and the adds of the visible range alone: chunk
  // id's prefix is (id+1)/2 of a rank's piece, 1 and 3.5 times |K| + |V|. TE 2.18 zeroes a second
  // output for every format (out = torch.zeros(o_shape), which sbhd does not return); 2.17 does not.
  Scenario unpacked = make_scenario({.cp = 4, .type = CpCommType::AllGather, .heads = 32, .groups = 8});
  for (const int minor : {18, 17}) {
    unpacked.software.transformer_engine_version = {2, minor, 0};
    const Workload sbhd = build_workload(unpacked);
    double out_zero = 0;
    int dq_zero = 0, adds = 0;
    for (const Op& op : sbhd.layer[1].ops) {
      if (op.label == "attn.fwd.out_zero") out_zero += op.bytes;
      dq_zero += contains(op.label, "dq_zero");
      if (op.label == "attn.bwd.chunk1.dkv_add" && ++adds) CHECK(op.bytes == 3 * 1.0 * 2 * K);
      if (op.label == "attn.bwd.chunk6.dkv_add" && ++adds) CHECK(op.bytes == 3 * 3.5 * 2 * K);
    }
    CHECK(out_zero == (minor == 18 ? Q : 0));
    CHECK(dq_zero == 0);
    CHECK(adds == 2);
  }
}

TEST_CASE("bshd layout adds the cuDNN half-tensor copies, sbhd needs none", "[model][workload]") {
  const Scenario s = make_scenario({.cp = 4, .type = CpCommType::P2P});
  const Workload sbhd = build_workload(s);
  const Workload bshd = build_workload(s, {.qkv_format = QkvFormat::Bshd});
  for (int32_t r = 0; r < 4; ++r) {
    int kv_half = 0, q_half = 0, any_half = 0;
    for (const Op& op : bshd.layer[r].ops) {
      if (op.phase != Phase::Forward) continue;
      kv_half += contains(op.label, "kv_half_copy");
      q_half += contains(op.label, "q_half_copy");
    }
    for (const Op& op : sbhd.layer[r].ops) any_half += contains(op.label, "half_copy") && !contains(op.label, "lse");
    // k_part.contiguous() on each lower step (r of them), q_part.contiguous() on each upper one.
    REQUIRE(kv_half == r);
    REQUIRE(q_half == 3 - r);
    REQUIRE(any_half == 0);
    REQUIRE(attention_flops(bshd.layer[r], Phase::Forward) == attention_flops(sbhd.layer[r], Phase::Forward));
  }
}

// The CP schedule facts and op labels shared by the workload builder and hcpcal
// (rules/cp_schedule.hpp, rules/op_label.hpp), derived by hand from TE's schedule.
#include <catch2/catch.hpp>

#include "rules/cp_schedule.hpp"
#include "rules/op_label.hpp"

using namespace hcpsim;

TEST_CASE("schedule: DualChunkSwap chunks", "[rules]") {
  // CP 4 cuts the sequence into 8 chunks: rank 0 owns 0 and 7, rank 3 owns 3 and 4.
  CHECK(dual_chunk_id(4, 0, 0) == 0);
  CHECK(dual_chunk_id(4, 0, 1) == 7);
  CHECK(dual_chunk_id(4, 3, 0) == 3);
  CHECK(dual_chunk_id(4, 3, 1) == 4);
}

TEST_CASE("schedule: ring sections", "[rules]") {
  // Ring of 4, rank 2: forward step 0 its own KV (diagonal), steps 1-2 the KV of ranks 1, 0
  // (lower), step 3 the KV of rank 3 (upper). Backward step i is forward step 3-i.
  const RingSection fwd[] = {RingSection::Diagonal, RingSection::Lower, RingSection::Lower, RingSection::Upper};
  for (int i = 0; i < 4; ++i) {
    CHECK(ring_forward_section(4, 2, i, true) == fwd[i]);
    CHECK(ring_backward_section(4, 2, i, true) == fwd[3 - i]);
  }
  // Every rank: one diagonal, r lower, n-1-r upper steps.
  for (int r = 0; r < 8; ++r) {
    int lower = 0, upper = 0, diag = 0;
    for (int i = 0; i < 8; ++i) {
      const RingSection s = ring_forward_section(8, r, i, true);
      lower += s == RingSection::Lower, upper += s == RingSection::Upper, diag += s == RingSection::Diagonal;
    }
    CHECK(diag == 1);
    CHECK(lower == r);
    CHECK(upper == 7 - r);
  }
  CHECK(ring_forward_section(4, 2, 0, false) == RingSection::All);
  // Rank 2 of 4 sees ranks 1 and 0 (lower) at steps 1 and 2, rank 3 (higher) at step 3. Contiguous
  // blocks: a lower rank's whole, a higher one's nothing; stripes: a lower rank's causally with the
  // diagonal, a higher one's without it. The backward runs the forward's steps in reverse.
  using B = CpLoadBalance;
  const RingSection contiguous[] = {RingSection::Diagonal, RingSection::All, RingSection::All, RingSection::Skip};
  const RingSection stripe[] = {RingSection::Diagonal, RingSection::Diagonal, RingSection::Diagonal, RingSection::Below};
  for (int64_t i = 0; i < 4; ++i) {
    CHECK(ring_forward_section(4, 2, i, true, B::Contiguous) == contiguous[i]);
    CHECK(ring_backward_section(4, 2, i, true, B::Contiguous) == contiguous[3 - i]);
    CHECK(ring_forward_section(4, 2, i, true, B::Stripe) == stripe[i]);
    CHECK(ring_backward_section(4, 2, i, true, B::Stripe) == stripe[3 - i]);
    CHECK(ring_forward_section(4, 2, i, false, B::Contiguous) == RingSection::All);
  }
}

TEST_CASE("labels: one spelling for the builder and hcpcal", "[rules]") {
  CHECK(op_label(OpArea::Layer, Phase::Forward, "qkv_gemm", false) == "layer.fwd.qkv_gemm");
  CHECK(op_label(OpArea::Attention, Phase::Backward, ring_step_what(2, RingSection::Lower), false) ==
        "attn.bwd.step2.lower");
  // A recomputed forward runs in the backward phase and reads "fwd".
  CHECK(op_label(OpArea::Attention, Phase::Backward, kWholeKernelWhat, true) == "recompute.attn.fwd.kernel");
  // Once-per-step ops have no pass.
  CHECK(op_label(OpArea::GradReduce, Phase::Optimizer, "grad_rs.bucket0", false) == "dp.grad_rs.bucket0");
  CHECK(op_label(OpArea::Optimizer, Phase::Optimizer, "adam", false) == "optimizer.adam");
  CHECK(attention_kernel_label(false, chunk_what(7)) == "attn.fwd.chunk7");
  CHECK(attention_kernel_label(true, ring_step_what(0, RingSection::Diagonal)) == "attn.bwd.step0.diag");
}

// Megatron's DDP buckets (rules/ddp_buckets.hpp) against groupings worked out by hand from
// _compute_default_per_buffer_param_layout: walk the parameters in reverse, close a bucket once
// it holds at least the bucket size.
#include <catch2/catch.hpp>

#include "rules/ddp_buckets.hpp"

using namespace hcpsim::rules;

TEST_CASE("Megatron's bucket size: 40M parameters, 1M a DP x CP rank beyond 40", "[rules]") {
  CHECK(ddp_bucket_params(1) == 40'000'000);
  CHECK(ddp_bucket_params(40) == 40'000'000);
  CHECK(ddp_bucket_params(72) == 72'000'000);  // e.g. DP 1 x CP 72 on an NVL72
  CHECK(ddp_chunk_bucketed(0, 0));
  CHECK_FALSE(ddp_chunk_bucketed(0, 1));  // a later virtual chunk: one bucket
  CHECK_FALSE(ddp_chunk_bucketed(1, 0));  // a later pipeline stage: one bucket
}

TEST_CASE("buckets close at the bucket size, walking the parameters in reverse", "[rules]") {
  // Registered: embedding 100, a layer (proj 10, norm 1, qkv 20, norm 1, fc1 40, fc2 20) twice,
  // the final norm 1 and the output layer 100; grad_ready / first_used as a chunk of 2 layers.
  std::vector<DdpParam> p = {{100, false, 1.0, 0.0}};
  for (int layer = 0; layer < 2; ++layer) {
    const double ready = layer == 0 ? 1.0 : 0.5, used = layer == 0 ? 0.0 : 0.5;
    for (const auto& [n, gemm] : {std::pair{10, true}, {1, false}, {20, true}, {1, false}, {40, true}, {20, true}})
      p.push_back({n, gemm, ready, used});
  }
  p.push_back({1, false, 0.0, 1.0});
  p.push_back({100, false, 0.0, 1.0});
  // Bucket size 50, in reverse: [output 100] | [final norm 1, fc2 20, fc1 40] = 61 | [norm 1,
  // qkv 20, norm 1, proj 10, layer 0's fc2 20] = 52 | [fc1 40, norm 1, qkv 20] = 61 | [norm 1,
  // proj 10, embedding 100] = 111.
  const std::vector<DdpBucket> b = ddp_buckets(p, 50);
  REQUIRE(b.size() == 5);
  const int64_t params[] = {100, 61, 52, 61, 111}, gemm[] = {0, 60, 50, 60, 10};
  const double ready[] = {0.0, 0.5, 1.0, 1.0, 1.0}, used[] = {1.0, 0.5, 0.0, 0.0, 0.0};
  for (size_t i = 0; i < b.size(); ++i) {
    INFO("bucket " << i);
    CHECK(b[i].params == params[i]);
    CHECK(b[i].gemm_params == gemm[i]);
    CHECK(b[i].grad_ready == ready[i]);  // its last gradient: the latest of its parameters'
    CHECK(b[i].first_used == used[i]);   // its first use: the earliest
  }
  // No bucket size (a later stage or chunk): everything in one.
  const std::vector<DdpBucket> one = ddp_buckets(p, 0);
  REQUIRE(one.size() == 1);
  CHECK(one[0].params == 385);
  CHECK(one[0].gemm_params == 180);
  CHECK(one[0].grad_ready == 1.0);
  CHECK(one[0].first_used == 0.0);
  // fp8 primary weights: the GEMM weights bucketed apart, in reverse: [fc2 20, fc1 40] = 60 |
  // [qkv 20, proj 10, layer 0's fc2 20] = 50 | [fc1 40, qkv 20] = 60 | [proj 10]; the rest apart:
  // [output 100] | [five norms, embedding 100] = 105; the rest's buckets join the last fp8 one:
  // 10 + 100 + 105 = 215, ready at the end, used from the start.
  const std::vector<DdpBucket> g = ddp_bucket_groups(p, 50, true);
  REQUIRE(g.size() == 4);
  const int64_t g_params[] = {60, 50, 60, 215}, g_gemm[] = {60, 50, 60, 10};
  const double g_ready[] = {0.5, 1.0, 1.0, 1.0}, g_used[] = {0.5, 0.0, 0.0, 0.0};
  for (size_t i = 0; i < g.size(); ++i) {
    INFO("group " << i);
    CHECK(g[i].params == g_params[i]);
    CHECK(g[i].gemm_params == g_gemm[i]);
    CHECK(g[i].grad_ready == g_ready[i]);
    CHECK(g[i].first_used == g_used[i]);
  }
  CHECK(ddp_bucket_groups(p, 50, false).size() == 5);  // without fp8 weights: the buckets
  CHECK(ddp_bucket_groups(p, 0, true).size() == 1);     // unbucketed: one group either way
}

// Properties of the memory model: parameter counts against published sizes, optimizer
// sharding, how CP buffers scale with the ring size, recompute monotonicity.
#include <algorithm>

#include <catch2/catch.hpp>

#include "memory/estimate.hpp"
#include "memory/activations.hpp"
#include "memory/cp_buffers.hpp"
#include "memory/model_states.hpp"
#include "scenario/model_params.hpp"

using namespace hcpsim;

namespace {

ModelSpec llama(int64_t layers, int64_t hidden, int64_t ffn, int64_t heads) {
  ModelSpec m;
  m.num_layers = layers;
  m.hidden_size = hidden;
  m.ffn_hidden_size = ffn;
  m.num_attention_heads = heads;
  m.num_query_groups = 8;
  m.kv_channels = 128;
  m.vocab_size = 128256;
  return m;
}

Scenario llama8b(int64_t seq, int64_t tp, int64_t cp, int64_t dp, CpCommType type) {
  Scenario s;
  s.model = llama(32, 4096, 14336, 32);
  s.training.seq_length = seq;
  s.parallel.tensor_model_parallel_size = tp;
  s.parallel.context_parallel_size = cp;
  s.parallel.data_parallel_size = dp;
  s.parallel.cp_comm_type = type;
  s.cluster.gpu.memory_bytes = 80e9;
  return s;
}

}  // namespace

TEST_CASE("memory: parameter counts match the published Llama-3.1 sizes", "[model][memory]") {
  // 8B: 32 * 218,112,000 + 2 * 128256*4096 + 4096 (see test_memory_seed.cpp).
  const ParamCounts p8 = count_params(llama(32, 4096, 14336, 32));
  CHECK(p8.total() == 8'030'261'248);
  CHECK(p8.total() == Approx(8.03e9).epsilon(0.01));
  // 70B: per layer 8192*(64+16)*128 + 64*128*8192 + 3*8192*28672 + 2*8192 = 855,654,400;
  // 80 layers = 68,452,352,000; + 2*128256*8192 = 2,101,346,304; + 8192 = 70,553,706,496.
  const ParamCounts p70 = count_params(llama(80, 8192, 28672, 64));
  CHECK(p70.total() == 70'553'706'496);
  CHECK(p70.total() == Approx(70.6e9).epsilon(0.01));
  // Tied embeddings drop the output layer.
  ModelSpec tied = llama(32, 4096, 14336, 32);
  tied.untie_embeddings_and_output_weights = false;
  CHECK(count_params(tied).total() == p8.total() - 128256LL * 4096);
  // The floating-point count validation bounds shapes with: the same totals, exactly (below 2^53).
  CHECK(count_params_in_double(llama(32, 4096, 14336, 32)) == 8'030'261'248.0);
  CHECK(count_params_in_double(llama(80, 8192, 28672, 64)) == 70'553'706'496.0);
  CHECK(count_params_in_double(tied) == double(count_params(tied).total()));
}

TEST_CASE("memory: TP shards matrices (QKV by columns, beyond the KV groups too) and the padded vocab, replicates norms", "[model][memory]") {
  const ModelSpec m = llama(32, 4096, 14336, 32);
  const ParamCounts t8 = count_params_per_tp_rank(m, 8);
  // 4 query heads, 1 KV head per rank: QKV 4096*(4+2)*128; norms whole.
  CHECK(t8.layer.qkv == 4096 * 6 * 128);
  CHECK(t8.layer.norms == 2 * 4096);
  // Vocab padded to a multiple of 128*8 = 1024: 128256 = 125.25*1024 -> 126*1024 = 129,024,
  // i.e. 16,128 rows per rank.
  CHECK(t8.embedding == 16128 * 4096);
  // TP16 > 8 KV heads: each rank's attention runs one KV head (2 query heads), but Megatron's
  // linear_qkv stays column-split: (32 + 2 x 8) x 128 / 16 = 384 columns a rank, 4096 x 3 x 128
  // weights (attention.py gathers the QKV output and slices a rank's heads out of it).
  CHECK(kv_heads_per_tp_rank(m, 16) == 1);
  CHECK(count_params_per_tp_rank(m, 16).layer.qkv == 4096 * 3 * 128);
  // Padding: 50257 (GPT-2) at TP2 -> multiple of 256 = 50432.
  CHECK(padded_vocab_size(50257, 2) == 50432);
}

TEST_CASE("memory: optimizer bytes scale with 1/(DP*CP) under the distributed optimizer", "[model][memory]") {
  const double p = static_cast<double>(count_params_per_tp_rank(llama(32, 4096, 14336, 32), 1).total());
  for (int64_t cp : {1, 2, 8})
    for (int64_t dp : {1, 4, 16}) {
      const ModelStateBytes m = model_state_bytes(llama8b(8192 * cp, 1, cp, dp, CpCommType::P2P));
      CHECK(m.optimizer_shard == dp * cp);
      CHECK(m.optimizer_bytes * static_cast<double>(dp * cp) == Approx(12 * p));
      // 6 + 12/shard bytes per parameter in all (Megatron Core, Megatron-Bridge).
      CHECK(m.weights_bytes + m.main_grads_bytes + m.optimizer_bytes ==
            Approx((6 + 12.0 / static_cast<double>(dp * cp)) * p));
    }
  Scenario plain = llama8b(8192, 1, 2, 4, CpCommType::P2P);
  plain.parallel.use_distributed_optimizer = false;
  const ModelStateBytes m = model_state_bytes(plain);
  CHECK(m.weights_bytes + m.main_grads_bytes + m.optimizer_bytes == Approx(18 * p));
}

TEST_CASE("memory: bf16 gradients (grad_reduce_in_fp32 off) follow Megatron's 20 / 4 + 16/d rule", "[model][memory]") {
  // Megatron Core's distributed-optimizer guide: fp16 (here bf16) parameters and gradients cost
  // 20 B/param without the distributed optimizer and 4 + 16/d with it: weights 2 + gradients 2,
  // and fp32 master, Adam m, v and an fp32 copy of the gradients (4 each), sharded over d = DP*CP.
  const double p = static_cast<double>(count_params_per_tp_rank(llama(32, 4096, 14336, 32), 1).total());
  for (bool dist : {true, false}) {
    Scenario s = llama8b(8192 * 2, 1, 2, 4, CpCommType::P2P);
    s.parallel.use_distributed_optimizer = dist;
    s.parallel.grad_reduce_in_fp32 = false;
    const double d = dist ? 8 : 1;
    const ModelStateBytes m = model_state_bytes(s);
    CHECK(m.main_grads_bytes == Approx(2 * p));
    // The fp32 copy lives in the optimizer step's phase only: model states, workspaces and the copy.
    const MemoryEstimate e = estimate_memory(s);
    const auto step = std::find_if(e.phases.begin(), e.phases.end(),
                                   [](const MemoryPhaseTotal& ph) { return ph.name == "optimizer.step"; });
    REQUIRE(step != e.phases.end());
    CHECK(step->bytes - workspace_bytes(s).total() == Approx((4 + 16 / d) * p));
  }
  // fp32 gradients (Megatron-LM's bf16 default): no optimizer-step phase, 4 B/param of gradients.
  const Scenario fp32 = llama8b(8192 * 2, 1, 2, 4, CpCommType::P2P);
  CHECK(model_state_bytes(fp32).main_grads_bytes == Approx(4 * p));
  for (const MemoryPhaseTotal& ph : estimate_memory(fp32).phases) CHECK(ph.name != "optimizer.step");
}

TEST_CASE("memory: p2p forward CP buffers grow linearly with the ring size, a2a's do not", "[model][memory]") {
  // Keep the local length fixed (S = 8192 * N) so only the ring size changes.
  const auto fwd = [](CpCommType type, int64_t n) {
    return cp_buffer_bytes(llama8b(8192 * n, 1, n, 1, type)).fwd_bytes;
  };
  const double p2 = fwd(CpCommType::P2P, 2);
  for (int64_t n : {4, 8, 16}) CHECK(fwd(CpCommType::P2P, n) == Approx(p2 * static_cast<double>(n) / 2));
  for (int64_t n : {4, 8}) CHECK(fwd(CpCommType::A2A, n) == fwd(CpCommType::A2A, 2));
  // p2p backward is double-buffered: independent of N.
  CHECK(cp_buffer_bytes(llama8b(8192 * 16, 1, 16, 1, CpCommType::P2P)).bwd_bytes ==
        cp_buffer_bytes(llama8b(8192 * 2, 1, 2, 1, CpCommType::P2P)).bwd_bytes);
}

TEST_CASE("memory: all_gather over packed documents (THD) keeps full-size chunk outputs", "[model][memory]") {
  // Llama-3.1-8B, S = 32768 over CP 4: L = 8192 tokens a rank; |Q| = |O| = 8192 x 32 x 128 x 2 B
  // = 67,108,864; |K| = |V| = 16,777,216, X = |K| + |V| = 33,554,432; |LSE| = 8192 x 32 x 4.
  // TE 2.18 (AttnFuncWithCPAndKVAllGather, context_parallel.py at v2.18), by hand:
  const double Q = 67'108'864, K = 16'777'216, X = 2 * K, N = 4;
  Scenario sbhd = llama8b(32768, 1, 4, 1, CpCommType::AllGather);
  // The gather stage max(X + NX, NX + N|K|) - |O| - |LSE| = 133,169,152 is below the kernel stage.
  // sbhd: the two half-size chunk outputs beside the gathered K, V (N X + |O|), and the second,
  // zeroed output 2.18 allocates for every format (out = torch.zeros(o_shape), |O|).
  CHECK(cp_buffer_bytes(sbhd).fwd_bytes == N * X + 2 * Q);
  sbhd.software.transformer_engine_version = {2, 17, 0};  // 2.17 allocates one output
  CHECK(cp_buffer_bytes(sbhd).fwd_bytes == N * X + Q);
  // sbhd backward, rank 0 (chunks 0 and 7; c = 4096), as hcpcal's suite holds it (each chunk's dk,
  // dv freed after its add): chunk 7 sees 8c = 4 L keys, its dk, dv 4X, beside 2 N X and both dq
  // halves: 2NX + |Q| + 4X; the reduce stage NX + |Q| + N|K| is lower.
  CHECK(cp_buffer_bytes_of_rank(sbhd, 0).bwd_bytes == 2 * N * X + Q + 4 * X);
  Scenario thd = llama8b(32768, 1, 4, 1, CpCommType::AllGather);
  thd.training.document_lengths = {16384, 8192, 4096, 4096};
  // THD: TE hands each chunk's kernel the whole Q (per-step cu_seqlens): two full outputs, 2|O|,
  // beside the empty out_f16 it no longer returns (|O|).
  CHECK(cp_buffer_bytes(thd).fwd_bytes == N * X + 3 * Q);
  // THD backward, any rank: TE keeps each chunk's full dq, dk, dv (|Q| + NX) in its per-step lists
  // and the gathered K, V to the end. At the second chunk: gathered K, V and zeroed dK, dV (2NX), the
  // zeroed dQ (|Q|) and both chunks' outputs (2|Q| + 2NX): 4NX + 3|Q|; then the reorder of dK adds
  // N|K| (above X): 4NX + 3|Q| + N|K| = 805,306,368.
  for (int64_t r : {0, 3}) CHECK(cp_buffer_bytes_of_rank(thd, r).bwd_bytes == 4 * N * X + 3 * Q + N * K);
  CHECK(4 * N * X + 3 * Q + N * K == 805'306'368.0);
}

TEST_CASE("memory: p2p forward outputs depend on the ring rank (upper steps are half size)", "[model][memory]") {
  const CpTensorBytes t{.q = 4, .k = 1, .v = 1, .o = 4, .lse = 2};
  // Rank 0 of 4: 1 diagonal + 3 upper: 4*(K+V) + (1 + 3/2)*(O + LSE) = 8 + 15 = 23.
  CHECK(p2p_forward_bytes(t, 4, 0, true) == 23);
  // Rank 3: 1 diagonal + 3 lower, all full: 8 + 4*6 = 32; no mask: all full on every rank.
  CHECK(p2p_forward_bytes(t, 4, 3, true) == 32);
  CHECK(p2p_forward_bytes(t, 4, 0, false) == 32);
}

TEST_CASE("memory: more recompute keeps fewer activation bytes", "[model][memory]") {
  for (bool sp : {false, true}) {
    Scenario s = llama8b(131072, 2, 4, 4, CpCommType::A2A);
    s.parallel.sequence_parallel = sp;
    const LayerActivationBytes a = layer_activation_bytes(s);
    const double none = saved_bytes_per_layer(a, RecomputeGranularity::None, 0);
    const double selective = saved_bytes_per_layer(a, RecomputeGranularity::Selective, 0);
    const double full = saved_bytes_per_layer(a, RecomputeGranularity::Full, 0);
    CHECK(none > selective);
    CHECK(selective > full);
    double previous_peak = 1e30;
    for (auto r : {RecomputeGranularity::None, RecomputeGranularity::Selective,
                   RecomputeGranularity::Full}) {
      s.training.recompute_granularity = r;
      const MemoryEstimate m = estimate_memory(s);
      CHECK(m.peak_bytes <= previous_peak);
      previous_peak = m.peak_bytes;
    }
  }
}

TEST_CASE("memory: the breakdown sums to the peak", "[model][memory]") {
  Scenario s = llama8b(131072, 1, 16, 2, CpCommType::P2P);
  s.training.recompute_granularity = RecomputeGranularity::Full;
  const MemoryEstimate m = estimate_memory(s);
  double sum = 0;
  for (const auto& c : m.breakdown) sum += c.bytes;
  CHECK(sum == Approx(m.peak_bytes));
  for (const auto& p : m.phases) CHECK(p.bytes <= m.peak_bytes);
  CHECK(m.headroom_bytes == Approx(m.capacity_bytes - m.peak_bytes));
}

TEST_CASE("memory: fp8 adds fp8 copies of the layer GEMM weights", "[model][memory]") {
  Scenario s = llama8b(131072, 1, 16, 2, CpCommType::P2P);
  s.training.precision = Precision::FP8;
  // 2 B per layer GEMM parameter: 2 * 32 * (218,112,000 - 8,192) = 13,958,643,712.
  CHECK(model_state_bytes(s).quantized_weight_copies_bytes == 13'958'643'712.0);
}

TEST_CASE("memory: under fp8 each TE Linear saves its input in fp8", "[model][memory]") {
  // Llama-3.1-8B at 8K, TP 1, CP 1: T = 8192 tokens, h = 4096, 32 query / 8 KV heads x 128,
  // ffn 14336 (SwiGLU). Saved per token, bytes (activations.hpp):
  //   bf16: norm1 in 2h + norm1 out 2h + Q,K,V 2 x 6144 + O 2 x 4096 + LSE 4 x 32
  //         + norm2 in 2h + norm2 out 2h + FC1 out 2 x 28672 + SwiGLU out 2 x 14336
  //   fp8:  the Linears' inputs in fp8: norm1 out 1h, norm2 out 1h, SwiGLU out 1 x 14336, and the
  //         projection's fp8 copy of O, 1 x 4096, beside the attention's bf16 O.
  Scenario s = llama8b(8192, 1, 1, 1, CpCommType::P2P);
  const double T = 8192, h = 4096;
  const double bf16 = 2 * h + 2 * h + 2 * 6144 + 2 * 4096 + 4 * 32 + 2 * h + 2 * h + 2 * 28672 + 2 * 14336;
  const double fp8 = bf16 - 1 * h - 1 * h - 1 * 14336 + 1 * 4096;
  CHECK(saved_bytes_per_layer(layer_activation_bytes(s), RecomputeGranularity::None, 0) == Approx(T * bf16));
  s.training.precision = Precision::FP8;
  const LayerActivationBytes a = layer_activation_bytes(s);
  CHECK(saved_bytes_per_layer(a, RecomputeGranularity::None, 0) == Approx(T * fp8));
  // Selective recompute drops the core attention's internals (LSE) and, under fp8, its bf16 output:
  // the projection's fp8 copy stays.
  CHECK(saved_bytes_per_layer(a, RecomputeGranularity::Selective, 0) == Approx(T * (fp8 - 4 * 32 - 2 * 4096)));
  // Full recompute keeps the layer input alone, bf16 either way.
  CHECK(saved_bytes_per_layer(a, RecomputeGranularity::Full, 0) == Approx(T * 2 * h));
  // Current scaling (tensorwise, MXFP8) with TE >= 2.6: Megatron's linear_proj saves its original
  // input, the attention's own bf16 O, so no fp8 copy of it; selective recompute then keeps that O.
  s.training.fp8_recipe = Fp8Recipe::Tensorwise;
  const LayerActivationBytes cs = layer_activation_bytes(s);
  CHECK(saved_bytes_per_layer(cs, RecomputeGranularity::None, 0) == Approx(T * (fp8 - 1 * 4096)));
  CHECK(saved_bytes_per_layer(cs, RecomputeGranularity::Selective, 0) == Approx(T * (fp8 - 1 * 4096 - 4 * 32)));
  s.software.transformer_engine_version = {2, 5, 0};  // before TE 2.6: the copy as under delayed scaling
  CHECK(saved_bytes_per_layer(layer_activation_bytes(s), RecomputeGranularity::None, 0) == Approx(T * fp8));
}

TEST_CASE("memory: TE's userbuffers, one [seq x mbs / CP, hidden] buffer per overlapped GEMM", "[model][memory]") {
  // initialize_ub registers 12 buffers from TE 2.7 on (10 before), each of Megatron's shape
  // [seq x mbs / CP, hidden]: Llama-3.1-8B at 32K, CP 2, mbs 1: 16384 x 4096 elements, 2 bytes in
  // bf16; under fp8 the all-gather ones (8 of 12) hold 1 byte an element.
  Scenario s = llama8b(32768, 4, 2, 1, CpCommType::P2P);
  s.parallel.sequence_parallel = true;
  CHECK(workspace_bytes(s).userbuffers_bytes == 0);
  s.parallel.tp_comm_overlap = true;
  const double buffer = 16384.0 * 4096;
  s.software.transformer_engine_version = {2, 18, 0};
  CHECK(workspace_bytes(s).userbuffers == 12);
  CHECK(workspace_bytes(s).userbuffers_bytes == Approx(12 * buffer * 2));
  s.software.transformer_engine_version = {2, 6, 0};
  CHECK(workspace_bytes(s).userbuffers_bytes == Approx(10 * buffer * 2));
  s.software.transformer_engine_version = {2, 18, 0};
  s.training.precision = Precision::FP8;
  CHECK(workspace_bytes(s).userbuffers_bytes == Approx(buffer * (8 * 1 + 4 * 2)));
  // Counted in the peak: the estimate lists it as a component.
  bool listed = false;
  for (const MemoryComponent& c : estimate_memory(s).breakdown)
    listed = listed || (c.name == "userbuffers" && c.bytes == Approx(buffer * (8 * 1 + 4 * 2)));
  CHECK(listed);
}

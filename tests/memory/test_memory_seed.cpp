// Memory of the seed decision study (Megatron-Bridge hierarchical-context-parallel.md):
// Llama-3.1-8B at 128K tokens, micro batch 1, on 4 x 8 H100-80GB, recompute none as in
// scenarios/seed-*.json. Every expected number is computed by hand below, component by
// component, from the shape alone (not through the implementation's helpers).
//
// Shared facts (h = 4096, 32 layers, 32 heads, 8 KV heads, d = 128, ffn = 14336, vocab 128256):
//   params/layer = QKV 4096*(32+16)*128 = 25,165,824 + proj 32*128*4096 = 16,777,216
//                + MLP 3*4096*14336 = 176,160,768 + norms 2*4096 = 8,192 = 218,112,000
//   TP1 shard = 32*218,112,000 + 2*128256*4096 (embedding + untied output) + 4096 (final norm)
//             = 6,979,584,000 + 1,050,673,152 + 4,096 = 8,030,261,248
//   workspace allowance = 512 MiB + 64 MiB = 603,979,776 B; NCCL 256 MiB = 268,435,456 B each.
#include <catch2/catch.hpp>

#include "memory/estimate.hpp"
#include "memory/cp_buffers.hpp"
#include "scenario/parse.hpp"
#include "memory_component.hpp"

using namespace hcpsim;

// H100 80GB as the driver reports it: 81559 MiB (the dgx-h100 preset).
constexpr double kH100MemoryBytes = 81559.0 * 1048576;

namespace {

Scenario llama8b_128k_4x8_h100() {
  Scenario s;
  s.model.name = "llama3.1-8b";
  s.model.num_layers = 32;
  s.model.hidden_size = 4096;
  s.model.ffn_hidden_size = 14336;
  s.model.num_attention_heads = 32;
  s.model.num_query_groups = 8;
  s.model.kv_channels = 128;
  s.model.vocab_size = 128256;
  s.training.seq_length = 131072;
  s.training.micro_batch_size = 1;
  s.training.global_batch_size = 8;
  s.cluster.num_nodes = 4;
  s.cluster.gpus_per_node = 8;
  s.cluster.gpu.memory_bytes = kH100MemoryBytes;
  return s;
}

Scenario option_a() {  // TP1, CP16, a2a+p2p [8,2], DP2
  Scenario s = llama8b_128k_4x8_h100();
  s.parallel.context_parallel_size = 16;
  s.parallel.data_parallel_size = 2;
  s.parallel.cp_comm_type = CpCommType::A2AP2P;
  s.parallel.hierarchical_context_parallel_sizes = {8, 2};
  return s;
}

Scenario option_b() {  // TP2, CP4, a2a, sequence parallel, DP4
  Scenario s = llama8b_128k_4x8_h100();
  s.parallel.tensor_model_parallel_size = 2;
  s.parallel.context_parallel_size = 4;
  s.parallel.data_parallel_size = 4;
  s.parallel.cp_comm_type = CpCommType::A2A;
  s.parallel.sequence_parallel = true;
  return s;
}

Scenario option_c() {  // TP1, CP16, p2p, DP2
  Scenario s = option_a();
  s.parallel.cp_comm_type = CpCommType::P2P;
  s.parallel.hierarchical_context_parallel_sizes.clear();
  return s;
}


double phase_total(const MemoryEstimate& m, const std::string& name) {
  for (const auto& p : m.phases)
    if (p.name == name) return p.bytes;
  FAIL("no phase " << name);
  return 0;
}

}  // namespace

TEST_CASE("memory: seed option A (TP1, a2a+p2p [8,2]) against a hand computation", "[model][memory]") {
  const MemoryEstimate m = estimate_memory(option_a());
  // Model states, P = 8,030,261,248; shard = DP*CP = 2*16 = 32.
  const double weights = 16'060'522'496.0;     // 2 * P
  const double main_grads = 32'121'044'992.0;  // 4 * P
  const double optimizer = 3'011'347'968.0;    // 12 * P / 32 = 96,363,134,976 / 32
  const double workspace = 603'979'776.0;
  const double nccl = 3 * 268'435'456.0;       // a2a group, ring pair (P = 2), DP x CP
  // Activations, T = 131072/16 = 8192 tokens, no SP, e = 2:
  //   norm1 in/out + Q,K,V = 8192*2*(2*4096 + (32+2*8)*128) = 16384*14336 = 234,881,024
  //   O = 8192*2*32*128 = 67,108,864;  LSE = 8192*32*4 = 1,048,576
  //   MLP = 8192*2*(2*4096 + 3*14336) = 16384*51200 = 838,860,800
  //   a2a-based transport also saves its post-a2a out: 67,108,864
  const double saved_per_layer = 234'881'024.0 + 67'108'864 + 1'048'576 + 838'860'800 + 67'108'864;
  REQUIRE(saved_per_layer == 1'209'008'128.0);
  const double final_norm = 8192.0 * 2 * 2 * 4096;  // 134,217,728
  const double logits = 8192.0 * 128256 * 6;        // bf16 + fp32 copy: 6,304,038,912
  const double peak = weights + main_grads + optimizer + workspace + nccl + 32 * saved_per_layer +
                      final_norm + logits;
  REQUIRE(peak == 97'728'718'336.0);

  CHECK(m.peak_phase == "fwd.loss");
  CHECK(test::component(m, "weights") == weights);
  CHECK(test::component(m, "main grads") == main_grads);
  CHECK(test::component(m, "optimizer state") == optimizer);
  CHECK(test::component(m, "nccl buffers") == nccl);
  CHECK(test::component(m, "activations (saved)") == 32 * saved_per_layer);
  CHECK(test::component(m, "logits + loss") == logits);
  CHECK(m.peak_bytes == Approx(peak).epsilon(1e-12));
  CHECK(m.capacity_bytes == kH100MemoryBytes);
  CHECK(m.headroom_bytes == Approx(kH100MemoryBytes - peak).epsilon(1e-12));  // -12.21 GB
  CHECK_FALSE(m.fits);

  // CP buffers on post-a2a tensors (S/2 tokens, 32/8 heads: same bytes as local):
  // |Q| = |O| = 67,108,864, |K|+|V| = 2*8192*8*128*2 = 33,554,432, |LSE| = 1,048,576.
  //   fwd = post-a2a q,k,v (100,663,296) + max(2|Q|, ring of 2 on rank 1 + its merged out)
  //       ring = 2*(|K|+|V|) + 2*(|O| + |LSE|) + |O| = 67,108,864 + 136,314,880 + 67,108,864
  const double cp_fwd = 100'663'296.0 + (67'108'864.0 + 136'314'880 + 67'108'864);
  //   bwd = |O| + max(a2a out stage |Q|+|K|+|V| + max(2|Q|, |Q| + 3|K|) = 100,663,296 + 134,217,728,
  //                   ring 4*(|K|+|V|) + |Q| + |LSE|/2 + diagonal step |Q| + |K|+|V| = 302,514,176)
  const double cp_bwd = 67'108'864.0 + 302'514'176;
  const CpBufferBytes cp = cp_buffer_bytes(option_a());
  CHECK(cp.fwd_bytes == cp_fwd);  // 371,195,904
  CHECK(cp.bwd_bytes == cp_bwd);  // 369,623,040
  // bwd.attention = static + 32 layers + dY, dO (8192*2*(4096+4096)) + bwd buffers.
  const double statics = weights + main_grads + optimizer + workspace + nccl;
  CHECK(phase_total(m, "bwd.attention") ==
        Approx(statics + 32 * saved_per_layer + 8192.0 * 2 * 8192 + cp_bwd).epsilon(1e-12));
}

TEST_CASE("memory: seed option B (TP2 + SP, a2a CP4) against a hand computation", "[model][memory]") {
  const MemoryEstimate m = estimate_memory(option_b());
  // TP2 shard: per layer QKV 4096*(16+2*4)*128 = 12,582,912, proj 16*128*4096 = 8,388,608,
  // MLP 3*4096*7168 = 88,080,384, norms 8,192 -> 109,060,096; * 32 = 3,489,923,072;
  // vocab padded to a multiple of 256: 128256 = 501*256, so 64128 rows each of embedding and
  // output: 2*64128*4096 = 525,336,576; final norm 4,096. P = 4,015,263,744. shard = 4*4 = 16.
  const double weights = 8'030'527'488.0;      // 2 * P
  const double main_grads = 16'061'054'976.0;  // 4 * P
  const double optimizer = 3'011'447'808.0;    // 12 * P / 16 = 48,183,164,928 / 16
  const double workspace = 603'979'776.0;
  const double nccl = 3 * 268'435'456.0;       // TP, a2a CP group, DP x CP
  // Activations, T = 131072/4 = 32768 tokens; SP: norm tensors / 2; 16 Q and 4 KV heads per rank:
  //   norm1 in/out + Q,K,V = 32768*2*(2*4096/2 + (16+2*4)*128) = 65536*7168 = 469,762,048
  //   O = 32768*2*16*128 = 134,217,728;  LSE = 32768*16*4 = 2,097,152
  //   MLP = 32768*2*(2*4096/2 + 3*7168) = 65536*25600 = 1,677,721,600
  //   a2a's saved post-a2a out = 134,217,728
  const double saved_per_layer =
      469'762'048.0 + 134'217'728 + 2'097'152 + 1'677'721'600 + 134'217'728;
  REQUIRE(saved_per_layer == 2'418'016'256.0);
  // final norm in/out (sharded) + the SP all-gathered head input: 32768*2*4096*(2/2 + 1)
  const double final_norm = 536'870'912.0;
  const double logits = 32768.0 * 64128 * 6;  // 12,608,077,824
  const double peak = weights + main_grads + optimizer + workspace + nccl + 32 * saved_per_layer +
                      final_norm + logits;
  REQUIRE(peak == 119'033'785'344.0);

  CHECK(m.peak_phase == "fwd.loss");
  CHECK(test::component(m, "weights") == weights);
  CHECK(test::component(m, "main grads") == main_grads);
  CHECK(test::component(m, "optimizer state") == optimizer);
  CHECK(test::component(m, "activations (saved)") == 32 * saved_per_layer);
  CHECK(test::component(m, "final norm + head input") == final_norm);
  CHECK(test::component(m, "logits + loss") == logits);
  CHECK(m.peak_bytes == Approx(peak).epsilon(1e-12));
  CHECK(m.headroom_bytes == Approx(kH100MemoryBytes - peak).epsilon(1e-12));  // -33.51 GB
  CHECK_FALSE(m.fits);

  // a2a CP buffers: |Q| = |O| = 134,217,728, |K| = |V| = 32768*4*128*2 = 33,554,432.
  //   fwd = |Q|+|K|+|V| + max(2|Q|, 3|O|) = 201,326,592 + 402,653,184
  //   bwd = post-a2a dO |O| + post-a2a dq, dk, dv (|Q|+|K|+|V|) + the out stage's max(2|Q|,
  //         |Q| + 3|K|) = 134,217,728 + 201,326,592 + 268,435,456
  const CpBufferBytes cp = cp_buffer_bytes(option_b());
  CHECK(cp.fwd_bytes == 603'979'776.0);
  CHECK(cp.bwd_bytes == 603'979'776.0);
}

TEST_CASE("memory: seed option C (TP1, p2p CP16) against a hand computation", "[model][memory]") {
  const MemoryEstimate m = estimate_memory(option_c());
  // Model states as option A (same TP shard and DP*CP = 32); NCCL: two ring-neighbour pair
  // communicators + DP x CP = 3. Saved per layer as A minus the a2a's post-a2a out:
  // 1,209,008,128 - 67,108,864 = 1,141,899,264.
  const double statics = 16'060'522'496.0 + 32'121'044'992.0 + 3'011'347'968.0 + 603'979'776.0 +
                         3 * 268'435'456.0;
  const double saved_per_layer = 1'141'899'264.0;
  const double peak = statics + 32 * saved_per_layer + 134'217'728.0 + 6'304'038'912.0;
  CHECK(m.peak_phase == "fwd.loss");
  CHECK(m.peak_bytes == Approx(peak).epsilon(1e-12));  // 95,581,234,688
  CHECK(m.headroom_bytes == Approx(kH100MemoryBytes - peak).epsilon(1e-12));

  // p2p ring of 16, worst rank r = 15 (1 diagonal + 15 lower steps, all full-size outputs):
  //   fwd = 16*(|K|+|V|) + 16*(|O| + |LSE|) = 16*33,554,432 + 16*(67,108,864 + 1,048,576)
  //       = 536,870,912 + 1,090,519,040 = 1,627,389,952
  //   bwd = 4*(|K|+|V|) + dq_buffer |Q| + LSE second half |LSE|/2 (524,288)
  //       + one step's dq_,dk_,dv_ (|Q| + |K|+|V|) = 302,514,176
  const CpBufferBytes cp = cp_buffer_bytes(option_c());
  CHECK(cp.fwd_bytes == 1'627'389'952.0);
  CHECK(cp.bwd_bytes == 302'514'176.0);
  CHECK(cp.saved_extra_per_layer_bytes == 0);
  // fwd.attention of the last layer: 31 layers + norm in/out, Q, K, V (234,881,024) + fwd buffers.
  CHECK(phase_total(m, "fwd.attention") ==
        Approx(statics + 31 * saved_per_layer + 234'881'024.0 + 1'627'389'952.0).epsilon(1e-12));
}

// Megatron-Bridge says B has "more memory headroom" than A. This model says: only when the
// activations are small. Per rank B holds half the weights and fp32 main grads of A
// (6 B/param of 4.0e9 vs 8.0e9 params: 24.1 vs 48.2 GB; the optimizer is 3.0 GB in both since
// DP*CP halves exactly as TP doubles), but T/TP = 32768/2 tokens-equivalent against A's 8192/1:
// twice the activations per layer and twice the vocab-parallel logits (T*vocab/TP).
TEST_CASE("memory: B vs A headroom: A wins without recompute, B wins with full recompute", "[model][memory]") {
  const MemoryEstimate a_none = estimate_memory(option_a());
  const MemoryEstimate b_none = estimate_memory(option_b());
  CHECK(a_none.headroom_bytes > b_none.headroom_bytes);  // -17.7 GB vs -39.0 GB

  Scenario a = option_a(), b = option_b();
  a.training.recompute_granularity = b.training.recompute_granularity = RecomputeGranularity::Full;
  const MemoryEstimate a_full = estimate_memory(a), b_full = estimate_memory(b);
  // Full recompute keeps only layer inputs: A 32*8192*2*4096 = 2,147,483,648,
  // B 32*32768*2*4096/2 = 4,294,967,296; the peak is the loss phase in both:
  const double a_peak = 16'060'522'496.0 + 32'121'044'992.0 + 3'011'347'968.0 + 603'979'776.0 +
                        805'306'368.0 + 2'147'483'648.0 + 134'217'728.0 + 6'304'038'912.0;
  const double b_peak = 8'030'527'488.0 + 16'061'054'976.0 + 3'011'447'808.0 + 603'979'776.0 +
                        805'306'368.0 + 4'294'967'296.0 + 536'870'912.0 + 12'608'077'824.0;
  CHECK(a_full.peak_bytes == Approx(a_peak).epsilon(1e-12));  // 61.19 GB, headroom 18.8
  CHECK(b_full.peak_bytes == Approx(b_peak).epsilon(1e-12));  // 45.95 GB, headroom 34.1
  CHECK(a_full.fits);
  CHECK(b_full.fits);
  CHECK(b_full.headroom_bytes > a_full.headroom_bytes);
}

// The seed scenario files (presets llama3.1-8b and dgx-h100, parsed and validated) describe
// exactly the options built by hand above.
TEST_CASE("memory: scenarios/seed-*.json give the hand-built estimates", "[model][memory]") {
  const std::string dir = std::string(HCPSIM_SOURCE_DIR) + "/scenarios/";
  const std::pair<const char*, Scenario> cases[] = {
      {"seed-a-hcp.json", option_a()}, {"seed-b-tp2-a2a.json", option_b()}, {"seed-c-p2p.json", option_c()}};
  for (const auto& [file, by_hand] : cases) {
    INFO(file);
    const MemoryEstimate parsed = estimate_memory(load_scenario_file(dir + file));
    const MemoryEstimate expected = estimate_memory(by_hand);
    CHECK(parsed.peak_bytes == expected.peak_bytes);
    CHECK(parsed.capacity_bytes == expected.capacity_bytes);
    CHECK(parsed.peak_phase == expected.peak_phase);
  }
}

TEST_CASE("memory: the caching allocator's margin is 1.09x the largest allocation, or 256 MiB with expandable segments",
          "[model][memory]") {
  // Seed B: TP2, a2a CP4, T = 131072/4 = 32768 tokens a rank, 64128 vocab rows a rank, unfused loss:
  // its fp32 copy of the logits is the largest tensor, 32768 * 64128 * 4 = 8,405,385,216 B (the
  // MLP's FC1 output is 32768 * 2 * 7168 * 2 = 939,524,096 B; the output layer's weight gradient
  // 64128 * 4096 * 2 = 525,336,576 B). The margin: the measured median, 1.09x it.
  const double logits = 8'405'385'216.0, margin = 1.09 * logits;
  Scenario b = option_b();
  MemoryEstimate m = estimate_memory(b);
  CHECK(m.largest_allocation_bytes == logits);
  CHECK(m.largest_allocation == "the loss's fp32 logits");
  CHECK(m.allocator_margin_bytes == Approx(margin).epsilon(1e-12));
  CHECK(m.allocator_stage_headroom_bytes == m.headroom_bytes);  // PP = 1
  CHECK_FALSE(m.within_allocator_margin);  // it does not fit at all
  b.software.expandable_segments = true;
  m = estimate_memory(b);
  CHECK(m.allocator_margin_bytes == 268'435'456.0);  // 256 MiB
  CHECK(m.largest_allocation_bytes == logits);
  // A fit within the margin: capacity set to the peak plus half the margin, then plus twice it.
  Scenario c = option_b();
  const double peak = estimate_memory(c).peak_bytes;
  c.cluster.gpu.memory_bytes = peak + 0.5 * margin;
  m = estimate_memory(c);
  CHECK(m.fits);
  CHECK(m.within_allocator_margin);
  c.cluster.gpu.memory_bytes = peak + 1.01 * margin;
  CHECK_FALSE(estimate_memory(c).within_allocator_margin);
  c.software.expandable_segments = true;  // 4.6 GB of headroom is beyond 256 MiB
  c.cluster.gpu.memory_bytes = peak + 0.5 * margin;
  CHECK_FALSE(estimate_memory(c).within_allocator_margin);
  // A vocab of 256 (128 rows a rank: logits 32768 * 128 * 4 = 16,777,216 B, the head's gradient
  // 128 * 4096 * 2 = 1,048,576 B) leaves the FC1 output the largest: 939,524,096 B.
  Scenario small_vocab = option_b();
  small_vocab.model.vocab_size = 256;
  CHECK(estimate_memory(small_vocab).largest_allocation_bytes == 939'524'096.0);
  CHECK(estimate_memory(small_vocab).largest_allocation == "the MLP's FC1 output");
  // Few tokens a rank: seed B at 4096 tokens (1024 a rank): logits 1024 * 64128 * 4 = 262,668,288
  // B, FC1 1024 * 2 * 7168 * 2 = 29,360,128 B; the output layer's weight gradient, 525,336,576 B,
  // is the largest (as the probe's LM head gradient was at 2048 tokens).
  Scenario short_seq = option_b();
  short_seq.training.seq_length = 4096;
  CHECK(estimate_memory(short_seq).largest_allocation_bytes == 525'336'576.0);
  CHECK(estimate_memory(short_seq).largest_allocation == "the output layer's weight gradient");
}

TEST_CASE("memory: the lightest fitting recompute, and the lightest that also leaves the allocator's margin",
          "[model][memory]") {
  // Seed A (TP1, CP16: 8192 tokens a rank): its margin is 1.09 x the loss's fp32 logits,
  // 1.09 * 8192 * 128256 * 4 = 4,580,934,943 B, whichever the recompute. The capacity is set from
  // the peaks the estimate gives each setting (their values are checked by hand above: full's is
  // 61.19 GB; selective keeps all but the core attention's inputs, 2.2 GB less than none's 97.7).
  const double margin = 1.09 * 8192.0 * 128256 * 4;
  Scenario a = option_a();
  Scenario selective = a, full = a;
  selective.training.recompute_granularity = RecomputeGranularity::Selective;
  full.training.recompute_granularity = RecomputeGranularity::Full;
  const double none_peak = estimate_memory(a).peak_bytes, selective_peak = estimate_memory(selective).peak_bytes,
               full_peak = estimate_memory(full).peak_bytes;
  REQUIRE(estimate_memory(a).allocator_margin_bytes == Approx(margin).epsilon(1e-12));
  // The cases below need none > selective + 1 GB, selective - full > the margin.
  REQUIRE(none_peak > selective_peak + 1e9);
  REQUIRE(selective_peak - full_peak > margin + 1e9);
  // 1 GB over selective's peak: none does not fit, selective fits with 1 GB (< the margin), full
  // leaves 35.4 GB: selective fits, full leaves the margin.
  a.cluster.gpu.memory_bytes = selective_peak + 1e9;
  LightestRecompute r = lightest_fitting_recompute(a);
  CHECK(r.fits == RecomputeGranularity::Selective);
  CHECK(r.leaves_margin == RecomputeGranularity::Full);
  // With expandable segments the margin is 256 MiB, which 1 GB leaves: selective for both.
  a.software.expandable_segments = true;
  r = lightest_fitting_recompute(a);
  CHECK(r.fits == RecomputeGranularity::Selective);
  CHECK(r.leaves_margin == RecomputeGranularity::Selective);
  a.software.expandable_segments = false;
  // Half the margin over full's peak: only full fits, within the margin; none leaves it.
  a.cluster.gpu.memory_bytes = full_peak + 0.5 * margin;
  r = lightest_fitting_recompute(a);
  CHECK(r.fits == RecomputeGranularity::Full);
  CHECK_FALSE(r.leaves_margin.has_value());
  // 1 GB over none's own peak: it fits, within the margin; selective would leave 1 + 2.2 GB, still
  // within it: full is the lightest that leaves it, and nothing is offered as merely fitting.
  a.cluster.gpu.memory_bytes = none_peak + 1e9;
  REQUIRE(none_peak + 1e9 - selective_peak < margin);
  r = lightest_fitting_recompute(a);
  CHECK_FALSE(r.fits.has_value());
  CHECK(r.leaves_margin == RecomputeGranularity::Full);
  // Below full's peak nothing fits; with the margin over none's own peak it leaves it already.
  for (const double capacity : {full_peak - 1e9, none_peak + margin + 1e9}) {
    a.cluster.gpu.memory_bytes = capacity;
    r = lightest_fitting_recompute(a);
    CHECK_FALSE(r.fits.has_value());
    CHECK_FALSE(r.leaves_margin.has_value());
  }
}

#include "scenario/validate.hpp"

#include "common/join_words.hpp"
#include "common/strprintf.hpp"
#include "rules/cudnn_bottom_right.hpp"
#include "rules/fp8_gemm.hpp"
#include "rules/fused_kernels.hpp"
#include "rules/tp_comm_overlap.hpp"
#include "scenario/gpu_names.hpp"
#include "scenario/model_params.hpp"
#include "scenario/presets.hpp"

#include <algorithm>
#include <string>

namespace hcpsim {

namespace {

using std::to_string;

// a*b, or -1 if it overflows int64 (inputs are positive).
int64_t checked_mul(int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) return -1;
  return r;
}

std::string sizes_str(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + to_string(v[i]);
  return s + "]";
}

// Divisors of n (for "try one of" hints), at most a handful.
std::string divisors_hint(int64_t n, int64_t limit = 8) {
  std::string s;
  int count = 0;
  for (int64_t d = 1; d <= n && count < limit; ++d) {
    if (n % d == 0) {
      s += (count ? ", " : "") + to_string(d);
      ++count;
    }
  }
  return s;
}

// GPUs of one compute tray (one operating system) of a GB200/GB300 NVL72 rack: 2 Grace CPUs and 4
// Blackwell GPUs (NVIDIA GB200 NVL72 datasheet).
constexpr int64_t kNvlTrayGpus = 4;

// The most micro batches a step hcpsim times: the schedule holds each one's passes (about 100 B
// and 2 us each), so 2^20 takes about 2 s and 150 MB; a training step of more is not a real one
// (2^20 sequences of 4K tokens on one DP rank is 4e9 tokens a step).
constexpr int64_t kMostMicrobatchesPerStep = int64_t{1} << 20;

struct Ctx {
  Scenario& sc;
  const ParsedSections& ok;
  DiagnosticSink& sink;
  // True when every listed field parsed (a rule reading a broken field is skipped,
  // so that one typo does not cascade into false errors).
  bool usable(std::initializer_list<const char*> paths) const {
    for (const char* p : paths)
      if (sink.spoiled(p)) return false;
    return true;
  }
  int64_t tp() const { return sc.parallel.tensor_model_parallel_size; }
  int64_t cp() const { return sc.parallel.context_parallel_size; }
  int64_t pp() const { return sc.parallel.pipeline_model_parallel_size; }
  void warn(const std::string& w) { sc.warnings.push_back(w); }
};

void check_cluster(Ctx& c) {
  const ClusterSpec& cl = c.sc.cluster;
  // A GPU of another vendor is not modelled; one renamed from a preset's GPU keeps the preset's data
  // wherever the scenario gives none: say so rather than simulate "MI300X" as an H100 in silence.
  if (cl.gpu.name.find_first_not_of(" \t") == std::string::npos) {  // the name picks the GPU's kernel figures
    c.sink.error("cluster.gpu.name", "empty", "the GPU's name picks its kernel figures (docs/cost-model.md, the roofline)",
                 cl.preset.empty() ? "name the GPU (e.g. \"B200\"), or leave the name out"
                                   : "name the GPU (e.g. \"B200\"), or leave the name out to keep the preset's");
  } else if (const std::optional<std::string> w = other_vendor_word(cl.gpu.name)) {
    c.sink.error("cluster.gpu.name", "\"" + cl.gpu.name + "\" names an accelerator of another vendor (" + *w + ")",
                 "hcpsim models NVIDIA GPUs: CUDA and cuDNN kernels, NCCL collectives, Transformer Engine",
                 "use an NVIDIA GPU (hcpsim presets lists them)");
  } else if (const ClusterPreset* p = cl.preset.empty() ? nullptr : find_cluster_preset(cl.preset);
             p && cl.gpu.name != p->spec.gpu.name && !gpu_model_matches(cl.gpu.name, p->spec.gpu)) {
    std::string own;  // the preset whose GPU the name is, if any
    for (const ClusterPreset& q : cluster_presets())
      if (own.empty() && gpu_model_matches(cl.gpu.name, q.spec.gpu)) own = q.name;
    // What the parsed GPU holds of the preset's (parse.cpp drops the SM figures and the fp8 and fp4
    // peaks of a renamed GPU in some cases: read off the result, not restated); the cost model
    // matches kernel measurements by name, so the preset GPU's are never this one's.
    const GpuSpec& g = p->spec.gpu;
    std::vector<std::string> kept, dropped;
    const auto sort = [&](bool same, bool zero, const std::string& what) {
      if (same) kept.push_back(what);
      else if (zero) dropped.push_back(what);
    };
    sort(cl.gpu.peak_bf16_flops_per_s == g.peak_bf16_flops_per_s, false, "bf16 peak");
    sort(cl.gpu.peak_fp8_flops_per_s == g.peak_fp8_flops_per_s, cl.gpu.peak_fp8_flops_per_s == 0, "fp8 peak");
    sort(cl.gpu.peak_fp4_flops_per_s == g.peak_fp4_flops_per_s && g.peak_fp4_flops_per_s > 0,
         cl.gpu.peak_fp4_flops_per_s == 0 && g.peak_fp4_flops_per_s > 0, "fp4 peak");
    sort(cl.gpu.memory_bytes == g.memory_bytes, false, "memory");
    sort(cl.gpu.hbm_bytes_per_s == g.hbm_bytes_per_s, false, "HBM bandwidth");
    sort(cl.gpu.compute_capability == g.compute_capability, false,
         "compute capability (" + strprintf("%.1f", g.compute_capability / 10.0) + ")");
    sort(cl.gpu.sm_count == g.sm_count, cl.gpu.sm_count == 0, "SM count");
    sort(cl.gpu.sm_clock_mhz == g.sm_clock_mhz, cl.gpu.sm_clock_mhz == 0, "SM clock");
    dropped.push_back("kernel measurements");
    c.warn("cluster.gpu.name \"" + cl.gpu.name + "\" is not the preset's " + g.name + ": " +
           (kept.empty() ? std::string() : "the GPU keeps the preset's " + join_words(kept, "and") + ", ") + "not its " +
           join_words(dropped, "and") + " (the cost model says what times its kernels); " +
           (own.empty() ? "give the GPU's figures, and calibrate on it (hcpcal, hcpsim fit), for its own"
                        : "for a " + cl.gpu.name + " use the preset \"" + own + "\""));
  }
  // An SM clock changed on a preset's GPU with its peaks kept: the peaks are the datasheet's, and the
  // clock feeds only the softmax's exponential rate (head dims other than 128) and the carried
  // memory-bound fractions (cost_model.cpp, sm_rate). Say so, rather than let a user believe a
  // power-capped clock was modelled.
  if (const ClusterPreset* p = cl.preset.empty() ? nullptr : find_cluster_preset(cl.preset)) {
    const GpuSpec& g = p->spec.gpu;
    if (cl.gpu.sm_clock_mhz > 0 && g.sm_clock_mhz > 0 && cl.gpu.sm_clock_mhz != g.sm_clock_mhz &&
        cl.gpu.peak_bf16_flops_per_s == g.peak_bf16_flops_per_s)
      c.warn("cluster.gpu.sm_clock_mhz " + strprintf("%.0f", cl.gpu.sm_clock_mhz) + " does not rescale the preset's peaks (" +
             strprintf("%.0f", g.peak_bf16_flops_per_s / 1e12) + " TFLOP/s bf16 at " + strprintf("%.0f", g.sm_clock_mhz) +
             " MHz): hcpsim uses it only for the softmax's exponential rate at head dims other than 128 and, on GPUs "
             "other than the measured H100 and H200, the memory-bound kernels' SM-side rate; for another clock give "
             "peak_bf16_tflops (and fp8, fp4) at that clock too");
    // The peaks are those of the preset's SMs: the same peak over other SMs makes each SM faster
    // or slower, and the attention's SM-by-SM model would time the kernels of a GPU that is none.
    if (cl.gpu.sm_count > 0 && g.sm_count > 0 && cl.gpu.sm_count != g.sm_count &&
        cl.gpu.peak_bf16_flops_per_s == g.peak_bf16_flops_per_s)
      c.sink.error("cluster.gpu.sm_count",
                   "sm_count " + to_string(cl.gpu.sm_count) + " with the peak of the preset's " + to_string(g.sm_count) +
                       " SMs (" + strprintf("%.0f", g.peak_bf16_flops_per_s / 1e12) + " TFLOP/s bf16)",
                   "a GPU's peaks are its SMs' together",
                   "give that GPU's peak_bf16_tflops (and fp8, fp4, hbm_GBps) too, or leave sm_count out");
  }
  if (cl.intra_node.kind == IntraNodeKind::NVLDomain && cl.gpus_per_node > 72)
    c.sink.error("cluster.gpus_per_node", "an NVLink domain of " + to_string(cl.gpus_per_node) + " GPUs",
                 "nvl_domain spans at most 72 GPUs (GB200 NVL72)", "use at most 72, or several nodes");
  if (cl.num_nodes > 1 || cl.inter_node.nics_per_node > 0) {
    const int64_t nics = cl.inter_node.nics_per_node, gpus = cl.gpus_per_node;
    if (nics < 1 || nics > gpus || gpus % nics != 0)
      c.sink.error("cluster.inter_node.nics_per_node",
                   to_string(nics) + " NICs for " + to_string(gpus) + " GPUs per node",
                   "gpus_per_node % nics_per_node == 0 (each NIC serves the same number of GPUs)",
                   "use one of " + divisors_hint(gpus));
  }
  const int64_t world = checked_mul(cl.num_nodes, cl.gpus_per_node);
  if (world < 0 || world > kMaxSimulatedGpus)
    c.sink.error("cluster.num_nodes",
                 "world size " + (world < 0 ? std::string("overflows 64 bits") : to_string(world) + " GPUs"),
                 "at most " + to_string(kMaxSimulatedGpus) + " GPUs are simulated",
                 "simulate fewer nodes; identical data-parallel replicas behave alike");
}

void check_world_divisibility(Ctx& c) {
  const int64_t world = c.sc.cluster.world_size();
  const int64_t mp = checked_mul(checked_mul(c.tp(), c.cp()), c.pp());
  if (mp < 0 || mp > world || world % mp != 0) {
    c.sink.error("parallel", "world size " + to_string(world) + " (" + to_string(c.sc.cluster.num_nodes) + " nodes x " +
                                 to_string(c.sc.cluster.gpus_per_node) + " GPUs) is not divisible by TP*CP*PP = " +
                                 (mp < 0 ? std::string("overflow") : to_string(mp)),
                 "world_size % (TP*CP*PP) == 0",
                 std::string("change tensor_model_parallel_size, context_parallel_size") +
                     (c.pp() > 1 ? ", pipeline_model_parallel_size" : "") + " or cluster.num_nodes" +
                     (mp > world && mp > 0 ? " (TP*CP*PP is more than the " + to_string(world) + " GPUs)" : ""));
    c.sc.parallel.data_parallel_size = 0;  // unknown; rules that need DP are skipped
    return;
  }
  c.sc.parallel.data_parallel_size = world / mp;
}

// The layer split into stages and virtual stages (rules/pipeline.hpp, Megatron's rules).
void check_pipeline(Ctx& c) {
  const PipelineProblem p = pipeline_split(c.sc.parallel.pipeline(), c.sc.model.num_layers).problem;
  if (!p.empty()) c.sink.error(p.key, p.what, p.rule, p.fix);
  if (c.sc.parallel.overlap_p2p_comm.value_or(false) && !c.sc.parallel.pipeline().interleaved()) {
    c.warn("overlap_p2p_comm applies to the interleaved schedule only; Megatron turns it off otherwise (arguments.py), "
           "and so does hcpsim");
    c.sc.parallel.overlap_p2p_comm = false;
  }
  if (c.pp() > 1 && !c.sc.model.untie_embeddings_and_output_weights)
    c.warn("tied embeddings with pipeline parallelism: the last stage keeps a copy of the embedding (counted), but the "
           "embedding-gradient all-reduce between the first and last stage is not modelled");
}

// Megatron's micro-batch rules of the interleaved schedule, once the micro-batch count is known.
void check_pipeline_microbatches(Ctx& c) {
  const PipelineSpec ps = c.sc.parallel.pipeline();
  const int64_t m = c.sc.num_microbatches();
  const PipelineProblem p = pipeline_microbatch_problem(ps, m);
  if (!p.empty()) c.sink.error(p.key, p.what, p.rule, p.fix);
  else if (ps.stages > 1 && m < ps.stages)
    c.warn(to_string(m) + " micro batches per DP rank for " + to_string(ps.stages) +
           " pipeline stages: the pipeline never fills (bubble " + to_string(100 * (ps.stages - 1) / (m + ps.stages - 1)) +
           "% of the step or more); raise global_batch_size");
}

void check_model_heads(Ctx& c) {
  const ModelSpec& m = c.sc.model;
  if (m.num_attention_heads % m.num_query_groups != 0)
    c.sink.error("model.num_query_groups",
                 "num_attention_heads " + to_string(m.num_attention_heads) + " is not a multiple of num_query_groups " +
                     to_string(m.num_query_groups),
                 "num_attention_heads % num_query_groups == 0", "use a divisor of the head count");
}

// TP splits the query heads evenly, and the KV heads evenly or one per rank (Megatron gathers the
// QKV output over TP and slices it where TP > groups: model_params.hpp, qkv_gathered_over_tp).
// The rules that divide the heads by TP (a2a, a2a+p2p, sequence parallelism) run only where it
// does: otherwise check_tp_heads names the cause, and a quotient of heads/TP would be truncated.
bool tp_splits_heads(const ModelSpec& m, int64_t tp) {
  const int64_t g = m.num_query_groups;
  return m.num_attention_heads % tp == 0 && (g % tp == 0 || (tp > g && tp % g == 0));
}

// The TP sizes that split the heads and the MLP's columns (check_tp_ffn), for a hint: at most a
// handful, from 1 up, within a node of `gpus_per_node` GPUs where it is known (TP's all-reduces
// stay on NVLink).
std::string tp_sizes_hint(const ModelSpec& m, int64_t gpus_per_node) {
  std::string s;
  int count = 0;
  const int64_t most = gpus_per_node > 0 ? std::min(m.num_attention_heads, gpus_per_node) : m.num_attention_heads;
  for (int64_t tp = 1; tp <= most && count < 8; ++tp)
    if (tp_splits_heads(m, tp) && m.ffn_hidden_size % tp == 0) s += (count++ ? ", " : "") + to_string(tp);
  return s;
}

void check_tp_heads(Ctx& c) {
  const ModelSpec& m = c.sc.model;
  if (tp_splits_heads(m, c.tp())) return;
  const bool heads = m.num_attention_heads % c.tp() == 0;
  c.sink.error("parallel.tensor_model_parallel_size",
               heads ? "num_query_groups " + to_string(m.num_query_groups) + " is not divisible by TP " + to_string(c.tp())
                     : "num_attention_heads " + to_string(m.num_attention_heads) + " is not divisible by TP " +
                           to_string(c.tp()),
               "num_attention_heads % TP == 0, and num_query_groups % TP == 0 (or TP a multiple of num_query_groups, "
               "replicating KV heads)",
               "use TP in {" + tp_sizes_hint(m, c.sc.cluster.gpus_per_node) + "}");
}

// Megatron's MLP splits ffn_hidden_size over TP (RowParallelLinear's divide(input_size, TP) asserts):
// a width TP does not divide would truncate each shard's columns.
void check_tp_ffn(Ctx& c) {
  const int64_t ffn = c.sc.model.ffn_hidden_size;
  if (ffn % c.tp() == 0 || !tp_splits_heads(c.sc.model, c.tp())) return;  // check_tp_heads says the one error
  const std::string fits = tp_sizes_hint(c.sc.model, c.sc.cluster.gpus_per_node);
  c.sink.error("parallel.tensor_model_parallel_size",
               "model.ffn_hidden_size " + to_string(ffn) + " is not divisible by TP " + to_string(c.tp()),
               "ffn_hidden_size % TP == 0 (Megatron splits the MLP's columns over TP)",
               fits.empty() ? "change model.ffn_hidden_size to a multiple of TP" : "use TP in {" + fits + "}");
}

// Parameters, bytes and FLOPs are counted in 64-bit integers downstream: a shape whose parameter
// count (taken here in floating point) leaves that range would wrap. No model trained comes near
// the bound.
void check_model_size(Ctx& c) {
  constexpr double kMaxParams = 1e15;
  const double params = count_params_in_double(c.sc.model);
  if (params <= kMaxParams) return;
  c.sink.error("model", strprintf("a model of %.3g parameters", params),
               "at most 1e15 parameters: hcpsim counts parameters, bytes and FLOPs in 64-bit integers",
               "check num_layers, hidden_size, num_attention_heads, kv_channels and ffn_hidden_size");
}

// The document length nearest above `d` (or seq_length) that both rules below take: a divisor of
// seq_length and a multiple of `unit` (2*CP, or 1). seq_length = unit * q, so the candidates are
// unit x the divisors of q.
int64_t nearest_document_length(int64_t seq_length, int64_t d, int64_t unit) {
  if (unit <= 0 || seq_length % unit != 0) return seq_length;
  const int64_t q = seq_length / unit;
  int64_t best = seq_length;
  for (int64_t i = 1; i * i <= q; ++i)
    if (q % i == 0)
      for (const int64_t f : {i, q / i})
        if (unit * f >= d && unit * f < best) best = unit * f;
  return best;
}

// Why 2*CP divides every packed document.
constexpr const char* kDocumentChunksReason =
    "(TE splits every document into 2*CP chunks, thd_get_partitioned_indices, after padding it with "
    "pad_thd_sequences_for_cp)";

// Documents of one length (document_length): whole documents in every sequence, 2*CP | d.
// False where the rest of the documents' rules cannot run.
bool check_equal_documents(Ctx& c) {
  const TrainingSpec& t = c.sc.training;
  const int64_t d = t.document_length;
  const int64_t two_cp = 2 * c.cp(), unit = c.cp() > 1 ? two_cp : 1;
  const std::string nearest = to_string(nearest_document_length(t.seq_length, d, unit));
  if (t.seq_length % d != 0) {
    c.sink.error("training.document_length",
                 "document_length " + to_string(d) + " does not divide seq_length " + to_string(t.seq_length),
                 "seq_length % document_length == 0 (every sequence packs whole documents of that length)",
                 "use " + nearest + " (the nearest above that divides seq_length" +
                     (unit > 1 ? " and 2*CP divides" : "") + ")");
    return false;
  }
  if (c.cp() > 1 && d % two_cp != 0)
    c.sink.error("training.document_length",
                 "document_length " + to_string(d) + " is not divisible by 2*CP = " + to_string(two_cp),
                 std::string("document_length % (2*CP) == 0 ") + kDocumentChunksReason,
                 "pad documents to " + nearest + " tokens (the nearest above that 2*CP divides and that divides seq_length)");
  return true;
}

// Documents of unequal lengths (document_lengths, 1 to kMaxDocuments of them: parse.cpp): one
// sequence's packing, adding up to seq_length, each a multiple of 2*CP. False where the rest cannot run.
bool check_document_lengths(Ctx& c) {
  const TrainingSpec& t = c.sc.training;
  const std::vector<int64_t>& lengths = t.document_lengths;
  if (t.document_length > 0) {
    c.sink.error("training.document_lengths", "given with training.document_length",
                 "one packing: documents of one length (document_length) or a list of them (document_lengths)",
                 "drop one of them");
    return false;
  }
  int64_t sum = 0;
  for (const int64_t d : lengths) sum += d;
  if (sum != t.seq_length) {
    c.sink.error("training.document_lengths",
                 "the documents add up to " + to_string(sum) + " tokens, not seq_length " + to_string(t.seq_length),
                 "sum(document_lengths) == seq_length (one sequence's packing)",
                 sum < t.seq_length ? "add a document of " + to_string(t.seq_length - sum) + " tokens (padding)"
                                    : "shorten the documents by " + to_string(sum - t.seq_length) + " tokens");
    return false;
  }
  const int64_t two_cp = 2 * c.cp();
  for (size_t i = 0; c.cp() > 1 && i < lengths.size(); ++i)
    if (lengths[i] % two_cp != 0) {
      const int64_t padded = (lengths[i] / two_cp + 1) * two_cp;
      c.sink.error("training.document_lengths[" + std::to_string(i) + "]",
                   "document of " + to_string(lengths[i]) + " tokens is not divisible by 2*CP = " + to_string(two_cp),
                   std::string("every document % (2*CP) == 0 ") + kDocumentChunksReason,
                   "pad it to " + to_string(padded) + " tokens (and seq_length by as many)");
      return false;
    }
  return true;
}

// Packed documents (THD): whole documents in a sequence, each split over CP as TE splits a
// sequence, on the transports TE runs THD with (docs/cp-transports.md §1.2).
void check_documents(Ctx& c) {
  const TrainingSpec& t = c.sc.training;
  if (!t.packed_documents()) return;
  if (!(t.document_lengths.empty() ? check_equal_documents(c) : check_document_lengths(c))) return;
  const std::string key = t.document_lengths.empty() ? "document_length" : "document_lengths";
  const std::string field = "training." + key;
  const ParallelSpec& p = c.sc.parallel;
  const Version& te = c.sc.software.transformer_engine_version;
  if (te < Version{2, 18, 0})
    c.sink.error("software.transformer_engine_version", "packed documents (" + field + ") under TE " + te.str(),
                 "packed documents are modelled from TE 2.18, as it runs them (its per-document split and THD kernels "
                 "under every transport); earlier releases' THD paths are not modelled",
                 "set transformer_engine_version to 2.18.0 or later, or drop " + key);
  if (c.cp() > 1 && p.cp_comm_type == CpCommType::A2AP2P && te < Version{2, 19, 0})
    c.sink.error("parallel.cp_comm_type", "a2a+p2p with packed documents (" + field + ") under TE " + te.str(),
                 "TE rejects THD input with a2a+p2p before 2.19 (PR #3290 allows it)",
                 "set transformer_engine_version to 2.19.0 or later, or use cp_comm_type \"p2p\" or \"a2a\"");
  if (c.cp() > 1 && p.cp_comm_type == CpCommType::AllGather) {  // THD with all_gather from 2.18 (PR #2829): above
    if (c.sc.software.attention_backend == AttentionBackend::Flash)
      c.sink.error("software.attention_backend", "flash with all_gather and packed documents",
                   "TE runs THD all_gather with FusedAttention or FlashAttention 3, not FlashAttention 2",
                   "use attention_backend \"cudnn\", or cp_comm_type \"p2p\"");
  }
  if (c.sc.model.sliding_window)
    c.sink.error(field, "given with model.sliding_window",
                 "packed documents with a sliding window are not modelled", "drop one of them");
  // Every document is split over the ring as a sequence is, in TE's zigzag or in ring-flash-attention's
  // contiguous blocks (ring_flash_attn_varlen_func); no library stripes documents.
  if (p.cp_load_balance == CpLoadBalance::Stripe && p.p2p_size() > 1)
    c.sink.error(field, "given with cp_load_balance \"stripe\"",
                 "packed documents are split by TE's per-document zigzag or in contiguous blocks (ring-flash-attention's "
                 "varlen ring); striped documents are not modelled",
                 "use cp_load_balance \"zigzag\" or \"contiguous\"");
  if (!t.unequal_documents()) {
    c.warn(field + (t.document_length > 0 ? " " + to_string(t.document_length) : std::string()) + ": attention runs as " + t.documents_text() +
           " a sequence, each split over CP (TE's THD); its kernels are timed as batched kernels of those shapes "
           "(hcpsim has not measured THD kernels)");
    return;
  }
  c.warn(field + ": attention runs as " + t.documents_text() +
         " a sequence, each split over CP (TE's THD), each kernel one varlen launch over them; hcpsim has not "
         "measured THD kernels: a launch is timed as the units of its documents' batched kernels (FlashAttention-2's "
         "CTAs past a shorter document's end, where its shape model times the launch: between no cost and an empty "
         "CTA's, the band half that range)");
}

// Rules on the sequence length; each runs only when the fields it reads are usable.
void check_sequence(Ctx& c) {
  const int64_t s = c.sc.training.seq_length;
  const int64_t two_cp = 2 * c.cp();
  if (c.usable({"parallel.context_parallel_size"}) && s % two_cp != 0)
    c.sink.error("training.seq_length",
                 "seq_length " + to_string(s) + " is not divisible by 2*CP = " + to_string(two_cp),
                 c.sc.parallel.cp_load_balance == CpLoadBalance::Zigzag
                     ? "seq_length % (2*CP) == 0 (DualChunkSwap splits the sequence into 2*CP chunks)"
                     : "seq_length % (2*CP) == 0 (TE's DualChunkSwap needs it; hcpsim's ring keeps it for every token "
                       "order)",
                 "pad to " + to_string((s / two_cp + 1) * two_cp) + " tokens");
  const bool sp_usable = c.usable({"parallel.context_parallel_size", "parallel.tensor_model_parallel_size",
                                   "parallel.sequence_parallel"});
  if (sp_usable && c.sc.parallel.sequence_parallel && c.tp() > 1 && tp_splits_heads(c.sc.model, c.tp()) &&
      s % c.cp() == 0 && (s / c.cp()) % c.tp() != 0)
    c.sink.error("parallel.sequence_parallel",
                 "local sequence seq_length/CP = " + to_string(s / c.cp()) + " is not divisible by TP " + to_string(c.tp()),
                 "(seq_length/CP) % TP == 0 with sequence parallelism",
                 "pad seq_length to a multiple of 2*CP*TP = " + to_string(2 * c.cp() * c.tp()));
  if (sp_usable && c.sc.parallel.sequence_parallel && c.tp() == 1)
    c.warn("sequence_parallel has no effect with tensor_model_parallel_size 1 (Megatron turns it off)");
  const int64_t tokens = checked_mul(s, c.sc.training.micro_batch_size);
  if (c.usable({"training.micro_batch_size"}) && (tokens < 0 || tokens > (int64_t{1} << 40)))
    c.sink.error("training.micro_batch_size", "micro_batch_size * seq_length is absurdly large",
                 "micro_batch_size * seq_length <= 2^40 tokens", "use a realistic micro batch");
}

void check_batch(Ctx& c, bool global_batch_given) {
  TrainingSpec& t = c.sc.training;
  const int64_t per_step = checked_mul(t.micro_batch_size, c.sc.parallel.data_parallel_size);
  if (!global_batch_given) {
    t.global_batch_size = per_step;
    return;
  }
  if (per_step < 0 || t.global_batch_size % per_step != 0)
    c.sink.error("training.global_batch_size",
                 "global_batch_size " + to_string(t.global_batch_size) + " is not divisible by micro_batch_size * DP = " +
                     to_string(t.micro_batch_size) + " * " + to_string(c.sc.parallel.data_parallel_size),
                 "global_batch_size % (micro_batch_size * DP) == 0",
                 "use a multiple of " + to_string(per_step));
  else if (const int64_t v = std::max<int64_t>(1, c.sc.parallel.virtual_pipeline_model_parallel_size),
           m = t.global_batch_size / per_step;
           m > kMostMicrobatchesPerStep / v)  // the schedule holds each micro batch once per model chunk
    c.sink.error("training.global_batch_size",
                 "global_batch_size " + to_string(t.global_batch_size) + " makes " + to_string(m) +
                     " micro batches a step on each DP rank" +
                     (v > 1 ? " over " + to_string(v) + " virtual stages" : std::string()),
                 "micro batches a step x virtual stages <= " + to_string(kMostMicrobatchesPerStep) +
                     " (hcpsim places each micro batch on the pipeline's schedule once a model chunk)",
                 "use a global batch of at most " + to_string(kMostMicrobatchesPerStep / v * per_step) +
                     ", or a larger micro_batch_size");
}

void check_te_version(Ctx& c, const Version& needed, const char* what) {
  const Version& v = c.sc.software.transformer_engine_version;
  if (v < needed)
    c.sink.error("software.transformer_engine_version",
                 std::string(what) + " needs Transformer Engine >= " + needed.str() + ", scenario has " + v.str(),
                 std::string("TE >= ") + needed.str() + " for " + what,
                 "upgrade TE, or use cp_comm_type \"p2p\"");
}

void check_a2a(Ctx& c) {
  const ModelSpec& m = c.sc.model;
  const int64_t cp = c.cp();
  if (c.tp() > m.num_query_groups && cp > 1) {
    c.sink.error("parallel.cp_comm_type",
                 "TP " + to_string(c.tp()) + " > num_query_groups " + to_string(m.num_query_groups) +
                     " replicates KV heads to one per TP rank, which a2a cannot split over CP " + to_string(cp),
                 "a2a needs (num_query_groups/TP) % CP == 0",
                 "lower TP to at most " + to_string(m.num_query_groups) + ", or use p2p / a2a+p2p");
    return;
  }
  if (!tp_splits_heads(m, c.tp())) return check_te_version(c, kTeWithA2A, "cp_comm_type a2a");  // check_tp_heads says why
  const int64_t hq = m.num_attention_heads / c.tp(), hk = m.num_query_groups / c.tp();
  if (hq % cp != 0)
    c.sink.error("parallel.context_parallel_size",
                 "a2a splits heads over CP: num_attention_heads/TP = " + to_string(hq) + " is not divisible by CP " + to_string(cp),
                 "a2a needs (num_attention_heads/TP) % CP == 0", "use CP in {" + divisors_hint(hq) + "} or a2a+p2p");
  if (hk % cp != 0) {
    // The ways out: a CP the KV heads a rank holds split into, a lower TP (a rank then holds more
    // heads) under which both head counts split over this CP, an inner a2a group dividing them.
    std::vector<std::string> ways;
    if (hk > 1) ways.push_back("use CP in {" + divisors_hint(hk) + "}");
    std::string lower_tp;
    for (int64_t t = 1; t < c.tp(); ++t)
      if (tp_splits_heads(m, t) && m.num_query_groups % t == 0 && (m.num_query_groups / t) % cp == 0 && (m.num_attention_heads / t) % cp == 0)
        lower_tp += (lower_tp.empty() ? "" : ", ") + to_string(t);
    if (!lower_tp.empty()) ways.push_back("lower TP to one of {" + lower_tp + "}");
    ways.push_back(hk > 1 ? "use a2a+p2p with an inner size dividing " + to_string(hk) : "use p2p or all_gather");
    c.sink.error("parallel.context_parallel_size",
                 "a2a splits KV heads over CP: num_query_groups/TP = " + to_string(hk) + " is not divisible by CP " + to_string(cp),
                 "a2a needs (num_query_groups/TP) % CP == 0", join_words(ways, "or"));
  }
  check_te_version(c, kTeWithA2A, "cp_comm_type a2a");
}

// What to write for a2a+p2p's split: "add [inner_a2a_size, outer_p2p_size], e.g. [A, P]" with both
// groups of 2 or more (a group of 1 falls back to pure a2a or p2p), the inner a2a group at most 8
// (one NVLink node) dividing the KV heads per TP rank (the a2a splits them); else why none exists.
std::string hcp_split_fix(const ModelSpec& m, int64_t tp, int64_t cp, const std::string& lead) {
  const int64_t hk = tp_splits_heads(m, tp) ? std::max<int64_t>(1, m.num_query_groups / tp) : 0;
  int64_t best = 0;
  bool any = false;
  for (int64_t inner = 2; inner <= std::min<int64_t>(8, cp / 2); ++inner) {
    if (cp % inner != 0) continue;
    any = true;
    if (hk == 0 || hk % inner == 0) best = inner;  // hk unknown (TP invalid: check_tp_heads says why)
  }
  if (!any)
    return "CP " + to_string(cp) + " splits only as [" + to_string(cp) + ", 1] or [1, " + to_string(cp) +
           "], which TE runs as pure a2a or p2p: use cp_comm_type \"a2a\" or \"p2p\"";
  if (best == 0)
    return "no inner a2a group of 2 or more divides both CP " + to_string(cp) + " and the " + to_string(hk) +
           " KV head(s) per TP rank: use cp_comm_type \"p2p\", or a lower TP";
  return lead + "[" + to_string(best) + ", " + to_string(cp / best) + "]";
}

void check_hcp(Ctx& c) {
  const auto& sizes = c.sc.parallel.hierarchical_context_parallel_sizes;
  const std::string path = "parallel.hierarchical_context_parallel_sizes";
  if (sizes.empty()) {
    c.sink.error(path, "missing for cp_comm_type a2a+p2p",
                 "a2a+p2p needs hierarchical_context_parallel_sizes (without it TE silently runs with CP 1)",
                 hcp_split_fix(c.sc.model, c.tp(), c.cp(), "add [inner_a2a_size, outer_p2p_size], e.g. "));
    return;
  }
  if (sizes.size() != 2) {
    c.sink.error(path, "has " + to_string(sizes.size()) + " entries " + sizes_str(sizes),
                 "TE's a2a+p2p takes exactly two groups [a2a, p2p]", "use [inner_a2a_size, outer_p2p_size]");
    return;
  }
  const int64_t a = sizes[0], p = sizes[1];
  const int64_t prod = checked_mul(a, p);
  if (prod != c.cp())
    c.sink.error(path, "product " + sizes_str(sizes) + " = " + (prod < 0 ? std::string("overflow") : to_string(prod)) +
                           " differs from context_parallel_size " + to_string(c.cp()),
                 "prod(hierarchical_context_parallel_sizes) == CP",
                 hcp_split_fix(c.sc.model, c.tp(), c.cp(), "use sizes whose product is " + to_string(c.cp()) + ", e.g. "));
  const ModelSpec& m = c.sc.model;
  const bool heads_split = tp_splits_heads(m, c.tp());  // else check_tp_heads says why
  const int64_t hq = m.num_attention_heads / c.tp();
  const int64_t hk = c.tp() > m.num_query_groups ? 1 : m.num_query_groups / c.tp();
  if (heads_split && hq % a != 0)
    c.sink.error(path + "[0]", "num_attention_heads/TP = " + to_string(hq) + " is not divisible by the inner a2a size " + to_string(a),
                 "a2a+p2p needs (num_attention_heads/TP) % sizes[0] == 0", "use an inner size in {" + divisors_hint(hq) + "}");
  if (heads_split && hk % a != 0)
    c.sink.error(path + "[0]", "KV heads per TP rank = " + to_string(hk) + " is not divisible by the inner a2a size " + to_string(a),
                 "a2a+p2p needs (num_query_groups/TP) % sizes[0] == 0", "use an inner size in {" + divisors_hint(hk) + "}");
  if (a == 1) c.warn("hierarchical_context_parallel_sizes[0] is 1: TE falls back to pure p2p");
  if (p == 1) c.warn("hierarchical_context_parallel_sizes[1] is 1: TE falls back to pure a2a");
  check_te_version(c, kTeWithHcp, "cp_comm_type a2a+p2p");
  if (c.sc.software.use_decentralized_pg)
    c.sink.error("software.use_decentralized_pg", "true with cp_comm_type a2a+p2p",
                 "HCP works only on the MPU initialisation path (Megatron-Bridge raises NotImplementedError otherwise)",
                 "set use_decentralized_pg to false");
}

// A token order other than TE's zigzag is ring-flash-attention's: a p2p ring's, under a causal
// mask, simulated on TE's ring with that order's steps (rules/cp_schedule.hpp).
void check_cp_load_balance(Ctx& c) {
  const ParallelSpec& p = c.sc.parallel;
  if (p.cp_load_balance == CpLoadBalance::Zigzag) return;
  const std::string order = to_string(p.cp_load_balance);
  if (p.cp_comm_type != CpCommType::P2P && p.cp_comm_type != CpCommType::A2AP2P) {  // as the HCP sizes are
    c.warn("cp_load_balance \"" + order + "\" is ignored with cp_comm_type " + to_string(p.cp_comm_type) +
           ": it sets a p2p ring's causal steps, and TE's a2a and all_gather run the zigzag order");
    return;
  }
  if (p.p2p_size() == 1 || c.sc.training.attn_mask_type != AttnMaskType::Causal) {
    c.warn("cp_load_balance \"" + order + "\" changes nothing " +
           (p.p2p_size() == 1 ? "without a p2p ring of 2 or more ranks" : "without a causal mask"));
    return;
  }
  c.warn("cp_load_balance \"" + order +
         "\": ring-flash-attention's token order, which Transformer Engine and Megatron do not run; simulated as TE's "
         "p2p ring with that order's causal steps" +
         (p.cp_load_balance == CpLoadBalance::Contiguous
              ? std::string(" (every rank waits each step for the ring; the last rank computes a whole block at every step)")
              : std::string(" (a causal block at every step)")));
}

void check_cp_transport(Ctx& c) {
  const ParallelSpec& p = c.sc.parallel;
  const ModelSpec& m = c.sc.model;
  if (m.sliding_window && (p.cp_comm_type == CpCommType::P2P || p.cp_comm_type == CpCommType::A2AP2P) && c.cp() > 1)
    c.sink.error("parallel.cp_comm_type",
                 std::string("sliding window (") + to_string(*m.sliding_window) + " tokens) with cp_comm_type " +
                     to_string(p.cp_comm_type),
                 "TE supports sliding-window attention under CP only with a2a and all_gather",
                 "use cp_comm_type \"a2a\" or \"all_gather\"");
  if (!p.hierarchical_context_parallel_sizes.empty() && p.cp_comm_type != CpCommType::A2AP2P)
    c.warn(std::string("hierarchical_context_parallel_sizes is ignored with cp_comm_type ") + to_string(p.cp_comm_type));
  check_cp_load_balance(c);
  if (c.cp() == 1) return;
  if (c.sc.software.transformer_engine_version < Version{1, 0, 0})
    check_te_version(c, Version{1, 0, 0}, "context parallelism");
  switch (p.cp_comm_type) {
    case CpCommType::P2P: break;
    case CpCommType::AllGather: check_te_version(c, kTeWithCpCommType, "cp_comm_type all_gather"); break;
    case CpCommType::A2A: check_a2a(c); break;
    case CpCommType::A2AP2P: check_hcp(c); break;
  }
  const bool a2a_kind = p.cp_comm_type == CpCommType::A2A || p.cp_comm_type == CpCommType::A2AP2P;
  if (a2a_kind && (m.num_attention_heads % 2 != 0 || m.num_query_groups % 2 != 0))
    c.warn("odd head or query-group count: TE disables FusedAttention (cuDNN) for a2a/a2a+p2p and uses FlashAttention");
  if (m.sliding_window && *m.sliding_window >= c.sc.training.seq_length)
    c.warn("sliding_window >= seq_length: the window never masks anything; simulated without a window");
}

void check_precision(Ctx& c) {
  if (c.sc.training.precision == Precision::FP8 && c.sc.cluster.gpu.peak_fp8_flops_per_s <= 0)
    c.sink.error("training.precision", "fp8 on " + c.sc.cluster.gpu.name + ", which has no fp8 tensor cores",
                 "fp8 needs cluster.gpu.peak_fp8_tflops > 0", "use \"bf16\", or a Hopper/Blackwell cluster preset");
  if ((c.sc.training.fp8_recipe_given || c.sc.training.fp8_recipe != Fp8Recipe::Delayed) &&
      c.sc.training.precision != Precision::FP8)
    c.sink.error("training.fp8_recipe", std::string("\"") + to_string(c.sc.training.fp8_recipe) + "\" without fp8 training",
                 "Megatron's --fp8-recipe applies with --fp8-format (training.precision \"fp8\")",
                 "set training.precision to \"fp8\", or drop fp8_recipe");
  const int64_t cc = c.sc.cluster.gpu.compute_capability;
  if (c.sc.training.mxfp8() && !rules::mxfp8_supported(cc))
    c.sink.error("training.fp8_recipe", "\"mxfp8\" on " + c.sc.cluster.gpu.name + " (compute capability " +
                                            std::to_string(cc) + ")",
                 "Transformer Engine's MXFP8BlockScaling runs on Blackwell GPUs of compute capability 10.x and "
                 "11.x alone",
                 "use \"delayed\" or \"tensorwise\", or a Blackwell cluster preset");
  if (c.sc.training.fp8_param_gather && c.sc.training.precision != Precision::FP8)
    c.sink.error("training.fp8_param_gather", "fp8 parameters without fp8 training",
                 "Megatron's --fp8-param-gather needs --fp8-format (training.precision \"fp8\")",
                 c.sc.training.precision == Precision::NVFP4 ? "under nvfp4 the key is fp4_param_gather"
                                                             : "set training.precision to \"fp8\", or drop fp8_param_gather");
  if (c.sc.training.fp4_param_gather && c.sc.training.precision != Precision::NVFP4)
    c.sink.error("training.fp4_param_gather", "NVFP4 parameters without NVFP4 training",
                 "Megatron's --fp4-param-gather needs --fp4-format (training.precision \"nvfp4\")",
                 c.sc.training.precision == Precision::FP8 ? "under fp8 the key is fp8_param_gather"
                                                           : "set training.precision to \"nvfp4\", or drop fp4_param_gather");
  if (c.sc.training.quantized_param_gather() && !c.sc.parallel.use_distributed_optimizer) {
    const bool fp4 = c.sc.training.precision == Precision::NVFP4;
    c.sink.error(fp4 ? "training.fp4_param_gather" : "training.fp8_param_gather",
                 std::string(fp4 ? "NVFP4" : "fp8") + " primary weights without the distributed optimizer",
                 fp4 ? "Megatron quantizes NVFP4 primary weights from their fp32 master shard in the distributed optimizer "
                       "alone (fp4_utils.py, quantize_nvfp4_param_shard)"
                     : "Megatron's --fp8-param-gather needs the distributed optimizer (arguments.py asserts it)",
                 "set parallel.use_distributed_optimizer to true, or drop the param gather");
  }
  const GpuSpec& gpu = c.sc.cluster.gpu;
  if (gpu.peak_fp8_flops_per_s > 0 && gpu.peak_fp8_flops_per_s < gpu.peak_bf16_flops_per_s)
    c.warn("cluster.gpu.peak_fp8_tflops " + strprintf("%.0f", gpu.peak_fp8_flops_per_s / 1e12) + " is below peak_bf16_tflops " +
           strprintf("%.0f", gpu.peak_bf16_flops_per_s / 1e12) +
           ": NVIDIA's fp8 tensor cores run at twice their bf16 rate; check the figure (dense TFLOP/s)");
  if (gpu.peak_fp4_flops_per_s > 0 && gpu.peak_fp4_flops_per_s < gpu.peak_fp8_flops_per_s)
    c.warn("cluster.gpu.peak_fp4_tflops " + strprintf("%.0f", gpu.peak_fp4_flops_per_s / 1e12) + " is below peak_fp8_tflops " +
           strprintf("%.0f", gpu.peak_fp8_flops_per_s / 1e12) +
           ": NVIDIA's fp4 tensor cores run at two to three times their fp8 rate; check the figure (dense TFLOP/s)");
  if (c.sc.training.precision == Precision::NVFP4) {
    if (!rules::nvfp4_supported(cc))
      c.sink.error("training.precision", "nvfp4 on " + c.sc.cluster.gpu.name + " (compute capability " + std::to_string(cc) + ")",
                   "Transformer Engine's NVFP4BlockScaling runs on GPUs of compute capability 10.0 and newer (Blackwell)",
                   "use \"fp8\" or \"bf16\", or a Blackwell cluster preset");
    else if (cc > 110)
      c.warn("nvfp4 on " + c.sc.cluster.gpu.name + " (compute capability " + std::to_string(cc) +
             "): Transformer Engine's fused Hadamard-transform cast runs on compute capability 10.0 to 11.0 alone "
             "(quantizer.cpp); here it takes the unfused path, a bf16 transposed pass more per quantized tensor, which "
             "hcpsim does not count");
    if (rules::nvfp4_supported(cc) && c.sc.cluster.gpu.peak_fp4_flops_per_s <= 0)
      c.sink.error("cluster.gpu.peak_fp4_tflops", "missing for nvfp4 on " + c.sc.cluster.gpu.name,
                   "NVFP4 GEMMs run on the GPU's dense fp4 tensor-core peak",
                   "add the dense fp4 rate in TFLOP/s (e.g. 10000 for a GB200's B200), or use a Blackwell cluster preset");
    if (c.sc.cluster.gpu.peak_fp8_flops_per_s <= 0)
      c.sink.error("cluster.gpu.peak_fp8_tflops", "missing for nvfp4 on " + c.sc.cluster.gpu.name,
                   "hcpsim rates NVFP4 GEMMs against the GPU's fp8 GEMMs (docs/cost-model.md, NVFP4)",
                   "add the dense fp8 rate in TFLOP/s, or use a Blackwell cluster preset");
    if (c.sc.software.transformer_engine_version < Version{2, 7, 0})
      c.sink.error("software.transformer_engine_version", "NVFP4 with Transformer Engine " + c.sc.software.transformer_engine_version.str(),
                   "NVFP4BlockScaling needs Transformer Engine 2.7 or newer (Megatron-Bridge's mixed_precision.py checks it)",
                   "set software.transformer_engine_version to \"2.7\" or newer, or use fp8");
  }
}

// Megatron's DDP overlap switches (arguments.py asserts both): the parameter gather overlaps the next
// forward only beside the bucketed gradient reduce, and there is a gather only where the distributed
// optimizer (or Megatron-FSDP) shards the parameters. Unset, overlap_param_gather follows (parse.cpp).
void check_ddp_overlap(Ctx& c) {
  const ParallelSpec& p = c.sc.parallel;
  // Under Megatron-FSDP, check_megatron_fsdp refuses overlap_grad_reduce off on its own account.
  if (!p.overlap_param_gather || p.use_megatron_fsdp) return;
  std::vector<std::string> off, on;
  if (!p.overlap_grad_reduce) {
    off.push_back("overlap_grad_reduce false");
    on.push_back("overlap_grad_reduce");
  }
  if (!p.use_distributed_optimizer) {
    off.push_back("use_distributed_optimizer false");
    on.push_back("use_distributed_optimizer");
  }
  if (off.empty()) return;
  c.sink.error("parallel.overlap_param_gather", "true with " + join_words(off, "and"),
               "Megatron's --overlap-param-gather needs --overlap-grad-reduce and the distributed optimizer "
               "(arguments.py asserts both: without the optimizer no parameters are gathered)",
               "set overlap_param_gather to false (or remove it: it follows them), or " + join_words(on, "and") +
                   " to true");
}

// Megatron-FSDP (parallel.use_megatron_fsdp, workload/fsdp_ops.hpp): what hcpsim models of it.
// `layout`: the layout is the scenario's (a study's job is checked without one first: the sweep picks it).
void check_megatron_fsdp(Ctx& c, bool layout) {
  ParallelSpec& p = c.sc.parallel;
  if (!p.use_megatron_fsdp) return;
  if (!p.use_distributed_optimizer) {
    c.warn("use_megatron_fsdp with use_distributed_optimizer false: Megatron-FSDP v1 runs the distributed optimizer "
           "(arguments.py turns it on, with a warning); hcpsim does too");
    p.use_distributed_optimizer = true;
  }
  if (layout && p.pipeline_model_parallel_size > 1)
    c.sink.error("parallel.use_megatron_fsdp", "true with pipeline_model_parallel_size " + to_string(p.pipeline_model_parallel_size),
                 "hcpsim models Megatron-FSDP without pipeline parallelism (every published Megatron-FSDP recipe runs PP 1)",
                 "set pipeline_model_parallel_size to 1, or use_megatron_fsdp to false (the distributed optimizer)");
  if (!p.overlap_grad_reduce)
    c.sink.error("parallel.overlap_grad_reduce", "false with use_megatron_fsdp",
                 "Megatron-FSDP's optim_grads_params reduce-scatters each layer's gradients as they are ready "
                 "(megatron_fsdp.py raises \"Cannot sync-reduce gradients for optim_grads_params\")",
                 "set overlap_grad_reduce to true (or remove it), or use_megatron_fsdp to false");
  const TrainingSpec& t = c.sc.training;
  if (t.precision == Precision::FP8 && !t.fp8_param_gather && !t.mxfp8())
    c.warn("fp8 under Megatron-FSDP without fp8_param_gather: hcpsim keeps Transformer Engine's fp8 copies of every "
           "layer's weights, unsharded, as without FSDP (whether TE caches them across micro batches under FSDP is "
           "not checked); Megatron-Bridge's FSDP recipes gather fp8 primary weights (fp8_param_gather true)");
  if (t.precision == Precision::NVFP4 || t.mxfp8())
    c.sink.error("parallel.use_megatron_fsdp", std::string("true under ") + (t.mxfp8() ? "MXFP8" : "NVFP4"),
                 "hcpsim models Megatron-FSDP with bf16 and per-tensor fp8 (delayed, tensorwise) training: MXFP8 gathers a "
                 "second, column-wise weight buffer in the backward, and NVFP4 weights have their own gather, neither "
                 "modelled under FSDP (Megatron-Bridge's MXFP8 and NVFP4 recipes run the distributed optimizer instead)",
                 "set use_megatron_fsdp to false, or train in bf16 or per-tensor fp8");
  if (layout && c.sc.workload == WorkloadKind::Step && p.data_parallel_size * p.context_parallel_size == 1)
    c.warn("use_megatron_fsdp with one data-parallel rank (DP x CP = 1): nothing is sharded and no parameter is "
           "gathered; timed as without FSDP");
  // Megatron-FSDP keeps and reduces its gradients in bf16 whatever grad_reduce_in_fp32 says (it does
  // not read it): the scenario echoes what runs.
  if (layout && p.fsdp_sharded()) p.grad_reduce_in_fp32 = false;
}

// Activation offloading (training.cpu_offloading_num_layers, rules/activation_offload.hpp), as Megatron
// allows it (transformer_config.py).
void check_activation_offload(Ctx& c, bool layout) {
  const int64_t n = c.sc.training.cpu_offloading_num_layers;
  if (n == 0) return;
  const int64_t layers = c.sc.model.num_layers;
  const char* key = "training.cpu_offloading_num_layers";
  if (n >= layers)
    c.sink.error(key, to_string(n) + " of " + to_string(layers) + " layers",
                 "Megatron offloads fewer layers than the model has (transformer_config.py: num_layers > "
                 "cpu_offloading_num_layers)",
                 "use at most " + to_string(layers - 1) + ", and at most " + to_string(std::max<int64_t>(0, layers - 2)) +
                     " to leave the copies a layer to hide under");
  else if (n == layers - 1)
    c.warn("cpu_offloading_num_layers " + to_string(n) + " of " + to_string(layers) +
           " layers: each layer's offload must finish before the next layer starts, so the copies do not overlap the "
           "compute (Transformer Engine warns the same); at most " + to_string(layers - 2) + " leaves them a layer");
  if (layout && c.sc.parallel.pipeline_model_parallel_size > 1)
    c.sink.error(key, "offloading with pipeline_model_parallel_size " + to_string(c.sc.parallel.pipeline_model_parallel_size),
                 "Megatron's CPU offloading runs without pipeline parallelism (transformer_config.py raises)",
                 "set pipeline_model_parallel_size to 1, or cpu_offloading_num_layers to 0");
  if (layout && c.sc.training.recompute_granularity != RecomputeGranularity::None)
    c.sink.error(key, std::string("offloading with recompute_granularity ") + to_string(c.sc.training.recompute_granularity),
                 "Megatron's CPU offloading runs without activation recomputation (transformer_config.py raises)",
                 "set recompute_granularity to \"none\", or cpu_offloading_num_layers to 0");
  const CudaGraphImpl g = c.sc.software.cuda_graph_impl;
  if (g == CudaGraphImpl::Local || g == CudaGraphImpl::TransformerEngine)
    c.sink.error(key, std::string("offloading with cuda_graph_impl ") + to_string(g),
                 "Megatron's CPU offloading takes no per-layer CUDA graphs; a full-iteration graph alone "
                 "(transformer_config.py)",
                 "set software.cuda_graph_impl to \"none\" or \"full_iteration\", or cpu_offloading_num_layers to 0");
  if (c.sc.cluster.host_link_bytes_per_s <= 0)
    c.sink.error("cluster.host_link_GBps", "missing with cpu_offloading_num_layers " + to_string(n),
                 "the offload's copies run over the link from each GPU to host memory",
                 "give the per-GPU, per-direction host bandwidth in GB/s (PCIe Gen5 x16: about 55), or a cluster preset");
  if (c.sc.software.transformer_engine_version < Version{2, 10, 0})
    c.warn("cpu_offloading_num_layers with Transformer Engine " + c.sc.software.transformer_engine_version.str() +
           ": before 2.10 TE offloads in groups of layers (now cpu_offload_v1.py), a schedule hcpsim does not model; "
           "it times 2.10's");
  if (c.sc.workload != WorkloadKind::Step)
    c.warn("cpu_offloading_num_layers applies to a training step (workload \"step\"): the copies and their waits are "
           "timed in the step's composition, not in one layer");
}

// Megatron's recompute_method and recompute_num_layers (rules/recompute.hpp), as its
// TransformerConfig takes them.
void check_recompute(Ctx& c, bool layout) {
  const TrainingSpec& t = c.sc.training;
  const char* granularity = to_string(t.recompute_granularity);
  if (t.recompute_num_layers_given && t.recompute_granularity == RecomputeGranularity::Selective)
    c.sink.error("training.recompute_num_layers", "given with recompute_granularity \"selective\"",
                 "Megatron's selective recompute takes no recompute_num_layers (transformer_config.py: \"must be None\")",
                 "drop recompute_num_layers, or set recompute_granularity to \"full\"");
  else if (t.recompute_method_given && t.recompute_granularity == RecomputeGranularity::Selective)
    c.sink.error("training.recompute_method", "given with recompute_granularity \"selective\"",
                 "Megatron's selective recompute takes no recompute_method (arguments.py asserts it is None)",
                 "drop recompute_method, or set recompute_granularity to \"full\"");
  else if (!t.full_recompute() && (t.recompute_num_layers_given || t.recompute_method_given))
    c.warn(std::string("training.recompute_method and recompute_num_layers apply to recompute_granularity \"full\"; with \"") +
           granularity + "\" they have no effect");
  const CudaGraphImpl g = c.sc.software.cuda_graph_impl;
  if (t.full_recompute() && (g == CudaGraphImpl::Local || g == CudaGraphImpl::TransformerEngine))
    c.sink.error("training.recompute_granularity", std::string("\"full\" with software.cuda_graph_impl \"") + to_string(g) + "\"",
                 "Megatron runs full recompute under CUDA graphs only as one graph of the whole iteration "
                 "(transformer_config.py asserts)",
                 "set software.cuda_graph_impl to \"none\" or \"full_iteration\", or recompute_granularity to "
                 "\"selective\" or \"none\"");
  if (!t.full_recompute() || !layout || t.recompute_method != RecomputeMethod::Block) return;
  const PipelineSplit split = pipeline_split(c.sc.parallel.pipeline(), c.sc.model.num_layers);
  if (!split.problem.empty()) return;  // check_pipeline says why
  const int64_t most = split.largest_chunk_layers();
  if (t.recompute_num_layers >= most)
    c.warn("recompute_method \"block\" with recompute_num_layers " + to_string(t.recompute_num_layers) +
           ": no model chunk has more than " + to_string(most) +
           " layers, so every layer is re-run, as under \"uniform\" with 1");
}

// Megatron's fused cross entropy (rules/fused_kernels.hpp): TE's needs its parallel_cross_entropy.
void check_fused_cross_entropy(Ctx& c) {
  const FusionSettings& f = c.sc.software.fusions;
  if (f.cross_entropy_impl != rules::CrossEntropyFusion::Te) return;
  if (!f.cross_entropy) {
    c.warn("software.fusions.cross_entropy_impl \"te\" has no effect without software.fusions.cross_entropy (Megatron's "
           "cross_entropy_loss_fusion): the loss runs unfused");
    return;
  }
  const Version& v = c.sc.software.transformer_engine_version;
  if (v < Version{2, 2, 0})
    c.sink.error("software.fusions.cross_entropy_impl",
                 "\"te\" with Transformer Engine " + v.str(),
                 "TE's parallel_cross_entropy exists from TE 2.2", "set transformer_engine_version to \"2.2\" or newer, or "
                 "cross_entropy_impl to \"native\"");
  else if (c.sc.software.cuda_graph_impl == CudaGraphImpl::FullIteration && v < Version{2, 7, 0})
    c.sink.error("software.fusions.cross_entropy_impl",
                 "\"te\" inside a full-iteration CUDA graph with Transformer Engine " + v.str(),
                 "TE's loss is graph-capturable from TE 2.7 (Megatron's language_module.py raises before)",
                 "set transformer_engine_version to \"2.7\" or newer, cross_entropy_impl to \"native\", or "
                 "cuda_graph_impl to another value");
  else
    c.warn("cross_entropy_impl \"te\": Megatron-LM's training arguments refuse it beside cross_entropy_loss_fusion "
           "(stability issues, at d98e8a6); Megatron-Bridge's performance recipes run it. Under Transformer Engine " +
           v.str() + (rules::te_cross_entropy_fp32_gradient(v.major, v.minor)
                          ? " it keeps an fp32 gradient of the logits (PR #3193, TE 2.18)"
                          : " it writes the gradient over the logits (before TE 2.18)"));
}

// Transformer Engine's userbuffers overlap (rules/tp_comm_overlap.hpp), as Megatron and TE allow it.
void check_tp_comm_overlap(Ctx& c) {
  ParallelSpec& p = c.sc.parallel;
  if (!p.tp_comm_overlap) return;
  if (c.tp() == 1) {
    c.warn("tp_comm_overlap has no effect with tensor_model_parallel_size 1 (no TP collectives to overlap); hcpsim "
           "turns it off");
    p.tp_comm_overlap = false;
    return;
  }
  if (c.sc.cluster.gpu.sm_count > 0 && c.sc.cluster.gpu.sm_count <= 2 * rules::kCommSms)
    c.sink.error("parallel.tp_comm_overlap",
                 "on with " + to_string(c.sc.cluster.gpu.sm_count) + " SMs (cluster.gpu.sm_count)",
                 "userbuffers' comm kernels take " + to_string(rules::kCommSms) +
                     " SMs beside the GEMMs; hcpsim times the overlap on GPUs of more than twice that",
                 "turn tp_comm_overlap off, or check cluster.gpu.sm_count");
  if (c.sc.cluster.gpu.sm_count <= 0)
    c.warn("cluster.gpu has no sm_count: with tp_comm_overlap the GEMMs beside userbuffers' comm kernels are timed on "
           "every SM, not on the " + to_string(rules::kCommSms) + " fewer TE gives them; give sm_count");
  if (c.sc.training.precision == Precision::NVFP4)
    c.sink.error("parallel.tp_comm_overlap", "true under NVFP4",
                 "Transformer Engine's userbuffers take fp8 and MXFP8 quantizers alone (module/base.py, "
                 "fill_userbuffers_buffer_for_all_gather: \"Unsupported quantizer for Userbuffers\"); Megatron-Bridge's "
                 "NVFP4 recipes turn the overlap off",
                 "set parallel.tp_comm_overlap to false");
  if (!p.sequence_parallel)
    c.sink.error("parallel.tp_comm_overlap", "true without sequence parallelism",
                 "Megatron's --tp-comm-overlap needs --sequence-parallel (megatron/training/arguments.py)",
                 "set parallel.sequence_parallel to true, or tp_comm_overlap to false");
  const ClusterSpec& cl = c.sc.cluster;
  if (cl.intra_node.kind == IntraNodeKind::PCIe)
    c.sink.error("parallel.tp_comm_overlap", "true on GPUs joined by PCIe",
                 "TE's userbuffers move the TP chunks between GPUs of one NVLink domain",
                 "set tp_comm_overlap to false");
  else if (cl.gpus_per_node % c.tp() != 0)  // TP groups are consecutive ranks: inside a node iff TP divides it
    c.sink.error("parallel.tp_comm_overlap",
                 "TP " + to_string(c.tp()) + " groups do not fit the nodes of " + to_string(cl.gpus_per_node) +
                     " GPUs: some span two nodes",
                 "TE's userbuffers run inside one NVLink domain, never over the inter-node fabric (gpus_per_node % TP == 0)",
                 "use a TP that divides " + to_string(cl.gpus_per_node) + ", or set tp_comm_overlap to false");
  else if (cl.intra_node.kind == IntraNodeKind::NVLDomain && kNvlTrayGpus % c.tp() != 0 &&
           c.sc.software.transformer_engine_version < Version{2, 2, 0})
    c.sink.error("parallel.tp_comm_overlap",
                 "TP " + to_string(c.tp()) + " across compute trays of an NVLink rack with Transformer Engine " +
                     c.sc.software.transformer_engine_version.str(),
                 "userbuffers reach GPUs of other trays (multi-node NVLink fabric handles) from TE 2.2 on; before, "
                 "only the " + to_string(kNvlTrayGpus) + " GPUs of one tray",
                 "use transformer_engine_version 2.2.0 or newer, or a TP dividing " + to_string(kNvlTrayGpus));
  if (cl.gpu.compute_capability < 90)
    c.warn("tp_comm_overlap on " + cl.gpu.name + ": TE's initialize_ub needs CUDA multicast (Hopper and newer with "
           "NVSwitch) unless UB_SKIPMC=1 is set, which falls back to CUDA IPC; hcpsim times both alike");
  c.warn("tp_comm_overlap is modelled from Transformer Engine's userbuffers schedule and defaults, not measured (no "
         "multi-GPU timing yet; docs/simulation.md)");
}

}  // namespace

void validate_scenario(Scenario& sc, const ParsedSections& ok, bool global_batch_given, DiagnosticSink& sink,
                       ValidationScope scope) {
  sink.freeze_spoiled();
  Ctx c{sc, ok, sink};
  const bool model = ok.model_present && c.usable({"model"});
  const bool cluster = ok.cluster_present && c.usable({"cluster"});
  const bool layout = scope == ValidationScope::Full;
  if (!layout) sc.parallel.data_parallel_size = 0;  // depends on the layout: unknown
  const bool sizes = layout && ok.parallel_present &&
                     c.usable({"parallel.tensor_model_parallel_size", "parallel.context_parallel_size",
                               "parallel.pipeline_model_parallel_size"});
  const bool training = ok.training_present;
  if (cluster) check_cluster(c);
  if (sizes && cluster) check_world_divisibility(c);
  const bool have_dp = sizes && cluster && sc.parallel.data_parallel_size > 0;
  if (model) check_model_heads(c);
  if (model && sizes) check_tp_heads(c);
  if (model && sizes) check_tp_ffn(c);
  if (model) check_model_size(c);
  const bool pipeline_keys =
      c.usable({"parallel.virtual_pipeline_model_parallel_size", "parallel.decoder_first_pipeline_num_layers",
                "parallel.decoder_last_pipeline_num_layers", "parallel.account_for_embedding_in_pipeline_split",
                "parallel.account_for_loss_in_pipeline_split", "parallel.microbatch_group_size_per_vp_stage",
                "parallel.overlap_p2p_comm"});
  if (model && sizes && pipeline_keys) check_pipeline(c);
  if (layout && training && ok.parallel_present && c.usable({"training.seq_length"})) check_sequence(c);
  if (layout && training && ok.parallel_present &&
      c.usable({"training.seq_length", "training.document_length", "training.document_lengths"}))
    check_documents(c);
  if (training && have_dp && c.usable({"training.global_batch_size", "training.micro_batch_size"}))
    check_batch(c, global_batch_given);
  if (training && have_dp && pipeline_keys && !c.sink.spoiled("training.global_batch_size") &&
      sc.training.global_batch_size % (sc.training.micro_batch_size * sc.parallel.data_parallel_size) == 0)
    check_pipeline_microbatches(c);
  if (model && sizes && training && c.usable({"parallel.cp_comm_type", "parallel.hierarchical_context_parallel_sizes",
                                               "training.seq_length", "software"}))
    check_cp_transport(c);
  if (training && (sizes || !layout) && c.usable({"training.precision", "parallel.use_megatron_fsdp"}))
    check_megatron_fsdp(c, layout);
  if (ok.parallel_present && c.usable({"parallel.overlap_param_gather", "parallel.overlap_grad_reduce",
                                       "parallel.use_distributed_optimizer", "parallel.use_megatron_fsdp"}))
    check_ddp_overlap(c);
  if (training && (sizes || !layout) && model && cluster && c.usable({"training.cpu_offloading_num_layers", "software"}))
    check_activation_offload(c, layout);
  if (training && model && (sizes || !layout) && pipeline_keys &&
      c.usable({"training.recompute_granularity", "training.recompute_method", "training.recompute_num_layers", "software"}))
    check_recompute(c, layout && sizes);
  if (training && cluster && c.usable({"training.precision"})) check_precision(c);
  if (c.usable({"software"})) check_fused_cross_entropy(c);
  if (sizes && cluster && c.usable({"parallel.tp_comm_overlap", "parallel.sequence_parallel", "software"}))
    check_tp_comm_overlap(c);
  if (sizes && cluster && c.tp() > sc.cluster.gpus_per_node)
    c.warn("tensor_model_parallel_size exceeds gpus_per_node: TP traffic crosses the inter-node fabric");
  // An a2a group is TP x its size consecutive ranks (CP's stride is TP): wider than a node, its
  // all-to-alls cross the inter-node fabric, which hierarchical CP exists to avoid.
  const bool a2a = sc.parallel.cp_comm_type == CpCommType::A2A, hcp = sc.parallel.cp_comm_type == CpCommType::A2AP2P;
  const int64_t a2a_size = a2a ? c.cp() : hcp && sc.parallel.hierarchical_context_parallel_sizes.size() == 2
                                               ? sc.parallel.hierarchical_context_parallel_sizes[0] : 0;
  // So do some groups of a size that does not divide the node (16 on 72-GPU NVL72 domains: ranks 64-79).
  const int64_t gpn = sc.cluster.gpus_per_node, span = c.tp() * a2a_size;
  if (sizes && cluster && a2a_size > 1 && c.tp() <= gpn &&
      (span > gpn || (sc.cluster.world_size() > gpn && gpn % span != 0))) {
    // The largest inner a2a size whose groups tile a node, divides CP, and splits the heads and the
    // KV heads per TP rank as a2a+p2p requires.
    const int64_t hq = sc.model.num_attention_heads / c.tp();
    const int64_t hk = c.tp() > sc.model.num_query_groups ? 1 : sc.model.num_query_groups / c.tp();
    int64_t inner = 0;
    for (int64_t a = std::min(gpn / c.tp(), c.cp()); a > 1 && inner == 0; --a)
      if ((gpn / c.tp()) % a == 0 && c.cp() % a == 0 && hq % a == 0 && hk % a == 0) inner = a;
    const std::string fix = inner > 1 ? "; cp_comm_type a2a+p2p with hierarchical_context_parallel_sizes [" +
                                            to_string(inner) + ", " + to_string(c.cp() / inner) + "] keeps it inside a node"
                                      : "";
    c.warn("the a2a group (" + to_string(a2a_size) + " CP ranks at TP " + to_string(c.tp()) + ": " + to_string(span) +
           " consecutive GPUs) " + (span > gpn ? "spans more than a node of " : "does not divide a node of ") +
           to_string(gpn) + ": " + (span > gpn ? "its" : "some groups'") + " all-to-alls cross the inter-node fabric" + fix);
  }
  if (sc.software.cuda_graph_impl != CudaGraphImpl::None)
    c.warn(std::string("CUDA graphs (cuda_graph_impl ") + to_string(sc.software.cuda_graph_impl) +
           ") change only the CPU's launches here (a graph replay is one launch); the graphs' static memory pools "
           "are not in the memory estimate (docs/simulation.md)");
  if (cluster && sc.software.attention_backend == AttentionBackend::Hcpsim && sc.cluster.gpu.compute_capability > 0 &&
      sc.cluster.gpu.compute_capability != 90)
    c.sink.error("software.attention_backend",
                 "hcpsim on " + sc.cluster.gpu.name + " (compute capability " +
                     std::to_string(sc.cluster.gpu.compute_capability) + ")",
                 "hcpsim's own attention kernels are built for sm_90a (Hopper) alone: they do not run on this GPU",
                 "use \"cudnn\" (Transformer Engine's fused attention) or \"flash\"");
  if (cluster && sc.software.attention_backend == AttentionBackend::Flash && sc.cluster.gpu.compute_capability >= 100)
    c.warn("attention_backend flash on " + sc.cluster.gpu.name +
           ": FlashAttention-2 has no Blackwell kernels and runs its Ampere path there, about 0.16 of the GPU's peak "
           "(published B200 figures; docs/cost-model.md, the roofline); Transformer Engine's default, cudnn, runs about "
           "3x faster, and FlashAttention-4 about as cudnn does: model either as \"cudnn\"");
  if (cluster && sc.software.attention_backend == AttentionBackend::CuDNN && sc.cluster.gpu.sm_count <= 0)
    c.warn("cluster.gpu has no sm_count: cuDNN attention is timed by its FLOPs alone, not by its busiest SM (a launch "
           "of few units, e.g. short CP chunks of few heads, is predicted fast; docs/cost-model.md); give sm_count");
  if (cluster && sizes && model && training && sc.software.attention_backend == AttentionBackend::CuDNN && c.cp() > 1 &&
      sc.parallel.cp_comm_type == CpCommType::AllGather && sc.training.attn_mask_type == AttnMaskType::Causal) {
    // all_gather's chunks are bottom-right causal kernels (rules/cudnn_bottom_right.hpp): how
    // cuDNN runs them is measured on sm_90 without a sliding window only.
    const bool window = sc.model.sliding_window.has_value();
    if (window || !cudnn_bottom_right_measured(sc.cluster.gpu.compute_capability)) {
      const double cp = double(c.cp());
      c.warn("cuDNN's bottom-right causal backward (all_gather's chunks" + std::string(window ? ", with a sliding window" : "") +
             ") is not measured on " + sc.cluster.gpu.name +
             ": hcpsim assumes it skips the masked tiles, as the forward does; on an H200 (sm_90, no window) it computes "
             "every tile, (2 CP + 1) / (2 CP) of the causal work (+" + strprintf("%.1f", 100 / (2 * cp)) +
             "% backward attention at CP " + std::to_string(c.cp()) +
             "), each masked by value at about 8% more cycles than a no-mask tile (docs/cost-model.md), so this layout "
             "may be optimistic");
    }
  }
}

}  // namespace hcpsim

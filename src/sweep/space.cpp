#include "sweep/space.hpp"

#include <algorithm>
#include <cstdio>
#include <set>

#include "memory/estimate.hpp"
#include "rules/recompute.hpp"

namespace hcpsim {

namespace {
// What a stored row (--resume, --merge) holds and how decisions read it: bumped when that changes,
// so that rows written before are simulated again, not read as if current. 2: uncertainty
// components carry the measurement they share with other GPUs (shared_with). 3: the memory
// estimate carries the caching allocator's margin (memory.allocator). 4: a document with
// overlap_grad_reduce false and no overlap_param_gather now means the gather after the optimizer.
constexpr const char* kStoredRowRevision = "4";
}  // namespace

namespace {

constexpr int64_t kMaxDefaultTp = 8;  // TP beyond one NVLink island is never a good idea
constexpr int64_t kMaxDefaultPp = 16;  // Llama 3 405B's deepest pipeline (TP8 x CP16 x PP16)

struct Layout {
  int64_t tp = 1, cp = 1, pp = 1, vpp = 1;
  CpCommType comm = CpCommType::P2P;
  std::vector<int64_t> hcp;  // a2a+p2p only
  int64_t mbs = 1;
  RecomputeGranularity recompute = RecomputeGranularity::None;
  // Full recompute's method and layers (Megatron's recompute_method, recompute_num_layers): uniform 1
  // is every layer on its own, what "full" means in the sweep's list.
  RecomputeMethod recompute_method = RecomputeMethod::Uniform;
  int64_t recompute_layers = 1;
  bool default_full() const {
    return recompute != RecomputeGranularity::Full || rules::every_layer_on_its_own(recompute_method, recompute_layers);
  }
  void set_recompute(RecomputeGranularity r, RecomputeMethod m = RecomputeMethod::Uniform, int64_t layers = 1) {
    recompute = r, recompute_method = m, recompute_layers = layers;
  }
  std::optional<bool> tp_overlap;  // set where the sweep tries TE's TP overlap; absent: the scenario's
  std::optional<bool> fsdp;        // set where the sweep tries Megatron-FSDP, or the scenario runs it
  int64_t offloaded_layers = 0;    // the scenario's activation offloading (not swept; named in the label)
};

std::string layout_key(const Layout& l) {
  std::string k = "tp" + std::to_string(l.tp) + "-cp" + std::to_string(l.cp);
  if (l.cp > 1) k += std::string("-") + to_string(l.comm);
  if (!l.hcp.empty()) k += "-" + std::to_string(l.hcp[0]) + "x" + std::to_string(l.hcp[1]);
  if (l.pp > 1) k += "-pp" + std::to_string(l.pp) + (l.vpp > 1 ? "v" + std::to_string(l.vpp) : "");
  return k + "-mbs" + std::to_string(l.mbs) + "-" +
         (l.default_full() ? std::string(to_string(l.recompute))
                           : to_string(l.recompute_method) + std::to_string(l.recompute_layers)) +
         (l.tp_overlap.value_or(false) ? "-ub" : "") +
         (l.fsdp.value_or(false) ? "-fsdp" : "");
}

std::string layout_label(const Layout& l, bool show_mbs) {
  std::string s = "TP" + std::to_string(l.tp);
  if (l.cp == 1) s += ", no CP";
  else s += std::string(" + ") + to_string(l.comm) + " CP" + std::to_string(l.cp);
  if (!l.hcp.empty()) s += " [" + std::to_string(l.hcp[0]) + "," + std::to_string(l.hcp[1]) + "]";
  if (l.pp > 1) s += " x PP" + std::to_string(l.pp) + (l.vpp > 1 ? " (v" + std::to_string(l.vpp) + ")" : "");
  if (show_mbs) s += " mbs" + std::to_string(l.mbs);
  if (!l.default_full() && l.recompute_method == RecomputeMethod::Block)
    s += " + recompute of " + std::to_string(l.recompute_layers) + (l.recompute_layers == 1 ? " layer" : " layers") +
         (l.pp > 1 ? " a chunk" : "") + " (block)";
  else if (!l.default_full())
    s += " + full recompute in units of " + std::to_string(l.recompute_layers) + " layers";
  else if (l.recompute != RecomputeGranularity::None)
    s += std::string(" + ") + to_string(l.recompute) + " recompute";
  if (l.tp_overlap.value_or(false)) s += " + TP overlap";
  if (l.fsdp.value_or(false)) s += " + Megatron-FSDP";
  if (l.offloaded_layers > 0) s += " + " + std::to_string(l.offloaded_layers) + " layers offloaded";
  return s;
}

bool sequence_parallel_for(const SweepSpec& spec, int64_t tp) {
  switch (spec.sequence_parallel) {
    case SweepSequenceParallel::On: return true;
    case SweepSequenceParallel::Off: return false;
    case SweepSequenceParallel::Auto: break;
  }
  return tp > 1;
}

nlohmann::json candidate_doc(const nlohmann::json& base_doc, const Layout& l, const SweepSpec& spec, const std::string& label) {
  nlohmann::json d = base_doc;
  d.erase("sweep");
  d.erase("description");
  d["name"] = label;
  nlohmann::json& p = d["parallel"];
  p["tensor_model_parallel_size"] = l.tp;
  p["context_parallel_size"] = l.cp;
  p["cp_comm_type"] = to_string(l.comm);
  if (l.pp > 1 || p.contains("pipeline_model_parallel_size")) p["pipeline_model_parallel_size"] = l.pp;
  if (l.vpp > 1 || p.contains("virtual_pipeline_model_parallel_size")) p["virtual_pipeline_model_parallel_size"] = l.vpp;
  if (l.pp == 1)  // no pipeline, no split: the base's split options would only be rejected
    for (const char* k : {"decoder_first_pipeline_num_layers", "decoder_last_pipeline_num_layers",
                          "account_for_embedding_in_pipeline_split", "account_for_loss_in_pipeline_split",
                          "microbatch_group_size_per_vp_stage", "overlap_p2p_comm"})
      p.erase(k);
  if (l.vpp == 1) {  // only the interleaved schedule groups micro batches and overlaps its sends
    p.erase("microbatch_group_size_per_vp_stage");
    p.erase("overlap_p2p_comm");
  }
  p["sequence_parallel"] = sequence_parallel_for(spec, l.tp);
  // The overlap setting only where it differs from the scenario's: a candidate equal to the
  // scenario keeps its document, and so its digest (a resumed sweep does not re-run it).
  const nlohmann::json* given = p.contains("tp_comm_overlap") ? &p["tp_comm_overlap"] : nullptr;
  const bool base_overlap = given && given->is_boolean() && given->get<bool>();
  if (l.tp_overlap && *l.tp_overlap != base_overlap) p["tp_comm_overlap"] = *l.tp_overlap;
  if (l.tp == 1) p.erase("tp_comm_overlap");  // no TP collectives: the switch has nothing to overlap
  // Megatron-FSDP likewise only where it differs from the scenario's.
  const bool base_fsdp = p.contains("use_megatron_fsdp") && p["use_megatron_fsdp"].is_boolean() &&
                         p["use_megatron_fsdp"].get<bool>();
  if (l.fsdp && *l.fsdp != base_fsdp) p["use_megatron_fsdp"] = *l.fsdp;
  if (l.hcp.empty()) p.erase("hierarchical_context_parallel_sizes");
  else p["hierarchical_context_parallel_sizes"] = l.hcp;
  d["training"]["micro_batch_size"] = l.mbs;
  nlohmann::json& t = d["training"];
  t["recompute_granularity"] = to_string(l.recompute);
  // The layout's full recompute: every layer on its own (the keys' defaults), or by block.
  t.erase("recompute_method");
  t.erase("recompute_num_layers");
  if (!l.default_full()) {
    t["recompute_method"] = to_string(l.recompute_method);
    t["recompute_num_layers"] = l.recompute_layers;
  }
  return d;
}

struct Builder {
  const nlohmann::json& base_doc;
  const SweepSpec& spec;
  const ParseOptions& opt;
  bool show_mbs = false;  // every label names its micro batch (else only where it is not 1)
  SweepSpace out;

  // The candidate of layout `l`, parsed (valid or not), not yet in the space.
  SweepCandidate make(const Layout& l) const {
    SweepCandidate c;
    c.key = layout_key(l);
    c.label = layout_label(l, show_mbs || l.mbs != 1);
    c.input = candidate_doc(base_doc, l, spec, c.label);
    const std::string text = c.input.dump();
    c.digest = fnv1a_hex(text + "\n" + HCPSIM_VERSION + "\n" + kStoredRowRevision);
    ParseOptions o = opt;
    o.source_name = "<sweep candidate " + c.key + ">";
    try {
      c.scenario = parse_scenario_text(text, o);
    } catch (const InputError& e) {
      c.rejected = e.diagnostics();
    }
    return c;
  }

  void add(SweepCandidate c) {
    c.index = static_cast<int>(out.candidates.size());
    out.candidates.push_back(std::move(c));
  }

  // The default space's rule for a pipeline: a pipeline's bubble and transfers buy memory, so a
  // layout with PP > 1 is a candidate only where its PP = 1 twin (same TP, CP, transport, micro
  // batch and recompute over PP times the DP) does not fit with the caching allocator's margin to
  // spare (it may run out), or is not valid (the global batch does not split over its DP). Where
  // the twin fits it runs the same work per GPU without the bubble; only its larger DP gradient
  // sync could lose, and that runs overlapped with the backward. A pipeline recomputing by block
  // is also a candidate where its twin fits only recomputing a larger share of the layers: the
  // bubble may cost less than the recompute it saves (70B at 64K on 64 H100s: TP8 CP4 PP2 with 3
  // layers a chunk runs 9 % faster than TP8 CP8 with 25 of 80). A listed PP (sweep bounds or --pp)
  // takes every layout.
  bool pipeline_pays(const Layout& l) const {
    if (l.pp == 1 || spec.pp) return true;
    Layout twin = l;
    twin.pp = 1;
    twin.vpp = 1;
    // A block candidate's twin is the PP = 1 layout's own fewest layers by block (N layers of a
    // chunk are another share of the model there), or the layout without recompute where that fits.
    if (!l.default_full() && l.recompute_method == RecomputeMethod::Block) {
      twin.set_recompute(RecomputeGranularity::None);
      const SweepCandidate plain = make(twin);
      if (plain.scenario && fits_with_margin(*plain.scenario)) return false;
      const std::optional<SweepCandidate> b = fewest_block(twin, plain);
      if (!b || !fits_with_margin(*b->scenario)) return true;
      // Layers recomputed per layer held: N of each of a stage's vpp chunks, of L / PP layers held,
      // against the twin's N' of L.
      return l.recompute_layers * l.vpp * l.pp < b->scenario->training.recompute_num_layers;
    }
    const SweepCandidate t = make(twin);
    return !t.scenario || !fits_with_margin(*t.scenario);
  }

  // Fits with the caching allocator's margin to spare (rules/allocator.hpp): what the sweep's rules
  // that choose a cheaper layout (a twin without the pipeline, fewer layers recomputed) ask of it.
  static bool fits_with_margin(const Scenario& s) {
    const MemoryEstimate m = estimate_memory(s);
    return m.fits && !m.within_allocator_margin;
  }

  // Where the layout fits only with recompute: full recompute by block (Megatron's recompute_method
  // "block") of the fewest layers a model chunk under which it fits with the caching allocator's
  // margin to spare (rules/allocator.hpp), short of every layer (that is "full"); where no count
  // leaves the margin, the fewest under which it fits at all (its result says it may run out).
  // Memory falls as the count grows wherever we have looked (a recomputed layer keeps its input
  // alone), but nothing in the estimate promises it: a chunk shorter than N goes back through its
  // layers otherwise than a longer one. So the counts are tried in turn, not bisected; an estimate
  // takes microseconds.
  // `plain`: the layout's candidate without recompute, made already; where it fits within the margin,
  // only a count that leaves the margin is a candidate beside it.
  std::optional<SweepCandidate> fewest_block(Layout l, const SweepCandidate& plain) const {
    if (!plain.scenario) return std::nullopt;
    const MemoryEstimate p = estimate_memory(*plain.scenario);
    if (p.fits && !p.within_allocator_margin) return std::nullopt;
    Scenario s = *plain.scenario;
    const int64_t most = pipeline_split(s.parallel.pipeline(), s.model.num_layers).largest_chunk_layers();
    s.training.recompute_granularity = RecomputeGranularity::Full;
    s.training.recompute_method = RecomputeMethod::Block;
    int64_t n = 0, first_fit = 0;
    for (int64_t k = 1; k < most && n == 0; ++k) {
      s.training.recompute_num_layers = k;
      const MemoryEstimate m = estimate_memory(s);
      if (m.fits && first_fit == 0) first_fit = k;
      if (m.fits && !m.within_allocator_margin) n = k;
    }
    if (n == 0 && !p.fits) n = first_fit;
    if (n == 0) return std::nullopt;
    l.set_recompute(RecomputeGranularity::Full, RecomputeMethod::Block, n);
    SweepCandidate c = make(l);
    if (!c.scenario) return std::nullopt;  // recompute the layout cannot take (e.g. with offloading): not an option
    return c;
  }

  // A layout at one recompute setting, and its candidate.
  struct Variant {
    Layout layout;
    SweepCandidate candidate;
  };

  // One layout at every recompute setting asked for. `l` carries the scenario's own recompute.
  // "full" is every layer on its own (the most memory it saves), and where the scenario runs full
  // recompute by other units or by block, that too.
  std::vector<Variant> recompute_variants(Layout l) const {
    std::vector<Variant> v;
    const auto push = [&](const Layout& at) {
      for (const Variant& x : v)
        if (layout_key(x.layout) == layout_key(at)) return;
      v.push_back({at, make(at)});
    };
    if (!spec.recompute_lightest_fitting) {
      const Layout scenario_own = l;
      for (RecomputeGranularity r : spec.recompute) {
        l.set_recompute(r);
        push(l);
        if (r == RecomputeGranularity::Full && scenario_own.recompute == RecomputeGranularity::Full) push(scenario_own);
      }
      if (spec.recompute_block) {
        l.set_recompute(RecomputeGranularity::None);
        const auto listed = std::find_if(v.begin(), v.end(), [](const Variant& x) {
          return x.layout.recompute == RecomputeGranularity::None;
        });
        const SweepCandidate plain = listed != v.end() ? listed->candidate : make(l);  // made once where listed
        if (std::optional<SweepCandidate> b = fewest_block(l, plain)) {
          const TrainingSpec& t = b->scenario->training;
          l.set_recompute(t.recompute_granularity, t.recompute_method, t.recompute_num_layers);
          const bool listed_already = std::any_of(v.begin(), v.end(), [&](const Variant& x) { return x.candidate.key == b->key; });
          if (!listed_already) v.push_back({l, std::move(*b)});
        }
      }
      return v;
    }
    push(l);  // the scenario's own
    if (!v.front().candidate.scenario) return v;
    const LightestRecompute r = lightest_fitting_recompute(*v.front().candidate.scenario);
    if (r.fits) {
      l.set_recompute(*r.fits);
      push(l);
    }
    if (r.leaves_margin && r.leaves_margin != r.fits) {  // the fastest fit is within the allocator's margin
      l.set_recompute(*r.leaves_margin);
      push(l);
    }
    return v;
  }

  // The layout at each micro batch: the spec's list, or by default (`auto_mbs`, a global batch
  // given) 1, 2, 4, ... while the global batch splits into them over DP and some recompute
  // setting still fits (memory only grows with the micro batch); without a global batch, the
  // scenario's own (the global batch would change with it).
  void add_micro_batches(Layout l, std::vector<int64_t> listed, bool auto_mbs, int64_t global_batch, int64_t world) {
    const int64_t mp = l.tp * l.cp * l.pp;
    if (!auto_mbs || world % mp != 0) {  // a layout that does not divide the GPUs: listed once, rejected
      if (auto_mbs) listed = {1};
      for (int64_t m : listed) {
        l.mbs = m;
        for (Variant& x : recompute_variants(l))
          if (world % mp != 0 || pipeline_pays(x.layout)) add(std::move(x.candidate));
      }
      return;
    }
    const int64_t dp = world / mp;
    // With a pipeline the default micro batch is 1: a larger one divides the micro batches m and
    // so raises the bubble (p - 1)/(m + p - 1), and Megatron's large-model recipes run 1.
    const int64_t largest = l.pp > 1 ? 1 : std::max<int64_t>(global_batch, dp) / dp;
    for (int64_t m = 1; dp > 0 && m <= largest; m *= 2) {
      if (m > 1 && global_batch % (m * dp) != 0) continue;
      l.mbs = m;
      std::vector<Variant> v = recompute_variants(l);
      const bool any_fits = std::any_of(v.begin(), v.end(), [](const Variant& x) {
        return x.candidate.scenario && estimate_memory(*x.candidate.scenario).fits;
      });
      if (m > 1 && !any_fits) break;
      for (Variant& x : v)
        if (pipeline_pays(x.layout)) add(std::move(x.candidate));
    }
  }
};

}  // namespace

std::string fnv1a_hex(const std::string& text) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::vector<int64_t> default_tp_sizes(const Scenario& base) {
  std::vector<int64_t> v;
  for (int64_t d = 1; d <= std::min(kMaxDefaultTp, base.cluster.gpus_per_node); ++d)
    if (base.cluster.gpus_per_node % d == 0 && base.model.num_attention_heads % d == 0 &&
        base.model.ffn_hidden_size % d == 0)  // the TPs Megatron splits heads and MLP columns by
      v.push_back(d);
  return v;
}

std::vector<int64_t> default_pp_sizes(const Scenario& base, int64_t tp) {
  std::vector<int64_t> v;
  const int64_t world = base.cluster.world_size();
  PipelineSpec ps = base.parallel.pipeline();
  ps.virtual_stages = 1;
  ps.microbatch_group = 0;
  // Every pipeline depth up to kMaxDefaultPp that divides the GPUs left by TP: powers of two on a
  // power-of-two cluster; on a rack of 72 or 144 GPUs also 3, 6, 9, 12, the depths that use them all.
  for (int64_t p = 1; p <= kMaxDefaultPp && tp * p <= world; ++p) {
    ps.stages = p;
    // PP 1 has no split (its candidates drop the split options)
    if (world % (tp * p) == 0 && (p == 1 || pipeline_split(ps, base.model.num_layers).problem.empty())) v.push_back(p);
  }
  return v;
}

std::vector<int64_t> default_vpp_sizes(const Scenario& base, int64_t pp) {
  std::vector<int64_t> v{1};
  PipelineSpec ps = base.parallel.pipeline();
  ps.stages = pp;
  ps.virtual_stages = 2;
  ps.overlap_p2p_comm = base.parallel.overlap_p2p_comm.value_or(true);  // the candidate's (Megatron's default with virtual stages)
  if (pp > 1 && pipeline_split(ps, base.model.num_layers).problem.empty()) v.push_back(2);
  return v;
}

std::vector<int64_t> default_cp_sizes(const Scenario& base, int64_t tp, int64_t pp) {
  std::vector<int64_t> v;
  const int64_t world = base.cluster.world_size();
  for (int64_t c = 1; tp * c * pp <= world; c *= 2)
    if (world % (tp * c * pp) == 0) v.push_back(c);
  return v;
}

std::vector<std::vector<int64_t>> default_hcp_splits(int64_t cp) {
  std::vector<std::vector<int64_t>> v;
  for (int64_t a = 2; a < cp; ++a)
    if (cp % a == 0) v.push_back({a, cp / a});
  return v;
}

void check_sweep_space(const SweepSpace& space, const std::vector<std::vector<int64_t>>& flag_hcp, const Scenario& base) {
  const std::string gpus = std::to_string(base.cluster.world_size());
  if (space.candidates.empty())
    throw InputError({{"sweep", "no candidate layout: the sizes asked for leave none for " + gpus + " GPUs",
                       "TP x CP x PP divides the GPUs, DP x micro batch the global batch, 2 x CP the sequence",
                       "widen --tp, --cp, --pp or --micro-batch (or the scenario's \"sweep\" section), or leave them "
                       "to their defaults"}});
  std::set<std::vector<int64_t>> used;
  std::set<int64_t> cps;
  for (const SweepCandidate& c : space.candidates) {
    const nlohmann::json& p = c.input.at("parallel");
    cps.insert(p.value("context_parallel_size", int64_t{1}));
    if (p.contains("hierarchical_context_parallel_sizes"))
      used.insert(p["hierarchical_context_parallel_sizes"].get<std::vector<int64_t>>());
  }
  std::string tried;
  for (int64_t cp : cps) tried += (tried.empty() ? "" : ", ") + std::to_string(cp);
  for (const std::vector<int64_t>& s : flag_hcp)
    if (!used.count(s))
      throw InputError({{"--hcp", std::to_string(s[0]) + "x" + std::to_string(s[1]) + " is no candidate's split",
                         "an HCP split A x P is tried where A x P is a CP size tried (here " + tried +
                             ") and a2a+p2p is among the transports",
                         "ask for a split whose product is one of those CP sizes, add its CP size (--cp) and "
                         "a2a+p2p (--comm), or drop it"}});
}

SweepSpace enumerate_sweep(const nlohmann::json& base_doc, const Scenario& base, const SweepSpec& spec,
                           const ParseOptions& opt) {
  if (base.workload != WorkloadKind::Step)
    throw InputError({{"workload", std::string("\"") + to_string(base.workload) + "\" cannot be swept",
                          "the sweep ranks configurations by tokens/s of a training step",
                          "set \"workload\" to \"step\" (or remove it)"}});
  Builder b{base_doc, spec, opt, false, {}};
  const bool global_batch_given = base_doc.contains("training") && base_doc["training"].is_object() &&
                                  base_doc["training"].contains("global_batch_size");
  const bool auto_mbs = !spec.micro_batch_sizes && global_batch_given;
  const std::vector<int64_t> mbs = spec.micro_batch_sizes.value_or(std::vector<int64_t>{base.training.micro_batch_size});
  b.show_mbs = mbs.size() > 1;
  const int64_t world = base.cluster.world_size();
  const std::vector<CpCommType> all_comm = {CpCommType::P2P, CpCommType::AllGather, CpCommType::A2A, CpCommType::A2AP2P};
  const std::vector<CpCommType> comms = spec.comm_types.value_or(all_comm);
  // The settings of TE's TP overlap to try: the sweep's list, or the scenario's (off: left out of
  // the candidates' documents, which then read as before the switch existed).
  std::vector<std::optional<bool>> overlaps;
  if (spec.tp_comm_overlap)
    for (bool o : *spec.tp_comm_overlap) overlaps.push_back(o);
  else
    overlaps.push_back(base.parallel.tp_comm_overlap ? std::optional<bool>(true) : std::nullopt);
  // TP 1 has no TP collectives: one candidate, whatever the settings listed.
  const std::vector<std::optional<bool>> no_tp_overlap{std::nullopt};
  // Megatron-FSDP's settings to try: the sweep's list, or the scenario's; a pipeline runs without it
  // (hcpsim models it at PP 1, as every published recipe runs it).
  std::vector<std::optional<bool>> fsdps;
  if (spec.use_megatron_fsdp)
    for (bool f : *spec.use_megatron_fsdp) fsdps.push_back(f);
  else  // the scenario's: named in the labels where on
    fsdps.push_back(base.parallel.use_megatron_fsdp ? std::optional<bool>(true) : std::nullopt);
  const std::vector<std::optional<bool>> pipeline_fsdp{spec.use_megatron_fsdp ? std::optional<bool>(false) : std::nullopt};
  for (int64_t tp : spec.tp.value_or(default_tp_sizes(base))) {
    for (int64_t pp : spec.pp.value_or(default_pp_sizes(base, tp))) {
      for (int64_t cp : spec.cp.value_or(default_cp_sizes(base, tp, pp))) {
        for (CpCommType comm : comms) {
          std::vector<std::vector<int64_t>> splits = {{}};
          if (comm == CpCommType::A2AP2P && cp > 1) {
            splits.clear();
            for (const auto& s : spec.hcp_sizes.value_or(default_hcp_splits(cp)))
              if (s[0] * s[1] == cp) splits.push_back(s);
          }
          for (const auto& split : splits)
            for (int64_t vpp : spec.vpp.value_or(default_vpp_sizes(base, pp)))
              for (const std::optional<bool> overlap : tp == 1 ? no_tp_overlap : overlaps)
                for (const std::optional<bool> fsdp : pp > 1 ? pipeline_fsdp : fsdps) {
                  if (pp == 1 && vpp > 1 && !spec.pp) continue;  // the default space pairs virtual stages with a pipeline
                  // Without a global batch each layout runs one micro batch a DP rank, which no
                  // interleaved schedule takes (it needs as many as stages): none by default.
                  if (vpp > 1 && !spec.vpp && !global_batch_given) continue;
                  Layout l{tp, cp, pp, vpp, cp == 1 ? comms.front() : comm, split, 1,
                           base.training.recompute_granularity, RecomputeMethod::Uniform, 1, overlap, fsdp,
                           base.training.cpu_offloading_num_layers};
                  // the scenario's own (the sweep keeps it under lightest_fitting)
                  l.set_recompute(base.training.recompute_granularity, base.training.recompute_method,
                                  base.training.recompute_num_layers);
                  b.add_micro_batches(l, mbs, auto_mbs, base.training.global_batch_size, world);
                }
          if (cp == 1) break;  // without CP the transport does not matter: one candidate
        }
      }
    }
  }
  std::string all;
  for (const auto& c : b.out.candidates) all += c.key + ":" + c.digest + "\n";
  b.out.digest = fnv1a_hex(all);
  return std::move(b.out);
}

}  // namespace hcpsim

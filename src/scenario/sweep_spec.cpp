#include "scenario/sweep_spec.hpp"

#include <nlohmann/json.hpp>
#include <set>

#include "common/join_words.hpp"
#include "common/json_reader.hpp"

namespace hcpsim {

namespace {

constexpr int64_t kMaxSweepValue = int64_t{1} << 20;

const std::vector<std::string> kKeys = {"tensor_model_parallel_size", "context_parallel_size", "cp_comm_type",
                                        "pipeline_model_parallel_size", "virtual_pipeline_model_parallel_size",
                                        "hierarchical_context_parallel_sizes", "micro_batch_size",
                                        "recompute_granularity", "sequence_parallel", "tp_comm_overlap",
                                        "use_megatron_fsdp"};

std::string type_of(const nlohmann::json& v) { return v.type_name(); }

// A non-empty list of distinct values; `one` reads element i at `path[i]`.
template <class T, class F>
std::optional<std::vector<T>> read_list(const nlohmann::json* v, const std::string& path, DiagnosticSink& sink,
                                        const std::string& example, F one) {
  if (!v) return std::nullopt;
  if (!v->is_array() || v->empty()) {
    sink.error(path, "must be a non-empty list, got " + type_of(*v) + " " + v->dump(), "type",
               "write the values to try as a list, e.g. " + example);
    return std::nullopt;
  }
  std::vector<T> out;
  bool ok = true;
  for (size_t i = 0; i < v->size(); ++i) {
    auto x = one((*v)[i], path + "[" + std::to_string(i) + "]");
    if (!x) {
      ok = false;
      continue;
    }
    if (std::find(out.begin(), out.end(), *x) != out.end()) {
      sink.error(path + "[" + std::to_string(i) + "]", "repeats " + (*v)[i].dump(), "each value once",
                 "remove the repeated value");
      ok = false;
      continue;
    }
    out.push_back(*x);
  }
  if (!ok) return std::nullopt;
  return out;
}

std::optional<int64_t> positive(const nlohmann::json& e, const std::string& path, DiagnosticSink& sink) {
  if (!e.is_number_integer() || e.get<int64_t>() < 1 || e.get<int64_t>() > kMaxSweepValue) {
    sink.error(path, "must be a positive integer, got " + e.dump(), "integer in [1, 2^20]", "use e.g. 1, 2, 4, 8");
    return std::nullopt;
  }
  return e.get<int64_t>();
}

template <class E>
std::optional<E> named(const nlohmann::json& e, const std::string& path, DiagnosticSink& sink,
                       const std::vector<std::pair<std::string, E>>& names) {
  std::vector<std::string> all;
  for (const auto& n : names) all.push_back(n.first);
  if (e.is_string())
    for (const auto& n : names)
      if (n.first == e.get<std::string>()) return n.second;
  const auto guess = e.is_string() ? did_you_mean(e.get<std::string>(), all) : std::nullopt;
  sink.error(path, "unknown value " + e.dump(), "must be one of " + join_words(all, "or"),
             guess ? "did you mean \"" + *guess + "\"?" : "use one of " + join_words(all, "or"));
  return std::nullopt;
}


void read_recompute(const nlohmann::json* v, DiagnosticSink& sink, SweepSpec& s) {
  const std::string path = "sweep.recompute_granularity";
  if (!v) return;
  if (v->is_string() && v->get<std::string>() == "lightest_fitting") {
    s.recompute.clear();
    s.recompute_lightest_fitting = true;
    s.recompute_block = false;
    return;
  }
  if (v->is_string()) {
    sink.error(path, "unknown value " + v->dump(), "a list of none/selective/full/block, or \"lightest_fitting\"",
               "write e.g. [\"none\", \"full\"]");
    return;
  }
  // "block" is not a granularity: it asks for the fewest layers recomputed by block that fit.
  using Setting = std::optional<RecomputeGranularity>;  // nullopt: "block"
  std::vector<std::pair<std::string, Setting>> names;
  for (const auto& [name, r] : named_choices(kRecomputeGranularities)) names.push_back({name, r});
  names.push_back({"block", std::nullopt});
  auto list = read_list<Setting>(v, path, sink, "[\"none\", \"full\", \"block\"]",
                                 [&](const nlohmann::json& e, const std::string& p) { return named(e, p, sink, names); });
  if (!list) return;
  bool block = false;
  s.recompute.clear();
  for (const Setting& r : *list)
    if (r) s.recompute.push_back(*r);
    else block = true;
  if (s.recompute.empty()) {
    sink.error(path, "\"block\" alone", "block recompute is tried only where a layout needs recompute to fit",
               "list \"none\" or \"full\" beside it, e.g. [\"none\", \"block\"]");
    return;
  }
  s.recompute_lightest_fitting = false;
  s.recompute_block = block;
}

}  // namespace

const std::vector<std::string>& sweep_spec_keys() { return kKeys; }

SweepSpec parse_sweep_spec(const nlohmann::json& section, DiagnosticSink& sink) {
  SweepSpec s;
  ObjectReader r(section, "sweep", sink, kKeys);
  auto ints = [&](const char* key) {
    return read_list<int64_t>(r.raw(key), r.path_of(key), sink, "[1, 2, 4]",
                              [&](const nlohmann::json& e, const std::string& p) { return positive(e, p, sink); });
  };
  s.tp = ints("tensor_model_parallel_size");
  s.cp = ints("context_parallel_size");
  s.pp = ints("pipeline_model_parallel_size");
  s.vpp = ints("virtual_pipeline_model_parallel_size");
  s.micro_batch_sizes = ints("micro_batch_size");
  s.comm_types = read_list<CpCommType>(r.raw("cp_comm_type"), r.path_of("cp_comm_type"), sink, "[\"a2a\", \"a2a+p2p\"]",
                                       [&](const nlohmann::json& e, const std::string& p) { return named(e, p, sink, named_choices(kCpCommTypes)); });
  s.hcp_sizes = read_list<std::vector<int64_t>>(
      r.raw("hierarchical_context_parallel_sizes"), r.path_of("hierarchical_context_parallel_sizes"), sink, "[[8, 2], [4, 4]]",
      [&](const nlohmann::json& e, const std::string& p) -> std::optional<std::vector<int64_t>> {
        if (!e.is_array() || e.size() != 2) {
          sink.error(p, "must be a pair [inner a2a size, outer p2p size], got " + e.dump(),
                     "TE's a2a+p2p takes exactly two groups", "write e.g. [8, 2]");
          return std::nullopt;
        }
        auto a = positive(e[0], p + "[0]", sink), b = positive(e[1], p + "[1]", sink);
        if (!a || !b) return std::nullopt;
        return std::vector<int64_t>{*a, *b};
      });
  read_recompute(r.raw("recompute_granularity"), sink, s);
  const auto switches = [&](const char* key) {
    return read_list<bool>(r.raw(key), r.path_of(key), sink, "[false, true]",
                           [&](const nlohmann::json& e, const std::string& p) -> std::optional<bool> {
                             if (e.is_boolean()) return e.get<bool>();
                             sink.error(p, "must be true or false, got " + e.dump(), "type",
                                        "list the settings to try, e.g. [false, true]");
                             return std::nullopt;
                           });
  };
  s.tp_comm_overlap = switches("tp_comm_overlap");
  s.use_megatron_fsdp = switches("use_megatron_fsdp");
  if (const nlohmann::json* sp = r.raw("sequence_parallel")) {
    if (sp->is_boolean()) s.sequence_parallel = sp->get<bool>() ? SweepSequenceParallel::On : SweepSequenceParallel::Off;
    else if (!(sp->is_string() && sp->get<std::string>() == "auto"))
      sink.error("sweep.sequence_parallel", "must be true, false or \"auto\", got " + sp->dump(), "type",
                 "use \"auto\" (on exactly when TP > 1, as Megatron recommends)");
  }
  return s;
}

}  // namespace hcpsim

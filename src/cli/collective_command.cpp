#include "cli/collective_command.hpp"

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/cli.hpp"
#include "cli/commands.hpp"
#include "common/child_process.hpp"
#include "common/json_text.hpp"
#include "common/diagnostics.hpp"
#include "common/output_file.hpp"
#include "common/strprintf.hpp"
#include "rules/nccl_algorithm.hpp"
#include "rules/nccl_tests_size.hpp"
#include "run/collective_sweep.hpp"
#include "scenario/parse.hpp"
#include "scenario/presets.hpp"

namespace hcpsim {

namespace {

struct CollectiveArgs {
  std::string cluster = "dgx-h100", op = "all_reduce", algo, proto, scenario, format = "text", out;
  int64_t nodes = 1, nics = -1, gpus = 0;
  std::string min_bytes = "1M", max_bytes = "8G";
  double step_factor = 2;
};

// "8", "64K", "1M", "8G" (nccl-tests' notation, rules/nccl_tests_size.hpp).
double size_of(const std::string& flag, const std::string& text) {
  const std::optional<int64_t> bytes = parse_nccl_tests_size(text);
  if (!bytes)
    throw InputError({{flag, "'" + text + "' is not a size", "a positive whole number of bytes",
                       "write a whole number of bytes with an optional K, M or G (x1024), e.g. 1M"}});
  return static_cast<double>(*bytes);
}

// The scenario the collective runs on: the user's file, or the preset's cluster with the
// flags' NCCL settings; pure data parallel over every GPU (the model is never used).
// Parses a scenario that carries the flags' values: an error in a value a flag gave is the
// flag's (--algo, not software.nccl.algo).
Scenario parse_with_flags(const std::string& text, const ParseOptions& po, const CollectiveArgs& a, bool cluster_flags) {
  try {
    return parse_scenario_text(text, po);
  } catch (const InputError& e) {
    std::vector<Diagnostic> errors = e.diagnostics();
    for (Diagnostic& d : errors) {
      if (!a.algo.empty() && d.path == "software.nccl.algo") d.path = "--algo";
      else if (!a.proto.empty() && d.path == "software.nccl.proto") d.path = "--proto";
      else if (cluster_flags && d.path == "cluster.num_nodes") d.path = "--nodes";
      else if (cluster_flags && a.nics >= 0 && d.path == "cluster.inter_node.nics_per_node") d.path = "--nics";
    }
    throw InputError(errors);
  }
}

Scenario scenario_of(const CollectiveArgs& a) {
  nlohmann::json j;
  if (!a.scenario.empty()) {
    // The file's cluster and software.nccl; --algo / --proto, where given, in place of its own
    // software.nccl.algo / proto (as NCCL_ALGO / NCCL_PROTO in the environment win over a config).
    if (a.algo.empty() && a.proto.empty()) return load_scenario_file(a.scenario);
    DiagnosticSink sink;
    const std::optional<std::string> text = read_text_file(a.scenario, "", sink);
    sink.throw_if_any();
    const ParseOptions po = parse_options_for_file(a.scenario);
    std::optional<nlohmann::json> doc = parse_json_text(*text, po.source_name, "", sink);
    sink.throw_if_any();
    // Where the file's own software or software.nccl is not an object, its own error, unmasked.
    const auto object_or_absent = [](const nlohmann::json& j, const char* key) {
      return !j.contains(key) || j.at(key).is_object();
    };
    if (!doc->is_object() || !object_or_absent(*doc, "software") || !object_or_absent(doc->value("software", nlohmann::json::object()), "nccl"))
      return parse_scenario_text(*text, po);
    nlohmann::json& nccl = (*doc)["software"]["nccl"];
    if (nccl.is_null()) nccl = nlohmann::json::object();
    if (!a.algo.empty()) nccl["algo"] = a.algo;
    if (!a.proto.empty()) nccl["proto"] = a.proto;
    return parse_with_flags(doc->dump(), po, a, false);
  }
  const ClusterPreset* preset = find_cluster_preset(a.cluster);
  if (!preset) {
    std::string names;
    for (const auto& p : cluster_presets()) names += (names.empty() ? "" : ", ") + p.name;
    throw InputError({{"--cluster", "unknown cluster preset '" + a.cluster + "'", "one of the presets", "use one of " + names}});
  }
  if (a.nodes < 1) throw InputError({{"--nodes", "must be >= 1", "at least one node", "give --nodes 1 or more"}});
  const int64_t world = a.nodes * preset->spec.gpus_per_node;
  j["name"] = "collective";
  j["model"] = {{"preset", "llama3.1-8b"}};
  j["training"] = {{"seq_length", 4096}, {"micro_batch_size", 1}, {"global_batch_size", world}, {"precision", "bf16"}};
  j["parallel"] = {{"tensor_model_parallel_size", 1}, {"context_parallel_size", 1}};
  j["cluster"] = {{"preset", a.cluster}, {"num_nodes", a.nodes}};
  if (a.nics >= 0) j["cluster"]["inter_node"] = {{"nics_per_node", a.nics}};
  nlohmann::json nccl = nlohmann::json::object();
  if (!a.algo.empty()) nccl["algo"] = a.algo;
  if (!a.proto.empty()) nccl["proto"] = a.proto;
  j["software"] = {{"nccl", nccl}};
  ParseOptions po;
  po.source_name = "<hcpsim collective flags>";
  return parse_with_flags(j.dump(), po, a, true);
}

// "NCCL 2.28's choice", or what the settings force ("NCCL_ALGO=ring NCCL_PROTO=LL").
std::string choice_words(const NcclSettings& n) {
  const bool all_algos = n.algorithms.empty() || n.algorithms.size() == std::size(kNcclAlgorithms);
  const bool all_protos = n.protocols.empty() || n.protocols.size() == std::size(kNcclProtocols);
  if (all_algos && all_protos) return "NCCL 2.28's choice";
  std::vector<std::string> algos, protos;
  for (NcclAlgorithm x : n.algorithms)  // CollNet (IB SHARP) is not modelled: never run, not named
    if (x != NcclAlgorithm::CollNetDirect && x != NcclAlgorithm::CollNetChain) algos.emplace_back(to_string(x));
  for (NcclProtocol x : n.protocols) protos.emplace_back(to_string(x));
  const auto joined = [](const std::vector<std::string>& v) {
    std::string t;
    for (const std::string& x : v) t += (t.empty() ? "" : ",") + x;
    return t;
  };
  return std::string("NCCL 2.28's choice among") + (all_algos ? "" : " NCCL_ALGO=" + joined(algos)) +
         (all_protos ? "" : " NCCL_PROTO=" + joined(protos));
}

std::string text_table(const CollectiveArgs& a, const Scenario& sc, const std::vector<CollectivePoint>& pts) {
  const int64_t ranks = a.gpus > 0 ? a.gpus : sc.cluster.world_size();
  std::string s = "# hcpsim collective: " + a.op + " over " + std::to_string(ranks) + " GPUs (" +
                  std::to_string(sc.cluster.num_nodes) + " x " + sc.cluster.preset + ", " +
                  std::to_string(sc.cluster.inter_node.nics_per_node) + " NICs per node), " + choice_words(sc.software.nccl) +
                  "\n";
  s += "# sizes as nccl-tests counts them; busbw = algbw x its bus factor; time from the simulated fabric\n";
  s += strprintf("#%13s %12s %12s %12s  %-10s %-7s %4s %6s %12s\n", "size(B)", "time(us)", "algbw(GB/s)",
                 "busbw(GB/s)", "algorithm", "proto", "ch", "flows", "nccl-model");
  // NCCL's tuner has no model of send/recv and all-to-all (p2p): no figure, not 0 us.
  for (const CollectivePoint& p : pts)
    s += strprintf(" %13.0f %12.2f %12.2f %12.2f  %-10s %-7s %4lld %6lld %12s\n", p.size_bytes, p.time_s * 1e6,
                   p.algbw_Bps / 1e9, p.busbw_Bps / 1e9, p.route.algorithm.c_str(), p.route.protocol.c_str(),
                   static_cast<long long>(p.route.channels), static_cast<long long>(p.route.flows),
                   p.route.algorithm == "p2p" ? "-" : strprintf("%.2fus", p.route.nccl_time_s * 1e6).c_str());
  return s;
}

nlohmann::json json_of(const CollectiveArgs& a, const Scenario& sc, const std::vector<CollectivePoint>& pts) {
  nlohmann::json out = {{"op", a.op},
                        {"gpus", a.gpus > 0 ? a.gpus : sc.cluster.world_size()},
                        {"nodes", sc.cluster.num_nodes},
                        {"cluster", sc.cluster.preset},
                        {"nics_per_node", sc.cluster.inter_node.nics_per_node},
                        {"points", nlohmann::json::array()}};
  for (const CollectivePoint& p : pts)
    out["points"].push_back({{"size_bytes", p.size_bytes},
                             {"time_s", p.time_s},
                             {"algbw_GBps", p.algbw_Bps / 1e9},
                             {"busbw_GBps", p.busbw_Bps / 1e9},
                             {"algorithm", p.route.algorithm},
                             {"protocol", p.route.protocol},
                             {"nccl", comm_route_json(p.route)}});
  return out;
}

class Command : public CollectiveCommand {
 public:
  explicit Command(CLI::App& app) {
    cmd_ = app.add_subcommand("collective",
                              "nccl-tests on a modelled cluster: one collective over every GPU at a ladder of sizes, "
                              "with NCCL's algorithm, protocol and channels, through the simulator");
    cluster_flags_ = {cmd_->add_option("--cluster", a_.cluster, "Cluster preset (hcpsim presets)")->capture_default_str(),
                      cmd_->add_option("--nodes", a_.nodes, "Nodes")->capture_default_str(),
                      cmd_->add_option("--nics", a_.nics, "NICs per node (default: the preset's)")};
    gpus_flag_ = cmd_->add_option("-g,--gpus", a_.gpus, "Ranks: the first N GPUs (default: every GPU of the nodes)");
    cmd_->add_option("--op", a_.op, "Collective")
        ->check(CLI::IsMember({"all_reduce", "all_gather", "reduce_scatter", "all_to_all", "sendrecv"}))
        ->capture_default_str();
    cmd_->add_option("-b,--minbytes", a_.min_bytes, "Smallest size (nccl-tests convention; K, M, G = x1024)")
        ->capture_default_str();
    cmd_->add_option("-e,--maxbytes", a_.max_bytes, "Largest size")->capture_default_str();
    cmd_->add_option("-f,--stepfactor", a_.step_factor, "Size multiplier between runs (> 1)")->capture_default_str();
    cmd_->add_option("--algo", a_.algo, "Like NCCL_ALGO: ring, tree, nvls, nvls_tree, pat; lists and ^exclusions");
    cmd_->add_option("--proto", a_.proto, "Like NCCL_PROTO: LL, LL128, Simple");
    cmd_->add_option("--scenario", a_.scenario,
                     "Take the cluster and software.nccl from this scenario (instead of --cluster/--nodes/--nics; "
                     "--algo/--proto in place of its software.nccl.algo/proto)");
    cmd_->add_option("--format", a_.format, "Output format")->check(CLI::IsMember({"text", "json"}));
    cmd_->add_option("-o,--out", a_.out, "Write the output to this file (atomically) instead of stdout");
  }
  bool active() const override { return cmd_->parsed(); }
  int run() override {
    try {
      if (!a_.scenario.empty())
        for (const CLI::Option* flag : cluster_flags_)
          if (flag->count() > 0)
            throw InputError({{flag->get_name(), "is given with --scenario, which takes the cluster from its file",
                               "the cluster from one place", "drop " + flag->get_name() + ", or --scenario"}});
      if (!(a_.step_factor > 1) || !std::isfinite(a_.step_factor))
        throw InputError({{"--stepfactor", "must be > 1 and finite", "each size larger than the last", "give -f 2"}});
      if (cluster_flags_[2]->count() > 0 && a_.nics < 1)
        throw InputError({{"--nics", "is " + std::to_string(a_.nics), "at least one NIC per node", "give --nics 1 or more"}});
      const double lo = size_of("--minbytes", a_.min_bytes), hi = size_of("--maxbytes", a_.max_bytes);
      if (hi < lo) throw InputError({{"--maxbytes", "is below --minbytes", "-b <= -e", "swap them"}});
      const Scenario sc = scenario_of(a_);
      std::vector<std::string> read = sc.files_read();
      read.push_back(a_.scenario);
      check_output_not_input("--out", a_.out, read);
      if (!a_.out.empty()) check_writable(a_.out);
      const int64_t world = sc.cluster.world_size();
      // One rank moves nothing over a link (NCCL copies locally, which hcpsim does not time: it read
      // 0 us and 0 GB/s): two or more.
      const int64_t ranks = a_.gpus > 0 ? a_.gpus : world;
      if (a_.gpus < 0 || (gpus_flag_->count() > 0 && a_.gpus < 1) || a_.gpus > world || ranks < 2)
        throw InputError({{"--gpus", "is " + std::to_string(ranks) + " on a cluster of " + std::to_string(world) + " GPUs",
                           "2 <= --gpus <= the cluster's GPUs: a collective of one rank moves nothing over a link",
                           world >= 2 ? "give --gpus 2 .. " + std::to_string(world) : std::string("give a cluster of 2 or more GPUs")}});
      CommPattern pattern{};
      comm_pattern_named(a_.op, pattern);
      // The ladder of whole sizes, each larger than the last (a factor near 1 repeats a rounded size).
      // Steps from -b to -e: floor(log(e / b) / log(f)) + 1, counted before any is taken (a factor a
      // hair above 1 takes billions of steps to climb, most of them to the same rounded size); of
      // those, the distinct whole sizes are the ladder.
      constexpr double kMostSteps = 1e5;
      constexpr size_t kMostSizes = 1000;
      std::string factor;  // as given: the fewest digits that read back as the same double
      for (int digits = 1; digits <= 17 && (factor.empty() || std::stod(factor) != a_.step_factor); ++digits)
        factor = strprintf("%.*g", digits, a_.step_factor);
      if (std::floor(std::log(hi / lo) / std::log(a_.step_factor)) + 1 > kMostSteps)
        throw InputError({{"--stepfactor", factor + strprintf(" takes more than %.0f steps from -b to -e", kMostSteps),
                           strprintf("at most %.0f steps a run", kMostSteps), "give a larger -f (nccl-tests' usual: 2)"}});
      std::vector<double> sizes;
      for (double s = lo; s <= hi * (1 + 1e-12); s *= a_.step_factor)
        if (sizes.empty() || std::round(s) > sizes.back()) sizes.push_back(std::round(s));
      if (sizes.size() > kMostSizes)
        throw InputError({{"--stepfactor", factor + strprintf(" gives %zu sizes from -b to -e", sizes.size()),
                           strprintf("at most %zu sizes a run", kMostSizes), "give a larger -f (nccl-tests' usual: 2)"}});
      const std::string text = result_of_child([&] {
        nlohmann::json pts = nlohmann::json::array();
        for (const CollectivePoint& p : simulate_collective_sweep(sc, pattern, sizes, a_.gpus))
          pts.push_back({p.size_bytes, p.time_s, p.algbw_Bps, p.busbw_Bps, comm_route_json(p.route)});
        return pts.dump();
      });
      std::vector<CollectivePoint> pts;
      for (const auto& v : nlohmann::json::parse(text)) {
        CollectivePoint p;
        p.size_bytes = v[0], p.time_s = v[1], p.algbw_Bps = v[2], p.busbw_Bps = v[3];
        const auto& r = v[4];
        p.route.algorithm = r["algorithm"], p.route.protocol = r["protocol"], p.route.channels = r["channels"];
        p.route.stages = r["stages"], p.route.flows = r["flows"], p.route.rails = r["rails"];
        p.route.nccl_time_s = r.contains("nccl_time_s") && r["nccl_time_s"].is_number() ? r["nccl_time_s"].get<double>() : 0.0;
        p.route.summary = r["summary"];
        pts.push_back(std::move(p));
      }
      CliOptions o;
      o.out_file = a_.out;
      emit(o, a_.format == "json" ? json_of(a_, sc, pts).dump(2) + "\n" : text_table(a_, sc, pts));
      return kExitOk;
    } catch (const InputError& e) {
      print_diagnostics(e, "hcpsim collective", a_.format);
      return kExitInvalidInput;
    } catch (const OutputFileError& e) {
      print_flag_error(output_file_error("--out", e.what()), "hcpsim collective", a_.format);
      return kExitInvalidInput;
    }
  }

 private:
  CLI::App* cmd_ = nullptr;
  std::vector<CLI::Option*> cluster_flags_;  // --cluster, --nodes, --nics: not with --scenario
  CLI::Option* gpus_flag_ = nullptr;
  CollectiveArgs a_;
};

}  // namespace

std::unique_ptr<CollectiveCommand> add_collective_command(CLI::App& app) { return std::make_unique<Command>(app); }

}  // namespace hcpsim

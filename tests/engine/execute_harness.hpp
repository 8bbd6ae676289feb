// Helpers for the executor tests: hand-made programs, and execute_programs in
// a forked child (SimGrid allows one simulation per process), its Timeline
// coming back as numbers.
#pragma once

#include <string>
#include <vector>

#include "engine/execute.hpp"
#include "tests/engine/platform_harness.hpp"
#include "tests/topology/cluster_specs.hpp"

namespace hcpsim::test {

// One rank's program, op by op. Every helper returns the new op's id.
struct ProgramBuilder {
  RankProgram program;
  std::vector<double> compute_s;

  int32_t add(Op op, double seconds = 0) {
    op.id = static_cast<int32_t>(program.ops.size());
    if (op.label.empty()) op.label = "op" + std::to_string(op.id);
    program.ops.push_back(std::move(op));
    compute_s.push_back(seconds);
    return program.ops.back().id;
  }
  int32_t compute(double seconds, Stream stream = Stream::Compute, std::vector<int32_t> deps = {}) {
    Op op;
    op.kind = OpKind::Compute;
    op.stream = stream;
    op.deps = std::move(deps);
    return add(std::move(op), seconds);
  }
  int32_t sendrecv(int32_t to, int32_t from, double bytes, int64_t tag, std::vector<int32_t> deps = {},
                   Stream stream = Stream::NcclCp) {
    Op op = comm(CommPattern::SendRecv, bytes, tag, std::move(deps), stream);
    op.send_peer = to;
    op.recv_peer = from;
    op.recv_bytes = bytes;
    return add(std::move(op));
  }
  int32_t collective(CommPattern pattern, int32_t group, double bytes, int64_t tag, std::vector<int32_t> deps = {},
                     Stream stream = Stream::NcclCp) {
    Op op = comm(pattern, bytes, tag, std::move(deps), stream);
    op.group = group;
    return add(std::move(op));
  }

 private:
  static Op comm(CommPattern pattern, double bytes, int64_t tag, std::vector<int32_t> deps, Stream stream) {
    Op op;
    op.kind = OpKind::Comm;
    op.stream = stream;
    op.deps = std::move(deps);
    op.pattern = pattern;
    op.message_bytes = bytes;
    op.tag = tag;
    return op;
  }
};

// Owns one phase's data; phase() gives the views execute_programs takes.
struct PhaseData {
  std::string name = "phase";
  std::vector<RankProgram> programs;
  std::vector<ProcessGroup> groups;
  std::vector<std::vector<double>> compute_s;

  explicit PhaseData(int32_t ranks, std::string n = "phase") : name(std::move(n)) {
    programs.resize(static_cast<size_t>(ranks));
    compute_s.resize(static_cast<size_t>(ranks));
    for (int32_t r = 0; r < ranks; ++r) programs[static_cast<size_t>(r)].rank = r;
  }
  void set(int32_t rank, const ProgramBuilder& b) {
    programs[static_cast<size_t>(rank)].ops = b.program.ops;
    compute_s[static_cast<size_t>(rank)] = b.compute_s;
  }
  ExecutePhase phase() const { return {name, programs, groups, compute_s}; }
};

// The input's phases view `phases`: keep it alive while the input is used.
inline ExecuteInput make_input(const ClusterSpec& spec, const RankLayout& layout, const std::vector<PhaseData>& phases,
                               const ExecuteOptions& options = {}, const TopologyOptions& topo = {}) {
  ExecuteInput in;
  in.graph = build_cluster_graph(spec, topo);
  in.layout = layout;
  in.placement = megatron_placement(in.graph, layout);
  in.options = options;
  for (const PhaseData& p : phases) in.phases.push_back(p.phase());
  return in;
}

// The numbers of a Timeline, flattened for the trip from the child.
inline std::vector<double> encode(const Timeline& t) {
  std::vector<double> v{static_cast<double>(t.ops.size())};
  for (const OpRecord& o : t.ops) v.insert(v.end(), {double(o.phase), double(o.rank), double(o.op), o.start_s, o.ready_s, o.end_s});
  v.push_back(static_cast<double>(t.phases.size()));
  for (size_t p = 0; p < t.phases.size(); ++p)
    v.insert(v.end(), {t.phase_start_s[p], t.phase_end_s[p], double(t.phases[p].folded), double(t.phases[p].replicas),
                       double(t.phases[p].simulated_ranks), double(t.phases[p].stand_in.size())});
  for (const PhaseRecord& p : t.phases) v.insert(v.end(), p.stand_in.begin(), p.stand_in.end());
  v.push_back(static_cast<double>(t.links.size()));
  for (const LinkRecord& l : t.links) v.insert(v.end(), {double(static_cast<int>(l.cls)), l.bandwidth_bytes_per_s, l.bytes, l.busy_s});
  v.push_back(static_cast<double>(t.activities));
  return v;
}

inline Timeline decode(const std::vector<double>& v) {
  Timeline t;
  size_t i = 0;
  const auto next = [&] { return v.at(i++); };
  for (auto n = static_cast<size_t>(next()); n > 0; --n) {
    OpRecord o;
    o.phase = static_cast<int32_t>(next());
    o.rank = static_cast<int32_t>(next());
    o.op = static_cast<int32_t>(next());
    o.start_s = next();
    o.ready_s = next();
    o.end_s = next();
    t.ops.push_back(o);
  }
  for (auto n = static_cast<size_t>(next()); n > 0; --n) {
    t.phase_start_s.push_back(next());
    t.phase_end_s.push_back(next());
    PhaseRecord p;
    p.folded = next() != 0;
    p.replicas = static_cast<int64_t>(next());
    p.simulated_ranks = static_cast<int64_t>(next());
    p.stand_in.resize(static_cast<size_t>(next()));
    t.phases.push_back(p);
  }
  for (PhaseRecord& p : t.phases)
    for (int32_t& r : p.stand_in) r = static_cast<int32_t>(next());
  for (auto n = static_cast<size_t>(next()); n > 0; --n) {
    LinkRecord l;
    l.cls = static_cast<LinkClass>(static_cast<int>(next()));
    l.bandwidth_bytes_per_s = next();
    l.bytes = next();
    l.busy_s = next();
    t.links.push_back(l);
  }
  t.activities = static_cast<int64_t>(next());
  return t;
}

// execute_programs in a child process.
inline Timeline simulate(const ExecuteInput& in) {
  return decode(in_child([&] { return encode(execute_programs(in)); }));
}

inline const OpRecord& record(const Timeline& t, int32_t phase, int32_t rank, int32_t op) {
  for (const OpRecord& o : t.ops)
    if (o.phase == phase && o.rank == rank && o.op == op) return o;
  throw std::out_of_range("no record for that op");
}

}  // namespace hcpsim::test

#include "sweep/outcome_json.hpp"

#include "common/json_reader.hpp"
#include "run/result_json.hpp"

namespace hcpsim {

nlohmann::json row_to_json(const SweepRow& row) {
  nlohmann::json j = {{"index", row.index}, {"key", row.key},     {"label", row.label},
                      {"digest", row.digest}, {"input", row.input}, {"status", to_string(row.status)}};
  switch (row.status) {
    case RowStatus::Ok: j["result"] = result_to_json(*row.result); break;
    case RowStatus::Rejected: {
      nlohmann::json why = nlohmann::json::array();
      for (const auto& d : row.rejected_by) why.push_back({{"path", d.path}, {"what", d.what}, {"rule", d.rule}, {"fix", d.fix}});
      j["rejected_by"] = why;
      break;
    }
    case RowStatus::Failed: j["error"] = row.error; break;
    case RowStatus::Missing: break;
    case RowStatus::Unfit:
      j["unfit"] = {{"peak_bytes", row.unfit->peak_bytes},
                    {"capacity_bytes", row.unfit->capacity_bytes},
                    {"peak_phase", row.unfit->peak_phase}};
      break;
  }
  return j;
}

SweepRow row_from_json(const nlohmann::json& j, const std::string& json_path) {
  DiagnosticSink sink;
  ObjectReader r(j, json_path, sink, {"index", "key", "label", "digest", "input", "status", "result", "rejected_by", "error",
                                               "unfit"});
  for (const char* k : {"index", "key", "label", "status"})
    if (!r.has(k)) sink.error(r.path_of(k), "missing", "a sweep row names index, key, label and status", "write it with hcpsim sweep");
  SweepRow row;
  row.index = int(r.integer("index", 0, 1 << 30).value_or(0));
  row.key = r.string("key").value_or("");
  row.label = r.string("label").value_or("");
  row.digest = r.string("digest").value_or("");
  if (const nlohmann::json* in = r.raw("input")) row.input = *in;
  row.status = r.choice("status", named_choices(kRowStatuses)).value_or(RowStatus::Missing);
  if (row.status == RowStatus::Ok) {
    if (const nlohmann::json* res = r.raw("result")) {
      row.result = sink.collect([&] { return result_from_json(*res, r.path_of("result")); });
    } else {
      sink.error(r.path_of("result"), "missing", "a row with status ok has a result", "write it with hcpsim sweep");
    }
  }
  if (const nlohmann::json* why = r.raw("rejected_by"); why && why->is_array()) {
    for (size_t i = 0; i < why->size(); ++i) {
      ObjectReader d((*why)[i], r.path_of("rejected_by") + "[" + std::to_string(i) + "]", sink, {"path", "what", "rule", "fix"});
      row.rejected_by.push_back({d.string("path").value_or(""), d.string("what").value_or(""),
                                 d.string("rule").value_or(""), d.string("fix").value_or("")});
    }
  }
  row.error = r.string("error").value_or("");
  if (row.status == RowStatus::Unfit) {
    const nlohmann::json* u = r.raw("unfit");
    if (!u) {
      sink.error(r.path_of("unfit"), "missing", "a row with status unfit has its memory estimate", "write it with hcpsim sweep");
    } else {
      ObjectReader m(*u, r.path_of("unfit"), sink, {"peak_bytes", "capacity_bytes", "peak_phase"});
      MemoryShortfall s;
      s.peak_bytes = m.number("peak_bytes", 0, 1e18).value_or(0);
      s.capacity_bytes = m.number("capacity_bytes", 0, 1e18).value_or(0);
      s.peak_phase = m.string("peak_phase").value_or("");
      row.unfit = s;
    }
  }
  sink.throw_if_any();
  return row;
}

void meta_to_json(const SweepMeta& m, nlohmann::json& doc) {
  doc["scenario"] = m.scenario;
  doc["source"] = m.source;
  doc["base_dir"] = m.base_dir;
  doc["summary"] = m.summary;
  doc["space_digest"] = m.space_digest;
  doc["candidates_total"] = m.candidates_total;
  if (m.shards.empty()) {
    doc["shard"] = {{"index", m.shard.index}, {"count", m.shard.count}};
  } else {
    doc["shards"] = nlohmann::json::array();
    for (const auto& s : m.shards)
      doc["shards"].push_back({{"file", s.file}, {"shard", {{"index", s.shard.index}, {"count", s.shard.count}}}});
  }
  if (m.missing_candidates > 0) doc["missing_candidates"] = m.missing_candidates;
}

namespace {

SweepShard shard_from_json(const nlohmann::json* j, const std::string& path, DiagnosticSink& sink) {
  SweepShard s;
  if (!j) return s;
  ObjectReader r(*j, path, sink, {"index", "count"});
  s.index = int(r.integer("index", 1, 1 << 20).value_or(1));
  s.count = int(r.integer("count", 1, 1 << 20).value_or(1));
  if (s.index > s.count)
    sink.error(r.path_of("index"), "shard " + std::to_string(s.index) + " of a sweep in " + std::to_string(s.count),
               "1 <= index <= count", "write the file with hcpsim sweep --shard i/N");
  return s;
}

}  // namespace

SweepMeta meta_from_json(const nlohmann::json& doc, const std::string& json_path) {
  DiagnosticSink sink;
  // The document's other keys (format, ranking, recommendation, candidates) are read elsewhere.
  ObjectReader r(doc, json_path, sink,
                 {"scenario", "source", "base_dir", "summary", "space_digest", "candidates_total", "shard", "shards",
                  "missing_candidates", "format", "ranking", "recommendation", "candidates"});
  for (const char* k : {"space_digest", "candidates_total"})
    if (!r.has(k)) sink.error(r.path_of(k), "missing", "a sweep result names its space", "write it with hcpsim sweep");
  SweepMeta m;
  m.scenario = r.string("scenario").value_or("");
  m.source = r.string("source").value_or("");
  m.base_dir = r.string("base_dir").value_or(".");
  m.summary = r.string("summary").value_or("");
  m.space_digest = r.string("space_digest").value_or("");
  m.candidates_total = r.integer("candidates_total", 0, int64_t{1} << 40).value_or(0);
  m.shard = shard_from_json(r.raw("shard"), r.path_of("shard"), sink);
  if (const nlohmann::json* list = r.raw("shards"); list && list->is_array())
    for (size_t i = 0; i < list->size(); ++i) {
      const std::string p = r.path_of("shards") + "[" + std::to_string(i) + "]";
      ObjectReader s((*list)[i], p, sink, {"file", "shard"});
      m.shards.push_back({s.string("file").value_or(""), shard_from_json(s.raw("shard"), s.path_of("shard"), sink)});
    }
  m.missing_candidates = r.integer("missing_candidates", 0, int64_t{1} << 40).value_or(0);
  sink.throw_if_any();
  return m;
}

}  // namespace hcpsim

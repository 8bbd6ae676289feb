// The sweep as JSON (the document `hcpsim merge` reads back) and as CSV: one
// row per candidate, every metric of a single run flattened to dotted columns.
#include <algorithm>
#include <cstdio>
#include <map>

#include "report/sweep_outputs.hpp"

#include "run/result_json.hpp"
#include "sweep/outcome_json.hpp"

namespace hcpsim {

namespace {

// result -> {"step.time_s": ..., "memory.breakdown.weights.bytes": ...}; arrays of
// named objects are keyed by name, other arrays by position; the resolved
// scenario is left out (the configuration columns carry it).
void flatten(const nlohmann::json& j, const std::string& prefix, std::vector<std::pair<std::string, std::string>>& out) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) {
      if (prefix.empty() && k == "scenario") continue;
      flatten(v, prefix.empty() ? k : prefix + "." + k, out);
    }
  } else if (j.is_array() && !j.empty() && (j[0].is_object() || j[0].is_array())) {
    for (size_t i = 0; i < j.size(); ++i) {
      const bool named = j[i].is_object() && j[i].contains("name") && j[i]["name"].is_string() && prefix != "links";
      const std::string k = named ? j[i]["name"].get<std::string>() : std::to_string(i);
      nlohmann::json rest = j[i];
      if (named) rest.erase("name");
      flatten(rest, prefix + "." + k, out);
    }
  } else if (j.is_array()) {
    std::string s;
    for (size_t i = 0; i < j.size(); ++i) s += (i ? ";" : "") + (j[i].is_string() ? j[i].get<std::string>() : j[i].dump());
    out.push_back({prefix, s});
  } else if (j.is_string()) {
    out.push_back({prefix, j.get<std::string>()});
  } else if (j.is_number_float()) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.9g", j.get<double>());
    out.push_back({prefix, buf});
  } else {
    out.push_back({prefix, j.is_null() ? "" : j.dump()});
  }
}

std::string csv_cell(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

}  // namespace

std::string sweep_to_json(const SweepOutcome& o, const SweepRecommendation& rec) {
  nlohmann::json doc = nlohmann::json::object();
  meta_to_json(o.meta, doc);
  doc["format"] = kSweepFormat;
  doc["ranking"] = nlohmann::json::array();
  for (int i : ranked_rows(o)) doc["ranking"].push_back(o.rows[i].key);
  doc["recommendation"] = {{"key", rec.row >= 0 ? nlohmann::json(o.rows[rec.row].key) : nlohmann::json(nullptr)},
                           {"label", rec.row >= 0 ? nlohmann::json(o.rows[rec.row].label) : nlohmann::json(nullptr)},
                           {"reasons", rec.reasons}};
  doc["candidates"] = nlohmann::json::array();
  for (const SweepRow& r : o.rows) doc["candidates"].push_back(row_to_json(r));
  return doc.dump(1) + "\n";
}

namespace {

// The candidate's configuration, read off its scenario document (every row has one, simulated or not).
void configuration_cells(const nlohmann::json& input, std::map<std::string, std::string>& c) {
  const auto at = [&](const char* section, const char* key) -> std::string {
    if (!input.contains(section) || !input[section].is_object() || !input[section].contains(key)) return "";
    const nlohmann::json& v = input[section][key];
    if (v.is_string()) return v.get<std::string>();
    if (v.is_array()) {
      std::string s;
      for (const auto& e : v) s += (s.empty() ? "" : "x") + e.dump();
      return s;
    }
    return v.dump();
  };
  c["tp"] = at("parallel", "tensor_model_parallel_size");
  c["cp"] = at("parallel", "context_parallel_size");
  const std::string pp = at("parallel", "pipeline_model_parallel_size"),
                    vpp = at("parallel", "virtual_pipeline_model_parallel_size");
  const bool parallel = input.contains("parallel");
  c["pp"] = pp.empty() && parallel ? "1" : pp;  // absent from a layout: no pipeline
  c["vpp"] = vpp.empty() && parallel ? "1" : vpp;
  c["cp_comm_type"] = at("parallel", "cp_comm_type");
  c["hcp"] = at("parallel", "hierarchical_context_parallel_sizes");
  c["micro_batch_size"] = at("training", "micro_batch_size");
  c["recompute"] = at("training", "recompute_granularity");
  if (const std::string method = at("training", "recompute_method"); !method.empty() && c["recompute"] == "full")
    c["recompute"] += " (" + method + " " + at("training", "recompute_num_layers") + ")";
  const std::string preset = at("cluster", "preset"), nodes = at("cluster", "num_nodes");
  if (input.contains("cluster")) c["cluster"] = (nodes.empty() ? "" : nodes + " x ") + (preset.empty() ? "custom" : preset);
}

}  // namespace

std::string sweep_to_csv(const SweepOutcome& o) {
  std::vector<std::string> columns = {"index",   "key",  "label",       "status",  "rank",  "tp",      "cp", "pp", "vpp",
                                      "cp_comm_type", "hcp", "micro_batch_size", "recompute", "cluster", "rejected_by",
                                      "error"};
  std::vector<std::map<std::string, std::string>> cells(o.rows.size());
  std::vector<int> rank_of(o.rows.size(), 0);
  int rank = 0;
  for (int i : ranked_rows(o))
    if (o.rows[i].fits()) rank_of[i] = ++rank;
  for (size_t i = 0; i < o.rows.size(); ++i) {
    const SweepRow& r = o.rows[i];
    auto& c = cells[i];
    c["index"] = std::to_string(r.index);
    c["key"] = r.key;
    c["label"] = r.label;
    c["status"] = to_string(r.status);
    c["rank"] = rank_of[i] ? std::to_string(rank_of[i]) : "";
    configuration_cells(r.input, c);
    for (const Diagnostic& d : r.rejected_by)
      c["rejected_by"] += (c["rejected_by"].empty() ? "" : "; ") + d.path + ": " + d.what + " (" + d.rule + ")";
    c["error"] = r.error;
    if (!r.ok()) continue;
    std::vector<std::pair<std::string, std::string>> flat;
    flatten(result_to_json(*r.result), "", flat);
    for (const auto& [k, v] : flat) {
      if (std::find(columns.begin(), columns.end(), k) == columns.end()) columns.push_back(k);
      c[k] = v;
    }
  }
  std::string out;
  for (size_t k = 0; k < columns.size(); ++k) out += (k ? "," : "") + csv_cell(columns[k]);
  out += "\n";
  for (const auto& c : cells) {
    for (size_t k = 0; k < columns.size(); ++k) {
      const auto it = c.find(columns[k]);
      out += (k ? "," : "") + csv_cell(it == c.end() ? "" : it->second);
    }
    out += "\n";
  }
  return out;
}

}  // namespace hcpsim

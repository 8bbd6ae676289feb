// A buy-side study (`hcpsim compare`): one training job and the clusters it could run on.
//
//   {
//     "name": "...", "description": "...",
//     "job": {
//       "model":    { ... as in a scenario ... },
//       "training": { "seq_length": 262144, "global_batch_tokens": 4194304 (or "global_batch_size":
//                     sequences), "precision": "bf16", ... (no micro batch or recompute: swept) },
//       "software": { ... optional, as in a scenario ... },
//       "token_budget": 100e9
//     },
//     "prices_source": "where the prices come from (required with any price)",
//     "options": [
//       { "name": "16 x DGX H200", "cluster": { "preset": "dgx-h200", "num_nodes": 16 },
//         "price_per_gpu_hour": 3.5,
//         "power": { "per_node_w": 10200 or "per_gpu_w": 1000, "pue": 1.3, "source": "..." },
//         "fabric_variants": [ { "name": "800G NICs", "cluster": { "inter_node": { "nic_bandwidth_GBps": 100 } } } ] }
//     ],
//     "sweep": { ... bounds for every option, as in a scenario ... }
//   }
//
// Each fabric variant is one more option: the option's cluster with the variant's keys merged in
// (JSON merge patch). Every problem is an InputError at its path in the study file.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scenario/parse.hpp"
#include "scenario/scenario.hpp"
#include "scenario/sweep_spec.hpp"

namespace hcpsim {

// Power drawn while training: per GPU or per node (one of them), times the facility's PUE.
struct PowerSpec {
  double per_gpu_w = 0;
  double per_node_w = 0;
  double pue = 1.0;
  std::string source;  // the study's, or the preset's datasheet
  friend bool operator==(const PowerSpec&, const PowerSpec&) = default;
};

struct StudyOption {
  std::string name;
  std::string path;                        // in the study file: "options[1]", "options[1].fabric_variants[0]"
  std::optional<double> price_per_gpu_hour;
  std::optional<PowerSpec> power;          // absent where neither the study nor the preset gives one
  nlohmann::json base_doc;                 // the job on this cluster as a scenario document (no layout)
  Scenario base;                           // base_doc, checked by every rule but the layout's
};

struct Study {
  std::string name, description;
  std::string source;       // the file, as given
  std::string base_dir;     // resolves relative paths
  double token_budget = 0;  // tokens to train
  int64_t seq_length = 0;
  int64_t global_batch_size = 0;  // sequences per step
  std::string prices_source;
  std::vector<StudyOption> options;
  SweepSpec sweep;
  int64_t tokens_per_step() const { return global_batch_size * seq_length; }
};

Study parse_study_text(std::string_view text, const ParseOptions& opt);
Study load_study_file(const std::string& path);

}  // namespace hcpsim

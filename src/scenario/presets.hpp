// Built-in model shapes and cluster node types, from public sources cited in
// model_presets.cpp and cluster_presets.cpp.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "scenario/scenario.hpp"

namespace hcpsim {

struct ModelPreset {
  std::string name;
  ModelSpec spec;
  std::string source;  // where the shape comes from
};

struct ClusterPreset {
  std::string name;
  ClusterSpec spec;    // num_nodes = 1; the scenario sets it
  std::string source;  // datasheets the numbers come from (the power figure's included)
  double node_max_power_w = 0;  // the node's maximum input power in W (an NVL72: the rack's); 0 = not given
};

const std::vector<ModelPreset>& model_presets();
const std::vector<ClusterPreset>& cluster_presets();
const ModelPreset* find_model_preset(std::string_view name);
const ClusterPreset* find_cluster_preset(std::string_view name);
std::vector<std::string> model_preset_names();
std::vector<std::string> cluster_preset_names();

}  // namespace hcpsim

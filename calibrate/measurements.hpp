// measurements.json as hcpcal writes it (schema in calibrate/hcpcal/results.h), read into
// plain structs. Every problem is reported at its JSON path (ScenarioError, exit 2).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "model/workload.hpp"

namespace hcpsim {

// CpStep: one step of hcpcal's virtual-rank CP attention ("cp_attention" in the file,
// expanded into one item per step): its attention kernel's median time, with the shape of
// that step (diagonal: 2c x 2c causal; later steps: 2c x c, no mask). Never fitted on,
// always checked: it tests the tables on the shapes the CP schedule runs.
enum class MeasurementKind { Attention, Gemm, Copy, CpStep };

struct Measurement {
  MeasurementKind kind = MeasurementKind::Attention;
  std::string backend;
  std::string name;          // config.name where given, else built from the shape
  AttentionShape attention;  // kinds Attention and CpStep (mask None or CausalTopLeft; backward = pass "bwd")
  GemmShape gemm;            // kind Gemm
  double copy_bytes_moved = 0;  // kind Copy: bytes read + written
  int iterations = 0;
  double median_s = 0, min_s = 0, max_s = 0;
  bool checked = false;
  int64_t wrong = 0;
  std::string path;  // "measurements[3]", for messages
};

struct MeasurementSet {
  nlohmann::json environment;
  std::string gpu_model;
  double l2_bytes = 0;
  bool complete = false;
  std::vector<Measurement> items;
};

MeasurementSet parse_measurements_text(const std::string& text, const std::string& source);
MeasurementSet read_measurements_file(const std::string& file_path);

// Key of the shape a measurement times, without the pass: forward and backward of one
// attention shape share it, and so do the KV-head variants of one (sq, skv, mask).
std::string shape_group_key(const Measurement& m);

}  // namespace hcpsim

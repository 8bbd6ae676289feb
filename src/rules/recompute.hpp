// Megatron's full activation recomputation, layer by layer (recompute_granularity "full" with
// recompute_method and recompute_num_layers; training.recompute_method, training.recompute_num_layers).
// Read in Megatron-LM at d98e8a6, megatron/core/recompute.py `checkpointed_forward` (called from
// transformer_block.py), which runs
// every model chunk's layers (a TransformerBlock: the layers of one pipeline stage, or of one
// virtual stage under the interleaved schedule):
// - "uniform" (N): the chunk's layers in units of N (the last one shorter), each unit under one
//   activation checkpoint: its input is saved, nothing inside it; the backward re-runs the unit's
//   forward and then holds all of its layers' activations while it goes back through them.
//   Every layer is re-run. N = 1 is every layer checkpointed on its own.
// - "block" (N): the chunk's first N layers each under its own checkpoint, the rest run as
//   usual and save every activation. N at least the chunk's layers: every layer re-run.
// Megatron requires both with "full" and refuses recompute_num_layers with "selective"
// (transformer_config.py __post_init__). hcpsim's defaults, uniform and 1, recompute every layer
// on its own, as hcpsim's "full" always did. Not modelled: under fp8 "block" skips the layers
// whose input needs no gradient (none in a decoder whose embedding is trained).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace hcpsim {

enum class RecomputeMethod { Uniform, Block };

namespace rules {

// Uniform units of one layer: every layer under its own checkpoint (hcpsim's defaults; the most
// memory full recompute saves).
inline bool every_layer_on_its_own(RecomputeMethod method, int64_t num_layers) {
  return method == RecomputeMethod::Uniform && num_layers == 1;
}

// Whether the last of a chunk's `chunk_layers` layers saves a checkpoint's input under full
// recompute: under block it is either its own checkpoint or a plain layer (which saves it as part
// of everything); under uniform where a unit starts with it.
inline bool last_layer_starts_unit(RecomputeMethod method, int64_t num_layers, int64_t chunk_layers) {
  return method == RecomputeMethod::Block || (num_layers > 0 && (chunk_layers - 1) % num_layers == 0);
}

// One model chunk of `chunk_layers` layers, per micro batch.
struct ChunkRecompute {
  int64_t recomputed_layers = 0;  // forwards re-run in the backward
  int64_t plain_layers = 0;       // layers that save every activation (no full recompute)
  int64_t checkpoints = 0;        // saved checkpoint inputs: one per unit
  int64_t unit_layers = 0;        // the most layers one re-run rebuilds at once (the largest unit)
  bool operator==(const ChunkRecompute&) const = default;
};

inline ChunkRecompute chunk_recompute(bool full, RecomputeMethod method, int64_t num_layers, int64_t chunk_layers) {
  ChunkRecompute c;
  if (chunk_layers <= 0) return c;
  if (!full || num_layers <= 0) {
    c.plain_layers = chunk_layers;
    return c;
  }
  if (method == RecomputeMethod::Uniform) {
    c.recomputed_layers = chunk_layers;
    c.checkpoints = (chunk_layers + num_layers - 1) / num_layers;
    c.unit_layers = std::min(num_layers, chunk_layers);
  } else {
    c.recomputed_layers = std::min(num_layers, chunk_layers);
    c.plain_layers = chunk_layers - c.recomputed_layers;
    c.checkpoints = c.recomputed_layers;
    c.unit_layers = c.recomputed_layers > 0 ? 1 : 0;
  }
  return c;
}

// Whole layers' activations (as a layer without recompute saves them) the chunk's backward holds
// beyond what the chunk saved, at its worst moment. The backward goes from the chunk's last layer
// down. A plain layer's backward frees its activations; a unit's re-run rebuilds its layers'.
// With P >= 1 plain layers on top (block), by the first re-run P layers' activations are gone and
// one comes back: never more than at the backward's start, so 0. With none (uniform, or block
// over every layer), the largest unit: exact where every unit is as large, otherwise high by the
// inputs of the shorter units freed before it (an input is a small part of a layer's activations).
inline int64_t backward_extra_layers(const ChunkRecompute& c) {
  return c.recomputed_layers > 0 ? std::max<int64_t>(0, c.unit_layers - c.plain_layers) : 0;
}

// Per model chunk, the layers whose backward runs without the re-run forward (block's layers past
// the first N); empty where every layer's backward is the simulated layer's.
inline std::vector<int64_t> chunk_layers_without_rerun(bool full, RecomputeMethod method, int64_t num_layers,
                                                       const std::vector<int64_t>& chunk_layers) {
  std::vector<int64_t> plain;
  if (!full) return plain;
  bool any = false;
  for (const int64_t layers : chunk_layers) {
    plain.push_back(chunk_recompute(true, method, num_layers, layers).plain_layers);
    any = any || plain.back() > 0;
  }
  if (!any) plain.clear();
  return plain;
}

}  // namespace rules
}  // namespace hcpsim

// Megatron's activation offloading to the host (TransformerConfig cpu_offloading with
// cpu_offloading_weights off and cpu_offloading_num_layers N; training.cpu_offloading_num_layers),
// as Transformer Engine 2.10 and newer run it (transformer_engine/pytorch/cpu_offload.py, read at TE
// d0067d0; the v1 path of NVTE_CPU_OFFLOAD_V1=1 is not modelled):
// - the first N transformer layers of the model offload every tensor they save for the backward
//   (of at least 256K elements, not parameters or weight workspaces: in effect the layer's saved
//   activations) into pinned host memory, on one side stream, each copy once its tensor exists
//   (here, conservatively, all of a layer's copies from the layer's end);
// - forward: layer i's memory is released when layer L - N + i starts, which waits for its
//   copies (fwd_step: current_stream().wait_event); the stream is FIFO, so at most L - N layers'
//   activations are on the GPU;
// - backward: layer i's reload is issued when the backward of layer L - 1 - N + i starts (after
//   the backward before it: the side stream waits for the compute stream), FIFO on the same
//   stream, and layer i's backward waits for it (pop_tensor: wait_event).
// Megatron allows it with pipeline parallelism 1 and no recomputation alone
// (transformer_config.py). The copies also read and write HBM beside the kernels: run/simulate.cpp
// adds their bytes' HBM time to each pass.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace hcpsim::rules {

struct OffloadStalls {
  double forward_s = 0, backward_s = 0;  // what one micro batch's forward / backward waits for the copies
};

// The waits of one micro batch through `layers` layers of forward `forward_s` and backward
// `backward_s` each, the first `offloaded` of them offloading and reloading `copy_s` each way.
inline OffloadStalls offload_stalls(int64_t layers, int64_t offloaded, double forward_s, double backward_s,
                                    double copy_s) {
  OffloadStalls w;
  if (offloaded <= 0 || layers <= 0) return w;
  const int64_t resident = layers - offloaded;  // layer i's memory goes when layer resident + i starts
  std::vector<double> done(size_t(offloaded), 0.0);
  // The compute stream's clock `t`, the side stream's `queue`; each wait is added up as it happens.
  const auto wait_for = [](double& t, double ready, double& waited) {
    if (ready > t) waited += ready - t, t = ready;
  };
  double t = 0, queue = 0;
  for (int64_t j = 0; j < layers; ++j) {
    if (j >= resident) wait_for(t, done[size_t(j - resident)], w.forward_s);
    t += forward_s;
    if (j < offloaded) done[size_t(j)] = queue = std::max(queue, t) + copy_s;  // its tensors exist by its end
  }
  t = 0, queue = 0;
  std::vector<double> back(size_t(offloaded), 0.0);
  const int64_t lead = layers - 1 - offloaded;  // layer i's reload starts with layer lead + i's backward
  for (int64_t j = layers - 1; j >= 0; --j) {
    if (const int64_t i = j - lead; i >= 0 && i < offloaded) back[size_t(i)] = queue = std::max(queue, t) + copy_s;
    if (j < offloaded) wait_for(t, back[size_t(j)], w.backward_s);
    t += backward_s;
  }
  return w;
}

}  // namespace hcpsim::rules

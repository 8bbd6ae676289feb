// How fast the host can issue work: every kernel and every NCCL call of a training step is
// launched by the CPU, in program order, and a GPU cannot start work the CPU has not launched yet.
// Where a stage's kernels are shorter on the GPU, on average, than the CPU's time to launch them,
// the step runs at the CPU's pace (run/step_composition.hpp: a stage's last backward cannot end
// before the CPU has launched it). One definition for the step composition, the warning
// (run/simulate.cpp) and their tests.
//
// The CPU's time per launch, measured (calibrate/RESULTS.md, twentieth run; calibrate/torch/
// probe_host.py): hcpcal's Llama-3.1-8B layer in eager PyTorch 2.11 (no Transformer Engine), its
// forward and backward as a training step runs them (the autograd graph built and freed each
// call), launches 64 kernels at 34-58 us of CPU each on the lent H200's host (a virtualised Xeon;
// nine processes, 256-16384 tokens). The same processes time a forward of PyTorch's nn.Linear
// module (one GEMM kernel, 20.9-38.9 us), the call TransformerEngine issue #2053
// (https://github.com/NVIDIA/TransformerEngine/issues/2053, 2025-08, BF16, hidden 2048, 8192
// tokens) timed at 13.48 us on a DGX H100's Xeon 8480C and 37.08 us on GB200's Grace (33.17 on
// GH200's). A layer's launch costs, per process, 0.86-2.18 Linear forwards, median 1.894 (the host's
// speed, which varied between processes, cancels in the ratio): 1.894 x 13.48 = 25.5 us on a DGX's
// Xeon and 1.894 x 37.08 = 70.2 us on Grace. A layer's kernels take longer, in CPU time, than a
// lone Linear's one: the autograd engine, the graph, and the other ops' Python.
// A loop of the layer ran at the larger of its GPU time and its CPU time, not their sum, from 512
// to 16384 tokens (-9 to +10 %; their sum: +1 to +75 %): the CPU runs ahead of the GPU where it can.
// Transformer Engine's modules add their own Python (its Linear cost 90-100 us on Grace at the
// time of #2053, since reduced close to PyTorch's own, TE issue #2126) and Megatron runs more
// kernels a layer than hcpsim's ops (TE's reshapes around the CP all-to-all, casts): a step
// hcpsim finds bound by the host is, if anything, slower than it says.
#pragma once

#include <string>

namespace hcpsim::rules {

// The measurement and the transfer, each figure once.
inline constexpr double kEagerLaunchPerLinearForward = 1.894;  // median over nine processes
inline constexpr double kLinearForwardXeon8480_s = 13.48e-6;    // nn.Linear forward on a DGX H100 (#2053)
inline constexpr double kLinearForwardGraceGB200_s = 37.08e-6;  // the same on a GB200 (#2053)

inline constexpr double kHostLaunchX86_s = kEagerLaunchPerLinearForward * kLinearForwardXeon8480_s;
inline constexpr double kHostLaunchGrace_s = kEagerLaunchPerLinearForward * kLinearForwardGraceGB200_s;

// The band of the time per launch: half the interquartile range of the nine processes' ratios
// (1.30-2.06) relative to their median: +-20 %.
inline constexpr double kHostLaunchMeasuredRelative = 0.20;

// The host of a GPU: Grace where the GPU sits in a Grace superchip (the GB200/GB300 presets name
// it "in-GB..."), else an x86 server CPU (DGX H100/H200/B200/B300, HGX).
inline bool grace_host(const std::string& gpu_name) { return gpu_name.find("in-GB") != std::string::npos; }

// The CPU time to launch one kernel or NCCL call on the host of `gpu_name`.
inline double host_launch_s(const std::string& gpu_name) {
  return grace_host(gpu_name) ? kHostLaunchGrace_s : kHostLaunchX86_s;
}

inline const char* host_cpu_name(const std::string& gpu_name) {
  return grace_host(gpu_name) ? "Grace" : "an x86 host";
}

// What a CUDA graph covers (from Megatron's cuda_graph_impl): nothing; each transformer layer's
// forward and its backward ("local", "transformer_engine": per-layer graphs of the whole layer); the
// iteration's whole forward-backward ("full_iteration"; the optimizer step outside it).
enum class GraphScope { None, Layer, Iteration };

// The CPU's launches for one micro batch's pass of a pipeline chunk of `layers` layers of
// `layer_ops` ops each (every kernel and every NCCL call one launch), plus `other_ops` outside the
// layers (the chunk's embedding or head and loss, its stage-to-stage send and receive). A graph is
// one launch that replays what it captured: per-layer graphs leave one launch a layer and the ops
// outside the layers; a full-iteration graph is one launch a step, none a micro batch.
inline int64_t pass_launches(GraphScope g, int64_t layers, int64_t layer_ops, int64_t other_ops) {
  switch (g) {
    case GraphScope::None: return layers * layer_ops + other_ops;
    case GraphScope::Layer: return layers + other_ops;
    case GraphScope::Iteration: return 0;
  }
  return layers * layer_ops + other_ops;
}

}  // namespace hcpsim::rules

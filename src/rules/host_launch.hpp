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
// call), launches 64 kernels in 2.65-2.85 ms of CPU on the lent H200's host (a virtualised Xeon):
// 41.4-44.5 us a kernel, 43 us taken. The same host spends 20.9 us on a forward of PyTorch's
// nn.Linear module (one GEMM kernel; 18.1 us through F.linear), where TransformerEngine issue #2053
// (https://github.com/NVIDIA/TransformerEngine/issues/2053, 2025-08, BF16, hidden 2048, 8192
// tokens) measured the module at 13.48 us on a DGX H100's Xeon 8480C and 37.08 us on GB200's Grace
// (33.17 on GH200's): a layer's launches cost 43 x 13.48 / 20.9 = 27.7 us each on a DGX's Xeon and
// 43 x 37.08 / 20.9 = 76.3 us on Grace. A layer's kernels take longer, in CPU time, than a lone
// Linear's one: the autograd engine, the graph, and the other ops' Python.
// Transformer Engine's modules add their own Python (its Linear cost 90-100 us on Grace at the
// time of #2053, since reduced close to PyTorch's own, TE issue #2126) and Megatron runs more
// kernels a layer than hcpsim's ops (TE's reshapes around the CP all-to-all, casts): a step
// hcpsim finds bound by the host is, if anything, slower than it says.
#pragma once

#include <string>

namespace hcpsim::rules {

// The measurement and the transfer, each figure once.
inline constexpr double kEagerLayerLaunchProbedHost_s = 43e-6;  // per kernel, the H200 node's CPU
inline constexpr double kLinearForwardProbedHost_s = 20.9e-6;   // nn.Linear module forward there
inline constexpr double kLinearForwardXeon8480_s = 13.48e-6;    // the same on a DGX H100 (#2053)
inline constexpr double kLinearForwardGraceGB200_s = 37.08e-6;  // the same on a GB200 (#2053)

inline constexpr double kHostLaunchX86_s = kEagerLayerLaunchProbedHost_s * kLinearForwardXeon8480_s / kLinearForwardProbedHost_s;
inline constexpr double kHostLaunchGrace_s =
    kEagerLayerLaunchProbedHost_s * kLinearForwardGraceGB200_s / kLinearForwardProbedHost_s;

// The band of the time per launch: how far the measured cost moved (the two probes' per-kernel
// medians 41.4 and 44.5 us, a probe's fastest call 8 % under its median: +-8 %) and how far the
// carry to another host could (which call #2053's figure matches: the module, 20.9 us here, or
// the functional call, 18.1 us, 15 % apart: +-7.5 %), in quadrature: +-11 %.
inline constexpr double kHostLaunchMeasuredRelative = 0.11;

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

}  // namespace hcpsim::rules

// How fast the host can issue kernels: when a layer's kernels are shorter on the GPU, on average,
// than the CPU time the framework spends to launch one, the step is bound by the host, which
// hcpsim does not simulate (its GPU timeline then runs ahead of what the CPU could feed it). One
// definition for the run's warning (run/simulate.cpp) and its test.
//
// TransformerEngine issue #2053 (https://github.com/NVIDIA/TransformerEngine/issues/2053, 2025-08,
// BF16, hidden 2048, 8192 tokens): PyTorch's nn.Linear forward, one GEMM kernel, costs 13.48 us of
// CPU a call on a DGX H100's Xeon 8480C, 33.17 us on GH200's Grace and 37.08 us on GB200's Grace;
// Transformer Engine's Linear cost 90-100 us on Grace at the time (reduced since). A kernel needs
// at least PyTorch's dispatch, so these are lower bounds of the host's time per kernel.
#pragma once

#include <string>

namespace hcpsim::rules {

inline constexpr double kHostLaunchX86_s = 13.48e-6;    // per kernel, Xeon 8480C (DGX H100)
inline constexpr double kHostLaunchGrace_s = 33.17e-6;  // per kernel, Grace (GH200; GB200 37.08)

// The host of a GPU: Grace where the GPU sits in a Grace superchip (the GB200/GB300 presets name
// it "in-GB..."), else an x86 server CPU (DGX H100/H200/B200/B300, HGX).
inline bool grace_host(const std::string& gpu_name) { return gpu_name.find("in-GB") != std::string::npos; }

inline double host_launch_s(const std::string& gpu_name) {
  return grace_host(gpu_name) ? kHostLaunchGrace_s : kHostLaunchX86_s;
}

}  // namespace hcpsim::rules

// Flash attention forward/backward against the CPU references: head dim x mask x GQA ratio
// x the three CP step shapes x sequence lengths (tile multiples and not) x kernel (mma.sync,
// wgmma), plus packed-QKV strides, a custom softmax scale and shapes outside CP (sq != skv,
// causal with sq < skv).
#include <cstdio>

#include "attn_case.h"

namespace hcpsim::test {

GPU_TEST(flash_cp_step_shapes) {
  using kernels::CpStep;
  const int head_dims[] = {64, 128};
  const int gqa[][2] = {{4, 4}, {4, 2}, {6, 1}};
  const int chunks[] = {64, 100, 157};
  const CpStep steps[] = {CpStep::kDiagonal, CpStep::kLower, CpStep::kUpper, CpStep::kFull};
  for (int d : head_dims) {
    for (const auto& g : gqa) {
      for (int c : chunks) {
        for (CpStep s : steps) {
          for (auto impl : {kernels::AttnImpl::kMmaSync, kernels::AttnImpl::kWgmma}) {
            if (impl == kernels::AttnImpl::kWgmma && d != 128) continue;  // wgmma kernels: head dim 128
            AttnCase ac;
            ac.impl = impl;
            ac.batch = 2;
            ac.heads_q = g[0];
            ac.heads_kv = g[1];
            ac.head_dim = d;
            ac.local_q = ac.local_kv = 2 * c;
            ac.use_step = true;
            ac.step = s;
            ac.packed_qkv = g[0] == g[1] && c == 100;
            const int before = ctx.failures;
            run_attn_case(ctx, ac);
            if (ctx.failures != before) std::printf("    in case %s\n", ac.name().c_str());
          }
        }
      }
    }
  }
}

GPU_TEST(flash_general_shapes) {
  struct Shape {
    int sq, skv, hq, hk, d;
    bool causal;
    float softmax_scale;  // 0: default 1/sqrt(d)
  };
  const Shape shapes[] = {{200, 77, 4, 2, 128, false, 0.f},   {77, 200, 4, 2, 128, true, 0.f},
                          {1, 129, 2, 1, 64, false, 0.f},     {129, 1, 2, 1, 64, true, 0.f},
                          {640, 640, 2, 1, 128, true, 0.f},   {513, 700, 3, 3, 64, false, 0.f},
                          {300, 300, 4, 2, 128, true, 0.05f}, {130, 250, 2, 2, 64, false, 0.3f}};
  for (const Shape& s : shapes) {
    for (auto impl : {kernels::AttnImpl::kMmaSync, kernels::AttnImpl::kWgmma}) {
      if (impl == kernels::AttnImpl::kWgmma && s.d != 128) continue;
      AttnCase ac;
      ac.impl = impl;
      ac.batch = 1;
      ac.heads_q = s.hq;
      ac.heads_kv = s.hk;
      ac.head_dim = s.d;
      ac.local_q = ac.seqlen_q = s.sq;
      ac.local_kv = ac.seqlen_kv = s.skv;
      ac.causal = s.causal;
      ac.softmax_scale = s.softmax_scale;
      const int before = ctx.failures;
      run_attn_case(ctx, ac);
      if (ctx.failures != before) std::printf("    in case %s\n", ac.name().c_str());
    }
  }
}

}  // namespace hcpsim::test

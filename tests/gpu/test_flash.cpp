// Flash attention forward/backward against the CPU references: head dim x mask
// x GQA ratio x the three CP step shapes x sequence lengths (tile multiples and
// not), plus packed-QKV strides and shapes outside CP (sq != skv, causal with
// sq < skv).
#include <cstdio>

#include "attn_case.h"

namespace hcpsim::test {

GPU_TEST(flash_cp_step_shapes) {
  using kernels::CpStep;
  const int head_dims[] = {64, 128};
  const int gqa[][2] = {{4, 4}, {4, 2}, {6, 1}};
  const int chunks[] = {64, 100, 157};
  const CpStep steps[] = {CpStep::kDiagonal, CpStep::kLower, CpStep::kUpper,
                          CpStep::kFull};
  for (int d : head_dims) {
    for (const auto &g : gqa) {
      for (int c : chunks) {
        for (CpStep s : steps) {
          for (auto impl :
               {kernels::AttnImpl::kMmaSync, kernels::AttnImpl::kWgmma}) {
            if (impl == kernels::AttnImpl::kWgmma && d != 128)
              continue; // wgmma kernels: head dim 128
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
            if (ctx.failures != before)
              std::printf("    in case %s\n", ac.name().c_str());
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
  };
  const Shape shapes[] = {
      {200, 77, 4, 2, 128, false}, {77, 200, 4, 2, 128, true},
      {1, 129, 2, 1, 64, false},   {129, 1, 2, 1, 64, true},
      {640, 640, 2, 1, 128, true}, {513, 700, 3, 3, 64, false}};
  for (const Shape &s : shapes) {
    for (auto impl : {kernels::AttnImpl::kMmaSync, kernels::AttnImpl::kWgmma}) {
      if (impl == kernels::AttnImpl::kWgmma && s.d != 128)
        continue;
      AttnCase ac;
      ac.impl = impl;
      ac.batch = 1;
      ac.heads_q = s.hq;
      ac.heads_kv = s.hk;
      ac.head_dim = s.d;
      ac.local_q = ac.seqlen_q = s.sq;
      ac.local_kv = ac.seqlen_kv = s.skv;
      ac.causal = s.causal;
      const int before = ctx.failures;
      run_attn_case(ctx, ac);
      if (ctx.failures != before)
        std::printf("    in case %s\n", ac.name().c_str());
    }
  }
}

} // namespace hcpsim::test

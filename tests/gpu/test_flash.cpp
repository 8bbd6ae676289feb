// Flash attention forward/backward against the CPU references: head dim x mask x GQA ratio
// x the three CP step shapes x sequence lengths (tile multiples and not) x kernel (mma.sync,
// wgmma), plus packed-QKV strides, a custom softmax scale and shapes outside CP (sq != skv,
// causal with sq < skv), and the bottom-right causal mask (causal_offset = skv - sq) that
// all_gather CP runs: a Q chunk of c rows against the KV prefix it can see.
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

namespace {

struct GeneralShape {
  int sq, skv, hq, hk, d;
  bool causal;
  float softmax_scale;  // 0: default 1/sqrt(d)
  int causal_offset;    // causal: row i sees keys 0..i + causal_offset
};

// Each shape with every kernel that supports its head dim (wgmma: 128 only).
void run_general_shapes(Context& ctx, const GeneralShape* shapes, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    const GeneralShape& s = shapes[i];
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
      ac.causal_offset = s.causal_offset;
      const int before = ctx.failures;
      run_attn_case(ctx, ac);
      if (ctx.failures != before) std::printf("    in case %s\n", ac.name().c_str());
    }
  }
}

}  // namespace

GPU_TEST(flash_general_shapes) {
  const GeneralShape shapes[] = {{200, 77, 4, 2, 128, false, 0.f, 0},   {77, 200, 4, 2, 128, true, 0.f, 0},
                                 {1, 129, 2, 1, 64, false, 0.f, 0},     {129, 1, 2, 1, 64, true, 0.f, 0},
                                 {640, 640, 2, 1, 128, true, 0.f, 0},   {513, 700, 3, 3, 64, false, 0.f, 0},
                                 {300, 300, 4, 2, 128, true, 0.05f, 0}, {130, 250, 2, 2, 64, false, 0.3f, 0}};
  run_general_shapes(ctx, shapes, sizeof shapes / sizeof shapes[0]);
}

// Bottom-right causal: query row i sees keys 0..i + skv - sq, so the last query row sees every
// key. The CPU reference applies the same rule (cpu_reference.cpp: j > i + causal_offset is
// masked). Shapes: all_gather chunk tiles (c rows against (id+1) c keys, tile multiples and
// not), an offset that is not a multiple of any tile, and offset 0 (top-left) as a control.
GPU_TEST(flash_causal_bottom_right) {
  const GeneralShape shapes[] = {{64, 64, 4, 2, 128, true, 0.f, 0},       {64, 256, 4, 2, 128, true, 0.f, 192},
                                 {100, 400, 4, 1, 128, true, 0.f, 300},   {157, 471, 2, 2, 64, true, 0.f, 314},
                                 {128, 1024, 8, 2, 128, true, 0.f, 896},  {77, 200, 3, 1, 64, true, 0.f, 123},
                                 {200, 333, 4, 4, 128, true, 0.f, 133}};
  run_general_shapes(ctx, shapes, sizeof shapes / sizeof shapes[0]);
}

}  // namespace hcpsim::test

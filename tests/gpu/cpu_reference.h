// CPU references for the attention kernels' GPU tests: double-precision attention forward
// and backward, plus a "naive bf16" variant that rounds every intermediate to bf16 the way a
// straightforward bf16 PyTorch implementation does (its error sets the tolerance).
// Tensors are contiguous bshd ([b, s, h, d]); LSE is [b, h, s].
#pragma once
#include <cstdint>
#include <vector>

namespace hcpsim::test {

float bf16_round(float x);
uint16_t bf16_bits(float x);
float bf16_value(uint16_t bits);

struct Problem {
  int b = 1, sq = 0, skv = 0, hq = 1, hk = 1, d = 64;
  bool causal = false;  // top-left: row i sees columns 0..i
  double scale = 0.0;
  int causal_offset = 0;  // causal: row i sees columns 0..i+causal_offset (skv - sq: bottom-right)
};

enum class Precision { kExact, kBf16Naive };

struct FwdRef {
  std::vector<double> o, lse;
};
struct BwdRef {
  std::vector<double> dq, dk, dv;
};

FwdRef attention_forward(const Problem& p, const std::vector<float>& q, const std::vector<float>& k,
                         const std::vector<float>& v, Precision prec);
BwdRef attention_backward(const Problem& p, const std::vector<float>& q, const std::vector<float>& k,
                          const std::vector<float>& v, const std::vector<float>& d_o, Precision prec);

}  // namespace hcpsim::test

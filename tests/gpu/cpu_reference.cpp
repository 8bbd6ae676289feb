#include "cpu_reference.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <thread>

namespace hcpsim::test {

uint16_t bf16_bits(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return 0x7fc0;  // NaN
  u += 0x7fffu + ((u >> 16) & 1u);                       // round to nearest even
  return static_cast<uint16_t>(u >> 16);
}
float bf16_value(uint16_t bits) {
  const uint32_t u = static_cast<uint32_t>(bits) << 16;
  float x;
  std::memcpy(&x, &u, 4);
  return x;
}
float bf16_round(float x) { return bf16_value(bf16_bits(x)); }

namespace {

// Runs fn(i) for i in [0, n) on up to hardware_concurrency threads.
template <class Fn>
void parallel_for(int n, Fn fn) {
  const int workers = std::max(1, std::min<int>(n, static_cast<int>(std::thread::hardware_concurrency())));
  std::vector<std::thread> pool;
  for (int w = 0; w < workers; ++w) {
    pool.emplace_back([&, w] {
      for (int i = w; i < n; i += workers) fn(i);
    });
  }
  for (auto& t : pool) t.join();
}

double round_if(double x, bool naive) { return naive ? bf16_round(static_cast<float>(x)) : x; }

struct Index {
  const Problem& p;
  size_t q(int b, int i, int h, int c) const { return ((static_cast<size_t>(b) * p.sq + i) * p.hq + h) * p.d + c; }
  size_t kv(int b, int j, int h, int c) const { return ((static_cast<size_t>(b) * p.skv + j) * p.hk + h) * p.d + c; }
};

// probs[i*skv + j] = softmax(scale * q k^T + mask)[i, j] for one (b, h); lse per row.
// Naive: q is scaled and rounded first, scores rounded, probabilities rounded (bf16 torch).
void probabilities(const Problem& p, const std::vector<float>& q, const std::vector<float>& k, int b, int h,
                   bool naive, std::vector<double>& probs, std::vector<double>& lse) {
  const Index ix{p};
  const int hk = h / (p.hq / p.hk);
  probs.assign(static_cast<size_t>(p.sq) * p.skv, 0.0);
  lse.assign(p.sq, -std::numeric_limits<double>::infinity());
  std::vector<double> s(p.skv);
  for (int i = 0; i < p.sq; ++i) {
    double mx = -std::numeric_limits<double>::infinity();
    for (int j = 0; j < p.skv; ++j) {
      if (p.causal && j > i + p.causal_offset) {
        s[j] = -std::numeric_limits<double>::infinity();
        continue;
      }
      double acc = 0.0;
      for (int c = 0; c < p.d; ++c) {
        const double qv = naive ? bf16_round(static_cast<float>(q[ix.q(b, i, h, c)] * p.scale)) : q[ix.q(b, i, h, c)];
        acc += qv * k[ix.kv(b, j, hk, c)];
      }
      s[j] = naive ? round_if(acc, true) : acc * p.scale;
      mx = std::max(mx, s[j]);
    }
    if (mx == -std::numeric_limits<double>::infinity()) continue;
    double sum = 0.0;
    for (int j = 0; j < p.skv; ++j) sum += std::exp(s[j] - mx);
    lse[i] = mx + std::log(sum);
    for (int j = 0; j < p.skv; ++j) {
      probs[static_cast<size_t>(i) * p.skv + j] = round_if(std::exp(s[j] - mx) / sum, naive);
    }
  }
}

}  // namespace

FwdRef attention_forward(const Problem& p, const std::vector<float>& q, const std::vector<float>& k,
                         const std::vector<float>& v, Precision prec) {
  const bool naive = prec == Precision::kBf16Naive;
  const Index ix{p};
  FwdRef r;
  r.o.assign(static_cast<size_t>(p.b) * p.sq * p.hq * p.d, 0.0);
  r.lse.assign(static_cast<size_t>(p.b) * p.hq * p.sq, 0.0);
  parallel_for(p.b * p.hq, [&](int bh) {
    const int b = bh / p.hq, h = bh % p.hq, hk = h / (p.hq / p.hk);
    std::vector<double> probs, lse;
    probabilities(p, q, k, b, h, naive, probs, lse);
    for (int i = 0; i < p.sq; ++i) {
      r.lse[(static_cast<size_t>(b) * p.hq + h) * p.sq + i] = lse[i];
      for (int c = 0; c < p.d; ++c) {
        double acc = 0.0;
        for (int j = 0; j < p.skv; ++j) acc += probs[static_cast<size_t>(i) * p.skv + j] * v[ix.kv(b, j, hk, c)];
        r.o[ix.q(b, i, h, c)] = round_if(acc, naive);
      }
    }
  });
  return r;
}

BwdRef attention_backward(const Problem& p, const std::vector<float>& q, const std::vector<float>& k,
                          const std::vector<float>& v, const std::vector<float>& d_o, Precision prec) {
  const bool naive = prec == Precision::kBf16Naive;
  const Index ix{p};
  const int group = p.hq / p.hk;
  BwdRef r;
  r.dq.assign(q.size(), 0.0);
  r.dk.assign(k.size(), 0.0);
  r.dv.assign(v.size(), 0.0);
  // One task per (b, KV head): it owns that head's dK/dV and its group's dQ.
  parallel_for(p.b * p.hk, [&](int bk) {
    const int b = bk / p.hk, hk = bk % p.hk;
    std::vector<double> probs, lse, dp(static_cast<size_t>(p.skv));
    std::vector<double> dk(static_cast<size_t>(p.skv) * p.d, 0.0), dv(static_cast<size_t>(p.skv) * p.d, 0.0);
    for (int h = hk * group; h < (hk + 1) * group; ++h) {
      probabilities(p, q, k, b, h, naive, probs, lse);
      for (int i = 0; i < p.sq; ++i) {
        const double* pr = &probs[static_cast<size_t>(i) * p.skv];
        // dp = dO v^T;  ds = P * (dp - (P * dp).sum())
        double dsum = 0.0;
        for (int j = 0; j < p.skv; ++j) {
          double acc = 0.0;
          for (int c = 0; c < p.d; ++c) acc += static_cast<double>(d_o[ix.q(b, i, h, c)]) * v[ix.kv(b, j, hk, c)];
          dp[j] = round_if(acc, naive);
          dsum += pr[j] * dp[j];
        }
        for (int j = 0; j < p.skv; ++j) {
          if (pr[j] == 0.0) continue;
          const double ds = round_if(pr[j] * (dp[j] - dsum), naive);
          for (int c = 0; c < p.d; ++c) {
            r.dq[ix.q(b, i, h, c)] += ds * k[ix.kv(b, j, hk, c)];
            dk[static_cast<size_t>(j) * p.d + c] += ds * q[ix.q(b, i, h, c)];
            dv[static_cast<size_t>(j) * p.d + c] += pr[j] * d_o[ix.q(b, i, h, c)];
          }
        }
        for (int c = 0; c < p.d; ++c) r.dq[ix.q(b, i, h, c)] = round_if(r.dq[ix.q(b, i, h, c)] * p.scale, naive);
      }
    }
    for (int j = 0; j < p.skv; ++j) {
      for (int c = 0; c < p.d; ++c) {
        r.dk[ix.kv(b, j, hk, c)] = round_if(dk[static_cast<size_t>(j) * p.d + c] * p.scale, naive);
        r.dv[ix.kv(b, j, hk, c)] = round_if(dv[static_cast<size_t>(j) * p.d + c], naive);
      }
    }
  });
  return r;
}

}  // namespace hcpsim::test

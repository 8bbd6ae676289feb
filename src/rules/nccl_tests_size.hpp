// nccl-tests' size notation for -b / -e: a whole number of bytes with an optional K, M or G
// suffix (powers of 1024, either case). One reader for hcpcal's nccl suite and `hcpsim
// collective`. Plain C++17: nvcc compiles it for hcpcal.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>

namespace hcpsim {

// The bytes `text` names, or nullopt when it is not a positive size in that notation.
inline std::optional<int64_t> parse_nccl_tests_size(const std::string& text) {
  if (text.empty()) return std::nullopt;
  int64_t mult = 1;
  std::string digits = text;
  switch (text.back()) {
    case 'K': case 'k': mult = int64_t{1} << 10; digits.pop_back(); break;
    case 'M': case 'm': mult = int64_t{1} << 20; digits.pop_back(); break;
    case 'G': case 'g': mult = int64_t{1} << 30; digits.pop_back(); break;
    default: break;
  }
  if (digits.empty() || digits.size() > 12) return std::nullopt;
  int64_t v = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  if (v < 1 || v > std::numeric_limits<int64_t>::max() / mult) return std::nullopt;  // none, or beyond 64 bits
  return v * mult;
}

}  // namespace hcpsim

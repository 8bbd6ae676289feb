// printf-style formatting into a std::string, for report lines.
#pragma once

#include <cstdio>
#include <string>

namespace hcpsim {

template <class... Args>
std::string strprintf(const char* format, Args... args) {
  const int n = std::snprintf(nullptr, 0, format, args...);
  std::string s(n > 0 ? static_cast<size_t>(n) : 0, '\0');
  if (n > 0) std::snprintf(s.data(), s.size() + 1, format, args...);
  return s;
}

}  // namespace hcpsim

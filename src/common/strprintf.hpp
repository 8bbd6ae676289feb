// printf-style formatting into a std::string, and padding to a column, for report lines.
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

// `s` with spaces after it (pad_right) or before it (pad_left) up to `width`; unchanged when longer.
inline std::string pad_right(std::string s, size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}
inline std::string pad_left(const std::string& s, size_t width) {
  return s.size() >= width ? s : std::string(width - s.size(), ' ') + s;
}

}  // namespace hcpsim

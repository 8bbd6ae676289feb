#include "compare/figures.hpp"

#include <cmath>

#include "common/strprintf.hpp"

namespace hcpsim {

namespace {

struct Unit {
  double seconds;
  const char* number;  // the value's format in this unit
  const char* name;
};

// The unit a duration is said in: days from two days, hours from one, minutes from one, seconds.
Unit unit_of(double seconds) {
  if (seconds >= 2 * 86400) return {86400, "%.1f", " days"};
  if (seconds >= 3600) return {3600, "%.1f", " hours"};
  if (seconds >= 60) return {60, "%.1f", " minutes"};
  return {1, "%.0f", " s"};
}

}  // namespace

std::string duration_words(double seconds) {
  const Unit u = unit_of(seconds);
  return strprintf(u.number, seconds / u.seconds) + u.name;
}

std::string duration_band_words(double low_s, double high_s) {
  const Unit u = unit_of(high_s);
  return strprintf(u.number, low_s / u.seconds) + " to " + strprintf(u.number, high_s / u.seconds) + u.name;
}

std::string token_count_words(double tokens) {
  static const struct {
    double scale;
    const char* suffix;
  } kUnits[] = {{1e12, "T"}, {1e9, "B"}, {1e6, "M"}, {1e3, "K"}};
  for (const auto& u : kUnits)
    if (tokens >= u.scale) {
      const double v = tokens / u.scale;
      return (v >= 1000 ? strprintf("%.0f", v) : strprintf("%.3g", v)) + u.suffix;
    }
  return strprintf("%.0f", tokens);
}

std::string amount_words(double v, bool separators) {
  if (std::abs(v) < 100) return strprintf("%.3g", v);
  std::string s = strprintf("%.0f", v);
  for (int i = static_cast<int>(s.size()) - 3; separators && i > (s[0] == '-' ? 1 : 0); i -= 3) s.insert(i, ",");
  return s;
}

}  // namespace hcpsim

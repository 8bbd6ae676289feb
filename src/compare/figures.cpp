#include "compare/figures.hpp"

#include <algorithm>
#include <cmath>
#include <string>

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
  return {1, "%.3g", " s"};
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
  // The unit by the count as written, three digits: 999.9e9 is 1.00e12, "1T", not "1e+03B".
  const double shown = std::stod(strprintf("%.3g", tokens));
  for (const auto& u : kUnits)
    if (shown >= u.scale) {
      const double v = shown / u.scale;
      return (v >= 1000 ? strprintf("%.0f", v) : strprintf("%.3g", v)) + u.suffix;
    }
  return strprintf("%.0f", tokens);
}

std::string amount_words(double v, bool separators) {
  // Below 100, three significant digits in decimals, never an exponent: 3.34e-05 is "0.0000334".
  if (v == 0) return "0";
  if (std::abs(v) < 100)
    return strprintf("%.*f", std::max(0, 2 - static_cast<int>(std::floor(std::log10(std::abs(v))))), v);
  std::string s = strprintf("%.0f", v);
  for (int i = static_cast<int>(s.size()) - 3; separators && i > (s[0] == '-' ? 1 : 0); i -= 3) s.insert(i, ",");
  return s;
}

}  // namespace hcpsim

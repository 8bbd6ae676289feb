#pragma once
// SI prefixes, for the unit conversions of user input and presets (GB/s, TFLOP/s, us).

namespace hcpsim {

inline constexpr double kKilo = 1e3;
inline constexpr double kGiga = 1e9;
inline constexpr double kTera = 1e12;
inline constexpr double kMicro = 1e-6;

}  // namespace hcpsim

// A study's figures in words, for its text, its recommendation and its HTML report: one way to write
// a duration, a token count and an amount, whatever the job's size.
#pragma once

#include <string>

namespace hcpsim {

// "12.4 days" from two days on, "5.3 hours" from an hour, "42.0 minutes", "9.4 s" below.
std::string duration_words(double seconds);
// The same for a band, both ends in the high end's unit: "11.5 to 13.3 days".
std::string duration_band_words(double low_s, double high_s);
// 1.5e13 -> "15T", 1e11 -> "100B", 5.24e5 -> "524K", 800 -> "800": three significant digits.
std::string token_count_words(double tokens);
// An amount (GPU-hours, cost, MWh) at the precision it has: from 100 whole, with thousands
// separators in a sentence ("213,788") and none in a table's column ("213788"); below, three
// significant digits in decimals ("42.8", "0.0534", "0.0000334"), so that a small job's figures
// do not read 0 and a column holds no exponent.
std::string amount_words(double v, bool separators = true);

}  // namespace hcpsim

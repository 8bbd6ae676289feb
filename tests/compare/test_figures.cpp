// A study's figures in words (compare/figures): the strings written out by hand.
#include <catch2/catch.hpp>

#include "compare/figures.hpp"

using namespace hcpsim;

TEST_CASE("figures: a duration in the unit of its size", "[compare]") {
  CHECK(duration_words(1071360) == "12.4 days");           // 12.4 x 86400
  CHECK(duration_words(2 * 86400 - 1) == "48.0 hours");    // below two days: hours
  CHECK(duration_words(19080) == "5.3 hours");
  CHECK(duration_words(2520) == "42.0 minutes");           // a one-step job's time read "0.7 hours"
  CHECK(duration_words(9.4) == "9.4 s");
  CHECK(duration_words(0.4213) == "0.421 s");              // a sub-second job read "0 s"
  CHECK(duration_band_words(993600, 1149120) == "11.5 to 13.3 days");
  CHECK(duration_band_words(3000, 3500) == "50.0 to 58.3 minutes");
  CHECK(duration_band_words(3000, 4000) == "0.8 to 1.1 hours");  // both ends in the high end's unit
}

TEST_CASE("figures: a token count with its suffix, three digits", "[compare]") {
  CHECK(token_count_words(1e11) == "100B");
  CHECK(token_count_words(1.5e13) == "15T");      // Llama 3's 15T read "1.5e+04B"
  CHECK(token_count_words(1e16) == "10000T");
  CHECK(token_count_words(524288) == "524K");      // one 16 x 32768 batch read "0.000524B"
  CHECK(token_count_words(262144) == "262K");
  CHECK(token_count_words(800) == "800");
  CHECK(token_count_words(999.9e9) == "1T");      // three digits first, then the unit: not "1e+03B"
  CHECK(token_count_words(999.4e9) == "999B");
}

TEST_CASE("figures: an amount at the precision it has", "[compare]") {
  CHECK(amount_words(213788.4) == "213,788");
  CHECK(amount_words(213788.4, false) == "213788");
  CHECK(amount_words(1234567) == "1,234,567");
  CHECK(amount_words(100) == "100");
  CHECK(amount_words(78.39) == "78.4");
  CHECK(amount_words(0.05342) == "0.0534");       // a one-step job's MWh read "0"
  CHECK(amount_words(0) == "0");
  CHECK(amount_words(3.34e-5) == "0.0000334");    // never an exponent in a table's column
  CHECK(amount_words(74) == "74.0");
  CHECK(amount_words(-0.5) == "-0.500");
}

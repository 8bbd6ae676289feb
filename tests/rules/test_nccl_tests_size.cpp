// nccl-tests' size arguments (-b, -e): a whole number of bytes with an optional K, M or G (x1024).
// A size beyond 64 bits is no size (99999999999G overflowed into a small one, so -e read as below
// -b); the largest that fits, (2^33 - 1) G = 2^63 - 2^30, is one.
#include <catch2/catch.hpp>

#include "rules/nccl_tests_size.hpp"

using namespace hcpsim;

TEST_CASE("nccl-tests sizes: units, and nothing beyond 64 bits", "[rules][collective]") {
  CHECK(parse_nccl_tests_size("1") == 1);
  CHECK(parse_nccl_tests_size("1K") == 1024);
  CHECK(parse_nccl_tests_size("8M") == 8 * 1048576);
  CHECK(parse_nccl_tests_size("2g") == 2 * 1073741824LL);
  CHECK(parse_nccl_tests_size("8589934591G") == std::numeric_limits<int64_t>::max() - ((int64_t{1} << 30) - 1));
  CHECK_FALSE(parse_nccl_tests_size("8589934592G"));  // 2^33 G = 2^63: one beyond
  CHECK_FALSE(parse_nccl_tests_size("99999999999G"));
  for (const char* bad : {"", "0", "K", "1.5M", "-1", "1T", " 1"}) {
    INFO(bad);
    CHECK_FALSE(parse_nccl_tests_size(bad));
  }
}

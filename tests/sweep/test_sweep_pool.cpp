// The sweep's process pool: every job runs in its own child and is reported
// once; errors and crashes come back as failures; a stop request halts it.
#include <catch2/catch.hpp>
#include <csignal>
#include <map>
#include <stdexcept>
#include <unistd.h>

#include "sweep/pool.hpp"

using namespace hcpsim;

TEST_CASE("sweep pool: each job once, in a child, results to the parent", "[sweep]") {
  const pid_t parent = ::getpid();
  std::map<size_t, PoolOutcome> got;
  volatile std::sig_atomic_t stop = 0;
  const size_t n = run_pool(
      7, 3,
      [&](size_t i) -> std::string {
        if (::getpid() == parent) return "ran in the parent";
        if (i == 5) throw std::runtime_error("job 5 failed");
        if (i == 6) std::raise(SIGKILL);
        return std::string(100000 + i, 'a' + static_cast<char>(i));  // larger than a pipe buffer
      },
      [&](size_t i, const PoolOutcome& o) { CHECK(got.emplace(i, o).second); }, &stop);
  CHECK(n == 7);
  REQUIRE(got.size() == 7);
  for (size_t i = 0; i < 5; ++i) {
    CHECK(got[i].ok);
    CHECK(got[i].text == std::string(100000 + i, 'a' + static_cast<char>(i)));
  }
  CHECK_FALSE(got[5].ok);
  CHECK(got[5].text == "job 5 failed");
  CHECK_FALSE(got[6].ok);
  CHECK_THAT(got[6].text, Catch::Contains("killed by signal"));
}

TEST_CASE("sweep pool: a stop request starts no further job", "[sweep]") {
  volatile std::sig_atomic_t stop = 0;
  size_t reported = 0;
  run_pool(
      10, 1, [](size_t) { return std::string("x"); },
      [&](size_t, const PoolOutcome&) {
        ++reported;
        if (reported == 2) stop = 1;
      },
      &stop);
  CHECK(reported == 2);
}

// Jobs in child processes: every job runs in its own child and is reported once; input
// errors come back as input errors with their diagnostics, other errors and crashes as
// failures; a stop request halts the pool.
#include <catch2/catch.hpp>
#include <csignal>
#include <map>
#include <new>
#include <stdexcept>
#include <unistd.h>

#include "common/child_process.hpp"

using namespace hcpsim;

TEST_CASE("child pool: each job once, in a child, results to the parent", "[common]") {
  const pid_t parent = ::getpid();
  std::map<size_t, ChildOutcome> got;
  volatile std::sig_atomic_t stop = 0;
  const size_t n = run_pool(
      7, 3,
      [&](size_t i) -> std::string {
        if (::getpid() == parent) return "ran in the parent";
        if (i == 5) throw std::runtime_error("job 5 failed");
        if (i == 4) throw InputError({{"calibration", "cannot open \"x.json\"", "file must be readable", "check the path"}});
        if (i == 6) std::raise(SIGKILL);
        return std::string(100000 + i, 'a' + static_cast<char>(i));  // larger than a pipe buffer
      },
      [&](size_t i, const ChildOutcome& o) { CHECK(got.emplace(i, o).second); }, &stop);
  CHECK(n == 7);
  REQUIRE(got.size() == 7);
  for (size_t i = 0; i < 4; ++i) {
    CHECK(got[i].ok());
    CHECK(got[i].text == std::string(100000 + i, 'a' + static_cast<char>(i)));
  }
  CHECK(got[4].status == ChildOutcome::Status::InputError);
  REQUIRE(got[4].diagnostics.size() == 1);
  CHECK(got[4].diagnostics[0] == Diagnostic{"calibration", "cannot open \"x.json\"", "file must be readable", "check the path"});
  CHECK(got[5].status == ChildOutcome::Status::Failed);
  CHECK(got[5].text == "job 5 failed");
  CHECK(got[6].status == ChildOutcome::Status::Failed);
  CHECK_THAT(got[6].text, Catch::Contains("killed by signal"));
}

TEST_CASE("child pool: a stop request starts no further job", "[common]") {
  volatile std::sig_atomic_t stop = 0;
  size_t reported = 0;
  run_pool(
      10, 1, [](size_t) { return std::string("x"); },
      [&](size_t, const ChildOutcome&) {
        ++reported;
        if (reported == 2) stop = 1;
      },
      &stop);
  CHECK(reported == 2);
}

TEST_CASE("one child: an input error is thrown again as an input error", "[common]") {
  CHECK(result_of_child([] { return std::string("fine"); }) == "fine");
  try {
    result_of_child([]() -> std::string { throw InputError({{"a.b", "what", "rule", "fix"}}); });
    FAIL("no exception");
  } catch (const InputError& e) {
    REQUIRE(e.diagnostics().size() == 1);
    CHECK(e.diagnostics()[0].path == "a.b");
  }
  CHECK_THROWS_AS(result_of_child([]() -> std::string { throw std::logic_error("internal"); }), std::runtime_error);
  // A child out of memory comes back as that (the command says so), not as an internal error.
  CHECK_THROWS_AS(result_of_child([]() -> std::string { throw std::bad_alloc(); }), std::bad_alloc);
  const ChildOutcome o = run_in_child([]() -> std::string { throw std::bad_alloc(); });
  CHECK(o.status == ChildOutcome::Status::Failed);
  CHECK(o.text == kChildOutOfMemory);
}

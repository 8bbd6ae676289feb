// One named component of a memory estimate's breakdown, in a test (fails the test if absent).
#pragma once

#include <catch2/catch.hpp>
#include <string>

#include "memory/estimate.hpp"

namespace hcpsim::test {

inline double component(const MemoryEstimate& e, const std::string& name) {
  for (const MemoryComponent& c : e.breakdown)
    if (c.name == name) return c.bytes;
  FAIL("no component " << name);
  return 0;
}

}  // namespace hcpsim::test

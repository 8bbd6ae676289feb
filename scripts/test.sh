#!/usr/bin/env bash
# README command 2 (and .ci/run): install dependencies, build, run every test:
#  1. the Release build under ctest (CPU tests; GPU tests skip without a GPU),
#  2. the tests again under AddressSanitizer + UBSan, but for those that run whole sweeps
#     (label sweep-scale, tests/CMakeLists.txt) and the SimGrid-engine unit tests,
#  3. a bounded libFuzzer run over the scenario parser and validator.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
JOBS="$(nproc)"

echo "# [1/3] release build + ctest"
scripts/build.sh
ctest --test-dir build --output-on-failure -j "$JOBS"

echo "# [2/3] AddressSanitizer + UBSan build + ctest (all but SimGrid-engine tests and whole sweeps)"
HCPSIM_BUILD_DIR=build-asan scripts/build.sh -DCMAKE_BUILD_TYPE=Debug -DHCPSIM_SANITIZE=ON -DHCPSIM_CUDA=OFF
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j "$JOBS" --label-exclude sweep-scale

echo "# [3/3] bounded fuzz run of the scenario parser and validator"
scripts/fuzz.sh "${HCPSIM_FUZZ_SECONDS:-60}"

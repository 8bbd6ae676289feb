#!/usr/bin/env bash
# Bounded libFuzzer run over the scenario parser and validator.
# Usage: scripts/fuzz.sh [SECONDS]   (default 60). Crashes are saved under build-fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TO_RUN="${1:-60}"
if ! command -v clang++ >/dev/null; then
  echo "# fuzz: clang++ not found (scripts/install-deps.sh installs it) - skipping" >&2
  exit 0
fi
GEN=()
command -v ninja >/dev/null && GEN=(-G Ninja)
[ -f build-fuzz/CMakeCache.txt ] || cmake -S tests/fuzz -B build-fuzz "${GEN[@]}" -DCMAKE_CXX_COMPILER=clang++ >/dev/null
cmake --build build-fuzz -j "$(nproc)" >/dev/null
mkdir -p build-fuzz/corpus build-fuzz/artifacts
cp scenarios/*.json build-fuzz/corpus/ 2>/dev/null || true
cp tests/fuzz/seeds/*.json build-fuzz/corpus/ 2>/dev/null || true
echo "# fuzz: ${SECONDS_TO_RUN} s of libFuzzer on the scenario parser + validator"
build-fuzz/fuzz_scenario build-fuzz/corpus -dict=tests/fuzz/scenario.dict -max_total_time="$SECONDS_TO_RUN" \
  -max_len=8192 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=build-fuzz/artifacts/ \
  2> build-fuzz/fuzz.log || { tail -60 build-fuzz/fuzz.log; echo "# fuzz: FAILED (see build-fuzz/fuzz.log)"; exit 1; }
grep -E "^stat::number_of_executed_units|^#[0-9]+.*DONE" build-fuzz/fuzz.log | tail -2 || true
echo "# fuzz: no crash, leak or sanitizer report"

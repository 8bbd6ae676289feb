#!/usr/bin/env bash
# Benchmark: `hcpsim sweep` over the whole default space of the seed cluster
# (Llama-3.1-8B, 128K, 4 x DGX-H100 = 32 GPUs), every simulation in its own
# process on all cores. Fails when it takes longer than HCPSIM_SWEEP_MAX_S
# (default 30 s, the issue's bound for a 2-core machine).
# Usage: bench/bench_sweep.sh [BUILD_DIR]      (default build)
set -u
SRC="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${1:-$SRC/build}"
BIN="$BUILD/hcpsim"
MAX_S="${HCPSIM_SWEEP_MAX_S:-30}"
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
[ -x "$BIN" ] || { echo "bench_sweep: no $BIN (build first)"; exit 1; }

echo "# host: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# command: hcpsim sweep scenarios/seed-a-hcp.json -j $(nproc) --state \$TMP/state -o \$TMP/table.txt"
start=$(date +%s.%N)
"$BIN" sweep "$SRC/scenarios/seed-a-hcp.json" -j "$(nproc)" --state "$TMP/state" -o "$TMP/table.txt" 2>"$TMP/err" \
  || { cat "$TMP/err"; echo "bench_sweep: sweep failed"; exit 1; }
end=$(date +%s.%N)
wall=$(echo "$end - $start" | bc)
sims=$(wc -l <"$TMP/state/results.jsonl")
cands=$(grep -m1 -o '^[0-9]* candidates: [0-9]* simulated, [0-9]* rejected by validation' "$TMP/table.txt")
sim_s=$(python3 -c "
import json
print(round(sum(json.loads(l)['result']['simulated']['wall_s'] for l in open('$TMP/state/results.jsonl')), 2))")
echo "# $cands"
printf "%-24s %8s\n" "simulations" "$sims"
printf "%-24s %8.2f s\n" "wall time" "$wall"
printf "%-24s %8.2f s\n" "sum of SimGrid wall_s" "$sim_s"
printf "%-24s %8.2f s\n" "limit" "$MAX_S"
sed -n '/^Recommendation:/,$p' "$TMP/table.txt"
if (( $(echo "$wall > $MAX_S" | bc) )); then echo "bench_sweep: FAILED: ${wall} s > ${MAX_S} s"; exit 1; fi
echo "bench_sweep: OK"

#!/usr/bin/env bash
# bench/cudnn-sdpa/run.py compares hcpsim's cuDNN attention with NVIDIA's own cuDNN SDPA benchmark
# case by case; its committed output (bench/cudnn-sdpa/results.txt, docs/cost-model.md "the
# roofline") must be what the built binary gives now: a change to the cost model that moves these
# predictions fails here until the results and the docs' numbers are regenerated with the command.
set -u
BIN="$1"; SRC="$2"; TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
command -v python3 >/dev/null || { echo "SKIP: python3 not found"; exit 77; }
python3 "$SRC/bench/cudnn-sdpa/run.py" "$BIN" > "$TMP/results.txt" || { echo "FAIL: run.py exit $?"; exit 1; }
[ "$(grep -c '^h200 \|^gb200 \|^gb300 ' "$TMP/results.txt")" -eq 36 ] || { echo "FAIL: 30 cases and 6 summaries expected"; cat "$TMP/results.txt"; exit 1; }
diff -u "$SRC/bench/cudnn-sdpa/results.txt" "$TMP/results.txt" || {
  echo "FAIL: bench/cudnn-sdpa/results.txt is stale: run bench/cudnn-sdpa/run.py > bench/cudnn-sdpa/results.txt"; exit 1; }
echo "cudnn sdpa bench: ok"

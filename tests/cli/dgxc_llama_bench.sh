#!/usr/bin/env bash
# bench/dgxc-llama/run.py times NVIDIA's published BF16 Llama 3.1 training steps (DGX H100, DGX GB200)
# with hcpsim; its committed output (bench/dgxc-llama/results.txt, quoted in its README, the project
# README and docs/cost-model.md) must be what the built binary gives now: a change anywhere in the
# step's model that moves these predictions fails here until the results and the docs' numbers are
# regenerated with the command.
set -u
BIN="$1"; SRC="$2"; TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
command -v python3 >/dev/null || { echo "SKIP: python3 not found"; exit 77; }
python3 "$SRC/bench/dgxc-llama/run.py" "$BIN" > "$TMP/results.txt" || { echo "FAIL: run.py exit $?"; exit 1; }
[ "$(grep -c '^Llama3.1 ' "$TMP/results.txt")" -eq 18 ] || { echo "FAIL: 18 published rows expected"; cat "$TMP/results.txt"; exit 1; }
[ "$(grep -c '^summary ' "$TMP/results.txt")" -eq 2 ] || { echo "FAIL: 2 summaries expected"; cat "$TMP/results.txt"; exit 1; }
diff -u "$SRC/bench/dgxc-llama/results.txt" "$TMP/results.txt" || {
  echo "FAIL: bench/dgxc-llama/results.txt is stale: run bench/dgxc-llama/run.py > bench/dgxc-llama/results.txt"; exit 1; }
echo "dgxc llama bench: ok"

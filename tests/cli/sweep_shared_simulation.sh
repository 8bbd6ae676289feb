#!/usr/bin/env bash
# The sweep simulates a layout's full recompute candidates (every layer on its own, by block) in
# one child: the layer once, each step composed from it (simulate_scenarios). Each such row must
# be exactly what the candidate's own document gives when run alone, in its own process.
# Usage: sweep_shared_simulation.sh HCPSIM_BINARY SOURCE_DIR
set -u
BIN="$(realpath "$1")"; SRC="$2"; TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
SEED="$SRC/scenarios/seed-a-hcp.json"

# TP 1, CP 8 p2p: it fits only with recompute, so the sweep lists full and the fewest layers by block.
"$BIN" sweep "$SEED" --tp 1 --cp 8 --comm p2p --pp 1 --micro-batch 1 --state "$TMP/state" --format json --reproducible \
  -o "$TMP/sweep.json" 2>"$TMP/err" || { cat "$TMP/err"; fail "sweep: exit $?"; }
python3 - "$TMP" <<'PY' || fail "no full and block candidates to compare"
import json, sys
tmp = sys.argv[1]
rows = [r for r in json.load(open(f"{tmp}/sweep.json"))["candidates"] if r["status"] == "ok"]
keys = [r["key"] for r in rows]
assert any(k.endswith("-full") for k in keys) and any("-block" in k for k in keys), keys
for r in rows:
    json.dump(r["input"], open(f"{tmp}/{r['key']}.input.json", "w"))
PY
for f in "$TMP"/*.input.json; do
  (cd "$SRC/scenarios" && "$BIN" "$f" --format json --reproducible -o "${f%.input.json}.alone.json") ||
    fail "alone: $(basename "$f")"
done
python3 - "$TMP" <<'PY' || fail "a shared simulation's row differs from its candidate run alone"
import json, sys, glob
tmp = sys.argv[1]
rows = {r["key"]: r for r in json.load(open(f"{tmp}/sweep.json"))["candidates"] if r["status"] == "ok"}
def strip(res):
    res = dict(res); res.pop("name", None); res["scenario"] = dict(res["scenario"]); res["scenario"].pop("name", None)
    return res
for key, row in rows.items():
    alone = json.load(open(f"{tmp}/{key}.alone.json"))
    a, b = strip(row["result"]), strip(alone)
    assert a.keys() == b.keys(), key
    for section in a:
        assert a[section] == b[section], f"{key}: {section} differs"
    print(f"{key}: step {a['step']['time_s']:.6f} s, as run alone")
PY
echo "sweep_shared_simulation: ok"

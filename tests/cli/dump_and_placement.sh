#!/usr/bin/env bash
# --dump-workload and --show-placement on the seed's option A.
set -u
BIN="$1"; SRC="$2"; TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
A="$SRC/scenarios/seed-a-hcp.json"

"$BIN" --show-placement "$A" >"$TMP/p" || fail "placement exit $?"
grep -q "HCP a2a groups (8 ranks): {0..7} {8..15}" "$TMP/p" || { cat "$TMP/p"; fail "a2a groups inside nodes"; }
grep -q "HCP ring groups (2 ranks): {0,8} {1,9}" "$TMP/p" || fail "ring pairs across nodes"

"$BIN" --dump-workload "$A" --ranks 0 8 >"$TMP/d" || fail "dump exit $?"
grep -q "## rank 8 layer" "$TMP/d" || fail "rank 8 listed"
# Rank 0 of the outer ring of 2: step 0 diagonal, step 1 upper (KV from the higher rank).
grep -q "attn.fwd.step0.diag" "$TMP/d" || fail "diagonal step"
grep -q "attn.fwd.step1.upper" "$TMP/d" || fail "upper step on rank 0"
"$BIN" --dump-workload "$A" --ranks 99 2>"$TMP/e"; rc=$?
[ $rc -eq 2 ] || fail "bad rank: exit $rc"
"$BIN" --dump-workload "$A" --format json -o "$TMP/w.json" || fail "json dump"
grep -q '"ops"' "$TMP/w.json" || fail "json has ops"
echo "dump_and_placement: ok"

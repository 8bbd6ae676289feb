#!/usr/bin/env bash
# `--shard i/N` slices a sweep and `hcpsim merge` joins the slices into the
# very table (and rows) a single run gives; a missing slice is said, and
# slices of different sweeps are refused.
# Usage: sweep_shards.sh HCPSIM_BINARY SOURCE_DIR
set -u
BIN="$1"; SRC="$2"; TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
SEED="$SRC/scenarios/seed-a-hcp.json"
SPACE=(--tp 1,2 --cp 4,16 --comm p2p,a2a,a2a+p2p --pp 1 --reproducible)

"$BIN" sweep "$SEED" "${SPACE[@]}" --state "$TMP/one" -o "$TMP/one.txt" 2>/dev/null || fail "single sweep"
"$BIN" sweep "$SEED" "${SPACE[@]}" --state "$TMP/one" --resume --format json -o "$TMP/one.json" 2>/dev/null || fail "single json"
for i in 1 2 3; do
  (cd "$TMP" && "$BIN" sweep "$SEED" "${SPACE[@]}" --shard $i/3 --format json -o "$TMP/shard$i.json" 2>/dev/null) \
    || fail "shard $i/3"
  [ -d "$TMP/seed-a-hcp.sweep-${i}of3" ] || fail "shard $i: default state folder"
done
"$BIN" merge "$TMP/shard1.json" "$TMP/shard2.json" "$TMP/shard3.json" -o "$TMP/merged.txt" || fail "merge"
diff "$TMP/one.txt" "$TMP/merged.txt" || fail "merged table differs from the single run's"
"$BIN" merge "$TMP/shard3.json" "$TMP/shard1.json" "$TMP/shard2.json" --format json -o "$TMP/merged.json" || fail "merge json"
python3 - "$TMP/one.json" "$TMP/merged.json" <<'PY' || fail "merged rows differ"
import json, sys
one, merged = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert one["candidates"] == merged["candidates"]
assert one["ranking"] == merged["ranking"] and one["recommendation"] == merged["recommendation"]
assert len(merged["shards"]) == 3
PY
"$BIN" merge "$TMP/shard1.json" "$TMP/shard2.json" "$TMP/shard3.json" --report "$TMP/rep" --top 1 -o /dev/null 2>"$TMP/err"
[ -s "$TMP/rep/index.html" ] || grep -q "built without Chart.js" "$TMP/err" || { cat "$TMP/err"; fail "merge --report"; }
"$BIN" merge "$TMP/shard1.json" "$TMP/shard2.json" -o "$TMP/part.txt" 2>"$TMP/err" || fail "partial merge"
grep -q "candidates are in none of the files" "$TMP/err" || fail "missing shard not reported"
grep -q "MISSING (a shard was not merged)" "$TMP/part.txt" || fail "missing shard not in the table"
"$BIN" sweep "$SEED" --tp 2 --cp 4 --comm a2a --state "$TMP/other" --format json -o "$TMP/other.json" 2>/dev/null || fail "other"
"$BIN" merge "$TMP/shard1.json" "$TMP/other.json" 2>"$TMP/err"; rc=$?
[ $rc -eq 2 ] && grep -q "belongs to a different sweep" "$TMP/err" || fail "merging different sweeps: exit $rc"
# A merged file merges again with the other shards (its shards counted as its own), not with one it holds.
"$BIN" merge "$TMP/shard1.json" "$TMP/shard2.json" --format json -o "$TMP/m12.json" 2>/dev/null || fail "merge 1+2"
"$BIN" merge "$TMP/m12.json" "$TMP/shard3.json" -o "$TMP/m123.txt" 2>/dev/null || fail "merge (1+2)+3"
diff "$TMP/one.txt" "$TMP/m123.txt" || fail "a merge of a merged file differs from the single run's"
"$BIN" merge "$TMP/m12.json" "$TMP/shard2.json" 2>"$TMP/err" >/dev/null; rc=$?
[ $rc -eq 2 ] && grep -q "shard2.json: shard: shard 2/3 is .*m12.json's too" "$TMP/err" || { cat "$TMP/err"; fail "a shard merged twice through a merged file: exit $rc"; }
# A shard's file given twice, a candidate outside the space, a shard beyond the count and a step of
# negative throughput are refused at their path (exit 2), not merged into a ranking.
"$BIN" merge "$TMP/shard1.json" "$TMP/shard1.json" 2>"$TMP/err" >/dev/null; rc=$?
[ $rc -eq 2 ] && grep -q "shard1.json: shard: shard 1/3 is .*shard1.json's too" "$TMP/err" || fail "a shard merged twice: exit $rc"
python3 - "$TMP/shard1.json" "$TMP" <<'PY' || fail "doctoring shards"
import json, sys
d = json.load(open(sys.argv[1]))
def write(name, change):
    x = json.loads(json.dumps(d)); change(x); json.dump(x, open(f"{sys.argv[2]}/{name}.json", "w"))
write("bad_index", lambda x: x["candidates"][0].__setitem__("index", x["candidates_total"]))
write("bad_shard", lambda x: x["shard"].__setitem__("index", 4))
ok = next(c for c in d["candidates"] if c.get("result", {}).get("step"))
write("bad_tokens", lambda x: next(c for c in x["candidates"] if c["key"] == ok["key"])["result"]["step"].__setitem__("tokens_per_s_per_gpu", -100))
PY
for bad in "bad_index:candidates\[0\]\.index: candidate" "bad_shard:shard\.index: shard 4 of a sweep in 3" "bad_tokens:step\.tokens_per_s_per_gpu: value -100"; do
  "$BIN" merge "$TMP/${bad%%:*}.json" "$TMP/shard2.json" 2>"$TMP/err" >/dev/null; rc=$?
  [ $rc -eq 2 ] && grep -q "${bad%%:*}.json: .*${bad#*:}" "$TMP/err" || { cat "$TMP/err"; fail "${bad%%:*}: exit $rc"; }
done
# A shard is digits, a slash, digits: trailing or leading text is refused, not read as 1/2.
for bad in 1/2/3 1/2x +1/2 " 1/2" 1/; do
  "$BIN" sweep "$SEED" --tp 2 --cp 4 --comm a2a --shard "$bad" --state "$TMP/junk" 2>"$TMP/err" >/dev/null; rc=$?
  [ $rc -eq 2 ] && grep -q "^error: --shard: " "$TMP/err" || fail "--shard '$bad': exit $rc"
done
echo "sweep_shards: ok"

#!/usr/bin/env bash
# `hcpsim sweep` on the seed cluster (Llama-3.1-8B, 128K, 4 x DGX-H100): the
# seed options A, B and C are among the candidates with exactly the numbers a
# single run of scenarios/seed-*.json gives; rejected candidates carry their
# rule; the outputs (table, JSON, CSV) hold one row per candidate; bad flags exit 2.
# Usage: sweep_seed.sh HCPSIM_BINARY SOURCE_DIR
set -u
BIN="$1"; SRC="$2"; TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
SEED="$SRC/scenarios/seed-a-hcp.json"

"$BIN" sweep "$SEED" --tp 1,2 --cp 4,16 --recompute none,full --micro-batch 1 --simulate-unfit --state "$TMP/state" \
  --format json --reproducible -o "$TMP/sweep.json" \
  2>"$TMP/err" || { cat "$TMP/err"; fail "sweep: exit $?"; }
for s in seed-a-hcp seed-b-tp2-a2a seed-c-p2p; do
  "$BIN" "$SRC/scenarios/$s.json" --format json --reproducible -o "$TMP/$s.json" || fail "single run $s"
done
python3 - "$TMP" <<'PY' || fail "sweep rows differ from single runs"
import json, sys
tmp = sys.argv[1]
doc = json.load(open(f"{tmp}/sweep.json"))
rows = {r["key"]: r for r in doc["candidates"]}
assert doc["candidates_total"] == len(rows) == len(doc["candidates"]), "one row per candidate"
for r in doc["candidates"]:
    assert r["status"] in ("ok", "rejected", "unfit"), r["key"] + " " + r["status"]
    if r["status"] == "unfit":  # not simulated: its memory estimate exceeds the GPU
        assert r["unfit"]["peak_bytes"] > r["unfit"]["capacity_bytes"], r["key"]
    if r["status"] == "rejected":
        assert r["rejected_by"] and all(d["rule"] for d in r["rejected_by"]), r["key"]
def strip(res):
    res = dict(res); res.pop("name"); res["scenario"] = dict(res["scenario"]); res["scenario"].pop("name", None)
    return res
for key, single in [("tp1-cp16-a2a+p2p-8x2-mbs1-none", "seed-a-hcp"), ("tp2-cp4-a2a-mbs1-none", "seed-b-tp2-a2a"),
                    ("tp1-cp16-p2p-mbs1-none", "seed-c-p2p")]:
    one = json.load(open(f"{tmp}/{single}.json"))
    got = rows[key]
    assert got["status"] == "ok", key
    a, b = strip(got["result"]), strip(one)
    for section in a:
        assert a[section] == b[section], f"{key}: {section} differs: {a[section]} vs {b[section]}"
    print(f"{key}: {got['result']['step']['tokens_per_s_per_gpu']:.1f} tokens/s/GPU, same as {single}.json")
assert doc["recommendation"]["key"] in rows
PY

# By default a candidate whose memory estimate exceeds the GPU is not simulated ("unfit"); the estimate
# it reports is the very one the simulation (--simulate-unfit, above) reports.
"$BIN" sweep "$SEED" --tp 1 --cp 4 --comm p2p --recompute none --state "$TMP/su" --format json \
  --reproducible -o "$TMP/su.json" 2>/dev/null || fail "sweep with an unfit candidate"
"$BIN" merge "$TMP/su.json" | grep -q "does not fit: peak .* GB (.*) > .* GB" || fail "no unfit row in the table"
python3 - "$TMP" <<'PY' || fail "unfit estimate differs from the simulated memory"
import json, sys
tmp = sys.argv[1]
sim = {r["key"]: r for r in json.load(open(f"{tmp}/sweep.json"))["candidates"]}["tp1-cp4-p2p-mbs1-none"]
unfit = json.load(open(f"{tmp}/su.json"))["candidates"][0]
assert unfit["status"] == "unfit" and sim["status"] == "ok", (unfit["status"], sim["status"])
assert sim["result"]["memory"]["fits"] is False
assert abs(sim["result"]["memory"]["peak_bytes"] - unfit["unfit"]["peak_bytes"]) < 1, "same estimate"
PY

# The table, CSV and a JSON again from the saved result (merge of one file re-ranks without simulating).
"$BIN" merge "$TMP/sweep.json" >"$TMP/table" || fail "merge table"
grep -q "^Fit in memory, ranked by tokens/s per GPU:" "$TMP/table" || fail "no ranked section"
grep -q "^Do not fit in memory" "$TMP/table" || fail "no shortfall section"
grep -q "rejected: a2a needs (num_query_groups/TP) % CP == 0" "$TMP/table" || fail "rejected rule not shown"
grep -q "^Recommendation: " "$TMP/table" || fail "no recommendation"
"$BIN" merge "$TMP/sweep.json" --format csv -o "$TMP/sweep.csv" || fail "csv"
[ "$(wc -l <"$TMP/sweep.csv")" -eq "$(( $(python3 -c "import json;print(len(json.load(open('$TMP/sweep.json'))['candidates']))") + 1 ))" ] \
  || fail "csv: one line per candidate plus the header"
head -1 "$TMP/sweep.csv" | grep -q "step.tokens_per_s_per_gpu" || fail "csv header"

# Bounds from the scenario's own "sweep" section; a flag overrides one key and keeps the others.
python3 -c "import json; d=json.load(open('$SEED')); d['sweep']={'tensor_model_parallel_size':[2],'context_parallel_size':[4],
  'cp_comm_type':['a2a'],'recompute_granularity':['full'],'micro_batch_size':[1],'pipeline_model_parallel_size':[1]}; json.dump(d, open('$TMP/bounded.json','w'))"
"$BIN" sweep "$TMP/bounded.json" --state "$TMP/b1" --format json -o "$TMP/b1.json" 2>/dev/null || fail "sweep section"
python3 -c "import json,sys; k=[r['key'] for r in json.load(open('$TMP/b1.json'))['candidates']]; sys.exit(k != ['tp2-cp4-a2a-mbs1-full'])" \
  || fail "sweep section not applied"
"$BIN" sweep "$TMP/bounded.json" --comm p2p --state "$TMP/b2" --format json -o "$TMP/b2.json" 2>/dev/null || fail "flag over section"
python3 -c "import json,sys; k=[r['key'] for r in json.load(open('$TMP/b2.json'))['candidates']]; sys.exit(k != ['tp2-cp4-p2p-mbs1-full'])" \
  || fail "--comm did not override the section's cp_comm_type alone"
"$BIN" sweep "$TMP/bounded.json" --pp 2 --vpp 1 --state "$TMP/b3" --format json -o "$TMP/b3.json" 2>/dev/null || fail "--pp over section"
python3 -c "import json,sys; k=[r['key'] for r in json.load(open('$TMP/b3.json'))['candidates']]; sys.exit(k != ['tp2-cp4-a2a-pp2-mbs1-full'])" \
  || fail "--pp 2 did not override the section's pipeline_model_parallel_size alone"

# Bad input: exit 2 with the error form.
"$BIN" sweep "$SEED" --shard 3/2 2>"$TMP/err"; rc=$?
[ $rc -eq 2 ] && grep -q '^error: --shard: "3/2"' "$TMP/err" || fail "--shard 3/2: exit $rc"
"$BIN" sweep "$SEED" --comm ring --state "$TMP/s2" 2>"$TMP/err"; rc=$?
[ $rc -eq 2 ] && grep -q '^error: --comm: unknown value "ring"' "$TMP/err" || { cat "$TMP/err"; fail "--comm ring: exit $rc"; }
"$BIN" sweep "$SEED" --hcp 8by2 2>"$TMP/err"; rc=$?
[ $rc -eq 2 ] && grep -q '^error: --hcp: ' "$TMP/err" || fail "--hcp 8by2: exit $rc"
python3 -c "import json,sys; d=json.load(open('$SEED')); d['workload']='layer'; json.dump(d, open('$TMP/layer.json','w'))"
"$BIN" sweep "$TMP/layer.json" --state "$TMP/s3" 2>"$TMP/err"; rc=$?
[ $rc -eq 2 ] && grep -q '^error: workload: ' "$TMP/err" || fail "layer workload: exit $rc"
"$BIN" merge "$SEED" 2>"$TMP/err"; rc=$?
[ $rc -eq 2 ] || fail "merge of a scenario: exit $rc"
echo "sweep_seed: ok"

#!/usr/bin/env bash
# `hcpsim compare` on a small study: Llama-3.1-8B at 32K, 16-sequence batches, 1B tokens, on
# 2 x GB200 NVL72 (144 GPUs: TP 8 x CP x DP never divides 9, so the job runs on 128 of them, 16 idle
# but paid), 2 x DGX-H100 (priced), and a DGX-H100 whose GPUs have 8 GB (nothing fits: reported, not
# dropped). Time to train, GPU-hours, cost and energy are checked against the arithmetic below;
# shards merged decide what one run decides; a broken study exits 2 with the path of the problem.
# Usage: compare_study.sh HCPSIM_BINARY SOURCE_DIR
set -u
BIN="$1"; SRC="$2"; TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
cp "$SRC/tests/cli/compare-small-study.json" "$TMP/study.json"
cd "$TMP" || exit 1
"$BIN" compare study.json -j 2 --reproducible >table.txt 2>err.txt || { cat err.txt; fail "compare: exit $?"; }
grep -q "128/144" table.txt || { cat table.txt; fail "the 144-GPU option should run on 128 of them"; }
grep -q "16 idle but paid for" table.txt || fail "idle GPUs not said"
grep -q "tiny GPUs .*no layout" table.txt || fail "the option with no fitting layout is not reported"
grep -q "^Recommendation:" table.txt || fail "no recommendation"
"$BIN" compare study.json -j 2 --reproducible --resume --format json -o one.json 2>/dev/null || fail "json"
python3 - <<'PY' || fail "time to train, GPU-hours, cost or energy"
import json, math
d = json.load(open("one.json"))
assert d["format"] == "hcpsim-compare/1"
o = {x["name"]: x for x in d["options"]}
# steps = ceil(1e9 / (16 x 32768)) = ceil(1907.3) = 1908
for name, paid, price in [("NVL72 x2", 144, 5.0), ("H100 x2", 16, 2.0)]:
    x = o[name]
    assert x["steps"] == 1908, x["steps"]
    t = 1908 * x["layout"]["step_time_s"]
    assert math.isclose(x["time_to_train_s"], t, rel_tol=1e-9)
    lo, hi = x["layout"]["step_time_band_s"]
    assert math.isclose(x["time_to_train_band_s"][0], 1908 * lo, rel_tol=1e-9)
    assert math.isclose(x["time_to_train_band_s"][1], 1908 * hi, rel_tol=1e-9)
    assert math.isclose(x["gpu_hours"], paid * t / 3600, rel_tol=1e-9), (x["gpu_hours"], paid * t / 3600)
    assert math.isclose(x["cost"], paid * t / 3600 * price, rel_tol=1e-9)
assert o["NVL72 x2"]["gpus_used"] == 128 and o["NVL72 x2"]["gpus_idle"] == 16
# H100 x2: 16 GPUs x 1000 W x PUE 1.5 = 24 kW; energy = 24e3 x t / 3.6e9 MWh
h = o["H100 x2"]
assert math.isclose(h["energy_mwh"], 24e3 * h["time_to_train_s"] / 3.6e9, rel_tol=1e-9)
# NVL72 x2 without a power of its own: the preset's maximum per rack x 2 racks
# (132 kW per 72-GPU rack = 1833 W per GPU, x 144 GPUs paid)
p = o["NVL72 x2"]["power"]
assert p["per_node_w"] is None and math.isclose(p["per_gpu_w"] * 72, 132000) and "preset" in p["source"], p
assert math.isclose(o["NVL72 x2"]["energy_mwh"], 132000 * 2 * o["NVL72 x2"]["time_to_train_s"] / 3.6e9, rel_tol=1e-9)
assert o["tiny GPUs"]["layout"] is None and "fits" in o["tiny GPUs"]["none_why"]
tiny = [x for x in json.load(open("study.json"))["options"] if x["name"] == "tiny GPUs"][0]["cluster"]
assert o["tiny GPUs"]["gpus_paid"] == tiny["num_nodes"] * 8, (o["tiny GPUs"], tiny)  # an option without a layout still pays for its GPUs
assert d["ranking"][-1] == "tiny GPUs"
print("ok:", [(x["name"], round(x["time_to_train_s"])) for x in d["options"] if x["layout"]])
PY
"$BIN" compare study.json -j 2 --resume --format csv -o one.csv 2>/dev/null || fail "csv"
[ "$(wc -l <one.csv)" -eq 4 ] || fail "csv: a header and one line per option"
python3 - <<'PY' || fail "csv cells against the JSON"
import csv, json, math
rows = list(csv.DictReader(open("one.csv")))
assert all(None not in r for r in rows), "a line with more cells than the header"
o = {x["name"]: x for x in json.load(open("one.json"))["options"]}
for r in rows:
    x = o[r["option"]]
    if x["layout"] is None:
        assert r["gpu_hours"] == "" and r["none_why"], r
        continue
    # The layout's sizes as the JSON has them, and every GPU used in one of its groups: TP x CP x DP x PP
    lay = x["layout"]
    for k in ("tp", "cp", "dp", "pp", "vpp"):
        assert int(r[k]) == lay[k], (k, r, lay)
    assert int(r["tp"]) * int(r["cp"]) * int(r["dp"]) * int(r["pp"]) == int(r["gpus_used"]), r
    assert (r["hcp_sizes"] != "") == (r["cp_comm_type"] == "a2a+p2p"), r
    # GPU-hours and energy scale from the time to train: GPUs paid x [low, high] / 3600; MWh likewise
    lo, hi = x["time_to_train_band_s"]
    paid = int(r["gpus_paid"])
    assert math.isclose(float(r["gpu_hours_low"]), paid * lo / 3600, rel_tol=1e-8), r
    assert math.isclose(float(r["gpu_hours_high"]), paid * hi / 3600, rel_tol=1e-8), r
    e = x.get("energy_mwh")
    if e is not None:
        t = x["time_to_train_s"]
        assert math.isclose(float(r["energy_mwh_low"]), e * lo / t, rel_tol=1e-8), r
        assert math.isclose(float(r["energy_mwh_high"]), e * hi / t, rel_tol=1e-8), r
print("csv ok")
PY
"$BIN" compare study.json -j 2 --resume --rank cost >cost.txt 2>/dev/null || fail "--rank cost"
grep -q "Ranked by cost" cost.txt || fail "--rank cost not said"
# Shards, then --merge: the same decision as one run.
for i in 1 2; do
  "$BIN" compare study.json -j 2 --reproducible --shard $i/2 --format json -o s$i.json 2>/dev/null || fail "shard $i"
done
"$BIN" compare study.json --merge s1.json s2.json --reproducible --format json -o merged.json 2>/dev/null || fail "merge"
python3 -c "
import json
a, b = json.load(open('one.json')), json.load(open('merged.json'))
assert a['options'] == b['options'] and a['recommendation'] == b['recommendation']" || fail "merged shards decide differently"
"$BIN" compare study.json --merge s1.json >/dev/null 2>merge_err.txt; rc=$?
[ $rc -eq 2 ] || fail "a merge missing a shard must not decide (exit $rc, want 2)"
grep -q "in none of the files" merge_err.txt || fail "missing shard not said"
"$BIN" compare study.json --shard 1/2 >/dev/null 2>shard_err.txt; rc=$?
[ $rc -eq 2 ] && grep -q "add --format json -o FILE" shard_err.txt || fail "a shard without -o should stop before simulating"
# A sequence no layout can split (seq % (2 x CP) fails even at CP 1): every option is reported with
# no valid layout, none dropped, and the recommendation says no option can run the job.
python3 -c "import json; d=json.load(open('study.json')); d['job']['training']['seq_length']=32767; json.dump(d, open('odd.json','w'))"
"$BIN" compare odd.json -j 2 --format json -o odd_out.json 2>/dev/null || fail "a study with no valid layout anywhere: exit $?"
python3 -c "
import json
d = json.load(open('odd_out.json'))
assert len(d['options']) == 3 and all(o['layout'] is None and 'no layout of the job is valid' in o['none_why'] for o in d['options'])
assert d['recommendation'].startswith('No option can run the job'), d['recommendation']" || fail "options with no valid layout"

# A broken study: exit 2, the path of the problem.
python3 -c "import json; d=json.load(open('study.json')); d['options'][1]['cluster']['preset']='dgx-h1000'; json.dump(d, open('bad.json','w'))"
"$BIN" compare bad.json >/dev/null 2>bad_err.txt; rc=$?
[ $rc -eq 2 ] || fail "bad study: exit $rc, want 2"
grep -q "options\[1\].cluster.preset" bad_err.txt || { cat bad_err.txt; fail "no path in the error"; }
echo "compare_study: ok"

#!/usr/bin/env bash
# A sweep starts from a scenario whose own layout is invalid on its cluster: seed A (TP1 x CP16)
# on 3 DGX-H100 nodes (24 GPUs, which 16 does not divide). The sweep says why it leaves the
# starting layout and explores the space; a problem besides the layout still stops it (exit 2).
# The CSV names every candidate's layout, micro batch, recompute and cluster.
# Usage: sweep_invalid_start.sh HCPSIM_BINARY SOURCE_DIR
set -u
BIN="$1"; SRC="$2"; TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
python3 -c "import json; d=json.load(open('$SRC/scenarios/seed-a-hcp.json')); d['cluster']['num_nodes']=3
d['training']['global_batch_size']=24; json.dump(d, open('$TMP/odd.json','w'))"
"$BIN" "$TMP/odd.json" >/dev/null 2>&1; [ $? -eq 2 ] || fail "the starting layout itself should be invalid (exit 2)"
"$BIN" sweep "$TMP/odd.json" --tp 8 --cp 1,3 --comm p2p --recompute full --micro-batch 1 --state "$TMP/s" \
  --format csv -o "$TMP/out.csv" 2>"$TMP/err" || { cat "$TMP/err"; fail "sweep from an invalid layout: exit $?"; }
grep -q "the scenario's own layout is not valid here (parallel: world size 24" "$TMP/err" || { cat "$TMP/err"; fail "no note on the layout"; }
python3 - "$TMP/out.csv" <<'PY' || fail "csv"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
# TP8 x CP1 x DP3 (24 GPUs, global batch 24 = 1 x 3 x 8) and TP8 x CP3 (seq 131072 % 6 != 0: rejected)
by = {r["key"]: r for r in rows}
ok = by["tp8-cp1-mbs1-full"]
assert ok["status"] == "ok", ok["status"]
assert (ok["tp"], ok["cp"], ok["micro_batch_size"], ok["recompute"], ok["cluster"]) == ("8", "1", "1", "full", "3 x dgx-h100"), ok
assert by["tp8-cp3-p2p-mbs1-full"]["status"] == "rejected"
print("ok:", ok["label"], ok["step.tokens_per_s_per_gpu"])
PY
# A layout bigger than the cluster (TP8 x CP8 on 24 GPUs) stays in the list, rejected, under the
# default micro batches too.
"$BIN" sweep "$TMP/odd.json" --tp 8 --cp 8 --comm p2p --recompute full --state "$TMP/s3" --format json -o "$TMP/big.json" \
  2>/dev/null || fail "sweep of a too-big layout"
python3 -c "
import json
c = json.load(open('$TMP/big.json'))['candidates']
assert [r['status'] for r in c] == ['rejected'] and 'world_size' in c[0]['rejected_by'][0]['rule'], c" || fail "too-big layout dropped"
# A problem besides the layout still stops the sweep.
python3 -c "import json; d=json.load(open('$TMP/odd.json')); d['model']['preset']='llama9'; json.dump(d, open('$TMP/bad.json','w'))"
"$BIN" sweep "$TMP/bad.json" --state "$TMP/s2" >/dev/null 2>"$TMP/err2"; rc=$?
[ $rc -eq 2 ] || fail "bad model: exit $rc, want 2"
grep -q "model.preset" "$TMP/err2" || { cat "$TMP/err2"; fail "no model.preset error"; }
# Its text says no candidate was simulated and why, not that none fits in memory.
"$BIN" sweep "$TMP/odd.json" --tp 8 --cp 8 --comm p2p --recompute full --state "$TMP/s3" > "$TMP/big.txt" 2>/dev/null ||
  fail "sweep of a too-big layout (text)"
grep -q "No candidate ran to a result: 1 was rejected by validation" "$TMP/big.txt" || { tail -3 "$TMP/big.txt"; fail "no reason"; }
# Sizes that leave no candidate at all (TP 5: no pipeline depth of 24 GPUs), and an HCP split no
# candidate uses (3 x 5 = 15 is no CP size tried): exit 2, naming the sweep's field.
"$BIN" sweep "$TMP/odd.json" --tp 5 --state "$TMP/s4" >/dev/null 2>"$TMP/err4"; rc=$?
[ $rc -eq 2 ] || fail "no candidate: exit $rc, want 2"
grep -q "error: sweep: no candidate layout" "$TMP/err4" || { cat "$TMP/err4"; fail "no candidate: message"; }
"$BIN" sweep "$TMP/odd.json" --tp 8 --cp 1,3 --hcp 3x5 --state "$TMP/s5" >/dev/null 2>"$TMP/err5"; rc=$?
[ $rc -eq 2 ] || fail "unused HCP split: exit $rc, want 2"
grep -q "error: --hcp: 3x5 is no candidate's split" "$TMP/err5" || { cat "$TMP/err5"; fail "unused HCP split: message"; }
# Megatron-FSDP is the layout's where the sweep tries it on and off: a scenario whose own FSDP breaks
# a rule no layout changes (overlap_grad_reduce off, which Megatron-FSDP refuses) is swept all the same,
# its FSDP candidates rejected, the others run.
python3 -c "import json; d=json.load(open('$SRC/scenarios/seed-a-hcp.json')); d['parallel']['use_megatron_fsdp']=True
d['parallel']['overlap_grad_reduce']=False; d['sweep']={'use_megatron_fsdp': [False, True]}; json.dump(d, open('$TMP/fsdp.json','w'))"
"$BIN" "$TMP/fsdp.json" >/dev/null 2>&1; [ $? -eq 2 ] || fail "the scenario's own FSDP should be invalid (exit 2)"
"$BIN" sweep "$TMP/fsdp.json" --tp 2 --cp 16 --comm a2a+p2p --hcp 4x4 --recompute none --micro-batch 1 --pp 1 --state "$TMP/s6" \
  --format csv -o "$TMP/fsdp.csv" 2>"$TMP/err6" || { cat "$TMP/err6"; fail "sweep from an invalid FSDP: exit $?"; }
grep -q "the scenario's own Megatron-FSDP is not valid here (parallel.overlap_grad_reduce" "$TMP/err6" || { cat "$TMP/err6"; fail "no note on FSDP"; }
python3 - "$TMP/fsdp.csv" <<'PY' || fail "fsdp csv"
import csv, sys
by = {r["key"]: r for r in csv.DictReader(open(sys.argv[1]))}
assert by["tp2-cp16-a2a+p2p-4x4-mbs1-none"]["status"] == "ok", by
assert by["tp2-cp16-a2a+p2p-4x4-mbs1-none-fsdp"]["status"] == "rejected", by
PY
echo "sweep_invalid_start: ok"

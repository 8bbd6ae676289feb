#!/usr/bin/env bash
# Pipeline parallelism end to end: Llama-3.1-405B at 128K, TP8 x CP16 x PP16 on 256 DGX-H100
# (scenarios/llama405b-128k-tp8-cp16-pp16.json). The step reports its pipeline; its bubble is
# near the closed form (p - 1)/(m + p - 1) (stages nearly equal, transfers < 1 ms against seconds
# of work); the step is the schedule plus the exposed DP sync, optimizer and parameter gather;
# every stage has a memory peak; the trace carries the schedule; a broken pipeline rule exits 2
# naming its key; a sweep over PP says the bubble-vs-memory trade.
# Usage: pipeline_run.sh HCPSIM_BINARY SOURCE_DIR
set -u
BIN="$1"; SRC="$2"; TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
S="$SRC/scenarios/llama405b-128k-tp8-cp16-pp16.json"
"$BIN" "$S" --format json --reproducible --trace "$TMP/trace.json" >"$TMP/out.json" 2>"$TMP/err" || { cat "$TMP/err"; fail "run: exit $?"; }
"$BIN" "$S" --dump-workload >"$TMP/dump.txt" 2>/dev/null || fail "dump: exit $?"
PYTHONPATH="$SRC/tests/cli" python3 - "$TMP/out.json" "$TMP/trace.json" "$TMP/dump.txt" <<'PY' || fail "pipeline result"
import json, sys
from dump_phases import phase_counts
r = json.load(open(sys.argv[1]))
dump = open(sys.argv[3]).read().splitlines()
# The CPU launches a pass's ops: stage 0's forward is its 7 layers' forward ops, the embedding's,
# and its activation send; its backward likewise (one chunk each way).
layer, step, pipe = phase_counts(dump, "layer"), phase_counts(dump, "step"), phase_counts(dump, "pipeline")
s0 = r["step"]["pipeline"]["per_stage"][0]
assert s0["forward_launches"] == [7 * layer["fwd"] + step["fwd"] + pipe["fwd"]], (s0["forward_launches"], layer, step, pipe)
assert s0["backward_launches"] == [7 * layer["bwd"] + step["bwd"] + pipe["bwd"]], (s0["backward_launches"], layer, step, pipe)
per_mb = [sum(e["forward_launches"]) + sum(e["backward_launches"]) for e in r["step"]["pipeline"]["per_stage"]]
assert r["step"]["host_launches"] == max(per_mb), (r["step"]["host_launches"], per_mb)
# 1F1B synchronises the CPU after every transfer: each pass's first kernel waits one launch.
assert 0 < r["step"]["host_wait_s"] and not r["step"]["host_bound"], r["step"]
st, p = r["step"], r["step"]["pipeline"]
assert p["schedule"] == "1f1b" and p["stages"] == 16 and p["virtual_stages"] == 1, p
m, pp = st["microbatches"], p["stages"]
assert m == 16, m
closed = (pp - 1) / (m + pp - 1)          # 15/31 = 0.484
assert abs(p["bubble_fraction"] - closed) < 0.02, (p["bubble_fraction"], closed)
# 126 layers: 128 slots (embedding and loss accounted) / 16 = 8; the end stages hold 7 layers
layers = [s["chunk_layers"] for s in p["per_stage"]]
assert layers[0] == [7] and layers[-1] == [7] and all(l == [8] for l in layers[1:-1]), layers
assert sum(l[0] for l in layers) == st["layers"] == 126
# the schedule can be no shorter than the busiest stage's m micro batches of work
f, b = r["layer"]["forward_s"], r["layer"]["backward_s"]
busiest = m * 8 * (f + b)
sched = p["pipeline_s"] - st["param_gather_exposed_s"]  # the schedule without the stages' waits for their parameters
assert sched > busiest and sched < busiest * (1 + 16 / 15) * 1.01, (sched, busiest)
# 1F1B gathers each stage's parameters lazily, one bucket a stage past the first, when its first
# forward starts: the fill waits for them one stage after another, so more than one stage's gather
# and at most all of them.
buckets = [e["dp_buckets"] for e in p["per_stage"]]
assert all(len(bs) == 1 for bs in buckets[1:]), [len(bs) for bs in buckets]
gathers = [sum(x["param_gather_s"] for x in bs) for bs in buckets]
assert max(gathers) < st["param_gather_exposed_s"] <= sum(gathers) + 1e-9, (st["param_gather_exposed_s"], gathers)
# step = schedule (with those waits) + exposed gradient reduce + optimizer
assert abs(st["time_s"] - (p["pipeline_s"] + st["grad_reduce_exposed_s"] + st["optimizer_s"])) < 1e-9, st
mem = r["memory"]
assert len(mem["stage_peak_bytes"]) == 16 and mem["peak_bytes"] == max(mem["stage_peak_bytes"]), mem["peak_stage"]
assert mem["peak_phase"].startswith("stage %d " % mem["peak_stage"]), mem["peak_phase"]
t = json.load(open(sys.argv[2]))["traceEvents"]
sched = [e for e in t if e.get("cat") == "pipeline"]
assert len(sched) == 2 * 16 * m, len(sched)                   # a forward and a backward per stage and micro batch
assert any(e.get("name", "").startswith("pp.fwd.send_activation") for e in t)
print("bubble %.3f (closed form %.3f), step %.3f s, peak stage %d" % (p["bubble_fraction"], closed, st["time_s"], mem["peak_stage"]))
PY
"$BIN" "$S" >"$TMP/out.txt" 2>&1 || fail "text run"
grep -q "^pipeline:  1F1B, 16 stages, 16 micro batches" "$TMP/out.txt" || { cat "$TMP/out.txt"; fail "no pipeline line"; }
grep -q "peak per pipeline stage: 0:" "$TMP/out.txt" || fail "no per-stage memory"
grep -q "^host: .*it waits for the GPU after every stage-to-stage transfer" "$TMP/out.txt" || fail "no host sync words"

# A broken rule: interleaving 16 stages with 4 micro batches per DP rank (Megatron needs >= PP).
python3 -c "import json; d=json.load(open('$S')); d['parallel']['virtual_pipeline_model_parallel_size']=2
d['parallel'].pop('account_for_embedding_in_pipeline_split'); d['parallel'].pop('account_for_loss_in_pipeline_split')
d['model']={'preset':'llama3.1-70b'}; d['training']['global_batch_size']=4; json.dump(d, open('$TMP/bad.json','w'))"
"$BIN" "$TMP/bad.json" >/dev/null 2>"$TMP/err"; rc=$?
[ $rc -eq 2 ] || { cat "$TMP/err"; fail "bad pipeline: exit $rc, want 2"; }
grep -q "^error: training.global_batch_size: 4 micro batches per DP rank" "$TMP/err" || { cat "$TMP/err"; fail "error text"; }
grep -q "raise global_batch_size to at least 16" "$TMP/err" || { cat "$TMP/err"; fail "no fix"; }

# A sweep over PP explains the trade (seed A: PP 2 with 8 micro batches).
"$BIN" sweep "$SRC/scenarios/seed-a-hcp.json" --tp 1 --cp 16 --comm p2p --pp 1,2 --state "$TMP/sw" >"$TMP/sweep.txt" 2>&1 || fail "sweep"
grep -q "^  Pipeline: PP2 idles" "$TMP/sweep.txt" || { cat "$TMP/sweep.txt"; fail "no pipeline words"; }
echo "ok"

#!/usr/bin/env bash
# hcpsim's JSON carries the documented fields, the same input gives byte-identical
# output (--reproducible), and --trace writes a Chrome/Perfetto trace.
set -u
BIN="$1"; SRC="$2"; TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
A="$SRC/scenarios/seed-a-hcp.json"

"$BIN" "$A" --format json --reproducible -o "$TMP/r1.json" --trace "$TMP/t1.json" || fail "run 1: exit $?"
"$BIN" "$A" --format json --reproducible -o "$TMP/r2.json" --trace "$TMP/t2.json" || fail "run 2: exit $?"
cmp -s "$TMP/r1.json" "$TMP/r2.json" || fail "result not byte-identical across runs"
cmp -s "$TMP/t1.json" "$TMP/t2.json" || fail "trace not byte-identical across runs"
for key in '"valid": true' '"warnings"' '"parallel"' '"tp": 1' '"cp": 16' '"dp": 2' '"pp": 1' '"cp_comm_type": "a2a+p2p"' \
           '"hcp_sizes"' '"step"' '"time_s"' '"tokens_per_s"' '"tokens_per_s_per_gpu"' '"mfu"' '"attention"' \
           '"forward_s"' '"backward_s"' '"comm_s"' '"exposed_comm_s"' '"overlap_ratio"' '"memory"' '"peak_bytes"' \
           '"capacity_bytes"' '"headroom_bytes"' '"fits"' '"breakdown"' '"links"' '"utilisation"' '"simulated"' \
           '"gpus"' '"activities"'; do
  grep -q -- "$key" "$TMP/r1.json" || fail "JSON lacks $key"
done
grep -q '"wall_s"' "$TMP/r1.json" && fail "--reproducible output still has wall_s"
"$BIN" "$A" --format json | grep -q '"wall_s"' || fail "wall_s missing without --reproducible"
grep -q '"traceEvents"' "$TMP/t1.json" || fail "trace has no traceEvents"
grep -q '"name":"attn.fwd.step0.diag"' "$TMP/t1.json" || fail "trace lacks the attention steps"
grep -q '"thread_name"' "$TMP/t1.json" || fail "trace lacks stream track names"
# Every comm event says how NCCL ran it (algorithm, protocol, channels, flows).
python3 - "$TMP/t1.json" <<'PY' || fail "trace comm events lack their NCCL route"
import json, sys
ev = [e for e in json.load(open(sys.argv[1]))["traceEvents"] if e.get("ph") == "X" and ",comm" in e.get("cat", "")]
assert ev and all({"algorithm", "protocol", "channels", "flows"} <= set(e["args"]["nccl"]) for e in ev), ev[:1]
PY
# A DP bucket simulated once for equal ones carries its repeats: rank 0's buckets, each duration x
# repeats, sum to the step's grad_reduce_s (the step times them one after another).
python3 - "$TMP/t1.json" "$TMP/r1.json" <<'PY' || fail "trace DP buckets x repeats do not give grad_reduce_s"
import json, sys
ev = [e for e in json.load(open(sys.argv[1]))["traceEvents"]
      if e.get("ph") == "X" and e.get("pid") == 0 and e["name"].startswith("dp.grad_rs.bucket")]
total_s = sum(e["dur"] * e["args"].get("repeats", 1) for e in ev) / 1e6
want = json.load(open(sys.argv[2]))["step"]["grad_reduce_s"]
assert ev and any(e["args"].get("repeats", 1) > 1 for e in ev), ev[:2]
assert abs(total_s / want - 1) < 1e-6, (total_s, want)
PY

# The attention-only workload reports step as null.
sed 's/"name": "A: TP1 + a2a+p2p CP16 \[8,2\]",/"name": "attn", "workload": "attention", "passes": "fwd",/' "$A" >"$TMP/attn.json"
"$BIN" "$TMP/attn.json" --format json >"$TMP/a.json" || fail "attention workload: exit $?"
grep -q '"step": null' "$TMP/a.json" || fail "attention workload: step should be null"

# The built-in study runs and recommends.
"$BIN" >"$TMP/study.txt" || fail "built-in study: exit $?"
grep -q "^Recommendation: " "$TMP/study.txt" || fail "no recommendation"
grep -q "^Seed claim" "$TMP/study.txt" || fail "no check of the seed's claim"
echo "simulate_output: ok"

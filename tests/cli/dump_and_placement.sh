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
# Every comm op shows how NCCL runs it. Option A on DGX-H100: the a2a inside a node is NCCL's
# p2p (all-to-all is not tuned), the ring's send to rank 8 on the next node is a p2p send; in
# the JSON each comm op carries algorithm and protocol, compute ops carry neither.
grep "attn.fwd.a2a_q " "$TMP/d" | head -1 | grep -q "\[p2p/Simple, [0-9]* ch, 1 stage, 56 flows\]" ||
  fail "a2a route: $(grep 'attn.fwd.a2a_q ' "$TMP/d" | head -1)"
grep "attn.fwd.kv_send1 " "$TMP/d" | head -1 | grep -q "\[p2p/Simple, [0-9]* ch, [0-9.]* GB/s\]" || fail "send route"
python3 - "$TMP/w.json" <<'PY' || fail "json algorithm/protocol per comm op"
import json, sys
w = json.load(open(sys.argv[1]))["workload"]
ops = [o for r in w["ranks"] for k in ("layer", "step") if k in r for o in r[k]["ops"]]
comm = [o for o in ops if o["kind"] == "comm"]
assert comm and all(o["algorithm"] and o["protocol"] in ("LL", "LL128", "Simple") for o in comm), comm[:2]
assert not any("algorithm" in o for o in ops if o["kind"] != "comm")
# The DP gradient reduce-scatter over 2 nodes: a ring/tree/... collective, not p2p.
rs = [o for o in comm if o["pattern"] == "reduce_scatter"]
assert rs and all(o["algorithm"] != "p2p" and o["nccl"]["flows"] > 0 for o in rs), rs[:1]
PY
echo "dump_and_placement: ok"

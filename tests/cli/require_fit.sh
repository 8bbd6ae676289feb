#!/usr/bin/env bash
# --require-fit exits 4 after writing the output when the step does not fit in GPU memory (a
# sweep's or the study's pick: when no option fits); --require-margin also when it fits with less
# headroom than the caching allocator's margin. Seed A's peaks (tests/memory/test_memory_seed.cpp):
# no recompute 97.7 GB of the H100's 85.5 (does not fit); full recompute 61.2 GB (24 GB of
# headroom, beyond its 4.58 GB margin); full recompute of 11 layers by block 85.2 GB (0.35 GB of
# headroom: fits, within the margin).
# Usage: require_fit.sh HCPSIM_BINARY SOURCE_DIR
set -u
BIN="$1"; SRC="$2"; TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
python3 - "$SRC/scenarios/seed-a-hcp.json" "$TMP" <<'PY' || fail "scenarios"
import json, sys
d = json.load(open(sys.argv[1]))
d["training"].update({"recompute_granularity": "full"})
json.dump(d, open(sys.argv[2] + "/full.json", "w"))
d["training"].update({"recompute_method": "block", "recompute_num_layers": 11})
json.dump(d, open(sys.argv[2] + "/tight.json", "w"))
d = json.load(open(sys.argv[1]))  # no recompute (97.7 GB) on GPUs of 96.6 GB: selective (95.5) fits with
d["cluster"]["gpu"] = {"memory_gb": 96.6}  # 1.1 GB, within the 4.58 GB margin; full (61.2) leaves 35.4
json.dump(d, open(sys.argv[2] + "/roomier.json", "w"))
PY
expect() {  # expect RC NAME -- command...
  local want="$1" name="$2"; shift 3
  "$@" > "$TMP/$name.out" 2> "$TMP/$name.err"; local rc=$?
  [ "$rc" = "$want" ] || { cat "$TMP/$name.err"; fail "$name: exit $rc, not $want"; }
}
A="$SRC/scenarios/seed-a-hcp.json"
expect 0 plain -- "$BIN" "$A"
expect 4 nofit -- "$BIN" "$A" --require-fit
grep -q "^hcpsim: --require-fit: .*seed-a-hcp.json does not fit in GPU memory: peak 97.7 GB of 85.5 GB$" "$TMP/nofit.err" \
  || { cat "$TMP/nofit.err"; fail "nofit: message"; }
cmp -s "$TMP/plain.out" "$TMP/nofit.out" || fail "nofit: the output differs from the plain run's"
expect 4 nofit_json -- "$BIN" "$A" --require-fit --format json -o "$TMP/nofit.json"
python3 -c "import json,sys; assert not json.load(open(sys.argv[1]))['memory']['fits']" "$TMP/nofit.json" \
  || fail "nofit_json: the output file is not the whole result"
expect 0 full -- "$BIN" "$TMP/full.json" --require-margin
expect 0 tight_fit -- "$BIN" "$TMP/tight.json" --require-fit
expect 4 tight_margin -- "$BIN" "$TMP/tight.json" --require-margin
grep -q "^hcpsim: --require-margin: .*tight.json fits, but 0.4 GB of headroom is less than the allocator's margin" \
  "$TMP/tight_margin.err" || { cat "$TMP/tight_margin.err"; fail "tight_margin: message"; }
# The built-in study recommends an option that fits.
expect 0 study -- "$BIN" --require-fit
# A sweep of one layout without recompute: nothing fits.
expect 4 sweep -- "$BIN" sweep "$A" --tp 1 --cp 16 --comm a2a+p2p --hcp 8x2 --micro-batch 1 --recompute none --pp 1 \
  --vpp 1 -j 1 --require-fit --format json -o "$TMP/sweep.json"
grep -q "^hcpsim: --require-fit: no recommendation: No simulated option fits in GPU memory$" "$TMP/sweep.err" \
  || { cat "$TMP/sweep.err"; fail "sweep: message"; }
python3 -c "import json,sys; json.load(open(sys.argv[1]))['candidates']" "$TMP/sweep.json" || fail "sweep: output"
# A layout that validation rejects (TP 3 does not divide 32 GPUs): the reason is that, not memory.
expect 4 rejected -- "$BIN" sweep "$A" --tp 3 --cp 16 --comm a2a+p2p --hcp 8x2 --micro-batch 1 --recompute none --pp 1 \
  --vpp 1 -j 1 --require-fit
grep -q "^hcpsim: --require-fit: no recommendation: No candidate ran to a result: 1 was rejected by validation" \
  "$TMP/rejected.err" || { cat "$TMP/rejected.err"; fail "rejected: message"; }
# a2a at CP 16 with 8 KV heads is rejected at a dotted path: the reason runs past its dots.
expect 4 rejected_dotted -- "$BIN" sweep "$A" --tp 1 --cp 16 --comm a2a --micro-batch 1 --recompute none --pp 1 --vpp 1 \
  -j 1 --require-fit
grep -q "^hcpsim: --require-fit: no recommendation: .*(first: TP1 + a2a CP16, parallel.context_parallel_size: a2a needs .*)$" \
  "$TMP/rejected_dotted.err" || { cat "$TMP/rejected_dotted.err"; fail "rejected_dotted: message"; }
# Refused (exit 2): a shard (it sees part of the options), with --validate (nothing simulated), and
# before the command it was meant for (the run's own flag there).
expect 2 shard -- "$BIN" sweep "$A" --shard 1/2 --require-fit --format json -o "$TMP/shard.json"
[ ! -e "$TMP/shard.json" ] || fail "shard: wrote its output"
for f in --validate --dump-workload --show-placement; do
  expect 2 "refused$f" -- "$BIN" "$A" $f --require-fit
  grep -q "^error: --require-fit: judges a simulated step's memory" "$TMP/refused$f.err" || fail "refused$f: message"
done
expect 2 before -- "$BIN" --require-fit sweep "$A" --tp 1
grep -q "^error: --require-fit: given before 'sweep', .* put it after 'sweep'$" "$TMP/before.err" \
  || { cat "$TMP/before.err"; fail "before: message"; }
expect 2 before_compare -- "$BIN" --require-fit compare "$A"  # compare takes no --require-fit
grep -q "'compare' takes no --require-fit; drop it$" "$TMP/before_compare.err" || { cat "$TMP/before_compare.err"; fail "before_compare"; }
# lightest_fitting offers selective (the fastest fit, within the margin) and full (the lightest that
# leaves it); the recommendation is selective, so --require-margin exits 4 and the reasons name full.
expect 0 lightest -- "$BIN" sweep "$TMP/roomier.json" --tp 1 --cp 16 --comm a2a+p2p --hcp 8x2 --micro-batch 1 \
  --recompute lightest_fitting --pp 1 --vpp 1 -j 2 --require-fit
grep -q "^1   \* TP1 + a2a+p2p CP16 \[8,2\] + selective recompute .* 1\.1$" "$TMP/lightest.out" \
  && grep -q "^2     TP1 + a2a+p2p CP16 \[8,2\] + full recompute .* 35\.4$" "$TMP/lightest.out" \
  || { cat "$TMP/lightest.out"; fail "lightest: rows"; }
grep -q "full recompute leaves the margin" "$TMP/lightest.out" || { cat "$TMP/lightest.out"; fail "lightest: reasons"; }
expect 4 lightest_margin -- "$BIN" sweep "$TMP/roomier.json" --tp 1 --cp 16 --comm a2a+p2p --hcp 8x2 --micro-batch 1 \
  --recompute lightest_fitting --pp 1 --vpp 1 -j 2 --require-margin
grep -q "^hcpsim: --require-margin: the recommendation, TP1 + a2a+p2p CP16 \[8,2\] + selective recompute fits, but 1.1 GB" \
  "$TMP/lightest_margin.err" || { cat "$TMP/lightest_margin.err"; fail "lightest_margin: message"; }
echo "ok"

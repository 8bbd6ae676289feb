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
grep -q "^hcpsim: --require-fit: no option fits in GPU memory$" "$TMP/sweep.err" || { cat "$TMP/sweep.err"; fail "sweep: message"; }
python3 -c "import json,sys; json.load(open(sys.argv[1]))['candidates']" "$TMP/sweep.json" || fail "sweep: output"
echo "ok"

#!/usr/bin/env bash
# With --format json an input error also comes as JSON on stdout, for scripts that read hcpsim's
# JSON: {"source", "valid": false, "errors": [{"path", "what", "rule", "fix"}]}, one entry per
# error the text lists on stderr ("error: <path>: <what> (<rule>) — <fix>"), in the same order; the
# exit code stays 2. Checked for a run (two scenario errors), --validate, a sweep (a bad flag: its
# flag as the path) and an unwritable --out; without --format json, stdout stays empty.
# Usage: json_errors.sh HCPSIM_BINARY SOURCE_DIR
set -u
BIN="$1"; SRC="$2"; TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
# 1 node of 8 GPUs with CP 3 (8 % 3 != 0) and 1000 tokens (not a multiple of 2 x 3): two errors.
cat > "$TMP/bad.json" <<'J'
{"model": {"preset": "llama3.1-8b"}, "training": {"seq_length": 1000},
 "cluster": {"preset": "dgx-h100", "num_nodes": 1}, "parallel": {"context_parallel_size": 3}}
J
check() {  # check NAME EXPECTED_PATHS(comma-separated) -- command...
  local name="$1" paths="$2"; shift 3
  "$@" > "$TMP/$name.out" 2> "$TMP/$name.err"; local rc=$?
  [ "$rc" = 2 ] || { cat "$TMP/$name.err"; fail "$name: exit $rc, not 2"; }
  python3 - "$TMP/$name.out" "$TMP/$name.err" "$paths" <<'PY' || fail "$name"
import json, sys
out, err, paths = json.load(open(sys.argv[1])), open(sys.argv[2]).read().splitlines(), sys.argv[3].split(",")
assert out["valid"] is False, out
got = [e["path"] for e in out["errors"]]
assert got == paths, (got, paths)
# Each JSON entry is the stderr line it came from, taken apart.
text = [l for l in err if l.startswith("error: ")]
assert len(text) == len(out["errors"]), (text, out)
for e, line in zip(out["errors"], text):
    assert line.startswith("error: " + e["path"] + ": " + e["what"]), (line, e)
    if e["rule"]: assert "(" + e["rule"] + ")" in line, (line, e)
    if e["fix"]: assert line.endswith("\u2014 " + e["fix"]), (line, e)
PY
}
check run "parallel,training.seq_length" -- "$BIN" "$TMP/bad.json" --format json
check validate "parallel,training.seq_length" -- "$BIN" "$TMP/bad.json" --validate --format json
check sweep_flag "--shard" -- "$BIN" sweep "$SRC/scenarios/seed-a-hcp.json" --shard 3/2 --format json -o "$TMP/s.json"
check out_file "--out/--trace" -- "$BIN" "$SRC/scenarios/seed-a-hcp.json" --format json -o "$TMP/no/such/folder/r.json"
[ ! -e "$TMP/s.json" ] || fail "a sweep that failed wrote its output"
# Text output: the errors on stderr only.
"$BIN" "$TMP/bad.json" > "$TMP/text.out" 2> /dev/null; rc=$?
[ "$rc" = 2 ] && [ ! -s "$TMP/text.out" ] || fail "text: exit $rc, stdout $(head -c 200 "$TMP/text.out")"
echo "ok"

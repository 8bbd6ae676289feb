#!/usr/bin/env bash
# With --format json an input error also comes as JSON on stdout, for scripts that read hcpsim's
# JSON: {"source", "valid": false, "errors": [{"path", "what", "rule", "fix"}]}, one entry per
# error the text lists on stderr ("error: <path>: <what> (<rule>) — <fix>"), in the same order; the
# exit code stays 2. Checked for a run (two scenario errors), --validate, a file that is not JSON
# (the path "" for the whole file, "<file>" on stderr; its bytes not UTF-8), a sweep (a bad flag:
# its flag as the path, the rule in the parentheses; --hcp's rule is its own, not the flag's
# description), a merge of a file that is not a sweep's (the file's key as the path), a flag the
# argument parser rejects, a flag given before its command, collective's unwritable --out and a
# run's; without --format json, stdout stays empty.
# Usage: json_errors.sh HCPSIM_BINARY SOURCE_DIR
set -u
BIN="$1"; SRC="$2"; TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
# 1 node of 8 GPUs with CP 3 (8 % 3 != 0) and 1000 tokens (not a multiple of 2 x 3): two errors.
cat > "$TMP/bad.json" <<'J'
{"model": {"preset": "llama3.1-8b"}, "training": {"seq_length": 1000},
 "cluster": {"preset": "dgx-h100", "num_nodes": 1}, "parallel": {"context_parallel_size": 3}}
J
check() {  # check NAME EXPECTED_PATHS(comma-separated) SOURCE -- command...
  local name="$1" paths="$2" source="$3"; shift 4
  "$@" > "$TMP/$name.out" 2> "$TMP/$name.err"; local rc=$?
  [ "$rc" = 2 ] || { cat "$TMP/$name.err"; fail "$name: exit $rc, not 2"; }
  python3 - "$TMP/$name.out" "$TMP/$name.err" "$paths" "$source" <<'PY' || fail "$name"
import json, sys
out, err, paths = json.load(open(sys.argv[1])), open(sys.argv[2], errors="replace").read().splitlines(), sys.argv[3].split(",")
source = sys.argv[4]
assert out["valid"] is False, out
got = [e["path"] for e in out["errors"]]
assert got == paths, (got, paths)
# Each JSON entry is the stderr line it came from, taken apart.
# (the argument parser, CLI11, prints its one error without "error: ", then a line of help)
text = [l for l in err if l.startswith("error: ")] or ["error: " + err[0]]
assert len(text) == len(out["errors"]), (text, out)
for e, line in zip(out["errors"], text):
    # error: <path or <file>>: <what>[ (<rule>)][ — <fix>], each part as the text has it; the
    # what of a file that is not UTF-8 carries U+FFFD where the text has the byte.
    want = "error: " + (e["path"] or "<file>") + ": " + e["what"] + (" (" + e["rule"] + ")" if e["rule"] else "") + \
           (" \u2014 " + e["fix"] if e["fix"] else "")
    assert line == want or "\ufffd" in e["what"], (line, want)
assert out["source"] == source, (out["source"], source)
PY
}
A="$SRC/scenarios/seed-a-hcp.json"
printf '{"model": {"preset": "llama\xff"}}' > "$TMP/not-utf8.json"
check run "parallel,training.seq_length" "$TMP/bad.json" -- "$BIN" "$TMP/bad.json" --format json
check validate "parallel,training.seq_length" "$TMP/bad.json" -- "$BIN" "$TMP/bad.json" --validate --format json
check not_utf8 "" "$TMP/not-utf8.json" -- "$BIN" "$TMP/not-utf8.json" --format json
check sweep_flag "--shard" "$A" -- "$BIN" sweep "$A" --shard 3/2 --format json -o "$TMP/s.json"
check parser_flag "--jobs" "" -- "$BIN" sweep "$A" --format json -j 0
check flag_before "--format" "" -- "$BIN" --format json sweep "$A"
check collective_out "--out" "hcpsim collective" -- "$BIN" collective --format json -o "$TMP/no/such/folder/c.json"
check out_file "--out/--trace" "$A" -- "$BIN" "$A" --format json -o "$TMP/no/such/folder/r.json"
check hcp_flag "--hcp" "$A" -- "$BIN" sweep "$A" --hcp 8y2 --format json
echo '{"format": "something else"}' > "$TMP/not-a-shard.json"
check merge_file "$TMP/not-a-shard.json: format" "" -- "$BIN" merge "$TMP/not-a-shard.json" --format json
python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['errors'][0]; assert r['rule']=='shard numbering', r" \
  "$TMP/sweep_flag.out" || fail "sweep_flag: the rule"
# Each part in its own field, not parsed back from the text: the flag's description is not its rule.
python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['errors'][0]; assert r['rule']=='two whole numbers joined by x' and \
  r['fix'].startswith('write e.g.') and r['what'].startswith('\"8y2\" is not AxP'), r" "$TMP/hcp_flag.out" || fail "hcp_flag: its parts"
python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['errors'][0]; assert r['what']=='not a sweep result' and \
  r['rule'].startswith('format '), r" "$TMP/merge_file.out" || fail "merge_file: its parts"
[ ! -e "$TMP/s.json" ] || fail "a sweep that failed wrote its output"
# Text output: the errors on stderr only.
"$BIN" "$TMP/bad.json" > "$TMP/text.out" 2> /dev/null; rc=$?
[ "$rc" = 2 ] && [ ! -s "$TMP/text.out" ] || fail "text: exit $rc, stdout $(head -c 200 "$TMP/text.out")"
echo "ok"

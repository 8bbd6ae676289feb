#!/usr/bin/env bash
# An output path that names an input (or another output) is refused with exit 2 before anything
# runs, and the input is left byte for byte as it was: a run's --out and --trace (the scenario, a
# link to it, its calibration, each other), --validate, a sweep's --out, fit's and check's
# --out over their measurements. Without the check each of these replaced the input (exit 0).
# Usage: output_not_input.sh HCPSIM_BINARY SOURCE_DIR
set -u
BIN="$1"; SRC="$2"; TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
cd "$TMP" || fail "tmp"
cp "$SRC/scenarios/seed-a-hcp.json" s.json
ln -s s.json link.json
cp "$SRC/calibrate/results/h200-v6-measurements.json" m.json
"$BIN" fit m.json -o cal.json > /dev/null 2>&1 || fail "fit into a new file"
python3 -c "import json; d = json.load(open('s.json')); d['calibration'] = 'cal.json'; json.dump(d, open('sc.json', 'w'))"
md5sum s.json m.json cal.json sc.json > before.md5
refused() {  # refused FLAG -- command...: exit 2 naming FLAG as the error's path
  local flag="$1"; shift 2
  "$@" > out.txt 2> err.txt; local rc=$?
  [ "$rc" = 2 ] || { cat err.txt; fail "$*: exit $rc, not 2"; }
  grep -q "^error: $flag: .*(an output must not replace an input or another output)" err.txt || { cat err.txt; fail "$*: message"; }
}
refused --out -- "$BIN" s.json -o s.json
refused --out -- "$BIN" --validate s.json -o s.json
refused --out -- "$BIN" s.json -o link.json
refused --out -- "$BIN" sc.json -o cal.json
refused --trace -- "$BIN" s.json --trace s.json
refused --trace -- "$BIN" s.json -o r.txt --trace r.txt
refused --out -- "$BIN" sweep s.json --tp 1 --cp 16 --comm p2p -o s.json
refused --out -- "$BIN" fit m.json -o m.json
refused --out -- "$BIN" check m.json --calibration cal.json --in-sample -o cal.json
# The files a scenario reads beside itself: its calibration under a sweep too, its Hugging Face config.
mkdir -p hf && cp "$SRC/scenarios/hf/llama-3.1-8b/config.json" hf/config.json
python3 -c "import json; d = json.load(open('s.json')); d['model'] = {'hf_config': 'hf/config.json'}; json.dump(d, open('shf.json', 'w'))"
md5sum hf/config.json >> before.md5
refused --out -- "$BIN" sweep sc.json --tp 1 --cp 16 --comm p2p --recompute none --pp 1 -o cal.json
refused --out -- "$BIN" --validate shf.json -o hf/config.json
# A report's page and --out are two outputs of one command.
refused --report -- "$BIN" sweep s.json --tp 1 --cp 16 --comm p2p --report rep -o rep/index.html
# A report's folder that is a file (the scenario, even) is refused before any layout is simulated.
rm -rf s.sweep
"$BIN" sweep s.json --tp 1 --cp 16 --comm p2p --report s.json > out.txt 2> err.txt; rc=$?
[ "$rc" = 2 ] && grep -q '^error: --report: "s.json" is not a folder' err.txt || { cat err.txt; fail "--report s.json: exit $rc"; }
[ ! -e s.sweep ] || fail "--report s.json: simulated before refusing"
# The sweep's own state log, in its default folder (<stem>.sweep), and the scenario of collective.
refused --out -- "$BIN" sweep s.json --tp 1 --cp 16 --comm p2p --recompute none --pp 1 -o s.sweep/results.jsonl
refused --out -- "$BIN" sweep s.json --tp 1 --cp 16 --comm p2p --recompute none --pp 1 -o s.sweep/results.previous.jsonl
refused --out -- "$BIN" collective --scenario s.json -o s.json
# stdout redirected to the file --trace would replace: the two are one file.
"$BIN" --validate s.json -o /dev/stdout --trace t.json > t.json 2> err.txt; rc=$?
[ "$rc" = 2 ] && grep -q "^error: --trace: " err.txt || { cat err.txt; fail "-o /dev/stdout --trace onto stdout's file: exit $rc"; }
md5sum -c --quiet before.md5 || fail "an input changed"
# Streams are written in place, never replaced: two outputs there are allowed.
"$BIN" --validate s.json -o /dev/null --trace /dev/null > /dev/null 2>&1 || fail "-o /dev/null --trace /dev/null"
"$BIN" --validate s.json -o /dev/stdout --trace /dev/stderr > /dev/null 2>&1 || fail "-o /dev/stdout --trace /dev/stderr"
[ ! -e r.txt ] || fail "a refused run wrote its output"
ls | grep -q "\.sweep$" && fail "a refused sweep left a state folder"
# Different files still work: the control that the refusals are not of every -o.
"$BIN" --validate s.json -o v.txt > /dev/null 2>&1 && [ -s v.txt ] || fail "--validate -o v.txt"
echo "ok"

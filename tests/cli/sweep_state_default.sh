#!/usr/bin/env bash
# Issue 12, bug 7: the sweep keeps its results in <stem>.sweep/ in the current folder (stem:
# the scenario file's name without .json), and the README says so.
# Usage: sweep_state_default.sh HCPSIM_BINARY SOURCE_DIR
set -u
BIN="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; SRC="$(cd "$2" && pwd)"; TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
mkdir -p "$TMP/studies" "$TMP/work"
cp "$SRC/scenarios/seed-c-p2p.json" "$TMP/studies/my-study.json"
cd "$TMP/work" || fail "cd"
"$BIN" sweep ../studies/my-study.json --tp 1 --cp 16 --comm p2p >/dev/null 2>"$TMP/err" || { cat "$TMP/err"; fail "sweep: exit $?"; }
[ -s "$TMP/work/my-study.sweep/results.jsonl" ] || fail "no my-study.sweep/results.jsonl in the current folder"
[ -e "$TMP/studies/my-study.sweep" ] && fail "the state folder went next to the scenario"
grep -q 'default `<stem>.sweep/results.jsonl` in the current folder' "$SRC/README.md" ||
  fail "README does not name the default state folder as <stem>.sweep/results.jsonl in the current folder"
echo "sweep_state_default: ok"

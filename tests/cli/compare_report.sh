#!/usr/bin/env bash
# `hcpsim compare --report DIR` on the small study (tests/cli/compare-small-study.json), rendered by a
# real headless Chromium: the page draws without script errors, the cost-vs-time chart has a point
# per priced option, the winner's timeline is there, and the screenshot shows the chart, bar and
# timeline colours. Skipped (exit 77) without Chart.js or a browser.
# Usage: compare_report.sh HCPSIM_BINARY SOURCE_DIR   (HCPSIM_SCREENSHOT=FILE keeps the screenshot)
set -u
BIN="$1"; SRC="$2"; TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
cp "$SRC/tests/cli/compare-small-study.json" "$TMP/study.json"
cd "$TMP" || exit 1
"$BIN" compare study.json -j 2 --report rep >/dev/null 2>err; rc=$?
if [ $rc -eq 2 ] && grep -q "built without Chart.js" err; then echo "SKIP: no Chart.js in this build"; exit 77; fi
[ $rc -eq 0 ] || { cat err; fail "compare --report: exit $rc"; }
python3 - rep/index.html <<'PY' || fail "page data"
import json, re, sys
page = open(sys.argv[1]).read()
data = json.loads(re.search(r"const DATA = (.*?);\n", page, re.S).group(1).replace("<\\/", "</"))
names = [o["name"] for o in data["options"]]
assert names[0] == "NVL72 x2" and data["options"][0]["winner"], names
assert data["options"][-1]["layout"] is None and "fits" in data["options"][-1]["none_why"]
assert data["timeline"]["tracks"], "the winner's timeline is missing"
assert "NVL72 x2" in data["timeline_label"]
PY
CHROME=""
for c in chromium-headless-shell chromium chromium-browser google-chrome; do command -v "$c" >/dev/null && { CHROME="$c"; break; }; done
[ -n "$CHROME" ] || { echo "SKIP: no headless Chromium to check the report in"; exit 77; }
FLAGS=(--headless --no-sandbox --disable-gpu --hide-scrollbars --virtual-time-budget=20000 --user-data-dir="$TMP/profile")
timeout 180 "$CHROME" "${FLAGS[@]}" --dump-dom "file://$TMP/rep/index.html" >dom.html 2>/dev/null || fail "chromium --dump-dom"
grep -q 'data-rendered="ok"' dom.html || { grep -o 'data-errors="[^"]*"' dom.html; fail "page did not render"; }
grep -q 'data-points="2"' dom.html || fail "the cost-vs-time chart should show the 2 priced options"
timeout 180 "$CHROME" "${FLAGS[@]}" --window-size=1400,2400 --screenshot="$TMP/shot.png" "file://$TMP/rep/index.html" \
  >/dev/null 2>&1 || fail "chromium --screenshot"
[ -n "${HCPSIM_SCREENSHOT:-}" ] && cp "$TMP/shot.png" "$HCPSIM_SCREENSHOT"
# 3b7dd8: the first option's point and the time bars; 6aa84f: tokens/s bars; 8c6bb1: the timeline's TP comm.
python3 "$SRC/tests/cli/png_colours.py" "$TMP/shot.png" 3b7dd8 6aa84f 8c6bb1 || fail "the screenshot lacks the charts' colours"
echo "compare_report: ok ($CHROME)"

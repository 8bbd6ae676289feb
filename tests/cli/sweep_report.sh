#!/usr/bin/env bash
# `hcpsim sweep --report DIR` writes one self-contained page (Chart.js inside,
# nothing fetched) that a real headless Chromium renders without script errors,
# and whose screenshot shows the throughput/headroom chart and the timelines
# (their bar colours are counted in the PNG). Skipped (exit 77) without a browser.
# Usage: sweep_report.sh HCPSIM_BINARY SOURCE_DIR   (HCPSIM_SCREENSHOT=FILE keeps the screenshot)
set -u
BIN="$1"; SRC="$2"; TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
SEED="$SRC/scenarios/seed-a-hcp.json"

"$BIN" sweep "$SEED" --tp 1,2 --cp 4,16 --comm p2p,a2a,a2a+p2p --hcp 8x2 --state "$TMP/st" --report "$TMP/rep/" --top 2 \
  -o "$TMP/table.txt" 2>"$TMP/err"; rc=$?
if [ $rc -eq 2 ] && grep -q "built without Chart.js" "$TMP/err"; then
  echo "SKIP: hcpsim was built without Chart.js (apt install libjs-chart.js, re-run cmake)"; exit 77
fi
[ $rc -eq 0 ] || { cat "$TMP/err"; fail "sweep --report: exit $rc"; }
grep -q "report written to $TMP/rep/index.html" "$TMP/err" || { cat "$TMP/err"; fail "--report DIR/ names its page DIR/index.html"; }
PAGE="$TMP/rep/index.html"
[ -s "$PAGE" ] || fail "no index.html"
[ "$(ls "$TMP/rep")" = index.html ] || fail "the report is more than one file"
grep -Eiq '<(script|link|img)[^>]+(src|href)=' "$PAGE" && fail "the page loads something from elsewhere"
grep -q 'Chart.js v3' "$PAGE" || fail "Chart.js not embedded"
grep -q '"timeline":{' "$PAGE" || fail "no timeline data"

CHROME=""
for c in chromium-headless-shell chromium chromium-browser google-chrome; do
  command -v "$c" >/dev/null && { CHROME="$c"; break; }
done
if [ -z "$CHROME" ]; then
  echo "SKIP: no headless Chromium to check the report in (apt install chromium-headless-shell)"; exit 77
fi
FLAGS=(--headless --no-sandbox --disable-gpu --hide-scrollbars --virtual-time-budget=10000 --enable-logging=stderr --v=0
       --user-data-dir="$TMP/profile")
timeout 120 "$CHROME" "${FLAGS[@]}" --dump-dom "file://$PAGE" >"$TMP/dom.html" 2>"$TMP/chrome.err" || fail "chromium --dump-dom"
grep -q 'data-rendered="ok"' "$TMP/dom.html" || { grep -o 'data-errors="[^"]*"' "$TMP/dom.html"; fail "page did not render"; }
grep -q 'data-errors=' "$TMP/dom.html" && fail "script errors: $(grep -o 'data-errors="[^"]*"' "$TMP/dom.html")"
grep -Ei 'CONSOLE.*(error|uncaught)|Uncaught' "$TMP/chrome.err" && fail "console errors"
TIMELINES="$(grep -o '"timeline":{' "$PAGE" | wc -l)"
[ "$TIMELINES" -ge 2 ] || fail "want the top 2 timelines, got $TIMELINES"
[ "$(grep -o '<canvas' "$TMP/dom.html" | wc -l)" -eq $((1 + TIMELINES)) ] || fail "want the chart and one canvas per timeline"

timeout 120 "$CHROME" "${FLAGS[@]}" --window-size=1400,2600 --screenshot="$TMP/shot.png" "file://$PAGE" \
  >/dev/null 2>&1 || fail "chromium --screenshot"
[ -n "${HCPSIM_SCREENSHOT:-}" ] && cp "$TMP/shot.png" "$HCPSIM_SCREENSHOT"
# Count pixels of the colours the page draws with: chart bars (throughput blue,
# headroom green) and timeline bars (attention blue, CP comm orange).
python3 "$SRC/tests/cli/png_colours.py" "$TMP/shot.png" 3b7dd8 6aa84f f0a030 || fail "the screenshot does not show the chart and the timeline"
echo "sweep_report: ok ($CHROME)"

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

"$BIN" sweep "$SEED" --tp 1,2 --cp 4,16 --comm p2p,a2a,a2a+p2p --hcp 8x2 --state "$TMP/st" --report "$TMP/rep" --top 2 \
  -o "$TMP/table.txt" 2>"$TMP/err"; rc=$?
if [ $rc -eq 2 ] && grep -q "built without Chart.js" "$TMP/err"; then
  echo "SKIP: hcpsim was built without Chart.js (apt install libjs-chart.js, re-run cmake)"; exit 77
fi
[ $rc -eq 0 ] || { cat "$TMP/err"; fail "sweep --report: exit $rc"; }
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
[ "$(grep -o '<canvas' "$TMP/dom.html" | wc -l)" -eq 3 ] || fail "want 3 canvases: the chart and 2 timelines"

timeout 120 "$CHROME" "${FLAGS[@]}" --window-size=1400,2600 --screenshot="$TMP/shot.png" "file://$PAGE" \
  >/dev/null 2>&1 || fail "chromium --screenshot"
[ -n "${HCPSIM_SCREENSHOT:-}" ] && cp "$TMP/shot.png" "$HCPSIM_SCREENSHOT"
# Count pixels of the colours the page draws with: chart bars (throughput blue,
# headroom green) and timeline bars (attention blue, CP comm orange).
python3 - "$TMP/shot.png" <<'PY' || fail "the screenshot does not show the chart and the timeline"
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n"
pos, idat, w, h, ctype = 8, b"", 0, 0, 0
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8]); body = data[pos + 8:pos + 8 + n]; pos += 12 + n
    if kind == b"IHDR": w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
    if kind == b"IDAT": idat += body
bpp = {2: 3, 6: 4}[ctype]
raw, stride, prev, rows = zlib.decompress(idat), w * bpp, bytearray(w * bpp), []
for y in range(h):
    f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0; b = prev[i]; c = prev[i - bpp] if i >= bpp else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    rows.append(bytes(line)); prev = line
want = {"throughput/attention blue": (0x3b, 0x7d, 0xd8), "headroom green": (0x6a, 0xa8, 0x4f), "CP comm orange": (0xf0, 0xa0, 0x30)}
counts = {k: 0 for k in want}
for line in rows:
    for x in range(0, w * bpp, bpp):
        px = tuple(line[x:x + 3])
        for k, rgb in want.items():
            if all(abs(px[i] - rgb[i]) <= 6 for i in range(3)): counts[k] += 1
print("pixels:", counts)
assert all(v > 500 for v in counts.values()), counts
PY
echo "sweep_report: ok ($CHROME)"

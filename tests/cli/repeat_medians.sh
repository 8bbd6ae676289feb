#!/usr/bin/env bash
# calibrate/torch/repeat_medians.py: probe_repeat.py's records of one shape, over sets and
# processes, as one record (the median of their medians, the fastest and slowest, the count).
# CPU only; the inputs are made by hand and the answer derived beside them.
SRC="$2"
command -v python3 >/dev/null || { echo "SKIP: python3 not found"; exit 77; }
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
TOOL="$SRC/calibrate/torch/repeat_medians.py"
rec() {  # seq heads median_s clock
  echo "{\"backend\": \"flash\", \"seq\": $1, \"heads\": $2, \"mask\": \"causal\", \"pass\": \"fwd\", \"repeat\": 0,
         \"median_s\": $3, \"min_s\": $3, \"max_s\": $3, \"sm_clock_mhz\": $4, \"iterations\": 20}"
}
doc() { echo "{\"tool\": \"probe_repeat.py\", \"gpu\": \"$1\", \"sms\": 132, \"torch\": \"2.11\", \"records\": [$2]}"; }
# Process 1: 2432 x 8 at 111, 101, 88 us; 1536 x 14 at 71 us. Process 2: 2432 x 8 at 107, 95 us.
doc "NVIDIA H200" "$(rec 2432 8 111e-6 1980), $(rec 2432 8 101e-6 1975), $(rec 2432 8 88e-6 1970), $(rec 1536 14 71e-6 1981)" >"$TMP/p1.json"
doc "NVIDIA H200" "$(rec 2432 8 107e-6 1979), $(rec 2432 8 95e-6 1978), $(rec 2176 8 85.0e-6 1971), $(rec 2176 8 85.6e-6 1972), $(rec 2176 8 85.2e-6 1973), $(rec 2176 8 85.4e-6 1974)" >"$TMP/p2.json"
python3 "$TOOL" --out "$TMP/m.json" "$TMP/p1.json" "$TMP/p2.json" || fail "exit $?"
python3 - "$TMP/m.json" <<'PY' || exit 1
import json, sys
d = json.load(open(sys.argv[1]))
assert d["gpu"] == "NVIDIA H200" and d["sms"] == 132, d
r = {(x["seq"], x["heads"]): x for x in d["records"]}
a = r[(2432, 8)]
# medians 88, 95, 101, 107, 111: the median of five is 101, whose record's clock (1975) it keeps.
assert abs(a["median_s"] - 101e-6) < 1e-12, a
assert abs(a["min_s"] - 88e-6) < 1e-12 and abs(a["max_s"] - 111e-6) < 1e-12, a
assert a["sets"] == 5 and a["sm_clock_mhz"] == 1975, a
b = r[(1536, 14)]
c = r[(2176, 8)]
# medians 85.0, 85.6, 85.2, 85.4 (clocks 1971-1974): an even count, (85.2 + 85.4) / 2 = 85.3, the
# clock of the lower middle record, 85.2's (1973).
assert abs(c["median_s"] - 85.3e-6) < 1e-12 and c["sets"] == 4 and c["sm_clock_mhz"] == 1973, c
assert abs(b["median_s"] - 71e-6) < 1e-12 and b["sets"] == 1, b
print("medians as derived")
PY
# Bad input: exit 2 with a message, not a traceback.
doc "NVIDIA H100" "$(rec 2432 8 90e-6 1980)" >"$TMP/other.json"
printf 'not json' >"$TMP/bad.json"
echo '{"gpu": "NVIDIA H200", "sms": 132, "torch": "2.11", "records": [{"seq": 1}]}' >"$TMP/short.json"
for bad in "$TMP/missing.json" "$TMP/bad.json" "$TMP/short.json" "$TMP/other.json"; do
  ERR="$(python3 "$TOOL" --out "$TMP/x.json" "$TMP/p1.json" "$bad" 2>&1 >/dev/null)"; rc=$?
  [ $rc -eq 2 ] || fail "$(basename "$bad"): exit $rc, not 2 ($ERR)"
  echo "$ERR" | grep -q Traceback && fail "$(basename "$bad"): traceback"
  [ -e "$TMP/x.json" ] && fail "$(basename "$bad"): wrote an output"
done
echo "repeat_medians: ok"

#!/usr/bin/env bash
# calibrate/torch/splitkv_combine_check.py: a calibration's combine-kernel terms against the
# combine kernel's recorded time, per split launch of a probe file. CPU only; the inputs are made
# by hand and the answer derived beside them.
SRC="$2"
command -v python3 >/dev/null || { echo "SKIP: python3 not found"; exit 77; }
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
# Terms at 1000 MHz: launch 2 us, 1 ns a row, 1 ps a partial-output element (causal); no mask 3 us.
cat >"$TMP/cal.json" <<'JSON'
{"attention_shape": {"backend": "flash", "sm_clock_mhz": 1000,
  "fwd_causal": {"combine_launch_s": 2e-6, "combine_row_s": 1e-9, "split_element_s": 1e-12},
  "fwd_nomask": {"combine_launch_s": 3e-6, "combine_row_s": 0, "split_element_s": 0}}}
JSON
# 1. causal, 4 heads x 1000 tokens = 4000 rows, grid y 5 splits, probed at 2000 MHz: terms at 1000
#    MHz 2 + 4 + 5 x 4000 x 128 x 1e-6 = 8.56 us, at 2000 MHz 4.28 us; combine kernel 4.28 us: 1.00.
# 2. no mask, 2 splits, same clock as the calibration: 3 us against 6 us: 0.50.
# 3. an unsplit launch (one kernel) and a backward: not counted.
cat >"$TMP/probe.json" <<'JSON'
{"records": [
 {"pass": "fwd", "mask": "causal", "seq": 1000, "heads": 4, "sm_clock_mhz": 2000,
  "kernels": [{"grid": [16, 5, 4], "median_us": 20}, {"grid": [1000, 1, 1], "median_us": 4.28}]},
 {"pass": "fwd", "mask": "none", "seq": 512, "heads": 1, "sm_clock_mhz": 1000,
  "kernels": [{"grid": [8, 2, 1], "median_us": 5}, {"grid": [128, 1, 1], "median_us": 6}]},
 {"pass": "fwd", "mask": "none", "seq": 4096, "heads": 16, "kernels": [{"grid": [32, 1, 16], "median_us": 90}]},
 {"pass": "bwd", "mask": "none", "seq": 512, "heads": 1, "kernels": [{"grid": [4, 1, 1], "median_us": 9}, {"grid": [1, 1, 1], "median_us": 1}]}
]}
JSON
OUT="$(python3 "$SRC/calibrate/torch/splitkv_combine_check.py" "$TMP/cal.json" "$TMP/probe.json")" || fail "exit $?"
echo "$OUT"
echo "$OUT" | grep -Eq '^ +1000 +4 causal +5 +4000 +4\.28 +4\.28 +1\.00$' || fail "causal launch"
echo "$OUT" | grep -Eq '^ +512 +1 none +2 +512 +3\.00 +6\.00 +0\.50$' || fail "no-mask launch"
echo "$OUT" | grep -q '^# 2 split launches: terms / combine kernel median 0.75, min 0.50, max 1.00$' || fail "summary"
# Bad input: exit 2, not a traceback.
python3 "$SRC/calibrate/torch/splitkv_combine_check.py" "$TMP/probe.json" "$TMP/probe.json" >/dev/null 2>&1
[ $? -eq 2 ] || fail "a file without attention_shape must exit 2"
echo '{"records": []}' >"$TMP/empty.json"
python3 "$SRC/calibrate/torch/splitkv_combine_check.py" "$TMP/cal.json" "$TMP/empty.json" >/dev/null 2>&1
[ $? -eq 2 ] || fail "no split launch must exit 2"
# A calibration of another backend (cuDNN never splits), a mask it does not know, a record without
# its kernels' grid, a list where an object belongs: exit 2 with a message, never a traceback.
sed 's/"flash"/"cudnn"/' "$TMP/cal.json" >"$TMP/cudnn.json"
sed 's/"mask": "none", "seq": 512/"mask": "sliding", "seq": 512/' "$TMP/probe.json" >"$TMP/mask.json"
sed 's/"grid": \[16, 5, 4\], //' "$TMP/probe.json" >"$TMP/nogrid.json"
echo '[1, 2]' >"$TMP/list.json"
for args in "cudnn.json probe.json" "cal.json mask.json" "cal.json nogrid.json" "list.json probe.json" "cal.json list.json"; do
  set -- $args
  ERR="$(python3 "$SRC/calibrate/torch/splitkv_combine_check.py" "$TMP/$1" "$TMP/$2" 2>&1 >/dev/null)"
  [ $? -eq 2 ] || fail "$args must exit 2"
  echo "$ERR" | grep -q "Traceback" && fail "$args: a traceback"
  echo "$ERR" | grep -q "^splitkv_combine_check: " || fail "$args: no message ($ERR)"
done
echo PASS

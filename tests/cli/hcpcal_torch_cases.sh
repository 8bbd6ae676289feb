#!/usr/bin/env bash
# hcpcal_torch's --cases: the attention grid's cases whose name matches a regular expression, in the
# grid's order (calibrate/RESULTS.md, sixteenth run: the bottom-right prefixes alone). CPU only: the
# selection needs no GPU. A bad expression, or one that keeps no case, is refused at parsing (exit 2).
SRC="$2"
command -v python3 >/dev/null || { echo "SKIP: python3 not found"; exit 77; }
cd "$SRC/calibrate/torch" || exit 1
python3 - <<'PY' || exit 1
import sys
import hcpcal_torch as H

bad = []
def names(argv):
    return [c.name for c in H.selected_cases(H.parse_args(argv))]
# The grid's prefix cases with KV heads 8, up to 64K keys: c x m c for m in 2, 4, 8, c from 1024 by
# the factor 2 x 2 = 4 up to 65536 / m: m = 2, 4 -> 1024, 4096, 16384; m = 8 -> 1024, 4096.
want = [f"c{c}_prefix{m}" for m in (2, 4, 8) for c in ((1024, 4096, 16384) if m < 8 else (1024, 4096))]
got = names(["--suite", "attention", "--heads-kv", "8", "--seq-max", "65536", "--cases", "prefix"])
if got != want:
    bad.append(f"--cases prefix: {got}, want {want}")
# Between the grid's sizes (factor sqrt 2 -> 2 for the prefixes), three lengths held out.
got = names(["--suite", "attention", "--heads-kv", "8", "--seq-max", "65536", "--seq-factor", "1.41421356",
             "--cases", "c(2048|8192|32768)_prefix"])
want = ["c2048_prefix2", "c8192_prefix2", "c32768_prefix2", "c2048_prefix4", "c8192_prefix4", "c2048_prefix8",
        "c8192_prefix8"]
if got != want:
    bad.append(f"held-out prefixes: {got}, want {want}")
# Without --cases: the whole grid.
o = H.parse_args(["--suite", "attention"])
if [c.name for c in H.selected_cases(o)] != [c.name for c in H.attention_cases(o)]:
    bad.append("no --cases: not the whole grid")
# A flag error at parsing (argparse, exit 2), before any file exists: an expression that keeps no
# case, and one that is not a regular expression.
for cases in ("no_such_case", "c(1024"):
    try:
        H.parse_args(["--cases", cases])
        bad.append(f"--cases '{cases}' was accepted")
    except SystemExit as e:
        if e.code != 2:
            bad.append(f"--cases '{cases}': exit {e.code}, want 2")
for b in bad:
    print("FAIL:", b)
sys.exit(1 if bad else 0)
PY
echo "hcpcal_torch --cases selects the grid's cases by name"

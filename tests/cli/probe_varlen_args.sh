#!/usr/bin/env bash
# calibrate/torch/probe_varlen.py without a GPU: its packings (ring-flash-attention's four, the same
# ones bench/published/run.py runs its varlen rows with, each of 8192 tokens; their x8 of 65536),
# --packings parsed by name, and bad arguments refused (exit 2) before PyTorch is imported.
SRC="$2"
command -v python3 >/dev/null || { echo "SKIP: python3 not found"; exit 77; }
PYTHONPATH="$SRC/calibrate/torch:$SRC/bench/published:$SRC/bench" python3 - <<'PY' || { echo "FAIL: probe_varlen packings"; exit 1; }
import probe_varlen as P
import run
assert P.RFA_PACKINGS == run.RFA_VARLEN_PACKINGS, "the probe and the bench read the benchmark's packings alike"
d = P.default_packings()
assert all(sum(d[f"rfa{i}"]) == 8192 and sum(d[f"rfa{i}x8"]) == 65536 for i in range(4)), d
assert len(d["short64"]) == 64 and min(d["short64"]) == 256 and max(d["short64"]) == 1024
assert P.parse_packings("a=4096,2048;b=8192") == {"a": [4096, 2048], "b": [8192]}
assert P.parse_packings("1024,1024") == {"p0": [1024, 1024]}
print("probe_varlen packings: ok")
PY
out="$(python3 "$SRC/calibrate/torch/probe_varlen.py" --heads 6 --kv-heads 4 --out /dev/null 2>&1)"; rc=$?
[ "$rc" = 2 ] || { echo "FAIL: --heads 6 --kv-heads 4 exited $rc, not 2: $out"; exit 1; }
echo "$out" | grep -q "multiple of --kv-heads" || { echo "FAIL: message: $out"; exit 1; }
echo "probe_varlen refuses heads that do not group: ok"

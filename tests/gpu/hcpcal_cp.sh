#!/usr/bin/env bash
# GPU test of the CP attention itself (hcpcal's cp suite): every transport, forward and backward,
# with virtual ranks on one GPU, on a short sequence; hcpcal exits 1 when any element of any
# rank's output or gradient differs from single-GPU attention (the #wrong column), 0 when all
# match. Skips (exit 77, ctest SKIP_RETURN_CODE) where no GPU exists.
set -u
HCPCAL="$1"; TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
if ! command -v nvidia-smi >/dev/null || ! nvidia-smi -L 2>/dev/null | grep -q '^GPU '; then
  echo "SKIP: no NVIDIA GPU here (nvidia-smi lists none); the CP attention check runs on GPU machines"
  exit 77
fi
"$HCPCAL" --suite cp --cp-seq 4096 --cp-ranks 2,4,8 -n 2 -w 1 --warmup-ms 0 --out "$TMP/cp.json"; rc=$?
[ $rc -eq 0 ] || { echo "FAIL: hcpcal cp suite exit $rc (1 = wrong elements, 3 = CUDA error)"; exit 1; }
n=$(grep -c '"kind": "cp_attention"' "$TMP/cp.json")
# 2 passes x (p2p, all_gather, a2a: 3 sizes each) + 2 passes x 3 HCP splits = 24 runs
[ "$n" -eq 24 ] || { echo "FAIL: $n cp_attention records, want 24"; exit 1; }
echo "PASS: 24 CP attention runs, 0 wrong elements"

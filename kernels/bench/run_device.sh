#!/usr/bin/env bash
# One device call: build the CUDA parts, run the GPU tests, time PyTorch SDPA and hcpsim's
# kernels on the same shapes, print the side-by-side table. Logs go to $OUT (or ./out).
# Usage: kernels/bench/run_device.sh [tests|bench|all] [shape-filter]
set -uo pipefail
what="${1:-all}"
filter="${2:-}"
out="${OUT:-out}"
mkdir -p "$out"
cmake -S . -B build-gpu -DHCPSIM_GPU_ONLY=ON -DCMAKE_BUILD_TYPE=Release -G Ninja >"$out/cmake.log" 2>&1 || { tail -20 "$out/cmake.log"; exit 1; }
cmake --build build-gpu -j"$(nproc)" >"$out/build.log" 2>&1 || { grep -E "error" "$out/build.log" | head -30; exit 1; }
nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm,temperature.gpu,power.draw --format=csv,noheader
status=0
if [ "$what" != bench ]; then
  (cd build-gpu && ctest --output-on-failure -L gpu 2>&1) | tee "$out/tests.log" | grep -E "PASS|FAIL|SKIP|tests passed|checks|Test #" | head -60
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
fi
if [ "$what" != tests ]; then
  PYTHONUNBUFFERED=1 python3 kernels/bench/sdpa_bench.py "$out/sdpa.csv" "$filter" >"$out/sdpa.log" 2>&1 || tail -5 "$out/sdpa.log"
  ./build-gpu/kernels/hcpsim_attn_bench --torch-csv "$out/sdpa.csv" ${filter:+--filter "$filter"} 2>&1 | tee "$out/bench.log" || status=1
fi
exit $status

#!/usr/bin/env bash
# One device call: build the CUDA parts, run the GPU tests, time PyTorch SDPA and hcpsim's
# kernels on the same shapes, print the side-by-side table. Logs go to $OUT (or ./out).
# Usage: kernels/bench/run_device.sh [tests|bench|all|profile] [shape-filter]
set -uo pipefail
what="${1:-all}"
filter="${2:-}"
out="${OUT:-out}"
mkdir -p "$out"
cmake -S . -B build-gpu -DHCPSIM_GPU_ONLY=ON -DCMAKE_BUILD_TYPE=Release -G Ninja >"$out/cmake.log" 2>&1 || { tail -20 "$out/cmake.log"; exit 1; }
cmake --build build-gpu -j"$(nproc)" >"$out/build.log" 2>&1 || { grep -E "error" "$out/build.log" | head -30; exit 1; }
nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm,temperature.gpu,power.draw --format=csv,noheader
status=0
if [ "$what" = all ] || [ "$what" = tests ]; then
  (cd build-gpu && ctest -V -L gpu 2>&1) | tee "$out/tests.log" | grep -E "PASS|FAIL|SKIP|tests passed|checks|seed" | head -60
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
fi
if [ "$what" = all ] || [ "$what" = bench ]; then
  # TORCH_CSV=file reuses an earlier sdpa_bench.py result instead of timing PyTorch again.
  csv="${TORCH_CSV:-$out/sdpa.csv}"
  if [ -z "${TORCH_CSV:-}" ]; then
    PYTHONUNBUFFERED=1 python3 kernels/bench/sdpa_bench.py "$csv" "$filter" >"$out/sdpa.log" 2>&1 || tail -5 "$out/sdpa.log"
  fi
  ./build-gpu/kernels/hcpsim_attn_bench --torch-csv "$csv" ${filter:+--filter "$filter"} 2>&1 | tee "$out/bench.log" || status=1
fi
if [ "$what" = profile ]; then
  # Nsight Compute on one forward and one backward launch (clocks left alone).
  stalls=$(for r in barrier long_scoreboard short_scoreboard mio_throttle math_pipe_throttle wait not_selected selected dispatch_stall lg_throttle no_instruction branch_resolving; do printf 'smsp__average_warps_issue_stalled_%s_per_issue_active.ratio,' $r; done)
  ncu --clock-control none -k regex:flash_ -c 2 --section SpeedOfLight --section ComputeWorkloadAnalysis \
      --metrics "${stalls}sm__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_active,l1tex__data_bank_conflicts_pipe_lsu_mem_shared.sum,l1tex__data_pipe_lsu_wavefronts_mem_shared.sum,smsp__inst_executed.sum,sm__cycles_elapsed.avg" \
      ./build-gpu/kernels/hcpsim_attn_bench --filter "${filter:-s8192_full_hk32}" --reps 1 --warmup 0 >"$out/ncu.txt" 2>&1
  grep -E "flash_|Duration|SM Frequency|Throughput|stalled|pipe_tensor|bank|wavefronts|inst_executed|cycles_elapsed|Issue Slots|pipeline" "$out/ncu.txt" | grep -v "^==" | head -80
fi
exit $status

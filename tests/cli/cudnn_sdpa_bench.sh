#!/usr/bin/env bash
# bench/cudnn-sdpa/run.py compares hcpsim's cuDNN attention with NVIDIA's own cuDNN SDPA benchmark
# case by case; its committed output (bench/cudnn-sdpa/results.txt, docs/cost-model.md "the
# roofline") must be what the built binary gives now: a change to the cost model that moves these
# predictions fails here until the results and the docs' numbers are regenerated with the command.
# 30 cases and 6 summaries.
set -u
command -v python3 >/dev/null || { echo "SKIP: python3 not found"; exit 77; }
exec python3 "$2/tests/cli/bench_current.py" "$1" "$2" cudnn-sdpa '(h200|gb200|gb300) =36'

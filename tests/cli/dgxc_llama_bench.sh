#!/usr/bin/env bash
# bench/dgxc-llama/run.py times NVIDIA's published BF16 Llama 3.1 training steps (DGX H100, DGX GB200)
# with hcpsim; its committed output (bench/dgxc-llama/results.txt, quoted in its README, the project
# README and docs/cost-model.md) must be what the built binary gives now: a change anywhere in the
# step's model that moves these predictions fails here until the results and the docs' numbers are
# regenerated with the command. 36 published rows (18 BF16, 18 FP8) and 5 summaries (memory, one per system and precision).
set -u
command -v python3 >/dev/null || { echo "SKIP: python3 not found"; exit 77; }
exec python3 "$2/tests/cli/bench_current.py" "$1" "$2" dgxc-llama 'Llama3.1 =36' 'summary =5'

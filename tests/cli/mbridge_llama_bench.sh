#!/usr/bin/env bash
# bench/mbridge-llama/run.py times NVIDIA's published Megatron-Bridge Llama pre-training throughput
# (DGX H100, DGX B200, GB200 and GB300 NVL72) with hcpsim; its committed output
# (bench/mbridge-llama/results.txt, quoted in its README and docs/cost-model.md) must be what the
# built binary gives now: a change anywhere in the step's model that moves these predictions fails
# here until the results and the docs' numbers are regenerated with the command. 72 expressed rows,
# 10 summaries (memory, the allocator's margin, one per system and recipe), 1 reason rows were not expressible.
set -u
command -v python3 >/dev/null || { echo "SKIP: python3 not found"; exit 77; }
exec python3 "$2/tests/cli/bench_current.py" "$1" "$2" mbridge-llama '2[56]\.[0-9.]+ +LLAMA=72' 'summary =10' 'skipped =1'

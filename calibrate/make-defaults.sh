#!/usr/bin/env bash
# The built-in H200 kernel defaults from the committed measurements: the one command, run by
# hand after a model change (into src/cost/defaults) and by tests/cli/defaults_current.sh (into a
# temporary folder, compared with the committed files). What each file holds and why these
# measurements: calibrate/make_defaults.py and docs/cost-model.md ("Built-in defaults").
#
#   calibrate/make-defaults.sh build/hcpsim src/cost/defaults
#
# Fitted on: [v25]'s grid and 128K, [v28]'s cuDNN bottom-right prefixes; shape models also on the
# head-count probes (cuDNN's forward, [v18]-[v20]; FlashAttention-2's forward, [v32]). Checked on
# the held-out sets (never fitted): [v23], [v28]'s mid prefixes, the flash mid grid, [v30], [v33].
# The H100's own: cuBLAS GEMM and the copy ([v36]); the memory-bound kernels ([v37], the kernels
# suite), checked on [v36]'s layer and its ops (calibrate/results/h100-v36/h100-v36-ops-as-kernels.json);
# Transformer Engine's fp8 GEMMs of the H100 ([v38]) and the H200 ([v39]), hcpcal_torch's gemm suite (its
# bf16 records are a check of the bf16 GEMM defaults, not fitted).
set -euo pipefail
export LC_ALL=C  # the glob below in one order everywhere
[ $# -eq 2 ] || { echo "usage: $0 HCPSIM OUT_DIR" >&2; exit 2; }
cd "$(dirname "$0")/.."  # the files record the measurements' paths as typed from the source folder
R=calibrate/results
exec python3 calibrate/make_defaults.py --hcpsim "$1" --out "$2" \
  $R/h200-v25-torch-measurements.json $R/h200-v25-torch-131072.json $R/h200-v28-torch-cudnn-prefix.json \
  --shape-only $R/h200-v18-v20-probe-cudnn-fwd.json $R/h200-v32-probe-flash-fwd.json \
  --held-out $R/h200-v23-torch-cudnn-mid.json $R/h200-v25-torch-flash-mid.json $R/h200-v28-torch-cudnn-prefix-mid.json \
  $R/h200-v30-torch-flash-a.json $R/h200-v30-torch-flash-b.json $R/h200-v30-torch-flash-c.json \
  $R/h200-v33/h200-v33-torch-flash-hq-*.json $R/h200-v33-probe-flash-fwd.json \
  --gpu h100 $R/h100-v36/h100-v36-gemm-copy.json $R/h100-v37/h100-v37-torch-kernels.json \
  --fp8-gemm h100 $R/h100-v38/h100-v38-gemm-fp8.json --fp8-gemm h200 $R/h200-v39/h200-v39-gemm-fp8.json

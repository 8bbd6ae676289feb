#!/usr/bin/env bash
# compare picks a pipeline where memory needs one: Llama-3.1-70B at 8K on 4 x DGX-H100 with TP8,
# no recompute. PP = 1 does not fit (70.6B / 8 = 8.8B parameters per GPU at 2 + 4 B plus Adam's
# 12 B / DP 4 = 3 B: 9 B x 8.8B = 79 GB of model state alone on an 80 GB GPU), so the default space
# brings in PP 2 and 4 (and 4 interleaved); the option's best layout is pipelined, its JSON names
# pp and vpp, the CSV of the sweep side carries them.
# Usage: compare_pipeline.sh HCPSIM_BINARY SOURCE_DIR
set -u
BIN="$1"; SRC="$2"; TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
cat >"$TMP/study.json" <<'JSON'
{
  "name": "70B at 8K: a pipeline where memory needs one",
  "job": {"model": {"preset": "llama3.1-70b"},
          "training": {"seq_length": 8192, "global_batch_size": 32, "precision": "bf16"},
          "token_budget": 1e9},
  "prices_source": "test prices",
  "options": [{"name": "H100 x4", "cluster": {"preset": "dgx-h100", "num_nodes": 4}, "price_per_gpu_hour": 2.0}],
  "sweep": {"tensor_model_parallel_size": [8], "context_parallel_size": [1], "cp_comm_type": ["p2p"],
            "recompute_granularity": ["none"], "micro_batch_size": [1]}
}
JSON
"$BIN" compare "$TMP/study.json" --state "$TMP/st" -j 2 --format json -o "$TMP/out.json" 2>"$TMP/err" || { cat "$TMP/err"; fail "compare: exit $?"; }
python3 - "$TMP/out.json" <<'PY' || fail "compare result"
import json, sys
d = json.load(open(sys.argv[1]))
status = {c["key"]: c["status"] for c in d["candidates"]}
assert status["o1.tp8-cp1-mbs1-none"] == "unfit", status          # PP 1: model state alone ~79 GB
for k in ("o1.tp8-cp1-pp2-mbs1-none", "o1.tp8-cp1-pp4-mbs1-none", "o1.tp8-cp1-pp4v2-mbs1-none"):
    assert status.get(k) == "ok", (k, status)
best = d["options"][0]["layout"]
assert best["pp"] > 1 and best["tp"] == 8, best
print("best:", best["label"], "pp", best["pp"], "vpp", best["vpp"])
PY
"$BIN" compare "$TMP/study.json" --state "$TMP/st" --resume -j 2 >"$TMP/out.txt" 2>&1 || fail "text"
grep -q "x PP" "$TMP/out.txt" || { cat "$TMP/out.txt"; fail "no pipelined layout in the table"; }
echo ok

#!/usr/bin/env bash
# Activation offloading through a whole run (training.cpu_offloading_num_layers; rules/activation_offload.hpp,
# run/simulate.cpp): Llama-3.1-8B on one H100, 31 of its 32 layers offloaded over a host link of 1 GB/s,
# so that every copy (c = a layer's saved bytes / 1 GB/s, about 0.57 s) outlasts every layer (f, b: a few ms).
# Worked out here from TE's schedule (docs/simulation.md), not from hcpsim's code:
#   forward: layer i's copy starts when layer i ends and must end before layer i + 1 starts (L - N = 1),
#     so each layer after the first starts c after the one before ended: the forward waits 31 c;
#   backward: layer i's reload (i < 31) is issued when its own backward would start (L - 1 - N = 0 layers
#     ahead) and takes c: 31 c again;
#   each way the copies' HBM time, 31 x the layer's bytes / 3.35 TB/s (the H100's datasheet HBM3);
#   the step runs both micro batches through these waits.
# A layer's saved bytes, bf16 at TP 1 without recomputation (memory/activations.hpp's terms, from the shapes):
# per token 2 x (2 x 4096 + (32 + 2 x 8) x 128) + 2 x 4096 + 4 x 32 + 2 x (2 x 4096 + 3 x 14336) = 139392 B,
# 4096 tokens; the run's memory table must hold one such layer (31 offloaded).
set -u
BIN="$1"; TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
command -v python3 >/dev/null || { echo "SKIP: python3 not found"; exit 77; }
cat > "$TMP/s.json" <<'JSON'
{ "name": "offload waits", "model": { "preset": "llama3.1-8b" },
  "training": { "seq_length": 4096, "micro_batch_size": 1, "global_batch_size": 2, "precision": "bf16",
                "cpu_offloading_num_layers": 31 },
  "parallel": { "tensor_model_parallel_size": 1, "context_parallel_size": 1 },
  "cluster": { "preset": "dgx-h100", "num_nodes": 1, "gpus_per_node": 1, "host_link_GBps": 1 } }
JSON
"$BIN" "$TMP/s.json" --format json --reproducible -o "$TMP/r.json" > "$TMP/out.txt" 2>&1 || fail "run: exit $?"
python3 - "$TMP/r.json" <<'PY' || fail "offload waits"
import json, sys
r = json.load(open(sys.argv[1]))
saved = [c for c in r["memory"]["breakdown"] if c["name"] == "activations (saved)"]
assert len(saved) == 1 and "31 more offloaded" in saved[0]["note"], saved
layer_bytes = 4096 * (2 * (2 * 4096 + 48 * 128) + 2 * 4096 + 4 * 32 + 2 * (2 * 4096 + 3 * 14336))
assert abs(saved[0]["bytes"] - layer_bytes) <= 1e-9 * layer_bytes, (saved[0]["bytes"], layer_bytes)
c = layer_bytes / 1e9
hbm = 31 * layer_bytes / 3.35e12
s = r["step"]
for way in ("forward", "backward"):
    want, got = 31 * c + hbm, s["offload_%s_s" % way]
    assert abs(got - want) <= 1e-6 * want, (way, got, want)
f, b = r["layer"]["forward_s"], r["layer"]["backward_s"]
assert c > 50 * max(f, b), (c, f, b)            # the regime the closed form assumes
assert s["time_s"] >= 2 * 2 * (31 * c + hbm), s["time_s"]
assert any(u["what"] == "activation offload" for u in r["uncertainty"]["components"]), r["uncertainty"]
print("offload waits: %.4f s each way a micro batch (31 x %.4f s + HBM %.4f s)" % (31 * c + hbm, c, hbm))
PY

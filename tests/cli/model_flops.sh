#!/usr/bin/env bash
# MFU's model FLOPs (run/simulate.cpp, model_flops) against the closed form of a Llama step, written
# here from the model's published shape (Llama-3.1-8B: 32 layers, hidden 4096, 32 query and 8 KV
# heads of 128, FFN 14336 with SwiGLU, vocabulary 128256), not from hcpsim:
#   per token, the GEMMs 6 x (L x (h(hq + 2 hk)d + hq d h + 3 h ffn) + h V)   (forward 2, backward 4
#     FLOPs a weight; the LM head included, the embedding lookup not a GEMM);
#   per sequence and layer, causal attention over s(s + 1)/2 visible query-key pairs: forward
#     2 x hq x (d + d) FLOPs a pair (QK^T and PV), backward twice that (dQ, dK, dV, dP), so 3x the
#     forward in all; FlashAttention's recompute of QK^T in its backward is not model work.
# Then MFU = model FLOPs / (step time x GPUs x the H100 datasheet's dense bf16 peak, 989 TFLOP/s).
set -u
BIN="$1"; SRC="$2"; TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
command -v python3 >/dev/null || { echo "SKIP: python3 not found"; exit 77; }
cat > "$TMP/s.json" <<'JSON'
{ "name": "model FLOPs", "model": { "preset": "llama3.1-8b" },
  "training": { "seq_length": 32768, "micro_batch_size": 1, "global_batch_size": 2, "precision": "bf16",
                "recompute_granularity": "none", "attn_mask_type": "causal" },
  "parallel": { "tensor_model_parallel_size": 1, "context_parallel_size": 8, "cp_comm_type": "p2p",
                "sequence_parallel": false, "use_distributed_optimizer": true },
  "cluster": { "preset": "dgx-h100", "num_nodes": 1 } }
JSON
"$BIN" "$TMP/s.json" --format json --reproducible -o "$TMP/r.json" || fail "run: exit $?"
python3 - "$TMP/r.json" <<'PY' || fail "model FLOPs"
import json, sys
s = json.load(open(sys.argv[1]))["step"]
L, h, hq, hk, d, ffn, V = 32, 4096, 32, 8, 128, 14336, 128256
seq, sequences, gpus, peak = 32768, 2, 8, 989e12
gemm_per_token = 6 * (L * (h * (hq + 2 * hk) * d + hq * d * h + 3 * h * ffn) + h * V)
attention_per_sequence = L * 3 * (2 * hq * (d + d) * seq * (seq + 1) / 2)
expected = sequences * (seq * gemm_per_token + attention_per_sequence)
assert abs(s["model_flops"] / expected - 1) < 1e-4, (s["model_flops"], expected, s["model_flops"] / expected)
mfu = expected / (s["time_s"] * gpus * peak)
assert abs(s["mfu"] / mfu - 1) < 1e-4, (s["mfu"], mfu)
# The band's tokens/s are the step's tokens over the band's times (the same ends, swapped).
u = json.load(open(sys.argv[1]))["uncertainty"]
tokens = s["tokens_per_s"] * s["time_s"]
assert abs(u["tokens_per_s"][0] * u["step_time_s"][1] / tokens - 1) < 1e-9, (u, tokens)
assert abs(u["tokens_per_s"][1] * u["step_time_s"][0] / tokens - 1) < 1e-9, (u, tokens)
print("model FLOPs %.6g (closed form %.6g), MFU %.4f" % (s["model_flops"], expected, s["mfu"]))
PY

#!/usr/bin/env python3
"""Writes the CP cases hcpcal_torch's `cp` suite times: for each transport, the attention kernels
of every CP rank, forward and backward, as hcpsim's own workload builder emits them
(`hcpsim --dump-workload --format json`), so that the harness runs exactly the kernels, shapes,
masks and labels `hcpsim check` replays (src/fit/replay_cp.hpp). One definition of the CP schedule:
hcpsim's; the harness only times kernels.

    python3 calibrate/torch/make_cp_cases.py build/hcpsim calibrate/torch/cp-cases.json
"""
import json
import os
import subprocess
import sys
import tempfile

# Llama-3.1-8B's attention (32 query heads, 8 KV heads, head dim 128), 64K tokens, CP 4:
# every transport, and a2a+p2p as [2, 2].
SEQ, HQ, HK, D, R = 65536, 32, 8, 128, 4
RUNS = [("p2p", None), ("all_gather", None), ("a2a", None), ("a2a+p2p", [2, 2])]


def scenario(transport, hcp):
    parallel = {"tensor_model_parallel_size": 1, "context_parallel_size": R, "cp_comm_type": transport}
    if hcp:
        parallel["hierarchical_context_parallel_sizes"] = hcp
    hidden = HQ * D  # as replay_cp's scenario: the attention kernels depend on heads, head dim and seq only
    return {"name": f"cp {transport}",
            "model": {"num_layers": 1, "hidden_size": hidden, "ffn_hidden_size": 4 * hidden,
                      "num_attention_heads": HQ, "num_query_groups": HK, "kv_channels": D, "vocab_size": 32000},
            "training": {"seq_length": SEQ, "micro_batch_size": 1, "attn_mask_type": "causal"},
            "parallel": parallel, "cluster": {"preset": "dgx-h200", "num_nodes": 1},
            "workload": "attention", "passes": "fwd+bwd"}


def main(hcpsim, out):
    cases = []
    for transport, hcp in RUNS:
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(scenario(transport, hcp), f)
        try:
            dump = json.loads(subprocess.check_output(
                [hcpsim, "--dump-workload", f.name, "--format", "json", "--ranks"] + [str(r) for r in range(R)]))
        finally:
            os.unlink(f.name)
        for backward in (False, True):
            ranks = []
            for r, prog in enumerate(dump["workload"]["ranks"]):
                kernels = []
                for op in prog["layer"]["ops"]:
                    a = op.get("attention")
                    if op.get("class") != "attention" or a["backward"] != backward:
                        continue
                    kernels.append({"label": op["label"], "sq": a["sq"], "skv": a["skv"], "heads_q": a["heads_q"],
                                    "heads_kv": a["heads_kv"], "head_dim": a["head_dim"], "mask": a["mask"]})
                ranks.append({"rank": r, "kernels": kernels})
            cases.append({"transport": transport, "hcp": hcp, "pass": "bwd" if backward else "fwd", "ranks": R,
                          "seq": SEQ, "heads_q": HQ, "heads_kv": HK, "head_dim": D, "per_rank": ranks})
    with open(out, "w") as f:
        json.dump({"generated_by": "calibrate/torch/make_cp_cases.py (hcpsim --dump-workload)", "cases": cases}, f,
                  indent=1)
        f.write("\n")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])

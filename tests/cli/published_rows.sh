#!/usr/bin/env bash
# bench/published/run.py turns a published row into the scenario of what its code ran: the
# layout from its Ulysses x ring degrees, and the attention backend from the kernel the row
# records (workload.attn_kernel; every attention row of the development set ran FlashAttention 2).
# Checked on the set's own rows and on a row that names no kernel, and every scenario the set
# yields must pass hcpsim's validation (exit 0).
BIN="$1"; SRC="$2"
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
command -v python3 >/dev/null || { echo "SKIP: python3 not found"; exit 77; }
python3 - "$SRC" "$TMP" <<'PY' || exit 1
import copy, json, os, sys
src, tmp = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(src, "bench", "published"))
import run
rows = json.load(open(os.path.join(src, "bench", "published", "published-dev.json")))
rows = rows["rows"] if isinstance(rows, dict) else rows
by_id = {r["id"]: r for r in rows}
bad = []
def expect(what, got, want):
    if got != want:
        bad.append(f"{what}: got {got!r}, want {want!r}")
# yunchang's USP row, Ulysses 4 x ring 2 on 8 x A100 (its attn_kernel: flash-attn 2).
row = by_id["yc-a100nvl-128K-h32-hd32-g1-bs2-u4-zigzag-no_packed"]
sc, notes = run.scenario_for(row)
expect("USP layout", (sc["parallel"]["cp_comm_type"], sc["parallel"]["hierarchical_context_parallel_sizes"]), ("a2a+p2p", [4, 2]))
expect("FlashAttention 2 row's backend", sc.get("software"), {"attention_backend": "flash"})
expect("cluster", sc["cluster"]["preset"], "dgx-a100")
# ring-flash-attention's zigzag ring on 8 x H800 (attn_kernel: flash-attn 2).
sc, _ = run.scenario_for(by_id["rfa-batch-8xH800-fwd-zigzag_ring"])
expect("ring row's transport", (sc["parallel"]["cp_comm_type"], sc["parallel"]["context_parallel_size"]), ("p2p", 8))
expect("ring row's backend", sc.get("software"), {"attention_backend": "flash"})
expect("zigzag ring's order", sc["parallel"].get("cp_load_balance"), None)
# ring-flash-attention's basic ring and yunchang's striped USP ring: their token orders.
sc, _ = run.scenario_for(by_id["rfa-batch-8xH800-fwd-ring"])
expect("basic ring's order", sc["parallel"].get("cp_load_balance"), "contiguous")
sc, _ = run.scenario_for(by_id["yc-a100nvl-128K-h32-hd32-g1-bs2-u4-stripe-no_packed"])
expect("striped USP ring", (sc["parallel"]["cp_comm_type"], sc["parallel"].get("cp_load_balance")), ("a2a+p2p", "stripe"))
# ring-flash-attention's varlen zigzag ring: each rank's 8192 tokens packed as the benchmark's four
# cu_seqlens, so the 65536-token sequence packs each document 8 times longer: 256 x 8, 7392 x 8,
# 544 x 8 for the second.
sc, notes = run.scenario_for(by_id["rfa-varlen-8xH800-fwd-zigzag_ring"])
expect("varlen packings", sc["training"]["document_lengths"][1], [2048, 59136, 4352])
expect("varlen packings' count", len(sc["training"]["document_lengths"]), 4)
expect("varlen note", any("mean of the benchmark's 4 packings" in n for n in notes), True)
# A row that names no kernel keeps hcpsim's default backend and says so.
nameless = copy.deepcopy(row)
nameless["workload"].pop("attn_kernel", None)
sc, notes = run.scenario_for(nameless)
expect("nameless row's software", sc.get("software"), None)
expect("nameless row's note", any("not recorded" in n for n in notes), True)
# Every expressible row of the set becomes a scenario file for hcpsim --validate.
n = 0
for r in rows:
    if r.get("kind") != "measured_case":
        continue  # the anchors run through `hcpsim collective`, as in run.py's main
    sc, _ = run.scenario_for(r)
    if sc:
        packings = sc["training"].get("document_lengths")
        for i, p in enumerate(packings if packings and isinstance(packings[0], list) else [packings]):
            if p:  # a varlen row: a scenario per packing, run.py's run_scenario takes their mean
                sc["training"]["document_lengths"] = p
            with open(os.path.join(tmp, f"row{n}-{i}.json"), "w") as f:
                json.dump(sc, f)
        n += 1
# 311 measured rows become scenarios; run.py's main then drops the packed-QKV duplicates of a
# separate-q,k,v row, leaving bench/published/results.txt's "215 expressed".
if n != 311:
    bad.append(f"{n} rows became scenarios (311 expected)")
for b in bad:
    print("FAIL:", b)
sys.exit(1 if bad else 0)
PY
fail=0
for f in "$TMP"/row*.json; do
  "$BIN" --validate "$f" >/dev/null 2>"$TMP/err" || { echo "FAIL: $f does not validate: $(tail -1 "$TMP/err")"; fail=1; }
done
[ "$fail" = 0 ] && echo "published rows become valid scenarios of the kernels they ran"
exit $fail

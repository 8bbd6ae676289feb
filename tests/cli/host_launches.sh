#!/usr/bin/env bash
# The CPU's launches in the step (rules/host_launch.hpp, run/step_composition.hpp): the launches a
# micro batch are the layer's ops times the layers plus the step's per-micro-batch ops, counted
# here from --dump-workload; the CPU's time for the step is micro batches x launches x the time
# per launch (1.894 x 13.48 us on an x86 host); a step whose GPUs finish sooner ends then,
# says so, and takes the CPU's band. The scenario: 512 tokens a GPU, bound by its CPU.
set -u
BIN="$1"; SRC="$2"; TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
command -v python3 >/dev/null || { echo "SKIP: python3 not found"; exit 77; }
S="$SRC/tests/cli/host-bound-b200.json"
"$BIN" "$S" --format json --reproducible -o "$TMP/r.json" || fail "run: exit $?"
"$BIN" "$S" --dump-workload > "$TMP/dump.txt" 2>/dev/null || fail "dump: exit $?"
"$BIN" "$S" > "$TMP/out.txt" 2>/dev/null || fail "text: exit $?"
PYTHONPATH="$SRC/tests/cli" python3 - "$TMP/r.json" "$TMP/dump.txt" <<'PY' || fail "host launches"
import json, re, sys
from dump_phases import phase_counts
r = json.load(open(sys.argv[1]))
s = r["step"]
dump = open(sys.argv[2]).read().splitlines()
layer_ops = int(re.search(r"^## rank 0 layer \((\d+) ops\)", "\n".join(dump), re.M).group(1))
layer, step = phase_counts(dump, "layer"), phase_counts(dump, "step")
assert layer["fwd"] + layer["bwd"] == layer_ops, (layer, layer_ops)
step_ops = step["fwd"] + step["bwd"]
expected = s["layers"] * layer_ops + step_ops
assert s["host_launches"] == expected, (s["host_launches"], s["layers"], layer_ops, step_ops)
# Each pass launches its own direction's ops (PP = 1: one pass each way a micro batch).
assert s["host_forward_launches"] == s["layers"] * layer["fwd"] + step["fwd"], (s["host_forward_launches"], layer, step)
assert s["host_backward_launches"] == s["layers"] * layer["bwd"] + step["bwd"], (s["host_backward_launches"], layer, step)
per_launch = 25.531e-6  # 1.894 x 13.48 us, by hand
assert abs(s["host_per_launch_s"] / per_launch - 1) < 1e-4, s["host_per_launch_s"]
per_launch = s["host_per_launch_s"]
assert abs(s["host_launch_s"] - s["microbatches"] * expected * per_launch) < 1e-12, s["host_launch_s"]
assert s["host_bound"] is True and s["host_wait_s"] > 0, s
# PP = 1, bound by its CPU: the step is the CPU's last launch, then the exposed DP communication
# and the optimizer, nothing else.
after = s["grad_reduce_exposed_s"] + s["param_gather_exposed_s"] + s["optimizer_s"]
assert abs(s["time_s"] - (s["host_launch_s"] + after)) < 1e-12, s
assert any("cannot launch this step's work" in w for w in r["warnings"]), r["warnings"]
parts = {c["what"]: c for c in r["uncertainty"]["components"]}
assert "CPU launches" in parts and abs(parts["CPU launches"]["relative"] - 0.20) < 1e-12, parts.keys()
# Its share: the CPU's launch time of the step's, the rest being what follows the last backward.
assert abs(parts["CPU launches"]["share"] - s["host_launch_s"] / s["time_s"]) < 1e-9, parts["CPU launches"]
# The band's tokens/s are the step's tokens over the band's times (the same ends, swapped).
u = json.load(open(sys.argv[1]))["uncertainty"]
tokens = s["tokens_per_s"] * s["time_s"]
assert abs(u["tokens_per_s"][0] * u["step_time_s"][1] / tokens - 1) < 1e-9, (u, tokens)
assert abs(u["tokens_per_s"][1] * u["step_time_s"][0] / tokens - 1) < 1e-9, (u, tokens)
print("launches", expected, "CPU", s["host_launch_s"], "s, step", s["time_s"], "s")
PY
grep -q "^host: .*the step waits" "$TMP/out.txt" || fail "the text output does not say the step waits for the CPU"
grep -q "warning:  the CPU cannot launch" "$TMP/out.txt" || fail "the text output lacks the warning"
# Megatron's CUDA graphs (software.cuda_graph_impl): per-layer graphs replay each layer's pass as
# one launch, the ops outside the layers launched as before; a full-iteration graph leaves no
# launch a micro batch, so the same scenario is no longer bound by its CPU.
for impl in local full_iteration; do
  python3 - "$S" "$TMP/$impl.json" "$impl" <<'PY' || fail "scenario with $impl"
import json, sys
s = json.load(open(sys.argv[1]))
s.setdefault("software", {})["cuda_graph_impl"] = sys.argv[3]
json.dump(s, open(sys.argv[2], "w"))
PY
  "$BIN" "$TMP/$impl.json" --format json --reproducible -o "$TMP/r-$impl.json" || fail "run $impl: exit $?"
done
PYTHONPATH="$SRC/tests/cli" python3 - "$TMP/r.json" "$TMP/dump.txt" "$TMP/r-local.json" "$TMP/r-full_iteration.json" <<'PY' || fail "launches under CUDA graphs"
import json, sys
from dump_phases import phase_counts
plain, local, full = (json.load(open(p)) for p in (sys.argv[1], sys.argv[3], sys.argv[4]))
dump = open(sys.argv[2]).read().splitlines()
step = phase_counts(dump, "step")
s = local["step"]
assert s["host_forward_launches"] == s["layers"] + step["fwd"], (s["host_forward_launches"], s["layers"], step)
assert s["host_backward_launches"] == s["layers"] + step["bwd"], (s["host_backward_launches"], s["layers"], step)
assert abs(s["host_launch_s"] - s["microbatches"] * s["host_launches"] * s["host_per_launch_s"]) < 1e-12, s
f = full["step"]
assert f["host_launches"] == 0 and f["host_launch_s"] == 0 and f["host_bound"] is False, f
assert f["time_s"] < plain["step"]["time_s"], (f["time_s"], plain["step"]["time_s"])
assert not any("cannot launch this step's work" in w for w in full["warnings"]), full["warnings"]
assert full["scenario"]["software"]["cuda_graph_impl"] == "full_iteration", full["scenario"]["software"]
print("CUDA graphs: local", s["host_launches"], "launches a micro batch; full_iteration", f["time_s"], "s against",
      plain["step"]["time_s"], "s")
PY
# Under TE's userbuffers TP overlap a split GEMM is one call whose C++ launches its chunks and comm
# kernels (Op::own_launch): the dump marks those no-launch, and the launches are the rest.
U="$SRC/scenarios/llama70b-16k-tp8-tp-overlap.json"
"$BIN" "$U" --format json --reproducible -o "$TMP/u.json" || fail "overlap run: exit $?"
"$BIN" "$U" --dump-workload > "$TMP/udump.txt" 2>/dev/null || fail "overlap dump: exit $?"
PYTHONPATH="$SRC/tests/cli" python3 - "$TMP/u.json" "$TMP/udump.txt" <<'PY' || fail "launches under userbuffers"
import json, sys
from dump_phases import phase_counts
s = json.load(open(sys.argv[1]))["step"]
dump = open(sys.argv[2]).read().splitlines()
ops, launched = phase_counts(dump, "layer"), phase_counts(dump, "layer", launches_only=True)
step = phase_counts(dump, "step", launches_only=True)
assert launched["fwd"] < ops["fwd"] and launched["bwd"] < ops["bwd"], (ops, launched)  # chunks and ub comms
assert s["host_forward_launches"] == s["layers"] * launched["fwd"] + step["fwd"], (s["host_forward_launches"], launched)
assert s["host_backward_launches"] == s["layers"] * launched["bwd"] + step["bwd"], (s["host_backward_launches"], launched)
print("userbuffers:", launched, "launched of", ops, "ops a layer")
PY
echo "host launches: ok"

#!/usr/bin/env bash
# hcpsim fit and check on the committed H200 measurements: exit codes, files, messages.
set -u
BIN="$1"; SRC="$2"; TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
M="$SRC/calibrate/results/h200-measurements.json"

"$BIN" fit "$M" -o "$TMP/cal.json" >"$TMP/fit" || fail "fit exit $?"
grep -q '"format": "hcpsim-calibration/5"' "$TMP/cal.json" || fail "calibration format"
grep -q "attention_bwd_causal" "$TMP/fit" || fail "fit prints each parameter"

"$BIN" check "$M" --calibration "$TMP/cal.json" --kind attention >"$TMP/check" || fail "check exit $?"
grep -q "out-of-sample" "$TMP/check" || fail "check is out-of-sample by default"
grep -q "^# cases .* median |error|" "$TMP/check" || fail "check summary"
grep -q "^# in-sample with" "$TMP/check" || fail "in-sample summary with --calibration"

"$BIN" check "$M" --max-error 0.001 >/dev/null 2>"$TMP/err"; rc=$?
[ $rc -eq 3 ] || fail "check above --max-error: exit $rc"
grep -q "above --max-error" "$TMP/err" || fail "max-error message"

echo '{"format": "hcpsim-measurements/1", "environment": {"gpu_model": "NVIDIA H200"}, "measurements": [{"kind": "attention"}]}' >"$TMP/bad.json"
"$BIN" fit "$TMP/bad.json" 2>"$TMP/err"; rc=$?
[ $rc -eq 2 ] || fail "bad measurements: exit $rc"
grep -q "^error: measurements\[0\].config: missing (required key)" "$TMP/err" || { cat "$TMP/err"; fail "path in message"; }

# An unknown kind is the record's one error: no keys of another kind's config are asked for.
echo '{"format": "hcpsim-measurements/1", "environment": {"gpu_model": "NVIDIA H200"}, "measurements": [{"kind": "layers", "config": {"seq": 8192}, "median_s": 1e-3}]}' >"$TMP/bad-kind.json"
"$BIN" check "$TMP/bad-kind.json" 2>"$TMP/err"; rc=$?
[ $rc -eq 2 ] || fail "unknown kind: exit $rc"
grep -q '^error: measurements\[0\].kind: unknown value "layers" .*did you mean "layer"' "$TMP/err" || { cat "$TMP/err"; fail "unknown kind message"; }
[ "$(grep -c '^error:' "$TMP/err")" -eq 1 ] || { cat "$TMP/err"; fail "errors beyond the unknown kind"; }

# A measurements path on the command line is read from the current folder, and the hint says so.
"$BIN" fit "$TMP/absent.json" 2>"$TMP/err"; rc=$?
[ $rc -eq 2 ] || fail "missing measurements: exit $rc"
grep -q "cannot open .*absent.json.*current folder" "$TMP/err" || { cat "$TMP/err"; fail "missing measurements hint"; }

"$BIN" check "$M" --in-sample 2>"$TMP/err"; rc=$?
[ $rc -eq 2 ] || fail "--in-sample without --calibration: exit $rc"
# A run on H200s with the fitted calibration says which parameters it took from it.
# The calibration describes hcpcal's own kernels: a scenario of that attention backend takes
# its attention parameters; one of the default backend (cudnn) keeps cuDNN's, and is told.
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d.setdefault("software", {})["attention_backend"] = "hcpsim"; json.dump(d, open(sys.argv[2], "w"))' \
  "$SRC/scenarios/hf-config-example.json" "$TMP/hf-hcpsim.json" || fail "scenario copy"
sed -i "s#\"hf/#\"$SRC/scenarios/hf/#g" "$TMP/hf-hcpsim.json"
"$BIN" "$TMP/hf-hcpsim.json" --calibration "$TMP/cal.json" --reproducible >"$TMP/h200" ||
  fail "H200 run with --calibration: exit $?"
grep -q "^costs: .*calibration .*attention_bwd_causal.*defaults for .*kernel_floor_s" "$TMP/h200" || fail "costs line"
"$BIN" "$SRC/scenarios/hf-config-example.json" --calibration "$TMP/cal.json" --reproducible >"$TMP/h200c" 2>"$TMP/err" ||
  fail "cudnn H200 run with --calibration: exit $?"
grep -q "^warning: .*calibrates the hcpsim attention backend, but this scenario runs cudnn" "$TMP/err" || fail "backend warning"
# The built-in study runs on H100s: the H200 calibration's GPU-specific parameters are not
# carried to another GPU model, and the user is told (issue 12, bug 3).
"$BIN" --calibration "$TMP/cal.json" --reproducible >"$TMP/study" 2>"$TMP/err" || fail "study with --calibration: exit $?"
grep -q "^warning: .*calibrated on NVIDIA H200, but this cluster.s GPU is H100" "$TMP/err" || fail "GPU mismatch warning"
grep -q "^costs: .*(NVIDIA H200): nothing; defaults for gemm" "$TMP/study" || fail "study costs line"
"$BIN" --calibration "$TMP/none.json" 2>"$TMP/err"; rc=$?
[ $rc -eq 2 ] || fail "missing calibration: exit $rc"
grep -q "^error: --calibration: cannot open" "$TMP/err" || fail "missing calibration message"
# A CP run of the new format (p2p R=2 forward: rank 0 diag + upper, rank 1 diag + lower,
# docs/cp-transports.md 2.2) and collectives: check replays the run and fits the collectives.
K='"min_s": 1e-4, "max_s": 1e-4, "median_s": 1e-4'
{
  echo '{"format": "hcpsim-measurements/1", "complete": true, "environment": {"gpu_model": "NVIDIA H200"}, "measurements": ['
  echo '{"kind": "cp_attention", "config": {"transport": "p2p", "pass": "fwd", "ranks": 2, "seq": 8192, "batch": 1,'
  echo ' "heads_q": 32, "heads_kv": 8, "head_dim": 128, "mask": "causal", "format": "bshd", "launch": "virtual"},'
  echo ' "median_s": 1e-3, "results": {"kernels": ['
  echo "  {\"rank\": 0, \"label\": \"attn.fwd.step0.diag\", $K}, {\"rank\": 0, \"label\": \"attn.fwd.step1.upper\", $K},"
  echo "  {\"rank\": 1, \"label\": \"attn.fwd.step0.diag\", $K}, {\"rank\": 1, \"label\": \"attn.fwd.step1.lower\", $K}],"
  echo ' "peak_bytes": [1e8, 1e8]}}'
  for b in 1024 65536 4194304 268435456; do
    t=$(awk -v b="$b" 'BEGIN { printf "%.9g", 1e-5 + b * 1.75 / 3.6e11 }')
    echo ", {\"kind\": \"collective\", \"config\": {\"op\": \"all_reduce\", \"bytes\": $b, \"dtype\": \"bf16\", \"ranks\": 8,"
    echo "  \"layout\": \"intra-node\", \"nodes\": 1, \"gpus_per_node\": 8}, \"median_s\": $t}"
  done
  echo ']}'
} >"$TMP/cp.json"
"$BIN" fit "$TMP/cp.json" >"$TMP/fit" 2>"$TMP/err" || { cat "$TMP/err"; fail "fit of cp/collectives: exit $?"; }
grep -q "^  all_reduce  *intra-node " "$TMP/fit" || { cat "$TMP/fit"; fail "collective row in fit"; }
"$BIN" check "$TMP/cp.json" >"$TMP/check" 2>"$TMP/err" || { cat "$TMP/err"; fail "check of cp/collectives: exit $?"; }
for k in "hcpsim cp kernels p2p" "hcpsim cp compute p2p" "hcpsim cp memory p2p" "collective all_reduce"; do
  grep -q "^# $k  *cases" "$TMP/check" || { cat "$TMP/check"; fail "summary $k"; }
done
sed -i 's/attn.fwd.step1.lower/attn.fwd.step1.upper/' "$TMP/cp.json"
"$BIN" check "$TMP/cp.json" >/dev/null 2>"$TMP/err"; rc=$?
[ $rc -eq 2 ] || fail "schedule mismatch: exit $rc"
grep -q "^error: measurements\[0\].results.kernels: rank 1's measured kernels" "$TMP/err" || { cat "$TMP/err"; fail "mismatch message"; }
# The attention suite and the cp suite as one set: attention fitted on half its shapes, every
# CP run (all four transports, fwd and bwd) replayed with peak memory per rank.
"$BIN" check "$M" "$SRC/calibrate/results/h200-v3-cp-measurements.json" >"$TMP/check" 2>"$TMP/err" ||
  { cat "$TMP/err"; fail "check of two files: exit $?"; }
for t in p2p all_gather a2a a2a+p2p; do
  grep -q "^# hcpsim cp memory $t  *cases" "$TMP/check" || { cat "$TMP/check"; fail "cp memory $t"; }
done
echo "calibrate_fit_check: ok"

#!/usr/bin/env bash
# The CLI's exit codes and error form: 0 valid, 2 invalid input (every problem
# listed as "error: <path>: <what> (<rule>) — <fix>"), output files all or nothing.
# Usage: exit_codes.sh HCPSIM_BINARY SOURCE_DIR
set -u
BIN="$1"; SRC="$2"; TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$BIN" --validate "$SRC/scenarios/seed-a-hcp.json" >"$TMP/out" 2>&1 || fail "valid scenario: exit $?"
grep -q "^valid: " "$TMP/out" || fail "no 'valid:' line"

cat >"$TMP/bad.json" <<'JSON'
{ "model": {"preset": "llama3.1-8b"},
  "training": {"seq_length": 131000},
  "parallel": {"context_parallel_size": 16, "cp_comm_type": "allgather", "tensor_model_paralel_size": 1},
  "cluster": {"preset": "dgx-h100", "num_nodes": 4} }
JSON
"$BIN" --validate "$TMP/bad.json" >"$TMP/out" 2>"$TMP/err"; rc=$?
[ $rc -eq 2 ] || fail "invalid scenario: exit $rc, want 2"
[ "$(grep -c '^error: ' "$TMP/err")" -eq 3 ] || { cat "$TMP/err"; fail "want 3 errors"; }
grep -q '^error: parallel.cp_comm_type: .* (.*) — use "all_gather"' "$TMP/err" || fail "allgather message"
grep -q '^error: parallel.tensor_model_paralel_size: .* — did you mean "tensor_model_parallel_size"?' "$TMP/err" || fail "did you mean"
grep -q '^error: training.seq_length: ' "$TMP/err" || fail "seq_length rule"

"$BIN" --validate "$TMP/missing.json" 2>"$TMP/err"; rc=$?
[ $rc -eq 2 ] || fail "missing file: exit $rc, want 2"
grep -q "cannot open" "$TMP/err" || fail "missing file message"

printf '{"name": "x",\n "model": }\n' >"$TMP/broken.json"
"$BIN" --validate "$TMP/broken.json" 2>"$TMP/err"; rc=$?
[ $rc -eq 2 ] || fail "malformed JSON: exit $rc"
grep -q "broken.json:2:[0-9]*: malformed JSON" "$TMP/err" || { cat "$TMP/err"; fail "line:column"; }

"$BIN" --no-such-flag 2>/dev/null; rc=$?
[ $rc -eq 2 ] || fail "unknown flag: exit $rc, want 2"

echo previous >"$TMP/keep.json"
"$BIN" --validate "$TMP/bad.json" -o "$TMP/keep.json" 2>/dev/null
[ "$(cat "$TMP/keep.json")" = previous ] || fail "an invalid run replaced the output file"
"$BIN" --validate "$SRC/scenarios/seed-a-hcp.json" -o "$TMP/no/such/dir/out.txt" 2>"$TMP/err"; rc=$?
[ $rc -eq 2 ] || fail "unwritable output: exit $rc, want 2"
"$BIN" --validate "$SRC/scenarios/seed-a-hcp.json" --format json -o "$TMP/v.json" || fail "json output"
grep -q '"valid": true' "$TMP/v.json" || fail "json valid field"
ls "$TMP" | grep -q '\.tmp\.' && fail "temporary file left behind"
# hcpsim collective: bad flags name the flag, exit 2; a good run prints one row per size.
"$BIN" collective --cluster no-such-node 2>"$TMP/err"; rc=$?
[ $rc -eq 2 ] && grep -q "error: --cluster" "$TMP/err" || { cat "$TMP/err"; fail "collective unknown cluster: exit $rc"; }
"$BIN" collective -b 12Q 2>"$TMP/err"; rc=$?
[ $rc -eq 2 ] && grep -q "error: --minbytes" "$TMP/err" || { cat "$TMP/err"; fail "collective bad size: exit $rc"; }
"$BIN" collective --op sendrecv -g 1 2>"$TMP/err"; rc=$?
[ $rc -eq 2 ] && grep -q "error: --gpus" "$TMP/err" || { cat "$TMP/err"; fail "collective sendrecv on one GPU: exit $rc"; }
"$BIN" collective --op all_reduce -g 1 2>"$TMP/err"; rc=$?  # it printed 0 us and 0 GB/s
[ $rc -eq 2 ] && grep -q "error: --gpus: is 1 .*one rank moves nothing" "$TMP/err" || { cat "$TMP/err"; fail "collective of one GPU: exit $rc"; }
"$BIN" collective --algo nvls --nodes 2 -b 1M -e 1M 2>"$TMP/err"; rc=$?
[ $rc -eq 2 ] && grep -q "software.nccl.algo" "$TMP/err" || { cat "$TMP/err"; fail "collective: no algorithm left: exit $rc"; }
"$BIN" collective -b 1M -e 4M >"$TMP/c.txt" || fail "collective run"
[ "$(grep -vc '^#' "$TMP/c.txt")" -eq 3 ] || { cat "$TMP/c.txt"; fail "collective: 3 sizes, 1M 2M 4M"; }
# --scenario takes the cluster from its file: --nodes beside it is an error, not ignored; --algo and
# --proto apply over its software.nccl, and the header says what they force.
"$BIN" collective --scenario "$SRC/scenarios/seed-a-hcp.json" --nodes 2 2>"$TMP/err"; rc=$?
[ $rc -eq 2 ] && grep -q "^error: --nodes: is given with --scenario" "$TMP/err" || { cat "$TMP/err"; fail "collective --scenario --nodes: exit $rc"; }
"$BIN" collective --scenario "$SRC/scenarios/seed-a-hcp.json" --algo ring --proto LL -b 1G -e 1G >"$TMP/c.txt" || fail "collective --scenario --algo"
grep -q "NCCL_ALGO=ring NCCL_PROTO=LL" "$TMP/c.txt" && grep -q " ring  *LL " "$TMP/c.txt" || { cat "$TMP/c.txt"; fail "collective --scenario: --algo/--proto not applied"; }
for bad in "--nics -5" "-g 0" "-f inf"; do
  "$BIN" collective $bad -b 1M -e 1M 2>"$TMP/err"; rc=$?
  [ $rc -eq 2 ] && grep -q "^error: --" "$TMP/err" || { cat "$TMP/err"; fail "collective $bad: exit $rc"; }
done
# NCCL's tuner has no model of p2p: its column reads '-', not 0 us.
"$BIN" collective --op sendrecv -g 2 -b 8 -e 8 >"$TMP/c.txt" || fail "collective sendrecv"
[ "$(grep -v '^#' "$TMP/c.txt" | awk '{print $NF}')" = "-" ] || { cat "$TMP/c.txt"; fail "collective: p2p nccl-model column"; }
# A mixture-of-experts key is refused as not modelled, not as an unknown key to remove; a null
# value reads "got null"; an output path that is a folder is named as one.
cat >"$TMP/moe.json" <<'JSON'
{ "model": {"preset": "llama3.1-8b", "num_moe_experts": 8, "kv_channels": null},
  "training": {"seq_length": 8192}, "parallel": {}, "cluster": {"preset": "dgx-h100", "num_nodes": 1} }
JSON
"$BIN" --validate "$TMP/moe.json" 2>"$TMP/err"; rc=$?
[ $rc -eq 2 ] || fail "MoE key: exit $rc, want 2"
grep -q '^error: model.num_moe_experts: asks for mixture-of-experts layers: 8 (mixture-of-experts layers are not modelled' "$TMP/err" ||
  { cat "$TMP/err"; fail "MoE key message"; }
grep -q 'remove it' "$TMP/err" && { cat "$TMP/err"; fail "MoE key called unknown"; }
grep -q '^error: model.kv_channels: must be an integer, got null (' "$TMP/err" || { cat "$TMP/err"; fail "null message"; }
# Dense written with MoE keys (Megatron's default None, or one expert) is a dense model.
sed 's/"num_moe_experts": 8, "kv_channels": null/"num_moe_experts": null, "num_local_experts": 1/' "$TMP/moe.json" >"$TMP/dense.json"
"$BIN" --validate "$TMP/dense.json" >/dev/null 2>"$TMP/err" || { cat "$TMP/err"; fail "dense with MoE keys: exit $?"; }
mkdir "$TMP/folder"
"$BIN" "$SRC/scenarios/seed-b-tp2-a2a.json" -o "$TMP/folder" 2>"$TMP/err"; rc=$?
[ $rc -eq 2 ] && grep -q "it is a folder; name a file in it" "$TMP/err" || { cat "$TMP/err"; fail "-o a folder: exit $rc"; }
# A folder given as the scenario is named as one, not read as empty JSON.
"$BIN" --validate "$TMP/folder" 2>"$TMP/err"; rc=$?
[ $rc -eq 2 ] && grep -q "is a folder, not a file" "$TMP/err" || { cat "$TMP/err"; fail "a folder as the scenario: exit $rc"; }
# -o follows a symbolic link (the file it names is written, the link stays a link), writes a device
# or FIFO in place (/dev/stdout into a pipe) and reports its write errors (/dev/full: exit 2, the
# device still a device).
echo previous >"$TMP/target.json"; ln -s target.json "$TMP/link.json"
"$BIN" --validate "$SRC/scenarios/seed-a-hcp.json" --format json -o "$TMP/link.json" || fail "-o a link: exit $?"
[ -L "$TMP/link.json" ] || fail "-o a link replaced the link"
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$TMP/target.json" || fail "-o a link: the target is not the JSON"
"$BIN" --validate "$SRC/scenarios/seed-a-hcp.json" --format json -o /dev/stdout 2>"$TMP/err" | python3 -c 'import json,sys; json.load(sys.stdin)' ||
  { cat "$TMP/err"; fail "-o /dev/stdout into a pipe"; }
# /dev/stdout redirected to a file (>>): written through the descriptor, what the file held stays.
echo header >"$TMP/log"
{ "$BIN" --validate "$SRC/scenarios/seed-a-hcp.json" --format json -o /dev/stdout; echo footer; } >>"$TMP/log" 2>"$TMP/err" ||
  { cat "$TMP/err"; fail "-o /dev/stdout into a file"; }
[ "$(head -1 "$TMP/log")" = header ] && [ "$(tail -1 "$TMP/log")" = footer ] || fail "-o /dev/stdout replaced the file stdout wrote to"
python3 -c 'import json,sys; json.loads("".join(open(sys.argv[1]).read().splitlines(True)[1:-1]))' "$TMP/log" ||
  fail "-o /dev/stdout into a file: not the JSON between"
if [ -c /dev/full ]; then
  "$BIN" --validate "$SRC/scenarios/seed-a-hcp.json" --format json -o /dev/full 2>"$TMP/err"; rc=$?
  [ $rc -eq 2 ] && grep -q "No space left on device" "$TMP/err" || { cat "$TMP/err"; fail "-o /dev/full: exit $rc, want 2"; }
  [ -c /dev/full ] || fail "-o /dev/full replaced the device"
fi
# Standard output on a full disk: the write fails, so the run does not report success (it did,
# exit 0 with an empty file), whatever the command.
if [ -w /dev/full ]; then
  for args in "$SRC/scenarios/seed-a-hcp.json" "--validate $SRC/scenarios/seed-a-hcp.json" presets; do
    # shellcheck disable=SC2086
    "$BIN" $args > /dev/full 2> "$TMP/err"; rc=$?
    [ $rc -eq 2 ] && grep -q "^error: <stdout>: cannot write the output" "$TMP/err" || { cat "$TMP/err"; fail "$args > /dev/full: exit $rc"; }
  done
fi
# JSON nested 70000 levels deep (140 KB): refused at its line and column, exit 2: the object is level 1,
# the 256th "[" (column 9 + 256) opens level 257. (Printing a piece of
# it back in a message overflowed the stack: exit 139).
python3 -c "print('{\"name\": ' + '[' * 70000 + ']' * 70000 + '}')" > "$TMP/deep.json"
"$BIN" "$TMP/deep.json" > /dev/null 2> "$TMP/err"; rc=$?
[ $rc -eq 2 ] && grep -q "deep.json:1:265: nested more than 256 levels deep" "$TMP/err" || { head -c 300 "$TMP/err"; fail "deep JSON: exit $rc"; }
# Flags: an empty value (an unset shell variable) is no value; a flag the command does not take is
# named, with the nearest it does; a value the parser cannot read names its flag; a --max-error of
# nan (under which no error exceeds) and a size ladder of a million steps are refused. Each exit 2.
flag_error() {  # flag_error PATTERN -- command...
  local pattern="$1"; shift 2
  "$@" > /dev/null 2> "$TMP/err"; local rc=$?
  [ $rc -eq 2 ] && grep -q "$pattern" "$TMP/err" || { cat "$TMP/err"; fail "$*: exit $rc"; }
}
A="$SRC/scenarios/seed-a-hcp.json"
flag_error '^error: scenario: an empty value' -- "$BIN" ""
flag_error '^error: --calibration: an empty value' -- "$BIN" "$A" --calibration ""
flag_error '^error: --resum: not a flag .* did you mean --resume?$' -- "$BIN" sweep "$A" --resum
flag_error '^error: --tp: "abc" is not a value it takes' -- "$BIN" sweep "$A" --tp abc
flag_error '^error: --ranks: "0,.*seed-a-hcp.json" is not a value it takes .*is a file the flag took' -- "$BIN" --dump-workload --ranks 0 "$A"
flag_error '^error: --tpp: not a flag or argument hcpsim takes' -- "$BIN" "$A" --tpp 2
"$BIN" sweep "$A" --format xml 2> "$TMP/err" > /dev/null; rc=$?
[ $rc -eq 2 ] && grep -q "^error: --format: " "$TMP/err" && ! grep -q "flag of a run" "$TMP/err" || { cat "$TMP/err"; fail "sweep --format xml: exit $rc"; }
flag_error "^error: --validate: .* is a flag of a run (hcpsim SCENARIO --validate), which hcpsim sweep does not take" -- "$BIN" sweep "$A" --validate
flag_error '^error: --max-error: "nan" is not a percentage' -- "$BIN" check "$SRC/calibrate/results/h200-v6-measurements.json" --max-error nan
flag_error '^error: --stepfactor: 1.0001 gives 1025 sizes from -b to -e (at most 1000 sizes a run)' -- "$BIN" collective -b 1K -e 2K -f 1.0001
flag_error '^error: --stepfactor: 1.0000000000000002 takes more than 100000 steps' -- "$BIN" collective -b 1 -e 4 -f 1.0000000000000002
flag_error "^error: --maxbytes: '99999999999G' is not a size" -- "$BIN" collective -e 99999999999G
# A bad value a sweep flag gave is the flag's error, not the sweep section's (which the file may lack).
flag_error '^error: --tp: must be a positive integer, got 0' -- "$BIN" sweep "$A" --tp 0
flag_error '^error: --comm: unknown value "foo"' -- "$BIN" sweep "$A" --comm foo
# collective: a flag's bad value is the flag's error, and the only one (no "excludes every algorithm").
flag_error '^error: --algo: unknown name "foo"' -- "$BIN" collective --algo foo
[ "$(grep -c '^error:' "$TMP/err")" = 1 ] || { cat "$TMP/err"; fail "collective --algo foo: more than one error"; }
flag_error '^error: --nodes: value 100000000 is out of range' -- "$BIN" collective --nodes 100000000
# Run modes are one at a time, and --ranks belongs to --dump-workload: a flag that would be ignored is refused.
flag_error '^error: --validate: given with --dump-workload' -- "$BIN" "$A" --validate --dump-workload
flag_error '^error: --dump-workload: given with --show-placement' -- "$BIN" "$A" --dump-workload --show-placement
flag_error '^error: --ranks: given without --dump-workload' -- "$BIN" "$A" --ranks 3
# An endless input is refused at 256 MiB, not read until the machine's memory runs out.
flag_error 'is larger than 256 MiB (or endless)' -- "$BIN" /dev/zero
flag_error 'is larger than 256 MiB (or endless)' -- "$BIN" fit /dev/zero
echo "exit_codes: ok"

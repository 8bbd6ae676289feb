#!/usr/bin/env bash
# An interrupted sweep loses no finished result: stopped by SIGINT (exit 130)
# or killed outright (SIGKILL), `--resume` keeps every finished line unchanged,
# simulates only the rest, and ends with the table of an uninterrupted sweep.
# Usage: sweep_resume.sh HCPSIM_BINARY SOURCE_DIR
set -u
BIN="$1"; SRC="$2"; TMP="$(mktemp -d)"; trap 'kill -9 $PID 2>/dev/null; rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
PID=""
SEED="$SRC/scenarios/seed-a-hcp.json"
SPACE=(--tp 1,2 --cp 4,8 --comm p2p,a2a --pp 1 --reproducible)

"$BIN" sweep "$SEED" "${SPACE[@]}" --state "$TMP/clean" -o "$TMP/clean.txt" 2>/dev/null || fail "clean sweep"
total=$(wc -l <"$TMP/clean/results.jsonl")
[ "$total" -ge 6 ] || fail "space too small to interrupt: $total"

lines() { [ -f "$1" ] && wc -l <"$1" || echo 0; }
# Starts a sweep, waits for $2 finished results, sends signal $1; echoes the exit code.
interrupt() {
  "$BIN" sweep "$SEED" "${SPACE[@]}" --state "$TMP/$3" -j 1 -o "$TMP/$3.txt" 2>"$TMP/$3.err" &
  PID=$!
  for _ in $(seq 600); do [ "$(lines "$TMP/$3/results.jsonl")" -ge "$2" ] && break; sleep 0.05; done
  kill "-$1" "$PID"
  wait "$PID"; echo $?
}

for how in INT KILL; do
  st="st-$how"
  rc=$(interrupt "$how" 2 "$st")
  if [ "$how" = INT ]; then
    [ "$rc" -eq 130 ] || fail "SIGINT: exit $rc, want 130"
    grep -q "run the same command with --resume" "$TMP/$st.err" || fail "SIGINT: no resume hint"
  fi
  [ ! -e "$TMP/$st.txt" ] || fail "$how: an interrupted sweep wrote its output"
  cp "$TMP/$st/results.jsonl" "$TMP/$st.before"
  kept=$(python3 -c "
import json
n = 0
for line in open('$TMP/$st.before'):
    try: json.loads(line); n += line.endswith('\\n')
    except ValueError: pass
print(n)")
  [ "$kept" -ge 2 ] && [ "$kept" -lt "$total" ] || fail "$how: $kept of $total finished before the interrupt"
  "$BIN" sweep "$SEED" "${SPACE[@]}" --state "$TMP/$st" --resume -o "$TMP/$st.txt" 2>"$TMP/$st.err" || fail "$how: resume"
  grep -q "resumed: $kept results kept from $TMP/$st, $((total - kept)) simulated now" "$TMP/$st.err" \
    || { cat "$TMP/$st.err"; fail "$how: resume did not keep the $kept finished results"; }
  python3 - "$TMP/$st.before" "$TMP/$st/results.jsonl" <<'PY' || fail "$how: a finished result was lost or changed"
import json, sys
before = [l for l in open(sys.argv[1]) if l.endswith("\n")]
after = open(sys.argv[2]).read().splitlines(keepends=True)
for l in before:
    json.loads(l)
    assert l in after, "lost: " + l[:80]
PY
  diff "$TMP/clean.txt" "$TMP/$st.txt" >/dev/null || { diff "$TMP/clean.txt" "$TMP/$st.txt"; fail "$how: resumed table differs"; }
done
echo "sweep_resume: ok ($total simulations; SIGINT and SIGKILL resumed)"

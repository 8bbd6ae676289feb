#!/usr/bin/env bash
# calibrate/probes/second_fill_lead.py: where a launch of at most two blocks per SM puts its second
# fill, read from block_placement outputs. CPU only; the outputs are made by hand for a GPU of 10
# SMs and the answer derived beside them.
SRC="$2"
command -v python3 >/dev/null || { echo "SKIP: python3 not found"; exit 77; }
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
# a.txt, one launch of 13 blocks: the first fill (blocks 0-9) on SMs 5 6 7 8 9 0 1 2 3 4, so SM 5
# is first-fill position 0, SM 7 position 2, SM 9 position 4; blocks 10-12 on SMs 5, 7, 9: the
# second fill on positions 0 2 4, inside the lead (positions 0-7).
{ echo "# Test GPU, 10 SMs; 13 blocks of 128 threads"; echo "# block sm start_ns end_ns"
  sms=(5 6 7 8 9 0 1 2 3 4 5 7 9); for b in $(seq 0 12); do echo "$b ${sms[$b]} 0 100"; done; } >"$TMP/a.txt"
# b.txt, two launches of 11 blocks: launch 0 puts block 10 on SM 8, first-fill position 8 (SMs in
# index order): outside the lead; launch 1 puts block 9 on SM 0 too, so its first fill misses SM 9.
{ echo "# Test GPU, 10 SMs; 11 blocks of 128 threads"
  echo "# launch 0 (after a filler of uneven blocks)"; echo "# block sm start_ns end_ns"
  for b in $(seq 0 9); do echo "$b $b 0 100"; done; echo "10 8 0 100"
  echo "# launch 1 (after a filler of uneven blocks)"; echo "# block sm start_ns end_ns"
  for b in $(seq 0 8); do echo "$b $b 0 100"; done; echo "9 0 0 100"; echo "10 1 0 100"; } >"$TMP/b.txt"
OUT="$(python3 "$SRC/calibrate/probes/second_fill_lead.py" "$TMP/a.txt" "$TMP/b.txt")" || fail "exit $?"
echo "$OUT"
echo "$OUT" | grep -qx 'a.txt launch 0: 13 blocks; second fill on first-fill positions 0 2 4; lead in positions 0-7' || fail "a.txt"
echo "$OUT" | grep -qx 'b.txt launch 0: 11 blocks; second fill on first-fill positions 8; lead NOT in positions 0-7' || fail "b.txt launch 0"
echo "$OUT" | grep -qx 'b.txt launch 1: 11 blocks; the first fill does not cover every SM' || fail "b.txt launch 1"
echo "$OUT" | grep -qx "# launches whose second fill starts on the first fill's first 8 positions: 1 of 2 (first fill not covering every SM: 1)" || fail "summary"
echo "$OUT" | grep -qx "# first block's position (launches): 0 (1), 8 (1)" || fail "starts"
# Bad input: exit 2 with a message, not a traceback.
for bad in "" "$TMP/missing.txt"; do
  ERR="$(python3 "$SRC/calibrate/probes/second_fill_lead.py" $bad 2>&1 >/dev/null)"; rc=$?
  [ $rc -eq 2 ] || fail "'$bad': exit $rc, not 2"
  echo "$ERR" | grep -q Traceback && fail "'$bad': traceback"
done
printf '# no count here\n0 1 0 1\n' >"$TMP/nosm.txt"
python3 "$SRC/calibrate/probes/second_fill_lead.py" "$TMP/nosm.txt" >/dev/null 2>&1; [ $? -eq 2 ] || fail "no SM count must exit 2"
{ echo "# Test GPU, 10 SMs"; for b in 0 1 2 3 4 5 6 7 8 9 9; do echo "$b $b 0 1"; done; } >"$TMP/dup.txt"
ERR="$(python3 "$SRC/calibrate/probes/second_fill_lead.py" "$TMP/dup.txt" 2>&1 >/dev/null)"; rc=$?
[ $rc -eq 2 ] || fail "a block twice: exit $rc, not 2"
printf '# Test GPU, 10 SMs\n0 x 0 1\n' >"$TMP/text.txt"
ERR="$(python3 "$SRC/calibrate/probes/second_fill_lead.py" "$TMP/text.txt" 2>&1 >/dev/null)"; rc=$?
[ $rc -eq 2 ] || fail "a non-number: exit $rc, not 2"
echo "$ERR" | grep -q Traceback && fail "a non-number: traceback"
# A second-fill block on an SM no first-fill block ran on (a GPU of 10 SMs, block 10 on SM 15).
{ echo "# Test GPU, 10 SMs"; for b in $(seq 0 9); do echo "$b $b 0 1"; done; echo "10 15 0 1"; } >"$TMP/sm15.txt"
ERR="$(python3 "$SRC/calibrate/probes/second_fill_lead.py" "$TMP/sm15.txt" 2>&1 >/dev/null)"; rc=$?
[ $rc -eq 2 ] || fail "an SM outside the first fill: exit $rc, not 2"
echo "$ERR" | grep -q "block 10 ran on SM 15" || fail "an SM outside the first fill: message '$ERR'"
# No launch in range (10 blocks on 10 SMs: no second fill): exit 2.
{ echo "# Test GPU, 10 SMs"; for b in $(seq 0 9); do echo "$b $b 0 1"; done; } >"$TMP/one.txt"
python3 "$SRC/calibrate/probes/second_fill_lead.py" "$TMP/one.txt" >/dev/null 2>&1; [ $? -eq 2 ] || fail "no launch in range must exit 2"
echo "PASS"

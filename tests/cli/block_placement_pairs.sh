#!/usr/bin/env bash
# calibrate/probes/block_placement_pairs.py on a file of several launches (block_placement.cu with
# a launch count): the pairs of blocks resident on one SM at the same time, per launch, and the
# share launch 0 had too. CPU only. The input is made by hand and the answer derived beside it.
SRC="$2"
command -v python3 >/dev/null || { echo "SKIP: python3 not found"; exit 77; }
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
# Two SMs, four blocks (block sm start_ns end_ns). Launch 0: on SM 0 blocks 0 [0, 10) and
# 2 [5, 20) overlap -> pair (0, 2), gap 2; on SM 1 blocks 1 [0, 10) and 3 [12, 30) do not.
# Launch 1: on SM 1 blocks 1 [0, 10) and 2 [5, 20) -> pair (1, 2), gap 1, not launch 0's (0.00);
# on SM 0 blocks 0 and 3 do not overlap. Launch 2 repeats launch 0 (1.00). A block that ends
# when the other starts does not share the SM (10 vs 10 below: no pair).
cat >"$TMP/bp.txt" <<'TXT'
# test GPU, 2 SMs
# launch 0 (after a filler of uneven blocks)
# block sm start_ns end_ns
0 0 0 10
1 1 0 10
2 0 5 20
3 1 12 30
# launch 1 (after a filler of uneven blocks)
# block sm start_ns end_ns
0 0 0 10
1 1 0 10
2 1 5 20
3 0 12 30
# launch 2 (after a filler of uneven blocks)
# block sm start_ns end_ns
0 0 0 10
1 1 0 10
2 0 5 20
3 1 10 30
TXT
out="$(python3 "$SRC/calibrate/probes/block_placement_pairs.py" "$TMP/bp.txt")" || { echo "FAIL: exit $?"; exit 1; }
want="$TMP/bp.txt: test GPU, 2 SMs; 3 launches, each after a filler kernel
  launch   0:    1 co-resident pairs, 1.00 of them as in launch 0; gaps 2 (1)
  launch   1:    1 co-resident pairs, 0.00 of them as in launch 0; gaps 1 (1)
  launch   2:    1 co-resident pairs, 1.00 of them as in launch 0; gaps 2 (1)"
if [ "$out" != "$want" ]; then
  echo "FAIL: got"; echo "$out"; echo "want"; echo "$want"; exit 1
fi
# A file of one launch keeps the first-fill summary (the committed v29 runs, pairs.txt).
if ! (cd "$SRC" && python3 calibrate/probes/block_placement_pairs.py calibrate/results/h200-v29-block-placement/bp-*.txt |
  diff - calibrate/results/h200-v29-block-placement/pairs.txt); then
  echo "FAIL: the single-launch summary changed"; exit 1
fi
echo "block_placement_pairs: co-resident pairs per launch as derived"

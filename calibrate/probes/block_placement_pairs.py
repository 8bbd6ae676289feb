#!/usr/bin/env python3
"""block_placement_pairs: which blocks of a block_placement run shared an SM from the start.

For each output file of block_placement.cu: the blocks that started within 1 us of the first
(the launch's first fill), how many SMs they covered, and, for the SMs that took two of them,
the distribution of the gap between the two block indices. hcpsim's two-CTAs-per-SM schedule
(cost/attention_tiles.hpp, shared_sm_schedule) assumes block k shares with block k + SM count.

  python3 calibrate/probes/block_placement_pairs.py calibrate/results/h200-v29-block-placement/bp-*.txt
"""
import collections
import sys


def summary(path):
    header, rows = "", []
    with open(path) as f:
        for line in f:
            if line.startswith("#"):
                header = header or line[1:].strip()
            elif line.strip():
                rows.append(tuple(int(x) for x in line.split()))
    first = [r for r in rows if r[2] < 1000]
    by_sm = collections.defaultdict(list)
    for block, sm, _, _ in first:
        by_sm[sm].append(block)
    pairs = [sorted(v) for v in by_sm.values() if len(v) == 2]
    gaps = collections.Counter(b - a for a, b in pairs)
    lines = [f"{path}: {header}",
             f"  first fill: {len(first)} of {len(rows)} blocks on {len(by_sm)} SMs; {len(pairs)} SMs took two"]
    if pairs:
        lines.append("  gap between the two blocks (count): " +
                     ", ".join(f"{g} ({n})" for g, n in sorted(gaps.items(), key=lambda x: -x[1])))
    return "\n".join(lines)


def main(argv):
    if not argv:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    for path in argv:
        print(summary(path))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
"""block_placement_pairs: which blocks of a block_placement run shared an SM.

For each output file of block_placement.cu with one recorded launch: the blocks that started
within 1 us of the first (the launch's first fill), how many SMs they covered, and, for the SMs
that took two of them, the distribution of the gap between the two block indices. For a file of
several launches (each after a filler kernel of uneven blocks, as back to back in a training
step): per launch, the pairs of blocks that were resident on one SM at the same time, their gaps,
and the share of those pairs that launch 0 had too (1.0: the placement repeats; hcpsim's
two-CTAs-per-SM schedule draws placements, rules/block_placement.hpp, because it does not).

  python3 calibrate/probes/block_placement_pairs.py calibrate/results/h200-v29-block-placement/bp-*.txt
"""
import collections
import sys


def launches_of(path):
    """The header and, per recorded launch, its rows (block, sm, start_ns, end_ns)."""
    header, launches = "", [[]]
    with open(path) as f:
        for line in f:
            if line.startswith("# launch"):
                if launches[-1]:
                    launches.append([])
            elif line.startswith("#"):
                header = header or line[1:].strip()
            elif line.strip():
                launches[-1].append(tuple(int(x) for x in line.split()))
    return header, [rows for rows in launches if rows]


def gap_counts(pairs):
    gaps = collections.Counter(b - a for a, b in pairs)
    return ", ".join(f"{g} ({n})" for g, n in sorted(gaps.items(), key=lambda x: -x[1]))


def first_fill(path, header, rows):
    first = [r for r in rows if r[2] < 1000]
    by_sm = collections.defaultdict(list)
    for block, sm, _, _ in first:
        by_sm[sm].append(block)
    pairs = [sorted(v) for v in by_sm.values() if len(v) == 2]
    lines = [f"{path}: {header}",
             f"  first fill: {len(first)} of {len(rows)} blocks on {len(by_sm)} SMs; {len(pairs)} SMs took two"]
    if pairs:
        lines.append("  gap between the two blocks (count): " + gap_counts(pairs))
    return lines


def co_resident(rows):
    """Pairs of blocks (lower index first) resident on one SM at the same time."""
    by_sm = collections.defaultdict(list)
    for block, sm, start, end in rows:
        by_sm[sm].append((start, end, block))
    pairs = set()
    for runs in by_sm.values():
        runs.sort()
        for i, (s1, e1, b1) in enumerate(runs):
            for s2, e2, b2 in runs[i + 1:]:
                if s2 >= e1:
                    break
                pairs.add((min(b1, b2), max(b1, b2)))
    return pairs


def summary(path):
    header, launches = launches_of(path)
    if len(launches) == 1:
        return "\n".join(first_fill(path, header, launches[0]))
    lines = [f"{path}: {header}; {len(launches)} launches, each after a filler kernel"]
    base = co_resident(launches[0])
    for i, rows in enumerate(launches):
        pairs = co_resident(rows)
        same = len(pairs & base) / len(pairs) if pairs else 1.0
        top = gap_counts(sorted(pairs)).split(", ")[:6]
        lines.append(f"  launch {i:3d}: {len(pairs):4d} co-resident pairs, {same:.2f} of them as in launch 0;"
                     f" gaps {', '.join(top)}")
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

#!/usr/bin/env python3
"""second_fill_lead: where a launch of at most two blocks per SM puts its second fill.

For each output file of block_placement.cu (per_sm 2, more blocks than SMs, at most twice as
many): per recorded launch, the first fill is blocks 0 .. SMs - 1 (one on every SM, in the order
the scheduler chose), the second fill blocks SMs .. n - 1. Prints, per launch, the first-fill
position of the SM each second-fill block went to (position p: the SM block p took), and whether
the first min(8, second-fill blocks) of them lie on the first fill's first eight positions (its
first four TPCs): the lead hcpsim's two-CTAs-per-SM schedule gives the second fill
(rules/block_placement.hpp, second_fill_lead; calibrate/RESULTS.md, nineteenth run). Launches
whose first fill does not cover every SM are counted apart.

  python3 calibrate/probes/second_fill_lead.py calibrate/results/h200-v34-block-placement/bp-*.txt
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from block_placement_pairs import launches_of  # noqa: E402  (the probe's output format)

LEAD_SMS = 8  # four TPCs of two SMs


def second_fill_positions(rows, sms):
    """First-fill positions of the second fill's SMs, in block order; None when the first fill
    (blocks 0 .. sms - 1) does not take every SM once."""
    sm_of = {row[0]: row[1] for row in rows}
    if sorted(sm_of) != list(range(len(rows))):
        raise ValueError("the blocks are not 0 .. n - 1, once each")
    first = [sm_of[b] for b in range(sms)]
    if len(set(first)) != sms:
        return None
    position = {sm: p for p, sm in enumerate(first)}
    outside = [b for b in range(sms, len(rows)) if sm_of[b] not in position]
    if outside:
        raise ValueError(f"block {outside[0]} ran on SM {sm_of[outside[0]]}, which no first-fill block did")
    return [position[sm_of[b]] for b in range(sms, len(rows))]


def main(argv):
    if not argv:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    led = total = uncovered = 0
    starts = {}
    for path in argv:
        try:
            header, launches = launches_of(path)
        except (OSError, ValueError) as e:
            print(f"{path}: not a block_placement output ({e})", file=sys.stderr)
            return 2
        m = re.search(r"(\d+) SMs", header)
        if not m:
            print(f"{path}: no SM count in the header", file=sys.stderr)
            return 2
        sms = int(m.group(1))
        for i, rows in enumerate(launches):
            if not sms < len(rows) <= 2 * sms:
                continue
            try:
                positions = second_fill_positions(rows, sms)
            except (ValueError, LookupError) as e:
                print(f"{path}: launch {i}: {e}", file=sys.stderr)
                return 2
            if positions is None:
                uncovered += 1
                print(f"{os.path.basename(path)} launch {i}: {len(rows)} blocks; the first fill does not cover every SM")
                continue
            lead = positions[:LEAD_SMS]
            ok = all(p < LEAD_SMS for p in lead)
            led += ok
            total += 1
            starts[lead[0]] = starts.get(lead[0], 0) + 1
            print(f"{os.path.basename(path)} launch {i}: {len(rows)} blocks; second fill on first-fill positions "
                  f"{' '.join(map(str, positions))}; lead {'in' if ok else 'NOT in'} positions 0-{LEAD_SMS - 1}")
    if total + uncovered == 0:
        print("no launch of more blocks than SMs and at most twice as many", file=sys.stderr)
        return 2
    print(f"# launches whose second fill starts on the first fill's first {LEAD_SMS} positions: {led} of {total}"
          f" (first fill not covering every SM: {uncovered})")
    print("# first block's position (launches): " + ", ".join(f"{p} ({n})" for p, n in sorted(starts.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
"""Counts one rank's ops of one program in `hcpsim --dump-workload` output by their phase column
(fwd, bwd, opt), for the CLI tests that check what hcpsim derives from its workload (imported with
the tests/cli folder on sys.path; not a ctest)."""


def phase_counts(dump_lines, program, rank=0, launches_only=False):
    """launches_only: leave out the ops marked no-launch (issued by Transformer Engine's C++ inside
    another op's call, which the CPU does not launch on their own)."""
    header = "## rank %d %s" % (rank, program)
    start = next(i for i, l in enumerate(dump_lines) if l.startswith(header))
    n = {"fwd": 0, "bwd": 0, "opt": 0}
    for line in dump_lines[start + 1:]:
        if line.startswith("#"):
            break
        if launches_only and " no-launch " in line + " ":
            continue
        n[line.split()[2]] += 1
    return n

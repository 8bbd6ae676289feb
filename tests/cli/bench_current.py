#!/usr/bin/env python3
"""A bench's committed output must be what the built binary gives now (the cli.*_bench tests).

    bench_current.py HCPSIM SRC BENCH 'REGEX=COUNT' ...

runs SRC/bench/BENCH/run.py HCPSIM, checks that COUNT of its lines match each REGEX (the rows and
summaries it must print), and compares its output with the committed SRC/bench/BENCH/results.txt;
a difference fails until the results (and the docs quoting them) are regenerated with the command.
"""
import difflib
import os
import re
import subprocess
import sys


def main(argv):
    hcpsim, src, bench = argv[1:4]
    run = os.path.join(src, "bench", bench, "run.py")
    out = subprocess.run([sys.executable, run, hcpsim], capture_output=True, text=True)
    if out.returncode != 0:
        print("FAIL: run.py exit %d\n%s" % (out.returncode, out.stderr))
        return 1
    lines = out.stdout.splitlines(keepends=True)
    for spec in argv[4:]:
        pattern, _, count = spec.rpartition("=")
        n = sum(1 for line in lines if re.match(pattern, line))
        if n != int(count):
            print("FAIL: %s lines matching %r expected, %d found\n%s" % (count, pattern, n, out.stdout))
            return 1
    committed_path = os.path.join(src, "bench", bench, "results.txt")
    committed = open(committed_path).read().splitlines(keepends=True)
    if committed != lines:
        sys.stdout.writelines(difflib.unified_diff(committed, lines, committed_path, "now"))
        print("FAIL: bench/%s/results.txt is stale: run bench/%s/run.py > bench/%s/results.txt" % (bench, bench, bench))
        return 1
    print("%s bench: ok" % bench)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

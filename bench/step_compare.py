"""One published training step against hcpsim's: the columns and summaries bench/dgxc-llama and
bench/mbridge-llama print alike (the published and predicted step times, hcpsim's band, their ratio,
whether the published time falls in the band, and hcpsim's memory against the GPU's, marked where
the headroom is below the caching allocator's margin: a run that ran although hcpsim says it may run
out).
"""
import sys

from simulate import SimulationFailed, simulate

# The columns' header, after each bench's own row-naming columns.
HEADER = "%9s %9s %17s %6s %-7s %s" % ("published", "hcpsim", "band", "ratio", "in band", "memory GB")


class Compared:
    """hcpsim's result for one row against the published step time `published_s`."""

    def __init__(self, result, published_s, not_fit_note=" DOES NOT FIT"):
        self.step_s = result["step"]["time_s"]
        lo, hi = result["uncertainty"]["step_time_s"]
        self.ratio = self.step_s / published_s
        mem = result["memory"]
        self.fits = bool(mem["fits"])
        self.within_margin = bool(mem["allocator"]["headroom_within_margin"])
        margin = " (margin %.1f)" % (mem["allocator"]["margin_bytes"] / 1e9) if self.within_margin else ""
        self.columns = "%8.3fs %8.3fs %7.3f..%7.3fs %6.3f %-7s %5.1f / %5.1f%s" % (
            published_s, self.step_s, lo, hi, self.ratio, "yes" if lo <= published_s <= hi else "no",
            mem["peak_bytes"] / 1e9, mem["capacity_bytes"] / 1e9, margin if self.fits else not_fit_note)


def predict(hcpsim, scenario, row):
    """hcpsim's result for one row's scenario; a failure stops the bench, naming the row."""
    try:
        return simulate(hcpsim, scenario)
    except SimulationFailed as e:
        sys.exit("hcpsim failed on %s: %s" % (row, e))


def ratio_summary(ratios):
    v = sorted(ratios)
    return "ratio median %.3f, range %.3f..%.3f" % (v[len(v) // 2], v[0], v[-1])


def layout(row):
    return "%dx%dx%dx%s" % (row["tp"], row["pp"], row["cp"], row["vp"] or "-")

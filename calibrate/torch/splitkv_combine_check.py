#!/usr/bin/env python3
"""splitkv_combine_check: the calibration's combine-kernel terms against the combine kernel's own time.

hcpsim's FlashAttention-2 forward fit sees launch totals only. A split-KV launch is two kernels:
the split kernel, then flash_fwd_splitkv_combine_kernel, which merges the splits' fp32 partial
outputs (docs/cost-model.md, the attention shape model). The shape model gives that second kernel
combine_launch_s + combine_row_s x rows + split_element_s x splits x rows x head dim. probe_heads.py
--kernels records each kernel of a launch apart, so the fitted terms can be held against what the
combine kernel took, a check the fit never saw: per split launch of the probe files (two kernels,
the first's grid y = its splits; batch 1, rows = heads x seq), the terms at the probe's SM clock
against the combine kernel's median duration. The terms also stand for what the profile does not
give the combine kernel: its launch behind the first (about 1 us: a split launch's total exceeds
its kernels' sum by 4.0 us, an unsplit one's by 3.0) and the split kernel's writes of the partial
outputs; a ratio near 1 says the fit put about the combine kernel's time in them, the rest in t0
and the per-CTA costs.

    python3 calibrate/torch/splitkv_combine_check.py src/cost/defaults/h200-flash.json \\
        calibrate/results/h200-v32-probe-kernels/*.json calibrate/results/h200-v33/*probe-kernels*.json

Prints one line per launch and the ratio's median, min and max; exit 0, 2 on bad input.
"""
import json
import statistics
import sys

HEAD_DIM = 128  # the shape model's; the probes run head dim 128
PARTS = {"causal": "fwd_causal", "none": "fwd_nomask"}  # probe_heads.py's mask -> the calibration's part


class BadInput(Exception):
    pass


def load(path, what):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise BadInput(f"{path}: cannot read {what} ({e})")


def combine_terms(path):
    """The flash calibration's forward parts and its SM clock."""
    doc = load(path, "a calibration")
    shape = doc.get("attention_shape") if isinstance(doc, dict) else None
    if not isinstance(shape, dict) or not all(isinstance(shape.get(p), dict) for p in PARTS.values()):
        raise BadInput(f"{path}: no attention_shape with fwd_causal and fwd_nomask (a calibration of hcpsim fit)")
    if shape.get("backend") != "flash":
        raise BadInput(f"{path}: attention_shape.backend is {shape.get('backend')!r}, not 'flash': only "
                       "FlashAttention-2 splits its forward")
    return shape, float(shape.get("sm_clock_mhz", 0) or 0)


def split_launches(path):
    """(seq, heads, mask, splits, combine us, SM clock) per split launch with both kernels recorded."""
    doc = load(path, "a probe_heads.py file")
    records = doc.get("records") if isinstance(doc, dict) else None
    if not isinstance(records, list):
        raise BadInput(f"{path}: no records list (a probe_heads.py file)")
    for i, r in enumerate(records):
        kernels = r.get("kernels") if isinstance(r, dict) else None
        if not isinstance(kernels, list) or r.get("pass") != "fwd" or len(kernels) != 2:
            continue
        try:
            seq, heads, mask = int(r["seq"]), int(r["heads"]), r["mask"]
            splits, combine_us = int(kernels[0]["grid"][1]), float(kernels[1]["median_us"])
            clock = float(r.get("sm_clock_mhz") or 0)
        except (KeyError, IndexError, TypeError, ValueError) as e:
            raise BadInput(f"{path}: records[{i}]: a split launch needs seq, heads, mask, the first kernel's grid "
                           f"and the second's median_us ({e!r})")
        if mask not in PARTS or seq <= 0 or heads <= 0 or splits <= 1 or combine_us <= 0:
            raise BadInput(f"{path}: records[{i}]: mask must be causal or none, seq, heads and median_us > 0, "
                           f"splits > 1 (got {mask!r}, {seq}, {heads}, {combine_us}, {splits})")
        yield seq, heads, mask, splits, combine_us, clock


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    try:
        shape, clock = combine_terms(argv[1])
        ratios = []
        print("# seq heads mask splits rows   terms_us  kernel_us  ratio")
        for path in argv[2:]:
            for seq, heads, mask, splits, kernel_us, probe_clock in split_launches(path):
                part, rows = shape[PARTS[mask]], heads * seq
                terms_s = (part.get("combine_launch_s", 0) + part.get("combine_row_s", 0) * rows +
                           part.get("split_element_s", 0) * splits * rows * HEAD_DIM)
                if clock and probe_clock:
                    terms_s *= clock / probe_clock  # time scales with 1 / SM clock
                ratios.append(terms_s * 1e6 / kernel_us)
                print(f"{seq:6} {heads:5} {mask:6} {splits:6} {rows:6} {terms_s * 1e6:9.2f} {kernel_us:9.2f} "
                      f"{ratios[-1]:6.2f}")
        if not ratios:
            raise BadInput("no split-KV launch with its kernels recorded (probe_heads.py --kernels)")
    except BadInput as e:
        sys.stderr.write(f"splitkv_combine_check: {e}\n")
        return 2
    print(f"# {len(ratios)} split launches: terms / combine kernel median {statistics.median(ratios):.2f}, "
          f"min {min(ratios):.2f}, max {max(ratios):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

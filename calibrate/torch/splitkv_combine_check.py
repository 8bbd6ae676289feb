#!/usr/bin/env python3
"""splitkv_combine_check: the calibration's combine-kernel terms against the combine kernel's own time.

hcpsim's FlashAttention-2 forward fit sees launch totals only. A split-KV launch is two kernels:
the split kernel, then flash_fwd_splitkv_combine_kernel, which merges the splits' fp32 partial
outputs (docs/cost-model.md, the attention shape model). The shape model gives that second kernel
combine_launch_s + combine_row_s x rows + split_element_s x splits x rows x head dim. probe_heads.py
--kernels records each kernel of a launch apart, so the fitted terms can be held against what the
combine kernel took, a check the fit never saw: per split launch of the probe files (two kernels,
the first's grid y = its splits; batch 1, rows = heads x seq), the terms at the probe's SM clock
against the combine kernel's median duration.

    python3 calibrate/torch/splitkv_combine_check.py src/cost/defaults/h200-flash.json \\
        calibrate/results/h200-v32-probe-kernels/*.json calibrate/results/h200-v33/*probe-kernels*.json

Prints one line per launch and the ratio's median, min and max; exit 0, 2 on bad input.
"""
import json
import statistics
import sys

HEAD_DIM = 128  # the shape model's; the probes run head dim 128


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    try:
        with open(argv[1]) as f:
            shape = json.load(f)["attention_shape"]
    except (OSError, ValueError, KeyError) as e:
        sys.stderr.write(f"{argv[1]}: not a calibration with attention_shape ({e})\n")
        return 2
    clock = shape.get("sm_clock_mhz", 0)
    ratios = []
    print("# seq heads mask splits rows   terms_us  kernel_us  ratio")
    for path in argv[2:]:
        try:
            with open(path) as f:
                records = json.load(f)["records"]
        except (OSError, ValueError, KeyError) as e:
            sys.stderr.write(f"{path}: not a probe_heads.py file ({e})\n")
            return 2
        for r in records:
            kernels = r.get("kernels") or []
            if r.get("pass") != "fwd" or len(kernels) != 2:
                continue
            part = shape["fwd_causal" if r["mask"] == "causal" else "fwd_nomask"]
            splits, rows = kernels[0]["grid"][1], r["heads"] * r["seq"]
            terms_s = (part.get("combine_launch_s", 0) + part.get("combine_row_s", 0) * rows +
                       part.get("split_element_s", 0) * splits * rows * HEAD_DIM)
            if clock and r.get("sm_clock_mhz"):
                terms_s *= clock / r["sm_clock_mhz"]  # time scales with 1 / SM clock
            kernel_us = kernels[1]["median_us"]
            ratios.append(terms_s * 1e6 / kernel_us)
            print(f"{r['seq']:6} {r['heads']:5} {r['mask']:6} {splits:6} {rows:6} {terms_s * 1e6:9.2f} "
                  f"{kernel_us:9.2f} {ratios[-1]:6.2f}")
    if not ratios:
        sys.stderr.write("no split-KV launch with its kernels recorded (probe_heads.py --kernels)\n")
        return 2
    print(f"# {len(ratios)} split launches: terms / combine kernel median {statistics.median(ratios):.2f}, "
          f"min {min(ratios):.2f}, max {max(ratios):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

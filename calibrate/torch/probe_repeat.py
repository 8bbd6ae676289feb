#!/usr/bin/env python3
"""probe_repeat: is one attention launch's time the same on fresh inputs, and in a fresh process?

FlashAttention-2's causal forwards of 133-192 CTAs (a few SMs run two) measured 92.5 us in one
process and 110.5 us in another (2432 tokens, 8 heads; calibrate/RESULTS.md, twentieth run), each
median holding over its 20 launches, while the block-placement probe put a launch of that many blocks
the same way every time. This probe separates what could differ between two processes: for each
--shapes entry (tokens x heads, causal, no GQA) it makes --repeats fresh input sets, each after an
allocation of a drawn size (0-64 MiB, seeded by --seed) that moves the inputs' addresses, and
times every set with hcpcal_torch's timer (warm-up to the sustained clock, 20 launches back to
back). By default every set is made first and then timed in turn (--rounds times); with
--same-values sets 1.. copy set 0's values to other addresses; with --one-at-a-time each set is
timed as soon as it is made and freed before the next; with --shift-output one set is made and
timed --repeats times, each after a further allocation of a drawn size kept alive, so only where
SDPA's output (and log-sum-exp) lands moves. Every record has the output's address. Run in several
processes, the modes tell apart what a launch's time follows: its inputs' values or addresses, the
allocator's state (what SDPA's output lands on), or the process (the process, on an H100:
calibrate/RESULTS.md, twenty-first run).

    python3 calibrate/torch/probe_repeat.py --shapes 2432x8,2432x9 --repeats 4 --one-at-a-time --seed 1 --out r.json

Writes JSON {tool, argv, gpu, sms, torch, records: [{seq, heads, repeat, pad_bytes, q_ptr, k_ptr,
v_ptr, out_ptr, round, same_values, shift_output, median_s, min_s, max_s, sm_clock_mhz, ...}]}.
"""
import argparse
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hcpcal_torch as H  # noqa: E402  (its timer and SDPA call)
from json_out import write_json  # noqa: E402  (complete or not at all)


def shapes_of(text):
    out = []
    for part in text.split(","):
        seq, _, heads = part.partition("x")
        out.append((int(seq), int(heads)))
    return out


def main(argv):
    p = argparse.ArgumentParser(prog="probe_repeat", description=__doc__.splitlines()[0])
    p.add_argument("--backend", choices=["flash", "cudnn"], default="flash")
    p.add_argument("--shapes", required=True, help="tokens x heads, comma-separated: 2432x8,1536x14")
    p.add_argument("--repeats", type=int, default=6, help="fresh input sets per shape (default 6)")
    p.add_argument("--rounds", type=int, default=1,
                   help="times every set in turn this many times (default 1): a set whose time holds over rounds "
                        "is timed by what it is, not by when")
    p.add_argument("--one-at-a-time", action="store_true",
                   help="time each set as soon as it is made and free it (and its padding) before the next: "
                        "every set after an allocator state of its own (the first three processes of the "
                        "twentieth run); without it every set is made first, then timed in turn")
    p.add_argument("--same-values", action="store_true",
                   help="sets 1.. are copies of set 0 in fresh allocations: the same values at other addresses")
    p.add_argument("--shift-output", action="store_true",
                   help="one input set, timed --repeats times, each after a further drawn allocation kept alive: "
                        "the inputs stay, the output SDPA allocates on each call lands elsewhere")
    p.add_argument("--seed", type=int, default=0, help="seeds the padding sizes (default 0)")
    p.add_argument("--out", required=True)
    o = p.parse_args(argv[1:])
    if o.repeats < 1 or o.rounds < 1:
        p.error("--repeats and --rounds: at least 1")
    if o.one_at_a_time and (o.rounds > 1 or o.same_values):
        p.error("--one-at-a-time times each set once, from fresh values: not with --rounds or --same-values")
    if o.shift_output and (o.one_at_a_time or o.rounds > 1 or o.same_values):
        p.error("--shift-output times one set after each allocation: not with --one-at-a-time, --rounds or --same-values")

    torch, _ = H.bind_torch()
    opts = H.parse_args(["-n", "20", "-w", "1", "--timed-ms", "200", "--warmup-ms", "200"])
    timer = H.Timer(opts)
    gen = torch.Generator(device="cuda").manual_seed(1234 + o.seed)
    draw = random.Random(o.seed)
    props = torch.cuda.get_device_properties(0)
    records = []
    def timed(s, c, r, rnd, seq, heads):
        with H.sdpa_context(o.backend):
            out = H.attn_call(s, c, "causal", False)
            out_ptr = out.data_ptr()  # freed here; the timed calls' outputs take the same cached block
            del out
            t = timer.measure(lambda i: H.attn_call(s, c, "causal", False), opts.iters)
        q, k, v = (s[n].data_ptr() for n in ("q", "k", "v"))
        records.append({"backend": o.backend, "seq": seq, "heads": heads, "mask": "causal", "pass": "fwd",
                        "repeat": r, "round": rnd, "same_values": o.same_values, "pad_bytes": s["pad_bytes"],
                        "q_ptr": q, "k_ptr": k, "v_ptr": v, "out_ptr": out_ptr, "shift_output": o.shift_output,
                        **t})
        print(f"{o.backend} s{seq} h{heads:3} set {r} round {rnd}: {t['median_s'] * 1e6:8.2f} us "
              f"[{t['min_s'] * 1e6:.1f}-{t['max_s'] * 1e6:.1f}] q {q:#x} k {k:#x} v {v:#x} out {out_ptr:#x}", flush=True)

    for seq, heads in shapes_of(o.shapes):
        c = H.AttnCase(f"s{seq}_causal_h{heads}", seq, seq, heads, heads, True)
        sets, pads = [], []
        if o.shift_output:  # one set; each timing after one more drawn allocation, kept alive
            s = H.make_attn_set(c, gen, False)
            for r in range(o.repeats):
                s["pad_bytes"] = draw.randrange(4096, 64 << 20, 4096)
                pads.append(torch.empty(s["pad_bytes"], dtype=torch.uint8, device="cuda"))
                timed(s, c, r, 0, seq, heads)
            del s, pads
            continue
        for r in range(o.repeats):
            pad_bytes = draw.randrange(0, 64 << 20, 4096)
            pads.append(torch.empty(pad_bytes, dtype=torch.uint8, device="cuda") if pad_bytes else None)
            if o.same_values and sets:  # set 0's values in fresh allocations: only the addresses differ
                sets.append({n: x.detach().clone().requires_grad_(x.requires_grad)
                             for n, x in sets[0].items() if torch.is_tensor(x)})
            else:
                sets.append(H.make_attn_set(c, gen, False))
            sets[-1]["pad_bytes"] = pad_bytes
            if o.one_at_a_time:  # timed as soon as made, then freed with its padding: the next set's
                timed(sets[-1], c, r, 0, seq, heads)  # allocations (and each call's) land elsewhere
                sets[-1], pads[-1] = None, None
        if not o.one_at_a_time:
            for rnd in range(o.rounds):  # every set once a round: a set's time against the GPU's state
                for r, s in enumerate(sets):
                    timed(s, c, r, rnd, seq, heads)
        del sets, pads
    doc = {"tool": "probe_repeat.py", "argv": argv[1:], "gpu": props.name, "sms": props.multi_processor_count,
           "torch": torch.__version__, "records": records}
    write_json(o.out, doc)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env bash
# calibrate/torch/hcpcal_torch.py event_times: the probes' one timer. CPU only: a stub `torch` whose
# CUDA events read a clock that each call of the timed function advances by a known step, so the
# times it must return are known: w untimed calls first, then n timed ones, the i-th taking i + 1
# ticks of 1 ms; one at a time, each end event is waited for before the next call.
SRC="$2"
command -v python3 >/dev/null || { echo "SKIP: python3 not found"; exit 77; }
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/torch/nn"
cat >"$TMP/torch/__init__.py" <<'PY'
class _Clock:
    now_ms = 0.0
    waits = 0
    syncs = 0
class _Event:
    def __init__(self, enable_timing=False):
        assert enable_timing
        self.at = None
    def record(self, stream=None):
        self.at = _Clock.now_ms
    def synchronize(self):
        _Clock.waits += 1
    def elapsed_time(self, end):
        return end.at - self.at
class cuda:
    Event = _Event
    @staticmethod
    def synchronize():
        _Clock.syncs += 1
clock = _Clock
PY
: >"$TMP/torch/nn/__init__.py"
: >"$TMP/torch/nn/functional.py"
PYTHONPATH="$TMP:$SRC/calibrate/torch" python3 - <<'PY' || { echo "FAIL: event_times"; exit 1; }
import hcpcal_torch as H
torch, _ = H.bind_torch()
calls = []
def fn():
    calls.append(1)
    torch.clock.now_ms += len(calls) * 1.0  # the k-th call of all (warm-up included) takes k ms
for one_at_a_time in (False, True):
    calls.clear()
    torch.clock.waits = torch.clock.syncs = 0
    t = H.event_times(fn, 4, 2, one_at_a_time=one_at_a_time)
    # calls 3..6 are timed: 3, 4, 5, 6 ms
    assert t == [0.003, 0.004, 0.005, 0.006], t
    assert len(calls) == 6, len(calls)
    assert torch.clock.waits == (4 if one_at_a_time else 0), torch.clock.waits
    assert torch.clock.syncs == 1, torch.clock.syncs  # every event done before they are read
print("event_times: ok")
PY

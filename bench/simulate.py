"""One scenario through hcpsim, for the bench scripts (published/, cudnn-sdpa/, dgxc-llama/).

simulate(hcpsim, scenario) writes the scenario to a temporary file, runs
`hcpsim FILE --reproducible --format json` and returns the parsed result; a run that exits non-zero
raises SimulationFailed with the last line hcpsim printed on stderr (its validation message).
"""
import json
import os
import subprocess
import tempfile


class SimulationFailed(Exception):
    pass


def simulate(hcpsim, scenario):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(scenario, f)
        path = f.name
    try:
        out = subprocess.run([hcpsim, path, "--reproducible", "--format", "json"], capture_output=True, text=True)
    finally:
        os.unlink(path)
    if out.returncode != 0:
        raise SimulationFailed((out.stderr.strip().splitlines() or ["exit %d" % out.returncode])[-1])
    return json.loads(out.stdout)

"""write_json: a probe's output file, complete or not at all (a temporary file beside it, then renamed).

One definition for the probes and tools of calibrate/torch that write one JSON document.
"""
import json
import os
import tempfile


def write_json(path, doc):
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), prefix="." + os.path.basename(path) + ".")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(doc, f, indent=1)
            f.write("\n")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise

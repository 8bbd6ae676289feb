#!/usr/bin/env bash
# calibrate/torch/hcpcal_torch.py bind_torch: the one place the torch tools hand PyTorch to the
# modules that import it lazily. CPU only: a stub `torch` package stands in for PyTorch.
SRC="$2"
command -v python3 >/dev/null || { echo "SKIP: python3 not found"; exit 77; }
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/torch/nn"
echo 'STUB = "torch"' >"$TMP/torch/__init__.py"
: >"$TMP/torch/nn/__init__.py"
echo 'STUB = "functional"' >"$TMP/torch/nn/functional.py"
PYTHONPATH="$TMP:$SRC/calibrate/torch" python3 - <<'PY' || { echo "FAIL: bind_torch"; exit 1; }
import hcpcal_torch as H
import kernel_profile as KP
assert H.torch is None and KP.torch is None  # nothing bound at import: --help works without PyTorch
torch, F = H.bind_torch(KP)
assert torch.STUB == "torch" and F.STUB == "functional"
assert H.torch is torch and H.F is F
assert KP.torch is torch and KP.F is F and KP.H is H
print("bind_torch: ok")
PY

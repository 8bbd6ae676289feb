#!/usr/bin/env bash
# Fetches the cuDNN frontend (NVIDIA/cudnn-frontend, MIT licence, header-only C++) that
# cudnn_graph.py compiles cudnn_graph_sdpa.cpp against, into third_party/cudnn-frontend beside
# this script (ignored by git). Only hcpcal_torch's cuDNN graph path needs it: cuDNN's
# bottom-right causal kernels, which PyTorch's SDPA cannot ask for. Run it on the GPU node
# (or copy the folder there); it needs git and network access.
set -euo pipefail
TAG="${CUDNN_FRONTEND_TAG:-v1.23.0}"
DEST="$(cd "$(dirname "$0")" && pwd)/third_party/cudnn-frontend"
if [ -f "$DEST/include/cudnn_frontend.h" ]; then
  echo "cuDNN frontend already at $DEST ($(grep -h 'define CUDNN_FRONTEND_M[AI]' "$DEST/include/cudnn_frontend_version.h" | awk '{print $3}' | paste -sd.))"
  exit 0
fi
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
git clone --quiet --depth 1 --branch "$TAG" https://github.com/NVIDIA/cudnn-frontend.git "$TMP/fe"
mkdir -p "$DEST.tmp"
cp -r "$TMP/fe/include" "$TMP/fe/LICENSE.txt" "$DEST.tmp/"
mv "$DEST.tmp" "$DEST"
echo "cuDNN frontend $TAG at $DEST"

#!/usr/bin/env bash
# Installs every Debian package hcpsim needs. Idempotent and non-interactive;
# run as root (or with sudo available) on Debian 12.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git python3
  libsimgrid-dev libboost-graph-dev libeigen3-dev nlohmann-json3-dev libcli11-dev catch2
  libopenmpi-dev openmpi-bin
  clang libclang-rt-14-dev           # libFuzzer for the bounded fuzz run
  libjs-chart.js                     # Chart.js, embedded in `hcpsim sweep --report` pages at build time
  chromium-headless-shell            # renders those pages in the report test (tests/cli/sweep_report.sh)
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "# install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
echo "# install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "# install-deps: done"

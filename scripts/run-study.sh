#!/usr/bin/env bash
# README command 1: install dependencies, build, and run hcpsim's built-in study.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh >/dev/null
exec build/hcpsim "$@"

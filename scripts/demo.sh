#!/usr/bin/env bash
# scripts/demo.sh — the README's main command: install what is missing, build, and run xpr.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh >/dev/null
exec bash examples/demo.sh "build"

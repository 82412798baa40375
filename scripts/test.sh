#!/usr/bin/env bash
# scripts/test.sh — the README's test command: install what is missing, build, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
ctest --test-dir "${XPR_BUILD_DIR:-build}" --output-on-failure -j "$(nproc)" --timeout 600

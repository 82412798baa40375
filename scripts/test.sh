#!/usr/bin/env bash
# scripts/test.sh — the README's test command: install what is missing, build, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
# Tests get a kernel cache of their own inside the build dir, so they never touch (or trust) the
# user's ~/.cache/xpr; tests/cache sets its own directories on top of this.
export XPR_CACHE_DIR="$PWD/${XPR_BUILD_DIR:-build}/test-kernel-cache"
rm -rf "$XPR_CACHE_DIR"
ctest --test-dir "${XPR_BUILD_DIR:-build}" --output-on-failure -j "$(nproc)" --timeout 600

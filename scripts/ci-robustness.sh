#!/usr/bin/env bash
# scripts/ci-robustness.sh — CI's robustness stage (docs/robustness.md), run by .ci/run after the
# main test suite: fails on any sanitizer report, fuzz finding or failing test.
#   1. build-asan: the whole tree with ASan+UBSan and the fuzz targets; the whole test suite
#      under it (scripts/sanitize.sh full);
#   2. every fuzz target for XPR_CI_FUZZ_SECONDS (default 60) in that build (scripts/fuzz.sh);
#   3. build-tsan: the concurrency tests under ThreadSanitizer (scripts/sanitize.sh tsan).
# XPR_CI_ROBUSTNESS=0 skips it (for a quick local .ci/run).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [[ ${XPR_CI_ROBUSTNESS:-1} == 0 ]]; then
  echo "ci-robustness: skipped (XPR_CI_ROBUSTNESS=0)"
  exit 0
fi
stage() { echo; echo "=== ci-robustness: $1 ($(date -u +%H:%M:%S))"; }
stage "ASan+UBSan build and the whole test suite"
bash "$ROOT/scripts/sanitize.sh" full
stage "fuzzing, ${XPR_CI_FUZZ_SECONDS:-60} s per target"
BUILD_DIR=$ROOT/build-asan XPR_FUZZ_BUILD_TESTS=ON bash "$ROOT/scripts/fuzz.sh" "${XPR_CI_FUZZ_SECONDS:-60}"
stage "ThreadSanitizer: the concurrency tests"
bash "$ROOT/scripts/sanitize.sh" tsan
stage "done"

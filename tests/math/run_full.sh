#!/bin/sh
# tests/math/run_full.sh — the full MPFR accuracy run of docs/math.md: 10^6 sampled points per
# function x dtype (both modes share them) plus every special value; prints the max-ULP table and
# exits 1 if any documented bound or special-value rule is violated.
#   tests/math/run_full.sh [BUILD_DIR] [extra xpr_math_accuracy flags, e.g. --threads 16]
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
[ $# -gt 0 ] && shift
ninja -C "$build" xpr_math_accuracy >/dev/null
exec "$build/tests/math/xpr_math_accuracy" --points 1000000 "$@"

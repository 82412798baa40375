#!/usr/bin/env bash
# scripts/bench.sh — the whole benchmark suite in one command: installs what it needs, builds a
# Release build, runs the N sweeps (elementwise, transcendental, Black-Scholes, reductions: xpr vs
# the hand-written fused loop vs Eigen, with the STREAM triad of the same run), the call overhead
# and the compile latency, then rewrites the results block of docs/performance.md and draws the
# charts in docs/img/. See docs/performance.md for the method.
#
#   scripts/bench.sh            the full suite, N = 10^2 .. 10^8 (4-10 minutes; ~5 GB RAM)
#   scripts/bench.sh --quick    N = 10^2 .. 10^5, few repetitions: checks that everything works;
#                               its numbers are labelled as a quick run in the report
#
# Options: --no-deps (skip scripts/install-deps.sh), --no-docs (write the report and charts into
# the results folder instead of docs/), --help.
# Environment: XPR_BENCH_BUILD_DIR (default build-bench), XPR_BENCH_JOBS (build parallelism,
# default: all cores), XPR_BENCH_SIZES (comma-separated N values, overrides either mode),
# XPR_CACHE_DIR (the kernel cache; default <build dir>/bench-kernel-cache).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${XPR_BENCH_BUILD_DIR:-$ROOT/build-bench}"
QUICK=0
DEPS=1
DOCS=1
for arg in "$@"; do
  case "$arg" in
    --quick) QUICK=1 ;;
    --no-deps) DEPS=0 ;;
    --no-docs) DOCS=0 ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench.sh: unknown option $arg (try --help)" >&2; exit 2 ;;
  esac
done

if [ "$DEPS" -eq 1 ]; then
  "$ROOT/scripts/install-deps.sh"
fi

JOBS="${XPR_BENCH_JOBS:-$(nproc)}"
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 >/dev/null
ninja -C "$BUILD" -j "$JOBS" xpr_bench_cpu xpr_bench_reduce xpr_bench_compile

RESULTS="$BUILD/bench-results"
mkdir -p "$RESULTS"
export XPR_CACHE_DIR="${XPR_CACHE_DIR:-$BUILD/bench-kernel-cache}"

if [ "$QUICK" -eq 1 ]; then
  SIZES="${XPR_BENCH_SIZES:-100,1000,10000,100000}"
  SWEEP=(--sizes "$SIZES" --point-time 0.01 --min-reps 3 --stream-reps 3)
  CALLS=(--calls 2000)
  COMPILE=(--reps 1)
  LABEL="**Quick run** (\`scripts/bench.sh --quick\`: N up to $(echo "$SIZES" | tr ',' '\n' | tail -1), \
about 0.01 s per point, on a shared development machine): it shows that the suite works and \
what the report looks like; its numbers are not a measurement. The full suite replaces this block."
  CMD="scripts/bench.sh --quick"
else
  SIZES="${XPR_BENCH_SIZES:-100,1000,10000,100000,1000000,10000000,100000000}"
  SWEEP=(--sizes "$SIZES")
  CALLS=()
  COMPILE=()
  LABEL=""
  CMD="scripts/bench.sh"
fi

start=$(date +%s)
echo "bench.sh: results in $RESULTS"
echo "== elementwise, transcendental, Black-Scholes; call overhead"
"$BUILD/bench/xpr_bench_cpu" --sweep "${SWEEP[@]}" "${CALLS[@]}" --csv "$RESULTS/cpu.csv" \
  | tee "$RESULTS/cpu.log"
echo "== reductions"
"$BUILD/bench/xpr_bench_reduce" --sweep "${SWEEP[@]}" --csv "$RESULTS/reduce.csv" \
  | tee "$RESULTS/reduce.log"
echo "== compile latency"
"$BUILD/bench/xpr_bench_compile" "${COMPILE[@]}" --csv "$RESULTS/compile.csv" \
  | tee "$RESULTS/compile.log"

if [ "$DOCS" -eq 1 ]; then
  MD="$ROOT/docs/performance.md"
  IMG="$ROOT/docs/img"
else
  MD="$RESULTS/performance.md"
  IMG="$RESULTS/img"
fi
python3 "$ROOT/bench/report.py" --results "$RESULTS" --markdown "$MD" --img-dir "$IMG" \
  --label "$LABEL" --command "$CMD"
echo "bench.sh: done in $(( $(date +%s) - start )) s of measuring; report: $MD, charts: $IMG"

#!/usr/bin/env bash
# scripts/fuzz.sh — builds the libFuzzer targets (build-fuzz) and runs each for SECONDS.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]      (default 60 s; targets: frontend ir compile npy cache)
#
# Fails on any crash, leak, timeout (>10 s for one input) or out-of-memory (>2 GiB). Each target
# keeps its growing corpus in build-fuzz/corpus/<target> (seeded from fuzz/corpus/<target>), so
# repeated runs continue where the last stopped; a failing input is written to
# build-fuzz/artifacts/<target>/ — minimize it (the binary's -minimize_crash=1) and add it to
# fuzz/regressions/<target>/. Targets run FUZZ_JOBS at a time (default: one per core; each is
# one single-threaded process, so each still has a core for its SECONDS and CI's five take three
# rounds instead of five). Environment: BUILD_DIR (default build-fuzz), JOBS (ninja -j,
# default 2), XPR_FUZZ_BUILD_TESTS (ON keeps the tests of a shared sanitizer build configured:
# scripts/ci-robustness.sh fuzzes in build-asan).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build-fuzz}
SECONDS_PER_TARGET=${1:-60}
shift || true
TARGETS=("$@")
[[ ${#TARGETS[@]} -eq 0 ]] && TARGETS=(frontend ir compile npy cache)

if ! [[ $SECONDS_PER_TARGET =~ ^[0-9]+$ ]]; then
  echo "usage: $0 [SECONDS] [TARGET...]" >&2
  exit 2
fi

# -O1 without NDEBUG: fast enough to fuzz, and assertions stay on.
cmake -S "$ROOT" -B "$BUILD" -G Ninja \
  -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g" "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g" \
  -DXPR_SANITIZE=ON -DXPR_FUZZ=ON -DXPR_BUILD_TESTS="${XPR_FUZZ_BUILD_TESTS:-OFF}" \
  -DXPR_BUILD_BENCH=OFF >/dev/null

build_targets=()
for t in "${TARGETS[@]}"; do build_targets+=("fuzz_$t"); done
ninja -C "$BUILD" -j "${JOBS:-2}" "${build_targets[@]}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# One target: fuzzes it, then writes its summary line to $BUILD/fuzz-<target>.result (and its
# first finding to stdout), exiting 1 on a finding.
fuzz_one() {
  local t=$1
  local bin="$BUILD/fuzz/fuzz_$t" work="$BUILD/corpus/$t" art="$BUILD/artifacts/$t"
  local log="$BUILD/fuzz-$t.log" result="$BUILD/fuzz-$t.result"
  mkdir -p "$work" "$art"
  local seeds=()
  [[ -d $ROOT/fuzz/corpus/$t ]] && seeds+=("$ROOT/fuzz/corpus/$t")
  [[ -d $ROOT/fuzz/regressions/$t ]] && seeds+=("$ROOT/fuzz/regressions/$t")
  echo "== fuzz_$t for ${SECONDS_PER_TARGET}s (log: $log)"
  local rc=0
  "$bin" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 \
    -dict="$ROOT/fuzz/xpr.dict" -artifact_prefix="$art/" -print_final_stats=1 \
    "$work" "${seeds[@]}" >"$log" 2>&1 || rc=$?
  local execs cov
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
  if [[ $rc -ne 0 ]]; then
    echo "fuzz_$t: FAILED (exit $rc) after $execs executions; see $log and $art/" >"$result"
    grep -m1 -E 'ERROR:|runtime error|xpr fuzz finding|deadly signal|Timeout|out-of-memory' "$log" || true
    return 1
  fi
  echo "fuzz_$t: ok, $execs executions in ${SECONDS_PER_TARGET}s, $cov, corpus $(ls "$work" | wc -l) files" >"$result"
}

FUZZ_JOBS=${FUZZ_JOBS:-$(nproc)}
status=0
running=0
for t in "${TARGETS[@]}"; do
  rm -f "$BUILD/fuzz-$t.result"
  if (( running >= FUZZ_JOBS )); then
    wait -n || status=1
    running=$((running - 1))
  fi
  fuzz_one "$t" &
  running=$((running + 1))
done
while (( running > 0 )); do
  wait -n || status=1
  running=$((running - 1))
done

echo
for t in "${TARGETS[@]}"; do
  cat "$BUILD/fuzz-$t.result" 2>/dev/null || { echo "fuzz_$t: no result"; status=1; }
done
exit $status

#!/usr/bin/env bash
# scripts/sanitize.sh — the test suite under ASan+UBSan (build-asan), and the concurrency tests
# under ThreadSanitizer (build-tsan).
#
#   scripts/sanitize.sh [asan|tsan|full|all]   (default all)
#
# full: the whole suite, the JIT's tests included, in build-asan with the fuzz targets (CI).
# ASan+UBSan: every test that does not need the JIT's own test binaries (the shared libMLIR/libLLVM are not
# instrumented, and the JIT tests take most of the CI time), built -O1 with assertions on.
# TSan: the thread pool (Executor), concurrent JIT compiles, and the multi-threaded runtime tests.
# Environment: JOBS (ninja -j, default 2).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WHAT=${1:-all}
JOBS=${JOBS:-2}
COMMON=(-G Ninja -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19
        -DCMAKE_BUILD_TYPE=RelWithDebInfo
        "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g" "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g"
        -DXPR_BUILD_TESTS=ON -DXPR_BUILD_BENCH=OFF)

# Builds only the targets that exist in this checkout (test folders arrive with their issues).
existing_targets() {
  local build=$1; shift
  local all
  all=$(ninja -C "$build" -t targets all 2>/dev/null | cut -d: -f1)
  for t in "$@"; do
    grep -qx "$t" <<<"$all" && echo "$t"
  done
  return 0
}

run_asan() {
  local build=$ROOT/build-asan
  cmake -S "$ROOT" -B "$build" "${COMMON[@]}" -DXPR_SANITIZE=ON >/dev/null
  mapfile -t targets < <(existing_targets "$build" xpr_support_tests xpr_syntax_tests sema_test \
    typerules_test xpr_ir_tests xpr_interp_tests passes_test robustness_test repl_unit_test \
    xpr_driver)
  ninja -C "$build" -j "$JOBS" "${targets[@]}"
  # Tests of JIT-linked binaries are excluded by label; binaries not built above show up as
  # *_NOT_BUILT placeholders and are excluded by name.
  LSAN_OPTIONS=suppressions=$ROOT/tests/robustness/lsan.supp \
  ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir "$build" -j "$JOBS" --output-on-failure --timeout 600 \
      -LE 'codegen|differential|runtime|math|examples|fuzz' -E '_NOT_BUILT'
}

# The whole test suite under ASan+UBSan, JIT included (what CI runs, scripts/ci-robustness.sh):
# one build with the fuzz targets too, so the fuzz runs that follow need no second build. The
# bench smoke tests are left out (no benches in this build) and so are the REPL's pty tests,
# whose prompts time out under ASan's slowdown on 2 cores (the REPL's logic is in
# repl_unit_test, which runs).
run_full() {
  local build=$ROOT/build-asan
  cmake -S "$ROOT" -B "$build" "${COMMON[@]}" -DXPR_SANITIZE=ON -DXPR_FUZZ=ON >/dev/null
  ninja -C "$build" -j "$JOBS"
  XPR_CACHE_DIR=$build/test-kernel-cache \
  LSAN_OPTIONS=suppressions=$ROOT/tests/robustness/lsan.supp \
  ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir "$build" -j "$JOBS" --output-on-failure --timeout 900 -E '^repl\.pty\.'
}

run_tsan() {
  local build=$ROOT/build-tsan
  cmake -S "$ROOT" -B "$build" "${COMMON[@]}" -DXPR_TSAN=ON >/dev/null
  mapfile -t targets < <(existing_targets "$build" executor_test codegen_tests runtime_test cache_test)
  if [[ ${#targets[@]} -eq 0 ]]; then
    echo "tsan: no concurrency tests in this checkout"
    return 0
  fi
  ninja -C "$build" -j "$JOBS" "${targets[@]}"
  TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=$ROOT/tests/robustness/tsan.supp \
    ctest --test-dir "$build" -j 1 --output-on-failure --timeout 600 \
      -R '^(Executor|SplitRange)\.|Concurrent|Thread' -E '_NOT_BUILT'
}

case $WHAT in
  asan) run_asan ;;
  tsan) run_tsan ;;
  full) run_full ;;
  all) run_asan; run_tsan ;;
  *) echo "usage: $0 [asan|tsan|full|all]" >&2; exit 2 ;;
esac

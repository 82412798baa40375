#!/usr/bin/env bash
# scripts/device/check.sh — the GPU checks, run on a lent GPU machine from the repository root
# after scripts/device/bundle.sh packed .gpucarry/ here (docs/gpu.md, "Running on a GPU").
# Each stage writes $OUT/<stage>.log and a summary line; the table at the end is the result.
#
#   bash scripts/device/check.sh [STAGE...]   stages: info tests reduce diff sanitize bench repl math sass aot
#
# Environment: XPR_GPU_DIFF_PROGRAMS (default 1500), BENCH_N (default 2^28).
set -uo pipefail
root=$(pwd)
carry=$root/.gpucarry
OUT=${OUT:-/tmp/xpr-device-out}
mkdir -p "$OUT"
lib=/tmp/xpr-lib
mkdir -p "$lib"
for f in "$carry"/lib/*; do
  n=$(basename "$f")
  case $n in
  *.xz) [ -f "$lib/${n%.xz}" ] || xz -dc "$f" >"$lib/${n%.xz}" 2>/dev/null ||
    python3 -c 'import lzma,sys; open(sys.argv[2],"wb").write(lzma.open(sys.argv[1]).read())' "$f" "$lib/${n%.xz}" ;;
  *) cp -f "$f" "$lib/" ;;
  esac
done
export LD_LIBRARY_PATH=$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export XPR_LIBDEVICE=$lib/libdevice.10.bc
export XPR_CACHE_DIR=/tmp/xpr-kernel-cache
export PATH=$PATH:/usr/local/cuda/bin
bin=$carry/bin
summary=()
stage() { # stage NAME TIMEOUT CMD... : runs CMD, logs it, records its status and wall time
  local name=$1 limit=$2
  shift 2
  local t0=$SECONDS
  echo "=== $name: $*" | tee -a "$OUT/all.log"
  timeout "$limit" "$@" >"$OUT/$name.log" 2>&1
  local rc=$?
  tail -n 25 "$OUT/$name.log" | tee -a "$OUT/all.log"
  summary+=("$(printf '%-10s rc=%-3s %4ss' "$name" "$rc" $((SECONDS - t0)))")
}
want() { [ $# -eq 0 ] || [[ " $* " == *" $STAGE "* ]]; }
stages=("$@")
[ ${#stages[@]} -eq 0 ] && stages=(info tests reduce diff sanitize bench repl math sass aot)

for STAGE in "${stages[@]}"; do
  case $STAGE in
  info)
    stage info 60 bash -c "nvidia-smi; nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem,memory.total --format=csv; uname -a; cat /etc/os-release | head -2; for b in $bin/*; do echo \$b; ldd \$b | grep -i 'not found'; done; echo libs ok" ;;
  tests) # every cuda_test case with the real driver (the two long ones are the next stages)
    stage tests 300 "$bin/cuda_test" \
      --gtest_filter=-Cuda.DifferentialAgainstInterpreter:Cuda.ReductionsMatchTheInterpreter ;;
  reduce) # the reduction matrix of tests/reduce on the GPU (XPR_GPU_REDUCE_MAX_RANK, default 3)
    stage reduce 300 "$bin/cuda_test" --gtest_filter=Cuda.ReductionsMatchTheInterpreter ;;
  diff)
    XPR_GPU_DIFF_PROGRAMS=${XPR_GPU_DIFF_PROGRAMS:-1500} stage diff 300 "$bin/cuda_test" --gtest_filter=Cuda.DifferentialAgainstInterpreter ;;
  sanitize) # memcheck on the runtime path (transfers, strided and in-place run_into)
    if command -v compute-sanitizer >/dev/null; then
      stage sanitize 240 compute-sanitizer --tool memcheck --leak-check full --error-exitcode 9 \
        "$bin/cuda_test" --gtest_filter=Cuda.TransfersAndLayouts:Cuda.DeterministicAcrossRuns
    else
      summary+=("sanitize   skipped: no compute-sanitizer")
    fi ;;
  bench)
    stage bench 240 bash -c "$bin/xpr_bench_gpu --n ${BENCH_N:-268435456} --reps 20 && $bin/xpr_bench_gpu --n 16777216 --reps 50" ;;
  repl) # the user's view: host arrays in, host arrays out, through the REPL
    stage repl 180 bash -c "printf '%s\n' 'seed(42)' 'a = rand(100_000_000, dtype=f32)' 'b = rand(100_000_000, dtype=f32)' \
      ':target cuda' ':target' 'r = a * exp(-b) + sqrt(a)' 'r' ':time a * exp(-b) + sqrt(a)' ':target cpu' 's = a * exp(-b) + sqrt(a)' \
      'max(abs(r - s))' ':time a * exp(-b) + sqrt(a)' ':target cuda' 'sum(a)' | $bin/xpr --echo" ;;
  math)
    if "$bin/xpr_math_accuracy" --help 2>&1 | grep -q -- --target; then
      stage math 240 "$bin/xpr_math_accuracy" --target cuda --points ${MATH_POINTS:-1000000} --threads "$(nproc)"
    else
      summary+=("math       skipped: xpr_math_accuracy has no --target")
    fi ;;
  sass) # the machine code ptxas makes of the PTX files in .gpucarry/ptx (cuobjdump is there)
    stage sass 60 bash -c "for f in $carry/ptx/*.ptx; do echo \$f; ptxas -arch=sm_90 \$f -o /tmp/k.cubin && cuobjdump -sass /tmp/k.cubin | grep -E '^ +/\\*[0-9a-f]{4}\\*/'; done" ;;
  aot) # xprc cuda objects in plain C programs (tests/aot/cuda/*_main.c) on the real GPU
    if [ -x "$bin/saxpy_main" ]; then
      stage aot 60 bash -c "$bin/saxpy_main real 1000003 && $bin/bs_main 10000000 &&
        $bin/reduce_main real"
    else
      summary+=("aot        skipped: no saxpy_main (run aot_cuda_test before bundle.sh)")
    fi ;;
  *) echo "unknown stage $STAGE" ;;
  esac
done
printf '%s\n' "${summary[@]}" | tee "$OUT/summary.txt"

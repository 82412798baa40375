#!/usr/bin/env bash
# examples/demo.sh — the end of `bash scripts/demo.sh`: on a terminal, the xpr REPL; otherwise a
# short scripted tour through the same REPL (reading stdin), then `xpr run` on a script.
# Usage: bash examples/demo.sh [BUILD_DIR]   (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${1:-build}"
XPR="$BUILD_DIR/tools/xpr/xpr"
if [ ! -x "$XPR" ]; then
  echo "demo: $XPR is not built; run: bash scripts/build.sh" >&2
  exit 2
fi

if [ -t 0 ] && [ -t 1 ]; then
  exec "$XPR"
fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

echo "== the xpr REPL, reading statements from stdin (--echo shows each one after the prompt) =="
# The tour contains one deliberate mistake, so the REPL exits 1; any other status is a failure.
set +e
"$XPR" --echo 2>&1 <<XPR
# Ten million random floats, reproducible on every machine.
seed(42)
a = rand(10_000_000, dtype=f32)
b = rand(10_000_000, dtype=f32)
:vars
# The type of an expression, without running it:
:type a * exp(-b) + 1
# Evaluating compiles one fused, vectorized loop and prints like NumPy:
a * exp(-b) + 1
mean(a)
# Where the time goes: compile stages, run time, bandwidth:
:time a * exp(-b) + 1
# The fused plan: one kernel, no temporary arrays:
:emit fused a * exp(-b) + 1
# A mistake gets a caret under what was typed, and the session goes on:
x = arange(3)
a + x
# Inputs for a script, written as NumPy .npy files:
u = rand(1_000_000, dtype=f32)
S = u * 100 + 50
K = u * 0 + 100
T = u + 0.25
save("$WORK/S.npy", S)
save("$WORK/K.npy", K)
save("$WORK/T.npy", T)
XPR
rc=$?
set -e
if [ "$rc" -ne 1 ]; then
  echo "demo: the REPL tour ended with status $rc (expected 1, from its deliberate error)" >&2
  exit 1
fi

echo
echo "== xpr run examples/blackscholes.xpr: both outputs from one pass over S, K and T =="
cat examples/blackscholes.xpr
echo "\$ xpr run examples/blackscholes.xpr --in S=S.npy --in K=K.npy --in T=T.npy --param r=0.05 --param v=0.2"
"$XPR" run examples/blackscholes.xpr --in S="$WORK/S.npy" --in K="$WORK/K.npy" --in T="$WORK/T.npy" \
  --param r=0.05 --param v=0.2
echo
echo "Start the REPL yourself with: $XPR   (:help lists the commands)"

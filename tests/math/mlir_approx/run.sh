#!/bin/sh
# tests/math/mlir_approx/run.sh — builds one vector<8xf32> kernel per math op, lowers it with MLIR's
# polynomial approximations, and measures each against MPFR (400,000 points: half random bit
# patterns over the domain, half uniform over the usual interval). Prints a markdown table.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
B=/usr/lib/llvm-19/bin
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 - "$tmp/a.mlir" <<'PY'
import sys
ops = ['exp','log','log1p','expm1','tanh','erf','sin','cos','atan','cbrt','log2','asin','acos']
out = ['module {']
for o in ops:
    out.append(f'''  func.func @approx_{o}(%x: !llvm.ptr, %y: !llvm.ptr, %n: i64) {{
    %c0 = arith.constant 0 : index
    %c8 = arith.constant 8 : index
    %nn = arith.index_cast %n : i64 to index
    scf.for %i = %c0 to %nn step %c8 {{
      %ii = arith.index_cast %i : index to i64
      %px = llvm.getelementptr %x[%ii] : (!llvm.ptr, i64) -> !llvm.ptr, f32
      %py = llvm.getelementptr %y[%ii] : (!llvm.ptr, i64) -> !llvm.ptr, f32
      %v = llvm.load %px {{alignment = 4 : i64}} : !llvm.ptr -> vector<8xf32>
      %r = math.{o} %v : vector<8xf32>
      llvm.store %r, %py {{alignment = 4 : i64}} : vector<8xf32>, !llvm.ptr
    }}
    return
  }}''')
out.append('}')
open(sys.argv[1], 'w').write('\n'.join(out))
PY
$B/mlir-opt "$tmp/a.mlir" --test-math-polynomial-approximation="enable-avx2" --convert-scf-to-cf \
  --convert-vector-to-llvm --convert-math-to-llvm --convert-arith-to-llvm --convert-cf-to-llvm \
  --convert-func-to-llvm --reconcile-unrealized-casts -o "$tmp/l.mlir"
$B/mlir-translate --mlir-to-llvmir "$tmp/l.mlir" -o "$tmp/a.ll"
clang-19 -c -O2 -march=x86-64-v3 -Wno-override-module "$tmp/a.ll" -o "$tmp/a.o"
clang++-19 -O2 "$here/measure.cpp" "$tmp/a.o" -o "$tmp/measure" -lmpfr -lgmp
echo "| op (f32) | max ULP | worst x | non-finite for finite results |"
echo "|---|---|---|---|"
"$tmp/measure"

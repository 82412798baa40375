#!/usr/bin/env bash
# scripts/device/bundle.sh — packs what the GPU checks need into .gpucarry/ (git-ignored) so that
# they run on a lent GPU machine that has a CUDA driver but no LLVM, MLIR or Debian libraries.
#
#   bash scripts/device/bundle.sh [BUILD_DIR]     (default: build)
#
# What travels: stripped copies of the GPU test, the GPU bench and the xpr driver; every shared
# library they need that is not part of glibc or libstdc++, xz-compressed (libLLVM alone is
# 129 MB raw, 25 MB packed, and the lent machine takes 64 MiB in all); libdevice. Two of
# libLLVM's dependencies are replaced by empty stand-ins: libz3 (the static analyzer's SMT
# backend; LLVM binds its functions lazily and never calls them on our path) and libxml2 (only
# llvm-mt's Windows manifests use it; its one data symbol, xmlFree, is defined as null). That
# saves 15 MB of libz3 and ICU. scripts/device/check.sh unpacks and runs everything there.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
out=$root/.gpucarry
grep -qx '/.gpucarry/' "$root/.git/info/exclude" 2>/dev/null || echo '/.gpucarry/' >>"$root/.git/info/exclude"
mkdir -p "$out/bin" "$out/lib"
rm -f "$out"/bin/* "$out"/lib/*

bins=("$build/tests/gpu/cuda_test" "$build/bench/xpr_bench_gpu" "$build/tools/xpr/xpr")
for b in "${bins[@]}" "$@"; do
  [ -f "$b" ] || continue
  strip -o "$out/bin/$(basename "$b")" "$b"
done
[ -f "$build/tests/math/xpr_math_accuracy" ] && strip -o "$out/bin/xpr_math_accuracy" "$build/tests/math/xpr_math_accuracy"
# The xprc cuda objects' C programs, built by aot_cuda_test (libxpr_rt is static in them).
for p in saxpy_main bs_main reduce_main; do
  [ -f "$build/tests/aot/work-cuda/$p" ] && strip -o "$out/bin/$p" "$build/tests/aot/work-cuda/$p"
done

# Libraries: everything ldd resolves except the C runtime, the C++ runtime and the two stubs.
skip='^(linux-vdso|ld-linux|libc\.so|libm\.so|libstdc\+\+|libgcc_s|libdl|libpthread|librt|libz3|libxml2|libicu)'
for b in "$out"/bin/*; do ldd "$b"; done | awk '/=> \//{print $1, $3}' | sort -u |
  while read -r name path; do
    [[ $name =~ $skip ]] && continue
    [ -f "$out/lib/$name.xz" ] && continue
    xz -T2 -6 -c "$path" >"$out/lib/$name.xz"
  done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo 'void *xmlFree = 0;' >"$tmp/xml.c"
printf 'LIBXML2_2.4.30 { global: xmlFree; local: *; };\nLIBXML2_2.6.0 { } LIBXML2_2.4.30;\n' >"$tmp/xml.map"
clang-19 -shared -fPIC -o "$out/lib/libxml2.so.2" -Wl,-soname,libxml2.so.2 \
  -Wl,--version-script,"$tmp/xml.map" "$tmp/xml.c"
echo '' >"$tmp/z3.c"
clang-19 -shared -fPIC -o "$out/lib/libz3.so.4" -Wl,-soname,libz3.so.4 "$tmp/z3.c"

cp /usr/local/cuda/nvvm/libdevice/libdevice.10.bc "$out/lib/"
du -sh "$out"

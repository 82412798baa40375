#!/usr/bin/env bash
# scripts/install-deps.sh — installs what the build needs from Debian's packages (run as root).
# Idempotent: asks apt only for packages that are missing, so a warm machine skips apt entirely.
set -euo pipefail

PKGS=(
  # toolchain: LLVM/MLIR 19, clang-19 (Debian's MLIR exports clang-only flags), CMake, Ninja, ccache
  clang-19 llvm-19-dev libmlir-19-dev mlir-19-tools libclang-rt-19-dev
  cmake ninja-build ccache
  libomp-19-dev  # OpenMP for clang-19: bench/ (STREAM triad and hand-written reference loops)
  # libraries: fmt, GoogleTest, oneTBB (parallel runtime), CLI11 (driver flags),
  # libedit (REPL line editing), SLEEF (vector math), MPFR/GMP (accuracy oracle)
  libfmt-dev libgtest-dev libtbb-dev libcli11-dev libedit-dev libsleef-dev libmpfr-dev libgmp-dev
  # tests: NumPy writes independent .npy files; tmux drives the REPL through a terminal
  python3 python3-numpy tmux
  # examples and docs: libpng (the Mandelbrot PNG), Doxygen (the API reference, `docs` target)
  libpng-dev doxygen
  # bench/: Eigen (the sweep's third side) and gnuplot (scripts/bench.sh draws its charts)
  libeigen3-dev gnuplot-nox
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: everything is installed"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"

#!/usr/bin/env bash
# scripts/build.sh — configures and builds xpr with clang-19 and Ninja into ${XPR_BUILD_DIR:-build}.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${XPR_BUILD_DIR:-build}"
BUILD_TYPE="${XPR_BUILD_TYPE:-RelWithDebInfo}"
cmake -S . -B "$BUILD_DIR" -G Ninja \
  -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 \
  -DCMAKE_BUILD_TYPE="$BUILD_TYPE" "$@"
cmake --build "$BUILD_DIR" -j "$(nproc)"

// bench/eigen_loops.h — the benchmarked expressions written with Eigen's array expressions over the
// same buffers (Eigen::Map<ArrayXf>), what a C++ programmer using Eigen would write.
#pragma once

#include <cstdint>

// Implemented in eigen_loops.cpp, compiled alone with -O3 -march=native (bench/CMakeLists.txt), so
// Eigen uses the widest SIMD the host has. Eigen's coefficient-wise expressions run on one thread:
// Eigen's OpenMP support parallelizes only matrix products, so -fopenmp would change nothing here.
namespace xpr_bench::eigen {

/// Eigen's version and the SIMD instruction sets it was compiled for, e.g. "3.4.0, AVX512, FMA,
/// ..."
const char *describe();

/// out = a + 2.5*b
void add_scaled(const float *a, const float *b, float *out, std::int64_t n);
/// out = ((a*0.5 + b)*a - 1.0)*b + c
void poly(const float *a, const float *b, const float *c, float *out, std::int64_t n);
/// out = exp(-a*a)*sin(b) + log1p(c*c)
void transcendental(const float *a, const float *b, const float *c, float *out, std::int64_t n);
/// out = 1/(1+exp(-a))
void sigmoid(const float *a, float *out, std::int64_t n);
/// out = where(a > b, a*a, b - c)
void select_where(const float *a, const float *b, const float *c, float *out, std::int64_t n);
/// examples/blackscholes.xpr as Eigen statements; d1, d2 and the discount factor go through
/// `scratch`, 3*n floats the caller owns (Eigen does not fuse across statements; a caller that
/// prices repeatedly keeps such buffers rather than allocating them per call).
void blackscholes(const float *S, const float *K, const float *T, float r, float v, float *call,
                  float *put, float *scratch, std::int64_t n);

/// sum(a), sum(a*b), sum(exp(a)*b), max(a), argmax(a) (the first index of the maximum).
float sum(const float *a, std::int64_t n);
float dot(const float *a, const float *b, std::int64_t n);
float exp_dot(const float *a, const float *b, std::int64_t n);
float max(const float *a, std::int64_t n);
std::int64_t argmax(const float *a, std::int64_t n);

} // namespace xpr_bench::eigen

// bench/hand_loops.h — the hand-written fused C++ loops and the STREAM triad xpr is measured
// against.
#pragma once

#include <cstdint>

// Implemented in hand_loops.cpp, which is compiled alone with -O3 -march=native -fopenmp
// -fno-math-errno -fveclib=libmvec (see bench/CMakeLists.txt), so that these loops get the best
// code the C++ compiler can give them while the rest of the bench keeps the build's flags.
namespace xpr_bench::hand {

/// OpenMP threads a parallel loop here uses (all cores unless OMP_NUM_THREADS says otherwise).
int num_threads();

/// Fills x[0, n) with deterministic pseudo-random values uniform in [lo, hi), in parallel so
/// that pages are first touched by the threads that later stream them.
void fill_uniform(float *x, std::int64_t n, std::uint64_t seed, float lo, float hi);

/// STREAM triad: a[i] = b[i] + s * c[i].
void triad(float *a, const float *b, const float *c, float s, std::int64_t n);

// One function per benchmarked expression; the math matches the xpr text term for term, in f32
// (xpr's literals are weak, so `2.5 * b` with f32 b is an f32 product).

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
/// examples/blackscholes.xpr, with ncdf(x) = erfc(-x/sqrt(2))/2 (docs/semantics.md).
void blackscholes(const float *S, const float *K, const float *T, float r, float v, float *call,
                  float *put, std::int64_t n);

} // namespace xpr_bench::hand

// bench/hand_loops.cpp — hand-written fused loops and the STREAM triad, each one OpenMP loop.
// Compiled with -O3 -march=native -fopenmp -fno-math-errno -fveclib=libmvec: the C library's
// expf/sinf/log1pf/erfcf are called in the loop and the compiler may replace them with glibc's
// libmvec vector variants; cpu_bench.cpp reports which ones it did.
#include "bench/hand_loops.h"

#include <cmath>
#include <omp.h>

namespace xpr_bench::hand {

int num_threads() { return omp_get_max_threads(); }

void fill_uniform(float *x, std::int64_t n, std::uint64_t seed, float lo, float hi) {
  const float scale = (hi - lo) * 0x1p-24f;
#pragma omp parallel for schedule(static)
  for (std::int64_t i = 0; i < n; ++i) {
    // splitmix64 of (seed, i): the value depends only on the index, not on the thread count.
    std::uint64_t z = seed + 0x9e3779b97f4a7c15ull * static_cast<std::uint64_t>(i + 1);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    x[i] = lo + static_cast<float>(z >> 40) * scale;
  }
}

void triad(float *__restrict a, const float *__restrict b, const float *__restrict c, float s,
           std::int64_t n) {
#pragma omp parallel for schedule(static)
  for (std::int64_t i = 0; i < n; ++i)
    a[i] = b[i] + s * c[i];
}

void add_scaled(const float *__restrict a, const float *__restrict b, float *__restrict out,
                std::int64_t n) {
#pragma omp parallel for schedule(static)
  for (std::int64_t i = 0; i < n; ++i)
    out[i] = a[i] + 2.5f * b[i];
}

void poly(const float *__restrict a, const float *__restrict b, const float *__restrict c,
          float *__restrict out, std::int64_t n) {
#pragma omp parallel for schedule(static)
  for (std::int64_t i = 0; i < n; ++i)
    out[i] = ((a[i] * 0.5f + b[i]) * a[i] - 1.0f) * b[i] + c[i];
}

void transcendental(const float *__restrict a, const float *__restrict b, const float *__restrict c,
                    float *__restrict out, std::int64_t n) {
#pragma omp parallel for schedule(static)
  for (std::int64_t i = 0; i < n; ++i)
    out[i] = expf(-a[i] * a[i]) * sinf(b[i]) + log1pf(c[i] * c[i]);
}

void sigmoid(const float *__restrict a, float *__restrict out, std::int64_t n) {
#pragma omp parallel for schedule(static)
  for (std::int64_t i = 0; i < n; ++i)
    out[i] = 1.0f / (1.0f + expf(-a[i]));
}

void select_where(const float *__restrict a, const float *__restrict b, const float *__restrict c,
                  float *__restrict out, std::int64_t n) {
#pragma omp parallel for schedule(static)
  for (std::int64_t i = 0; i < n; ++i)
    out[i] = a[i] > b[i] ? a[i] * a[i] : b[i] - c[i];
}

static inline float ncdf(float x) { return 0.5f * erfcf(-x * 0.70710678118654752f); }

void blackscholes(const float *__restrict S, const float *__restrict K, const float *__restrict T,
                  float r, float v, float *__restrict call, float *__restrict put, std::int64_t n) {
#pragma omp parallel for schedule(static)
  for (std::int64_t i = 0; i < n; ++i) {
    const float sqrtT = sqrtf(T[i]);
    const float d1 = (logf(S[i] / K[i]) + (r + 0.5f * v * v) * T[i]) / (v * sqrtT);
    const float d2 = d1 - v * sqrtT;
    const float disc = K[i] * expf(-r * T[i]);
    call[i] = S[i] * ncdf(d1) - disc * ncdf(d2);
    put[i] = disc * ncdf(-d2) - S[i] * ncdf(-d1);
  }
}

} // namespace xpr_bench::hand

// bench/reduce_hand.cpp — the hand-written reduction loops: one OpenMP loop each, `omp simd`
// reductions so the compiler may vectorize the float sums (no -ffast-math needed).
#include "bench/reduce_hand.h"

#include <algorithm>
#include <cmath>
#include <omp.h>
#include <vector>

namespace xpr_bench::reduce_hand {

float dot(const float *__restrict a, const float *__restrict b, std::int64_t n) {
  float s = 0;
#pragma omp parallel for simd reduction(+ : s) schedule(static)
  for (std::int64_t i = 0; i < n; ++i)
    s += a[i] * b[i];
  return s;
}

float exp_dot(const float *__restrict a, const float *__restrict b, std::int64_t n) {
  float s = 0;
#pragma omp parallel for simd reduction(+ : s) schedule(static)
  for (std::int64_t i = 0; i < n; ++i)
    s += expf(a[i]) * b[i];
  return s;
}

void row_sums(const float *__restrict x, std::int64_t rows, std::int64_t cols, float *__restrict out) {
#pragma omp parallel for schedule(static)
  for (std::int64_t i = 0; i < rows; ++i) {
    const float *r = x + i * cols;
    float s = 0;
#pragma omp simd reduction(+ : s)
    for (std::int64_t j = 0; j < cols; ++j)
      s += r[j];
    out[i] = s;
  }
}

void col_sums(const float *__restrict x, std::int64_t rows, std::int64_t cols, float *__restrict out) {
  // Each thread owns a band of columns and streams down the rows, accumulating the band in a
  // vectorized row of partial sums.
  const std::int64_t band = 256;
#pragma omp parallel for schedule(static)
  for (std::int64_t c0 = 0; c0 < cols; c0 += band) {
    const std::int64_t w = std::min(band, cols - c0);
    float acc[256] = {};
    for (std::int64_t i = 0; i < rows; ++i) {
      const float *r = x + i * cols + c0;
#pragma omp simd
      for (std::int64_t j = 0; j < w; ++j)
        acc[j] += r[j];
    }
    for (std::int64_t j = 0; j < w; ++j)
      out[c0 + j] = acc[j];
  }
}

void softmax_rows(const float *__restrict x, std::int64_t rows, std::int64_t cols, float *__restrict y) {
#pragma omp parallel for schedule(static)
  for (std::int64_t i = 0; i < rows; ++i) {
    const float *r = x + i * cols;
    float *o = y + i * cols;
    float m = -INFINITY;
#pragma omp simd reduction(max : m)
    for (std::int64_t j = 0; j < cols; ++j)
      m = r[j] > m ? r[j] : m;
    float s = 0;
#pragma omp simd reduction(+ : s)
    for (std::int64_t j = 0; j < cols; ++j)
      s += expf(r[j] - m);
#pragma omp simd
    for (std::int64_t j = 0; j < cols; ++j)
      o[j] = expf(r[j] - m) / s;
  }
}

} // namespace xpr_bench::reduce_hand

// bench/reduce_hand.cpp — the hand-written reduction loops: one OpenMP loop each, `omp simd`
// reductions so the compiler may vectorize the float sums (no -ffast-math needed).
#include "bench/reduce_hand.h"

#include <algorithm>
#include <cmath>
#include <omp.h>
#include <vector>

namespace xpr_bench::reduce_hand {

float sum(const float *__restrict a, std::int64_t n) {
  float s = 0;
#pragma omp parallel for simd reduction(+ : s) schedule(static)
  for (std::int64_t i = 0; i < n; ++i)
    s += a[i];
  return s;
}

namespace {
/// max of x[0, n) in 16 independent lanes: clang does not vectorize a plain `m = x > m ? x : m`
/// reduction (nor fmax, nor `omp simd reduction(max)`) without -ffast-math, since NaN makes it
/// order-dependent; written with explicit lanes, the SLP vectorizer turns it into vmaxps.
float chunk_max(const float *__restrict x, std::int64_t n) {
  float acc[16];
  for (int j = 0; j < 16; ++j)
    acc[j] = -INFINITY;
  std::int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int j = 0; j < 16; ++j)
      acc[j] = x[i + j] > acc[j] ? x[i + j] : acc[j];
  float m = -INFINITY;
  for (; i < n; ++i)
    m = x[i] > m ? x[i] : m;
  for (int j = 0; j < 16; ++j)
    m = acc[j] > m ? acc[j] : m;
  return m;
}
} // namespace

float max_value(const float *__restrict a, std::int64_t n) {
  float m = -INFINITY;
#pragma omp parallel reduction(max : m)
  {
    const std::int64_t t = omp_get_thread_num(), k = omp_get_num_threads();
    const std::int64_t lo = n * t / k, hi = n * (t + 1) / k;
    m = chunk_max(a + lo, hi - lo);
  }
  return m;
}

std::int64_t argmax(const float *__restrict a, std::int64_t n) {
  // Each thread finds the first maximum of its contiguous static chunk; chunks are combined in
  // index order, a later chunk winning only with a strictly larger value, so the result is the
  // first index of the maximum whatever the thread count.
  const int nt = omp_get_max_threads();
  std::vector<float> best(nt, -INFINITY);
  std::vector<std::int64_t> where(nt, -1);
#pragma omp parallel num_threads(nt)
  {
    const int t = omp_get_thread_num(), k = omp_get_num_threads();
    const std::int64_t lo = n * t / k, hi = n * (t + 1) / k;
    float m = -INFINITY;
    std::int64_t w = -1;
    for (std::int64_t i = lo; i < hi; ++i)
      if (a[i] > m || w < 0) m = a[i], w = i;
    best[t] = m;
    where[t] = w;
  }
  float m = -INFINITY;
  std::int64_t w = -1;
  for (int t = 0; t < nt; ++t)
    if (where[t] >= 0 && (w < 0 || best[t] > m)) m = best[t], w = where[t];
  return w;
}

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
    const float m = chunk_max(r, cols);
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

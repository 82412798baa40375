// bench/reduce_hand.h — hand-written OpenMP reduction loops that xpr_bench_reduce measures xpr
// against (compiled alone with the hand-loop flags of bench/CMakeLists.txt).
#pragma once

#include <cstdint>

namespace xpr_bench::reduce_hand {

/// sum(a), f32 accumulation per thread and SIMD lane.
float sum(const float *a, std::int64_t n);
/// sum(a*b), f32 accumulation per thread and SIMD lane (the order OpenMP picks).
float dot(const float *a, const float *b, std::int64_t n);
/// sum(exp(a)*b).
float exp_dot(const float *a, const float *b, std::int64_t n);
/// max(a) (a holds no NaN: the bench's inputs are finite).
float max_value(const float *a, std::int64_t n);
/// argmax(a): the first index of the maximum, as xpr and NumPy define it (no NaN in a).
std::int64_t argmax(const float *a, std::int64_t n);
/// out[i] = sum(x[i, :]) of a rows x cols C-contiguous matrix.
void row_sums(const float *x, std::int64_t rows, std::int64_t cols, float *out);
/// out[j] = sum(x[:, j]).
void col_sums(const float *x, std::int64_t rows, std::int64_t cols, float *out);
/// y[i, :] = exp(x[i, :] - max(x[i, :])) / sum(exp(x[i, :] - max(x[i, :]))).
void softmax_rows(const float *x, std::int64_t rows, std::int64_t cols, float *y);

} // namespace xpr_bench::reduce_hand

// examples/softmax.cpp — row-wise softmax and logsumexp of a matrix (with the max-subtraction
// trick), over rows and, through a transposed view, over columns; checked against plain loops.
#include <xpr/xpr.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

namespace {

// Subtracting the row maximum keeps exp() in range: exp(x - max) <= 1, and the sum is >= 1.
const char *kSoftmax = R"(
input x: f32[m, n]
let mx = max(x, axis=1, keepdims=true)
let e = exp(x - mx)
let s = sum(e, axis=1, keepdims=true)
output softmax = e / s
output logsumexp = log(sum(e, axis=1)) + max(x, axis=1)
)";

int failures = 0;

void expect_close(const char *what, long i, long j, double got, double want, double rel) {
  if (std::fabs(got - want) <= rel * std::max(1.0, std::fabs(want))) return;
  if (++failures <= 10)
    std::fprintf(stderr, "%s[%ld, %ld]: got %.9g, expected %.9g\n", what, i, j, got, want);
}

// Checks softmax and logsumexp of the m x n matrix whose element (i, j) is at(i, j).
template <class At>
void check(const char *what, const xpr::Outputs &out, long m, long n, At at) {
  const xpr::Array &sm = out.at("softmax"), &lse = out.at("logsumexp");
  if (sm.shape() != std::vector<std::int64_t>{m, n} ||
      lse.shape() != std::vector<std::int64_t>{m}) {
    ++failures;
    std::fprintf(stderr, "%s: unexpected output shapes\n", what);
    return;
  }
  for (long i = 0; i < m; ++i) {
    double mx = -INFINITY;
    for (long j = 0; j < n; ++j) mx = std::max(mx, double(at(i, j)));
    double s = 0;
    for (long j = 0; j < n; ++j) s += std::exp(double(at(i, j)) - mx);
    for (long j = 0; j < n; ++j)
      expect_close(what, i, j, sm.data_as<float>()[i * n + j], std::exp(double(at(i, j)) - mx) / s,
                   2e-6);
    expect_close(what, i, -1, lse.data_as<float>()[i], mx + std::log(s), 1e-6);
  }
}

} // namespace

int main() {
  try {
    const long m = 300, n = 1000;
    std::vector<float> x(static_cast<std::size_t>(m * n));
    for (long i = 0; i < m; ++i)
      for (long j = 0; j < n; ++j)
        x[i * n + j] = static_cast<float>(5 * std::sin(0.37 * i + 0.011 * j * j) + 0.01 * i);
    // Row 0 holds logits large enough that exp() overflows f32 without the max trick.
    for (long j = 0; j < n; ++j) x[j] = 1000.0f + static_cast<float>(j % 7);

    xpr::Context ctx;
    xpr::Program softmax = ctx.compile(kSoftmax, "softmax.xpr");

    // Over rows: the matrix as it lies in memory.
    xpr::Outputs rows = softmax.run({{"x", xpr::view(x.data(), xpr::f32, {m, n})}});
    check("rows", rows, m, n, [&](long i, long j) { return x[i * n + j]; });

    // Over columns: the same buffer viewed transposed (shape {n, m}, strides {1, n}); nothing is
    // copied, and the compiled program is reused with m and n bound the other way round.
    xpr::Outputs cols = softmax.run({{"x", xpr::view(x.data(), xpr::f32, {n, m}, {1, n})}});
    check("columns", cols, n, m, [&](long i, long j) { return x[j * n + i]; });

    // Why the trick: the textbook formula overflows on row 0 (exp(1000) is inf in f32).
    std::vector<float> row0(x.begin(), x.begin() + n);
    xpr::Array naive =
        ctx.eval("log(sum(exp(x)))", {{"x", xpr::view(row0.data(), xpr::f32, {n})}});
    const float naive_lse = naive.data_as<float>()[0];
    const float lse0 = rows.at("logsumexp").data_as<float>()[0];
    if (!std::isinf(naive_lse) || !std::isfinite(lse0)) {
      ++failures;
      std::fprintf(stderr, "row 0: naive logsumexp %g should overflow, stable one %g should not\n",
                   naive_lse, lse0);
    }

    std::printf("softmax: %ldx%ld over rows and columns (%d kernels, %d reductions); row 0 "
                "logsumexp %.4f (naive: %g): %s\n",
                m, n, softmax.kernel_count(), softmax.reduction_count(), lse0, naive_lse,
                failures ? "MISMATCH" : "ok");
  } catch (const xpr::Error &e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  }
  return failures ? 1 : 0;
}

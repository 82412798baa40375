// examples/montecarlo.cpp — estimates pi from uniform points in the unit square with one fused
// test-and-reduce kernel, and checks it against the same count done in plain C++.
#include <xpr/xpr.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <numbers>
#include <vector>

namespace {

// A counter-based generator (SplitMix64's finalizer): sample i depends only on (seed, i), so the
// numbers are reproducible and could be generated in parallel in any order.
double uniform(std::uint64_t seed, std::uint64_t i) {
  std::uint64_t z = seed + (i + 1) * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53; // 53 random bits in [0, 1)
}

} // namespace

int main() {
  try {
    xpr::Context ctx;
    const long n = 4'000'000;
    std::vector<double> x(n), y(n);
    for (long i = 0; i < n; ++i) {
      x[i] = uniform(1, static_cast<std::uint64_t>(i));
      y[i] = uniform(2, static_cast<std::uint64_t>(i));
    }

    // The comparison, the bool-to-count conversion and the mean run in one pass: no n-element
    // temporary is ever written.
    xpr::Array est = ctx.eval("mean((x*x + y*y) <= 1) * 4",
                              {{"x", xpr::view(x.data(), xpr::f64, {n})},
                               {"y", xpr::view(y.data(), xpr::f64, {n})}});
    if (est.rank() != 0 || est.dtype() != xpr::f64) {
      std::fprintf(stderr, "montecarlo: expected an f64 scalar, got rank %d %s\n", est.rank(),
                   std::string(xpr::dtype_name(est.dtype())).c_str());
      return 1;
    }
    const double got = est.data_as<double>()[0];

    long inside = 0;
    for (long i = 0; i < n; ++i) inside += (x[i] * x[i] + y[i] * y[i]) <= 1;
    const double want = static_cast<double>(inside) / static_cast<double>(n) * 4;

    // The count is an exact integer in f64 whatever the summation order, so the two estimates
    // agree to the last bit or two of the final division.
    const bool same = std::fabs(got - want) <= 4e-16 * want;
    // And the estimate is statistically sound: within 5 standard errors of pi.
    const double p = std::numbers::pi / 4;
    const double stderr4 = 4 * std::sqrt(p * (1 - p) / static_cast<double>(n));
    const bool near_pi = std::fabs(got - std::numbers::pi) <= 5 * stderr4;

    std::printf("montecarlo: pi ~ %.6f from %ld points (C++ count gives %.6f, |error| %.1e, "
                "standard error %.1e): %s\n",
                got, n, want, std::fabs(got - std::numbers::pi), stderr4,
                same && near_pi ? "ok" : "MISMATCH");
    return same && near_pi ? 0 : 1;
  } catch (const xpr::Error &e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  }
}

// examples/embed.cpp — embedding xpr: eval an expression and run the Black-Scholes script, checked
// against plain C++ loops. Exits non-zero on any mismatch (it runs as a test).
#include <xpr/xpr.hpp>

#include <cmath>
#include <cstdio>
#include <vector>

namespace {

const char *kBlackScholes = R"(input S: f32[n]        # symbolic dims: one compiled kernel serves every n
input K: f32[n]
input T: f32[n]
param r: f32           # a runtime scalar, not baked into the code
param v: f32
let sqrtT = sqrt(T)
let d1 = (log(S / K) + (r + 0.5 * v * v) * T) / (v * sqrtT)
let d2 = d1 - v * sqrtT
output call = S * ncdf(d1) - K * exp(-r * T) * ncdf(d2)
output put  = K * exp(-r * T) * ncdf(-d2) - S * ncdf(-d1)
)";

int failures = 0;

void check(bool ok, const char *what, long i, double got, double want) {
  if (ok) return;
  if (++failures <= 10) std::fprintf(stderr, "%s[%ld]: got %.9g, expected %.9g\n", what, i, got, want);
}

bool close(double got, double want, double rel) {
  return std::fabs(got - want) <= rel * std::max(1.0, std::fabs(want));
}

} // namespace

int main() {
  try {
    xpr::Context ctx; // all cores, accurate math

    // 1. numexpr style: the caller's vectors are viewed, not copied.
    const long n = 1'000'000;
    std::vector<double> a(n), b(n);
    for (long i = 0; i < n; ++i) {
      a[i] = std::sin(0.001 * i);
      b[i] = 0.5 + (i % 1000) * 0.001;
    }
    xpr::Array av = xpr::view(a.data(), xpr::f64, {n});
    xpr::Array bv = xpr::view(b.data(), xpr::f64, {n});
    xpr::Array y = ctx.eval("a * exp(-b) + 1", {{"a", av}, {"b", bv}});
    for (long i = 0; i < n; ++i) {
      double want = a[i] * std::exp(-b[i]) + 1;
      check(close(y.data_as<double>()[i], want, 1e-15), "eval", i, y.data_as<double>()[i], want);
    }

    // 2. A script with two outputs, compiled once and run with runtime parameters.
    xpr::Program bs = ctx.compile(kBlackScholes, "black_scholes.xpr");
    std::vector<float> S(n), K(n), T(n);
    for (long i = 0; i < n; ++i) {
      S[i] = 50.0f + static_cast<float>(i % 100);
      K[i] = 60.0f + static_cast<float>(i % 77);
      T[i] = 0.25f + static_cast<float>(i % 13) * 0.2f;
    }
    const float r = 0.05f, v = 0.2f;
    xpr::Outputs out = bs.run({{"S", xpr::view(S.data(), xpr::f32, {n})},
                               {"K", xpr::view(K.data(), xpr::f32, {n})},
                               {"T", xpr::view(T.data(), xpr::f32, {n})}},
                              {{"r", r}, {"v", v}});
    const float *call = out.at("call").data_as<float>();
    const float *put = out.at("put").data_as<float>();
    auto ncdf = [](double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); };
    for (long i = 0; i < n; ++i) {
      double sqrtT = std::sqrt(double(T[i]));
      double d1 = (std::log(double(S[i]) / K[i]) + (r + 0.5 * v * v) * T[i]) / (v * sqrtT);
      double d2 = d1 - v * sqrtT;
      double disc = K[i] * std::exp(-double(r) * T[i]);
      double c = S[i] * ncdf(d1) - disc * ncdf(d2);
      double p = disc * ncdf(-d2) - S[i] * ncdf(-d1);
      // f32 arithmetic against an f64 reference: a few f32 ulps of the price's scale.
      check(close(call[i], c, 1e-4), "call", i, call[i], c);
      check(close(put[i], p, 1e-4), "put", i, put[i], p);
    }

    // 3. In place: a = a * 2 (run_into with the input's own memory as the output).
    xpr::Program twice = ctx.compile("input a: f64[n]\noutput a2 = a * 2\n");
    std::vector<double> orig = a;
    twice.run_into({{"a", av}}, {{"a2", av}});
    for (long i = 0; i < n; ++i) check(a[i] == orig[i] * 2, "in place", i, a[i], orig[i] * 2);

    std::printf("embed: eval, Black-Scholes (%d kernel) and in-place run all match: %s\n",
                bs.kernel_count(), failures ? "NO" : "yes");
  } catch (const xpr::Error &e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  }
  return failures ? 1 : 0;
}

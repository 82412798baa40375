// examples/blackscholes.cpp — prices European options with examples/blackscholes.xpr (read at run
// time) and checks textbook prices, put-call parity and a plain C++ loop. Exits non-zero on mismatch.
#include <xpr/xpr.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#ifndef XPR_EXAMPLES_DIR
#define XPR_EXAMPLES_DIR "."
#endif

namespace {

int failures = 0;

void expect_close(const char *what, double got, double want, double tol) {
  if (std::fabs(got - want) <= tol) return;
  ++failures;
  std::fprintf(stderr, "%s: got %.7f, expected %.7f (tolerance %g)\n", what, got, want, tol);
}

std::string read_file(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

double ncdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

} // namespace

int main(int argc, char **argv) {
  const std::string path =
      argc > 1 ? argv[1] : std::string(XPR_EXAMPLES_DIR) + "/blackscholes.xpr";
  try {
    xpr::Context ctx;
    // The filename makes diagnostics point into the file: "blackscholes.xpr:7:12: error: ...".
    xpr::Program bs = ctx.compile(read_file(path), path);

    // 1. Textbook values (Hull, "Options, Futures and Other Derivatives"): S=42, K=40, r=10%,
    //    sigma=20%, T=0.5 gives call 4.76 and put 0.81; the at-the-money S=K=100, r=5%, sigma=20%,
    //    T=1 gives call 10.4506 and put 5.5735. One program serves both: r and v are params.
    {
      std::vector<float> S{42}, K{40}, T{0.5f};
      auto out = bs.run({{"S", xpr::view(S.data(), xpr::f32, {1})},
                         {"K", xpr::view(K.data(), xpr::f32, {1})},
                         {"T", xpr::view(T.data(), xpr::f32, {1})}},
                        {{"r", 0.10}, {"v", 0.20}});
      expect_close("Hull call", out.at("call").data_as<float>()[0], 4.7594, 5e-4);
      expect_close("Hull put", out.at("put").data_as<float>()[0], 0.8086, 5e-4);
    }
    {
      std::vector<float> S{100}, K{100}, T{1};
      auto out = bs.run({{"S", xpr::view(S.data(), xpr::f32, {1})},
                         {"K", xpr::view(K.data(), xpr::f32, {1})},
                         {"T", xpr::view(T.data(), xpr::f32, {1})}},
                        {{"r", 0.05}, {"v", 0.20}});
      expect_close("ATM call", out.at("call").data_as<float>()[0], 10.4506, 1e-3);
      expect_close("ATM put", out.at("put").data_as<float>()[0], 5.5735, 1e-3);
    }

    // 2. A book of a million options, written into caller-owned arrays (run_into: no allocation).
    const long n = 1 << 20;
    std::vector<float> S(n), K(n), T(n), call(n), put(n);
    for (long i = 0; i < n; ++i) {
      S[i] = 10.0f + static_cast<float>(i % 997) * 0.1f;
      K[i] = 20.0f + static_cast<float>(i % 641) * 0.15f;
      T[i] = 0.1f + static_cast<float>(i % 37) * 0.05f;
    }
    const double r = 0.03, v = 0.25;
    bs.run_into({{"S", xpr::view(S.data(), xpr::f32, {n})},
                 {"K", xpr::view(K.data(), xpr::f32, {n})},
                 {"T", xpr::view(T.data(), xpr::f32, {n})}},
                {{"call", xpr::view(call.data(), xpr::f32, {n})},
                 {"put", xpr::view(put.data(), xpr::f32, {n})}},
                {{"r", r}, {"v", v}});

    double worst_ref = 0, worst_parity = 0;
    const float rf = static_cast<float>(r), vf = static_cast<float>(v); // the params are f32
    for (long i = 0; i < n; ++i) {
      const double s = S[i], k = K[i], t = T[i];
      const double sqrtT = std::sqrt(t);
      const double d1 = (std::log(s / k) + (rf + 0.5 * vf * vf) * t) / (vf * sqrtT);
      const double d2 = d1 - vf * sqrtT;
      const double disc = k * std::exp(-double(rf) * t);
      const double c = s * ncdf(d1) - disc * ncdf(d2);
      const double p = disc * ncdf(-d2) - s * ncdf(-d1);
      // f32 kernel against an f64 reference: prices reach ~150, where an f32 ulp is 1.5e-5.
      worst_ref = std::max({worst_ref, std::fabs(call[i] - c), std::fabs(put[i] - p)});
      // Put-call parity, C - P = S - K e^{-rT}, holds for any model-free pricing.
      worst_parity = std::max(worst_parity, std::fabs((call[i] - put[i]) - (s - disc)));
    }
    expect_close("max |xpr - C++ reference|", worst_ref, 0, 2e-4);
    expect_close("max |put-call parity residual|", worst_parity, 0, 2e-4);

    std::printf("blackscholes: %ld options in %d kernel; max error vs f64 %.2e, parity %.2e: %s\n",
                n, bs.kernel_count(), worst_ref, worst_parity, failures ? "MISMATCH" : "ok");
  } catch (const xpr::Error &e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  } catch (const std::exception &e) {
    std::fprintf(stderr, "blackscholes: %s\n", e.what());
    return 2;
  }
  return failures ? 1 : 0;
}

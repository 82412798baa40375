// tests/math/mlir_approx/measure.cpp — max ULP (vs MPFR) of MLIR 19's f32 polynomial approximations
// (mlir-opt --test-math-polynomial-approximation), the evidence for docs/math.md's choice of SLEEF.
#include <mpfr.h>
#include <cstdio>
#include <cstring>
#include <cmath>
#include <random>
#include <vector>
#include <string>
extern "C" {
#define D(o) void approx_##o(const float*, float*, long);
D(exp) D(log) D(log1p) D(expm1) D(tanh) D(erf) D(sin) D(cos) D(atan) D(cbrt) D(log2) D(asin) D(acos)
}
typedef void (*K)(const float*, float*, long);
typedef int (*R)(mpfr_ptr, mpfr_srcptr, mpfr_rnd_t);
struct E { const char* n; K k; R r; double lo, hi, flo, fhi; };
int main() {
  mpfr_set_emin(mpfr_get_emin_min()); mpfr_set_emax(mpfr_get_emax_max());
  E es[] = {{"exp", approx_exp, mpfr_exp, -87, 88, -87, 88}, {"log", approx_log, mpfr_log, 0.5, 2, 0, INFINITY},
    {"log2", approx_log2, mpfr_log2, 0.5, 2, 0, INFINITY}, {"log1p", approx_log1p, mpfr_log1p, -0.5, 1, -1, INFINITY},
    {"expm1", approx_expm1, mpfr_expm1, -1, 1, -20, 88}, {"tanh", approx_tanh, mpfr_tanh, -5, 5, -20, 20},
    {"erf", approx_erf, mpfr_erf, -3, 3, -10, 10}, {"sin", approx_sin, mpfr_sin, -10, 10, -1e4, 1e4},
    {"cos", approx_cos, mpfr_cos, -10, 10, -1e4, 1e4}, {"atan", approx_atan, mpfr_atan, -4, 4, -INFINITY, INFINITY},
    {"cbrt", approx_cbrt, mpfr_cbrt, -10, 10, -INFINITY, INFINITY}, {"asin", approx_asin, mpfr_asin, -1, 1, -1, 1},
    {"acos", approx_acos, mpfr_acos, -1, 1, -1, 1}};
  const long N = 400000;
  std::mt19937_64 rng(1);
  mpfr_t x, r, d; mpfr_inits2(80, x, r, d, (mpfr_ptr)0);
  for (E& e : es) {
    std::vector<float> a(N), y(N);
    for (long i = 0; i < N; ++i) {
      if (i % 2) { a[i] = std::uniform_real_distribution<float>(e.lo, e.hi)(rng); continue; }
      for (;;) { uint32_t b = rng(); float v; memcpy(&v, &b, 4); if (std::isfinite(v) && v >= e.flo && v <= e.fhi) { a[i] = v; break; } }
    }
    e.k(a.data(), y.data(), N);
    double mx = 0, wx = 0; long nan_bad = 0;
    for (long i = 0; i < N; ++i) {
      mpfr_set_d(x, a[i], MPFR_RNDN); e.r(r, x, MPFR_RNDN);
      if (mpfr_nan_p(r) || mpfr_inf_p(r)) continue;
      if (!std::isfinite(y[i])) { ++nan_bad; continue; }
      long ex = mpfr_regular_p(r) ? mpfr_get_exp(r) - 1 : -126; if (ex < -126) ex = -126; if (ex > 127) ex = 127;
      mpfr_set_d(d, y[i], MPFR_RNDN); mpfr_sub(d, d, r, MPFR_RNDN); mpfr_abs(d, d, MPFR_RNDN); mpfr_mul_2si(d, d, -(ex - 23), MPFR_RNDN);
      double u = mpfr_get_d(d, MPFR_RNDU); if (u > mx) { mx = u; wx = a[i]; }
    }
    printf("| %s | %.3g | x=%.9g | %ld non-finite for finite results |\n", e.n, mx, wx, nan_bad);
  }
}

// tools/xpr/Random.cpp — reproducible uniform and normal transforms over std::mt19937_64.
#include "tools/xpr/Random.h"

#include <cmath>

// The results must not depend on whether the compiler fuses a*b+c into one rounding.
#pragma clang fp contract(off)
#pragma STDC FP_CONTRACT OFF

namespace xpr::rnd {

void Generator::reseed(std::uint64_t seed) {
  engine_.seed(seed);
  have_spare_ = false;
  spare_ = 0;
}

double Generator::uniform(int bits) {
  const std::uint64_t x = engine_() >> (64 - bits);
  return std::ldexp(static_cast<double>(x), -bits);
}

double Generator::normal() {
  if (have_spare_) {
    have_spare_ = false;
    return spare_;
  }
  for (;;) {
    const double u = 2.0 * uniform(53) - 1.0;
    const double v = 2.0 * uniform(53) - 1.0;
    const double s = u * u + v * v;
    if (s >= 1.0 || s == 0.0) continue;
    const double f = std::sqrt(-2.0 * det_log(s) / s);
    spare_ = v * f;
    have_spare_ = true;
    return u * f;
  }
}

double det_log(double x) {
  int e = 0;
  double m = std::frexp(x, &e); // x = m * 2^e, m in [0.5, 1)
  if (m < 0.70710678118654752440) {
    m = m * 2.0;
    e = e - 1;
  }
  // m in [sqrt(1/2), sqrt(2)): log(m) = 2 atanh(f), f = (m-1)/(m+1), |f| < 0.172.
  const double f = (m - 1.0) / (m + 1.0);
  const double s = f * f;
  double sum = 0.0;
  for (int k = 13; k >= 1; --k) sum = s * (1.0 / (2 * k + 1) + sum);
  const double log_m = 2.0 * f + 2.0 * f * sum;
  // ln 2 split so e * ln2_hi is exact for |e| < 2^11.
  const double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
  const double de = static_cast<double>(e);
  return de * ln2_hi + (log_m + de * ln2_lo);
}

} // namespace xpr::rnd

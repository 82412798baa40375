// bench/eigen_loops.cpp — the Eigen side of the benchmark: each expression in Eigen's natural
// array-expression form over Eigen::Map views of the caller's buffers. Eigen vectorizes exp, log,
// log1p, sin and sqrt with its own packet math; erfc (unsupported/Eigen/SpecialFunctions) has no
// packet version for x86 in Eigen 3.4, so it is one call to the C library's erfcf per element.
#include "bench/eigen_loops.h"

#include <Eigen/Core>
#include <unsupported/Eigen/SpecialFunctions>

#include <string>

namespace xpr_bench::eigen {

namespace {
using Vec = Eigen::Map<Eigen::ArrayXf>;
using CVec = Eigen::Map<const Eigen::ArrayXf>;

template <class X> auto ncdf(const X &x) { return 0.5f * (-x * 0.70710678118654752f).erfc(); }
} // namespace

const char *describe() {
  static const std::string s =
      std::to_string(EIGEN_WORLD_VERSION) + "." + std::to_string(EIGEN_MAJOR_VERSION) + "." +
      std::to_string(EIGEN_MINOR_VERSION) + ", " + Eigen::SimdInstructionSetsInUse();
  return s.c_str();
}

void add_scaled(const float *a, const float *b, float *out, std::int64_t n) {
  CVec A(a, n), B(b, n);
  Vec(out, n) = A + 2.5f * B;
}

void poly(const float *a, const float *b, const float *c, float *out, std::int64_t n) {
  CVec A(a, n), B(b, n), C(c, n);
  Vec(out, n) = ((A * 0.5f + B) * A - 1.0f) * B + C;
}

void transcendental(const float *a, const float *b, const float *c, float *out, std::int64_t n) {
  CVec A(a, n), B(b, n), C(c, n);
  Vec(out, n) = (-A * A).exp() * B.sin() + (C * C).log1p();
}

void sigmoid(const float *a, float *out, std::int64_t n) {
  CVec A(a, n);
  Vec(out, n) = 1.0f / (1.0f + (-A).exp());
}

void select_where(const float *a, const float *b, const float *c, float *out, std::int64_t n) {
  CVec A(a, n), B(b, n), C(c, n);
  Vec(out, n) = (A > B).select(A * A, B - C);
}

void blackscholes(const float *s, const float *k, const float *t, float r, float v, float *call,
                  float *put, float *scratch, std::int64_t n) {
  CVec S(s, n), K(k, n), T(t, n);
  Vec d1(scratch, n), d2(scratch + n, n), disc(scratch + 2 * n, n);
  d1 = ((S / K).log() + (r + 0.5f * v * v) * T) / (v * T.sqrt());
  d2 = d1 - v * T.sqrt();
  disc = K * (-r * T).exp();
  Vec(call, n) = S * ncdf(d1) - disc * ncdf(d2);
  Vec(put, n) = disc * ncdf(-d2) - S * ncdf(-d1);
}

float sum(const float *a, std::int64_t n) { return CVec(a, n).sum(); }

float dot(const float *a, const float *b, std::int64_t n) {
  return (CVec(a, n) * CVec(b, n)).sum();
}

float exp_dot(const float *a, const float *b, std::int64_t n) {
  return (CVec(a, n).exp() * CVec(b, n)).sum();
}

float max(const float *a, std::int64_t n) { return CVec(a, n).maxCoeff(); }

std::int64_t argmax(const float *a, std::int64_t n) {
  Eigen::Index i = 0;
  CVec(a, n).maxCoeff(&i);
  return static_cast<std::int64_t>(i);
}

} // namespace xpr_bench::eigen

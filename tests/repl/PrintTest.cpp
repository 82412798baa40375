// tests/repl/PrintTest.cpp — NumPy-style repr and the reproducible random generator. Expected
// texts are NumPy 2.2's repr of the same arrays (numpy_test.py compares against NumPy itself).
#include "tools/xpr/Print.h"
#include "tools/xpr/Random.h"

#include "support/Half.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

using namespace xpr;

namespace {

template <class T> Array make(DType t, std::vector<std::int64_t> shape, const std::vector<T> &v) {
  Array a = Array::empty(t, shape);
  for (std::size_t i = 0; i < v.size(); ++i) a.data_as<T>()[i] = v[i];
  return a;
}

} // namespace

TEST(Print, Floats) {
  EXPECT_EQ(print::repr(make<double>(DType::F64, {3}, {1, 2, 3})), "array([1., 2., 3.])");
  EXPECT_EQ(print::repr(make<double>(DType::F64, {3}, {0.1, 1.0 / 3, 2.5})),
            "array([0.1       , 0.33333333, 2.5       ])");
  EXPECT_EQ(print::repr(make<float>(DType::F32, {3}, {0.1f, 1.0f / 3, 2.5f})),
            "array([0.1       , 0.33333334, 2.5       ], dtype=float32)");
  EXPECT_EQ(print::repr(make<double>(DType::F64, {3}, {1e-5, 1.5, 3})),
            "array([1.0e-05, 1.5e+00, 3.0e+00])");
  EXPECT_EQ(print::repr(make<double>(DType::F64, {4}, {NAN, 1.5, INFINITY, -INFINITY})),
            "array([ nan,  1.5,  inf, -inf])");
  EXPECT_EQ(print::repr(make<double>(DType::F64, {3}, {-0.0, 0.0, 1.0})), "array([-0.,  0.,  1.])");
  EXPECT_EQ(print::repr(make<double>(DType::F64, {2}, {1e-300, 1e300})), "array([1.e-300, 1.e+300])");
  EXPECT_EQ(print::repr(make<double>(DType::F64, {}, {2.5})), "array(2.5)");
  EXPECT_EQ(print::repr(make<float>(DType::F32, {}, {1.0f})), "array(1., dtype=float32)");
}

TEST(Print, HalvesUseTheirOwnShortestDigits) {
  std::vector<std::uint16_t> h;
  for (double v : {0.1, 1.0 / 3, 2.5, 65504.0, -0.0}) h.push_back(half::f64_to_f16(v));
  EXPECT_EQ(print::repr(make<std::uint16_t>(DType::F16, {5}, h)),
            "array([ 9.998e-02,  3.333e-01,  2.500e+00,  6.550e+04, -0.000e+00],\n      dtype=float16)");
  std::vector<std::uint16_t> b = {half::f64_to_bf16(0.1), half::f64_to_bf16(3.0)};
  EXPECT_EQ(print::repr(make<std::uint16_t>(DType::BF16, {2}, b)), "array([0.1, 3. ], dtype=bfloat16)");
}

TEST(Print, IntegersAndBools) {
  EXPECT_EQ(print::repr(make<std::int32_t>(DType::I32, {3}, {1, -200, 30000})),
            "array([    1,  -200, 30000], dtype=int32)");
  EXPECT_EQ(print::repr(make<std::uint64_t>(DType::U64, {2}, {0, std::numeric_limits<std::uint64_t>::max()})),
            "array([                   0, 18446744073709551615], dtype=uint64)");
  EXPECT_EQ(print::repr(make<std::uint8_t>(DType::Bool, {3}, {1, 0, 1})), "array([ True, False,  True])");
  EXPECT_EQ(print::repr(make<std::uint8_t>(DType::Bool, {}, {1})), "array(True)");
}

TEST(Print, WrapsAndNests) {
  std::vector<std::int64_t> v(30);
  for (int i = 0; i < 30; ++i) v[static_cast<std::size_t>(i)] = i;
  EXPECT_EQ(print::repr(make<std::int64_t>(DType::I64, {30}, v)),
            "array([ 0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15, 16,\n"
            "       17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29])");
  std::vector<std::int64_t> w(v.begin(), v.begin() + 24);
  EXPECT_EQ(print::repr(make<std::int64_t>(DType::I64, {2, 3, 4}, w)),
            "array([[[ 0,  1,  2,  3],\n"
            "        [ 4,  5,  6,  7],\n"
            "        [ 8,  9, 10, 11]],\n"
            "\n"
            "       [[12, 13, 14, 15],\n"
            "        [16, 17, 18, 19],\n"
            "        [20, 21, 22, 23]]])");
}

TEST(Print, SummarizesLikeNumPy22) {
  std::vector<std::int64_t> v(10000);
  for (int i = 0; i < 10000; ++i) v[static_cast<std::size_t>(i)] = i;
  EXPECT_EQ(print::repr(make<std::int64_t>(DType::I64, {10000}, v)),
            "array([   0,    1,    2, ..., 9997, 9998, 9999], shape=(10000,))");
  std::vector<float> f(2000);
  for (int i = 0; i < 2000; ++i) f[static_cast<std::size_t>(i)] = static_cast<float>(i) / 3.0f;
  EXPECT_EQ(print::repr(make<float>(DType::F32, {2000}, f)),
            "array([0.0000000e+00, 3.3333334e-01, 6.6666669e-01, ..., 6.6566669e+02,\n"
            "       6.6600000e+02, 6.6633331e+02], shape=(2000,), dtype=float32)");
  EXPECT_EQ(print::repr(make<std::int64_t>(DType::I64, {2, 5000}, v)),
            "array([[   0,    1,    2, ..., 4997, 4998, 4999],\n"
            "       [5000, 5001, 5002, ..., 9997, 9998, 9999]], shape=(2, 5000))");
}

TEST(Print, Empty) {
  EXPECT_EQ(print::repr(Array::empty(DType::F32, {0})), "array([], dtype=float32)");
  EXPECT_EQ(print::repr(Array::empty(DType::F64, {0, 3})), "array([], shape=(0, 3), dtype=float64)");
}

TEST(Print, TypeText) {
  EXPECT_EQ(print::type_text(DType::F32, {3, 4}), "f32[3, 4]");
  EXPECT_EQ(print::type_text(DType::Bool, {}), "bool[]");
  EXPECT_EQ(print::numpy_dtype_name(DType::U16), "uint16");
}

TEST(Random, SeededSequencesArePinned) {
  // mt19937_64 is specified by the C++ standard and the transforms use only exact IEEE
  // operations, so these values hold on every platform.
  rnd::Generator g(42);
  EXPECT_EQ(g.uniform(53), 0.75515553295453897);
  EXPECT_EQ(g.uniform(53), 0.63903139385469743);
  rnd::Generator h(42);
  const double n0 = h.normal(), n1 = h.normal();
  EXPECT_EQ(print::shortest(n0, DType::F64), "1.2938204232729367");
  EXPECT_EQ(print::shortest(n1, DType::F64), "0.7049882664208599");
  rnd::Generator f(42);
  const double u24 = f.uniform(24);
  EXPECT_EQ(u24, std::ldexp(std::floor(u24 * 16777216.0), -24)); // exact in f32
  EXPECT_LT(u24, 1.0);
}

TEST(Random, DeterministicLogIsAccurate) {
  rnd::Generator g(1);
  double worst = 0;
  for (int i = 0; i < 100000; ++i) {
    const double x = g.uniform(53) + 1e-300;
    const double a = rnd::det_log(x), b = std::log(x);
    const double ulp = std::nextafter(std::fabs(b), INFINITY) - std::fabs(b);
    worst = std::max(worst, std::fabs(a - b) / ulp);
  }
  EXPECT_LE(worst, 2.0);
  EXPECT_EQ(rnd::det_log(1.0), 0.0);
}

TEST(Random, NormalMomentsAreRight) {
  rnd::Generator g(3);
  double s = 0, s2 = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double z = g.normal();
    s += z;
    s2 += z * z;
  }
  EXPECT_NEAR(s / n, 0.0, 0.01);
  EXPECT_NEAR(s2 / n, 1.0, 0.01);
}

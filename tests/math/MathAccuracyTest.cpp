// tests/math/MathAccuracyTest.cpp — CI's reduced MPFR accuracy run: every function × {f32, f64} ×
// {accurate, fast} on 20,000 sampled points plus its special values, against docs/math.md's
// bounds. XPR_MATH_POINTS overrides the sample size.
#include "tests/math/MathHarness.h"

#include <gtest/gtest.h>

#include <cstdlib>

using namespace xpr;
using namespace xpr::mathtest;

namespace {

cg::CpuJit &jit() {
  static cg::CpuJit j;
  return j;
}

Options ci_options() {
  Options o;
  o.points = 20000;
  if (const char *e = std::getenv("XPR_MATH_POINTS")) o.points = std::atoll(e);
  return o;
}

class MathAccuracy : public ::testing::TestWithParam<std::tuple<FnInfo, DType>> {};

TEST_P(MathAccuracy, WithinBoundAndSpecialValuesExact) {
  auto [fn, d] = GetParam();
  Measure m[2];
  measure(jit(), fn, d, ci_options(), m);
  for (int k = 0; k < 2; ++k) {
    cg::Precision p = k == 0 ? cg::Precision::Accurate : cg::Precision::Fast;
    SCOPED_TRACE(k == 0 ? "accurate" : "fast");
    EXPECT_GT(m[k].points, 0);
    EXPECT_GT(m[k].specials, 0);
    EXPECT_LE(m[k].max_ulp, ulp_bound(fn.op, d, p))
        << "worst at x=" << m[k].worst_x << " y=" << m[k].worst_y << ": got " << m[k].worst_got
        << ", correctly rounded " << m[k].worst_want;
    EXPECT_EQ(m[k].special_fail, 0);
    for (const std::string &s : m[k].special_msgs) ADD_FAILURE() << s;
  }
}

std::string case_name(const ::testing::TestParamInfo<std::tuple<FnInfo, DType>> &info) {
  return std::string(std::get<0>(info.param).name) + "_" +
         std::string(dtype_name(std::get<1>(info.param)));
}

INSTANTIATE_TEST_SUITE_P(AllFunctions, MathAccuracy,
                         ::testing::Combine(::testing::ValuesIn(functions()),
                                            ::testing::Values(DType::F32, DType::F64)),
                         case_name);

// The harness itself: sqrt is correctly rounded (IEEE), so it must score ≤ 0.5 ULP; a harness
// that measured the wrong thing would show it here.
TEST(MathHarness, SqrtIsCorrectlyRounded) {
  for (DType d : {DType::F32, DType::F64}) {
    Measure m[2];
    measure(jit(), *find_function("sqrt"), d, ci_options(), m);
    EXPECT_LE(m[0].max_ulp, 0.5);
    EXPECT_LE(m[1].max_ulp, 0.5);
    EXPECT_GT(m[0].max_ulp, 0.3); // it does measure something
  }
}

} // namespace

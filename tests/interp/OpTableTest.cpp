// tests/interp/OpTableTest.cpp — hand-written tables for the edge cases docs/semantics.md decides
// (where NumPy is not the authority, or where the exact bits matter), plus graph-level behaviour:
// consts, params, several outputs, half outputs, and internal errors.
#include "Helpers.h"

#include "support/Half.h"

#include <xpr/error.hpp>

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>

using namespace xpr;
using namespace xpr::test;
using ir::Op;

namespace {

template <class Out, class In>
std::vector<Out> un(Op o, DType in, DType out, const std::vector<In> &a) {
  ir::Graph g;
  const std::int64_t n = static_cast<std::int64_t>(a.size());
  auto x = input(g, "a", type(in, {D(n)}));
  output(g, op(g, o, type(out, {D(n)}), {x}));
  return values<Out>(ir::interpret(g, {{"a", make(in, {n}, a)}}, {})[0]);
}

template <class Out, class In>
std::vector<Out> bin(Op o, DType in, DType out, const std::vector<In> &a,
                     const std::vector<In> &b) {
  ir::Graph g;
  const std::int64_t n = static_cast<std::int64_t>(a.size());
  auto x = input(g, "a", type(in, {D(n)}));
  auto y = input(g, "b", type(in, {D(n)}));
  output(g, op(g, o, type(out, {D(n)}), {x, y}));
  return values<Out>(ir::interpret(g, {{"a", make(in, {n}, a)}, {"b", make(in, {n}, b)}}, {})[0]);
}

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr std::int32_t i32min = std::numeric_limits<std::int32_t>::min();
constexpr std::int32_t i32max = std::numeric_limits<std::int32_t>::max();
constexpr std::int64_t i64min = std::numeric_limits<std::int64_t>::min();

} // namespace

TEST(Semantics, IntegerDivisionAndModulo) {
  const std::vector<std::int32_t> a = {7, -7, 7, -7, 5, i32min, i32min, i32min, 0, 3};
  const std::vector<std::int32_t> b = {2, 2, -2, -2, 0, -1, 1, 2, 0, i32min};
  EXPECT_EQ((bin<std::int32_t>(Op::FloorDiv, i32, i32, a, b)),
            (std::vector<std::int32_t>{3, -4, -4, 3, 0, i32min, i32min, -1073741824, 0, -1}));
  EXPECT_EQ((bin<std::int32_t>(Op::Mod, i32, i32, a, b)),
            (std::vector<std::int32_t>{1, 1, -1, -1, 0, 0, 0, 0, 0, i32min + 3}));
  EXPECT_EQ((bin<std::int32_t>(Op::Fmod, i32, i32, a, b)),
            (std::vector<std::int32_t>{1, -1, 1, -1, 0, 0, 0, 0, 0, 3}));
  const std::vector<std::uint32_t> ua = {7, 0xffffffffu, 5};
  const std::vector<std::uint32_t> ub = {2, 0x10u, 0};
  EXPECT_EQ((bin<std::uint32_t>(Op::FloorDiv, u32, u32, ua, ub)),
            (std::vector<std::uint32_t>{3, 0x0fffffffu, 0}));
  EXPECT_EQ((bin<std::uint32_t>(Op::Mod, u32, u32, ua, ub)),
            (std::vector<std::uint32_t>{1, 15, 0}));
}

TEST(Semantics, IntegerWrapAbsNegSign) {
  const std::vector<std::int8_t> a = {-128, 127, -1, 0, 100};
  EXPECT_EQ((un<std::int8_t>(Op::Abs, i8, i8, a)),
            (std::vector<std::int8_t>{-128, 127, 1, 0, 100}));
  EXPECT_EQ((un<std::int8_t>(Op::Neg, i8, i8, a)),
            (std::vector<std::int8_t>{-128, -127, 1, 0, -100}));
  EXPECT_EQ((un<std::int8_t>(Op::Sign, i8, i8, a)), (std::vector<std::int8_t>{-1, 1, -1, 0, 1}));
  EXPECT_EQ((un<std::int8_t>(Op::Not, i8, i8, a)),
            (std::vector<std::int8_t>{127, -128, 0, -1, -101}));
  EXPECT_EQ((bin<std::int8_t>(Op::Add, i8, i8, a, a)),
            (std::vector<std::int8_t>{0, -2, -2, 0, -56}));
  EXPECT_EQ((bin<std::int8_t>(Op::Mul, i8, i8, a, a)), (std::vector<std::int8_t>{0, 1, 1, 0, 16}));
  const std::vector<std::uint16_t> u = {0, 1, 65535};
  EXPECT_EQ((un<std::uint16_t>(Op::Neg, u16, u16, u)), (std::vector<std::uint16_t>{0, 65535, 1}));
  EXPECT_EQ((bin<std::uint16_t>(Op::Mul, u16, u16, u, u)), (std::vector<std::uint16_t>{0, 1, 1}));
  EXPECT_EQ((un<std::uint16_t>(Op::Sign, u16, u16, u)), (std::vector<std::uint16_t>{0, 1, 1}));
  const std::vector<std::int64_t> l = {i64min, -1};
  EXPECT_EQ((bin<std::int64_t>(Op::Sub, i64, i64, l, std::vector<std::int64_t>{1, i64min})),
            (std::vector<std::int64_t>{INT64_MAX, INT64_MAX}));
}

TEST(Semantics, IntegerPower) {
  const std::vector<std::int32_t> a = {2, 2, 0, 1, -1, -1, 2, -2, 3, 7, 0};
  const std::vector<std::int32_t> b = {10, 31, 0, -5, -3, -4, -1, -2, 40, 0, 5};
  // 3^40 = 12157665459056928801; i32 keeps its low 32 bits.
  const std::uint64_t p340 = 12157665459056928801ull;
  EXPECT_EQ((bin<std::int32_t>(Op::Pow, i32, i32, a, b)),
            (std::vector<std::int32_t>{1024, i32min, 1, 1, -1, 1, 0, 0,
                                       static_cast<std::int32_t>(static_cast<std::uint32_t>(p340)),
                                       1, 0}));
  const std::vector<std::uint8_t> ua = {2, 3, 255};
  const std::vector<std::uint8_t> ub = {8, 5, 2};
  EXPECT_EQ((bin<std::uint8_t>(Op::Pow, u8, u8, ua, ub)), (std::vector<std::uint8_t>{0, 243, 1}));
}

TEST(Semantics, Shifts) {
  const std::vector<std::int16_t> a = {1, 1, 1, -8, -8, -8, 3, 16384};
  const std::vector<std::int16_t> b = {15, 16, -1, 1, 16, -3, 100, 1};
  EXPECT_EQ((bin<std::int16_t>(Op::Shl, i16, i16, a, b)),
            (std::vector<std::int16_t>{-32768, 0, 0, -16, 0, 0, 0, -32768}));
  EXPECT_EQ((bin<std::int16_t>(Op::Shr, i16, i16, a, b)),
            (std::vector<std::int16_t>{0, 0, 0, -4, -1, -1, 0, 8192}));
  const std::vector<std::uint64_t> ua = {1, 0x8000000000000000ull, 5};
  const std::vector<std::uint64_t> ub = {63, 63, 64};
  EXPECT_EQ((bin<std::uint64_t>(Op::Shl, u64, u64, ua, ub)),
            (std::vector<std::uint64_t>{0x8000000000000000ull, 0, 0}));
  EXPECT_EQ((bin<std::uint64_t>(Op::Shr, u64, u64, ua, ub)), (std::vector<std::uint64_t>{0, 1, 0}));
}

TEST(Semantics, FloatFloorDivModLikeNumPyDivmod) {
  const std::vector<double> a = {1.0, 7.5, -7.5, 7.5, 5.0, -5.0, 0.0, 1.0, -1.0, kInf, 1.0, -0.0};
  const std::vector<double> b = {0.1, 2.0, 2.0, -2.0, 0.0, 0.0, 0.0, kInf, kInf, 1.0, -kInf, 3.0};
  auto fd = bin<double>(Op::FloorDiv, f64, f64, a, b);
  auto md = bin<double>(Op::Mod, f64, f64, a, b);
  const std::vector<double> want_fd = {9.0,  3.0, -4.0, -4.0, kInf, -kInf,
                                       kNaN, 0.0, -1.0, kNaN, -1.0, -0.0};
  const std::vector<double> want_md = {
      0.09999999999999995, 1.5, 0.5, -0.5, kNaN, kNaN, kNaN, 1.0, kInf, kNaN, -kInf, 0.0};
  for (std::size_t i = 0; i < a.size(); ++i) {
    SCOPED_TRACE(i);
    if (std::isnan(want_fd[i]))
      EXPECT_TRUE(std::isnan(fd[i])) << fd[i];
    else
      EXPECT_EQ(std::bit_cast<std::uint64_t>(fd[i]), std::bit_cast<std::uint64_t>(want_fd[i]))
          << fd[i];
    if (std::isnan(want_md[i]))
      EXPECT_TRUE(std::isnan(md[i])) << md[i];
    else
      EXPECT_EQ(std::bit_cast<std::uint64_t>(md[i]), std::bit_cast<std::uint64_t>(want_md[i]))
          << md[i];
  }
  // A zero remainder takes the sign of b.
  auto m = bin<double, double>(Op::Mod, f64, f64, {4.0, -4.0}, {-2.0, 2.0});
  EXPECT_TRUE(std::signbit(m[0]));
  EXPECT_FALSE(std::signbit(m[1]));
}

TEST(Semantics, MinimumMaximumIeee) {
  const std::vector<float> a = {-0.0f, 0.0f, NAN, 1.0f, -INFINITY, 2.0f};
  const std::vector<float> b = {0.0f, -0.0f, 1.0f, NAN, 3.0f, 2.0f};
  auto mn = bin<float>(Op::Minimum, f32, f32, a, b);
  auto mx = bin<float>(Op::Maximum, f32, f32, a, b);
  EXPECT_TRUE(std::signbit(mn[0]) && std::signbit(mn[1]));
  EXPECT_TRUE(!std::signbit(mx[0]) && !std::signbit(mx[1]));
  EXPECT_TRUE(std::isnan(mn[2]) && std::isnan(mn[3]) && std::isnan(mx[2]) && std::isnan(mx[3]));
  EXPECT_EQ(mn[4], -INFINITY);
  EXPECT_EQ(mx[4], 3.0f);
  EXPECT_EQ(mn[5], 2.0f);
  // clip(x, lo, hi) = minimum(maximum(x, lo), hi), NaN anywhere propagates.
  ir::Graph g;
  auto x = input(g, "x", type(f64, {D(4)}));
  auto lo = input(g, "lo", type(f64, {D(4)}));
  auto hi = input(g, "hi", type(f64, {D(4)}));
  output(g, op(g, Op::Clip, type(f64, {D(4)}), {x, lo, hi}));
  auto r = values<double>(ir::interpret(g,
                                        {{"x", make<double>(f64, {4}, {5.0, -5.0, kNaN, 0.5})},
                                         {"lo", make<double>(f64, {4}, {0.0, 0.0, 0.0, kNaN})},
                                         {"hi", make<double>(f64, {4}, {1.0, 1.0, 1.0, 1.0})}},
                                        {})[0]);
  EXPECT_EQ(r[0], 1.0);
  EXPECT_EQ(r[1], 0.0);
  EXPECT_TRUE(std::isnan(r[2]));
  EXPECT_TRUE(std::isnan(r[3]));
}

TEST(Semantics, RoundingAndSign) {
  const std::vector<double> a = {
      0.5,  1.5,  2.5, -0.5, -1.5, -2.5, -0.3, 0.49999999999999994, 4503599627370497.0,
      -0.0, kInf, kNaN};
  auto r = un<double>(Op::Round, f64, f64, a);
  const std::vector<double> want = {
      0.0, 2.0, 2.0, -0.0, -2.0, -2.0, -0.0, 0.0, 4503599627370497.0, -0.0, kInf, kNaN};
  for (std::size_t i = 0; i < a.size(); ++i) {
    SCOPED_TRACE(i);
    if (std::isnan(want[i]))
      EXPECT_TRUE(std::isnan(r[i]));
    else
      EXPECT_EQ(std::bit_cast<std::uint64_t>(r[i]), std::bit_cast<std::uint64_t>(want[i]));
  }
  auto s =
      un<float>(Op::Sign, f32, f32, std::vector<float>{-0.0f, 0.0f, NAN, -3.0f, INFINITY, 1e-45f});
  EXPECT_TRUE(std::signbit(s[0]) && s[0] == 0);
  EXPECT_TRUE(!std::signbit(s[1]) && s[1] == 0);
  EXPECT_TRUE(std::isnan(s[2]));
  EXPECT_EQ(s[3], -1.0f);
  EXPECT_EQ(s[4], 1.0f);
  EXPECT_EQ(s[5], 1.0f);
}

TEST(Semantics, SaturatingCastsAndBool) {
  const std::vector<double> a = {kNaN,         kInf,          -kInf, 1e10, -1e10,
                                 2147483647.9, -2147483648.9, -0.9,  3.99};
  EXPECT_EQ((un<std::int32_t>(Op::Cast, f64, i32, a)),
            (std::vector<std::int32_t>{0, i32max, i32min, i32max, i32min, i32max, i32min, 0, 3}));
  EXPECT_EQ((un<std::uint8_t>(Op::Cast, f64, u8, a)),
            (std::vector<std::uint8_t>{0, 255, 0, 255, 0, 255, 0, 0, 3}));
  EXPECT_EQ((un<std::uint8_t>(Op::Cast, f64, boolean, a)),
            (std::vector<std::uint8_t>{1, 1, 1, 1, 1, 1, 1, 1, 1}));
  EXPECT_EQ((un<std::uint8_t>(Op::Cast, f64, boolean, std::vector<double>{0.0, -0.0, 1e-320})),
            (std::vector<std::uint8_t>{0, 0, 1}));
  EXPECT_EQ((un<std::uint64_t>(Op::Cast, f32, u64,
                               std::vector<float>{1.8446744e19f, 1.8446743e19f, -1.0f})),
            (std::vector<std::uint64_t>{UINT64_MAX, 18446742974197923840ull, 0}));
  // int -> int keeps the low bits, extending by the source's signedness.
  EXPECT_EQ((un<std::int64_t>(Op::Cast, i8, i64, std::vector<std::int8_t>{-1, -128})),
            (std::vector<std::int64_t>{-1, -128}));
  EXPECT_EQ((un<std::uint64_t>(Op::Cast, i8, u64, std::vector<std::int8_t>{-1})),
            (std::vector<std::uint64_t>{UINT64_MAX}));
  EXPECT_EQ((un<std::int8_t>(Op::Cast, u32, i8, std::vector<std::uint32_t>{0x1ff, 0x80})),
            (std::vector<std::int8_t>{-1, -128}));
  // A bool byte that is not 0 or 1 (from a caller's buffer) still reads as true.
  EXPECT_EQ((un<std::int32_t>(Op::Cast, boolean, i32, std::vector<std::uint8_t>{0, 1, 2, 255})),
            (std::vector<std::int32_t>{0, 1, 1, 1}));
  // u64 -> f32 rounds once (to nearest even).
  EXPECT_EQ(
      (un<float>(Op::Cast, u64, f32, std::vector<std::uint64_t>{0xffffffffffffffffull, 16777217})),
      (std::vector<float>{18446744073709551616.0f, 16777216.0f}));
}

TEST(Semantics, HalfCastsRoundOnce) {
  // f64 -> f16 rounds once: 1 + 2^-11 + 2^-40 lies just above a tie (through f32 it would be one).
  auto h = un<std::uint16_t>(Op::Cast, f64, f16,
                             std::vector<double>{1.0 + std::ldexp(1.0, -11) + std::ldexp(1.0, -40),
                                                 1.0 + std::ldexp(1.0, -11), 65520.0, -kNaN, 1e-8});
  EXPECT_EQ(h[0], 0x3c01);
  EXPECT_EQ(h[1], 0x3c00);
  EXPECT_EQ(h[2], 0x7c00);
  EXPECT_EQ(h[3] & 0x7e00, 0x7e00);
  EXPECT_EQ(h[4], 0x0000); // 1e-8 < 2^-25 (half the smallest denormal)
  auto b = un<std::uint16_t>(Op::Cast, i64, bf16,
                             std::vector<std::int64_t>{(1LL << 60) + (1LL << 52) + 1, 257, -1});
  EXPECT_EQ(b, (std::vector<std::uint16_t>{0x5d81, 0x4380, 0xbf80}));
  // f16 -> i8 saturates; f16 -> bf16 rounds.
  EXPECT_EQ((un<std::int8_t>(Op::Cast, f16, i8,
                             std::vector<std::uint16_t>{0x7c00, 0x5a00, 0xd800, 0x7e00})),
            (std::vector<std::int8_t>{127, 127, -128, 0}));
  EXPECT_EQ(
      (un<std::uint16_t>(Op::Cast, f16, bf16, std::vector<std::uint16_t>{0x3c01, 0x3c03, 0x0001})),
      (std::vector<std::uint16_t>{0x3f80, 0x3f80, 0x3380}));
}

TEST(Semantics, FloatSpecialValues) {
  auto lg = un<double>(Op::Log, f64, f64, std::vector<double>{-1.0, 0.0, -0.0, kInf, 1.0});
  EXPECT_TRUE(std::isnan(lg[0]));
  EXPECT_EQ(lg[1], -kInf);
  EXPECT_EQ(lg[2], -kInf);
  EXPECT_EQ(lg[3], kInf);
  EXPECT_EQ(std::bit_cast<std::uint64_t>(lg[4]), 0u);
  auto sq = un<float>(Op::Sqrt, f32, f32, std::vector<float>{-0.0f, -1.0f, 4.0f, INFINITY});
  EXPECT_TRUE(std::signbit(sq[0]) && sq[0] == 0);
  EXPECT_TRUE(std::isnan(sq[1]));
  EXPECT_EQ(sq[2], 2.0f);
  EXPECT_EQ(sq[3], INFINITY);
  auto rs = un<float>(Op::Rsqrt, f32, f32, std::vector<float>{4.0f, 0.0f, -0.0f, INFINITY});
  EXPECT_EQ(rs, (std::vector<float>{0.5f, INFINITY, -INFINITY, 0.0f}));
  auto pw = bin<double, double>(Op::Pow, f64, f64, {kNaN, 1.0, -8.0, 0.0, -1.0, 2.0},
                                {0.0, kNaN, 1.0 / 3.0, -1.0, kInf, 0.5});
  EXPECT_EQ(pw[0], 1.0);
  EXPECT_EQ(pw[1], 1.0);
  EXPECT_TRUE(std::isnan(pw[2]));
  EXPECT_EQ(pw[3], kInf);
  EXPECT_EQ(pw[4], 1.0);
  EXPECT_EQ(pw[5], std::sqrt(2.0));
  auto nc = un<double>(Op::Ncdf, f64, f64, std::vector<double>{0.0, -kInf, kInf, kNaN, -37.0});
  EXPECT_EQ(nc[0], 0.5);
  EXPECT_EQ(nc[1], 0.0);
  EXPECT_EQ(nc[2], 1.0);
  EXPECT_TRUE(std::isnan(nc[3]));
  EXPECT_GT(nc[4], 0.0); // erfc keeps the far tail: no 1 - ncdf(-x) cancellation
  auto e2 = un<float>(Op::Exp2, f32, f32, std::vector<float>{10.0f, -149.0f, 128.0f});
  EXPECT_EQ(e2, (std::vector<float>{1024.0f, 1e-45f, INFINITY}));
}

TEST(Semantics, PredicatesOnIntsAndFloats) {
  EXPECT_EQ((un<std::uint8_t>(Op::SignBit, i16, boolean, std::vector<std::int16_t>{-1, 0, 5})),
            (std::vector<std::uint8_t>{1, 0, 0}));
  EXPECT_EQ((un<std::uint8_t>(Op::IsFinite, u8, boolean, std::vector<std::uint8_t>{0, 255})),
            (std::vector<std::uint8_t>{1, 1}));
  EXPECT_EQ(
      (un<std::uint8_t>(Op::SignBit, f64, boolean, std::vector<double>{-0.0, 0.0, -kNaN, kNaN})),
      (std::vector<std::uint8_t>{1, 0, 1, 0}));
}

TEST(Semantics, MixedDtypeComparisonUsesThePromotedType) {
  // i64 vs u64 compares in f64 (NumPy's result_type): 2^63-1 and 2^63 are equal there.
  ir::Graph g;
  auto a = input(g, "a", type(i64, {D(3)}));
  auto b = input(g, "b", type(u64, {D(3)}));
  output(g, op(g, Op::Eq, type(boolean, {D(3)}), {a, b}));
  output(g, op(g, Op::Lt, type(boolean, {D(3)}), {a, b}), "lt");
  auto r = ir::interpret(g,
                         {{"a", make<std::int64_t>(i64, {3}, {INT64_MAX, -1, 5})},
                          {"b", make<std::uint64_t>(u64, {3}, {1ull << 63, UINT64_MAX, 5})}},
                         {});
  EXPECT_EQ(values<std::uint8_t>(r[0]), (std::vector<std::uint8_t>{1, 0, 1}));
  EXPECT_EQ(values<std::uint8_t>(r[1]), (std::vector<std::uint8_t>{0, 1, 0}));
  // i8 vs u8 compares in i16: -1 < 255.
  ir::Graph h;
  auto c = input(h, "a", type(i8, {D(1)}));
  auto d = input(h, "b", type(u8, {D(1)}));
  output(h, op(h, Op::Lt, type(boolean, {D(1)}), {c, d}));
  auto r2 = ir::interpret(
      h, {{"a", make<std::int8_t>(i8, {1}, {-1})}, {"b", make<std::uint8_t>(u8, {1}, {255})}}, {});
  EXPECT_EQ(values<std::uint8_t>(r2[0]), std::vector<std::uint8_t>{1});
}

TEST(Graph, ConstsParamsAndSeveralOutputs) {
  // y = x * r + 2.5 ; z = where(x > 0, x, -1) ; h = f16(y) ; s = sum(x)
  ir::Graph g;
  auto x = input(g, "x", type(f32, {S("n")}));
  auto r = param(g, "r", f32);
  auto c = cnst_f(g, f32, 2.5);
  auto zero = cnst_f(g, f32, 0.0);
  auto m1 = cnst_i(g, i64, -1);
  auto m1f = op(g, Op::Cast, type(f32), {m1});
  auto y = op(g, Op::Add, type(f32, {S("n")}), {op(g, Op::Mul, type(f32, {S("n")}), {x, r}), c});
  auto gt = op(g, Op::Gt, type(boolean, {S("n")}), {x, zero});
  auto z = op(g, Op::Where, type(f32, {S("n")}), {gt, x, m1f});
  output(g, y, "y");
  output(g, z, "z");
  output(g, op(g, Op::Cast, type(f16, {S("n")}), {y}), "h");
  output(g, reduce(g, Op::Sum, type(f32), x, {0}), "s");
  output(g, x, "x_again");
  float buf[] = {4.0f, -1.0f, 0.0f, 2.0f};
  Array xv = view(buf + 3, f32, {4}, {-1}); // reversed: 2, 0, -1, 4
  auto res = ir::interpret(g, {{"x", xv}}, {{"r", Scalar(0.5)}});
  ASSERT_EQ(res.size(), 5u);
  EXPECT_EQ(values<float>(res[0]), (std::vector<float>{3.5f, 2.5f, 2.0f, 4.5f}));
  EXPECT_EQ(values<float>(res[1]), (std::vector<float>{2.0f, -1.0f, -1.0f, 4.0f}));
  EXPECT_EQ(res[2].dtype(), f16);
  EXPECT_EQ(values<std::uint16_t>(res[2]),
            (std::vector<std::uint16_t>{0x4300, 0x4100, 0x4000, 0x4480}));
  EXPECT_EQ(res[3].rank(), 0);
  EXPECT_EQ(values<float>(res[3]), std::vector<float>{5.0f});
  // An input returned as an output is a fresh contiguous copy, not the caller's view.
  EXPECT_TRUE(res[4].is_contiguous());
  EXPECT_TRUE(res[4].owns_data());
  EXPECT_EQ(values<float>(res[4]), (std::vector<float>{2.0f, 0.0f, -1.0f, 4.0f}));
}

TEST(Graph, UnsupportedDtypeIsAnInternalError) {
  ir::Graph g;
  auto a = input(g, "a", type(boolean, {D(2)}));
  output(g, op(g, Op::Add, type(boolean, {D(2)}), {a, a}));
  try {
    ir::interpret(g, {{"a", Array::empty(boolean, {2})}}, {});
    FAIL();
  } catch (const Error &e) {
    EXPECT_EQ(e.kind(), ErrorKind::Internal);
    EXPECT_EQ(e.message(), "add is not defined for bool (node %1)");
  }
  ir::Graph h;
  auto b = input(h, "a", type(i32, {D(2)}));
  output(h, op(h, Op::Sqrt, type(i32, {D(2)}), {b}));
  EXPECT_THROW(ir::interpret(h, {{"a", Array::empty(i32, {2})}}, {}), Error);
}

TEST(Graph, DeadNodesAreNotEvaluated) {
  // min of an empty array is an error, but nobody asks for it here.
  ir::Graph g;
  auto a = input(g, "a", type(f64, {S("n")}));
  reduce(g, Op::Min, type(f64), a, {0});
  output(g, reduce(g, Op::Sum, type(f64), a, {0}));
  auto r = ir::interpret(g, {{"a", Array::empty(f64, {0})}}, {});
  EXPECT_EQ(values<double>(r[0]), std::vector<double>{0.0});
}

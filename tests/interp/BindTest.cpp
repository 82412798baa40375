// tests/interp/BindTest.cpp — binding symbolic dims at run time: sizes, and the exact error texts.
#include "Helpers.h"

#include "compiler/ir/Bind.h"

#include <xpr/error.hpp>

#include <gtest/gtest.h>

#include <cmath>

using namespace xpr;
using namespace xpr::test;

namespace {

ir::Graph two_inputs() {
  ir::Graph g;
  auto a = input(g, "a", type(f32, {S("n"), D(3)}));
  auto b = input(g, "b", type(f32, {S("n"), S("m")}));
  output(g, op(g, ir::Op::Add, type(f32, {S("n"), D(3)}), {a, b}));
  return g;
}

std::string bind_error(const ir::Graph &g, const std::map<std::string, Array> &in) {
  try {
    ir::bind_shapes(g, in);
  } catch (const Error &e) {
    EXPECT_EQ(e.kind(), ErrorKind::Runtime);
    return e.message();
  }
  return "no error";
}

} // namespace

TEST(Bind, BindsSymbols) {
  ir::Graph g = two_inputs();
  auto syms = ir::bind_shapes(g, {{"a", Array::empty(f32, {5, 3})},
                                  {"b", Array::empty(f32, {5, 3})},
                                  {"unused", Array::empty(i8, {2})}});
  EXPECT_EQ(syms, (ir::SymbolSizes{{"m", 3}, {"n", 5}}));
  EXPECT_EQ(ir::concrete_shape(type(f64, {S("m"), D(7), S("n")}), syms),
            (std::vector<std::int64_t>{3, 7, 5}));
  EXPECT_EQ(ir::concrete_shape(type(f64), syms), std::vector<std::int64_t>{});
  // Zero-size inputs bind like any other size.
  auto z = ir::bind_shapes(g, {{"a", Array::empty(f32, {0, 3})}, {"b", Array::empty(f32, {0, 3})}});
  EXPECT_EQ(z.at("n"), 0);
}

TEST(Bind, ErrorMessages) {
  ir::Graph g = two_inputs();
  EXPECT_EQ(bind_error(g, {{"a", Array::empty(f32, {5, 3})}}),
            "missing input 'b' (expected f32[n, m])");
  EXPECT_EQ(bind_error(g, {{"a", Array::empty(f64, {5, 3})}, {"b", Array::empty(f32, {5, 3})}}),
            "input 'a': expected dtype f32 (f32[n, 3]), got f64 (f64[5, 3])");
  EXPECT_EQ(bind_error(g, {{"a", Array::empty(f32, {5})}, {"b", Array::empty(f32, {5, 3})}}),
            "input 'a': expected rank 2 (f32[n, 3]), got rank 1 (f32[5])");
  EXPECT_EQ(bind_error(g, {{"a", Array::empty(f32, {5, 4})}, {"b", Array::empty(f32, {5, 3})}}),
            "input 'a': dimension 1 must be 3 (f32[n, 3]), got 4 (f32[5, 4])");
  EXPECT_EQ(bind_error(g, {{"a", Array::empty(f32, {5, 3})}, {"b", Array::empty(f32, {7, 3})}}),
            "input 'b': dimension 0 is n = 7, but 'a' set n = 5");
  ir::Graph g2;
  auto a = input(g2, "a", type(f32, {S("n"), S("n")}));
  output(g2, a);
  EXPECT_EQ(bind_error(g2, {{"a", Array::empty(f32, {2, 3})}}),
            "input 'a': dimension 1 is n = 3, but 'a' set n = 2");
  EXPECT_EQ(bind_error(g2, {{"a", view(nullptr, f32, {0, 0})}}), "no error");
}

TEST(Bind, InterpretReportsBindAndParamErrors) {
  ir::Graph g;
  auto x = input(g, "x", type(f64, {S("n")}));
  auto r = param(g, "r", f64);
  output(g, op(g, ir::Op::Mul, type(f64, {S("n")}), {x, r}));
  try {
    ir::interpret(g, {{"x", Array::empty(f64, {4})}}, {});
    FAIL();
  } catch (const Error &e) {
    EXPECT_EQ(e.kind(), ErrorKind::Runtime);
    EXPECT_EQ(e.message(), "missing param 'r' (expected f64)");
  }
  try {
    ir::interpret(g, {}, {{"r", Scalar(1.0)}});
    FAIL();
  } catch (const Error &e) {
    EXPECT_EQ(e.message(), "missing input 'x' (expected f64[n])");
  }
}

TEST(Bind, ParamsConvertByCastRules) {
  // y = p (rank 0) for params of several dtypes, given as several Scalar kinds.
  struct Case {
    DType t;
    Scalar s;
    std::int64_t want_int;
    double want_float;
  };
  const Case cases[] = {
      {i8, Scalar(300), 44, 0},           // int -> int wraps
      {u8, Scalar(-1.5), 0, 0},           // float -> unsigned saturates at 0
      {i32, Scalar(1e20), 2147483647, 0}, // float -> int saturates
      {i16, Scalar(NAN), 0, 0},           // NaN -> 0
      {u16, Scalar(true), 1, 0},
      {i64, Scalar(18446744073709551615ull), -1, 0},
      {f32, Scalar(0.1), 0, static_cast<float>(0.1)},
      {f64, Scalar(7), 0, 7.0},
      {boolean, Scalar(NAN), 1, 0},
  };
  for (const Case &c : cases) {
    ir::Graph g;
    auto p = param(g, "p", c.t);
    output(g, p);
    auto res = ir::interpret(g, {}, {{"p", c.s}});
    ASSERT_EQ(res.size(), 1u);
    ASSERT_EQ(res[0].dtype(), c.t);
    ASSERT_EQ(res[0].rank(), 0);
    switch (c.t) {
    case DType::I8:
      EXPECT_EQ(*res[0].data_as<std::int8_t>(), c.want_int);
      break;
    case DType::U8:
      EXPECT_EQ(*res[0].data_as<std::uint8_t>(), c.want_int);
      break;
    case DType::I16:
      EXPECT_EQ(*res[0].data_as<std::int16_t>(), c.want_int);
      break;
    case DType::U16:
      EXPECT_EQ(*res[0].data_as<std::uint16_t>(), c.want_int);
      break;
    case DType::I32:
      EXPECT_EQ(*res[0].data_as<std::int32_t>(), c.want_int);
      break;
    case DType::I64:
      EXPECT_EQ(*res[0].data_as<std::int64_t>(), c.want_int);
      break;
    case DType::Bool:
      EXPECT_EQ(*res[0].data_as<std::uint8_t>(), c.want_int);
      break;
    case DType::F32:
      EXPECT_EQ(*res[0].data_as<float>(), c.want_float);
      break;
    case DType::F64:
      EXPECT_EQ(*res[0].data_as<double>(), c.want_float);
      break;
    default:
      FAIL();
    }
  }
  // f64 -> f16 param rounds once: 1 + 2^-11 + 2^-40 is just above an f16 tie.
  ir::Graph g;
  output(g, param(g, "h", f16));
  auto res =
      ir::interpret(g, {}, {{"h", Scalar(1.0 + std::ldexp(1.0, -11) + std::ldexp(1.0, -40))}});
  EXPECT_EQ(*res[0].data_as<std::uint16_t>(), 0x3c01);
}

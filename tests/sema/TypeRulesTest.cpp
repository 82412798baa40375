// tests/sema/TypeRulesTest.cpp — promotion against NumPy's table, result dtypes per TypeRule,
// broadcasting over symbolic dims and reduced shapes.
#include "compiler/ir/TypeRules.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

using namespace xpr;
using namespace xpr::ir;

namespace {

DType dt(const std::string &s) {
  auto t = dtype_from_name(s);
  if (!t) throw std::runtime_error("bad dtype in table: " + s);
  return *t;
}

std::optional<DType> rd(Op op, std::initializer_list<DType> in) {
  std::vector<DType> v(in);
  return result_dtype(op, v);
}

std::vector<Dim> shape(std::initializer_list<const char *> dims) {
  std::vector<Dim> r;
  for (const char *d : dims) {
    if (d[0] >= '0' && d[0] <= '9')
      r.push_back(Dim::fixed(std::stoll(d)));
    else
      r.push_back(Dim::symbol(d));
  }
  return r;
}

std::string str(const std::optional<std::vector<Dim>> &s) {
  if (!s) return "none";
  return to_string(Type{DType::F32, *s});
}

} // namespace

// data/promotion.txt was generated once by gen_promotion_table.py with NumPy (bf16 by xpr's
// documented rule); every one of the 169 pairs must match.
TEST(Promote, MatchesNumPyTable) {
  std::ifstream in(std::string(XPR_TEST_DATA_DIR) + "/data/promotion.txt");
  ASSERT_TRUE(in.is_open());
  std::string line;
  std::vector<std::string> cols;
  int checked = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ss(line);
    std::vector<std::string> words;
    for (std::string w; ss >> w;)
      words.push_back(w);
    if (cols.empty()) {
      cols = words;
      ASSERT_EQ(cols.size(), static_cast<std::size_t>(kNumDTypes));
      continue;
    }
    ASSERT_EQ(words.size(), cols.size() + 1) << line;
    for (std::size_t j = 0; j < cols.size(); ++j) {
      EXPECT_EQ(dtype_name(promote(dt(words[0]), dt(cols[j]))), words[j + 1])
          << words[0] << " with " << cols[j];
      ++checked;
    }
  }
  EXPECT_EQ(checked, kNumDTypes * kNumDTypes);
}

TEST(Promote, SemanticsExamples) {
  EXPECT_EQ(promote(i32, f32), f64);
  EXPECT_EQ(promote(u64, i64), f64);
  EXPECT_EQ(promote(i8, u8), i16);
  EXPECT_EQ(promote(f16, i16), f32);
  EXPECT_EQ(promote(bf16, f16), f32);
  EXPECT_EQ(promote(bf16, i8), bf16);
  EXPECT_EQ(promote(bf16, u16), f32);
  EXPECT_EQ(promote(bf16, f64), f64);
  EXPECT_EQ(promote(boolean, bf16), bf16);
}

TEST(ResultDType, Arith) {
  EXPECT_EQ(rd(Op::Add, {f32, f32}), f32);
  EXPECT_EQ(rd(Op::Mul, {i8, i8}), i8);
  EXPECT_EQ(rd(Op::Pow, {u16, u16}), u16);
  EXPECT_EQ(rd(Op::Add, {boolean, boolean}), std::nullopt);
  EXPECT_EQ(rd(Op::Add, {f32, f64}), std::nullopt); // operands must be promoted first
  EXPECT_EQ(rd(Op::Fmod, {i32, i32}), i32);
}

TEST(ResultDType, Div) {
  EXPECT_EQ(rd(Op::Div, {i32, i32}), f64);
  EXPECT_EQ(rd(Op::Div, {u8, u8}), f64);
  EXPECT_EQ(rd(Op::Div, {f32, f32}), f32);
  EXPECT_EQ(rd(Op::Div, {f16, f16}), f16);
  EXPECT_EQ(rd(Op::Div, {boolean, boolean}), std::nullopt);
}

TEST(ResultDType, FloatFn) {
  EXPECT_EQ(rd(Op::Sqrt, {boolean}), f16);
  EXPECT_EQ(rd(Op::Exp, {i8}), f16);
  EXPECT_EQ(rd(Op::Exp, {u8}), f16);
  EXPECT_EQ(rd(Op::Log, {i16}), f32);
  EXPECT_EQ(rd(Op::Log, {u16}), f32);
  EXPECT_EQ(rd(Op::Sin, {i32}), f64);
  EXPECT_EQ(rd(Op::Sin, {u32}), f64);
  EXPECT_EQ(rd(Op::Sin, {i64}), f64);
  EXPECT_EQ(rd(Op::Sin, {u64}), f64);
  EXPECT_EQ(rd(Op::Tanh, {bf16}), bf16);
  EXPECT_EQ(rd(Op::Atan2, {f32, f32}), f32);
  EXPECT_EQ(rd(Op::Atan2, {i16, i16}), f32);
  EXPECT_EQ(rd(Op::Fma, {f64, f64, f64}), f64);
  EXPECT_EQ(rd(Op::Fma, {f64, f64, f32}), std::nullopt);
}

TEST(ResultDType, SameNumIntOrBoolIntComparePred) {
  EXPECT_EQ(rd(Op::Abs, {i32}), i32);
  EXPECT_EQ(rd(Op::Floor, {i64}), i64); // NumPy >= 2.1: ints unchanged
  EXPECT_EQ(rd(Op::Neg, {boolean}), std::nullopt);
  EXPECT_EQ(rd(Op::Minimum, {f32, f32}), f32);
  EXPECT_EQ(rd(Op::Clip, {i16, i16, i16}), i16);
  EXPECT_EQ(rd(Op::BitAnd, {boolean, boolean}), boolean);
  EXPECT_EQ(rd(Op::BitXor, {u32, u32}), u32);
  EXPECT_EQ(rd(Op::Not, {f32}), std::nullopt);
  EXPECT_EQ(rd(Op::Shl, {i32, i32}), i32);
  EXPECT_EQ(rd(Op::Shr, {boolean, boolean}), std::nullopt);
  EXPECT_EQ(rd(Op::Shl, {f32, f32}), std::nullopt);
  EXPECT_EQ(rd(Op::Lt, {f32, f32}), boolean);
  EXPECT_EQ(rd(Op::Eq, {boolean, boolean}), boolean);
  EXPECT_EQ(rd(Op::IsNan, {f64}), boolean);
  EXPECT_EQ(rd(Op::SignBit, {i8}), boolean);
  EXPECT_EQ(rd(Op::IsInf, {boolean}), std::nullopt);
}

TEST(ResultDType, WhereAndCast) {
  EXPECT_EQ(rd(Op::Where, {boolean, f32, f32}), f32);
  EXPECT_EQ(rd(Op::Where, {i32, f32, f32}), std::nullopt);
  EXPECT_EQ(rd(Op::Where, {boolean, f32, f64}), std::nullopt);
  EXPECT_EQ(rd(Op::Cast, {f32}), std::nullopt);
  EXPECT_EQ(rd(Op::Add, {f32}), std::nullopt); // wrong arity
}

TEST(ResultDType, Reductions) {
  EXPECT_EQ(rd(Op::Sum, {boolean}), i64);
  EXPECT_EQ(rd(Op::Sum, {i8}), i64);
  EXPECT_EQ(rd(Op::Prod, {i32}), i64);
  EXPECT_EQ(rd(Op::Sum, {u8}), u64);
  EXPECT_EQ(rd(Op::Prod, {u64}), u64);
  EXPECT_EQ(rd(Op::Sum, {f16}), f16);
  EXPECT_EQ(rd(Op::Sum, {f32}), f32);
  EXPECT_EQ(rd(Op::Mean, {i32}), f64);
  EXPECT_EQ(rd(Op::Mean, {boolean}), f64);
  EXPECT_EQ(rd(Op::Mean, {f32}), f32);
  EXPECT_EQ(rd(Op::Min, {u16}), u16);
  EXPECT_EQ(rd(Op::Max, {boolean}), boolean);
  EXPECT_EQ(rd(Op::Any, {f64}), boolean);
  EXPECT_EQ(rd(Op::All, {i8}), boolean);
  EXPECT_EQ(rd(Op::ArgMin, {f32}), i64);
  EXPECT_EQ(rd(Op::ArgMax, {u8}), i64);
}

TEST(Broadcast, Shapes) {
  EXPECT_EQ(str(broadcast(shape({"n"}), shape({"n"}))), "f32[n]");
  EXPECT_EQ(str(broadcast(shape({"n"}), shape({}))), "f32[n]");
  EXPECT_EQ(str(broadcast(shape({}), shape({"n", "3"}))), "f32[n, 3]");
  EXPECT_EQ(str(broadcast(shape({"n", "1"}), shape({"m"}))), "f32[n, m]");
  EXPECT_EQ(str(broadcast(shape({"1", "m"}), shape({"n", "1"}))), "f32[n, m]");
  EXPECT_EQ(str(broadcast(shape({"n", "3"}), shape({"3"}))), "f32[n, 3]");
  EXPECT_EQ(str(broadcast(shape({"5", "1"}), shape({"1", "4"}))), "f32[5, 4]");
  EXPECT_EQ(str(broadcast(shape({"0"}), shape({"1"}))), "f32[0]");
  // Symbols never broadcast: n and m may differ, and n may be 1 only at run time.
  EXPECT_EQ(str(broadcast(shape({"n"}), shape({"m"}))), "none");
  EXPECT_EQ(str(broadcast(shape({"n"}), shape({"3"}))), "none");
  EXPECT_EQ(str(broadcast(shape({"3"}), shape({"4"}))), "none");
  EXPECT_EQ(str(broadcast(shape({"n", "m"}), shape({"n"}))), "none");
}

TEST(ReducedShape, AxesAndKeepdims) {
  auto in = shape({"n", "m", "3"});
  std::vector<int> a1{1}, a02{0, 2}, all{0, 1, 2}, none{};
  EXPECT_EQ(to_string(Type{f32, reduced_shape(in, a1, false)}), "f32[n, 3]");
  EXPECT_EQ(to_string(Type{f32, reduced_shape(in, a1, true)}), "f32[n, 1, 3]");
  EXPECT_EQ(to_string(Type{f32, reduced_shape(in, a02, false)}), "f32[m]");
  EXPECT_EQ(to_string(Type{f32, reduced_shape(in, all, false)}), "f32[]");
  EXPECT_EQ(to_string(Type{f32, reduced_shape(in, all, true)}), "f32[1, 1, 1]");
  EXPECT_EQ(to_string(Type{f32, reduced_shape(in, none, false)}), "f32[n, m, 3]");
}

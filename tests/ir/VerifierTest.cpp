// tests/ir/VerifierTest.cpp — one test per verifier invariant: a minimal graph that breaks it,
// and the exact internal-error message naming the broken node.
#include "IRTestUtil.h"

#include <gtest/gtest.h>

namespace xpr::ir::test {
namespace {

/// The message of the internal error verify() must raise for `g`.
std::string verify_error(const Graph &g) {
  try {
    verify(g);
  } catch (const Error &e) {
    EXPECT_EQ(e.kind(), ErrorKind::Internal);
    return e.message();
  }
  ADD_FAILURE() << "verify() accepted:\n" << print(g);
  return {};
}

TEST(IRVerify, AcceptsAValidGraph) {
  Builder b;
  auto x = b.input("x", "f32[n]");
  auto r = b.param("r", DType::F32);
  auto m = b.op(Op::Mul, {x, r}, "f32[n]");
  b.out("y", m);
  EXPECT_NO_THROW(verify(b.g));
}

TEST(IRVerify, InvalidOpValue) {
  Builder b;
  b.input("x", "f32[n]");
  b.g.nodes[0].op = static_cast<Op>(200);
  EXPECT_EQ(verify_error(b.g), "%0 = <op 200> : f32[n]: invalid op value 200");
}

TEST(IRVerify, InvalidDtypeValue) {
  Builder b;
  b.input("x", "f32[n]");
  b.g.nodes[0].type.dtype = static_cast<DType>(77);
  EXPECT_EQ(verify_error(b.g), "%0 = input \"x\" : <dtype 77>[n]: invalid dtype value 77");
}

TEST(IRVerify, RankAboveEight) {
  Builder b;
  b.input("x", "f32[1, 1, 1, 1, 1, 1, 1, 1, 1]");
  EXPECT_EQ(verify_error(b.g),
            "%0 = input \"x\" : f32[1, 1, 1, 1, 1, 1, 1, 1, 1]: rank 9 exceeds the maximum of 8");
}

TEST(IRVerify, DimsAreIdentifiersOrNonNegative) {
  Builder b;
  b.input("x", "f32[n]");
  b.g.nodes[0].type.dims[0].sym = "n+1";
  EXPECT_EQ(verify_error(b.g),
            "%0 = input \"x\" : f32[n+1]: dimension symbol 'n+1' is not an identifier");
  b.g.nodes[0].type.dims[0] = Dim::fixed(-2);
  EXPECT_EQ(verify_error(b.g), "%0 = input \"x\" : f32[-2]: negative dimension -2");
}

TEST(IRVerify, Arity) {
  Builder b;
  auto x = b.input("x", "f32[n]");
  b.op(Op::Add, {x}, "f32[n]");
  EXPECT_EQ(verify_error(b.g), "%1 = add %0 : f32[n]: 'add' takes 2 operand(s), has 1");
}

TEST(IRVerify, LeafWithOperands) {
  Builder b;
  auto x = b.input("x", "f32[n]");
  b.input("y", "f32[n]");
  b.g.nodes[1].operands = {x};
  EXPECT_EQ(verify_error(b.g), "%1 = input \"y\" %0 : f32[n]: 'input' takes 0 operand(s), has 1");
}

TEST(IRVerify, TopologicalOrder) {
  Builder b;
  b.input("x", "f32[n]");
  b.op(Op::Neg, {1}, "f32[n]"); // refers to itself
  EXPECT_EQ(verify_error(b.g), "%1 = neg %1 : f32[n]: operand 0 is %1, which is not an earlier "
                               "node (operands must precede their user)");
  b.g.nodes[1].operands = {-1};
  EXPECT_EQ(verify_error(b.g), "%1 = neg %-1 : f32[n]: operand 0 is %-1, which is not an earlier "
                               "node (operands must precede their user)");
}

TEST(IRVerify, InputNeedsName) {
  Builder b;
  b.input("", "f32[n]");
  EXPECT_EQ(verify_error(b.g), "%0 = input \"\" : f32[n]: an input needs a name");
}

TEST(IRVerify, OneLeafPerName) {
  Builder b;
  b.input("x", "f32[n]");
  b.param("r", DType::F32);
  b.input("x", "f32[n]");
  EXPECT_EQ(verify_error(b.g),
            "%2 = input \"x\" : f32[n]: a second leaf named \"x\" (the first is %0)");
  b.g.nodes[2].name = "r";
  EXPECT_EQ(verify_error(b.g),
            "%2 = input \"r\" : f32[n]: a second leaf named \"r\" (the first is %1)");
}

TEST(IRVerify, ParamIsScalar) {
  Builder b;
  b.param("r", DType::F32);
  b.g.nodes[0].type = ty("f32[3]");
  EXPECT_EQ(verify_error(b.g), "%0 = param \"r\" : f32[3]: a param is a scalar (rank 0)");
}

TEST(IRVerify, ConstIsScalar) {
  Builder b;
  b.cf(1.0);
  b.g.nodes[0].type = ty("f32[3]");
  EXPECT_EQ(verify_error(b.g), "%0 = const 1.0 : f32[3]: a const is a scalar (rank 0)");
}

TEST(IRVerify, ConstValueDtypeMatchesNode) {
  Builder b;
  b.cf(1.0);
  b.g.nodes[0].value.dtype = DType::F64;
  EXPECT_EQ(verify_error(b.g),
            "%0 = const 1.0 : f32[]: the const value's dtype differs from the node's dtype");
}

TEST(IRVerify, ConstValueFitsDtype) {
  Builder b;
  b.cu(300, DType::U8);
  EXPECT_EQ(verify_error(b.g), "%0 = const 300 : u8[]: the const value does not fit u8");
  Builder c;
  c.ci(-129, DType::I8);
  EXPECT_EQ(verify_error(c.g), "%0 = const -129 : i8[]: the const value does not fit i8");
  Builder d;
  d.cf(0.1, DType::F32); // 0.1 as a double is not an f32 value
  EXPECT_EQ(verify_error(d.g), "%0 = const 0.1 : f32[]: the const value does not fit f32");
  Builder e;
  e.cf(1e39, DType::F32);
  EXPECT_EQ(verify_error(e.g), "%0 = const 1e+39 : f32[]: the const value does not fit f32");
  Builder f;
  f.cf(2049.0, DType::F16);
  EXPECT_EQ(verify_error(f.g), "%0 = const 2049.0 : f16[]: the const value does not fit f16");
  Builder h;
  h.cf(1.0 + 1.0 / 256, DType::BF16);
  EXPECT_EQ(verify_error(h.g), "%0 = const 1.00390625 : bf16[]: the const value does not fit bf16");
  // Edge values that do fit.
  Builder ok;
  ok.ci(INT64_MIN, DType::I64);
  ok.cu(UINT64_MAX, DType::U64);
  ok.ci(-128, DType::I8);
  ok.cu(65535, DType::U16);
  ok.cf(65504.0, DType::F16);
  ok.cf(f16_bits_to_double(1), DType::F16);
  ok.cf(bf16_bits_to_double(0x7f7f), DType::BF16);
  ok.cf(-0.0, DType::F32);
  ok.cf(NAN, DType::F32);
  ok.cf(-INFINITY, DType::F16);
  EXPECT_NO_THROW(verify(ok.g));
}

TEST(IRVerify, NameOnlyOnLeaves) {
  Builder b;
  auto x = b.input("x", "f32[n]");
  b.op(Op::Neg, {x}, "f32[n]");
  b.g.nodes[1].name = "oops";
  EXPECT_EQ(verify_error(b.g), "%1 = neg %0 : f32[n]: only input and param nodes carry a name");
}

TEST(IRVerify, AxesOnlyOnReductions) {
  Builder b;
  auto x = b.input("x", "f32[n]");
  b.op(Op::Neg, {x}, "f32[n]");
  b.g.nodes[1].axes = {0};
  EXPECT_EQ(verify_error(b.g), "%1 = neg %0 : f32[n]: only reductions carry axes and keepdims");
}

TEST(IRVerify, BroadcastMismatch) {
  Builder b;
  auto x = b.input("x", "f32[n]");
  auto y = b.input("y", "f32[m]");
  b.op(Op::Add, {x, y}, "f32[n]");
  EXPECT_EQ(verify_error(b.g), "%2 = add %0, %1 : f32[n]: operand 1 has shape f32[m] which does "
                               "not broadcast with f32[n]");
}

TEST(IRVerify, ResultShapeIsTheBroadcast) {
  Builder b;
  auto x = b.input("x", "f32[n, 1]");
  auto y = b.input("y", "f32[3]");
  b.op(Op::Mul, {x, y}, "f32[n, 1]");
  EXPECT_EQ(verify_error(b.g), "%2 = mul %0, %1 : f32[n, 1]: the result has shape f32[n, 1] but "
                               "the operands broadcast to f32[n, 3]");
}

TEST(IRVerify, ResultDtypeFollowsTheRule) {
  Builder b;
  auto x = b.input("x", "i32[n]");
  auto y = b.input("y", "f32[n]");
  b.op(Op::Add, {x, y}, "f32[n]"); // NumPy: i32 + f32 -> f64
  EXPECT_EQ(verify_error(b.g), "%2 = add %0, %1 : f32[n]: the result dtype is f32 but 'add' of "
                               "i32, f32 gives f64");
  Builder c;
  auto i = c.input("i", "i32[n]");
  c.op(Op::Div, {i, i}, "i32[n]"); // true division of ints is f64
  EXPECT_EQ(verify_error(c.g),
            "%1 = div %0, %0 : i32[n]: the result dtype is i32 but 'div' of i32, i32 gives f64");
}

TEST(IRVerify, RuleRejectsOperandDtypes) {
  Builder b;
  auto x = b.input("x", "f32[n]");
  b.op(Op::Shl, {x, x}, "f32[n]");
  EXPECT_EQ(verify_error(b.g), "%1 = shl %0, %0 : f32[n]: 'shl' (rule Int) does not accept "
                               "operands of dtype f32, f32");
  Builder c;
  auto p = c.input("p", "bool[n]");
  c.op(Op::Add, {p, p}, "bool[n]"); // arithmetic on two bools is a type error
  EXPECT_EQ(verify_error(c.g), "%1 = add %0, %0 : bool[n]: 'add' (rule Arith) does not accept "
                               "operands of dtype bool, bool");
}

TEST(IRVerify, WhereConditionIsBool) {
  Builder b;
  auto x = b.input("x", "f32[n]");
  b.op(Op::Where, {x, x, x}, "f32[n]");
  EXPECT_EQ(verify_error(b.g),
            "%1 = where %0, %0, %0 : f32[n]: operand 0 (the condition) must be bool, is f32");
  Builder c; // value operands promote: i8 with u8 -> i16
  auto cond = c.input("c", "bool[n]");
  auto s = c.input("s", "i8[n]");
  auto u = c.input("u", "u8[]");
  c.op(Op::Where, {cond, s, u}, "i16[n]");
  EXPECT_NO_THROW(verify(c.g));
}

TEST(IRVerify, HalvesMustBeWidened) {
  Builder b;
  auto h = b.input("h", "f16[n]");
  b.op(Op::Exp, {h}, "f16[n]");
  EXPECT_EQ(verify_error(b.g), "%1 = exp %0 : f16[n]: f16 arithmetic must be widened to f32 "
                               "(operand 0 is f16[n])");
  Builder c; // sqrt of an i8 is f16 by NumPy's rule: sema must cast to f32 first
  auto i = c.input("i", "i8[n]");
  c.op(Op::Sqrt, {i}, "f16[n]");
  EXPECT_EQ(verify_error(c.g), "%1 = sqrt %0 : f16[n]: f16 arithmetic must be widened to f32 "
                               "(the result is f16[n])");
  Builder d;
  auto bh = d.input("b", "bf16[n]");
  d.reduce(Op::Sum, bh, {0}, false, "bf16[]");
  EXPECT_EQ(verify_error(d.g), "%1 = sum %0 {axes = [0], keepdims = false} : bf16[]: bf16 "
                               "arithmetic must be widened to f32 (operand 0 is bf16[n])");
  Builder ok; // halves on leaves and casts are fine
  auto in = ok.input("h", "f16[n]");
  auto w = ok.op(Op::Cast, {in}, "f32[n]");
  auto e = ok.op(Op::Exp, {w}, "f32[n]");
  auto back = ok.op(Op::Cast, {e}, "bf16[n]");
  ok.out("y", back);
  EXPECT_NO_THROW(verify(ok.g));
}

TEST(IRVerify, CastKeepsShape) {
  Builder b;
  auto x = b.input("x", "f32[n]");
  b.op(Op::Cast, {x}, "i32[m]");
  EXPECT_EQ(verify_error(b.g), "%1 = cast %0 : i32[m]: a cast keeps its operand's shape f32[n], "
                               "but the result is i32[m]");
}

TEST(IRVerify, ReduceAxesInRange) {
  Builder b;
  auto x = b.input("x", "f32[n, m]");
  b.reduce(Op::Sum, x, {2}, false, "f32[n, m]");
  EXPECT_EQ(verify_error(b.g), "%1 = sum %0 {axes = [2], keepdims = false} : f32[n, m]: axis 2 is "
                               "out of range for the operand f32[n, m]");
}

TEST(IRVerify, ReduceAxesSortedUnique) {
  Builder b;
  auto x = b.input("x", "f32[n, m]");
  b.reduce(Op::Sum, x, {1, 0}, false, "f32[]");
  EXPECT_EQ(verify_error(b.g), "%1 = sum %0 {axes = [1, 0], keepdims = false} : f32[]: axes must "
                               "be sorted and unique");
  b.g.nodes[1].axes = {1, 1};
  EXPECT_EQ(verify_error(b.g), "%1 = sum %0 {axes = [1, 1], keepdims = false} : f32[]: axes must "
                               "be sorted and unique");
}

TEST(IRVerify, ReduceShape) {
  Builder b;
  auto x = b.input("x", "f32[n, m]");
  b.reduce(Op::Max, x, {1}, true, "f32[n]");
  EXPECT_EQ(verify_error(b.g), "%1 = max %0 {axes = [1], keepdims = true} : f32[n]: the result "
                               "has shape f32[n] but reducing f32[n, m] gives f32[n, 1]");
}

TEST(IRVerify, ReduceDtype) {
  Builder b;
  auto x = b.input("x", "i8[n]");
  b.reduce(Op::Sum, x, {0}, false, "i8[]"); // sums of signed ints accumulate in i64
  EXPECT_EQ(verify_error(b.g), "%1 = sum %0 {axes = [0], keepdims = false} : i8[]: the result "
                               "dtype is i8 but 'sum' of i8 gives i64");
}

TEST(IRVerify, OutputRefersToANode) {
  Builder b;
  b.input("x", "f32[n]");
  b.out("y", 1);
  EXPECT_EQ(verify_error(b.g), "output 0 (\"y\"): refers to %1, which is not a node");
}

TEST(IRVerify, OutputNeedsName) {
  Builder b;
  auto x = b.input("x", "f32[n]");
  b.out("", x);
  EXPECT_EQ(verify_error(b.g), "output 0 (\"\"): an output needs a name");
}

TEST(IRVerify, OutputNamesUnique) {
  Builder b;
  auto x = b.input("x", "f32[n]");
  b.out("y", x);
  b.out("y", x);
  EXPECT_EQ(verify_error(b.g), "output 1 (\"y\"): the name is already used by output 0");
}

TEST(IRVerify, RenderedMessageSaysItIsABug) {
  Builder b;
  b.input("", "f32[]");
  try {
    verify(b.g);
    FAIL();
  } catch (const Error &e) {
    EXPECT_EQ(std::string(e.what()), "internal error: %0 = input \"\" : f32[]: an input needs a "
                                     "name\nnote: this is a bug in xpr; please report it");
  }
}

} // namespace
} // namespace xpr::ir::test

// tests/passes/PassesTest.cpp — golden tests: IR text in, one pass, exact IR text out.
#include "compiler/ir/Graph.h"
#include "compiler/ir/Interpreter.h"
#include "compiler/passes/CSE.h"
#include "compiler/passes/ConstantFold.h"
#include "compiler/passes/DCE.h"
#include "compiler/passes/Pipeline.h"
#include "compiler/passes/Simplify.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

namespace xpr::passes {
namespace {

// Runs `pass` on the parsed text, verifies the result, and returns it printed.
template <class Pass> std::string run(Pass pass, const std::string &text) {
  ir::Graph g = ir::parse(text);
  ir::verify(g);
  ir::Graph r = pass(g);
  ir::verify(r);
  return ir::print(r);
}

// Compact golden text: the lines of a graph body, indented as ir::print does.
std::string graph(std::initializer_list<const char *> lines) {
  std::string s = "graph {\n";
  for (const char *l : lines) s += std::string("  ") + l + "\n";
  return s + "}\n";
}

TEST(ConstantFold, FoldsArithmeticOnConstants) {
  auto in = graph({"%0 = input \"a\" : f32[n]", "%1 = const 2.0 : f32[]", "%2 = const 3.0 : f32[]",
                   "%3 = mul %1, %2 : f32[]", "%4 = add %0, %3 : f32[n]", "output \"y\" = %4"});
  EXPECT_EQ(run(fold_constants, in),
            graph({"%0 = input \"a\" : f32[n]", "%1 = const 2.0 : f32[]", "%2 = const 3.0 : f32[]",
                   "%3 = const 6.0 : f32[]", "%4 = add %0, %3 : f32[n]", "output \"y\" = %4"}));
}

TEST(ConstantFold, IntegerSemanticsOfTheInterpreter) {
  // Wrap-around, floor division, Python modulo, division by zero: all as docs/semantics.md.
  auto in = graph({"%0 = const 2147483647 : i32[]", "%1 = const 1 : i32[]",
                   "%2 = add %0, %1 : i32[]", "%3 = const -7 : i32[]", "%4 = const 2 : i32[]",
                   "%5 = floordiv %3, %4 : i32[]", "%6 = mod %3, %4 : i32[]",
                   "%7 = const 0 : i32[]", "%8 = floordiv %3, %7 : i32[]",
                   "output \"w\" = %2", "output \"f\" = %5", "output \"m\" = %6",
                   "output \"z\" = %8"});
  auto out = run(fold_constants, in);
  EXPECT_NE(out.find("%2 = const -2147483648 : i32[]"), std::string::npos) << out;
  EXPECT_NE(out.find("%5 = const -4 : i32[]"), std::string::npos) << out;
  EXPECT_NE(out.find("%6 = const 1 : i32[]"), std::string::npos) << out;
  EXPECT_NE(out.find("%8 = const 0 : i32[]"), std::string::npos) << out;
}

TEST(ConstantFold, FloatSpecialValuesAndCasts) {
  auto in = graph({"%0 = const -0.0 : f64[]", "%1 = sqrt %0 : f64[]", "%2 = const 0.0 : f64[]",
                   "%3 = const 1.0 : f64[]", "%4 = div %3, %2 : f64[]", "%5 = const 300.5 : f64[]",
                   "%6 = cast %5 : u8[]", "%7 = const nan : f64[]", "%8 = cast %7 : i32[]",
                   "output \"s\" = %1", "output \"inf\" = %4", "output \"sat\" = %6",
                   "output \"nan\" = %8"});
  auto out = run(fold_constants, in);
  EXPECT_NE(out.find("%1 = const -0.0 : f64[]"), std::string::npos) << out;
  EXPECT_NE(out.find("%4 = const inf : f64[]"), std::string::npos) << out;
  EXPECT_NE(out.find("%6 = const 255 : u8[]"), std::string::npos) << out;
  EXPECT_NE(out.find("%8 = const 0 : i32[]"), std::string::npos) << out;
}

TEST(ConstantFold, LeavesShapedValuesAndReductionsAlone) {
  auto in = graph({"%0 = input \"a\" : f32[n]", "%1 = neg %0 : f32[n]", "%2 = const 1.0 : f32[]",
                   "%3 = sum %2 {axes = [], keepdims = false} : f32[]", "output \"y\" = %1",
                   "output \"s\" = %3"});
  EXPECT_EQ(run(fold_constants, in), in);
}

TEST(CSE, MergesEqualNodesButNotDifferentZeros) {
  auto in = graph({"%0 = input \"a\" : f64[n]", "%1 = exp %0 : f64[n]", "%2 = exp %0 : f64[n]",
                   "%3 = const 0.0 : f64[]", "%4 = const -0.0 : f64[]", "%5 = add %1, %3 : f64[n]",
                   "%6 = add %2, %4 : f64[n]", "%7 = const 0.0 : f64[]", "%8 = add %2, %7 : f64[n]",
                   "output \"x\" = %5", "output \"y\" = %6", "output \"z\" = %8"});
  EXPECT_EQ(run(eliminate_common_subexpressions, in),
            graph({"%0 = input \"a\" : f64[n]", "%1 = exp %0 : f64[n]", "%2 = const 0.0 : f64[]",
                   "%3 = const -0.0 : f64[]", "%4 = add %1, %2 : f64[n]", "%5 = add %1, %3 : f64[n]",
                   "output \"x\" = %4", "output \"y\" = %5", "output \"z\" = %4"}));
}

TEST(CSE, DistinguishesReductionAxes) {
  auto in = graph({"%0 = input \"a\" : f64[n, m]", "%1 = sum %0 {axes = [0], keepdims = false} : f64[m]",
                   "%2 = sum %0 {axes = [1], keepdims = false} : f64[n]",
                   "%3 = sum %0 {axes = [0], keepdims = false} : f64[m]", "output \"x\" = %1",
                   "output \"y\" = %2", "output \"z\" = %3"});
  auto out = run(eliminate_common_subexpressions, in);
  EXPECT_NE(out.find("output \"z\" = %1"), std::string::npos) << out;
  EXPECT_NE(out.find("%2 = sum %0 {axes = [1]"), std::string::npos) << out;
}

TEST(DCE, RemovesUnusedNodesKeepsLeaves) {
  auto in = graph({"%0 = input \"a\" : f32[n]", "%1 = input \"unused\" : f32[n]",
                   "%2 = param \"p\" : f32[]", "%3 = exp %0 : f32[n]", "%4 = sin %0 : f32[n]",
                   "%5 = const 2.0 : f32[]", "output \"y\" = %4"});
  EXPECT_EQ(run(eliminate_dead_code, in),
            graph({"%0 = input \"a\" : f32[n]", "%1 = input \"unused\" : f32[n]",
                   "%2 = param \"p\" : f32[]", "%3 = sin %0 : f32[n]", "output \"y\" = %3"}));
}

TEST(Simplify, FloatIdentitiesThatAreExact) {
  // x*1, 1*x, x/1, x-(+0), x+(-0), --x all disappear.
  auto in = graph({"%0 = input \"x\" : f32[n]", "%1 = const 1.0 : f32[]", "%2 = mul %0, %1 : f32[n]",
                   "%3 = mul %1, %2 : f32[n]", "%4 = div %3, %1 : f32[n]", "%5 = const 0.0 : f32[]",
                   "%6 = sub %4, %5 : f32[n]", "%7 = const -0.0 : f32[]", "%8 = add %6, %7 : f32[n]",
                   "%9 = add %7, %8 : f32[n]", "%10 = neg %9 : f32[n]", "%11 = neg %10 : f32[n]",
                   "output \"y\" = %11"});
  auto out = run([](const ir::Graph &g) { return eliminate_dead_code(simplify(g)); }, in);
  EXPECT_EQ(out, graph({"%0 = input \"x\" : f32[n]", "output \"y\" = %0"}));
}

TEST(Simplify, FloatRewritesThatWouldChangeBitsAreNotDone) {
  // x + (+0): -0 + +0 = +0.  x - (-0): same.  x * 0: NaN and -0.  x ** 0.5: pow(-0, .5) = +0
  // but sqrt(-0) = -0.  x ** 3: two roundings.
  auto in = graph({"%0 = input \"x\" : f64[n]", "%1 = const 0.0 : f64[]", "%2 = add %0, %1 : f64[n]",
                   "%3 = const -0.0 : f64[]", "%4 = sub %2, %3 : f64[n]", "%5 = mul %4, %1 : f64[n]",
                   "%6 = const 0.5 : f64[]", "%7 = pow %5, %6 : f64[n]", "%8 = const 3.0 : f64[]",
                   "%9 = pow %7, %8 : f64[n]", "output \"y\" = %9"});
  EXPECT_EQ(run(simplify, in), in);
}

TEST(Simplify, PowersAndExactReciprocals) {
  auto in = graph({"%0 = input \"x\" : f64[n]", "%1 = const 2.0 : f64[]", "%2 = pow %0, %1 : f64[n]",
                   "%3 = const 4.0 : f64[]", "%4 = div %2, %3 : f64[n]", "%5 = const 3.0 : f64[]",
                   "%6 = div %4, %5 : f64[n]", "output \"y\" = %6"});
  auto out = run([](const ir::Graph &g) { return eliminate_dead_code(simplify(g)); }, in);
  EXPECT_EQ(out, graph({"%0 = input \"x\" : f64[n]", "%1 = mul %0, %0 : f64[n]",
                        "%2 = const 0.25 : f64[]", "%3 = mul %1, %2 : f64[n]",
                        "%4 = const 3.0 : f64[]", "%5 = div %3, %4 : f64[n]", "output \"y\" = %5"}));
}

TEST(Simplify, IntegerRules) {
  auto in = graph({"%0 = input \"x\" : i32[n]", "%1 = const 0 : i32[]", "%2 = add %1, %0 : i32[n]",
                   "%3 = const 3 : i32[]", "%4 = pow %2, %3 : i32[n]", "%5 = param \"p\" : i32[]",
                   "%6 = mul %5, %1 : i32[]", "%7 = mul %0, %1 : i32[n]", "output \"c\" = %4",
                   "output \"z\" = %6", "output \"keep\" = %7"});
  auto out = run([](const ir::Graph &g) { return eliminate_dead_code(simplify(g)); }, in);
  // x*0 of a shaped value stays: a rank-0 constant cannot replace it.
  EXPECT_EQ(out, graph({"%0 = input \"x\" : i32[n]", "%1 = const 0 : i32[]", "%2 = mul %0, %0 : i32[n]",
                        "%3 = mul %2, %0 : i32[n]", "%4 = param \"p\" : i32[]",
                        "%5 = const 0 : i32[]", "%6 = mul %0, %1 : i32[n]", "output \"c\" = %3",
                        "output \"z\" = %5", "output \"keep\" = %6"}));
}

TEST(Simplify, DoesNotChangeTypes) {
  // i32 x + f64 0.0 is an f64 result: x cannot replace it.
  auto in = graph({"%0 = input \"x\" : i32[n]", "%1 = const -0.0 : f64[]", "%2 = add %0, %1 : f64[n]",
                   "output \"y\" = %2"});
  EXPECT_EQ(run(simplify, in), in);
}

// Simplification against the oracle: every rewritten graph computes the same bits.
TEST(Simplify, AgreesWithInterpreterOnSpecialValues) {
  auto text = graph({"%0 = input \"x\" : f64[n]", "%1 = const 1.0 : f64[]", "%2 = mul %0, %1 : f64[n]",
                     "%3 = const -0.0 : f64[]", "%4 = add %2, %3 : f64[n]", "%5 = const 8.0 : f64[]",
                     "%6 = div %4, %5 : f64[n]", "%7 = neg %6 : f64[n]", "%8 = neg %7 : f64[n]",
                     "%9 = const 2.0 : f64[]", "%10 = pow %8, %9 : f64[n]",
                     "output \"a\" = %8", "output \"b\" = %10"});
  ir::Graph g = ir::parse(text);
  ir::Graph s = simplify(g);
  ASSERT_NE(ir::print(s), ir::print(g));
  std::vector<double> xs = {0.0, -0.0, 1.0, -3.5, 1e-310, -1e308, INFINITY, -INFINITY, NAN, 0.1};
  std::int64_t n = static_cast<std::int64_t>(xs.size());
  Array x = Array::view(xs.data(), DType::F64, std::span<const std::int64_t>(&n, 1));
  auto r1 = ir::interpret(g, {{"x", x}}, {});
  auto r2 = ir::interpret(s, {{"x", x}}, {});
  ASSERT_EQ(r1.size(), 2u);
  for (std::size_t o = 0; o < 2; ++o)
    for (std::int64_t i = 0; i < n; ++i) {
      double a = r1[o].data_as<double>()[i], b = r2[o].data_as<double>()[i];
      if (std::isnan(a)) {
        EXPECT_TRUE(std::isnan(b));
      } else {
        EXPECT_EQ(std::memcmp(&a, &b, sizeof a), 0) << "output " << o << " x=" << xs[i];
      }
    }
}

TEST(Pipeline, DumpsEveryStageAndVerifies) {
  auto in = graph({"%0 = input \"a\" : f32[n]", "%1 = const 1.0 : f32[]", "%2 = const 2.0 : f32[]",
                   "%3 = add %1, %1 : f32[]", "%4 = mul %0, %3 : f32[n]", "%5 = div %4, %2 : f32[n]",
                   "output \"y\" = %5"});
  std::vector<std::string> stages;
  std::string fused;
  PipelineOptions opts;
  opts.verify = true;
  Plan p = lower_to_plan(ir::parse(in), opts, [&](std::string_view st, std::string_view text) {
    stages.emplace_back(st);
    if (st == "fused") fused = text;
  });
  EXPECT_EQ(stages, (std::vector<std::string>{"input", "fold", "simplify", "fold2", "cse", "dce",
                                              "fused"}));
  EXPECT_EQ(ir::print(p.graph),
            graph({"%0 = input \"a\" : f32[n]", "%1 = const 2.0 : f32[]", "%2 = mul %0, %1 : f32[n]",
                   "%3 = const 0.5 : f32[]", "%4 = mul %2, %3 : f32[n]", "output \"y\" = %4"}));
  EXPECT_EQ(p.kernel_count(), 1);
  EXPECT_NE(fused.find("kernel k0 over [n]"), std::string::npos) << fused;
}

} // namespace
} // namespace xpr::passes

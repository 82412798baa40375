// RobustnessTest.cpp — each limit and each class of hostile input gives the documented error.
//
// The inputs are the acceptance list of issues 2 and 10: 100,000-deep nesting, a 10 MB
// expression, invalid UTF-8, NUL bytes, huge numeric literals, unknown names, a 100k-statement
// script, deeply nested IR text, a 1M-node IR graph, and the Array limits (rank, element-count
// overflow, allocation failure). Each goes through the public entry point a user would call
// (compile_expression / compile_script / ir::parse / Array::empty) and asserts the exact error.
// Times are not asserted (sanitizer and debug builds vary by 10x); that each case finishes at all
// under ctest's timeout is the bound.
#include "compiler/ir/Graph.h"
#include "compiler/passes/Pipeline.h"
#include "frontend/Frontend.h"

#include <xpr/array.hpp>
#include <xpr/error.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

// Allocation failure is part of the contract (Array::empty → Error(Limit)); under ASan a huge
// request would otherwise abort the process before operator new can return null.
extern "C" const char *__asan_default_options() { return "allocator_may_return_null=1"; }

using namespace xpr;

namespace {

struct Outcome {
  bool threw = false;
  ErrorKind kind = ErrorKind::Internal;
  std::string message, what;
  std::uint32_t line = 0, col = 0;
};

template <class F> Outcome run(F &&f) {
  Outcome o;
  try {
    f();
  } catch (const Error &e) {
    o.threw = true;
    o.kind = e.kind();
    o.message = e.message();
    o.what = e.what();
    o.line = e.location().line;
    o.col = e.location().col;
  }
  return o;
}

std::string repeat(std::string_view s, std::size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (std::size_t i = 0; i < n; ++i)
    out += s;
  return out;
}

std::vector<fe::Decl> decls(const std::string &text) {
  return fe::parse_decls(SourceFile("<decls>", text));
}

Outcome expr(const std::string &text, const std::string &decl_text = "a: f32[n], b: f32[n]") {
  std::vector<fe::Decl> d = decls(decl_text);
  return run([&] { (void)fe::compile_expression(SourceFile("<expr>", text), d); });
}

Outcome script(const std::string &text) {
  return run([&] { (void)fe::compile_script(SourceFile("s.xpr", text)); });
}

Outcome ir_text(const std::string &text) {
  return run([&] { ir::verify(ir::parse(text, "g.ir")); });
}

} // namespace

// ---- the front end ------------------------------------------------------------------------

TEST(Robustness, HundredThousandDeepParentheses) {
  Outcome o = expr(repeat("(", 100'000) + "a" + repeat(")", 100'000));
  EXPECT_EQ(o.kind, ErrorKind::Limit);
  EXPECT_EQ(o.message, "expression nested too deeply (limit 256)");
  EXPECT_EQ(o.line, 1u);
  EXPECT_EQ(o.col, 257u);
  o = script("input a: f32[n]\noutput y = " + repeat("sqrt(", 100'000) + "a" +
             repeat(")", 100'000) + "\n");
  EXPECT_EQ(o.kind, ErrorKind::Limit);
  EXPECT_EQ(o.message, "expression nested too deeply (limit 256)");
  EXPECT_EQ(o.line, 2u);
  EXPECT_EQ(o.col, 12u + 5u * 256u + 4u); // the 257th '('
}

TEST(Robustness, HundredThousandDeepUnaryAndPower) {
  EXPECT_EQ(expr(repeat("-", 100'000) + "a").message, "expression nested too deeply (limit 256)");
  EXPECT_EQ(expr("a" + repeat("**a", 100'000)).message, "expression nested too deeply (limit 256)");
}

TEST(Robustness, TenMegabyteFlatChainIsRefused) {
  Outcome o = expr("a" + repeat("+a", 5'000'000)); // 10 MB
  EXPECT_EQ(o.kind, ErrorKind::Limit);
  EXPECT_EQ(o.message, "expression is too deep: more than 2048 levels of operators");
  EXPECT_EQ(o.col, 2u * 2048u);
}

TEST(Robustness, TenMegabyteBalancedExpressionCompiles) {
  // A valid 10 MB expression: a balanced sum of 2^17 uses of one long name (nesting 17, 262k
  // syntax nodes, both under their limits). It must compile, and the pipeline must reduce it to
  // one kernel, in time linear in its size.
  const std::string name = "a" + repeat("_", 70);
  std::vector<std::string> level(1u << 17, name);
  while (level.size() > 1) {
    std::vector<std::string> next;
    for (std::size_t i = 0; i < level.size(); i += 2)
      next.push_back("(" + level[i] + "+" + level[i + 1] + ")");
    level.swap(next);
  }
  const std::string text = level[0];
  ASSERT_GT(text.size(), 9'000'000u);
  std::vector<fe::Decl> d = decls(name + ": f32[n]");
  ir::Graph g = fe::compile_expression(SourceFile("<expr>", text), d);
  ASSERT_EQ(g.outputs.size(), 1u);
  EXPECT_EQ(ir::to_string(g.type(g.outputs[0].value)), "f32[n]");
  passes::Plan plan = passes::lower_to_plan(std::move(g));
  EXPECT_EQ(plan.kernel_count(), 1);
  EXPECT_EQ(plan.intermediate_count(), 0);
}

TEST(Robustness, SourceSizeLimit) {
  Outcome o = script(std::string(17u << 20, '\n'));
  EXPECT_EQ(o.kind, ErrorKind::Limit);
  EXPECT_EQ(o.message, "source is too large: 17825792 bytes (the limit is 16777216 bytes)");
}

TEST(Robustness, InvalidUtf8) {
  Outcome o = script("input a: f32[n]\noutput y = a \xff\n");
  EXPECT_EQ(o.kind, ErrorKind::Syntax);
  EXPECT_EQ(o.message, "invalid byte 0xff in source; xpr source is ASCII outside comments");
  EXPECT_EQ(o.line, 2u);
  EXPECT_EQ(o.col, 14u);
  // The rendered line never carries the raw byte back to the user's terminal.
  EXPECT_EQ(o.what.find('\xff'), std::string::npos) << o.what;
  o = expr("a + \xc3\x28");
  EXPECT_EQ(o.kind, ErrorKind::Syntax);
}

TEST(Robustness, NulBytes) {
  Outcome o = expr(std::string("a + \0b", 6));
  EXPECT_EQ(o.kind, ErrorKind::Syntax);
  EXPECT_EQ(o.message, "invalid byte 0x00 (NUL) in source");
  EXPECT_EQ(o.col, 5u);
  EXPECT_EQ(o.what.find('\0'), std::string::npos);
  o = script(std::string(1000, '\0'));
  EXPECT_EQ(o.kind, ErrorKind::Syntax);
  EXPECT_EQ(o.message, "invalid byte 0x00 (NUL) in source");
}

TEST(Robustness, HugeNumericLiterals) {
  EXPECT_EQ(expr("a + " + repeat("9", 1'000'000)).message,
            "integer literal is too large (the largest is 18446744073709551615)");
  EXPECT_EQ(expr("a * 1e99999999999999999999").message, "float literal is out of range for f64");
  EXPECT_EQ(expr("a * 1" + repeat("0", 400) + ".0").message,
            "float literal is out of range for f64");
  Outcome o = expr("b - -129", "b: i8[n]");
  EXPECT_EQ(o.kind, ErrorKind::Type);
  EXPECT_EQ(o.message, "integer literal -129 does not fit i8 (range -128 to 127)");
}

TEST(Robustness, UnknownNames) {
  Outcome o = expr("alpha + bta", "alpha: f32[n], beta: f32[n]");
  EXPECT_EQ(o.kind, ErrorKind::Name);
  EXPECT_EQ(o.message, "unknown name 'bta'");
  EXPECT_NE(o.what.find("note: did you mean 'beta'?"), std::string::npos) << o.what;
  // 100,000 unknown names: one error per statement up to the cap, then a stop note.
  std::string text = "input a: f32[n]\n";
  for (int i = 0; i < 100'000; ++i)
    text += "let v" + std::to_string(i) + " = nope" + std::to_string(i) + "\n";
  text += "output y = a\n";
  o = script(text);
  EXPECT_EQ(o.kind, ErrorKind::Name);
  EXPECT_EQ(o.message, "unknown name 'nope0'");
  EXPECT_NE(o.what.find("note: too many errors; stopping after 20"), std::string::npos);
  EXPECT_LT(o.what.size(), 20'000u);
}

TEST(Robustness, HundredThousandStatementScriptCompiles) {
  // A dependent chain 100,000 lets long: every later stage (sema, verify, passes, fusion) walks a
  // graph 100k values deep, so any recursion over operands would overflow the stack here.
  std::string text = "input a: f32[n]\nlet v0 = a\n";
  for (int i = 1; i <= 100'000; ++i)
    text += "let v" + std::to_string(i) + " = v" + std::to_string(i - 1) + " + a\n";
  text += "output y = v100000\n";
  ir::Graph g = fe::compile_script(SourceFile("long.xpr", text));
  EXPECT_EQ(g.nodes.size(), 100'001u);
  passes::Plan plan = passes::lower_to_plan(std::move(g));
  EXPECT_EQ(plan.kernel_count(), 1);
}

TEST(Robustness, SyntaxNodeLimit) {
  // 250,001 statements of 4 syntax nodes each: one more than the default max_nodes allows.
  Outcome o = script(repeat("let x = a + b\n", 250'001));
  EXPECT_EQ(o.kind, ErrorKind::Limit);
  EXPECT_EQ(o.message, "program is too large: more than 1000000 syntax nodes");
  EXPECT_EQ(o.line, 250'001u);
}

TEST(Robustness, RankLimitInDeclarations) {
  Outcome o = run([] { (void)decls("a: f32[1, 1, 1, 1, 1, 1, 1, 1, 1]"); });
  EXPECT_EQ(o.kind, ErrorKind::Limit);
  EXPECT_EQ(o.message, "too many dimensions: rank 9 is above the limit of 8");
  o = script("input a: f32[1, 1, 1, 1, 1, 1, 1, 1, n]\noutput y = a\n");
  EXPECT_EQ(o.kind, ErrorKind::Limit);
  EXPECT_EQ(o.message, "too many dimensions: rank 9 is above the limit of 8");
  EXPECT_FALSE(script("input a: f32[1, 1, 1, 1, 1, 1, 1, n]\noutput y = a\n").threw);
}

// ---- the IR text ----------------------------------------------------------------------------

TEST(Robustness, DeeplyNestedIrText) {
  // The IR grammar has no nesting; a wall of brackets is a syntax error at the first extra one.
  Outcome o = ir_text("graph {\n  %0 = input \"a\" : f32[" + repeat("[", 100'000) + "\n}\n");
  EXPECT_EQ(o.kind, ErrorKind::Syntax);
  EXPECT_EQ(o.line, 2u);
  EXPECT_EQ(o.message, "expected a dimension (a size or a symbol), found '['");
  o = ir_text("graph {\n  %1 = sum %0 {axes = " + repeat("[", 100'000) + "\n}\n");
  EXPECT_EQ(o.kind, ErrorKind::Syntax);
  o = ir_text(repeat("graph {\n", 100'000));
  EXPECT_EQ(o.kind, ErrorKind::Syntax);
}

TEST(Robustness, MillionNodeIrGraph) {
  std::string text = "graph {\n  %0 = input \"a\" : f32[n]\n";
  text.reserve(40'000'000);
  for (int i = 1; i < 1'000'000; ++i)
    text += "  %" + std::to_string(i) + " = add %" + std::to_string(i - 1) + ", %0 : f32[n]\n";
  text += "  output \"y\" = %999999\n}\n";
  ir::Graph g = ir::parse(text, "big.ir");
  EXPECT_EQ(g.nodes.size(), 1'000'000u);
  ir::verify(g);
  EXPECT_EQ(ir::print(g), text);
  // verify() ran once above; re-verifying after each of the seven passes would only add time.
  passes::PipelineOptions opts;
  opts.verify = false;
  passes::Plan plan = passes::lower_to_plan(std::move(g), opts);
  EXPECT_EQ(plan.kernel_count(), 1);
}

TEST(Robustness, IrHostileBytes) {
  static const char kNul[] = "graph {\n  %0 = input \"a\0\" : f32[n]\n  output \"y\" = %0\n}\n";
  const std::string nul(kNul, sizeof kNul - 1);
  // A raw NUL inside a quoted name is just a byte of that name: it parses, and the printer
  // writes it back escaped, so the text form never carries a raw control byte.
  ir::Graph g = ir::parse(nul, "g.ir");
  EXPECT_EQ(g.node(0).name, std::string("a\0", 2));
  const std::string printed = ir::print(g);
  EXPECT_NE(printed.find("input \"a\\x00\""), std::string::npos) << printed;
  EXPECT_EQ(ir::print(ir::parse(printed)), printed);
  Outcome o = ir_text("graph {\n  %0 = input \"a\" : f32[n]\n  \x01output \"y\" = %0\n}\n");
  EXPECT_EQ(o.kind, ErrorKind::Syntax);
  EXPECT_EQ(o.what.find('\x01'), std::string::npos) << o.what;
  o = ir_text("graph {\n  %0 = const 99999999999999999999999 : i64[]\n}\n");
  EXPECT_EQ(o.kind, ErrorKind::Syntax);
  o = ir_text("graph {\n  %99999999999999999999 = input \"a\" : f32[n]\n}\n");
  EXPECT_EQ(o.kind, ErrorKind::Syntax);
}

// ---- Array ----------------------------------------------------------------------------------

TEST(Robustness, ArrayRankLimit) {
  std::vector<std::int64_t> shape(9, 1);
  Outcome o = run([&] { (void)Array::empty(DType::F32, shape); });
  EXPECT_EQ(o.kind, ErrorKind::Limit);
  EXPECT_EQ(o.message, "cannot allocate array: rank 9 exceeds the maximum rank 8");
  shape.resize(8);
  EXPECT_EQ(Array::empty(DType::F32, shape).size(), 1);
}

TEST(Robustness, ArrayElementCountOverflow) {
  Outcome o = run([] { (void)Array::empty(DType::F64, {1ll << 40, 1ll << 40}); });
  EXPECT_EQ(o.kind, ErrorKind::Limit);
  EXPECT_EQ(o.message,
            "cannot allocate array: shape [1099511627776, 1099511627776] of f64 has too many "
            "elements");
  // The product overflows int64 only at the last dim; still caught.
  o = run([] { (void)Array::empty(DType::U8, {3, 1ll << 62, 2}); });
  EXPECT_EQ(o.kind, ErrorKind::Limit);
}

TEST(Robustness, ArrayZeroSizeWithHugeDims) {
  // A zero dim makes any shape empty, so the count check passes; computing the strides of the
  // other dims must not overflow either (UBSan: signed overflow in Array::empty's stride loop).
  Array a = Array::empty(DType::F64, {0, 1ll << 62, 1ll << 62});
  EXPECT_EQ(a.size(), 0);
  EXPECT_EQ(a.shape(), (std::vector<std::int64_t>{0, 1ll << 62, 1ll << 62}));
}

TEST(Robustness, ArrayAllocationFailure) {
  // 2^53 bytes: representable, but more than any machine has (and than the address space).
  Outcome o = run([] { (void)Array::empty(DType::F64, {1ll << 50}); });
  EXPECT_EQ(o.kind, ErrorKind::Limit);
  EXPECT_EQ(o.message, "cannot allocate array: out of memory for 9007199254740992 bytes (f64 of "
                       "shape [1125899906842624])");
}

TEST(Robustness, ArrayNegativeDimension) {
  Outcome o = run([] { (void)Array::empty(DType::F32, {4, -1}); });
  EXPECT_EQ(o.kind, ErrorKind::Runtime);
  EXPECT_EQ(o.message, "cannot allocate array: negative dimension in shape [4, -1]");
}

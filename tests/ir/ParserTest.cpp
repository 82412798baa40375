// tests/ir/ParserTest.cpp — the IR parser: exact rendered diagnostics for bad text, literal
// parsing per dtype, and print -> parse -> print round trips (hand-built and random graphs).
#include "IRTestUtil.h"

#include <gtest/gtest.h>

#include <cfloat>

namespace xpr::ir::test {
namespace {

/// The rendered diagnostic of a text that must fail to parse (and fail as a syntax error).
std::string parse_error(std::string_view text) {
  try {
    parse(text, "t.ir");
  } catch (const Error &e) {
    EXPECT_EQ(e.kind(), ErrorKind::Syntax) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "parsed without error:\n" << text;
  return {};
}

TEST(IRParse, AcceptsCommentsBlankLinesAndSpacing) {
  Graph g = parse("# a comment before the graph\n"
                  "\n"
                  "graph{   # trailing comment\n"
                  "\t%0=input \"a\":f32[ n ,3 ]\r\n"
                  "\n"
                  "  %1 = const -1.5e3 : f64[]   # comment\n"
                  "  %2 = add %0 ,%1 : f64[n,3]\n"
                  "  output \"o\"=%2\n"
                  "}\n"
                  "# after\n");
  EXPECT_EQ(print(g), "graph {\n"
                      "  %0 = input \"a\" : f32[n, 3]\n"
                      "  %1 = const -1500.0 : f64[]\n"
                      "  %2 = add %0, %1 : f64[n, 3]\n"
                      "  output \"o\" = %2\n"
                      "}\n");
  EXPECT_NO_THROW(verify(g));
}

TEST(IRParse, OutputsMayComeBeforeLaterNodes) {
  // Outputs may be written anywhere after their value; print() moves them to the end.
  Graph g = parse("graph {\n  %0 = param \"p\" : i8[]\n  output \"a\" = %0\n"
                  "  %1 = neg %0 : i8[]\n  output \"b\" = %1\n}");
  ASSERT_EQ(g.outputs.size(), 2u);
  EXPECT_EQ(g.outputs[1].value, 1);
  EXPECT_EQ(print(g), "graph {\n  %0 = param \"p\" : i8[]\n  %1 = neg %0 : i8[]\n"
                      "  output \"a\" = %0\n  output \"b\" = %1\n}\n");
}

TEST(IRParse, ReduceAttributesInAnyOrder) {
  Graph g = parse("graph {\n %0 = input \"x\" : f32[a, b]\n"
                  " %1 = max %0 {keepdims = true, axes = [1]} : f32[a, 1]\n}\n");
  EXPECT_EQ(g.nodes[1].axes, std::vector<int>{1});
  EXPECT_TRUE(g.nodes[1].keepdims);
}

TEST(IRParse, StringEscapes) {
  Graph g = parse("graph {\n %0 = input \"\\\"\\\\\\n\\t\\x41\\xfF\" : f32[]\n}\n");
  EXPECT_EQ(g.nodes[0].name, "\"\\\n\tA\xff");
}

/// The value of `const TEXT : DTYPE[]`.
ConstValue lit(std::string_view text, std::string_view dtype) {
  Graph g =
      parse("graph {\n %0 = const " + std::string(text) + " : " + std::string(dtype) + "[]\n}\n");
  return g.nodes[0].value;
}

TEST(IRParse, ConstLiterals) {
  EXPECT_EQ(lit("-9223372036854775808", "i64").i, INT64_MIN);
  EXPECT_EQ(lit("9223372036854775807", "i64").i, INT64_MAX);
  EXPECT_EQ(lit("18446744073709551615", "u64").u, UINT64_MAX);
  EXPECT_EQ(lit("-128", "i8").i, -128);
  EXPECT_EQ(lit("255", "u8").u, 255u);
  EXPECT_EQ(lit("-0", "u8").u, 0u);
  EXPECT_TRUE(lit("true", "bool").b);
  EXPECT_TRUE(std::signbit(lit("-0.0", "f64").f));
  EXPECT_EQ(lit("-0.0", "f64").f, 0.0);
  EXPECT_EQ(lit("5e-324", "f64").f, 5e-324);
  EXPECT_EQ(lit("inf", "f32").f, INFINITY);
  EXPECT_EQ(lit("-inf", "bf16").f, -INFINITY);
  EXPECT_TRUE(std::isnan(lit("nan", "f16").f));
  EXPECT_EQ(lit("2", "f64").f, 2.0); // an integer spelling is a fine float literal
  EXPECT_EQ(lit(".5", "f64").f, 0.5);
  // f32 literals round once, to the nearest f32.
  EXPECT_EQ(lit("0.1", "f32").f, static_cast<double>(0.1f));
  EXPECT_EQ(lit("1e-45", "f32").f, static_cast<double>(FLT_TRUE_MIN));
  EXPECT_EQ(lit("3.4028235e+38", "f32").f, static_cast<double>(FLT_MAX));
  // Halves round to nearest, ties to even.
  EXPECT_EQ(lit("0.1", "f16").f, f16_bits_to_double(0x2e66));
  EXPECT_EQ(lit("65519", "f16").f, 65504.0); // below the halfway point to 65536
  EXPECT_EQ(lit("2049", "f16").f, 2048.0);   // tie between 2048 and 2050: even wins
  EXPECT_EQ(lit("2051", "f16").f, 2052.0);   // tie between 2050 and 2052: even wins
  EXPECT_EQ(lit("1e-8", "f16").f, 0.0);      // below half the smallest denormal
  EXPECT_EQ(lit("3e-8", "f16").f, f16_bits_to_double(1));
  EXPECT_EQ(lit("0.1", "bf16").f, bf16_bits_to_double(0x3dcd));
  EXPECT_EQ(lit("3.3895313892515355e+38", "bf16").f, bf16_bits_to_double(0x7f7f));
}

struct ErrorCase {
  const char *what;
  const char *text;
  const char *expected;
};

// Each case is one broken input with the complete diagnostic it must render.
const ErrorCase kErrors[] = {
    {"unknown op with suggestion",
     "graph {\n  %0 = input \"a\" : f32[n]\n  %1 = sqrtt %0 : f32[n]\n}\n",
     "t.ir:3:8: error: unknown op 'sqrtt'; did you mean 'sqrt'?\n"
     "    %1 = sqrtt %0 : f32[n]\n"
     "         ^~~~~"},
    {"unknown op without suggestion", "graph {\n  %0 = frobnicate : f32[]\n}\n",
     "t.ir:2:8: error: unknown op 'frobnicate'\n"
     "    %0 = frobnicate : f32[]\n"
     "         ^~~~~~~~~~"},
    {"too few operands", "graph {\n  %0 = input \"a\" : f32[n]\n  %1 = add %0 : f32[n]\n}\n",
     "t.ir:3:8: error: 'add' takes 2 operands, got 1\n"
     "    %1 = add %0 : f32[n]\n"
     "         ^~~"},
    {"too many operands", "graph {\n  %0 = input \"a\" : f32[n]\n  %1 = neg %0, %0 : f32[n]\n}\n",
     "t.ir:3:8: error: 'neg' takes 1 operand, got more\n"
     "    %1 = neg %0, %0 : f32[n]\n"
     "         ^~~~~~~~~~"},
    {"undefined value", "graph {\n  %0 = input \"a\" : f32[n]\n  %1 = neg %7 : f32[n]\n}\n",
     "t.ir:3:12: error: use of %7 before its definition (values must be defined on an earlier "
     "line)\n"
     "    %1 = neg %7 : f32[n]\n"
     "             ^~"},
    {"self reference", "graph {\n  %0 = input \"a\" : f32[n]\n  %1 = mul %0, %1 : f32[n]\n}\n",
     "t.ir:3:16: error: use of %1 before its definition (values must be defined on an earlier "
     "line)\n"
     "    %1 = mul %0, %1 : f32[n]\n"
     "                 ^~"},
    {"numbering gap", "graph {\n  %0 = input \"a\" : f32[n]\n  %2 = neg %0 : f32[n]\n}\n",
     "t.ir:3:3: error: value %2 is out of sequence: expected %1 (values are numbered 0, 1, 2, "
     "...)\n"
     "    %2 = neg %0 : f32[n]\n"
     "    ^~"},
    {"bad type", "graph {\n  %0 = input \"a\" : f32(n)\n}\n",
     "t.ir:2:23: error: expected '[' after the dtype (a scalar is written f32[]), found '('\n"
     "    %0 = input \"a\" : f32(n)\n"
     "                        ^"},
    {"unknown dtype", "graph {\n  %0 = input \"a\" : f23[n]\n}\n",
     "t.ir:2:20: error: unknown dtype 'f23'; did you mean 'f32'?\n"
     "    %0 = input \"a\" : f23[n]\n"
     "                     ^~~"},
    {"u8 out of range", "graph {\n  %0 = const 300 : u8[]\n}\n",
     "t.ir:2:14: error: integer literal 300 does not fit u8 (range 0..255)\n"
     "    %0 = const 300 : u8[]\n"
     "               ^~~"},
    {"float literal for int", "graph {\n  %0 = const 1.5 : i32[]\n}\n",
     "t.ir:2:14: error: '1.5' is not a valid i32 literal\n"
     "    %0 = const 1.5 : i32[]\n"
     "               ^~~"},
    {"bool literal", "graph {\n  %0 = const 1 : bool[]\n}\n",
     "t.ir:2:14: error: '1' is not a bool literal (expected true or false)\n"
     "    %0 = const 1 : bool[]\n"
     "               ^"},
    {"f32 overflow", "graph {\n  %0 = const 1e39 : f32[]\n}\n",
     "t.ir:2:14: error: float literal 1e39 is out of range for f32\n"
     "    %0 = const 1e39 : f32[]\n"
     "               ^~~~"},
    {"f16 overflow", "graph {\n  %0 = const 65520 : f16[]\n}\n",
     "t.ir:2:14: error: float literal 65520 is out of range for f16\n"
     "    %0 = const 65520 : f16[]\n"
     "               ^~~~~"},
    {"i64 overflow", "graph {\n  %0 = const -9223372036854775809 : i64[]\n}\n",
     "t.ir:2:14: error: integer literal -9223372036854775809 does not fit i64 (range "
     "-9223372036854775808..9223372036854775807)\n"
     "    %0 = const -9223372036854775809 : i64[]\n"
     "               ^~~~~~~~~~~~~~~~~~~~"},
    {"duplicate output",
     "graph {\n  %0 = input \"a\" : f32[n]\n  output \"y\" = %0\n  output \"y\" = %0\n}\n",
     "t.ir:4:10: error: duplicate output name \"y\"\n"
     "    output \"y\" = %0\n"
     "           ^~~\n"
     "t.ir:3:10: note: first defined here\n"
     "    output \"y\" = %0\n"
     "           ^~~"},
    {"missing close brace", "graph {\n  %0 = input \"a\" : f32[n]\n",
     "t.ir:2:26: error: expected '}' to close the graph\n"
     "    %0 = input \"a\" : f32[n]\n"
     "                           ^\n"
     "t.ir:1:7: note: the graph was opened here\n"
     "  graph {\n"
     "        ^"},
    {"missing colon", "graph {\n  %0 = input \"a\" f32[n]\n}\n",
     "t.ir:2:18: error: expected ':' before the result type, found 'f32'\n"
     "    %0 = input \"a\" f32[n]\n"
     "                   ^~~"},
    {"unterminated string", "graph {\n  %0 = input \"a : f32[n]\n}\n",
     "t.ir:2:14: error: unterminated string\n"
     "    %0 = input \"a : f32[n]\n"
     "               ^~~~~~~~~~~"},
    {"bad escape", "graph {\n  %0 = input \"a\\q\" : f32[n]\n}\n",
     "t.ir:2:16: error: invalid escape in string (expected \\\", \\\\, \\n"
     ", \\t or \\xNN)\n"
     "    %0 = input \"a\\q\" : f32[n]\n"
     "                 ^~"},
    {"attributes on elementwise",
     "graph {\n  %0 = input \"a\" : f32[n]\n  %1 = neg %0 {axes = [0]} : f32[n]\n}\n",
     "t.ir:3:15: error: 'neg' takes no attributes\n"
     "    %1 = neg %0 {axes = [0]} : f32[n]\n"
     "                ^"},
    {"reduce without attributes",
     "graph {\n  %0 = input \"a\" : f32[n]\n  %1 = sum %0 : f32[]\n}\n",
     "t.ir:3:15: error: 'sum' needs attributes {axes = [...], keepdims = ...}, found ':'\n"
     "    %1 = sum %0 : f32[]\n"
     "                ^"},
    {"reduce missing keepdims",
     "graph {\n  %0 = input \"a\" : f32[n]\n  %1 = sum %0 {axes = [0]} : f32[]\n}\n",
     "t.ir:3:26: error: missing attribute 'keepdims'\n"
     "    %1 = sum %0 {axes = [0]} : f32[]\n"
     "                           ^"},
    {"value number overflow", "graph {\n  %99999999999999999999 = input \"a\" : f32[n]\n}\n",
     "t.ir:2:3: error: value number %99999999999999999999 is too large\n"
     "    %99999999999999999999 = input \"a\" : f32[n]\n"
     "    ^~~~~~~~~~~~~~~~~~~~~"},
    {"rank above 8", "graph {\n  %0 = input \"a\" : f32[1,1,1,1,1,1,1,1,1]\n}\n",
     "t.ir:2:40: error: rank exceeds the maximum of 8\n"
     "    %0 = input \"a\" : f32[1,1,1,1,1,1,1,1,1]\n"
     "                                         ^"},
    {"stray character", "graph {\n  %0 = input \"a\" : f32[n] @\n}\n",
     "t.ir:2:27: error: unexpected character '@'\n"
     "    %0 = input \"a\" : f32[n] @\n"
     "                            ^"},
    {"text after graph", "graph {\n}\ngraph {\n}\n",
     "t.ir:3:1: error: unexpected 'graph' after the end of the graph\n"
     "  graph {\n"
     "  ^~~~~"},
    {"no graph keyword", "%0 = input \"a\" : f32[]\n",
     "t.ir:1:1: error: expected 'graph' at the start of the IR, found '%0'\n"
     "  %0 = input \"a\" : f32[]\n"
     "  ^~"},
    {"two statements on a line", "graph {\n  %0 = input \"a\" : f32[n] %1 = neg %0 : f32[n]\n}\n",
     "t.ir:2:27: error: expected end of line, found '%1'\n"
     "    %0 = input \"a\" : f32[n] %1 = neg %0 : f32[n]\n"
     "                            ^~"},
};

TEST(IRParse, ErrorDiagnostics) {
  for (const ErrorCase &c : kErrors) {
    SCOPED_TRACE(c.what);
    std::string got = parse_error(c.text);
    EXPECT_EQ(got, c.expected);
  }
}

TEST(IRParse, RoundTripHandBuilt) {
  Builder b;
  auto x = b.input("x", "f32[n, 1]");
  auto y = b.input("y", "f32[3]");
  auto s = b.op(Op::Sub, {x, y}, "f32[n, 3]");
  auto e = b.op(Op::Exp, {s}, "f32[n, 3]");
  auto m = b.reduce(Op::Mean, e, {1}, true, "f32[n, 1]");
  auto k = b.ci(-7, DType::I16);
  auto c = b.op(Op::Cast, {k}, "f32[]");
  auto d = b.op(Op::Div, {m, c}, "f32[n, 1]");
  b.out("z", d);
  std::string text = print(b.g);
  Graph back = parse(text);
  EXPECT_EQ(diff_graphs(b.g, back), "");
  EXPECT_EQ(print(back), text);
}

TEST(IRParse, RoundTripRandomGraphs) {
  // A few thousand seeded random graphs: each must verify, print, parse back to the same
  // structure (bit-exact consts, byte-exact names) and print identically.
  RandomGraphs gen(0x5eed1234);
  int total_nodes = 0;
  for (int k = 0; k < 3000; ++k) {
    Graph g = gen.make();
    total_nodes += static_cast<int>(g.nodes.size());
    std::string text = print(g);
    ASSERT_NO_THROW(verify(g)) << text;
    Graph back;
    ASSERT_NO_THROW(back = parse(text)) << text;
    ASSERT_EQ(diff_graphs(g, back), "") << text;
    ASSERT_EQ(print(back), text);
    ASSERT_NO_THROW(verify(back));
  }
  // The generator must actually produce sizeable graphs, or the test proves little.
  EXPECT_GT(total_nodes, 3000 * 10);
}

TEST(IRParse, HostileInputDoesNotCrash) {
  // Deterministic garbage: truncations and byte flips of a valid text. Every outcome must be a
  // graph or a syntax error, never a crash, hang or other exception kind.
  RandomGraphs gen(42);
  std::mt19937_64 rng(7);
  int errors = 0;
  for (int k = 0; k < 300; ++k) {
    std::string text = print(gen.make());
    std::string bad = text.substr(0, rng() % (text.size() + 1));
    if (rng() % 2 && !text.empty()) {
      bad = text;
      for (int f = 0; f < 3; ++f)
        bad[rng() % bad.size()] = static_cast<char>(rng());
    }
    try {
      parse(bad);
    } catch (const Error &e) {
      ASSERT_EQ(e.kind(), ErrorKind::Syntax) << e.what();
      ++errors;
    }
  }
  EXPECT_GT(errors, 100);
  // Pathological sizes stay linear: a long line of operands and a giant identifier.
  std::string many = "graph {\n  %0 = input \"a\" : f32[]\n  %1 = add %0";
  for (int k = 0; k < 100000; ++k)
    many += ", %0";
  many += " : f32[]\n}\n";
  EXPECT_NE(parse_error(many).find("'add' takes 2 operands, got more"), std::string::npos);
  std::string ident = "graph {\n  %0 = " + std::string(1 << 20, 'a') + " : f32[]\n}\n";
  EXPECT_NE(parse_error(ident).find("unknown op 'aaaa"), std::string::npos);
}

} // namespace
} // namespace xpr::ir::test

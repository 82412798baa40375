// HostileTest.cpp — hostile input must end in a clear error, never a crash, hang or blow-up.
#include "frontend/Parser.h"

#include <gtest/gtest.h>

#include <string>

using namespace xpr;
using namespace xpr::fe;

namespace {

struct Outcome {
  bool threw = false;
  ErrorKind kind = ErrorKind::Internal;
  std::string message;
  std::uint32_t line = 0, col = 0;
};

Outcome parse(const std::string &text, bool expression_form, const Limits &limits = {}) {
  SourceFile src("h.xpr", text);
  Outcome o;
  try {
    parse_module(src, expression_form, limits);
  } catch (const Error &e) {
    o.threw = true;
    o.kind = e.kind();
    o.message = e.message();
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

} // namespace

TEST(Hostile, DeepParentheses) {
  Outcome o = parse(repeat("(", 100'000) + "a" + repeat(")", 100'000), true);
  EXPECT_TRUE(o.threw);
  EXPECT_EQ(o.kind, ErrorKind::Limit);
  EXPECT_EQ(o.message, "expression nested too deeply (limit 256)");
  EXPECT_EQ(o.col, 257u); // the 257th '('
}

TEST(Hostile, NestingAtTheLimitIsFine) {
  Outcome o = parse(repeat("(", 255) + "a" + repeat(")", 255), true);
  EXPECT_FALSE(o.threw) << o.message;
  o = parse(repeat("f(", 256) + "a" + repeat(")", 256), true);
  EXPECT_FALSE(o.threw) << o.message;
  o = parse(repeat("f(", 257) + "a" + repeat(")", 257), true);
  EXPECT_EQ(o.kind, ErrorKind::Limit);
  EXPECT_EQ(o.col, 257u * 2); // the 257th call's '('
}

TEST(Hostile, DeepCalls) {
  Outcome o = parse("let x = " + repeat("f(", 100'000) + "a" + repeat(")", 100'000), false);
  EXPECT_EQ(o.kind, ErrorKind::Limit);
  EXPECT_EQ(o.message, "expression nested too deeply (limit 256)");
}

TEST(Hostile, DeepUnaryChain) {
  Outcome o = parse(repeat("-", 100'000) + "a", true);
  EXPECT_EQ(o.kind, ErrorKind::Limit);
  EXPECT_EQ(o.message, "expression nested too deeply (limit 256)");
  EXPECT_EQ(o.col, 257u);
  o = parse(repeat("~-", 50'000) + "a", true);
  EXPECT_EQ(o.kind, ErrorKind::Limit);
}

TEST(Hostile, DeepPowerChain) {
  Outcome o = parse("a" + repeat("**a", 100'000), true);
  EXPECT_EQ(o.kind, ErrorKind::Limit);
  EXPECT_EQ(o.message, "expression nested too deeply (limit 256)");
  EXPECT_EQ(o.col, 2u + 3u * 256u); // the 257th '**'
}

TEST(Hostile, DeepMixedNesting) {
  Outcome o = parse(repeat("-(a**f(", 30'000), true);
  EXPECT_EQ(o.kind, ErrorKind::Limit);
  EXPECT_EQ(o.message, "expression nested too deeply (limit 256)");
}

TEST(Hostile, UnclosedParensAtTheEnd) {
  Outcome o = parse(repeat("(", 200) + "a", true);
  EXPECT_EQ(o.kind, ErrorKind::Syntax);
  EXPECT_EQ(o.message, "expected ')' to close '(', found end of input");
}

TEST(Hostile, LongFlatChainHitsTheDepthLimit) {
  // 10 MB of `a+a+...`: parsed in a loop, stopped by the tree-height bound.
  std::string text = "a" + repeat("+a", 5'000'000);
  Outcome o = parse(text, true);
  EXPECT_EQ(o.kind, ErrorKind::Limit);
  EXPECT_EQ(o.message, "expression is too deep: more than 2048 levels of operators");
  EXPECT_EQ(o.col, 2u * 2048u); // the 2048th '+'
}

TEST(Hostile, ManyNodesHitTheNodeLimit) {
  // 10 MB of arguments: a flat tree, stopped by max_nodes.
  std::string text = "f(" + repeat("a,", 5'000'000) + "a)";
  Outcome o = parse(text, true);
  EXPECT_EQ(o.kind, ErrorKind::Limit);
  EXPECT_EQ(o.message, "program is too large: more than 1000000 syntax nodes");
  // A script of many short statements is counted the same way (4 nodes per statement).
  Limits limits;
  limits.max_nodes = 100'000;
  o = parse(repeat("let x = a + b\n", 30'000), false, limits);
  EXPECT_EQ(o.kind, ErrorKind::Limit);
  EXPECT_EQ(o.message, "program is too large: more than 100000 syntax nodes");
  EXPECT_EQ(o.line, 25'001u); // 25,000 statements make exactly 100,000 nodes
}

TEST(Hostile, LargeValidScriptParses) {
  // 0.8 MB of valid statements with long (but allowed) chains parses fine.
  std::string line = "let x = a" + repeat(" + a", 1000) + "\n"; // 1001 nodes deep 1000
  Limits limits;
  limits.max_nodes = 10'000'000;
  SourceFile src("big.xpr", repeat(line, 200));
  Module m = parse_module(src, false, limits);
  EXPECT_EQ(m.stmts.size(), 200u);
}

TEST(Hostile, SourceTooLarge) {
  std::string text(20u << 20, ' ');
  Outcome o = parse(text, false);
  EXPECT_EQ(o.kind, ErrorKind::Limit);
  EXPECT_EQ(o.message, "source is too large: 20971520 bytes (the limit is 16777216 bytes)");
  EXPECT_EQ(o.line, 0u);
  SourceFile src("big.xpr", text);
  try {
    parse_module(src, false);
    FAIL();
  } catch (const Error &e) {
    EXPECT_EQ(std::string(e.what()),
              "big.xpr: error: source is too large: 20971520 bytes (the limit is 16777216 "
              "bytes)");
  }
}

TEST(Hostile, NulByte) {
  Outcome o = parse(std::string("a + \0b", 6), true);
  EXPECT_EQ(o.kind, ErrorKind::Syntax);
  EXPECT_EQ(o.message, "invalid byte 0x00 (NUL) in source");
  EXPECT_EQ(o.col, 5u);
  o = parse(std::string("let x = 1 # \0 in a comment\n", 27), false);
  EXPECT_EQ(o.kind, ErrorKind::Syntax);
  EXPECT_EQ(o.message, "invalid byte 0x00 (NUL) in comment");
  EXPECT_EQ(o.col, 13u);
}

TEST(Hostile, InvalidUtf8) {
  Outcome o = parse("a + \xff", true);
  EXPECT_EQ(o.kind, ErrorKind::Syntax);
  EXPECT_EQ(o.message, "invalid byte 0xff in source; xpr source is ASCII outside comments");
  EXPECT_EQ(o.col, 5u);
  o = parse("let x = 1 # caf\xc3\xa9 \xe2\x9c\x93\n", false);
  EXPECT_FALSE(o.threw) << o.message;
  o = parse("let x = 1 # caf\xc3\n", false); // truncated sequence at the line end
  EXPECT_EQ(o.kind, ErrorKind::Syntax);
  EXPECT_EQ(o.message, "invalid UTF-8 byte 0xc3 in comment");
  o = parse("# \xed\xa0\x80 surrogate\n", false);
  EXPECT_EQ(o.message, "invalid UTF-8 byte 0xed in comment");
  o = parse("# \xc0\xaf overlong\n", false);
  EXPECT_EQ(o.message, "invalid UTF-8 byte 0xc0 in comment");
  o = parse("x \xc2\xa0+ 1", true);
  EXPECT_EQ(o.message, "non-ASCII character '\xc2\xa0' (U+00A0) in source; xpr source is ASCII "
                       "outside comments");
}

TEST(Hostile, BinaryGarbage) {
  std::string text;
  for (unsigned i = 0; i < 1u << 20; ++i)
    text += static_cast<char>((i * 7919u) & 0xFFu);
  Outcome o = parse(text, false);
  EXPECT_TRUE(o.threw);
  EXPECT_EQ(o.kind, ErrorKind::Syntax);
  o = parse(text, true);
  EXPECT_TRUE(o.threw);
}

TEST(Hostile, HugeLiterals) {
  Outcome o = parse(repeat("9", 1'000'000), true);
  EXPECT_EQ(o.kind, ErrorKind::Syntax);
  EXPECT_EQ(o.message, "integer literal is too large (the largest is 18446744073709551615)");
  o = parse("1" + repeat("0", 400) + ".0", true);
  EXPECT_EQ(o.message, "float literal is out of range for f64");
  o = parse("1e99999999999999999999999999", true);
  EXPECT_EQ(o.message, "float literal is out of range for f64");
  o = parse("0." + repeat("0", 1'000'000) + "1", true);
  EXPECT_FALSE(o.threw) << o.message; // underflows to 0, as in NumPy
  o = parse("0x" + repeat("F", 17), true);
  EXPECT_EQ(o.message, "integer literal is too large (the largest is 18446744073709551615)");
}

TEST(Hostile, HugeIdentifierIsClippedInMessages) {
  std::string name = repeat("x", 1'000'000);
  SourceFile src("h.xpr", "a " + name);
  try {
    parse_module(src, true);
    FAIL();
  } catch (const Error &e) {
    EXPECT_EQ(e.message(),
              "expected an operator or end of input, found '" + repeat("x", 40) + "...'");
    EXPECT_LT(std::string(e.what()).size(), 600u); // the quoted line is windowed too
  }
}

TEST(Hostile, ManyBlankLinesInsideParentheses) {
  Outcome o = parse("f(a" + repeat("\n", 2'000'000) + ", b)", true);
  EXPECT_FALSE(o.threw) << o.message;
  o = parse("f(a" + repeat("\n# c\n", 1'000'000) + "= b)", true); // a keyword argument
  EXPECT_FALSE(o.threw) << o.message;
}

TEST(Hostile, CustomLimits) {
  Limits limits;
  limits.max_nesting = 4;
  Outcome o = parse("(((((a)))))", true, limits);
  EXPECT_EQ(o.kind, ErrorKind::Limit);
  EXPECT_EQ(o.message, "expression nested too deeply (limit 4)");
  EXPECT_EQ(o.col, 5u);
  limits = Limits{};
  limits.max_source_bytes = 4;
  o = parse("a + b", true, limits);
  EXPECT_EQ(o.message, "source is too large: 5 bytes (the limit is 4 bytes)");
  limits = Limits{};
  limits.max_nodes = 3;
  o = parse("a + b + c", true, limits);
  EXPECT_EQ(o.message, "program is too large: more than 3 syntax nodes");
}

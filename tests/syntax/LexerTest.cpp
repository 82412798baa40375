// LexerTest.cpp — token kinds, number literals, comments and positions from the xpr lexer.
#include "frontend/Lexer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

using namespace xpr;
using namespace xpr::fe;

namespace {

std::vector<Token> lex(const std::string &text) {
  SourceFile src("t.xpr", text);
  Diagnostics diags(src);
  auto toks = lex_all(src, diags);
  EXPECT_FALSE(diags.has_errors()) << "unexpected lexer error in: " << text;
  return toks;
}

std::vector<TokKind> kinds(const std::string &text) {
  std::vector<TokKind> out;
  for (const Token &t : lex(text))
    out.push_back(t.kind);
  return out;
}

/// The single diagnostic the lexer reports for `text`, rendered.
std::string lex_error(const std::string &text) {
  SourceFile src("t.xpr", text);
  Diagnostics diags(src);
  lex_all(src, diags);
  if (diags.all().size() != 1)
    return "expected exactly one error, got " + std::to_string(diags.all().size());
  return diags.render(diags.all()[0]);
}

Token number(const std::string &text) {
  auto toks = lex(text);
  EXPECT_EQ(toks.size(), 2u) << text;
  EXPECT_EQ(toks[0].range.end - toks[0].range.begin, text.size()) << text;
  return toks[0];
}

} // namespace

TEST(Lexer, EveryOperatorAndPunctuation) {
  using K = TokKind;
  EXPECT_EQ(
      kinds("+ - * / // % ** ~ & | ^ << >> == != < <= > >= ( ) [ ] , : ="),
      (std::vector<K>{K::Plus,     K::Minus,  K::Star,   K::Slash,    K::SlashSlash, K::Percent,
                      K::StarStar, K::Tilde,  K::Amp,    K::Pipe,     K::Caret,      K::Shl,
                      K::Shr,      K::EqEq,   K::NotEq,  K::Lt,       K::Le,         K::Gt,
                      K::Ge,       K::LParen, K::RParen, K::LBracket, K::RBracket,   K::Comma,
                      K::Colon,    K::Assign, K::Eof}));
}

TEST(Lexer, MaximalMunchWithoutSpaces) {
  using K = TokKind;
  EXPECT_EQ(kinds("a***b"), (std::vector<K>{K::Ident, K::StarStar, K::Star, K::Ident, K::Eof}));
  EXPECT_EQ(kinds("a///b"), (std::vector<K>{K::Ident, K::SlashSlash, K::Slash, K::Ident, K::Eof}));
  EXPECT_EQ(kinds("a<<=b"), (std::vector<K>{K::Ident, K::Shl, K::Assign, K::Ident, K::Eof}));
  EXPECT_EQ(kinds("a===b"), (std::vector<K>{K::Ident, K::EqEq, K::Assign, K::Ident, K::Eof}));
  EXPECT_EQ(kinds("a<-b"), (std::vector<K>{K::Ident, K::Lt, K::Minus, K::Ident, K::Eof}));
}

TEST(Lexer, KeywordsAndIdentifiers) {
  using K = TokKind;
  EXPECT_EQ(kinds("input param let output true false"),
            (std::vector<K>{K::KwInput, K::KwParam, K::KwLet, K::KwOutput, K::KwTrue, K::KwFalse,
                            K::Eof}));
  // Near-keywords, dtype names and underscores are plain identifiers.
  EXPECT_EQ(kinds("inputs _let Let f32 bool _ a_1 __x9"),
            (std::vector<K>{K::Ident, K::Ident, K::Ident, K::Ident, K::Ident, K::Ident, K::Ident,
                            K::Ident, K::Eof}));
}

TEST(Lexer, NewlinesAndComments) {
  using K = TokKind;
  EXPECT_EQ(
      kinds("a # comment ( [ \xcf\x80 \xe2\x88\x9a\nb\r\n\n  c # end"),
      (std::vector<K>{K::Ident, K::Newline, K::Ident, K::Newline, K::Newline, K::Ident, K::Eof}));
  EXPECT_EQ(kinds("# only a comment"), (std::vector<K>{K::Eof}));
  EXPECT_EQ(kinds(""), (std::vector<K>{K::Eof}));
  EXPECT_EQ(kinds("\t\f a \t"), (std::vector<K>{K::Ident, K::Eof}));
}

TEST(Lexer, PositionsAndFirstOnLine) {
  SourceFile src("t.xpr", "let x = a1 ** 2\n  output y=x # c\n");
  Diagnostics diags(src);
  auto toks = lex_all(src, diags);
  ASSERT_EQ(toks.size(), 13u);
  struct Want {
    TokKind kind;
    std::uint32_t begin, end;
    bool first;
  };
  std::vector<Want> want = {
      {TokKind::KwLet, 0, 3, true},       {TokKind::Ident, 4, 5, false},
      {TokKind::Assign, 6, 7, false},     {TokKind::Ident, 8, 10, false},
      {TokKind::StarStar, 11, 13, false}, {TokKind::Int, 14, 15, false},
      {TokKind::Newline, 15, 16, false},  {TokKind::KwOutput, 18, 24, true},
      {TokKind::Ident, 25, 26, false},    {TokKind::Assign, 26, 27, false},
      {TokKind::Ident, 27, 28, false},    {TokKind::Newline, 32, 33, false},
      {TokKind::Eof, 33, 33, true},
  };
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(toks[i].kind, want[i].kind) << i;
    EXPECT_EQ(toks[i].range.begin, want[i].begin) << i;
    EXPECT_EQ(toks[i].range.end, want[i].end) << i;
    EXPECT_EQ(toks[i].first_on_line, want[i].first) << i;
  }
  EXPECT_EQ(src.line_col(18), (std::pair<std::uint32_t, std::uint32_t>{2, 3}));
  EXPECT_EQ(src.line_col(0), (std::pair<std::uint32_t, std::uint32_t>{1, 1}));
  EXPECT_EQ(src.line_col(33), (std::pair<std::uint32_t, std::uint32_t>{3, 1}));
  EXPECT_EQ(src.line_col(31), (std::pair<std::uint32_t, std::uint32_t>{2, 16}));
  EXPECT_EQ(src.line_text(20), "  output y=x # c");
}

TEST(Lexer, IntegerLiterals) {
  Token t = number("0");
  EXPECT_EQ(t.kind, TokKind::Int);
  EXPECT_EQ(t.uvalue, 0u);
  EXPECT_EQ(number("42").uvalue, 42u);
  EXPECT_EQ(number("10_000_000").uvalue, 10'000'000u);
  EXPECT_EQ(number("0x1F").uvalue, 31u);
  EXPECT_EQ(number("0XfF_ff").uvalue, 0xffffu);
  EXPECT_EQ(number("18446744073709551615").uvalue, 18446744073709551615u);
  EXPECT_EQ(number("0xFFFFFFFFFFFFFFFF").uvalue, 18446744073709551615u);
  EXPECT_EQ(number("9223372036854775808").uvalue, 9223372036854775808u);
  EXPECT_FALSE(number("18446744073709551615").overflow);
  EXPECT_EQ(number("000").uvalue, 0u); // all zeros is not a "leading zero" literal
}

TEST(Lexer, FloatLiterals) {
  struct Case {
    const char *text;
    double value;
  };
  for (Case c : {Case{"1.5", 1.5}, Case{".5", 0.5}, Case{"1.", 1.0}, Case{"1e-3", 1e-3},
                 Case{"2.5E+10", 2.5e10}, Case{"1_000.000_5", 1000.0005}, Case{"1e1_0", 1e10},
                 Case{"0.1", 0.1}, Case{"1.e5", 1e5}, Case{"007.5", 7.5}, Case{"3E2", 300.0},
                 Case{"1.7976931348623157e308", 1.7976931348623157e308},
                 Case{"4.9406564584124654e-324", 4.9406564584124654e-324}, Case{"1e-400", 0.0}}) {
    Token t = number(c.text);
    EXPECT_EQ(t.kind, TokKind::Float) << c.text;
    EXPECT_EQ(t.fvalue, c.value) << c.text; // exact: from_chars rounds correctly
  }
}

TEST(Lexer, NumberFollowedByOperator) {
  using K = TokKind;
  EXPECT_EQ(kinds("1e-3-2"), (std::vector<K>{K::Float, K::Minus, K::Int, K::Eof}));
  EXPECT_EQ(kinds("0x1e+2"), (std::vector<K>{K::Int, K::Plus, K::Int, K::Eof}));
  EXPECT_EQ(kinds("2**.5"), (std::vector<K>{K::Int, K::StarStar, K::Float, K::Eof}));
  EXPECT_EQ(kinds("(1.)"), (std::vector<K>{K::LParen, K::Float, K::RParen, K::Eof}));
}

TEST(Lexer, BadNumbers) {
  EXPECT_EQ(lex_error("1__0"), "t.xpr:1:2: error: '_' in a number must sit between two digits\n"
                               "  1__0\n"
                               "   ^");
  EXPECT_EQ(lex_error("10_"), "t.xpr:1:3: error: '_' in a number must sit between two digits\n"
                              "  10_\n"
                              "    ^");
  EXPECT_EQ(lex_error("0x_1"), "t.xpr:1:3: error: '_' in a number must sit between two digits\n"
                               "  0x_1\n"
                               "    ^");
  EXPECT_EQ(lex_error("0x"), "t.xpr:1:1: error: hex literal '0x' has no digits\n"
                             "  0x\n"
                             "  ^~");
  EXPECT_EQ(lex_error("0x1G"), "t.xpr:1:4: error: invalid digit 'G' in hex literal '0x1G'\n"
                               "  0x1G\n"
                               "     ^");
  EXPECT_EQ(lex_error("1.5.3"), "t.xpr:1:1: error: invalid number literal '1.5.3'\n"
                                "  1.5.3\n"
                                "  ^~~~~");
  EXPECT_EQ(lex_error("x = 2e"), "t.xpr:1:6: error: the exponent of '2e' has no digits\n"
                                 "  x = 2e\n"
                                 "       ^");
  EXPECT_EQ(lex_error("x = 3ab"), "t.xpr:1:6: error: invalid suffix 'ab' on number '3'\n"
                                  "  x = 3ab\n"
                                  "       ^~\n"
                                  "note: there is no implicit multiplication; write '3 * ab'");
  EXPECT_EQ(lex_error("0o17"),
            "t.xpr:1:1: error: invalid number literal '0o17'; binary and octal literals are not "
            "supported (use decimal, or hex with 0x)\n"
            "  0o17\n"
            "  ^~~~");
  EXPECT_EQ(lex_error("0123"), "t.xpr:1:1: error: leading zeros are not allowed in an integer "
                               "literal\n"
                               "  0123\n"
                               "  ^~~~\n"
                               "note: write it without the zeros, or in hex with 0x");
}

TEST(Lexer, NumberRangeErrors) {
  EXPECT_EQ(lex_error("18446744073709551616"),
            "t.xpr:1:1: error: integer literal is too large (the largest is "
            "18446744073709551615)\n"
            "  18446744073709551616\n"
            "  ^~~~~~~~~~~~~~~~~~~~");
  EXPECT_EQ(lex_error("0x1_0000_0000_0000_0000"),
            "t.xpr:1:1: error: integer literal is too large (the largest is "
            "18446744073709551615)\n"
            "  0x1_0000_0000_0000_0000\n"
            "  ^~~~~~~~~~~~~~~~~~~~~~~");
  EXPECT_EQ(lex_error("1e999"), "t.xpr:1:1: error: float literal is out of range for f64\n"
                                "  1e999\n"
                                "  ^~~~~\n"
                                "note: the largest f64 is about 1.7976931348623157e308");
  EXPECT_EQ(lex_error("1.8e308"), "t.xpr:1:1: error: float literal is out of range for f64\n"
                                  "  1.8e308\n"
                                  "  ^~~~~~~\n"
                                  "note: the largest f64 is about 1.7976931348623157e308");
  // An over-large literal still yields an Int token (flagged), so parsing can go on.
  SourceFile src("t.xpr", "99999999999999999999");
  Diagnostics diags(src);
  auto toks = lex_all(src, diags);
  EXPECT_EQ(toks[0].kind, TokKind::Int);
  EXPECT_TRUE(toks[0].overflow);
}

TEST(Lexer, BadCharacters) {
  EXPECT_EQ(lex_error("a ! b"), "t.xpr:1:3: error: unexpected character '!'\n"
                                "  a ! b\n"
                                "    ^\n"
                                "note: use '~' for logical not and '!=' for not-equal");
  EXPECT_EQ(lex_error("a.b"), "t.xpr:1:2: error: unexpected character '.'\n"
                              "  a.b\n"
                              "   ^");
  EXPECT_EQ(lex_error("x @ y"), "t.xpr:1:3: error: unexpected character '@'\n"
                                "  x @ y\n"
                                "    ^");
  EXPECT_EQ(lex_error("a +\\\n b"),
            "t.xpr:1:4: error: unexpected character '\\'\n"
            "  a +\\\n"
            "     ^\n"
            "note: there are no line continuations; inside ( ) an expression may span several "
            "lines");
  EXPECT_EQ(lex_error("a\x01"), "t.xpr:1:2: error: invalid control byte 0x01 in source\n"
                                "  a?\n"
                                "   ^");
}

TEST(Lexer, DescribeTokens) {
  SourceFile src("t.xpr", "let foo 1.5 + \n");
  Diagnostics diags(src);
  auto toks = lex_all(src, diags);
  EXPECT_EQ(describe(toks[0], src), "keyword 'let'");
  EXPECT_EQ(describe(toks[1], src), "'foo'");
  EXPECT_EQ(describe(toks[2], src), "'1.5'");
  EXPECT_EQ(describe(toks[3], src), "'+'");
  EXPECT_EQ(describe(toks[4], src), "end of line");
  EXPECT_EQ(describe(toks[5], src), "end of input");
}

TEST(Lexer, QuietModeReportsNothing) {
  SourceFile src("t.xpr", "$ @ \xff");
  Diagnostics diags(src);
  Lexer lex(src, diags);
  lex.set_quiet(true);
  EXPECT_EQ(lex.next().kind, TokKind::Invalid);
  EXPECT_EQ(lex.next().kind, TokKind::Invalid);
  EXPECT_EQ(lex.next().kind, TokKind::Invalid);
  EXPECT_EQ(lex.next().kind, TokKind::Eof);
  EXPECT_FALSE(diags.has_errors());
}

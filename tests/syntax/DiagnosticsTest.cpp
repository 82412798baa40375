// DiagnosticsTest.cpp — exact rendered syntax errors: location, source line, caret, notes.
#include "frontend/Parser.h"

#include <gtest/gtest.h>

#include <string>

using namespace xpr;
using namespace xpr::fe;

namespace {

/// The full what() of the error that parsing `text` must raise.
std::string err(const std::string &text, bool expression_form = false,
                const char *name = "bs.xpr") {
  SourceFile src(name, text);
  try {
    parse_module(src, expression_form);
  } catch (const Error &e) {
    return e.what();
  }
  return "<no error>";
}
std::string eerr(const std::string &text) { return err(text, true, "<expr>"); }

} // namespace

// ---- rendering --------------------------------------------------------------------------------

TEST(Render, HeaderLocationAndKind) {
  SourceFile src("bs.xpr", "let a = 1\nlet d = (a + b\n");
  try {
    parse_module(src, false);
    FAIL();
  } catch (const Error &e) {
    EXPECT_EQ(e.kind(), ErrorKind::Syntax);
    EXPECT_EQ(e.message(), "expected ')' to close '(', found end of input");
    EXPECT_EQ(e.location().file, "bs.xpr");
    EXPECT_EQ(e.location().line, 2u);
    EXPECT_EQ(e.location().col, 15u);
  }
}

TEST(Render, TildesCoverTheRangeClippedAtLineEnd) {
  SourceFile src("f.xpr", "abc defgh\nxyz\n");
  Diagnostics d(src);
  d.error(ErrorKind::Syntax, {4, 9}, "m1");
  d.error(ErrorKind::Syntax, {4, 13}, "m2"); // runs onto the next line
  d.error(ErrorKind::Syntax, {2, 2}, "m3");  // empty range: a caret alone
  EXPECT_EQ(d.render(d.all()[0]), "f.xpr:1:5: error: m1\n  abc defgh\n      ^~~~~");
  EXPECT_EQ(d.render(d.all()[1]), "f.xpr:1:5: error: m2\n  abc defgh\n      ^~~~~");
  EXPECT_EQ(d.render(d.all()[2]), "f.xpr:1:3: error: m3\n  abc defgh\n    ^");
}

TEST(Render, TabsAreCopiedIntoTheCaretLine) {
  SourceFile src("f.xpr", "\tlet\tx = $\n");
  Diagnostics d(src);
  d.error(ErrorKind::Syntax, {9, 10}, "bad");
  EXPECT_EQ(d.render(d.all()[0]), "f.xpr:1:10: error: bad\n  \tlet\tx = $\n  \t   \t    ^");
}

TEST(Render, MultiByteCharactersTakeOneColumn) {
  // Columns count bytes (10 here), but the caret sits under the character.
  SourceFile src("f.xpr", "a # \xcf\x80\xcf\x80 \xff\n");
  Diagnostics d(src);
  d.error(ErrorKind::Syntax, {9, 10}, "bad");
  EXPECT_EQ(d.render(d.all()[0]), "f.xpr:1:10: error: bad\n  a # \xcf\x80\xcf\x80 ?\n         ^");
}

TEST(Render, LongLinesAreWindowed) {
  std::string line = std::string(200, 'a') + " $ " + std::string(200, 'b');
  SourceFile src("f.xpr", line);
  Diagnostics d(src);
  d.error(ErrorKind::Syntax, {201, 202}, "bad");
  std::string want = "f.xpr:1:202: error: bad\n  ..." + line.substr(161, 120) + "...\n  " +
                     std::string(3 + 40, ' ') + "^";
  EXPECT_EQ(d.render(d.all()[0]), want);
}

TEST(Render, NotesWithAndWithoutRanges) {
  SourceFile src("f.xpr", "one\ntwo\n");
  Diagnostics d(src);
  auto &diag = d.error(ErrorKind::Type, {4, 7}, "main");
  diag.notes.push_back({{0, 3}, true, "related"});
  diag.notes.push_back({{}, false, "plain"});
  EXPECT_EQ(d.render(diag), "f.xpr:2:1: error: main\n  two\n  ^~~\n"
                            "f.xpr:1:1: note: related\n  one\n  ^~~\n"
                            "note: plain");
  try {
    d.check();
    FAIL();
  } catch (const Error &e) {
    EXPECT_EQ(e.kind(), ErrorKind::Type);
    EXPECT_EQ(e.location().line, 2u);
  }
}

TEST(Render, FailThrowsOneRenderedError) {
  SourceFile src("f.xpr", "let x = y\n");
  try {
    fail(src, ErrorKind::Name, {8, 9}, "unknown name 'y'", {{{4, 5}, true, "in 'x'"}});
    FAIL();
  } catch (const Error &e) {
    EXPECT_EQ(e.kind(), ErrorKind::Name);
    EXPECT_EQ(e.message(), "unknown name 'y'");
    EXPECT_EQ(std::string(e.what()),
              "f.xpr:1:9: error: unknown name 'y'\n  let x = y\n          ^\n"
              "f.xpr:1:5: note: in 'x'\n  let x = y\n      ^");
  }
}

// ---- syntax errors, exact text --------------------------------------------------------------

TEST(SyntaxError, UnclosedParenAtEndOfFile) {
  // Inside '(' the line break does not count: the file ends first. The caret goes where the
  // ')' is missing.
  EXPECT_EQ(err("input a: f32[n]\nlet b = a\nlet d = (a + b\n"),
            "bs.xpr:3:15: error: expected ')' to close '(', found end of input\n"
            "  let d = (a + b\n"
            "                ^\n"
            "bs.xpr:3:9: note: '(' opened here\n"
            "  let d = (a + b\n"
            "          ^");
}

TEST(SyntaxError, UnclosedParenBeforeNextStatement) {
  // The line break inside '(' is skipped, so the next line's 'let' is what is found; the
  // caret still goes where the ')' is missing, and the next statement is parsed normally.
  EXPECT_EQ(err("let d = (a + b\nlet e = 1 +\n"),
            "bs.xpr:1:15: error: expected ')' to close '(', found keyword 'let'\n"
            "  let d = (a + b\n"
            "                ^\n"
            "bs.xpr:1:9: note: '(' opened here\n"
            "  let d = (a + b\n"
            "          ^\n"
            "bs.xpr:2:12: error: expected an expression, found end of line\n"
            "  let e = 1 +\n"
            "             ^");
}

TEST(SyntaxError, MissingOperand) {
  EXPECT_EQ(eerr("a * )"), "<expr>:1:5: error: expected an expression, found ')'\n"
                           "  a * )\n"
                           "      ^");
}

TEST(SyntaxError, EmptyExpression) {
  EXPECT_EQ(eerr("  # nothing\n"), "<expr>:2:1: error: expected an expression, found end of input\n"
                                   "\n"
                                   "  ^");
}

TEST(SyntaxError, ChainedComparison) {
  EXPECT_EQ(eerr("0 < x <= 1"), "<expr>:1:7: error: chained comparisons are not supported\n"
                                "  0 < x <= 1\n"
                                "        ^~\n"
                                "note: to test both, write '(0 < x) & (x <= 1)'");
}

TEST(SyntaxError, MessagesQuotingSourceShowControlBytesAsQuestionMarks) {
  // Found by fuzz_frontend (fuzz/regressions/frontend/chained-compare-carriage-return): the
  // rewrite suggested for a chained comparison quotes the source, and a carriage return inside
  // it reached the terminal raw. Messages print control bytes as '?', like source lines do.
  EXPECT_EQ(eerr("p> a< e\r-p"), "<expr>:1:5: error: chained comparisons are not supported\n"
                                  "  p> a< e?-p\n"
                                  "      ^\n"
                                  "note: to test both, write '(p > a) & (a < e?-p)'");
}

TEST(SyntaxError, CallingAParenthesizedExpression) {
  EXPECT_EQ(eerr("(a)(b)"), "<expr>:1:4: error: only a function name can be called\n"
                            "  (a)(b)\n"
                            "     ^");
}

TEST(SyntaxError, CallingACallResult) {
  EXPECT_EQ(eerr("f(a)(b)"), "<expr>:1:5: error: only a function name can be called\n"
                             "  f(a)(b)\n"
                             "      ^\n"
                             "note: the result of a call cannot be called again");
}

TEST(SyntaxError, ImplicitMultiplication) {
  EXPECT_EQ(eerr("2(a + b)"), "<expr>:1:2: error: only a function name can be called\n"
                              "  2(a + b)\n"
                              "   ^\n"
                              "note: there is no implicit multiplication; write '2 * (...)'");
}

TEST(SyntaxError, PositionalAfterKeyword) {
  EXPECT_EQ(eerr("sum(axis=0, x)"),
            "<expr>:1:13: error: positional argument follows keyword argument\n"
            "  sum(axis=0, x)\n"
            "              ^\n"
            "<expr>:1:5: note: keyword argument 'axis' given here\n"
            "  sum(axis=0, x)\n"
            "      ^~~~");
}

TEST(SyntaxError, RepeatedKeyword) {
  EXPECT_EQ(eerr("max(x, axis=0, axis=1)"),
            "<expr>:1:16: error: keyword argument 'axis' is repeated\n"
            "  max(x, axis=0, axis=1)\n"
            "                 ^~~~\n"
            "<expr>:1:8: note: first given here\n"
            "  max(x, axis=0, axis=1)\n"
            "         ^~~~");
}

TEST(SyntaxError, UnclosedCall) {
  EXPECT_EQ(eerr("exp(a,\n    b"),
            "<expr>:2:6: error: expected ',' or ')' after the argument, found end of input\n"
            "      b\n"
            "       ^\n"
            "<expr>:1:4: note: '(' of the call to 'exp' opened here\n"
            "  exp(a,\n"
            "     ^");
}

TEST(SyntaxError, MissingComma) {
  EXPECT_EQ(eerr("f(a b)"), "<expr>:1:5: error: expected ',' or ')' after the argument, found 'b'\n"
                            "  f(a b)\n"
                            "      ^\n"
                            "<expr>:1:2: note: '(' of the call to 'f' opened here\n"
                            "  f(a b)\n"
                            "   ^");
}

TEST(SyntaxError, TupleOutsideKeyword) {
  EXPECT_EQ(eerr("(a, b) * 2"),
            "<expr>:1:1: error: a tuple is only allowed as a keyword argument value, like "
            "axis=(0, 1)\n"
            "  (a, b) * 2\n"
            "  ^~~~~~");
}

TEST(SyntaxError, UnmatchedCloser) {
  EXPECT_EQ(eerr("a + b)"), "<expr>:1:6: error: unmatched ')'\n"
                            "  a + b)\n"
                            "       ^");
}

TEST(SyntaxError, TwoExpressions) {
  EXPECT_EQ(eerr("a + b\nc"), "<expr>:2:1: error: expected end of input, found 'c'\n"
                              "  c\n"
                              "  ^\n"
                              "note: an expression to evaluate is exactly one expression");
}

TEST(SyntaxError, JuxtaposedNames) {
  EXPECT_EQ(eerr("a b"), "<expr>:1:3: error: expected an operator or end of input, found 'b'\n"
                         "  a b\n"
                         "    ^");
}

TEST(SyntaxError, StatementInExpressionForm) {
  EXPECT_EQ(eerr("let x = 1"),
            "<expr>:1:1: error: expected an expression, found keyword 'let'\n"
            "  let x = 1\n"
            "  ^~~\n"
            "note: statements (input, param, let, output) are only allowed in scripts");
}

TEST(SyntaxError, ExpressionStatementInScript) {
  EXPECT_EQ(err("a + b\n"), "bs.xpr:1:1: error: expected a statement: input, param, let or output\n"
                            "  a + b\n"
                            "  ^\n"
                            "note: a script names its results with 'output NAME = EXPR'");
}

TEST(SyntaxError, AssignmentWithoutLet) {
  EXPECT_EQ(err("x = 3\n"), "bs.xpr:1:1: error: expected a statement: input, param, let or output\n"
                            "  x = 3\n"
                            "  ^\n"
                            "note: to bind a name, write 'let x = ...'");
}

TEST(SyntaxError, UnknownDtype) {
  EXPECT_EQ(err("input x: f31[n]\n"),
            "bs.xpr:1:10: error: unknown dtype 'f31'\n"
            "  input x: f31[n]\n"
            "           ^~~\n"
            "note: valid dtypes: bool, i8, i16, i32, i64, u8, u16, u32, u64, f16, bf16, f32, f64");
}

TEST(SyntaxError, MissingColonInInput) {
  EXPECT_EQ(err("input S f32[n]\n"),
            "bs.xpr:1:9: error: expected ':' and a type after 'input S', found 'f32'\n"
            "  input S f32[n]\n"
            "          ^~~");
}

TEST(SyntaxError, KeywordAsName) {
  EXPECT_EQ(err("let output = 1\n"),
            "bs.xpr:1:5: error: expected a name after 'let', found keyword 'output'\n"
            "  let output = 1\n"
            "      ^~~~~~\n"
            "note: 'output' is a keyword and cannot be used as a name");
}

TEST(SyntaxError, TypedLet) {
  EXPECT_EQ(err("let x: f32 = 1\n"), "bs.xpr:1:6: error: expected '=' after 'let x', found ':'\n"
                                     "  let x: f32 = 1\n"
                                     "       ^\n"
                                     "note: a 'let' or 'output' takes no type");
}

TEST(SyntaxError, OutputWithoutValue) {
  EXPECT_EQ(err("output y\n"),
            "bs.xpr:1:9: error: expected '=' after 'output y', found end of line\n"
            "  output y\n"
            "          ^");
}

TEST(SyntaxError, ParamWithShape) {
  EXPECT_EQ(err("param r: f32[n]\n"),
            "bs.xpr:1:10: error: a param is a scalar: its type must have rank 0\n"
            "  param r: f32[n]\n"
            "           ^~~~~~\n"
            "note: write 'f32' (or 'f32[]')");
}

TEST(SyntaxError, BadDimensions) {
  EXPECT_EQ(err("input x: f32[2.5]\n"),
            "bs.xpr:1:14: error: a dimension must be a non-negative integer or a name, found "
            "'2.5'\n"
            "  input x: f32[2.5]\n"
            "               ^~~");
  EXPECT_EQ(err("input x: f32[-1]\n"),
            "bs.xpr:1:14: error: a dimension must be a non-negative integer or a name, found "
            "'-'\n"
            "  input x: f32[-1]\n"
            "               ^");
  EXPECT_EQ(err("input x: f32[n m]\n"),
            "bs.xpr:1:16: error: expected ',' or ']' after the dimension, found 'm'\n"
            "  input x: f32[n m]\n"
            "                 ^\n"
            "bs.xpr:1:13: note: '[' opened here\n"
            "  input x: f32[n m]\n"
            "              ^");
  EXPECT_EQ(err("input x: f32[9223372036854775808]\n"),
            "bs.xpr:1:14: error: dimension 9223372036854775808 is too large (the largest is "
            "9223372036854775807)\n"
            "  input x: f32[9223372036854775808]\n"
            "               ^~~~~~~~~~~~~~~~~~~");
}

TEST(SyntaxError, RankAboveLimitIsALimitError) {
  SourceFile src("bs.xpr", "input x: f32[1,2,3,4,5,6,7,8,9]\n");
  try {
    parse_module(src, false);
    FAIL();
  } catch (const Error &e) {
    EXPECT_EQ(e.kind(), ErrorKind::Limit);
    EXPECT_EQ(std::string(e.what()),
              "bs.xpr:1:10: error: too many dimensions: rank 9 is above the limit of 8\n"
              "  input x: f32[1,2,3,4,5,6,7,8,9]\n"
              "           ^~~~~~~~~~~~~~~~~~~~~~");
  }
}

TEST(SyntaxError, AssignInsteadOfCompare) {
  EXPECT_EQ(err("output m = a = b\n"),
            "bs.xpr:1:14: error: expected an operator or end of line, found '='\n"
            "  output m = a = b\n"
            "               ^\n"
            "note: to compare, use '=='");
}

TEST(SyntaxError, DoubleAmpersand) {
  EXPECT_EQ(eerr("a && b"), "<expr>:1:4: error: expected an expression, found '&'\n"
                            "  a && b\n"
                            "     ^\n"
                            "note: xpr has no '&&'; use '&' (and parenthesize comparisons)");
}

TEST(SyntaxError, Indexing) {
  EXPECT_EQ(eerr("img[1:-1]"), "<expr>:1:4: error: indexing and slicing are not supported\n"
                               "  img[1:-1]\n"
                               "     ^");
}

TEST(SyntaxError, EmptyParentheses) {
  EXPECT_EQ(eerr("f(())"), "<expr>:1:4: error: expected an expression, found ')'\n"
                           "  f(())\n"
                           "     ^");
}

TEST(SyntaxError, TwoStatementsOnOneLine) {
  EXPECT_EQ(err("let a = 1 let b = 2\n"),
            "bs.xpr:1:11: error: expected an operator or end of line, found keyword 'let'\n"
            "  let a = 1 let b = 2\n"
            "            ^~~\n"
            "note: each statement goes on its own line");
}

TEST(SyntaxError, InvalidCharacterInStatement) {
  EXPECT_EQ(err("let a = b ; let c = d\n"), "bs.xpr:1:11: error: unexpected character ';'\n"
                                            "  let a = b ; let c = d\n"
                                            "            ^\n"
                                            "note: statements end at the end of the line");
}

// ---- recovery -----------------------------------------------------------------------------

TEST(Recovery, SeveralErrorsOneThrow) {
  std::string text = "input x: f32[n]\n"
                     "let a = x +\n"    // error 1
                     "let b = a * 2\n"  // fine
                     "let c = (b $ 1\n" // error 2 (lexer) — the rest of the line is skipped
                     "output d = c c\n" // error 3
                     "param p: f31\n"   // error 4
                     "output e = b\n";  // fine
  SourceFile src("r.xpr", text);
  try {
    parse_module(src, false);
    FAIL();
  } catch (const Error &e) {
    EXPECT_EQ(e.kind(), ErrorKind::Syntax);
    EXPECT_EQ(e.message(), "expected an expression, found end of line");
    EXPECT_EQ(e.location().line, 2u);
    EXPECT_EQ(std::string(e.what()),
              "r.xpr:2:12: error: expected an expression, found end of line\n"
              "  let a = x +\n"
              "             ^\n"
              "r.xpr:4:12: error: unexpected character '$'\n"
              "  let c = (b $ 1\n"
              "             ^\n"
              "r.xpr:5:14: error: expected an operator or end of line, found 'c'\n"
              "  output d = c c\n"
              "               ^\n"
              "r.xpr:6:10: error: unknown dtype 'f31'\n"
              "  param p: f31\n"
              "           ^~~\n"
              "note: valid dtypes: bool, i8, i16, i32, i64, u8, u16, u32, u64, f16, bf16, f32, "
              "f64");
  }
}

TEST(Recovery, ErrorsAreCapped) {
  std::string text;
  for (int i = 0; i < 50; ++i)
    text += "let x = )\n";
  SourceFile src("cap.xpr", text);
  try {
    parse_module(src, false);
    FAIL();
  } catch (const Error &e) {
    std::string what = e.what();
    std::size_t count = 0;
    for (std::size_t p = what.find(": error: "); p != std::string::npos;
         p = what.find(": error: ", p + 1))
      ++count;
    EXPECT_EQ(count, Diagnostics::kMaxErrors);
    std::string tail = "\nnote: too many errors; stopping after 20";
    ASSERT_GE(what.size(), tail.size());
    EXPECT_EQ(what.substr(what.size() - tail.size()), tail);
  }
}

TEST(Recovery, OneErrorPerBadLine) {
  // Garbage after the first error on a line is skipped without further reports.
  SourceFile src("g.xpr", "let a = $ @ \xff ! (\nlet b = 1\n");
  try {
    parse_module(src, false);
    FAIL();
  } catch (const Error &e) {
    EXPECT_EQ(std::string(e.what()), "g.xpr:1:9: error: unexpected character '$'\n"
                                     "  let a = $ @ ? ! (\n"
                                     "          ^");
  }
}

TEST(Recovery, LexerErrorsCountTowardsTheCap) {
  std::string text;
  for (int i = 0; i < 50; ++i)
    text += "let x = $\nlet y = )\n";
  SourceFile src("cap.xpr", text);
  try {
    parse_module(src, false);
    FAIL();
  } catch (const Error &e) {
    std::string what = e.what();
    std::size_t count = 0;
    for (std::size_t p = what.find(": error: "); p != std::string::npos;
         p = what.find(": error: ", p + 1))
      ++count;
    EXPECT_EQ(count, Diagnostics::kMaxErrors);
  }
}

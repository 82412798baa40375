// frontend/Lexer.h — turns xpr source bytes into tokens, reporting bad bytes and bad literals.
#pragma once

#include "support/Source.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace xpr::fe {

enum class TokKind : std::uint8_t {
  Eof,
  Newline, // one per line break outside comments; the parser ignores them inside ( ) and [ ]
  Ident,
  Int,
  Float,
  // keywords
  KwInput,
  KwParam,
  KwLet,
  KwOutput,
  KwTrue,
  KwFalse,
  // operators and punctuation
  Plus,
  Minus,
  Star,
  Slash,
  SlashSlash,
  Percent,
  StarStar,
  Tilde,
  Amp,
  Pipe,
  Caret,
  Shl,
  Shr,
  EqEq,
  NotEq,
  Lt,
  Le,
  Gt,
  Ge,
  LParen,
  RParen,
  LBracket,
  RBracket,
  Comma,
  Colon,
  Assign,
  // a character or literal the lexer already reported; the parser must not report it again
  Invalid,
};

/// The fixed spelling of a keyword or operator token ("let", "**"), or a word for the others
/// ("identifier", "end of line").
const char *tok_spelling(TokKind k);

struct Token {
  TokKind kind = TokKind::Eof;
  SourceRange range;
  bool first_on_line = false; // no token precedes it on its line
  // Numbers (Int, Float): the value. An Int above u64 max has `overflow` set (and is reported).
  bool overflow = false;
  std::uint64_t uvalue = 0;
  double fvalue = 0;
};

/// A streaming lexer: tokens come one at a time, so memory stays proportional to what the
/// parser keeps, not to the source size.
///
/// Lexical rules (docs/language.md):
///   identifier  [A-Za-z_][A-Za-z0-9_]*   (input param let output true false are keywords)
///   integer     decimal `123`, `10_000` (no leading zeros: `007` is an error), hex `0x1F`
///   float       `1.5` `.5` `1.` `1e-3` `2.5E+10`; `_` only between two digits
///   comment     `#` to the end of the line; may hold any valid UTF-8 except NUL
///   whitespace  space, tab, form feed, and '\r' (so CRLF files work)
/// Anything else (other ASCII punctuation, control bytes, NUL, non-ASCII outside comments,
/// invalid UTF-8 anywhere) is reported and yields an Invalid token.
class Lexer {
public:
  Lexer(const SourceFile &src, Diagnostics &diags);
  Token next();
  /// While quiet, errors are not reported (Invalid tokens still come out). The parser skips
  /// the rest of a bad line quietly, so one mistake gives one message.
  void set_quiet(bool q) { quiet_ = q; }

private:
  void report(SourceRange r, std::string message, std::vector<Note> notes = {});
  bool skip_comment(); // false if the comment held invalid UTF-8 (reported)
  Token lex_number(std::uint32_t start);
  Token lex_invalid(std::uint32_t start);
  Token make(TokKind k, std::uint32_t begin, std::uint32_t end);

  const SourceFile &src_;
  std::string_view text_;
  Diagnostics &diags_;
  std::uint32_t pos_ = 0;
  bool at_line_start_ = true;
  bool quiet_ = false;
};

/// Every token of `src` up to and including Eof (tests and tools; the parser streams).
std::vector<Token> lex_all(const SourceFile &src, Diagnostics &diags);

/// How a message names a token: `'foo'`, `keyword 'let'`, `number '1.5'`, `end of line`.
std::string describe(const Token &t, const SourceFile &src);

} // namespace xpr::fe

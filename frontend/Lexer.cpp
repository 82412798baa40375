// frontend/Lexer.cpp — the xpr lexer: tokens, number literals, comments, and bad-byte reports.
#include "frontend/Lexer.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <limits>

namespace xpr::fe {

const char *tok_spelling(TokKind k) {
  switch (k) {
  case TokKind::Eof:
    return "end of input";
  case TokKind::Newline:
    return "end of line";
  case TokKind::Ident:
    return "identifier";
  case TokKind::Int:
    return "integer";
  case TokKind::Float:
    return "float";
  case TokKind::KwInput:
    return "input";
  case TokKind::KwParam:
    return "param";
  case TokKind::KwLet:
    return "let";
  case TokKind::KwOutput:
    return "output";
  case TokKind::KwTrue:
    return "true";
  case TokKind::KwFalse:
    return "false";
  case TokKind::Plus:
    return "+";
  case TokKind::Minus:
    return "-";
  case TokKind::Star:
    return "*";
  case TokKind::Slash:
    return "/";
  case TokKind::SlashSlash:
    return "//";
  case TokKind::Percent:
    return "%";
  case TokKind::StarStar:
    return "**";
  case TokKind::Tilde:
    return "~";
  case TokKind::Amp:
    return "&";
  case TokKind::Pipe:
    return "|";
  case TokKind::Caret:
    return "^";
  case TokKind::Shl:
    return "<<";
  case TokKind::Shr:
    return ">>";
  case TokKind::EqEq:
    return "==";
  case TokKind::NotEq:
    return "!=";
  case TokKind::Lt:
    return "<";
  case TokKind::Le:
    return "<=";
  case TokKind::Gt:
    return ">";
  case TokKind::Ge:
    return ">=";
  case TokKind::LParen:
    return "(";
  case TokKind::RParen:
    return ")";
  case TokKind::LBracket:
    return "[";
  case TokKind::RBracket:
    return "]";
  case TokKind::Comma:
    return ",";
  case TokKind::Colon:
    return ":";
  case TokKind::Assign:
    return "=";
  case TokKind::Invalid:
    return "invalid character";
  }
  return "?";
}

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool is_ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_ident_char(char c) { return is_ident_start(c) || is_digit(c); }

/// Decodes one UTF-8 sequence at s[i]: its length and code point, or length 0 if invalid
/// (overlong forms, surrogates and values above U+10FFFF are invalid).
std::pair<std::size_t, std::uint32_t> decode_utf8(std::string_view s, std::size_t i) {
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  std::size_t n;
  std::uint32_t cp;
  if (c < 0x80) return {1, c};
  if (c >= 0xC2 && c <= 0xDF)
    n = 2, cp = c & 0x1F;
  else if (c >= 0xE0 && c <= 0xEF)
    n = 3, cp = c & 0x0F;
  else if (c >= 0xF0 && c <= 0xF4)
    n = 4, cp = c & 0x07;
  else
    return {0, 0};
  if (i + n > s.size()) return {0, 0};
  for (std::size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return {0, 0};
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
      (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
    return {0, 0};
  return {n, cp};
}

/// Shortens an over-long quoted token so a hostile 10 MB identifier makes a short message.
std::string clip(std::string_view s) {
  constexpr std::size_t kMax = 40;
  if (s.size() <= kMax) return std::string(s);
  return std::string(s.substr(0, kMax)) + "...";
}

struct Keyword {
  std::string_view text;
  TokKind kind;
};
constexpr Keyword kKeywords[] = {
    {"input", TokKind::KwInput},   {"param", TokKind::KwParam}, {"let", TokKind::KwLet},
    {"output", TokKind::KwOutput}, {"true", TokKind::KwTrue},   {"false", TokKind::KwFalse},
};

} // namespace

std::string describe(const Token &t, const SourceFile &src) {
  std::string_view text =
      std::string_view(src.text()).substr(t.range.begin, t.range.end - t.range.begin);
  switch (t.kind) {
  case TokKind::Eof:
  case TokKind::Newline:
  case TokKind::Invalid:
    return tok_spelling(t.kind);
  case TokKind::KwInput:
  case TokKind::KwParam:
  case TokKind::KwLet:
  case TokKind::KwOutput:
    return fmt::format("keyword '{}'", text);
  default:
    return fmt::format("'{}'", clip(text));
  }
}

Lexer::Lexer(const SourceFile &src, Diagnostics &diags)
    : src_(src), text_(src.text()), diags_(diags) {}

void Lexer::report(SourceRange r, std::string message, std::vector<Note> notes) {
  if (quiet_ || diags_.too_many()) return;
  diags_.error(ErrorKind::Syntax, r, std::move(message)).notes = std::move(notes);
}

Token Lexer::make(TokKind k, std::uint32_t begin, std::uint32_t end) {
  Token t;
  t.kind = k;
  t.range = {begin, end};
  t.first_on_line = at_line_start_;
  at_line_start_ = k == TokKind::Newline;
  pos_ = end;
  return t;
}

bool Lexer::skip_comment() {
  // pos_ is at '#'. Comments may hold any valid UTF-8 but NUL; only the first bad byte of a
  // comment is reported.
  bool ok = true;
  while (pos_ < text_.size() && text_[pos_] != '\n') {
    auto c = static_cast<unsigned char>(text_[pos_]);
    if (c == 0) {
      // A NUL would cut the text short for any C-string tool that reads the file next.
      if (ok) report({pos_, pos_ + 1}, "invalid byte 0x00 (NUL) in comment");
      ok = false;
      ++pos_;
      continue;
    }
    if (c < 0x80) {
      ++pos_;
      continue;
    }
    auto [n, cp] = decode_utf8(text_, pos_);
    if (n == 0) {
      if (ok) report({pos_, pos_ + 1}, fmt::format("invalid UTF-8 byte 0x{:02x} in comment", c));
      ok = false;
      n = 1;
    }
    pos_ += static_cast<std::uint32_t>(n);
  }
  return ok;
}

Token Lexer::next() {
  for (;;) {
    if (pos_ >= text_.size()) return make(TokKind::Eof, pos_, pos_);
    char c = text_[pos_];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\f') {
      ++pos_;
      continue;
    }
    if (c == '#') {
      skip_comment();
      continue;
    }
    break;
  }
  std::uint32_t start = pos_;
  char c = text_[pos_];
  char c1 = pos_ + 1 < text_.size() ? text_[pos_ + 1] : '\0';
  auto op = [&](TokKind k, std::uint32_t len) { return make(k, start, start + len); };

  if (c == '\n') return op(TokKind::Newline, 1);
  if (is_ident_start(c)) {
    std::uint32_t end = pos_;
    while (end < text_.size() && is_ident_char(text_[end]))
      ++end;
    std::string_view word = text_.substr(start, end - start);
    TokKind k = TokKind::Ident;
    for (const Keyword &kw : kKeywords)
      if (kw.text == word) k = kw.kind;
    return make(k, start, end);
  }
  if (is_digit(c) || (c == '.' && is_digit(c1))) return lex_number(start);

  switch (c) {
  case '+':
    return op(TokKind::Plus, 1);
  case '-':
    return op(TokKind::Minus, 1);
  case '*':
    return c1 == '*' ? op(TokKind::StarStar, 2) : op(TokKind::Star, 1);
  case '/':
    return c1 == '/' ? op(TokKind::SlashSlash, 2) : op(TokKind::Slash, 1);
  case '%':
    return op(TokKind::Percent, 1);
  case '~':
    return op(TokKind::Tilde, 1);
  case '&':
    return op(TokKind::Amp, 1);
  case '|':
    return op(TokKind::Pipe, 1);
  case '^':
    return op(TokKind::Caret, 1);
  case '<':
    if (c1 == '<') return op(TokKind::Shl, 2);
    return c1 == '=' ? op(TokKind::Le, 2) : op(TokKind::Lt, 1);
  case '>':
    if (c1 == '>') return op(TokKind::Shr, 2);
    return c1 == '=' ? op(TokKind::Ge, 2) : op(TokKind::Gt, 1);
  case '=':
    return c1 == '=' ? op(TokKind::EqEq, 2) : op(TokKind::Assign, 1);
  case '!':
    if (c1 == '=') return op(TokKind::NotEq, 2);
    break;
  case '(':
    return op(TokKind::LParen, 1);
  case ')':
    return op(TokKind::RParen, 1);
  case '[':
    return op(TokKind::LBracket, 1);
  case ']':
    return op(TokKind::RBracket, 1);
  case ',':
    return op(TokKind::Comma, 1);
  case ':':
    return op(TokKind::Colon, 1);
  default:
    break;
  }
  return lex_invalid(start);
}

Token Lexer::lex_invalid(std::uint32_t start) {
  auto c = static_cast<unsigned char>(text_[start]);
  std::uint32_t end = start + 1;
  if (c == 0) {
    report({start, end}, "invalid byte 0x00 (NUL) in source");
  } else if (c < 0x20 || c == 0x7F) {
    report({start, end}, fmt::format("invalid control byte 0x{:02x} in source", c));
  } else if (c >= 0x80) {
    auto [n, cp] = decode_utf8(text_, start);
    if (n == 0) {
      report(
          {start, end},
          fmt::format("invalid byte 0x{:02x} in source; xpr source is ASCII outside comments", c));
    } else {
      end = start + static_cast<std::uint32_t>(n);
      std::vector<Note> notes;
      if (cp == 0xA0)
        notes.push_back({{}, false, "U+00A0 is a no-break space; replace it with a plain space"});
      report({start, end},
             fmt::format("non-ASCII character '{}' (U+{:04X}) in source; xpr source is ASCII "
                         "outside comments",
                         text_.substr(start, n), cp),
             std::move(notes));
    }
  } else {
    std::vector<Note> notes;
    switch (c) {
    case '!':
      notes.push_back({{}, false, "use '~' for logical not and '!=' for not-equal"});
      break;
    case '\\':
      notes.push_back({{},
                       false,
                       "there are no line continuations; inside ( ) an expression may span "
                       "several lines"});
      break;
    case '"':
    case '\'':
      notes.push_back({{}, false, "xpr has no string literals"});
      break;
    case ';':
      notes.push_back({{}, false, "statements end at the end of the line"});
      break;
    default:
      break;
    }
    report({start, end}, fmt::format("unexpected character '{}'", static_cast<char>(c)),
           std::move(notes));
  }
  return make(TokKind::Invalid, start, end);
}

Token Lexer::lex_number(std::uint32_t start) {
  // Take the whole run of characters that could belong to a number (so `2x` and `1.5.3` are
  // one bad literal, not two tokens), then check it against the grammar.
  bool hex = text_[start] == '0' && start + 1 < text_.size() &&
             (text_[start + 1] == 'x' || text_[start + 1] == 'X');
  std::uint32_t end = start;
  while (end < text_.size()) {
    char c = text_[end];
    if (is_ident_char(c) || c == '.') {
      ++end;
    } else if ((c == '+' || c == '-') && !hex && (text_[end - 1] == 'e' || text_[end - 1] == 'E') &&
               end + 1 < text_.size() && is_digit(text_[end + 1])) {
      ++end; // exponent sign
    } else {
      break;
    }
  }
  std::string_view run = text_.substr(start, end - start);
  Token tok = make(TokKind::Int, start, end);
  auto invalid = [&](SourceRange r, std::string msg, std::vector<Note> notes = {}) {
    report(r, std::move(msg), std::move(notes));
    tok.kind = TokKind::Invalid;
    return tok;
  };
  auto already_reported = [&] {
    tok.kind = TokKind::Invalid;
    return tok;
  };
  auto at = [&](std::size_t i) { return static_cast<std::uint32_t>(start + i); };
  std::string digits; // the literal without underscores
  digits.reserve(run.size());
  std::size_t i = 0;
  // digit ('_'? digit)*, appending to `digits`; false (reported) on a misplaced '_'.
  bool underscore_error = false;
  auto digit_part = [&](auto pred) {
    while (i < run.size()) {
      if (pred(run[i])) {
        digits += run[i++];
      } else if (run[i] == '_' && i > 0 && pred(run[i - 1]) && i + 1 < run.size() &&
                 pred(run[i + 1])) {
        ++i;
      } else if (run[i] == '_') {
        if (!underscore_error)
          report({at(i), at(i + 1)}, "'_' in a number must sit between two digits");
        underscore_error = true;
        ++i;
      } else {
        break;
      }
    }
  };

  if (hex) {
    i = 2;
    digit_part(is_hex);
    if (underscore_error) return already_reported();
    if (i < run.size())
      return invalid({at(i), end},
                     fmt::format("invalid digit '{}' in hex literal '{}'", run[i], clip(run)));
    if (digits.empty()) return invalid({start, end}, "hex literal '0x' has no digits");
    std::uint64_t v = 0;
    for (char d : digits) {
      unsigned dv = is_digit(d) ? d - '0' : (d | 0x20) - 'a' + 10;
      if (v > (std::numeric_limits<std::uint64_t>::max() >> 4)) {
        tok.overflow = true;
        break;
      }
      v = v << 4 | dv;
    }
    if (tok.overflow)
      report({start, end}, "integer literal is too large (the largest is 18446744073709551615)");
    tok.uvalue = tok.overflow ? 0 : v;
    return tok;
  }

  std::size_t int_digits = 0;
  digit_part(is_digit);
  int_digits = digits.size();
  bool is_float = false;
  if (i < run.size() && run[i] == '.') {
    is_float = true;
    digits += run[i++];
    digit_part(is_digit);
  }
  if (i < run.size() && (run[i] == 'e' || run[i] == 'E') &&
      (i + 1 == run.size() || is_digit(run[i + 1]) || run[i + 1] == '+' || run[i + 1] == '-' ||
       run[i + 1] == '_')) {
    is_float = true;
    std::size_t e_at = i;
    digits += run[i++];
    if (i < run.size() && (run[i] == '+' || run[i] == '-')) digits += run[i++];
    std::size_t before = digits.size();
    digit_part(is_digit);
    if (digits.size() == before && !underscore_error)
      return invalid({at(e_at), end}, fmt::format("the exponent of '{}' has no digits", clip(run)));
  }
  if (underscore_error) return already_reported();
  if (i < run.size()) {
    std::string_view suffix = run.substr(i);
    if (run[i] == '.')
      return invalid({start, end}, fmt::format("invalid number literal '{}'", clip(run)));
    if (!is_float && digits == "0" && (run[i] | 0x20) != 'e' &&
        ((run[i] | 0x20) == 'b' || (run[i] | 0x20) == 'o'))
      return invalid({start, end},
                     fmt::format("invalid number literal '{}'; binary and octal literals are "
                                 "not supported (use decimal, or hex with 0x)",
                                 clip(run)));
    std::string_view number = run.substr(0, i);
    return invalid({at(i), end},
                   fmt::format("invalid suffix '{}' on number '{}'", clip(suffix), clip(number)),
                   {{{},
                     false,
                     fmt::format("there is no implicit multiplication; write '{} * {}'",
                                 clip(number), clip(suffix))}});
  }

  if (!is_float) {
    if (int_digits > 1 && digits[0] == '0' && digits.find_first_not_of('0') != std::string::npos)
      return invalid({start, end}, "leading zeros are not allowed in an integer literal",
                     {{{}, false, "write it without the zeros, or in hex with 0x"}});
    std::uint64_t v = 0;
    constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
    for (char d : digits) {
      unsigned dv = d - '0';
      if (v > (kMax - dv) / 10) {
        tok.overflow = true;
        break;
      }
      v = v * 10 + dv;
    }
    if (tok.overflow)
      report({start, end}, "integer literal is too large (the largest is 18446744073709551615)");
    tok.uvalue = tok.overflow ? 0 : v;
    return tok;
  }

  tok.kind = TokKind::Float;
  double v = 0;
  auto res =
      std::from_chars(digits.data(), digits.data() + digits.size(), v, std::chars_format::general);
  if (res.ec == std::errc::result_out_of_range) {
    // Too big or too small for f64. Decide which from the decimal magnitude: the position of
    // the first non-zero digit relative to the point, plus the exponent (saturated).
    std::size_t epos = digits.find_first_of("eE");
    std::string_view mant = std::string_view(digits).substr(0, epos);
    std::size_t point = mant.find('.');
    if (point == std::string_view::npos) point = mant.size();
    std::size_t nz = mant.find_first_not_of("0.");
    long long mag =
        nz < point ? static_cast<long long>(point - nz) - 1 : -static_cast<long long>(nz - point);
    long long ex = 0;
    if (epos != std::string::npos) {
      std::size_t k = epos + 1;
      bool neg = digits[k] == '-';
      if (digits[k] == '+' || digits[k] == '-') ++k;
      for (; k < digits.size(); ++k)
        ex = std::min(ex * 10 + (digits[k] - '0'), 1'000'000'000LL);
      if (neg) ex = -ex;
    }
    if (mag + ex > 0) {
      report({start, end}, "float literal is out of range for f64",
             {{{}, false, "the largest f64 is about 1.7976931348623157e308"}});
      v = HUGE_VAL;
    } else {
      v = 0; // underflow rounds to zero, as in NumPy and Python
    }
  } else if (res.ec != std::errc() || res.ptr != digits.data() + digits.size()) {
    return invalid({start, end}, fmt::format("invalid number literal '{}'", clip(run)));
  }
  tok.fvalue = v;
  return tok;
}

std::vector<Token> lex_all(const SourceFile &src, Diagnostics &diags) {
  Lexer lex(src, diags);
  std::vector<Token> out;
  for (;;) {
    out.push_back(lex.next());
    if (out.back().kind == TokKind::Eof) return out;
  }
}

} // namespace xpr::fe

// compiler/ir/IRParser.cpp — parses the textual Graph IR (the inverse of Printer.cpp).
//
// Why a parser for an internal format at all: golden tests of passes are written as IR text
// (tests/ir/golden), `xpr --emit=ir` output can be edited and fed back, and the fuzzers hit it.
// Design choices:
//  - Its own tiny tokenizer, independent of the language lexer in frontend/: the IR has
//    different tokens (%N, quoted names with escapes, `inf`/`nan` literals) and must not change
//    when the surface language does.
//  - Line-oriented: one statement per line, so a newline is a token. That keeps error messages
//    precise ("expected ':'" at the end of the broken line, not somewhere on the next one).
//  - The grammar is flat (no nesting beyond `{ [ ] }` inside one attribute list), so the
//    parser never recurses: hostile input cannot exhaust the stack. Every integer is parsed
//    with overflow checks; every loop consumes at least one token; the work is linear in the
//    input size.
//  - parse() checks what only the text can tell (syntax, numbering, references, literal ranges,
//    duplicate outputs) and reports it as a user error with a caret. Type consistency of the
//    nodes (does `add` of f32[m] and f32[n] make sense?) is the verifier's job: callers that want
//    a valid graph call verify() after parse(). That keeps one authority for the invariants.
//
// Grammar (newlines separate statements; `#` starts a comment to end of line):
//   file   := 'graph' '{' NL { stmt NL } '}' [NL...] EOF
//   stmt   := %N '=' op body ':' type  |  'output' STRING '=' %N
//   body   := STRING (input, param) | LITERAL (const) | [%a {',' %b}] [attrs] (others)
//   attrs  := '{' 'axes' '=' '[' [INT {',' INT}] ']' ',' 'keepdims' '=' BOOL '}'  (any order)
//   type   := DTYPE '[' [dim {',' dim}] ']'     dim := INT | IDENT
#include "compiler/ir/Graph.h"
#include "support/Source.h"

#include <algorithm>
#include <charconv>
#include <climits>
#include <cmath>
#include <limits>
#include <map>
#include <optional>

namespace xpr::ir {

namespace {

// The language allows rank 0 to 8 (design.md §1). The parser enforces it so a hostile type
// cannot allocate an absurd dims vector one token at a time without bound on its meaning.
constexpr std::size_t kMaxRank = 8;

enum class Tok { Ident, Value, Number, String, Punct, Newline, Eof };

struct Token {
  Tok kind = Tok::Eof;
  std::uint32_t begin = 0, end = 0;
  std::string_view text; // the raw spelling
  std::string str;       // String: the unescaped contents
  SourceRange range() const { return {begin, end}; }
};

bool is_ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_ident_char(char c) { return is_ident_start(c) || (c >= '0' && c <= '9'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// How a byte is named in a message: printable ASCII as itself, anything else as \xNN, so a
// diagnostic never contains raw control bytes from hostile input.
std::string byte_name(unsigned char c) {
  if (c >= 0x20 && c < 0x7f) return std::string(1, static_cast<char>(c));
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string("\\x") + kHex[c >> 4] + kHex[c & 15];
}

// A token's spelling for an error message, truncated so one giant token cannot make a giant
// diagnostic.
std::string spell(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size() && i < 40; ++i)
    out += byte_name(static_cast<unsigned char>(s[i]));
  if (s.size() > 40) out += "...";
  return out;
}

std::string describe(const Token &t) {
  switch (t.kind) {
  case Tok::Newline:
    return "end of line";
  case Tok::Eof:
    return "end of input";
  case Tok::String:
    return "a string";
  default:
    return "'" + spell(t.text) + "'";
  }
}

// Edit distance for "did you mean" (op and dtype names are short; quadratic is fine), with
// adjacent transpositions counting as one edit: "f23" is one typo away from "f32". The inputs
// are capped so a 1 MB identifier costs nothing.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  if (a.size() > 32 || b.size() > 32) return SIZE_MAX;
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i)
    d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j)
    d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i)
    for (std::size_t j = 1; j <= b.size(); ++j) {
      d[i][j] =
          std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1])});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

template <class Names> std::string suggestion(std::string_view word, const Names &names) {
  std::string best;
  std::size_t best_d = SIZE_MAX;
  for (std::string_view n : names) {
    std::size_t d = edit_distance(word, n);
    if (d < best_d) best_d = d, best = std::string(n);
  }
  // Only suggest a close neighbour: two edits, and fewer than the word has letters (so "x"
  // does not "mean" "or").
  if (best_d <= 2 && best_d < word.size()) return "; did you mean '" + best + "'?";
  return "";
}

/// Parsed integer literal: sign and magnitude, so i64 min and u64 max are both representable.
struct IntLit {
  bool negative = false;
  std::uint64_t magnitude = 0;
};

/// Decimal integer with an optional '-'; nullopt if not of that form or beyond 64 bits.
std::optional<IntLit> parse_int_lit(std::string_view s) {
  IntLit r;
  std::size_t i = 0;
  if (i < s.size() && s[i] == '-') r.negative = true, ++i;
  if (i == s.size()) return std::nullopt;
  for (; i < s.size(); ++i) {
    if (!is_digit(s[i])) return std::nullopt;
    auto d = static_cast<std::uint64_t>(s[i] - '0');
    if (r.magnitude > (UINT64_MAX - d) / 10) return std::nullopt;
    r.magnitude = r.magnitude * 10 + d;
  }
  return r;
}

// Rounds a double to the nearest f16/bf16 value (ties to even), or nullopt when it rounds past
// the largest finite value. Written out here because the project has no half type the parser
// could lean on: the quantum (ulp) at x's binade is a power of two, so scaling by it, rounding
// to an integer with nearbyint (default mode: ties to even) and scaling back is exact.
// A decimal literal is rounded twice (text -> double -> half); for hand-written decimals that
// could differ from a direct rounding in rare halfway cases, but print() writes halves as their
// exact double value, so printed text always round-trips exactly.
std::optional<double> round_to_half(double x, DType t) {
  if (std::isnan(x) || std::isinf(x) || x == 0) return x;
  const int precision = t == DType::F16 ? 11 : 8;
  const int emin = t == DType::F16 ? -14 : -126;
  const double max = t == DType::F16 ? 65504.0 : std::ldexp(255.0, 120); // 0x1.fep127
  int e = std::ilogb(x);
  int q = std::max(e, emin) - (precision - 1);
  double r = std::ldexp(std::nearbyint(std::ldexp(x, -q)), q);
  if (std::fabs(r) > max) return std::nullopt;
  return r;
}

class Parser {
public:
  explicit Parser(const SourceFile &src) : src_(src), text_(src.text()) {}

  Graph run() {
    next();
    skip_newlines();
    if (!(tok_.kind == Tok::Ident && tok_.text == "graph"))
      error(tok_.range(), "expected 'graph' at the start of the IR, found " + describe(tok_));
    next();
    Token open = expect_punct('{', "after 'graph'");
    if (tok_.kind != Tok::Newline)
      error(tok_.range(), "expected end of line after 'graph {', found " + describe(tok_));
    for (;;) {
      skip_newlines();
      if (tok_.kind == Tok::Punct && tok_.text == "}") break;
      if (tok_.kind == Tok::Eof)
        fail(src_, ErrorKind::Syntax, tok_.range(), "expected '}' to close the graph",
             {Note{open.range(), true, "the graph was opened here"}});
      statement();
      if (tok_.kind != Tok::Newline && !(tok_.kind == Tok::Punct && tok_.text == "}"))
        error(tok_.range(), "expected end of line, found " + describe(tok_));
    }
    next();
    skip_newlines();
    if (tok_.kind != Tok::Eof)
      error(tok_.range(), "unexpected " + describe(tok_) + " after the end of the graph");
    return std::move(g_);
  }

private:
  const SourceFile &src_;
  std::string_view text_;
  std::size_t pos_ = 0;
  Token tok_;
  Graph g_;
  std::map<std::string, SourceRange> output_names_;

  [[noreturn]] void error(SourceRange r, std::string msg) {
    fail(src_, ErrorKind::Syntax, r, std::move(msg));
  }

  // ---- tokenizer -------------------------------------------------------------------------

  void next() { tok_ = lex(); }

  Token make(Tok k, std::size_t b) {
    Token t;
    t.kind = k;
    t.begin = static_cast<std::uint32_t>(b);
    t.end = static_cast<std::uint32_t>(pos_);
    t.text = text_.substr(b, pos_ - b);
    return t;
  }

  Token lex() {
    // Whitespace (including '\r', so CRLF files parse) and comments are skipped; a newline is
    // a token because statements end at line ends.
    for (;;) {
      while (pos_ < text_.size() &&
             (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\r'))
        ++pos_;
      if (pos_ < text_.size() && text_[pos_] == '#') {
        while (pos_ < text_.size() && text_[pos_] != '\n')
          ++pos_;
        continue;
      }
      break;
    }
    std::size_t b = pos_;
    if (pos_ >= text_.size()) {
      // Point an error at end of input at the end of the last line rather than at the empty
      // "line" after a final newline, so the caret has some text to sit under.
      Token t = make(Tok::Eof, b);
      if (b > 0 && text_[b - 1] == '\n') t.begin = t.end = static_cast<std::uint32_t>(b - 1);
      return t;
    }
    char c = text_[pos_];
    if (c == '\n') {
      ++pos_;
      return make(Tok::Newline, b);
    }
    if (is_ident_start(c)) {
      while (pos_ < text_.size() && is_ident_char(text_[pos_]))
        ++pos_;
      return make(Tok::Ident, b);
    }
    if (c == '%') {
      ++pos_;
      if (pos_ >= text_.size() || !is_digit(text_[pos_]))
        error({static_cast<std::uint32_t>(b), static_cast<std::uint32_t>(pos_)},
              "expected a value number after '%'");
      while (pos_ < text_.size() && is_digit(text_[pos_]))
        ++pos_;
      return make(Tok::Value, b);
    }
    // Numbers are lexed loosely — a sign, then any run of letters, digits, '.', and a sign
    // right after an exponent 'e' — and validated where their meaning (dtype) is known. That
    // lets "-inf", "1e-5" and "0x12" each be one token, so the error caret covers the whole
    // bad literal rather than its first character.
    if (is_digit(c) || c == '.' ||
        ((c == '-' || c == '+') && pos_ + 1 < text_.size() &&
         (is_ident_char(text_[pos_ + 1]) || text_[pos_ + 1] == '.'))) {
      ++pos_;
      while (pos_ < text_.size()) {
        char d = text_[pos_];
        if (is_ident_char(d) || d == '.') {
          ++pos_;
        } else if ((d == '-' || d == '+') && (text_[pos_ - 1] == 'e' || text_[pos_ - 1] == 'E') &&
                   pos_ - 1 > b && (is_digit(text_[pos_ - 2]) || text_[pos_ - 2] == '.')) {
          ++pos_;
        } else {
          break;
        }
      }
      return make(Tok::Number, b);
    }
    if (c == '"') return lex_string(b);
    // '(' ')' ';' are in no statement, but lexing them as tokens lets the parser say what it
    // expected there ("expected '[' after the dtype") instead of "unexpected character".
    if (c == '=' || c == ',' || c == ':' || c == '{' || c == '}' || c == '[' || c == ']' ||
        c == '(' || c == ')' || c == ';') {
      ++pos_;
      return make(Tok::Punct, b);
    }
    ++pos_;
    error({static_cast<std::uint32_t>(b), static_cast<std::uint32_t>(pos_)},
          "unexpected character '" + byte_name(static_cast<unsigned char>(c)) + "'");
  }

  static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  Token lex_string(std::size_t b) {
    std::string value;
    ++pos_; // opening quote
    for (;;) {
      if (pos_ >= text_.size() || text_[pos_] == '\n')
        error({static_cast<std::uint32_t>(b), static_cast<std::uint32_t>(pos_)},
              "unterminated string");
      char c = text_[pos_];
      if (c == '"') {
        ++pos_;
        break;
      }
      if (c != '\\') {
        value += c;
        ++pos_;
        continue;
      }
      std::size_t esc = pos_;
      ++pos_;
      char e = pos_ < text_.size() ? text_[pos_] : '\0';
      if (e == '"' || e == '\\') {
        value += e;
        ++pos_;
      } else if (e == 'n' || e == 't') { // not printed (print uses \x0a), but handy by hand
        value += e == 'n' ? '\n' : '\t';
        ++pos_;
      } else if (e == 'x' && pos_ + 2 < text_.size() && hex_value(text_[pos_ + 1]) >= 0 &&
                 hex_value(text_[pos_ + 2]) >= 0) {
        value += static_cast<char>(hex_value(text_[pos_ + 1]) * 16 + hex_value(text_[pos_ + 2]));
        pos_ += 3;
      } else {
        std::size_t end = std::min(pos_ + (e == 'x' ? 3 : 1), text_.size());
        // Stop the caret at a line end so it stays on the line shown.
        while (end > pos_ && text_.substr(pos_, end - pos_).find('\n') != std::string_view::npos)
          --end;
        error({static_cast<std::uint32_t>(esc), static_cast<std::uint32_t>(end)},
              "invalid escape in string (expected \\\", \\\\, \\n, \\t or \\xNN)");
      }
    }
    Token t = make(Tok::String, b);
    t.str = std::move(value);
    return t;
  }

  // ---- grammar helpers -------------------------------------------------------------------

  void skip_newlines() {
    while (tok_.kind == Tok::Newline)
      next();
  }

  bool at_punct(char c) const {
    return tok_.kind == Tok::Punct && tok_.text.size() == 1 && tok_.text[0] == c;
  }

  Token expect_punct(char c, std::string_view context) {
    if (!at_punct(c))
      error(tok_.range(), std::string("expected '") + c + "' " + std::string(context) + ", found " +
                              describe(tok_));
    Token t = tok_;
    next();
    return t;
  }

  /// A %N token's number, or an error if it does not fit a ValueId.
  ValueId value_number(const Token &t) {
    auto lit = parse_int_lit(t.text.substr(1));
    if (!lit || lit->magnitude > static_cast<std::uint64_t>(std::numeric_limits<ValueId>::max()))
      error(t.range(), "value number " + spell(t.text) + " is too large");
    return static_cast<ValueId>(lit->magnitude);
  }

  /// An operand reference: must name a node defined above this line.
  ValueId operand() {
    if (tok_.kind != Tok::Value)
      error(tok_.range(), "expected an operand '%N', found " + describe(tok_));
    ValueId v = value_number(tok_);
    if (static_cast<std::size_t>(v) >= g_.nodes.size())
      error(tok_.range(), "use of " + std::string(tok_.text) +
                              " before its definition (values must be defined on an earlier line)");
    next();
    return v;
  }

  std::string string_lit(std::string_view what) {
    if (tok_.kind != Tok::String)
      error(tok_.range(),
            "expected " + std::string(what) + " in double quotes, found " + describe(tok_));
    std::string s = std::move(tok_.str);
    next();
    return s;
  }

  // ---- statements ------------------------------------------------------------------------

  void statement() {
    if (tok_.kind == Tok::Ident && tok_.text == "output") return output();
    if (tok_.kind == Tok::Value) return node();
    error(tok_.range(), "expected a node '%N = ...' or 'output', found " + describe(tok_));
  }

  void output() {
    next();
    Token name_tok = tok_;
    std::string name = string_lit("an output name");
    if (auto it = output_names_.find(name); it != output_names_.end())
      fail(src_, ErrorKind::Syntax, name_tok.range(),
           "duplicate output name " + spell(name_tok.text),
           {Note{it->second, true, "first defined here"}});
    output_names_.emplace(name, name_tok.range());
    expect_punct('=', "after the output name");
    ValueId v = operand();
    g_.outputs.push_back(Output{std::move(name), v});
  }

  void node() {
    Token num = tok_;
    ValueId id = value_number(num);
    if (static_cast<std::size_t>(id) != g_.nodes.size())
      error(num.range(), "value " + std::string(num.text) + " is out of sequence: expected %" +
                             std::to_string(g_.nodes.size()) +
                             " (values are numbered 0, 1, 2, ...)");
    next();
    expect_punct('=', "after " + std::string(num.text));
    if (tok_.kind != Tok::Ident)
      error(tok_.range(), "expected an op name, found " + describe(tok_));
    Token op_tok = tok_;
    Node n;
    if (!op_from_name(op_tok.text, n.op)) {
      std::vector<std::string_view> names;
      for (int i = 0; i < kNumOps; ++i)
        names.push_back(op_name(static_cast<Op>(i)));
      error(op_tok.range(),
            "unknown op '" + spell(op_tok.text) + "'" + suggestion(op_tok.text, names));
    }
    next();

    Token literal; // Const: validated once the dtype is known
    if (n.op == Op::Input || n.op == Op::Param) {
      n.name = string_lit(n.op == Op::Input ? "an input name" : "a parameter name");
    } else if (n.op == Op::Const) {
      if (tok_.kind != Tok::Number && tok_.kind != Tok::Ident)
        error(tok_.range(), "expected a literal value after 'const', found " + describe(tok_));
      literal = tok_;
      next();
    } else {
      if (tok_.kind == Tok::Value) {
        n.operands.push_back(operand());
        while (at_punct(',')) {
          next();
          // Stop at the first surplus operand rather than collecting an arbitrarily long
          // list from hostile input before counting it.
          if (n.operands.size() >= static_cast<std::size_t>(op_arity(n.op))) {
            error(SourceRange::merge(op_tok.range(), tok_.range()),
                  "'" + std::string(op_tok.text) + "' takes " + operand_count(op_arity(n.op)) +
                      ", got more");
          }
          n.operands.push_back(operand());
        }
      }
      if (n.operands.size() != static_cast<std::size_t>(op_arity(n.op)))
        error(op_tok.range(), "'" + std::string(op_tok.text) + "' takes " +
                                  operand_count(op_arity(n.op)) + ", got " +
                                  std::to_string(n.operands.size()));
      if (op_kind(n.op) == OpKind::Reduce) {
        reduce_attrs(n, op_tok);
      } else if (at_punct('{')) {
        error(tok_.range(), "'" + std::string(op_tok.text) + "' takes no attributes");
      }
    }
    expect_punct(':', "before the result type");
    n.type = type();
    if (n.op == Op::Const) n.value = const_value(literal, n.type.dtype);
    g_.add(std::move(n));
  }

  static std::string operand_count(int k) {
    return std::to_string(k) + (k == 1 ? " operand" : " operands");
  }

  void reduce_attrs(Node &n, const Token &op_tok) {
    if (!at_punct('{'))
      error(tok_.range(), "'" + std::string(op_tok.text) +
                              "' needs attributes {axes = [...], keepdims = ...}, found " +
                              describe(tok_));
    next();
    bool have_axes = false, have_keepdims = false;
    for (;;) {
      if (tok_.kind != Tok::Ident)
        error(tok_.range(), "expected an attribute name, found " + describe(tok_));
      Token key = tok_;
      bool is_axes = key.text == "axes";
      if (!is_axes && key.text != "keepdims")
        error(key.range(),
              "unknown attribute '" + spell(key.text) + "' (expected axes or keepdims)");
      if (is_axes ? have_axes : have_keepdims)
        error(key.range(), "duplicate attribute '" + std::string(key.text) + "'");
      next();
      expect_punct('=', "after the attribute name");
      if (is_axes) {
        have_axes = true;
        expect_punct('[', "to open the axes list");
        if (!at_punct(']')) {
          for (;;) {
            n.axes.push_back(axis());
            if (!at_punct(',')) break;
            next();
          }
        }
        expect_punct(']', "to close the axes list");
      } else {
        have_keepdims = true;
        if (tok_.kind == Tok::Ident && (tok_.text == "true" || tok_.text == "false"))
          n.keepdims = tok_.text == "true";
        else
          error(tok_.range(), "expected true or false for keepdims, found " + describe(tok_));
        next();
      }
      if (!at_punct(',')) break;
      next();
    }
    if (!at_punct('}'))
      error(tok_.range(), "expected ',' or '}' in the attribute list, found " + describe(tok_));
    if (!have_axes || !have_keepdims)
      error(tok_.range(),
            std::string("missing attribute '") + (have_axes ? "keepdims" : "axes") + "'");
    next();
  }

  int axis() {
    auto lit = tok_.kind == Tok::Number ? parse_int_lit(tok_.text) : std::nullopt;
    if (!lit || lit->negative || lit->magnitude > static_cast<std::uint64_t>(INT_MAX))
      error(tok_.range(), "expected a non-negative axis number, found " + describe(tok_));
    next();
    return static_cast<int>(lit->magnitude);
  }

  Type type() {
    if (tok_.kind != Tok::Ident) error(tok_.range(), "expected a type, found " + describe(tok_));
    Type t;
    auto dt = dtype_from_name(tok_.text);
    if (!dt) {
      std::vector<std::string_view> names;
      for (int i = 0; i < kNumDTypes; ++i)
        names.push_back(dtype_name(static_cast<DType>(i)));
      error(tok_.range(),
            "unknown dtype '" + spell(tok_.text) + "'" + suggestion(tok_.text, names));
    }
    t.dtype = *dt;
    next();
    expect_punct('[', "after the dtype (a scalar is written f32[])");
    if (!at_punct(']')) {
      for (;;) {
        if (t.dims.size() == kMaxRank)
          error(tok_.range(), "rank exceeds the maximum of " + std::to_string(kMaxRank));
        if (tok_.kind == Tok::Ident) {
          t.dims.push_back(Dim::symbol(std::string(tok_.text)));
        } else {
          auto lit = tok_.kind == Tok::Number ? parse_int_lit(tok_.text) : std::nullopt;
          if (!lit || lit->negative || lit->magnitude > static_cast<std::uint64_t>(INT64_MAX))
            error(tok_.range(),
                  "expected a dimension (a size or a symbol), found " + describe(tok_));
          t.dims.push_back(Dim::fixed(static_cast<std::int64_t>(lit->magnitude)));
        }
        next();
        if (!at_punct(',')) break;
        next();
      }
    }
    expect_punct(']', "to close the shape");
    return t;
  }

  // ---- const literals --------------------------------------------------------------------

  ConstValue const_value(const Token &lit, DType t) {
    ConstValue v;
    v.dtype = t;
    std::string_view s = lit.text;
    std::string name(dtype_name(t));
    if (is_bool(t)) {
      if (s != "true" && s != "false")
        error(lit.range(), "'" + spell(s) + "' is not a bool literal (expected true or false)");
      v.b = s == "true";
      return v;
    }
    if (is_int(t)) {
      auto iv = parse_int_lit(s);
      if (!iv) error(lit.range(), "'" + spell(s) + "' is not a valid " + name + " literal");
      int bits = dtype_size(t) * 8;
      if (is_signed_int(t)) {
        std::uint64_t limit = std::uint64_t{1} << (bits - 1); // |min|; max is limit - 1
        if (iv->magnitude > (iv->negative ? limit : limit - 1))
          error(lit.range(), "integer literal " + spell(s) + " does not fit " + name + " (range " +
                                 "-" + std::to_string(limit) + ".." + std::to_string(limit - 1) +
                                 ")");
        // Negate in unsigned arithmetic: -(2^63) is representable only that way.
        v.i = iv->negative ? static_cast<std::int64_t>(0 - iv->magnitude)
                           : static_cast<std::int64_t>(iv->magnitude);
      } else {
        std::uint64_t max = bits == 64 ? UINT64_MAX : (std::uint64_t{1} << bits) - 1;
        if ((iv->negative && iv->magnitude != 0) || iv->magnitude > max)
          error(lit.range(), "integer literal " + spell(s) + " does not fit " + name +
                                 " (range 0.." + std::to_string(max) + ")");
        v.u = iv->magnitude;
      }
      return v;
    }
    // Floats. inf/nan only in the three spellings print() uses: from_chars would also take
    // "infinity" or "NaN", and a canonical format is easier to grep and hash.
    if (s == "inf" || s == "-inf" || s == "nan") {
      v.f = s == "nan" ? std::numeric_limits<double>::quiet_NaN()
                       : (s == "inf" ? 1.0 : -1.0) * std::numeric_limits<double>::infinity();
      return v;
    }
    bool decimal = !s.empty();
    for (std::size_t i = 0; i < s.size(); ++i) {
      char c = s[i];
      bool ok = is_digit(c) || c == '.' || c == 'e' || c == 'E' ||
                ((c == '-' || c == '+') && (i == 0 || s[i - 1] == 'e' || s[i - 1] == 'E'));
      if (!ok) decimal = false;
    }
    if (decimal && s[0] == '+') decimal = false; // print never writes '+'; keep one spelling
    if (!decimal) error(lit.range(), "'" + spell(s) + "' is not a valid " + name + " literal");
    const char *first = s.data(), *last = s.data() + s.size();
    if (t == DType::F32) {
      // Read as float directly (one correct rounding), matching print's to_chars<float>.
      float f = 0;
      auto r = std::from_chars(first, last, f);
      if (r.ec == std::errc::result_out_of_range)
        error(lit.range(), "float literal " + spell(s) + " is out of range for f32");
      if (r.ec != std::errc() || r.ptr != last)
        error(lit.range(), "'" + spell(s) + "' is not a valid f32 literal");
      v.f = f;
      return v;
    }
    double d = 0;
    auto r = std::from_chars(first, last, d);
    if (r.ec == std::errc::result_out_of_range)
      error(lit.range(), "float literal " + spell(s) + " is out of range for " + name);
    if (r.ec != std::errc() || r.ptr != last)
      error(lit.range(), "'" + spell(s) + "' is not a valid " + name + " literal");
    if (t == DType::F64) {
      v.f = d;
      return v;
    }
    auto h = round_to_half(d, t);
    if (!h) error(lit.range(), "float literal " + spell(s) + " is out of range for " + name);
    v.f = *h;
    return v;
  }
};

} // namespace

Graph parse(std::string_view text, std::string_view filename) {
  // SourceRange offsets are 32-bit; refuse (rather than silently wrap) anything larger.
  if (text.size() >= std::numeric_limits<std::uint32_t>::max())
    throw Error(ErrorKind::Limit, "IR text is larger than 4 GiB");
  SourceFile src{std::string(filename), std::string(text)};
  return Parser(src).run();
}

} // namespace xpr::ir

// frontend/Parser.cpp — recursive descent for xpr's two forms, bounded in depth, nodes and errors.
//
// Expression grammar, lowest precedence first (as in Python, but comparisons do not chain):
//   expr     := bitor (CMP bitor)?            CMP: == != < <= > >=
//   bitor    := bitxor ('|' bitxor)*          left-assoc levels are parsed in loops
//   bitxor   := bitand ('^' bitand)*
//   bitand   := shift ('&' shift)*
//   shift    := sum (('<<' | '>>') sum)*
//   sum      := term (('+' | '-') term)*
//   term     := unary (('*' | '/' | '//' | '%') unary)*
//   unary    := ('-' | '+' | '~')* power
//   power    := postfix ('**' unary)?         right-assoc; `-a**b` is `-(a**b)`, `a**-b` ok
//   postfix  := NAME '(' args ')' | primary   only a plain name can be called
//   primary  := NAME | INT | FLOAT | true | false | '(' expr ')' | '(' expr ',' [expr,...] ')'
//   args     := [arg (',' arg)* ','?]         arg: expr | NAME '=' (expr | tuple)
// A tuple is allowed only as a whole keyword value (`axis=(0, 1)`).
//
// Bounds on hostile input: the parser's recursion is bounded by Limits::max_nesting
// (parentheses, calls, unary operators and `**` each count a level), every expression's tree
// height by Limits::max_depth, and the AST's size by Limits::max_nodes.
#include "frontend/Parser.h"
#include "frontend/Lexer.h"

#include <xpr/array.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <deque>
#include <limits>

namespace xpr::fe {

namespace {

/// A statement went wrong and was reported: skip to the next line.
struct Abort {};
/// Parsing cannot go on (a limit, or too many errors): stop and report what we have.
struct Fatal {};

/// An expression being built, with its tree height (kept beside it, not in the AST).
struct PExpr {
  ExprPtr e;
  int h = 0;
};

enum class Prec : int { None = 0, Cmp, BitOr, BitXor, BitAnd, Shift, Sum, Term };

struct BinInfo {
  Prec prec = Prec::None;
  BinaryOp op{};
};

BinInfo binary_info(TokKind k) {
  switch (k) {
  case TokKind::EqEq:
    return {Prec::Cmp, BinaryOp::Eq};
  case TokKind::NotEq:
    return {Prec::Cmp, BinaryOp::Ne};
  case TokKind::Lt:
    return {Prec::Cmp, BinaryOp::Lt};
  case TokKind::Le:
    return {Prec::Cmp, BinaryOp::Le};
  case TokKind::Gt:
    return {Prec::Cmp, BinaryOp::Gt};
  case TokKind::Ge:
    return {Prec::Cmp, BinaryOp::Ge};
  case TokKind::Pipe:
    return {Prec::BitOr, BinaryOp::BitOr};
  case TokKind::Caret:
    return {Prec::BitXor, BinaryOp::BitXor};
  case TokKind::Amp:
    return {Prec::BitAnd, BinaryOp::BitAnd};
  case TokKind::Shl:
    return {Prec::Shift, BinaryOp::Shl};
  case TokKind::Shr:
    return {Prec::Shift, BinaryOp::Shr};
  case TokKind::Plus:
    return {Prec::Sum, BinaryOp::Add};
  case TokKind::Minus:
    return {Prec::Sum, BinaryOp::Sub};
  case TokKind::Star:
    return {Prec::Term, BinaryOp::Mul};
  case TokKind::Slash:
    return {Prec::Term, BinaryOp::Div};
  case TokKind::SlashSlash:
    return {Prec::Term, BinaryOp::FloorDiv};
  case TokKind::Percent:
    return {Prec::Term, BinaryOp::Mod};
  default:
    return {};
  }
}

bool is_statement_keyword(TokKind k) {
  return k == TokKind::KwInput || k == TokKind::KwParam || k == TokKind::KwLet ||
         k == TokKind::KwOutput;
}

std::string clip(std::string_view s, std::size_t max = 40) {
  if (s.size() <= max) return std::string(s);
  return std::string(s.substr(0, max)) + "...";
}

std::string dtype_list() {
  std::string s;
  for (int i = 0; i < kNumDTypes; ++i) {
    if (i) s += ", ";
    s += dtype_name(static_cast<DType>(i));
  }
  return s;
}

class Parser {
public:
  Parser(const SourceFile &src, Diagnostics &diags, const Limits &limits)
      : src_(src), diags_(diags), limits_(limits), lex_(src, diags) {}

  Module parse_script();
  Module parse_expression_form();
  std::vector<DeclSyntax> parse_decls();

private:
  // --- tokens -------------------------------------------------------------------------------
  /// The k-th significant token ahead. Inside ( ) and [ ] line breaks are not significant.
  const Token &peek(std::size_t k = 0) {
    std::size_t i = 0, seen = 0;
    for (;;) {
      if (i == buf_.size()) {
        if (!buf_.empty() && buf_.back().kind == TokKind::Eof) return buf_.back();
        Token t = lex_.next();
        // Consecutive line breaks mean the same as one: keep one, so blank lines cost nothing.
        if (t.kind == TokKind::Newline && !buf_.empty() && buf_.back().kind == TokKind::Newline)
          continue;
        buf_.push_back(t);
      }
      if (buf_[i].kind == TokKind::Newline && paren_depth_ > 0) {
        if (i == 0)
          buf_.pop_front();
        else
          ++i;
        continue;
      }
      if (seen == k) return buf_[i];
      ++seen;
      ++i;
    }
  }
  Token advance() {
    Token t = peek();
    if (t.kind != TokKind::Eof) buf_.pop_front();
    prev_ = t;
    has_prev_ = true;
    return t;
  }
  bool at(TokKind k) { return peek().kind == k; }
  bool accept(TokKind k) {
    if (!at(k)) return false;
    advance();
    return true;
  }
  std::string_view text(SourceRange r) const {
    return std::string_view(src_.text()).substr(r.begin, r.end - r.begin);
  }
  std::uint32_t line_of(std::uint32_t offset) const { return src_.line_col(offset).first; }

  // --- errors -------------------------------------------------------------------------------
  [[noreturn]] void error_at(SourceRange r, std::string msg, std::vector<Note> notes = {},
                             ErrorKind kind = ErrorKind::Syntax) {
    if (diags_.too_many()) throw Fatal{}; // the lexer may have filled the quota
    diags_.error(kind, r, std::move(msg)).notes = std::move(notes);
    if (diags_.too_many()) throw Fatal{};
    throw Abort{};
  }
  [[noreturn]] void limit_at(SourceRange r, std::string msg, std::vector<Note> notes = {}) {
    diags_.error(ErrorKind::Limit, r, std::move(msg)).notes = std::move(notes);
    throw Fatal{};
  }
  /// "expected WHAT, found TOKEN". A missing thing at the end of a line is shown just after
  /// the last token, as is one whose "found" token sits on a later line (after a line break
  /// inside parentheses), where the user will look for it.
  [[noreturn]] void expected(const std::string &what, std::vector<Note> notes = {}) {
    const Token &t = peek();
    if (t.kind == TokKind::Invalid) throw Abort{}; // the lexer reported it
    SourceRange r = t.range;
    bool end_like = t.kind == TokKind::Newline || t.kind == TokKind::Eof;
    if (has_prev_ && (end_like || line_of(t.range.begin) > line_of(prev_.range.end)))
      r = {prev_.range.end, prev_.range.end};
    error_at(r, fmt::format("expected {}, found {}", what, describe(t, src_)), std::move(notes));
  }
  Note note_at(SourceRange r, std::string msg) { return Note{r, true, std::move(msg)}; }
  Note note(std::string msg) { return Note{{}, false, std::move(msg)}; }

  // --- nodes --------------------------------------------------------------------------------
  ExprPtr node(SourceRange r, decltype(Expr::node) n) {
    if (++nodes_ > limits_.max_nodes)
      limit_at(prev_.range,
               fmt::format("program is too large: more than {} syntax nodes", limits_.max_nodes));
    auto e = std::make_unique<Expr>();
    e->range = r;
    e->node = std::move(n);
    return e;
  }
  /// Height of a new node over children of height `child_h`, checked against max_depth.
  int height(int child_h, SourceRange op) {
    if (child_h + 1 > limits_.max_depth)
      limit_at(op,
               fmt::format("expression is too deep: more than {} levels of operators",
                           limits_.max_depth),
               {note("split it into several 'let' statements")});
    return child_h + 1;
  }
  /// One level of syntactic nesting (a parenthesis, call, unary operator or `**`), while alive.
  struct Nest {
    Parser &p;
    Nest(Parser &p, SourceRange at) : p(p) {
      if (++p.nesting_ > p.limits_.max_nesting)
        p.limit_at(at,
                   fmt::format("expression nested too deeply (limit {})", p.limits_.max_nesting));
    }
    ~Nest() { --p.nesting_; }
  };
  void no_tuple(const PExpr &x) {
    if (x.e->as<TupleLit>())
      error_at(x.e->range, "a tuple is only allowed as a keyword argument value, like axis=(0, 1)");
  }

  // --- grammar ------------------------------------------------------------------------------
  PExpr parse_expr(bool allow_tuple = false);
  PExpr parse_binary(Prec min_prec);
  PExpr parse_unary();
  PExpr parse_power();
  PExpr parse_postfix();
  PExpr parse_primary(bool &plain_name);
  PExpr parse_paren();
  PExpr parse_call(const Token &name);
  std::optional<Stmt> parse_statement();
  std::pair<std::string, SourceRange> parse_name(const char *after);
  TypeDecl parse_type();
  void expect_end_of_statement(bool after_expression);
  void synchronize(std::uint32_t stmt_start);

  const SourceFile &src_;
  Diagnostics &diags_;
  const Limits &limits_;
  Lexer lex_;
  std::deque<Token> buf_;
  Token prev_;
  bool has_prev_ = false;
  int paren_depth_ = 0; // > 0 inside ( ) or [ ]: line breaks are ignored
  int nesting_ = 0;
  std::size_t nodes_ = 0;
  bool expression_form_ = false;
};

PExpr Parser::parse_expr(bool allow_tuple) {
  PExpr x = parse_binary(Prec::Cmp);
  if (!allow_tuple) no_tuple(x);
  return x;
}

PExpr Parser::parse_binary(Prec min_prec) {
  PExpr lhs = parse_unary();
  for (;;) {
    BinInfo info = binary_info(peek().kind);
    if (info.prec == Prec::None || info.prec < min_prec) return lhs;
    Token op = advance();
    no_tuple(lhs);
    // Left-assoc: the right operand only takes tighter operators; this loop takes the rest.
    PExpr rhs = parse_binary(static_cast<Prec>(static_cast<int>(info.prec) + 1));
    no_tuple(rhs);
    int h = height(std::max(lhs.h, rhs.h), op.range);
    SourceRange r = SourceRange::merge(lhs.e->range, rhs.e->range);
    ExprPtr lhs_e = std::move(lhs.e);
    ExprPtr rhs_e = std::move(rhs.e);
    std::string_view lhs_text = text(lhs_e->range), rhs_text = text(rhs_e->range);
    lhs = PExpr{node(r, Binary{info.op, std::move(lhs_e), std::move(rhs_e)}), h};
    if (info.prec == Prec::Cmp && binary_info(peek().kind).prec == Prec::Cmp) {
      Token op2 = advance();
      PExpr third = parse_binary(Prec::BitOr);
      std::string suggestion =
          fmt::format("({} {} {}) & ({} {} {})", clip(lhs_text), text(op.range), clip(rhs_text),
                      clip(rhs_text), text(op2.range), clip(text(third.e->range)));
      error_at(op2.range, "chained comparisons are not supported",
               {note(fmt::format("to test both, write '{}'", suggestion))});
    }
  }
}

PExpr Parser::parse_unary() {
  // Prefix operators are collected in a loop (no recursion), but each counts as nesting.
  struct Op {
    UnaryOp op;
    SourceRange range;
  };
  std::vector<Op> ops;
  int saved = nesting_;
  for (;;) {
    TokKind k = peek().kind;
    UnaryOp op;
    if (k == TokKind::Minus)
      op = UnaryOp::Neg;
    else if (k == TokKind::Plus)
      op = UnaryOp::Plus;
    else if (k == TokKind::Tilde)
      op = UnaryOp::Invert;
    else
      break;
    Token t = advance();
    if (++nesting_ > limits_.max_nesting) {
      nesting_ = saved;
      limit_at(t.range,
               fmt::format("expression nested too deeply (limit {})", limits_.max_nesting));
    }
    ops.push_back({op, t.range});
  }
  PExpr x;
  try {
    x = parse_power();
  } catch (...) {
    nesting_ = saved;
    throw;
  }
  nesting_ = saved;
  if (!ops.empty()) no_tuple(x);
  for (auto it = ops.rbegin(); it != ops.rend(); ++it) {
    int h = height(x.h, it->range);
    SourceRange r = SourceRange::merge(it->range, x.e->range);
    x = PExpr{node(r, Unary{it->op, std::move(x.e)}), h};
  }
  return x;
}

PExpr Parser::parse_power() {
  PExpr base = parse_postfix();
  if (!at(TokKind::StarStar)) return base;
  Token op = advance();
  no_tuple(base);
  PExpr exponent;
  {
    Nest nest(*this, op.range);
    exponent = parse_unary();
  }
  no_tuple(exponent);
  int h = height(std::max(base.h, exponent.h), op.range);
  SourceRange r = SourceRange::merge(base.e->range, exponent.e->range);
  return PExpr{node(r, Binary{BinaryOp::Pow, std::move(base.e), std::move(exponent.e)}), h};
}

PExpr Parser::parse_postfix() {
  const Token &t = peek();
  if (t.kind == TokKind::Ident && peek(1).kind == TokKind::LParen) {
    Token name = advance();
    PExpr call = parse_call(name);
    if (at(TokKind::LParen))
      error_at(peek().range, "only a function name can be called",
               {note("the result of a call cannot be called again")});
    if (at(TokKind::LBracket)) error_at(peek().range, "indexing and slicing are not supported");
    return call;
  }
  bool plain_name = false;
  PExpr x = parse_primary(plain_name);
  if (at(TokKind::LParen)) {
    std::vector<Note> notes;
    if (x.e->as<NumberLit>())
      notes.push_back(note(fmt::format("there is no implicit multiplication; write '{} * (...)'",
                                       text(x.e->range))));
    error_at(peek().range, "only a function name can be called", std::move(notes));
  }
  if (at(TokKind::LBracket)) error_at(peek().range, "indexing and slicing are not supported");
  return x;
}

PExpr Parser::parse_primary(bool &plain_name) {
  const Token &t = peek();
  switch (t.kind) {
  case TokKind::Ident: {
    Token n = advance();
    plain_name = true;
    return PExpr{node(n.range, NameRef{std::string(text(n.range))}), 1};
  }
  case TokKind::Int:
  case TokKind::Float: {
    Token n = advance();
    NumberLit lit;
    lit.text = std::string(text(n.range));
    lit.is_float = n.kind == TokKind::Float;
    lit.fvalue = n.fvalue;
    lit.uvalue = n.uvalue;
    lit.overflow = n.overflow;
    return PExpr{node(n.range, std::move(lit)), 1};
  }
  case TokKind::KwTrue:
  case TokKind::KwFalse: {
    Token n = advance();
    return PExpr{node(n.range, BoolLit{n.kind == TokKind::KwTrue}), 1};
  }
  case TokKind::LParen:
    return parse_paren();
  default:
    break;
  }
  std::vector<Note> notes;
  if (is_statement_keyword(t.kind) && expression_form_)
    notes.push_back(note("statements (input, param, let, output) are only allowed in scripts"));
  if (t.kind == TokKind::Amp && has_prev_ && prev_.kind == TokKind::Amp)
    notes.push_back(note("xpr has no '&&'; use '&' (and parenthesize comparisons)"));
  if (t.kind == TokKind::Pipe && has_prev_ && prev_.kind == TokKind::Pipe)
    notes.push_back(note("xpr has no '||'; use '|' (and parenthesize comparisons)"));
  expected("an expression", std::move(notes));
}

PExpr Parser::parse_paren() {
  Token lp = advance();
  Nest nest(*this, lp.range);
  ++paren_depth_;
  auto close_note = [&] { return std::vector<Note>{note_at(lp.range, "'(' opened here")}; };
  if (at(TokKind::RParen)) expected("an expression");
  PExpr first = parse_expr(false);
  if (!at(TokKind::Comma)) {
    if (!at(TokKind::RParen)) expected("')' to close '('", close_note());
    Token rp = advance();
    --paren_depth_;
    first.e->range = SourceRange::merge(lp.range, rp.range); // the parentheses belong to it
    return first;
  }
  // A tuple: `(a,)`, `(a, b)`, `(a, b,)`.
  std::vector<ExprPtr> elems;
  int h = first.h;
  elems.push_back(std::move(first.e));
  while (accept(TokKind::Comma)) {
    if (at(TokKind::RParen)) break;
    PExpr x = parse_expr(false);
    h = std::max(h, x.h);
    elems.push_back(std::move(x.e));
  }
  if (!at(TokKind::RParen)) expected("',' or ')' to close '('", close_note());
  Token rp = advance();
  --paren_depth_;
  h = height(h, lp.range);
  return PExpr{node(SourceRange::merge(lp.range, rp.range), TupleLit{std::move(elems)}), h};
}

PExpr Parser::parse_call(const Token &name) {
  Token lp = advance();
  Nest nest(*this, lp.range);
  ++paren_depth_;
  Call call;
  call.callee = std::string(text(name.range));
  call.callee_range = name.range;
  int h = 0;
  auto close_note = [&] {
    return std::vector<Note>{
        note_at(lp.range, fmt::format("'(' of the call to '{}' opened here", clip(call.callee)))};
  };
  while (!at(TokKind::RParen)) {
    if (at(TokKind::Ident) && peek(1).kind == TokKind::Assign) {
      Token kw = advance();
      advance(); // '='
      std::string kname(text(kw.range));
      for (const KwArg &k : call.kwargs)
        if (k.name == kname)
          error_at(kw.range, fmt::format("keyword argument '{}' is repeated", clip(kname)),
                   {note_at(k.name_range, "first given here")});
      PExpr v = parse_expr(/*allow_tuple=*/true);
      h = std::max(h, v.h);
      call.kwargs.push_back(KwArg{std::move(kname), kw.range, std::move(v.e)});
    } else {
      PExpr v = parse_expr(false);
      if (!call.kwargs.empty())
        error_at(
            v.e->range, "positional argument follows keyword argument",
            {note_at(call.kwargs.back().name_range, fmt::format("keyword argument '{}' given here",
                                                                clip(call.kwargs.back().name)))});
      h = std::max(h, v.h);
      call.args.push_back(std::move(v.e));
    }
    if (accept(TokKind::Comma)) continue;
    if (!at(TokKind::RParen)) expected("',' or ')' after the argument", close_note());
  }
  Token rp = advance();
  --paren_depth_;
  h = height(h, lp.range);
  return PExpr{node(SourceRange::merge(name.range, rp.range), std::move(call)), h};
}

std::pair<std::string, SourceRange> Parser::parse_name(const char *after) {
  const Token &t = peek();
  if (t.kind != TokKind::Ident) {
    std::vector<Note> notes;
    if (t.kind >= TokKind::KwInput && t.kind <= TokKind::KwFalse)
      notes.push_back(note(
          fmt::format("'{}' is a keyword and cannot be used as a name", tok_spelling(t.kind))));
    expected(fmt::format("a name after '{}'", after), std::move(notes));
  }
  Token n = advance();
  return {std::string(text(n.range)), n.range};
}

TypeDecl Parser::parse_type() {
  const Token &t = peek();
  if (t.kind != TokKind::Ident) expected("a type such as 'f32' or 'f32[n]'");
  Token d = advance();
  std::string_view dname = text(d.range);
  auto dt = dtype_from_name(dname);
  if (!dt)
    error_at(d.range, fmt::format("unknown dtype '{}'", clip(dname)),
             {note(fmt::format("valid dtypes: {}", dtype_list()))});
  TypeDecl type;
  type.range = d.range;
  type.dtype = *dt;
  if (!at(TokKind::LBracket)) return type;
  Token lb = advance();
  ++paren_depth_;
  auto close_note = [&] { return std::vector<Note>{note_at(lb.range, "'[' opened here")}; };
  while (!at(TokKind::RBracket)) {
    const Token &dim = peek();
    DimDecl dd;
    dd.range = dim.range;
    if (dim.kind == TokKind::Int) {
      if (dim.overflow) throw Abort{}; // reported by the lexer
      if (dim.uvalue > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        error_at(dim.range, fmt::format("dimension {} is too large (the largest is {})",
                                        text(dim.range), std::numeric_limits<std::int64_t>::max()));
      dd.size = static_cast<std::int64_t>(dim.uvalue);
    } else if (dim.kind == TokKind::Ident) {
      dd.symbol = std::string(text(dim.range));
    } else if (dim.kind == TokKind::Float || dim.kind == TokKind::Minus) {
      error_at(dim.range, fmt::format("a dimension must be a non-negative integer or a name, "
                                      "found {}",
                                      describe(dim, src_)));
    } else {
      expected("a dimension (an integer or a name)", close_note());
    }
    advance();
    type.dims.push_back(std::move(dd));
    if (accept(TokKind::Comma)) continue;
    if (!at(TokKind::RBracket)) expected("',' or ']' after the dimension", close_note());
  }
  Token rb = advance();
  --paren_depth_;
  type.range = SourceRange::merge(type.range, rb.range);
  if (type.dims.size() > static_cast<std::size_t>(kMaxRank))
    error_at(type.range,
             fmt::format("too many dimensions: rank {} is above the limit of {}", type.dims.size(),
                         kMaxRank),
             {}, ErrorKind::Limit);
  return type;
}

void Parser::expect_end_of_statement(bool after_expression) {
  const Token &t = peek();
  if (t.kind == TokKind::Newline || t.kind == TokKind::Eof) {
    if (t.kind == TokKind::Newline) advance();
    return;
  }
  if (t.kind == TokKind::RParen || t.kind == TokKind::RBracket)
    error_at(t.range, fmt::format("unmatched '{}'", tok_spelling(t.kind)));
  std::vector<Note> notes;
  if (t.kind == TokKind::Assign && after_expression) notes.push_back(note("to compare, use '=='"));
  if (is_statement_keyword(t.kind)) notes.push_back(note("each statement goes on its own line"));
  expected(after_expression ? "an operator or end of line" : "end of line", std::move(notes));
}

std::optional<Stmt> Parser::parse_statement() {
  const Token &t = peek();
  Stmt s;
  s.range = t.range;
  switch (t.kind) {
  case TokKind::KwInput:
  case TokKind::KwParam: {
    bool input = t.kind == TokKind::KwInput;
    advance();
    s.kind = input ? StmtKind::Input : StmtKind::Param;
    std::tie(s.name, s.name_range) = parse_name(input ? "input" : "param");
    if (!at(TokKind::Colon))
      expected(
          fmt::format("':' and a type after '{} {}'", input ? "input" : "param", clip(s.name)));
    advance();
    TypeDecl type = parse_type();
    if (!input && !type.dims.empty())
      error_at(type.range, "a param is a scalar: its type must have rank 0",
               {note(fmt::format("write '{}' (or '{}[]')", dtype_name(type.dtype),
                                 dtype_name(type.dtype)))});
    s.range = SourceRange::merge(s.range, type.range);
    s.type = std::move(type);
    expect_end_of_statement(false);
    break;
  }
  case TokKind::KwLet:
  case TokKind::KwOutput: {
    bool let = t.kind == TokKind::KwLet;
    advance();
    s.kind = let ? StmtKind::Let : StmtKind::Output;
    std::tie(s.name, s.name_range) = parse_name(let ? "let" : "output");
    if (!at(TokKind::Assign)) {
      std::vector<Note> notes;
      if (at(TokKind::Colon)) notes.push_back(note("a 'let' or 'output' takes no type"));
      expected(fmt::format("'=' after '{} {}'", let ? "let" : "output", clip(s.name)),
               std::move(notes));
    }
    advance();
    PExpr v = parse_expr(false);
    s.range = SourceRange::merge(s.range, v.e->range);
    s.value = std::move(v.e);
    expect_end_of_statement(true);
    break;
  }
  case TokKind::Invalid:
    throw Abort{};
  default: {
    std::vector<Note> notes;
    if (t.kind == TokKind::Ident && peek(1).kind == TokKind::Assign)
      notes.push_back(
          note(fmt::format("to bind a name, write 'let {} = ...'", clip(text(t.range)))));
    else
      notes.push_back(note("a script names its results with 'output NAME = EXPR'"));
    error_at(t.range, "expected a statement: input, param, let or output", std::move(notes));
  }
  }
  if (++nodes_ > limits_.max_nodes)
    limit_at(s.range,
             fmt::format("program is too large: more than {} syntax nodes", limits_.max_nodes));
  return s;
}

void Parser::synchronize(std::uint32_t stmt_start) {
  // Skip the rest of the bad line without further reports. A statement keyword that starts a
  // line also ends the skip: an unclosed '(' may have swallowed the line break before it.
  lex_.set_quiet(true);
  paren_depth_ = 0;
  nesting_ = 0;
  for (;;) {
    const Token &t = peek();
    if (t.kind == TokKind::Eof) break;
    if (t.kind == TokKind::Newline) {
      advance();
      break;
    }
    if (t.first_on_line && is_statement_keyword(t.kind) && t.range.begin > stmt_start) break;
    advance();
  }
  lex_.set_quiet(false);
}

Module Parser::parse_script() {
  Module m;
  try {
    for (;;) {
      while (accept(TokKind::Newline)) {
      }
      if (at(TokKind::Eof)) break;
      std::uint32_t start = peek().range.begin;
      try {
        if (auto s = parse_statement()) m.stmts.push_back(std::move(*s));
      } catch (const Abort &) {
        synchronize(start);
      }
      if (diags_.too_many()) break;
    }
  } catch (const Fatal &) {
  }
  diags_.check();
  return m;
}

Module Parser::parse_expression_form() {
  expression_form_ = true;
  Module m;
  try {
    while (accept(TokKind::Newline)) {
    }
    PExpr x = parse_expr(false);
    while (accept(TokKind::Newline)) {
    }
    if (!at(TokKind::Eof)) {
      const Token &t = peek();
      if (t.kind == TokKind::RParen || t.kind == TokKind::RBracket)
        error_at(t.range, fmt::format("unmatched '{}'", tok_spelling(t.kind)));
      std::vector<Note> notes;
      if (line_of(t.range.begin) > line_of(x.e->range.end))
        notes.push_back(note("an expression to evaluate is exactly one expression"));
      if (t.kind == TokKind::Assign) notes.push_back(note("to compare, use '=='"));
      expected(line_of(t.range.begin) > line_of(x.e->range.end) ? "end of input"
                                                                : "an operator or end of input",
               std::move(notes));
    }
    m.expr = std::move(x.e);
  } catch (const Abort &) {
  } catch (const Fatal &) {
  }
  diags_.check();
  return m;
}

std::vector<DeclSyntax> Parser::parse_decls() {
  std::vector<DeclSyntax> out;
  try {
    for (;;) {
      while (accept(TokKind::Newline) || accept(TokKind::Comma)) {
      }
      if (at(TokKind::Eof)) break;
      DeclSyntax d;
      const Token &t = peek();
      if (t.kind != TokKind::Ident) {
        std::vector<Note> notes;
        if (t.kind >= TokKind::KwInput && t.kind <= TokKind::KwFalse)
          notes.push_back(note(
              fmt::format("'{}' is a keyword and cannot be used as a name", tok_spelling(t.kind))));
        expected("a name to declare", std::move(notes));
      }
      Token n = advance();
      d.name = std::string(text(n.range));
      d.name_range = n.range;
      if (!at(TokKind::Colon)) expected(fmt::format("':' and a type after '{}'", clip(d.name)));
      advance();
      d.type = parse_type();
      out.push_back(std::move(d));
      if (at(TokKind::Eof) || at(TokKind::Newline) || at(TokKind::Comma)) continue;
      expected("',' or end of input after the declaration");
    }
  } catch (const Abort &) {
  } catch (const Fatal &) {
  }
  diags_.check();
  return out;
}

/// Inputs the lexer must not even start on: too big for the limit, or for 32-bit offsets.
void check_source_size(const SourceFile &src, const Limits &limits) {
  std::size_t limit =
      std::min<std::size_t>(limits.max_source_bytes, std::numeric_limits<std::uint32_t>::max() - 1);
  if (src.text().size() > limit)
    throw Error(ErrorKind::Limit,
                fmt::format("source is too large: {} bytes (the limit is {} bytes)",
                            src.text().size(), limit),
                SourceLocation{src.name(), 0, 0});
}

} // namespace

Module parse_module(const SourceFile &src, bool expression_form, const Limits &limits) {
  check_source_size(src, limits);
  Diagnostics diags(src);
  Parser p(src, diags, limits);
  return expression_form ? p.parse_expression_form() : p.parse_script();
}

std::vector<DeclSyntax> parse_decl_list_ranged(const SourceFile &src, const Limits &limits) {
  check_source_size(src, limits);
  Diagnostics diags(src);
  Parser p(src, diags, limits);
  return p.parse_decls();
}

std::vector<std::pair<std::string, TypeDecl>> parse_decl_list(const SourceFile &src,
                                                              const Limits &limits) {
  std::vector<std::pair<std::string, TypeDecl>> out;
  for (DeclSyntax &d : parse_decl_list_ranged(src, limits))
    out.emplace_back(std::move(d.name), std::move(d.type));
  return out;
}

} // namespace xpr::fe

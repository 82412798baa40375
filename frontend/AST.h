// frontend/AST.h — the syntax tree of expressions and scripts, every node with its source range.
#pragma once

#include "support/Source.h"

#include <xpr/dtype.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace xpr::fe {

enum class UnaryOp : std::uint8_t { Neg, Plus, Invert /* ~ */ };
enum class BinaryOp : std::uint8_t {
  Add, Sub, Mul, Div, FloorDiv, Mod, Pow,
  Eq, Ne, Lt, Le, Gt, Ge,
  BitAnd, BitOr, BitXor, Shl, Shr,
};
const char *spelling(UnaryOp op);
const char *spelling(BinaryOp op);

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

/// A numeric literal. `is_float` when it has a '.', an exponent, or is inf/nan-free decimal;
/// integer literals keep their exact value (they may exceed i64 up to u64 max: `uvalue`).
struct NumberLit {
  std::string text; // as written, underscores kept
  bool is_float = false;
  double fvalue = 0;          // valid when is_float
  std::uint64_t uvalue = 0;   // valid when !is_float (non-negative; unary minus is an op)
  bool overflow = false;      // integer literal > u64 max (sema reports it)
};
struct BoolLit { bool value = false; };
struct NameRef { std::string name; };
struct Unary { UnaryOp op; ExprPtr operand; };
struct Binary { BinaryOp op; ExprPtr lhs, rhs; };
struct KwArg { std::string name; SourceRange name_range; ExprPtr value; };
/// A call: a function (`exp(x)`), a cast (`f32(x)`), or a reduction (`sum(x, axis=1)`).
struct Call {
  std::string callee;
  SourceRange callee_range;
  std::vector<ExprPtr> args;
  std::vector<KwArg> kwargs;
};
/// A parenthesized list `(0, 1)`, only meaningful as a keyword value (`axis=(0, 1)`).
struct TupleLit { std::vector<ExprPtr> elems; };

struct Expr {
  SourceRange range;
  std::variant<NumberLit, BoolLit, NameRef, Unary, Binary, Call, TupleLit> node;
  template <class T> const T *as() const { return std::get_if<T>(&node); }
};

/// One dimension in a declared type: an integer or a symbol (`n`).
struct DimDecl {
  SourceRange range;
  std::optional<std::int64_t> size; // set for an integer dim
  std::string symbol;               // set for a symbolic dim
};
struct TypeDecl {
  SourceRange range;
  DType dtype = DType::F64;
  std::vector<DimDecl> dims; // empty: rank 0 (`f32[]`, or `f32` for params)
};

enum class StmtKind : std::uint8_t { Input, Param, Let, Output };
struct Stmt {
  StmtKind kind;
  SourceRange range;      // the whole statement
  std::string name;
  SourceRange name_range;
  std::optional<TypeDecl> type; // Input, Param (params are rank 0)
  ExprPtr value;                // Let, Output
};

/// A parsed script. For the expression form, `stmts` is empty and `expr` is set.
struct Module {
  std::vector<Stmt> stmts;
  ExprPtr expr;
};

/// Debug dump used by `--emit=ast` (stable: golden tests depend on it). S-expressions, one
/// line per statement (each line ends in '\n'); the expression form is one line.
///   (input S f32[n])  (input x f32[])  (input m f64[n, 3])   inputs always show brackets
///   (param r f32)                                           params are rank 0: no brackets
///   (let d EXPR)  (output call EXPR)
/// EXPR: numbers as written (`1_000`, `0x1F`, `.5`), `true`/`false`, `(name x)`,
///   `(neg x)` `(pos x)` `(invert x)`,
///   `(add|sub|mul|div|floordiv|mod|pow|eq|ne|lt|le|gt|ge|and|or|xor|shl|shr LHS RHS)`
///   (`and`/`or`/`xor` are `&`/`|`/`^`), `(call f ARG... (kw axis VALUE)...)`,
///   `(tuple E...)`. Parentheses in the source leave no trace.
std::string dump(const Module &m, const SourceFile &src);

} // namespace xpr::fe

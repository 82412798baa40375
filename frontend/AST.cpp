// frontend/AST.cpp — operator spellings and the S-expression dump behind `--emit=ast`.
#include "frontend/AST.h"

#include <fmt/format.h>

namespace xpr::fe {

const char *spelling(UnaryOp op) {
  switch (op) {
  case UnaryOp::Neg:
    return "-";
  case UnaryOp::Plus:
    return "+";
  case UnaryOp::Invert:
    return "~";
  }
  return "?";
}

const char *spelling(BinaryOp op) {
  switch (op) {
  case BinaryOp::Add:
    return "+";
  case BinaryOp::Sub:
    return "-";
  case BinaryOp::Mul:
    return "*";
  case BinaryOp::Div:
    return "/";
  case BinaryOp::FloorDiv:
    return "//";
  case BinaryOp::Mod:
    return "%";
  case BinaryOp::Pow:
    return "**";
  case BinaryOp::Eq:
    return "==";
  case BinaryOp::Ne:
    return "!=";
  case BinaryOp::Lt:
    return "<";
  case BinaryOp::Le:
    return "<=";
  case BinaryOp::Gt:
    return ">";
  case BinaryOp::Ge:
    return ">=";
  case BinaryOp::BitAnd:
    return "&";
  case BinaryOp::BitOr:
    return "|";
  case BinaryOp::BitXor:
    return "^";
  case BinaryOp::Shl:
    return "<<";
  case BinaryOp::Shr:
    return ">>";
  }
  return "?";
}

namespace {

const char *dump_name(UnaryOp op) {
  switch (op) {
  case UnaryOp::Neg:
    return "neg";
  case UnaryOp::Plus:
    return "pos";
  case UnaryOp::Invert:
    return "invert";
  }
  return "?";
}

const char *dump_name(BinaryOp op) {
  switch (op) {
  case BinaryOp::Add:
    return "add";
  case BinaryOp::Sub:
    return "sub";
  case BinaryOp::Mul:
    return "mul";
  case BinaryOp::Div:
    return "div";
  case BinaryOp::FloorDiv:
    return "floordiv";
  case BinaryOp::Mod:
    return "mod";
  case BinaryOp::Pow:
    return "pow";
  case BinaryOp::Eq:
    return "eq";
  case BinaryOp::Ne:
    return "ne";
  case BinaryOp::Lt:
    return "lt";
  case BinaryOp::Le:
    return "le";
  case BinaryOp::Gt:
    return "gt";
  case BinaryOp::Ge:
    return "ge";
  case BinaryOp::BitAnd:
    return "and";
  case BinaryOp::BitOr:
    return "or";
  case BinaryOp::BitXor:
    return "xor";
  case BinaryOp::Shl:
    return "shl";
  case BinaryOp::Shr:
    return "shr";
  }
  return "?";
}

// Recursion depth is bounded by Limits::max_depth, which the parser enforces.
void dump_expr(const Expr &e, std::string &out) {
  std::visit(
      [&](const auto &n) {
        using T = std::decay_t<decltype(n)>;
        if constexpr (std::is_same_v<T, NumberLit>) {
          out += n.text;
        } else if constexpr (std::is_same_v<T, BoolLit>) {
          out += n.value ? "true" : "false";
        } else if constexpr (std::is_same_v<T, NameRef>) {
          out += "(name " + n.name + ")";
        } else if constexpr (std::is_same_v<T, Unary>) {
          out += '(';
          out += dump_name(n.op);
          out += ' ';
          dump_expr(*n.operand, out);
          out += ')';
        } else if constexpr (std::is_same_v<T, Binary>) {
          out += '(';
          out += dump_name(n.op);
          out += ' ';
          dump_expr(*n.lhs, out);
          out += ' ';
          dump_expr(*n.rhs, out);
          out += ')';
        } else if constexpr (std::is_same_v<T, Call>) {
          out += "(call " + n.callee;
          for (const ExprPtr &a : n.args) {
            out += ' ';
            dump_expr(*a, out);
          }
          for (const KwArg &k : n.kwargs) {
            out += " (kw " + k.name + ' ';
            dump_expr(*k.value, out);
            out += ')';
          }
          out += ')';
        } else if constexpr (std::is_same_v<T, TupleLit>) {
          out += "(tuple";
          for (const ExprPtr &a : n.elems) {
            out += ' ';
            dump_expr(*a, out);
          }
          out += ')';
        }
      },
      e.node);
}

std::string dump_type(const TypeDecl &t, bool brackets) {
  std::string s(dtype_name(t.dtype));
  if (!brackets && t.dims.empty()) return s;
  s += '[';
  for (std::size_t i = 0; i < t.dims.size(); ++i) {
    if (i) s += ", ";
    const DimDecl &d = t.dims[i];
    s += d.size ? std::to_string(*d.size) : d.symbol;
  }
  s += ']';
  return s;
}

} // namespace

std::string dump(const Module &m, const SourceFile &) {
  std::string out;
  if (m.expr) {
    dump_expr(*m.expr, out);
    out += '\n';
  }
  for (const Stmt &s : m.stmts) {
    switch (s.kind) {
    case StmtKind::Input:
      out += "(input " + s.name + ' ' + dump_type(*s.type, true);
      break;
    case StmtKind::Param:
      out += "(param " + s.name + ' ' + dump_type(*s.type, false);
      break;
    case StmtKind::Let:
    case StmtKind::Output:
      out += s.kind == StmtKind::Let ? "(let " : "(output ";
      out += s.name + ' ';
      dump_expr(*s.value, out);
      break;
    }
    out += ")\n";
  }
  return out;
}

} // namespace xpr::fe

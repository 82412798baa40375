// frontend/Sema.cpp — names, dtypes (NEP 50 weak literals, half widening) and shapes
// (broadcasting over symbolic dims): lowers the AST to Graph IR, reporting user errors.
#include "frontend/Sema.h"

#include "compiler/ir/TypeRules.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <unordered_map>

namespace xpr::fe {

using ir::Dim;
using ir::Op;
using ir::TypeRule;
using ir::ValueId;

int edit_distance(std::string_view a, std::string_view b) {
  const std::size_t n = a.size(), m = b.size();
  std::vector<std::vector<int>> d(n + 1, std::vector<int>(m + 1));
  for (std::size_t i = 0; i <= n; ++i)
    d[i][0] = static_cast<int>(i);
  for (std::size_t j = 0; j <= m; ++j)
    d[0][j] = static_cast<int>(j);
  for (std::size_t i = 1; i <= n; ++i)
    for (std::size_t j = 1; j <= m; ++j) {
      int cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[n][m];
}

std::string closest_name(std::string_view name, const std::vector<std::string> &candidates) {
  // A third of the name's length (at least 1) is the most edits a typo plausibly has; more and
  // the suggestion is noise (any one-letter name is one edit from any other, so those get
  // none). Ties go to the alphabetically first candidate, for determinism.
  if (name.size() < 2) return {};
  int limit = std::max<int>(1, static_cast<int>(name.size()) / 3);
  std::string best;
  int best_d = limit + 1;
  for (const std::string &c : candidates) {
    if (c == name || (name.size() > 64)) continue;
    int d = edit_distance(name, c);
    if (d < best_d || (d == best_d && c < best)) {
      best_d = d;
      best = c;
    }
  }
  return best_d <= limit ? best : std::string();
}

namespace {

using i128 = __int128;

/// A literal's value, kept exact until the literal meets the dtype it takes.
struct Lit {
  enum Kind : std::uint8_t { Bool, Int, Float } kind = Int;
  bool b = false;
  i128 i = 0; // Int: any value in [-(2^64-1), 2^64-1]
  double f = 0;
};

/// A value during lowering. `dtype` is the user-visible dtype (f16 stays f16) while `id` is the
/// IR value that computes it (f32 for halves). A weak value (NEP 50) is one computed only from
/// literals: its dtype is the default of its kind (bool, i64, f64) until it meets a strong
/// operand. A weak literal is emitted lazily (`id` -1) so it can become a constant of the dtype
/// it takes. `error` poisons every use, so one mistake yields one diagnostic.
struct Val {
  ValueId id = -1;
  DType dtype = DType::F64;
  std::vector<Dim> dims;
  bool weak = false;
  bool error = false;
  std::optional<Lit> lit;
  SourceRange range;
};

DType compute_dtype(DType t) { return is_half(t) ? DType::F32 : t; }

i128 int_min(DType t) {
  if (is_unsigned_int(t)) return 0;
  return -(static_cast<i128>(1) << (dtype_size(t) * 8 - 1));
}
i128 int_max(DType t) {
  int bits = dtype_size(t) * 8;
  if (is_unsigned_int(t)) return (static_cast<i128>(1) << bits) - 1;
  return (static_cast<i128>(1) << (bits - 1)) - 1;
}

std::string i128_str(i128 v) {
  if (v == 0) return "0";
  bool neg = v < 0;
  unsigned __int128 u =
      neg ? -static_cast<unsigned __int128>(v) : static_cast<unsigned __int128>(v);
  std::string s;
  while (u) {
    s.insert(s.begin(), static_cast<char>('0' + static_cast<int>(u % 10)));
    u /= 10;
  }
  return neg ? "-" + s : s;
}

/// Rounds a double to a binary float with `mant` fraction bits and minimum normal exponent
/// `emin`, to nearest with ties to even, in one step (no double rounding through f32).
double round_to_bits(double x, int mant, int emin, double max_finite) {
  if (!std::isfinite(x) || x == 0) return x;
  int e = std::max(std::ilogb(x), emin);
  double q = std::ldexp(1.0, e - mant);
  double r = std::nearbyint(x / q) * q;
  if (std::fabs(r) > max_finite) return std::copysign(HUGE_VAL, x);
  return r;
}

double round_float(double x, DType t) {
  switch (t) {
  case DType::F16:
    return round_to_bits(x, 10, -14, 65504.0);
  case DType::BF16:
    return round_to_bits(x, 7, -126, 3.3895313892515355e38);
  case DType::F32:
    return static_cast<double>(static_cast<float>(x));
  default:
    return x;
  }
}

double lit_as_double(const Lit &l, DType t) {
  switch (l.kind) {
  case Lit::Bool:
    return l.b ? 1.0 : 0.0;
  case Lit::Float:
    return round_float(l.f, t);
  case Lit::Int:
    if (t == DType::F32) return static_cast<double>(static_cast<float>(l.i));
    return round_float(static_cast<double>(l.i), t);
  }
  return 0;
}

/// The constant a literal becomes as dtype `t` under cast semantics (docs/semantics.md,
/// "Casts"): ints wrap, floats saturate into ints, anything non-zero is true. The constant's
/// dtype is t's compute dtype (halves: an f32 holding the half-rounded value).
ir::ConstValue const_of(const Lit &l, DType t) {
  ir::ConstValue c;
  c.dtype = compute_dtype(t);
  if (is_bool(t)) {
    c.b = l.kind == Lit::Bool ? l.b : l.kind == Lit::Int ? l.i != 0 : l.f != 0 || std::isnan(l.f);
    return c;
  }
  if (is_float(t)) {
    c.f = lit_as_double(l, t);
    return c;
  }
  i128 v = 0;
  if (l.kind == Lit::Bool)
    v = l.b;
  else if (l.kind == Lit::Int) {
    // Keep the low bits (two's complement), then sign- or zero-extend from t's width.
    int bits = dtype_size(t) * 8;
    std::uint64_t u = static_cast<std::uint64_t>(l.i);
    if (bits < 64) {
      u &= (std::uint64_t{1} << bits) - 1;
      if (is_signed_int(t) && (u >> (bits - 1)) & 1) u |= ~((std::uint64_t{1} << bits) - 1);
    }
    v = is_signed_int(t) ? static_cast<i128>(static_cast<std::int64_t>(u)) : static_cast<i128>(u);
  } else {
    double f = std::trunc(l.f);
    if (std::isnan(f))
      v = 0;
    else if (f <= static_cast<double>(int_min(t)))
      v = int_min(t);
    else if (f >= static_cast<double>(int_max(t)))
      v = int_max(t);
    else
      v = static_cast<i128>(f);
  }
  if (is_signed_int(t))
    c.i = static_cast<std::int64_t>(v);
  else
    c.u = static_cast<std::uint64_t>(v);
  return c;
}

std::string type_str(const Val &v) {
  if (v.weak) {
    if (v.lit)
      return is_bool(v.dtype) ? "bool literal" : is_int(v.dtype) ? "int literal" : "float literal";
    return fmt::format("{} (from literals)", dtype_name(v.dtype));
  }
  return ir::to_string(ir::Type{v.dtype, v.dims});
}

std::string join_types(const std::vector<Val> &vs) {
  std::string s;
  for (std::size_t i = 0; i < vs.size(); ++i) {
    if (i) s += i + 1 == vs.size() ? " and " : ", ";
    s += type_str(vs[i]);
  }
  return s;
}

std::string dim_str(const Dim &d) { return d.is_symbolic() ? d.sym : std::to_string(d.size); }

enum class BuiltinKind { Elementwise, Cast, Reduce };
struct Builtin {
  BuiltinKind kind;
  Op op = Op::Const;
  DType cast_to = DType::F64;
};

std::optional<Builtin> find_builtin(std::string_view name) {
  if (auto t = dtype_from_name(name)) return Builtin{BuiltinKind::Cast, Op::Cast, *t};
  Op op;
  if (!ir::op_from_name(name, op)) return std::nullopt;
  switch (ir::op_kind(op)) {
  case ir::OpKind::Elementwise:
    return Builtin{BuiltinKind::Elementwise, op};
  case ir::OpKind::Reduce:
    return Builtin{BuiltinKind::Reduce, op};
  default:
    return std::nullopt; // input, param, const, cast are not callable by name
  }
}

std::vector<std::string> builtin_names() {
  std::vector<std::string> r;
  for (int i = 0; i < ir::kNumOps; ++i) {
    Op op = static_cast<Op>(i);
    if (ir::op_kind(op) == ir::OpKind::Elementwise || ir::op_kind(op) == ir::OpKind::Reduce)
      r.emplace_back(ir::op_name(op));
  }
  for (int i = 0; i < kNumDTypes; ++i)
    r.emplace_back(dtype_name(static_cast<DType>(i)));
  return r;
}

struct Constant {
  const char *name;
  double value;
};
constexpr Constant kConstants[] = {
    {"pi", 3.141592653589793},
    {"e", 2.718281828459045},
    {"inf", std::numeric_limits<double>::infinity()},
    {"nan", std::numeric_limits<double>::quiet_NaN()},
};

Op binary_op(BinaryOp op) {
  switch (op) {
  case BinaryOp::Add:
    return Op::Add;
  case BinaryOp::Sub:
    return Op::Sub;
  case BinaryOp::Mul:
    return Op::Mul;
  case BinaryOp::Div:
    return Op::Div;
  case BinaryOp::FloorDiv:
    return Op::FloorDiv;
  case BinaryOp::Mod:
    return Op::Mod;
  case BinaryOp::Pow:
    return Op::Pow;
  case BinaryOp::Eq:
    return Op::Eq;
  case BinaryOp::Ne:
    return Op::Ne;
  case BinaryOp::Lt:
    return Op::Lt;
  case BinaryOp::Le:
    return Op::Le;
  case BinaryOp::Gt:
    return Op::Gt;
  case BinaryOp::Ge:
    return Op::Ge;
  case BinaryOp::BitAnd:
    return Op::BitAnd;
  case BinaryOp::BitOr:
    return Op::BitOr;
  case BinaryOp::BitXor:
    return Op::BitXor;
  case BinaryOp::Shl:
    return Op::Shl;
  case BinaryOp::Shr:
    return Op::Shr;
  }
  return Op::Add;
}

class Sema {
public:
  Sema(const SourceFile &src, const Limits &limits)
      : src_(src), diags_(src), max_depth_(limits.max_depth) {}

  ir::Graph script(const Module &m);
  ir::Graph expression(const Module &m, const std::vector<Decl> &decls);

private:
  struct Binding {
    Val val;
    SourceRange def;
  };

  const SourceFile &src_;
  Diagnostics diags_;
  ir::Graph g_;
  std::unordered_map<std::string, Binding> scope_;
  std::vector<std::string> scope_order_;               // for deterministic suggestions
  std::unordered_map<std::string, SourceRange> later_; // script names defined further down
  bool stmt_failed_ = false;
  Diagnostic scratch_;
  int depth_ = 0;
  int max_depth_;

  // ---- diagnostics ----
  /// Reports the statement's first error; later ones in the same statement are dropped (they
  /// are usually consequences of the first).
  Diagnostic &report(ErrorKind k, SourceRange r, std::string msg) {
    if (stmt_failed_) {
      scratch_ = {};
      return scratch_;
    }
    stmt_failed_ = true;
    return diags_.error(k, r, std::move(msg));
  }
  static void note(Diagnostic &d, SourceRange r, std::string msg) {
    d.notes.push_back(Note{r, true, std::move(msg)});
  }
  static void note(Diagnostic &d, std::string msg) {
    d.notes.push_back(Note{{}, false, std::move(msg)});
  }
  std::string_view text(SourceRange r) const {
    const std::string &t = src_.text();
    if (r.begin > t.size() || r.end > t.size() || r.end < r.begin) return {};
    return std::string_view(t).substr(r.begin, r.end - r.begin);
  }
  Val poisoned(SourceRange r = {}) {
    Val v;
    v.error = true;
    v.range = r;
    return v;
  }

  // ---- IR construction ----
  ValueId add(Op op, DType dt, std::vector<Dim> dims, std::vector<ValueId> operands) {
    ir::Node n;
    n.op = op;
    n.type = ir::Type{dt, std::move(dims)};
    n.operands = std::move(operands);
    return g_.add(std::move(n));
  }
  ValueId cast(ValueId v, DType to) {
    if (g_.type(v).dtype == to) return v;
    return add(Op::Cast, to, g_.type(v).dims, {v});
  }
  ValueId constant(const ir::ConstValue &c) {
    ir::Node n;
    n.op = Op::Const;
    n.type = ir::Type{c.dtype, {}};
    n.value = c;
    return g_.add(std::move(n));
  }
  /// True if `v` is a half value loaded (widened) as is, so it needs no rounding to `half`.
  bool is_exact_half(ValueId v, DType half) const {
    const ir::Node &n = g_.node(v);
    return n.op == Op::Cast && g_.type(n.operands[0]).dtype == half;
  }

  std::optional<ValueId> convert(Val &v, DType to);
  std::optional<ValueId> materialize(Val &v) { return convert(v, v.dtype); }
  std::optional<ValueId> store_value(Val &v);
  void bind(const std::string &name, SourceRange def, Val v);

  // ---- expressions ----
  Val visit(const Expr &e);
  Val visit_name(const Expr &e, const NameRef &n);
  Val visit_unary(const Expr &e, const Unary &u);
  Val visit_call(const Expr &e, const Call &c);
  Val apply(Op op, std::vector<Val> args, SourceRange at, const std::string &what,
            bool is_operator);
  Val reduce(Op op, const Expr &e, const Call &c);
  Val cast_call(DType to, const Expr &e, const Call &c);
  bool check_arity(const Call &c, std::size_t n, const std::string &name);
  SourceRange operator_range(const Expr &e, const Binary &b) const;
  std::optional<std::vector<Dim>> broadcast_all(const std::vector<Val> &args, SourceRange at,
                                                const std::string &what, bool is_operator);
  std::string operand_label(const Val &v, std::size_t i, std::size_t n, bool is_operator) const;

  // ---- statements ----
  std::optional<ir::Type> declared_type(const TypeDecl &t, bool is_param);
  Val input_value(ValueId input, DType dt, const std::vector<Dim> &dims);
  void finish();
};

// ------------------------------------------------------------------------------------------
// Conversions

/// The IR value of `v` converted to user dtype `to` (its compute dtype, for halves). A weak
/// literal becomes a constant of `to` and must fit it; that is the one way this fails.
std::optional<ValueId> Sema::convert(Val &v, DType to) {
  if (v.lit) {
    const Lit &l = *v.lit;
    std::string bad;
    if (l.kind == Lit::Int && is_int(to) && (l.i < int_min(to) || l.i > int_max(to)))
      bad = fmt::format("integer literal {} does not fit {} (range {} to {})", i128_str(l.i),
                        dtype_name(to), i128_str(int_min(to)), i128_str(int_max(to)));
    else if (l.kind != Lit::Bool && is_float(to) && std::isinf(lit_as_double(l, to)) &&
             !(l.kind == Lit::Float && std::isinf(l.f)))
      bad = fmt::format("literal {} overflows {} (its largest finite value is {})", text(v.range),
                        dtype_name(to),
                        to == DType::F16    ? "65504"
                        : to == DType::BF16 ? "3.39e38"
                        : to == DType::F32  ? "3.40e38"
                                            : "1.80e308");
    if (!bad.empty()) {
      Diagnostic &d = report(ErrorKind::Type, v.range, bad);
      if (to == v.dtype)
        note(d, fmt::format("an integer literal is {} unless an array operand gives it a "
                            "dtype; write a cast to choose another, e.g. u64({})",
                            dtype_name(to), text(v.range)));
      else
        note(d, fmt::format("a literal takes the dtype of the value it is combined with ({}); "
                            "cast that value to a wider dtype first",
                            dtype_name(to)));
      return std::nullopt;
    }
    return constant(const_of(l, to));
  }
  DType from = v.dtype;
  if (from == to) return v.id;
  DType c_to = compute_dtype(to);
  // Promotion lands on a half only from bool/i8/u8 (exact in both halves) or from a weak f64
  // value, which must be rounded to the half as NumPy would.
  if (is_half(to) && !(is_bool(from) || from == DType::I8 || from == DType::U8 || is_half(from)))
    return cast(cast(v.id, to), c_to);
  return cast(v.id, c_to);
}

/// The value an output stores: weak values take their default dtype; halves are rounded back
/// to their storage dtype here, once.
std::optional<ValueId> Sema::store_value(Val &v) {
  auto id = materialize(v);
  if (!id) return std::nullopt;
  if (!is_half(v.dtype)) return id;
  if (is_exact_half(*id, v.dtype)) return g_.node(*id).operands[0];
  return cast(*id, v.dtype);
}

// ------------------------------------------------------------------------------------------
// Expressions

Val Sema::visit(const Expr &e) {
  // The parser bounds the tree's height already; this keeps sema safe on its own.
  if (depth_ >= max_depth_) {
    report(ErrorKind::Limit, e.range,
           fmt::format("expression is nested too deeply (more than {} levels)", max_depth_));
    return poisoned(e.range);
  }
  ++depth_;
  struct Guard {
    int &d;
    ~Guard() { --d; }
  } guard{depth_};

  Val v;
  if (auto *n = e.as<NumberLit>()) {
    if (n->overflow) {
      report(ErrorKind::Type, e.range,
             fmt::format("integer literal {} is too large (the largest is 18446744073709551615)",
                         n->text));
      return poisoned(e.range);
    }
    v.weak = true;
    Lit l;
    if (n->is_float) {
      l.kind = Lit::Float;
      l.f = n->fvalue;
      v.dtype = DType::F64;
    } else {
      l.kind = Lit::Int;
      l.i = n->uvalue;
      v.dtype = DType::I64;
    }
    v.lit = l;
  } else if (auto *b = e.as<BoolLit>()) {
    v.weak = true;
    v.dtype = DType::Bool;
    Lit l;
    l.kind = Lit::Bool;
    l.b = b->value;
    v.lit = l;
  } else if (auto *n = e.as<NameRef>()) {
    v = visit_name(e, *n);
  } else if (auto *u = e.as<Unary>()) {
    v = visit_unary(e, *u);
  } else if (auto *b = e.as<Binary>()) {
    std::vector<Val> args;
    args.push_back(visit(*b->lhs));
    args.push_back(visit(*b->rhs));
    v = apply(binary_op(b->op), std::move(args), operator_range(e, *b),
              fmt::format("'{}'", spelling(b->op)), true);
  } else if (auto *c = e.as<Call>()) {
    v = visit_call(e, *c);
  } else if (e.as<TupleLit>()) {
    report(ErrorKind::Syntax, e.range,
           "a parenthesized list is only allowed as the value of axis=, e.g. axis=(0, 1)");
    return poisoned(e.range);
  }
  v.range = e.range;
  return v;
}

Val Sema::visit_name(const Expr &e, const NameRef &n) {
  if (auto it = scope_.find(n.name); it != scope_.end()) return it->second.val;
  for (const Constant &c : kConstants)
    if (n.name == c.name) {
      Val v;
      v.weak = true;
      v.dtype = DType::F64;
      Lit l;
      l.kind = Lit::Float;
      l.f = c.value;
      v.lit = l;
      return v;
    }
  Diagnostic &d = report(ErrorKind::Name, e.range, fmt::format("unknown name '{}'", n.name));
  if (auto it = later_.find(n.name); it != later_.end()) {
    note(d, it->second,
         fmt::format("'{}' is defined later, here; a name must be defined "
                     "before it is used",
                     n.name));
    return poisoned(e.range);
  }
  std::vector<std::string> cands = scope_order_;
  for (const Constant &c : kConstants)
    cands.emplace_back(c.name);
  std::string s = closest_name(n.name, cands);
  if (!s.empty())
    note(d, fmt::format("did you mean '{}'?", s));
  else if (find_builtin(n.name))
    note(d, fmt::format("'{}' is a function; call it, e.g. {}(x)", n.name, n.name));
  return poisoned(e.range);
}

Val Sema::visit_unary(const Expr &e, const Unary &u) {
  Val x = visit(*u.operand);
  if (x.error) return x;
  SourceRange op_range{e.range.begin, e.range.begin + 1};
  // Negation folds into a literal so `-128` is one literal that fits i8.
  if (x.lit && x.lit->kind != Lit::Bool && u.op != UnaryOp::Invert) {
    if (u.op == UnaryOp::Neg) {
      if (x.lit->kind == Lit::Int)
        x.lit->i = -x.lit->i;
      else
        x.lit->f = -x.lit->f;
    }
    return x;
  }
  if (u.op == UnaryOp::Plus) {
    if (is_bool(x.dtype)) {
      Diagnostic &d = report(ErrorKind::Type, op_range,
                             fmt::format("unary '+' is not defined for bool ({})", type_str(x)));
      note(d, "cast to a number first, e.g. i32(x)");
      return poisoned();
    }
    return x;
  }
  std::vector<Val> args{std::move(x)};
  return apply(u.op == UnaryOp::Neg ? Op::Neg : Op::Not, std::move(args), op_range,
               u.op == UnaryOp::Neg ? "unary '-'" : "'~'", true);
}

/// The range of a binary operator's token. The AST keeps only whole-expression ranges, so the
/// operator is found between the operands, past closing parentheses, spaces and comments.
SourceRange Sema::operator_range(const Expr &e, const Binary &b) const {
  const std::string &t = src_.text();
  std::uint32_t i = b.lhs->range.end, end = b.rhs->range.begin;
  std::string_view sp = spelling(b.op);
  while (i < end && i < t.size()) {
    char c = t[i];
    if (c == '#') {
      while (i < end && t[i] != '\n')
        ++i;
    } else if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ')' || c == '\\') {
      ++i;
    } else
      break;
  }
  if (i + sp.size() <= t.size() && std::string_view(t).substr(i, sp.size()) == sp)
    return {i, static_cast<std::uint32_t>(i + sp.size())};
  return e.range;
}

std::string Sema::operand_label(const Val &v, std::size_t i, std::size_t n,
                                bool is_operator) const {
  std::string_view t = text(v.range);
  if (!t.empty() && t.size() <= 24 && t.find('\n') == std::string_view::npos)
    return fmt::format("'{}'", t);
  if (is_operator && n == 2) return i == 0 ? "the left operand" : "the right operand";
  if (is_operator) return "the operand";
  return fmt::format("argument {}", i + 1);
}

std::optional<std::vector<Dim>> Sema::broadcast_all(const std::vector<Val> &args, SourceRange at,
                                                    const std::string &what, bool is_operator) {
  std::vector<Dim> acc = args[0].dims;
  for (std::size_t k = 1; k < args.size(); ++k) {
    auto r = ir::broadcast(acc, args[k].dims);
    if (r) {
      acc = std::move(*r);
      continue;
    }
    Diagnostic &d =
        report(ErrorKind::Shape, at,
               fmt::format("cannot broadcast the {} of {}: {}",
                           is_operator ? "operands" : "arguments", what, join_types(args)));
    for (std::size_t i = 0; i < args.size(); ++i)
      note(d, args[i].range,
           fmt::format("{} is {}", operand_label(args[i], i, args.size(), is_operator),
                       type_str(args[i])));
    // Name the first pair of dims that clash (aligned from the right, as broadcasting is).
    const std::vector<Dim> &a = acc, &b = args[k].dims;
    for (std::size_t j = 1; j <= std::min(a.size(), b.size()); ++j) {
      const Dim &x = a[a.size() - j], &y = b[b.size() - j];
      bool ok = x == y || (!x.is_symbolic() && x.size == 1) || (!y.is_symbolic() && y.size == 1);
      if (ok) continue;
      if (x.is_symbolic() || y.is_symbolic())
        note(d, fmt::format("{} and {} cannot broadcast: a symbolic dimension matches only "
                            "itself or a fixed 1",
                            dim_str(x), dim_str(y)));
      else
        note(d, fmt::format("{} and {} cannot broadcast: fixed sizes must be equal or 1",
                            dim_str(x), dim_str(y)));
      break;
    }
    return std::nullopt;
  }
  return acc;
}

/// Applies an elementwise op: broadcasts shapes, promotes dtypes with NEP 50 weak literals,
/// checks the op's TypeRule, converts operands and emits the node. `at` is where an error
/// points (the operator, or the callee's name); `what` names the op in messages.
Val Sema::apply(Op op, std::vector<Val> args, SourceRange at, const std::string &what,
                bool is_operator) {
  for (const Val &a : args)
    if (a.error) return poisoned();
  const TypeRule rule = ir::op_rule(op);
  auto dims = broadcast_all(args, at, what, is_operator);
  if (!dims) return poisoned();

  const std::size_t first = rule == TypeRule::Where ? 1 : 0;
  if (rule == TypeRule::Where && !is_bool(args[0].dtype)) {
    Diagnostic &d =
        report(ErrorKind::Type, args[0].range,
               fmt::format("the condition of where must be bool, got {}", type_str(args[0])));
    note(d, "compare it (x != 0) or cast it (bool(x))");
    return poisoned();
  }
  // NEP 50: strong operands promote among themselves; weak ones then fit in by kind.
  bool any_strong = false;
  DType strong = DType::Bool;
  int weak_kind = -1; // 0 bool, 1 int, 2 float
  for (std::size_t i = first; i < args.size(); ++i) {
    const Val &a = args[i];
    if (a.weak) {
      weak_kind = std::max(weak_kind, is_bool(a.dtype) ? 0 : is_int(a.dtype) ? 1 : 2);
    } else {
      strong = any_strong ? ir::promote(strong, a.dtype) : a.dtype;
      any_strong = true;
    }
  }
  DType p;
  if (!any_strong)
    p = weak_kind == 0 ? DType::Bool : weak_kind == 1 ? DType::I64 : DType::F64;
  else {
    p = strong;
    if (weak_kind == 1 && is_bool(p)) p = DType::I64;
    if (weak_kind == 2 && !is_float(p)) p = DType::F64;
  }
  bool weak = std::all_of(args.begin(), args.end(), [](const Val &a) { return a.weak; });

  std::vector<Val> promoted(args.begin() + static_cast<std::ptrdiff_t>(first), args.end());
  auto reject = [&](std::string msg, std::string hint) {
    Diagnostic &d = report(ErrorKind::Type, at, std::move(msg));
    if (!hint.empty()) note(d, std::move(hint));
    return poisoned();
  };
  switch (rule) {
  case TypeRule::Arith:
  case TypeRule::SameNum:
  case TypeRule::Div:
    if (is_bool(p))
      return reject(fmt::format("{} is not defined for bool ({})", what, join_types(args)),
                    op == Op::Neg ? "use '~' for logical not, or cast to a number first, "
                                    "e.g. i32(x)"
                                  : "cast to a number first, e.g. i32(x)");
    break;
  case TypeRule::IntOrBool:
    if (is_float(p))
      return reject(fmt::format("{} needs integer or bool {}, got {}", what,
                                args.size() == 1 ? "operand" : "operands", join_types(args)),
                    "bitwise operations are not defined for floats; compare instead, "
                    "or cast to an integer dtype");
    break;
  case TypeRule::Int:
    if (!is_int(p))
      return reject(fmt::format("{} needs integer operands, got {}", what, join_types(args)),
                    is_bool(p) ? "cast to an integer dtype first, e.g. i32(x)"
                               : "shifts are not defined for floats; cast to an integer dtype, "
                                 "or multiply by a power of two");
    break;
  case TypeRule::Pred:
    if (is_bool(p))
      return reject(fmt::format("{} needs a numeric argument, got {}", what, join_types(args)), "");
    break;
  default:
    break;
  }

  // Operands convert to `in` (user dtype); the node computes in its compute dtype.
  DType in = p, out = p;
  switch (rule) {
  case TypeRule::Div:
  case TypeRule::FloatFn: {
    // Ints go to the smallest float holding them (Sqrt stands for every FloatFn op).
    DType pp = p;
    in = rule == TypeRule::Div ? (is_float(p) ? p : DType::F64)
                               : *ir::result_dtype(Op::Sqrt, std::span<const DType>(&pp, 1));
    out = in;
    break;
  }
  case TypeRule::Compare:
  case TypeRule::Pred:
    out = DType::Bool;
    break;
  default:
    break;
  }

  std::vector<ValueId> ids;
  if (first == 1) ids.push_back(*convert(args[0], DType::Bool));
  for (Val &a : promoted) {
    auto id = convert(a, in);
    if (!id) return poisoned();
    ids.push_back(*id);
  }
  Val r;
  r.id = add(op, compute_dtype(out), *dims, std::move(ids));
  r.dtype = out;
  r.dims = std::move(*dims);
  r.weak = weak;
  return r;
}

bool Sema::check_arity(const Call &c, std::size_t n, const std::string &name) {
  if (c.args.size() == n) return true;
  SourceRange at = c.args.size() > n ? c.args[n]->range : c.callee_range;
  report(ErrorKind::Type, at,
         fmt::format("{} takes {} argument{}, got {}", name, n, n == 1 ? "" : "s", c.args.size()));
  return false;
}

Val Sema::visit_call(const Expr &e, const Call &c) {
  auto b = find_builtin(c.callee);
  if (!b) {
    Diagnostic &d =
        report(ErrorKind::Name, c.callee_range, fmt::format("unknown function '{}'", c.callee));
    if (scope_.count(c.callee))
      note(d, fmt::format("'{}' is a variable; only built-in functions can be called", c.callee));
    else if (std::string s = closest_name(c.callee, builtin_names()); !s.empty())
      note(d, fmt::format("did you mean '{}'?", s));
    return poisoned();
  }
  if (b->kind == BuiltinKind::Reduce) return reduce(b->op, e, c);
  if (!c.kwargs.empty()) {
    report(ErrorKind::Type, c.kwargs[0].name_range,
           fmt::format("{} takes no keyword arguments", c.callee));
    return poisoned();
  }
  if (b->kind == BuiltinKind::Cast) return cast_call(b->cast_to, e, c);
  if (!check_arity(c, static_cast<std::size_t>(ir::op_arity(b->op)), c.callee)) return poisoned();
  std::vector<Val> args;
  for (const ExprPtr &a : c.args)
    args.push_back(visit(*a));
  return apply(b->op, std::move(args), c.callee_range, c.callee, false);
}

Val Sema::cast_call(DType to, const Expr &e, const Call &c) {
  if (!check_arity(c, 1, c.callee)) return poisoned();
  Val x = visit(*c.args[0]);
  if (x.error) return x;
  Val r;
  r.dtype = to;
  r.dims = x.dims;
  if (x.lit) {
    r.id = constant(const_of(*x.lit, to));
    return r;
  }
  ValueId v = x.id;
  if (is_half(to)) {
    // A cast to a half rounds now (the value stays widened to f32 for compute).
    if (!(x.dtype == to && is_exact_half(v, to))) v = cast(cast(v, to), DType::F32);
  } else {
    v = cast(v, to);
  }
  r.id = v;
  return r;
}

Val Sema::reduce(Op op, const Expr &e, const Call &c) {
  const std::string name(ir::op_name(op));
  // Keywords first: they are checked without evaluating anything.
  const KwArg *axis_kw = nullptr, *keep_kw = nullptr;
  for (const KwArg &k : c.kwargs) {
    const KwArg **slot = k.name == "axis" ? &axis_kw : k.name == "keepdims" ? &keep_kw : nullptr;
    if (!slot) {
      std::string s = closest_name(k.name, {"axis", "keepdims"});
      report(ErrorKind::Name, k.name_range,
             s.empty()
                 ? fmt::format("unknown keyword '{}' for {}; it takes axis= and keepdims=", k.name,
                               name)
                 : fmt::format("unknown keyword '{}' for {}; did you mean '{}'?", k.name, name, s));
      return poisoned();
    }
    if (*slot) {
      Diagnostic &d =
          report(ErrorKind::Type, k.name_range, fmt::format("keyword '{}' is given twice", k.name));
      note(d, (*slot)->name_range, "first given here");
      return poisoned();
    }
    *slot = &k;
  }
  if (!check_arity(c, 1, name)) return poisoned();
  Val x = visit(*c.args[0]);
  if (x.error) return x;
  auto xid = materialize(x);
  if (!xid) return poisoned();
  const int rank = static_cast<int>(x.dims.size());

  bool keepdims = false;
  if (keep_kw) {
    auto *bl = keep_kw->value->as<BoolLit>();
    if (!bl) {
      report(ErrorKind::Type, keep_kw->value->range, "keepdims must be true or false");
      return poisoned();
    }
    keepdims = bl->value;
  }

  std::vector<int> axes;
  if (!axis_kw) {
    for (int i = 0; i < rank; ++i)
      axes.push_back(i);
  } else {
    std::vector<const Expr *> items;
    if (auto *t = axis_kw->value->as<TupleLit>()) {
      for (const ExprPtr &el : t->elems)
        items.push_back(el.get());
      if (items.empty()) {
        report(ErrorKind::Shape, axis_kw->value->range,
               fmt::format("axis=() names no axis; leave out axis= to reduce over all axes"));
        return poisoned();
      }
    } else {
      items.push_back(axis_kw->value.get());
    }
    std::vector<std::pair<int, const Expr *>> seen;
    for (const Expr *it : items) {
      const Expr *lit = it;
      bool neg = false;
      if (auto *u = it->as<Unary>(); u && u->op == UnaryOp::Neg) {
        neg = true;
        lit = u->operand.get();
      }
      auto *nl = lit->as<NumberLit>();
      if (!nl || nl->is_float || nl->overflow) {
        report(ErrorKind::Type, it->range,
               "axis must be an integer literal or a tuple of them, e.g. axis=1 or axis=(0, 1)");
        return poisoned();
      }
      i128 a = neg ? -static_cast<i128>(nl->uvalue) : static_cast<i128>(nl->uvalue);
      if (a < -rank || a >= rank) {
        report(ErrorKind::Shape, it->range,
               fmt::format("axis {} is out of range for a rank-{} array ({})", i128_str(a), rank,
                           type_str(x)));
        return poisoned();
      }
      int norm = static_cast<int>(a < 0 ? a + rank : a);
      for (auto &[prev, pe] : seen)
        if (prev == norm) {
          Diagnostic &d =
              report(ErrorKind::Shape, it->range,
                     text(it->range) == text(pe->range)
                         ? fmt::format("axis {} is given twice", text(it->range))
                         : fmt::format("axis {} is the same axis as {} for a rank-{} array",
                                       text(it->range), text(pe->range), rank));
          note(d, pe->range, "first given here");
          return poisoned();
        }
      seen.emplace_back(norm, it);
      axes.push_back(norm);
    }
    std::sort(axes.begin(), axes.end());
  }

  DType xd = x.dtype, xc = g_.type(*xid).dtype;
  Val r;
  r.dtype = *ir::result_dtype(op, std::span<const DType>(&xd, 1));
  r.dims = ir::reduced_shape(x.dims, axes, keepdims);
  ir::Node n;
  n.op = op;
  n.type = ir::Type{*ir::result_dtype(op, std::span<const DType>(&xc, 1)), r.dims};
  n.operands = {*xid};
  n.axes = axes;
  n.keepdims = keepdims;
  r.id = g_.add(std::move(n));
  return r;
}

// ------------------------------------------------------------------------------------------
// Statements

std::optional<ir::Type> Sema::declared_type(const TypeDecl &t, bool is_param) {
  if (is_param && !t.dims.empty()) {
    Diagnostic &d =
        report(ErrorKind::Shape, t.range, "a param is a runtime scalar and has no dimensions");
    note(d, fmt::format("declare it as '{}', or make it an input", dtype_name(t.dtype)));
    return std::nullopt;
  }
  if (t.dims.size() > static_cast<std::size_t>(kMaxRank)) {
    report(ErrorKind::Limit, t.range,
           fmt::format("rank {} is more than the limit of {} dimensions", t.dims.size(), kMaxRank));
    return std::nullopt;
  }
  ir::Type r{t.dtype, {}};
  for (const DimDecl &d : t.dims) {
    if (d.size) {
      if (*d.size < 0) {
        report(ErrorKind::Shape, d.range, fmt::format("dimension {} is negative", *d.size));
        return std::nullopt;
      }
      r.dims.push_back(Dim::fixed(*d.size));
    } else {
      r.dims.push_back(Dim::symbol(d.symbol));
    }
  }
  return r;
}

Val Sema::input_value(ValueId leaf, DType dt, const std::vector<Dim> &dims) {
  Val v;
  v.dtype = dt;
  v.dims = dims;
  v.id = is_half(dt) ? cast(leaf, DType::F32) : leaf;
  return v;
}

void Sema::bind(const std::string &name, SourceRange def, Val v) {
  if (!scope_.count(name)) scope_order_.push_back(name);
  scope_[name] = Binding{std::move(v), def};
}

ir::Graph Sema::script(const Module &m) {
  for (const Stmt &s : m.stmts)
    later_.emplace(s.name, s.name_range);
  std::unordered_map<std::string, bool> output_names;
  for (const Stmt &s : m.stmts) {
    if (diags_.too_many()) break;
    stmt_failed_ = false;
    later_.erase(s.name);
    if (auto it = scope_.find(s.name); it != scope_.end()) {
      Diagnostic &d =
          report(ErrorKind::Name, s.name_range, fmt::format("'{}' is already defined", s.name));
      note(d, it->second.def, "previously defined here");
      continue;
    }
    switch (s.kind) {
    case StmtKind::Input:
    case StmtKind::Param: {
      bool is_param = s.kind == StmtKind::Param;
      auto t = declared_type(*s.type, is_param);
      if (!t) {
        bind(s.name, s.name_range, poisoned());
        break;
      }
      ir::Node n;
      n.op = is_param ? Op::Param : Op::Input;
      n.type = *t;
      n.name = s.name;
      ValueId leaf = g_.add(std::move(n));
      bind(s.name, s.name_range, input_value(leaf, t->dtype, t->dims));
      break;
    }
    case StmtKind::Let:
    case StmtKind::Output: {
      Val v = visit(*s.value);
      if (s.kind == StmtKind::Output && !v.error) {
        auto id = store_value(v);
        if (id)
          g_.outputs.push_back(ir::Output{s.name, *id});
        else
          v = poisoned();
      }
      if (s.kind == StmtKind::Output) output_names[s.name] = true;
      bind(s.name, s.name_range, v.error ? poisoned() : std::move(v));
      break;
    }
    }
  }
  if (output_names.empty() && !diags_.has_errors()) {
    stmt_failed_ = false;
    SourceRange at = m.stmts.empty() ? SourceRange{0, 0} : m.stmts.back().range;
    Diagnostic &d = report(ErrorKind::Syntax, at, "the script has no outputs");
    note(d, "add one, e.g. 'output y = x * 2'");
  }
  finish();
  return std::move(g_);
}

ir::Graph Sema::expression(const Module &m, const std::vector<Decl> &decls) {
  // Only the names the expression uses become inputs, in declaration order: the caller's
  // environment may hold many more arrays than one expression reads.
  std::vector<const Expr *> stack{m.expr.get()};
  std::unordered_map<std::string, bool> used;
  while (!stack.empty()) {
    const Expr *e = stack.back();
    stack.pop_back();
    if (!e) continue;
    if (auto *n = e->as<NameRef>())
      used[n->name] = true;
    else if (auto *u = e->as<Unary>())
      stack.push_back(u->operand.get());
    else if (auto *b = e->as<Binary>()) {
      stack.push_back(b->lhs.get());
      stack.push_back(b->rhs.get());
    } else if (auto *c = e->as<Call>()) {
      for (auto &a : c->args)
        stack.push_back(a.get());
      for (auto &k : c->kwargs)
        stack.push_back(k.value.get());
    } else if (auto *t = e->as<TupleLit>())
      for (auto &el : t->elems)
        stack.push_back(el.get());
  }
  for (const Decl &d : decls) {
    if (scope_.count(d.name))
      throw Error(ErrorKind::Name, fmt::format("'{}' is declared twice", d.name));
    if (d.type.rank() > kMaxRank)
      throw Error(ErrorKind::Limit, fmt::format("'{}' has rank {}, more than the limit of {}",
                                                d.name, d.type.rank(), kMaxRank));
    if (!used.count(d.name)) {
      bind(d.name, {}, poisoned()); // reserved so duplicates are caught; never read
      continue;
    }
    ir::Node n;
    n.op = Op::Input;
    n.type = d.type;
    n.name = d.name;
    ValueId leaf = g_.add(std::move(n));
    bind(d.name, {}, input_value(leaf, d.type.dtype, d.type.dims));
  }
  if (!m.expr) throw Error(ErrorKind::Internal, "lower_expression: the module has no expression");
  stmt_failed_ = false;
  Val v = visit(*m.expr);
  if (!v.error)
    if (auto id = store_value(v)) g_.outputs.push_back(ir::Output{"result", *id});
  finish();
  return std::move(g_);
}

void Sema::finish() { diags_.check(); }

} // namespace

ir::Graph lower_script(const Module &m, const SourceFile &src, const Limits &limits) {
  return Sema(src, limits).script(m);
}

ir::Graph lower_expression(const Module &m, const SourceFile &src, const std::vector<Decl> &decls,
                           const Limits &limits) {
  return Sema(src, limits).expression(m, decls);
}

} // namespace xpr::fe

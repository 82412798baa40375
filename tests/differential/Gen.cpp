// tests/differential/Gen.cpp — the random program and input generator (see Gen.h). It infers
// dtypes with the same promotion table sema uses (ir::promote) so that what it builds is
// type-correct by construction; whatever sema still rejects is counted by the test, not hidden.
#include "tests/differential/Gen.h"

#include "compiler/ir/TypeRules.h"
#include "support/Half.h"
#include "tests/differential/Compare.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>

namespace xpr::diff {

using ir::Op;

// ---------------------------------------------------------------------------------------------
// Trees

std::string GNode::render() const {
  switch (kind) {
  case Kind::Input:
  case Kind::Param: return text;
  case Kind::Lit: return text[0] == '-' ? "(" + text + ")" : text;
  case Kind::Unary: return "(" + text + kids[0].render() + ")";
  case Kind::Binary: return "(" + kids[0].render() + " " + text + " " + kids[1].render() + ")";
  case Kind::Call:
  case Kind::Cast: {
    std::string s = text + "(";
    for (std::size_t i = 0; i < kids.size(); ++i) s += (i ? ", " : "") + kids[i].render();
    return s + ")";
  }
  }
  return {};
}

void GNode::collect_ops(std::vector<Op> &out) const {
  if (kind != Kind::Input && kind != Kind::Param && kind != Kind::Lit) out.push_back(op);
  for (const GNode &k : kids) k.collect_ops(out);
}

void GNode::collect_names(std::vector<std::string> &out) const {
  if (kind == Kind::Input || kind == Kind::Param) {
    if (std::find(out.begin(), out.end(), text) == out.end()) out.push_back(text);
  }
  for (const GNode &k : kids) k.collect_names(out);
}

int GNode::size() const {
  int n = 1;
  for (const GNode &k : kids) n += k.size();
  return n;
}

std::string Program::script() const {
  std::vector<std::string> used;
  root.collect_names(used);
  auto is_used = [&](const std::string &n) {
    return std::find(used.begin(), used.end(), n) != used.end();
  };
  std::string s = fmt::format("# differential case, seed {:#x}\n", seed);
  const int R = static_cast<int>(full.size());
  for (const InputDecl &in : inputs) {
    if (!is_used(in.name)) continue;
    const int r = static_cast<int>(in.ones.size());
    std::string dims;
    for (int k = 0; k < r; ++k) {
      const FullDim &d = full[static_cast<std::size_t>(R - r + k)];
      std::string one = in.ones[static_cast<std::size_t>(k)]
                            ? "1"
                            : (d.sym.empty() ? std::to_string(d.size) : d.sym);
      dims += (k ? ", " : "") + one;
    }
    s += fmt::format("input {}: {}[{}]\n", in.name, dtype_name(in.dtype), dims);
  }
  for (const ParamDecl &p : params)
    if (is_used(p.name)) s += fmt::format("param {}: {}\n", p.name, dtype_name(p.dtype));
  s += "output r = " + root.render() + "\n";
  return s;
}

// ---------------------------------------------------------------------------------------------
// Expression generation

namespace {

/// What a subtree must produce.
enum class Want : std::uint8_t { Any, Bool, Int, IntOrBool, Float, Num };

bool satisfies(DType t, Want w) {
  switch (w) {
  case Want::Any: return true;
  case Want::Bool: return is_bool(t);
  case Want::Int: return is_int(t);
  case Want::IntOrBool: return !is_float(t);
  case Want::Float: return is_float(t);
  case Want::Num: return !is_bool(t);
  }
  return false;
}

constexpr DType kAll[] = {DType::Bool, DType::I8,  DType::I16, DType::I32, DType::I64,
                          DType::U8,   DType::U16, DType::U32, DType::U64, DType::F16,
                          DType::BF16, DType::F32, DType::F64};

struct OpInfo {
  Op op;
  const char *spell;   // operator or function spelling
  GNode::Kind kind;    // Unary, Binary or Call
};

// Exact elementwise ops (on every dtype they accept), by spelling. Pow is here for integers.
const OpInfo kExactOps[] = {
    {Op::Add, "+", GNode::Kind::Binary},       {Op::Sub, "-", GNode::Kind::Binary},
    {Op::Mul, "*", GNode::Kind::Binary},       {Op::Div, "/", GNode::Kind::Binary},
    {Op::FloorDiv, "//", GNode::Kind::Binary}, {Op::Mod, "%", GNode::Kind::Binary},
    {Op::Pow, "**", GNode::Kind::Binary},      {Op::Pow, "pow", GNode::Kind::Call},
    {Op::Eq, "==", GNode::Kind::Binary},       {Op::Ne, "!=", GNode::Kind::Binary},
    {Op::Lt, "<", GNode::Kind::Binary},        {Op::Le, "<=", GNode::Kind::Binary},
    {Op::Gt, ">", GNode::Kind::Binary},        {Op::Ge, ">=", GNode::Kind::Binary},
    {Op::BitAnd, "&", GNode::Kind::Binary},    {Op::BitOr, "|", GNode::Kind::Binary},
    {Op::BitXor, "^", GNode::Kind::Binary},    {Op::Shl, "<<", GNode::Kind::Binary},
    {Op::Shr, ">>", GNode::Kind::Binary},      {Op::Neg, "-", GNode::Kind::Unary},
    {Op::Not, "~", GNode::Kind::Unary},        {Op::Abs, "abs", GNode::Kind::Call},
    {Op::Sign, "sign", GNode::Kind::Call},     {Op::Sqrt, "sqrt", GNode::Kind::Call},
    {Op::Floor, "floor", GNode::Kind::Call},   {Op::Ceil, "ceil", GNode::Kind::Call},
    {Op::Round, "round", GNode::Kind::Call},   {Op::Trunc, "trunc", GNode::Kind::Call},
    {Op::IsNan, "isnan", GNode::Kind::Call},   {Op::IsInf, "isinf", GNode::Kind::Call},
    {Op::IsFinite, "isfinite", GNode::Kind::Call}, {Op::SignBit, "signbit", GNode::Kind::Call},
    {Op::Fmod, "fmod", GNode::Kind::Call},     {Op::Minimum, "minimum", GNode::Kind::Call},
    {Op::Maximum, "maximum", GNode::Kind::Call}, {Op::Copysign, "copysign", GNode::Kind::Call},
    {Op::Where, "where", GNode::Kind::Call},   {Op::Fma, "fma", GNode::Kind::Call},
    {Op::Clip, "clip", GNode::Kind::Call},     {Op::Cast, "", GNode::Kind::Cast},
    {Op::Cast, "", GNode::Kind::Cast},         {Op::Neg, "+", GNode::Kind::Unary},
};

// Inexact (transcendental) functions: compared with the tolerance table of Compare.cpp.
const OpInfo kInexactOps[] = {
    {Op::Exp, "exp", GNode::Kind::Call},     {Op::Exp2, "exp2", GNode::Kind::Call},
    {Op::Expm1, "expm1", GNode::Kind::Call}, {Op::Log, "log", GNode::Kind::Call},
    {Op::Log2, "log2", GNode::Kind::Call},   {Op::Log10, "log10", GNode::Kind::Call},
    {Op::Log1p, "log1p", GNode::Kind::Call}, {Op::Sin, "sin", GNode::Kind::Call},
    {Op::Cos, "cos", GNode::Kind::Call},     {Op::Tan, "tan", GNode::Kind::Call},
    {Op::Asin, "asin", GNode::Kind::Call},   {Op::Acos, "acos", GNode::Kind::Call},
    {Op::Atan, "atan", GNode::Kind::Call},   {Op::Atan2, "atan2", GNode::Kind::Call},
    {Op::Sinh, "sinh", GNode::Kind::Call},   {Op::Cosh, "cosh", GNode::Kind::Call},
    {Op::Tanh, "tanh", GNode::Kind::Call},   {Op::Asinh, "asinh", GNode::Kind::Call},
    {Op::Acosh, "acosh", GNode::Kind::Call}, {Op::Atanh, "atanh", GNode::Kind::Call},
    {Op::Erf, "erf", GNode::Kind::Call},     {Op::Erfc, "erfc", GNode::Kind::Call},
    {Op::Ncdf, "ncdf", GNode::Kind::Call},   {Op::Pow, "pow", GNode::Kind::Call},
    {Op::Pow, "**", GNode::Kind::Binary},    {Op::Cbrt, "cbrt", GNode::Kind::Call},
    {Op::Hypot, "hypot", GNode::Kind::Call}, {Op::Rsqrt, "rsqrt", GNode::Kind::Call},
};

/// Integer bounds of a dtype (bool: 0..1).
struct Range {
  __int128 lo, hi;
};
Range int_range(DType t) {
  switch (t) {
  case DType::Bool: return {0, 1};
  case DType::I8: return {-128, 127};
  case DType::I16: return {-32768, 32767};
  case DType::I32: return {INT32_MIN, INT32_MAX};
  case DType::I64: return {INT64_MIN, INT64_MAX};
  case DType::U8: return {0, 255};
  case DType::U16: return {0, 65535};
  case DType::U32: return {0, UINT32_MAX};
  case DType::U64: return {0, static_cast<__int128>(UINT64_MAX)};
  default: return {INT64_MIN, INT64_MAX};
  }
}

std::string int128_text(__int128 v) {
  if (v < 0) {
    if (v == static_cast<__int128>(INT64_MIN)) return "-9223372036854775808";
    return "-" + std::to_string(static_cast<std::uint64_t>(-v));
  }
  return std::to_string(static_cast<std::uint64_t>(v));
}

class Generator {
public:
  explicit Generator(std::uint64_t seed) : rng_(seed) { p_.seed = seed; }

  Program run();

private:
  std::mt19937_64 rng_;
  Program p_;
  int depth_limit_ = 4;

  std::uint64_t below(std::uint64_t n) { return n ? rng_() % n : 0; }
  bool chance(int percent) { return static_cast<int>(below(100)) < percent; }
  template <class T, std::size_t N> const T &pick(const T (&a)[N]) { return a[below(N)]; }

  DType random_dtype(Want w) {
    DType cand[kNumDTypes];
    int n = 0;
    for (DType t : kAll)
      if (satisfies(t, w)) cand[n++] = t;
    return cand[below(static_cast<std::uint64_t>(n))];
  }

  GNode leaf(Want w);
  GNode literal_for(DType partner, Op op, bool int_only);
  GNode gen(Want w, int depth);
  std::optional<GNode> try_op(const OpInfo &info, Want w, int depth);
  GNode inexact_chain(Want w, int depth);
  static GNode make(GNode::Kind k, std::string text, Op op, DType t, std::vector<GNode> kids) {
    GNode n;
    n.kind = k;
    n.text = std::move(text);
    n.op = op;
    n.dtype = t;
    n.kids = std::move(kids);
    return n;
  }
};

GNode Generator::leaf(Want w) {
  // Params are rank-0 runtime scalars: exercise them now and then.
  if (chance(8) && p_.params.size() < 2) {
    ParamDecl d{fmt::format("p{}", p_.params.size()), random_dtype(w)};
    p_.params.push_back(d);
    return make(GNode::Kind::Param, d.name, Op::Param, d.dtype, {});
  }
  // Reuse an input of a fitting dtype half of the time (a - a, where(a > b, a, b) ...).
  std::vector<const InputDecl *> fit;
  for (const InputDecl &in : p_.inputs)
    if (satisfies(in.dtype, w)) fit.push_back(&in);
  if (!fit.empty() && (chance(50) || p_.inputs.size() >= 5)) {
    const InputDecl *in = fit[below(fit.size())];
    return make(GNode::Kind::Input, in->name, Op::Input, in->dtype, {});
  }
  InputDecl d;
  d.name = std::string(1, static_cast<char>('a' + p_.inputs.size()));
  d.dtype = random_dtype(w);
  const int R = static_cast<int>(p_.full.size());
  // Most inputs have the full rank; some fewer dims (suffix broadcasting) or rank 0.
  int r = R;
  if (R > 0 && chance(30)) r = static_cast<int>(below(static_cast<std::uint64_t>(R) + 1));
  for (int k = 0; k < r; ++k) d.ones.push_back(chance(20));
  p_.inputs.push_back(d);
  return make(GNode::Kind::Input, d.name, Op::Input, d.dtype, {});
}

/// A weak literal to combine with an operand of dtype `partner` under `op`, chosen so that sema
/// accepts it: integer literals that fit the partner, float literals only where a float result
/// is acceptable, bool literals only for logical ops.
GNode Generator::literal_for(DType partner, Op op, bool int_only) {
  GNode n;
  n.kind = GNode::Kind::Lit;
  n.op = Op::Const;
  const bool logical = op == Op::BitAnd || op == Op::BitOr || op == Op::BitXor;
  if (is_bool(partner) && (logical || op == Op::Where || op == Op::Eq || op == Op::Ne)) {
    n.weak = Weak::Bool;
    n.text = chance(50) ? "true" : "false";
    n.dtype = DType::Bool;
    return n;
  }
  const bool want_float = is_float(partner) && !int_only && chance(60);
  if (want_float) {
    static const char *kFloats[] = {"0.5", "2.0",  "-1.5",  "0.1",  "3.25", "-0.0", "1.0",
                                    "1e-3", "-2.5", "100.0", "0.75", "1.5e2", "0.0", "-7.0"};
    n.weak = Weak::Float;
    n.text = pick(kFloats);
    n.dtype = partner;
    return n;
  }
  // Integer literal: small values mostly, the partner's extremes sometimes.
  Range r = int_range(is_bool(partner) || is_float(partner) ? DType::I64 : partner);
  if (is_float(partner)) r = {-1000, 1000};
  if (op == Op::Shl || op == Op::Shr) r = {0, std::min<__int128>(r.hi, 66)};
  static const int kSmall[] = {0, 1, 2, 3, 5, 7, -1, -2, -3, 8, 31, 100, -100, 13};
  __int128 v;
  if (chance(80) || op == Op::Pow) v = pick(kSmall);
  else v = chance(50) ? r.lo : r.hi;
  if (op == Op::Shl || op == Op::Shr) v = static_cast<__int128>(below(static_cast<std::uint64_t>(r.hi) + 1));
  v = std::clamp(v, r.lo, r.hi);
  n.weak = Weak::Int;
  n.text = int128_text(v);
  n.dtype = is_bool(partner) ? DType::I64 : partner;
  return n;
}

GNode Generator::gen(Want w, int depth) {
  if (depth <= 0 || chance(depth >= depth_limit_ ? 5 : 25)) return leaf(w);
  for (int attempt = 0; attempt < 12; ++attempt) {
    if (auto n = try_op(pick(kExactOps), w, depth)) return *n;
  }
  return leaf(w);
}

/// Tries to build `info` producing `w`; nullopt if the op cannot (the caller tries another).
std::optional<GNode> Generator::try_op(const OpInfo &info, Want w, int depth) {
  const Op op = info.op;
  const ir::TypeRule rule = ir::op_rule(op);
  auto typed = [&](Want ow) { return gen(ow, depth - 1); };

  if (info.kind == GNode::Kind::Cast) {
    DType to = random_dtype(w);
    GNode x = typed(Want::Any);
    return make(GNode::Kind::Cast, std::string(dtype_name(to)), Op::Cast, to, {x});
  }
  switch (rule) {
  case ir::TypeRule::Compare: {
    if (w != Want::Bool && w != Want::Any && w != Want::IntOrBool) return std::nullopt;
    GNode a = typed(Want::Any);
    GNode b = chance(30) ? literal_for(a.dtype, op, false) : typed(Want::Any);
    if (chance(50)) std::swap(a, b);
    return make(GNode::Kind::Binary, info.spell, op, DType::Bool, {a, b});
  }
  case ir::TypeRule::Pred: {
    if (w != Want::Bool && w != Want::Any && w != Want::IntOrBool) return std::nullopt;
    // signbit observes a NaN's sign, which IEEE leaves unspecified for a NaN an operation
    // produces: only a leaf (whose NaNs carry the sign we gave them) is a fair operand.
    GNode a = op == Op::SignBit ? leaf(Want::Num) : typed(chance(80) ? Want::Float : Want::Num);
    return make(GNode::Kind::Call, info.spell, op, DType::Bool, {a});
  }
  case ir::TypeRule::Where: {
    GNode c = typed(Want::Bool);
    GNode a = typed(w);
    GNode b = chance(25) ? literal_for(a.dtype, op, false) : typed(w);
    if (chance(50)) std::swap(a, b);
    DType t = a.weak != Weak::None ? b.dtype : b.weak != Weak::None ? a.dtype
                                                                     : ir::promote(a.dtype, b.dtype);
    if (!satisfies(t, w)) return std::nullopt;
    return make(GNode::Kind::Call, "where", op, t, {c, a, b});
  }
  case ir::TypeRule::IntOrBool: {
    Want ow = w == Want::Int || w == Want::Bool ? w
              : (w == Want::Any || w == Want::IntOrBool) ? (chance(50) ? Want::Int : Want::Bool)
                                                          : Want::Float; // impossible below
    if (ow == Want::Float) return std::nullopt;
    GNode a = typed(ow);
    if (op == Op::Not) return make(GNode::Kind::Unary, "~", op, a.dtype, {a});
    GNode b = chance(30) ? literal_for(a.dtype, op, true) : typed(ow);
    if (chance(50)) std::swap(a, b);
    DType t = a.weak != Weak::None ? b.dtype : b.weak != Weak::None ? a.dtype
                                                                     : ir::promote(a.dtype, b.dtype);
    if (is_float(t) || !satisfies(t, w)) return std::nullopt;
    return make(GNode::Kind::Binary, info.spell, op, t, {a, b});
  }
  case ir::TypeRule::Int: { // shifts
    if (!(w == Want::Int || w == Want::Num || w == Want::Any || w == Want::IntOrBool))
      return std::nullopt;
    GNode a = typed(Want::Int);
    GNode b = chance(50) ? literal_for(a.dtype, op, true) : typed(Want::Int);
    DType t = b.weak != Weak::None ? a.dtype : ir::promote(a.dtype, b.dtype);
    if (!is_int(t)) return std::nullopt; // u64 << i64 promotes to f64
    return make(GNode::Kind::Binary, info.spell, op, t, {a, b});
  }
  default: break;
  }

  // Numeric ops: Arith, Div, SameNum, FloatFn (the exact ones: sqrt, copysign, fma).
  if (w == Want::Bool) return std::nullopt;
  const int arity = ir::op_arity(op);
  Want ow = w == Want::Int ? Want::Int : w == Want::Float ? (chance(50) ? Want::Float : Want::Num)
                                                          : Want::Num;
  if (rule == ir::TypeRule::FloatFn || rule == ir::TypeRule::Div) {
    if (w == Want::Int || w == Want::IntOrBool) return std::nullopt;
    ow = Want::Num;
  }
  std::vector<GNode> kids;
  kids.push_back(typed(ow));
  for (int i = 1; i < arity; ++i) {
    if (chance(30)) kids.push_back(literal_for(kids[0].dtype, op, w == Want::Int));
    else kids.push_back(typed(ow == Want::Float ? Want::Num : ow));
  }
  if (arity == 2 && chance(40)) std::swap(kids[0], kids[1]);
  // copysign's sign operand: a leaf, for the reason signbit's operand is one (see Pred above).
  if (op == Op::Copysign && kids[1].weak == Weak::None) {
    kids[1] = leaf(Want::Num);
    if (kids[0].weak != Weak::None) kids[0] = literal_for(kids[1].dtype, op, false);
  }
  if (op == Op::Clip && chance(30)) std::swap(kids[0], kids[2]);
  // The promoted operand dtype (weak literals take it from the typed operands).
  std::optional<DType> pt;
  for (const GNode &k : kids)
    if (k.weak == Weak::None) pt = pt ? ir::promote(*pt, k.dtype) : k.dtype;
  if (!pt) return std::nullopt;
  // A weak float literal next to integer operands makes the promoted dtype f64.
  for (const GNode &k : kids)
    if (k.weak == Weak::Float && !is_float(*pt)) pt = DType::F64;
  DType in[3] = {*pt, *pt, *pt};
  std::optional<DType> t = ir::result_dtype(op, std::span<const DType>(in, static_cast<std::size_t>(arity)));
  if (!t || !satisfies(*t, w)) return std::nullopt;
  // Pow is exact only on integers; a float pow belongs to the inexact chains.
  if (op == Op::Pow && !is_int(*t)) return std::nullopt;
  // `+x` is the identity: record it as such, not as a negation.
  if (info.kind == GNode::Kind::Unary && std::string_view(info.spell) == "+")
    return make(GNode::Kind::Unary, "+", Op::Input /* identity, no op */, *t, kids);
  return make(info.kind, info.spell, op, *t, kids);
}

/// An inexact chain: f(exact subtrees), then a few wrappers that keep its relative error
/// (negation, abs, casts to float, minimum/maximum with an exact value, and -- for functions
/// without an absolute tolerance -- multiplication or division by an exact value).
GNode Generator::inexact_chain(Want w, int depth) {
  const OpInfo *info = nullptr;
  GNode f;
  for (int attempt = 0; attempt < 20; ++attempt) {
    info = &pick(kInexactOps);
    const int arity = ir::op_arity(info->op);
    std::vector<GNode> kids;
    kids.push_back(gen(info->op == Op::Pow ? Want::Float : Want::Num, depth - 1));
    for (int i = 1; i < arity; ++i)
      kids.push_back(chance(25) ? literal_for(kids[0].dtype, info->op, false)
                                : gen(Want::Num, depth - 1));
    if (arity == 2 && kids[1].weak == Weak::None && chance(30)) std::swap(kids[0], kids[1]);
    DType pt = kids[0].weak == Weak::None ? kids[0].dtype : kids[1].dtype;
    for (const GNode &k : kids)
      if (k.weak == Weak::None) pt = ir::promote(pt, k.dtype);
    for (const GNode &k : kids)
      if (k.weak == Weak::Float && !is_float(pt)) pt = DType::F64;
    DType in[2] = {pt, pt};
    ir::Op rop = info->op == Op::Pow ? Op::Atan2 /* float-only rule of a float pow */ : info->op;
    auto t = ir::result_dtype(rop, std::span<const DType>(in, static_cast<std::size_t>(arity)));
    if (info->op == Op::Pow && !is_float(pt)) t.reset();
    if (!t) continue;
    f = make(info->kind, info->spell, info->op, *t, kids);
    break;
  }
  if (f.kids.empty()) return gen(w, depth); // no luck: an exact tree instead

  FnTolerance ft = *function_tolerance(f.op);
  Tolerance tol;
  tol.exact = false;
  tol.ulps = ft.ulps;
  tol.abs_eps = ft.abs_eps;
  tol.fn_compute = f.dtype == DType::F64 ? DType::F64 : DType::F32;
  tol.why = fmt::format("{}: {} ulp", ir::op_name(f.op), ft.ulps);
  int wrappers = static_cast<int>(below(3));
  for (int i = 0; i < wrappers; ++i) {
    int kind = static_cast<int>(below(5));
    if (kind == 4 && ft.abs_eps != 0) kind = 0;
    switch (kind) {
    case 0: f = make(GNode::Kind::Unary, "-", Op::Neg, f.dtype, {f}); break;
    case 1: f = make(GNode::Kind::Call, "abs", Op::Abs, f.dtype, {f}); break;
    case 2: {
      static const DType kF[] = {DType::F16, DType::BF16, DType::F32, DType::F64};
      DType to = pick(kF);
      f = make(GNode::Kind::Cast, std::string(dtype_name(to)), Op::Cast, to, {f});
      tol.ulps += 1;
      break;
    }
    case 3: {
      GNode e = gen(Want::Float, 1);
      DType t = ir::promote(f.dtype, e.dtype);
      bool mn = chance(50);
      f = make(GNode::Kind::Call, mn ? "minimum" : "maximum", mn ? Op::Minimum : Op::Maximum, t,
               chance(50) ? std::vector<GNode>{f, e} : std::vector<GNode>{e, f});
      break;
    }
    case 4: {
      GNode e = gen(Want::Num, 1);
      DType t = ir::promote(f.dtype, e.dtype);
      bool mul = chance(50);
      f = make(GNode::Kind::Binary, mul ? "*" : "/", mul ? Op::Mul : Op::Div, t,
               mul && chance(50) ? std::vector<GNode>{e, f} : std::vector<GNode>{f, e});
      tol.ulps += 1;
      break;
    }
    }
  }
  if (wrappers) tol.why += fmt::format(" + {} wrapper(s)", wrappers);
  p_.tol = tol;
  return f;
}

Program Generator::run() {
  // The iteration shape: rank 0..4, symbols mostly, a fixed dim now and then.
  static const int kRankWeights[] = {0, 1, 1, 1, 1, 2, 2, 2, 3, 3, 4};
  const int R = pick(kRankWeights);
  for (int k = 0; k < R; ++k) {
    FullDim d;
    if (chance(15)) d.size = chance(50) ? 1 : 3;
    else d.sym = fmt::format("n{}", k);
    p_.full.push_back(d);
  }
  depth_limit_ = 2 + static_cast<int>(below(3));
  static const Want kWants[] = {Want::Any, Want::Float, Want::Float, Want::Int, Want::Bool,
                                Want::Num};
  if (chance(35)) {
    p_.root = inexact_chain(Want::Float, depth_limit_);
  } else {
    p_.root = gen(pick(kWants), depth_limit_);
  }
  // A bare literal or param as the whole program says little: wrap it.
  if (p_.root.kind == GNode::Kind::Lit || p_.root.kind == GNode::Kind::Param) {
    GNode x = leaf(Want::Num);
    p_.root = make(GNode::Kind::Binary, "+", Op::Add, x.dtype, {x, literal_for(x.dtype, Op::Add, true)});
  }
  return std::move(p_);
}

} // namespace

Program generate_program(std::uint64_t seed) { return Generator(seed).run(); }

// ---------------------------------------------------------------------------------------------
// Values

std::uint64_t random_bits(DType t, std::mt19937_64 &rng) {
  auto below = [&](std::uint64_t n) { return rng() % n; };
  auto uniform = [&](double lo, double hi) {
    return lo + (hi - lo) * (static_cast<double>(rng() >> 11) * 0x1p-53);
  };
  if (is_bool(t)) return below(2);
  if (is_int(t)) {
    const int bits = dtype_size(t) * 8;
    const std::uint64_t mask = bits == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << bits) - 1;
    const bool sgn = is_signed_int(t);
    const std::uint64_t min = sgn ? (std::uint64_t{1} << (bits - 1)) : 0; // bits of the minimum
    const std::uint64_t max = sgn ? min - 1 : mask;
    std::uint64_t c = below(100);
    if (c < 15) {
      const std::uint64_t ext[] = {min, max, mask /* -1 or max */, 0, 1, min + 1, max - 1};
      return ext[below(7)] & mask;
    }
    if (c < 75) {
      std::int64_t v = sgn ? static_cast<std::int64_t>(below(21)) - 10 : static_cast<std::int64_t>(below(21));
      return static_cast<std::uint64_t>(v) & mask;
    }
    return rng() & mask;
  }
  // Floats: draw a double, round it to t once.
  std::uint64_t c = below(100);
  double v;
  if (c < 14) {
    // Special values of the target dtype itself (denormals differ per dtype).
    switch (below(12)) {
    case 0: return from_double(t, std::numeric_limits<double>::quiet_NaN());
    case 1: return from_double(t, std::numeric_limits<double>::infinity());
    case 2: return from_double(t, -std::numeric_limits<double>::infinity());
    case 3: return from_double(t, -0.0);
    case 4: return 0;
    case 5: return 1; // smallest positive denormal
    case 6: return (t == DType::F64 ? 0x000fffffffffffffull : t == DType::F32 ? 0x007fffffull
                    : t == DType::F16 ? 0x3ffull : 0x7full); // largest denormal
    case 7: // largest finite, either sign
      return (t == DType::F64 ? 0x7fefffffffffffffull : t == DType::F32 ? 0x7f7fffffull
              : t == DType::F16 ? 0x7bffull : 0x7f7full) |
             (below(2) ? (std::uint64_t{1} << (dtype_size(t) * 8 - 1)) : 0);
    case 8: // smallest normal, negative
      return (t == DType::F64 ? 0x8010000000000000ull : t == DType::F32 ? 0x80800000ull
              : t == DType::F16 ? 0x8400ull : 0x8080ull);
    case 9: return from_double(t, below(2) ? 0.5 : -0.5);
    case 10: return from_double(t, below(2) ? 2.5 : -1.5); // ties for round()
    default: { // a NaN with a payload and the sign bit set
      std::uint64_t q = from_double(t, std::numeric_limits<double>::quiet_NaN());
      return q | 1 | (std::uint64_t{1} << (dtype_size(t) * 8 - 1));
    }
    }
  }
  if (c < 70) v = uniform(-4, 4);
  else if (c < 80) v = uniform(-1, 1);
  else if (c < 90) v = (below(2) ? -1 : 1) * std::pow(10.0, uniform(-8, 8));
  else v = static_cast<double>(static_cast<std::int64_t>(below(21)) - 10);
  return from_double(t, v);
}

std::uint64_t load_bits(const void *base, DType t, std::int64_t i) {
  const auto *p = static_cast<const unsigned char *>(base) + i * dtype_size(t);
  switch (dtype_size(t)) {
  case 1: return *p;
  case 2: { std::uint16_t v; std::memcpy(&v, p, 2); return v; }
  case 4: { std::uint32_t v; std::memcpy(&v, p, 4); return v; }
  default: { std::uint64_t v; std::memcpy(&v, p, 8); return v; }
  }
}

void store_bits(void *base, DType t, std::int64_t i, std::uint64_t bits) {
  auto *p = static_cast<unsigned char *>(base) + i * dtype_size(t);
  std::memcpy(p, &bits, static_cast<std::size_t>(dtype_size(t))); // little-endian host
}

std::string format_bits(DType t, std::uint64_t b) {
  if (is_bool(t)) return b ? "true" : "false";
  if (is_int(t)) {
    const int bits = dtype_size(t) * 8;
    if (is_signed_int(t)) {
      std::int64_t v = bits == 64 ? static_cast<std::int64_t>(b)
                                  : static_cast<std::int64_t>(b << (64 - bits)) >> (64 - bits);
      return std::to_string(v);
    }
    return std::to_string(b);
  }
  const int hexw = dtype_size(t) * 2;
  if (is_nan_bits(t, b)) return fmt::format("nan (0x{:0{}x})", b, hexw);
  double v = to_double(t, b);
  if (v == 0 && std::signbit(v)) return fmt::format("-0 (0x{:0{}x})", b, hexw);
  return fmt::format("{:.17g} (0x{:0{}x})", v, b, hexw);
}

// ---------------------------------------------------------------------------------------------
// Instances

namespace {

std::vector<std::int64_t> pick_sizes(int nsym, std::mt19937_64 &rng) {
  auto below = [&](std::uint64_t n) { return static_cast<std::int64_t>(rng() % n); };
  std::vector<std::int64_t> s(static_cast<std::size_t>(nsym), 1);
  if (nsym == 0) return s;
  std::int64_t c = below(100);
  if (c < 6) { // an empty array
    for (auto &x : s) x = 1 + below(5);
    s[static_cast<std::size_t>(below(nsym))] = 0;
    return s;
  }
  if (c < 12) return s; // all ones
  // A total of up to ~3000 elements; vector-width-hostile lengths on the innermost dim.
  static const std::int64_t kInner[] = {1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 63, 64, 65, 127, 129};
  if (nsym == 1) {
    s[0] = c < 50 ? kInner[below(16)] : 1 + below(3000);
    return s;
  }
  std::int64_t budget = 1 + below(3000);
  for (int k = nsym - 1; k >= 0; --k) {
    std::int64_t cap = std::max<std::int64_t>(1, budget);
    std::int64_t v = k == nsym - 1 ? std::min(kInner[below(16)], cap) : 1 + below(std::min<std::int64_t>(cap, 40));
    s[static_cast<std::size_t>(k)] = v;
    budget = std::max<std::int64_t>(1, budget / std::max<std::int64_t>(1, v));
  }
  return s;
}

} // namespace

Instance make_instance(const Program &p, std::uint64_t seed, bool strided) {
  std::mt19937_64 rng(seed);
  auto below = [&](std::uint64_t n) { return rng() % n; };
  Instance inst;
  int nsym = 0;
  for (const FullDim &d : p.full) nsym += d.sym.empty() ? 0 : 1;
  std::vector<std::int64_t> sz = pick_sizes(nsym, rng);
  std::vector<std::int64_t> full;
  int si = 0;
  for (const FullDim &d : p.full) {
    if (d.sym.empty()) {
      full.push_back(d.size);
    } else {
      inst.sizes[d.sym] = sz[static_cast<std::size_t>(si)];
      full.push_back(sz[static_cast<std::size_t>(si++)]);
    }
  }
  std::vector<std::string> used;
  p.root.collect_names(used);
  const int R = static_cast<int>(full.size());
  for (const InputDecl &in : p.inputs) {
    if (std::find(used.begin(), used.end(), in.name) == used.end()) continue;
    const int r = static_cast<int>(in.ones.size());
    std::vector<std::int64_t> shape(static_cast<std::size_t>(r));
    for (int k = 0; k < r; ++k)
      shape[static_cast<std::size_t>(k)] = in.ones[static_cast<std::size_t>(k)] ? 1 : full[static_cast<std::size_t>(R - r + k)];
    // Per-dim step: 1 contiguous, 2 every other element, negative reversed, 0 broadcast.
    std::vector<int> step(static_cast<std::size_t>(r), 1);
    InputData data;
    data.layout = "contiguous";
    if (strided && r > 0) {
      int style = static_cast<int>(below(4));
      static const char *kNames[] = {"strided", "negative", "broadcast", "mixed"};
      data.layout = kNames[style];
      for (int k = 0; k < r; ++k) {
        int &s = step[static_cast<std::size_t>(k)];
        switch (style) {
        case 0: s = 2; break;
        case 1: s = below(2) ? -1 : -2; break;
        case 2: s = below(2) ? 0 : 1; break;
        default: { static const int kSteps[] = {1, 2, -1, -2, 0}; s = kSteps[below(5)]; }
        }
      }
      if (style == 2 && std::count(step.begin(), step.end(), 0) == 0) step[static_cast<std::size_t>(below(static_cast<std::uint64_t>(r)))] = 0;
    }
    // Strides in elements, innermost first; the buffer covers |step| * extent per dim.
    std::vector<std::int64_t> strides(static_cast<std::size_t>(r));
    std::int64_t span = 1, offset = 0;
    for (int k = r - 1; k >= 0; --k) {
      std::int64_t n = shape[static_cast<std::size_t>(k)];
      int s = step[static_cast<std::size_t>(k)];
      strides[static_cast<std::size_t>(k)] = s * span;
      if (s < 0 && n > 0) offset += (n - 1) * (-s) * span;
      if (s != 0) span *= std::max<std::int64_t>(1, n * (s < 0 ? -s : s));
    }
    const int es = dtype_size(in.dtype);
    const std::int64_t nbuf = span;
    data.storage = std::make_shared<std::vector<std::uint64_t>>(static_cast<std::size_t>((nbuf * es + 7) / 8 + 1));
    void *buf = data.storage->data();
    for (std::int64_t i = 0; i < nbuf; ++i) store_bits(buf, in.dtype, i, random_bits(in.dtype, rng));
    void *origin = static_cast<unsigned char *>(buf) + offset * es;
    data.view = Array::view(origin, in.dtype, shape, strides);
    // The contiguous copy, gathered with plain index arithmetic.
    std::int64_t count = 1;
    for (std::int64_t n : shape) count *= n;
    data.contiguous_storage = std::make_shared<std::vector<std::uint64_t>>(static_cast<std::size_t>((count * es + 7) / 8 + 1));
    void *cbuf = data.contiguous_storage->data();
    std::vector<std::int64_t> idx(static_cast<std::size_t>(r), 0);
    for (std::int64_t i = 0; i < count; ++i) {
      std::int64_t off = 0;
      for (int k = 0; k < r; ++k) off += idx[static_cast<std::size_t>(k)] * strides[static_cast<std::size_t>(k)];
      store_bits(cbuf, in.dtype, i, load_bits(origin, in.dtype, off));
      for (int k = r - 1; k >= 0; --k) {
        if (++idx[static_cast<std::size_t>(k)] < shape[static_cast<std::size_t>(k)]) break;
        idx[static_cast<std::size_t>(k)] = 0;
      }
    }
    data.contiguous = Array::view(cbuf, in.dtype, shape);
    inst.inputs.emplace(in.name, std::move(data));
  }
  for (const ParamDecl &pd : p.params) {
    if (std::find(used.begin(), used.end(), pd.name) == used.end()) continue;
    std::uint64_t b = random_bits(pd.dtype, rng);
    inst.param_bits[pd.name] = b;
    Scalar s;
    if (is_bool(pd.dtype)) s = Scalar(b != 0);
    else if (is_signed_int(pd.dtype)) {
      const int bits = dtype_size(pd.dtype) * 8;
      s = Scalar(static_cast<long long>(bits == 64 ? static_cast<std::int64_t>(b)
                                                   : static_cast<std::int64_t>(b << (64 - bits)) >> (64 - bits)));
    } else if (is_unsigned_int(pd.dtype)) s = Scalar(static_cast<unsigned long long>(b));
    else s = Scalar(to_double(pd.dtype, b));
    inst.params.emplace(pd.name, s);
  }
  return inst;
}

std::string Instance::describe(const Program &p) const {
  std::string s;
  for (const auto &[sym, n] : sizes) s += fmt::format("  {} = {}\n", sym, n);
  for (const auto &[name, d] : inputs) {
    s += fmt::format("  {}: {} shape [{}] strides [{}] ({})\n", name, dtype_name(d.view.dtype()),
                     fmt::join(d.view.shape(), ", "), fmt::join(d.view.strides(), ", "), d.layout);
  }
  for (const auto &[name, b] : param_bits) {
    DType t = DType::F64;
    for (const ParamDecl &pd : p.params)
      if (pd.name == name) t = pd.dtype;
    s += fmt::format("  param {} = {}\n", name, format_bits(t, b));
  }
  return s;
}

} // namespace xpr::diff

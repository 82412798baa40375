// compiler/passes/Simplify.cpp — peephole rewrites, each one checked to be bit-exact.
#include "compiler/passes/Simplify.h"

#include "compiler/passes/Rewrite.h"

#include <cmath>
#include <optional>

namespace xpr::passes {

namespace {

using ir::Graph;
using ir::Node;
using ir::Op;
using ir::ValueId;

bool is_compute_float(DType t) { return t == DType::F32 || t == DType::F64; }

const ir::ConstValue *const_of(const Graph &g, ValueId v) {
  const Node &n = g.node(v);
  return n.op == Op::Const ? &n.value : nullptr;
}

// An integer constant's value as a signed 128-bit-free comparison: only small values matter.
std::optional<std::int64_t> int_value(const ir::ConstValue &c) {
  if (is_signed_int(c.dtype)) return c.i;
  if (is_unsigned_int(c.dtype))
    return c.u <= static_cast<std::uint64_t>(INT64_MAX) ? std::optional<std::int64_t>(
                                                              static_cast<std::int64_t>(c.u))
                                                        : std::nullopt;
  return std::nullopt;
}

// The constant's value when it has the node's dtype (so it means exactly what it says there).
bool const_is_int(const Graph &g, ValueId v, DType dt, std::int64_t want) {
  const ir::ConstValue *c = const_of(g, v);
  if (!c || c->dtype != dt || !is_int(dt)) return false;
  auto iv = int_value(*c);
  return iv && *iv == want;
}
bool const_is_float(const Graph &g, ValueId v, DType dt, double want, bool want_signbit) {
  const ir::ConstValue *c = const_of(g, v);
  if (!c || c->dtype != dt || !is_compute_float(dt)) return false;
  return c->f == want && std::signbit(c->f) == want_signbit;
}

class Simplifier {
public:
  explicit Simplifier(const Graph &in) : rw_(in) {}

  Graph run() {
    for (std::size_t i = 0; i < rw_.in().nodes.size(); ++i) {
      auto old = static_cast<ValueId>(i);
      Node n = rw_.remapped(old);
      auto r = rewrite(n);
      rw_.map(old, r ? *r : rw_.emit(std::move(n)));
    }
    return rw_.finish();
  }

private:
  const Graph &g() { return rw_.out(); }
  // x may replace n only if nothing observable changes: same dtype and same shape.
  bool same_type(const Node &n, ValueId x) { return g().type(x) == n.type; }

  ValueId make_binary(Op op, ValueId a, ValueId b, const ir::Type &t) {
    Node m;
    m.op = op;
    m.type = t;
    m.operands = {a, b};
    return rw_.emit(std::move(m));
  }
  ValueId make_const(const ir::ConstValue &v) {
    Node m;
    m.op = Op::Const;
    m.type = ir::Type{v.dtype, {}};
    m.value = v;
    return rw_.emit(std::move(m));
  }

  std::optional<ValueId> rewrite(const Node &n) {
    const DType dt = n.type.dtype;
    const bool fl = is_compute_float(dt), in = is_int(dt);
    auto x0 = n.operands.size() > 0 ? n.operands[0] : -1;
    auto x1 = n.operands.size() > 1 ? n.operands[1] : -1;
    switch (n.op) {
    case Op::Add:
      // x + (-0.0) == x for every float x; x + (+0.0) is not (-0 + +0 = +0).
      for (auto [x, c] : {std::pair{x0, x1}, std::pair{x1, x0}}) {
        if (!same_type(n, x)) continue;
        if (in && const_is_int(g(), c, dt, 0)) return x;
        if (fl && const_is_float(g(), c, dt, 0.0, true)) return x;
      }
      return std::nullopt;
    case Op::Sub:
      if (!same_type(n, x0)) return std::nullopt;
      if (in && const_is_int(g(), x1, dt, 0)) return x0;
      if (fl && const_is_float(g(), x1, dt, 0.0, false)) return x0;
      return std::nullopt;
    case Op::Mul:
      for (auto [x, c] : {std::pair{x0, x1}, std::pair{x1, x0}}) {
        if (!same_type(n, x)) continue;
        if (in && const_is_int(g(), c, dt, 1)) return x;
        if (fl && const_is_float(g(), c, dt, 1.0, false)) return x;
        // Only at rank 0: a rank-0 constant cannot stand in for a shaped value.
        if (in && n.type.rank() == 0 && const_is_int(g(), c, dt, 0)) return make_const(*const_of(g(), c));
      }
      return std::nullopt;
    case Op::Div: {
      if (!fl || !same_type(n, x0)) return std::nullopt;
      const ir::ConstValue *c = const_of(g(), x1);
      if (!c || c->dtype != dt) return std::nullopt;
      if (c->f == 1.0) return x0;
      // x / 2^k and x * 2^-k are the same exact value rounded once, provided 2^-k itself is
      // exact in the dtype (it may be subnormal: still exact).
      int e = 0;
      double m = std::frexp(c->f, &e);
      if (!std::isfinite(c->f) || std::fabs(m) != 0.5) return std::nullopt;
      double r = 1.0 / c->f; // exact in f64 for every power of two in f32/f64 range but the tiniest
      bool exact = dt == DType::F64 ? (r * c->f == 1.0 && std::isfinite(r) && r != 0.0)
                                    : (static_cast<double>(static_cast<float>(r)) == r &&
                                       std::isfinite(static_cast<float>(r)) && r != 0.0);
      if (!exact) return std::nullopt;
      ir::ConstValue rc = *c;
      rc.f = r;
      return make_binary(Op::Mul, x0, make_const(rc), n.type);
    }
    case Op::Neg: {
      const Node &inner = g().node(x0);
      if (inner.op == Op::Neg && same_type(n, inner.operands[0])) return inner.operands[0];
      return std::nullopt;
    }
    case Op::Pow:
      if (!same_type(n, x0)) return std::nullopt;
      if ((in && const_is_int(g(), x1, dt, 1)) || (fl && const_is_float(g(), x1, dt, 1.0, false)))
        return x0;
      if ((in && const_is_int(g(), x1, dt, 2)) || (fl && const_is_float(g(), x1, dt, 2.0, false)))
        return make_binary(Op::Mul, x0, x0, n.type);
      if (in && const_is_int(g(), x1, dt, 3))
        return make_binary(Op::Mul, make_binary(Op::Mul, x0, x0, n.type), x0, n.type);
      return std::nullopt;
    default: return std::nullopt;
    }
  }

  detail::Rewriter rw_;
};

} // namespace

ir::Graph simplify(const ir::Graph &g) { return Simplifier(g).run(); }

} // namespace xpr::passes

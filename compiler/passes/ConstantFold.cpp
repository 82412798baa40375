// compiler/passes/ConstantFold.cpp — folds all-constant elementwise nodes through the interpreter.
#include "compiler/passes/ConstantFold.h"

#include "compiler/ir/Interpreter.h"
#include "compiler/passes/Rewrite.h"
#include "support/Half.h"

#include <cstring>
#include <optional>

namespace xpr::passes {

namespace {

using ir::Graph;
using ir::Node;
using ir::Op;
using ir::ValueId;

// Reads the single element of a rank-0 result back into the IR's constant representation.
ir::ConstValue to_const(const Array &a, DType dt) {
  ir::ConstValue c;
  c.dtype = dt;
  const void *p = a.data();
  auto rd = [p]<class T>(T) {
    T v;
    std::memcpy(&v, p, sizeof v);
    return v;
  };
  switch (dt) {
  case DType::Bool: c.b = rd(std::uint8_t{}) != 0; break;
  case DType::I8: c.i = rd(std::int8_t{}); break;
  case DType::I16: c.i = rd(std::int16_t{}); break;
  case DType::I32: c.i = rd(std::int32_t{}); break;
  case DType::I64: c.i = rd(std::int64_t{}); break;
  case DType::U8: c.u = rd(std::uint8_t{}); break;
  case DType::U16: c.u = rd(std::uint16_t{}); break;
  case DType::U32: c.u = rd(std::uint32_t{}); break;
  case DType::U64: c.u = rd(std::uint64_t{}); break;
  case DType::F16: c.f = half::f16_to_f64(rd(std::uint16_t{})); break;
  case DType::BF16: c.f = half::bf16_to_f64(rd(std::uint16_t{})); break;
  case DType::F32: c.f = rd(float{}); break;
  case DType::F64: c.f = rd(double{}); break;
  }
  return c;
}

std::optional<ir::ConstValue> evaluate(const Graph &g, const Node &n) {
  Graph one;
  Node copy = n;
  for (auto &o : copy.operands) o = one.add(g.node(o));
  ValueId v = one.add(std::move(copy));
  one.outputs.push_back({"folded", v});
  try {
    std::vector<Array> r = ir::interpret(one, {}, {});
    if (r.size() != 1 || r[0].size() != 1 || r[0].dtype() != n.type.dtype) return std::nullopt;
    return to_const(r[0], n.type.dtype);
  } catch (const Error &) {
    return std::nullopt; // left for run time, which raises the same error there
  }
}

} // namespace

ir::Graph fold_constants(const ir::Graph &g) {
  detail::Rewriter rw(g);
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    auto old = static_cast<ValueId>(i);
    Node n = rw.remapped(old);
    auto kind = ir::op_kind(n.op);
    bool foldable = (kind == ir::OpKind::Elementwise || kind == ir::OpKind::Cast) &&
                    n.type.rank() == 0 && !n.operands.empty();
    for (auto o : n.operands) foldable = foldable && rw.out().node(o).op == Op::Const;
    if (foldable)
      if (auto c = evaluate(rw.out(), n)) {
        Node k;
        k.op = Op::Const;
        k.type = n.type;
        k.value = *c;
        rw.map(old, rw.emit(std::move(k)));
        continue;
      }
    rw.map(old, rw.emit(std::move(n)));
  }
  return rw.finish();
}

} // namespace xpr::passes

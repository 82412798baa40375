// compiler/passes/CSE.cpp — merges structurally equal nodes by hashing a canonical key.
#include "compiler/passes/CSE.h"

#include "compiler/passes/Rewrite.h"

#include <fmt/format.h>

#include <bit>
#include <unordered_map>

namespace xpr::passes {

namespace {
// The key covers every field that affects a node's meaning. Floats compare by bit pattern so
// that -0.0 and +0.0 (and NaNs with different payloads) stay distinct.
std::string node_key(const ir::Node &n) {
  std::string k = fmt::format("{}|{}|", static_cast<int>(n.op), ir::to_string(n.type));
  for (auto o : n.operands) k += fmt::format("{},", o);
  k += '|';
  switch (n.op) {
  case ir::Op::Input:
  case ir::Op::Param: k += n.name; break;
  case ir::Op::Const:
    k += fmt::format("{}:{}:{}:{}:{:x}", static_cast<int>(n.value.dtype), n.value.b, n.value.i,
                     n.value.u, std::bit_cast<std::uint64_t>(n.value.f));
    break;
  default: break;
  }
  if (ir::op_kind(n.op) == ir::OpKind::Reduce) {
    k += '|';
    for (int a : n.axes) k += fmt::format("{},", a);
    k += n.keepdims ? "k" : "";
  }
  return k;
}
} // namespace

ir::Graph eliminate_common_subexpressions(const ir::Graph &g) {
  detail::Rewriter rw(g);
  std::unordered_map<std::string, ir::ValueId> seen;
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    auto old = static_cast<ir::ValueId>(i);
    ir::Node n = rw.remapped(old);
    std::string key = node_key(n);
    auto it = seen.find(key);
    if (it != seen.end()) {
      rw.map(old, it->second);
      continue;
    }
    ir::ValueId v = rw.emit(std::move(n));
    rw.map(old, v);
    seen.emplace(std::move(key), v);
  }
  return rw.finish();
}

} // namespace xpr::passes

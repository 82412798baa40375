// compiler/passes/Rewrite.h — the copy-and-remap loop every graph-to-graph pass shares.
#pragma once

#include "compiler/ir/Graph.h"

#include <xpr/error.hpp>

#include <string>
#include <vector>

namespace xpr::passes::detail {

/// Builds a new graph while walking an old one in topological order. Each old value maps to a
/// value of the new graph; a pass either copies a node (operands remapped) or maps the old value
/// to some other, already emitted value.
class Rewriter {
public:
  explicit Rewriter(const ir::Graph &in) : in_(in), map_(in.nodes.size(), -1) {}

  const ir::Graph &in() const { return in_; }
  ir::Graph &out() { return out_; }
  /// The old node with its operands already mapped into the new graph.
  ir::Node remapped(ir::ValueId old) const {
    ir::Node n = in_.node(old);
    for (auto &o : n.operands) o = mapped(o);
    return n;
  }
  ir::ValueId mapped(ir::ValueId old) const {
    ir::ValueId v = map_.at(static_cast<std::size_t>(old));
    if (v < 0)
      throw Error(ErrorKind::Internal,
                  "rewriter: value %" + std::to_string(old) + " used before it was mapped");
    return v;
  }
  void map(ir::ValueId old, ir::ValueId now) { map_.at(static_cast<std::size_t>(old)) = now; }
  ir::ValueId emit(ir::Node n) { return out_.add(std::move(n)); }
  /// Copies the old node (remapped) into the new graph and maps it.
  ir::ValueId copy(ir::ValueId old) {
    ir::ValueId v = emit(remapped(old));
    map(old, v);
    return v;
  }
  ir::Graph finish() {
    for (const auto &o : in_.outputs) out_.outputs.push_back({o.name, mapped(o.value)});
    return std::move(out_);
  }

private:
  const ir::Graph &in_;
  ir::Graph out_;
  std::vector<ir::ValueId> map_;
};

} // namespace xpr::passes::detail

// compiler/passes/DCE.cpp — keeps the nodes reachable from outputs, plus every Input and Param.
#include "compiler/passes/DCE.h"

#include "compiler/passes/Rewrite.h"

namespace xpr::passes {

ir::Graph eliminate_dead_code(const ir::Graph &g) {
  std::vector<char> live(g.nodes.size(), 0);
  for (const auto &o : g.outputs) live.at(static_cast<std::size_t>(o.value)) = 1;
  // Operands precede users, so one backward sweep marks everything reachable.
  for (std::size_t i = g.nodes.size(); i-- > 0;) {
    const ir::Node &n = g.nodes[i];
    if (n.op == ir::Op::Input || n.op == ir::Op::Param) live[i] = 1;
    if (!live[i]) continue;
    for (auto o : n.operands) live.at(static_cast<std::size_t>(o)) = 1;
  }
  detail::Rewriter rw(g);
  for (std::size_t i = 0; i < g.nodes.size(); ++i)
    if (live[i]) rw.copy(static_cast<ir::ValueId>(i));
  return rw.finish();
}

} // namespace xpr::passes

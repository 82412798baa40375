// compiler/passes/ConstantFold.h — evaluates operations whose operands are all constants.
#pragma once

#include "compiler/ir/Graph.h"

namespace xpr::passes {

/// `2 * pi / 360` and literal-only subexpressions should cost nothing per element. Folding runs
/// the reference interpreter on a one-node graph, so a folded value is by construction exactly
/// what the oracle computes (integer wrap-around, `x // 0 = 0`, NaN rules and all): folding can
/// never disagree with the semantics. Reductions are not folded. If the interpreter rejects the
/// node, it is left for run time, which reports the same error.
ir::Graph fold_constants(const ir::Graph &g);

} // namespace xpr::passes

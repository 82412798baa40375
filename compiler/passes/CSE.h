// compiler/passes/CSE.h — common subexpression elimination on the Graph IR.
#pragma once

#include "compiler/ir/Graph.h"

namespace xpr::passes {

/// Scripts repeat themselves (`exp(-r*T)` in both Black-Scholes outputs) and other passes create
/// duplicates; merging structurally equal nodes makes every value computed once per kernel and
/// lets fusion see that two outputs share work. Constants are equal only bit for bit (-0 != +0).
ir::Graph eliminate_common_subexpressions(const ir::Graph &g);

} // namespace xpr::passes

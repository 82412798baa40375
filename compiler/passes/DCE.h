// compiler/passes/DCE.h — dead code elimination on the Graph IR.
#pragma once

#include "compiler/ir/Graph.h"

namespace xpr::passes {

/// Folding, simplification and CSE leave nodes that no output reads; removing them keeps kernels
/// and printed IR small. Input and Param nodes always stay: their order is the calling
/// convention, and a caller may pass an input the outputs happen not to use.
ir::Graph eliminate_dead_code(const ir::Graph &g);

} // namespace xpr::passes

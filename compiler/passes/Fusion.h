// compiler/passes/Fusion.h — partitions an optimized graph into fused kernels and reduce steps.
#pragma once

#include "compiler/ir/Graph.h"
#include "compiler/passes/Plan.h"

namespace xpr::passes {

/// Memory bandwidth, not arithmetic, bounds array expressions: every elementwise chain and
/// broadcast over one iteration space becomes one kernel, and all outputs that share an
/// iteration space (and do not depend on each other through a reduction) come from that one
/// kernel, so each input is read once and no intermediate array exists for elementwise work.
/// A reduction computes its operand's elementwise producer chain itself (its map kernel), so
/// `sum(exp(a)*b)` is one step that reads a and b and writes only the sum; values computed from
/// reduction results go into later kernels. An elementwise value needed by kernels of different
/// iteration spaces, or by a kernel and a reduction, is recomputed in each (cheaper than a round
/// trip through memory for elementwise work); a value already materialized by an earlier step is
/// read back instead of recomputed. A row reduction and the steps after it that use its result
/// row by row form a row group (Plan.h), run tile by tile so that each row is read from memory
/// once: softmax over rows reads x once.
Plan fuse(const ir::Graph &g);

} // namespace xpr::passes

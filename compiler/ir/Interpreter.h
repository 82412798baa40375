// compiler/ir/Interpreter.h — the reference interpreter: the oracle for every correctness test.
#pragma once

#include "compiler/ir/Graph.h"

#include <xpr/array.hpp>

#include <map>
#include <string>
#include <vector>

namespace xpr::ir {

/// Evaluates every output of `g`, node by node into materialized arrays, implementing
/// docs/semantics.md literally (docs/interpreter.md says how and where it differs from NumPy).
/// Inputs are checked with bind_shapes and may be strided views (zero or negative strides).
/// `params` are converted to each Param's dtype by the cast rules; a missing param is
/// Error(Runtime). Returns one fresh C-contiguous Array per output, in g.outputs order.
std::vector<Array> interpret(const Graph &g, const std::map<std::string, Array> &inputs,
                             const std::map<std::string, Scalar> &params);

} // namespace xpr::ir

// compiler/passes/HoistLiterals.h — turns a kernel's floating-point literals into kernel params.
#pragma once

#include "compiler/ir/Graph.h"

#include <vector>

namespace xpr::passes {

/// A kernel with its hoisted literals, and where each of its params comes from.
struct HoistedKernel {
  ir::Graph kernel; ///< hoisted literals are Param nodes; every Param is renamed p0, p1, ...
  /// One entry per Param node of `kernel` (Graph::params() order): k >= 0 is the k-th Param of
  /// the original kernel; -1 - k is hoisted literal k.
  std::vector<int> param_origin;
  std::vector<ir::ConstValue> literals;
};

/// The compiled-kernel cache is keyed by the kernel's IR, so `a*2.5` and `a*3.5` would compile
/// twice if literals stayed in the code; the value is only a multiplier in a register either
/// way. Runs on fused kernels, after Simplify has used the literals that change the code, and
/// keeps those that still may: integers and bools (shifts, magic-number division), ±0 and ±1
/// (identities the backend folds), pow exponents that are small integers or halves, and
/// f16/bf16 constants (rounded in the kernel). Every other f32/f64 Const becomes a Param of the
/// same dtype whose slot carries the literal's exact bits, so results do not change.
HoistedKernel hoist_literals(const ir::Graph &kernel);

/// True if a float literal of value `v` stays in the code (see hoist_literals).
bool literal_is_specialized(double v, bool pow_exponent);

} // namespace xpr::passes

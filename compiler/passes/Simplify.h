// compiler/passes/Simplify.h — algebraic simplification that never changes a single result bit.
#pragma once

#include "compiler/ir/Graph.h"

namespace xpr::passes {

/// Users write `x * 1.0`, `x / 2` and `x ** 2` and expect the speed of what they meant; each
/// rewrite here produces exactly the value docs/semantics.md defines for the original:
///   x + 0, 0 + x, x - 0, x * 1, 1 * x, x // and % untouched   (ints: any zero; floats: only
///     x + (-0.0) and x - (+0.0), because +0 + -0 = +0 would change the sign of a zero)
///   x * 0 -> 0                  ints only (floats: NaN*0 = NaN, -1*0 = -0), rank 0 only
///   x / 1 -> x, x / 2^k -> x * 2^-k   floats, only when 2^-k is exact in the dtype
///   -(-x) -> x
///   x ** 1 -> x, x ** 2 -> x*x  (ints wrap identically; for floats x*x is the correctly
///     rounded square, which pow's ULP contract in docs/semantics.md admits), ints x ** 3 -> x*x*x
/// Deliberately absent: x ** 0.5 -> sqrt (pow(-0, 0.5) = +0 but sqrt(-0) = -0), float x**3
/// (two roundings), reassociation of any kind.
ir::Graph simplify(const ir::Graph &g);

} // namespace xpr::passes

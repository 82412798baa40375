// compiler/codegen/DoubleDouble.h — f64 functions evaluated in double-double arithmetic and rounded
// once, where SLEEF's results round twice and miss docs/math.md's 1-ULP bound: e^|x|/2 next to
// overflow (sinh, cosh), erfc, and Φ (ncdf), whose argument -x/√2 is itself inexact. All are built
// on one double-double exponential. Only arith and math ops on vectors of f64, so the same code
// lowers for the CPU and the GPU. Included only by KernelToMlir.cpp.
#pragma once

#include <mlir/IR/Builders.h>

#include <utility>

namespace xpr::cg::dd {

/// e^ax / 2 for a vector of f64 ax in [0, 745], rounded once (≤ 0.58 ULP measured); inf beyond
/// the overflow threshold. sinh and cosh of |x| > 709.78, where e^-|x| no longer matters.
mlir::Value half_exp(mlir::OpBuilder &b, mlir::Location loc, mlir::Value ax);

/// erfc(x) for a vector of f64, every x (NaN, ±inf included).
mlir::Value erfc(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x);

/// {Φ(x), Φ(-x)}, Φ(x) = erfc(-x/√2)/2, for a vector of f64, every x but NaN (the caller passes
/// NaN through), with -x/√2 carried as a double-double. Both come from one erfc evaluation: they
/// share |x|/√2 to the last bit.
std::pair<mlir::Value, mlir::Value> ncdf_pair(mlir::OpBuilder &b, mlir::Location loc,
                                              mlir::Value x);

} // namespace xpr::cg::dd

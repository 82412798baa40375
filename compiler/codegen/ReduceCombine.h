// compiler/codegen/ReduceCombine.h — the combination step of a reduction (runtime/Reduce.cpp's
// R::comb and R::id) as MLIR, shared by the CPU reduce kernels (ReduceToMlir.cpp) and the GPU's
// (GpuReduceToMlir.cpp), so both backends combine with the same rules (internal to codegen: MLIR
// headers).
#pragma once

#include "compiler/ir/Graph.h"

#include <xpr/dtype.hpp>

#include <mlir/IR/Builders.h>
#include <mlir/IR/Value.h>

#include <cstdint>
#include <utility>

namespace xpr::cg {

/// How two partial results of a reduction combine.
enum class Comb : std::uint8_t { Add, Mul, Min, Max, Or, And };

/// The combination of `op` (sum and mean add, prod multiplies, any ors, all ands). Throws
/// Error(Internal) for argmin/argmax and non-reductions.
Comb comb_of(ir::Op op);

/// The accumulator's element type for map values of dtype `value` (sum, mean, prod, min, max
/// of i64/u64/f32/f64 and ints; bool as a 0/1 byte).
mlir::Type comb_elem_type(mlir::OpBuilder &b, DType value);

/// The identity of `c` for values of dtype `value`, as a scalar of comb_elem_type, or splat over
/// `shaped` when it is a vector type.
mlir::Value comb_identity(mlir::OpBuilder &b, mlir::Location loc, Comb c, DType value,
                          mlir::Type shaped);

/// comb(a, b), `a` the older partial (scalars or vectors of comb_elem_type): wrapping integer
/// arithmetic, IEEE float add/mul, IEEE 754-2019 minimum/maximum for floats (NaN wins, -0 < +0),
/// as runtime/Reduce.cpp's ieee_min/ieee_max are written.
mlir::Value comb_apply(mlir::OpBuilder &b, mlir::Location loc, Comb c, DType value, mlir::Value a,
                       mlir::Value x);

/// argmin/argmax: whether `x` beats `y` (scalars of the compared type: f32 for halves, a byte for
/// bool, else the value's): runtime/Reduce.cpp's ArgR::better — a NaN first, then the smaller
/// (argmin) or larger value, -0 before +0 for argmin and +0 before -0 for argmax.
mlir::Value arg_better(mlir::OpBuilder &b, mlir::Location loc, bool is_min, DType value,
                       mlir::Value x, mlir::Value y);

/// argmin/argmax: comb of the (value, index) pairs `a` (the older partial) and `x`; an index < 0
/// marks an empty partial, which never wins: ArgR::comb (on a tie, the smaller index).
std::pair<mlir::Value, mlir::Value> arg_combine(mlir::OpBuilder &b, mlir::Location loc,
                                                bool is_min, DType value,
                                                std::pair<mlir::Value, mlir::Value> a,
                                                std::pair<mlir::Value, mlir::Value> x);

} // namespace xpr::cg

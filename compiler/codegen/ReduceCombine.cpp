// compiler/codegen/ReduceCombine.cpp — see ReduceCombine.h.
#include "compiler/codegen/ReduceCombine.h"

#include <xpr/error.hpp>

#include <mlir/Dialect/Arith/IR/Arith.h>
#include <mlir/IR/BuiltinAttributes.h>
#include <mlir/IR/BuiltinTypes.h>
#include <mlir/IR/TypeUtilities.h>

#include <fmt/format.h>

#include <limits>

namespace xpr::cg {

using namespace mlir;

Comb comb_of(ir::Op op) {
  switch (op) {
  case ir::Op::Sum:
  case ir::Op::Mean:
    return Comb::Add;
  case ir::Op::Prod:
    return Comb::Mul;
  case ir::Op::Min:
    return Comb::Min;
  case ir::Op::Max:
    return Comb::Max;
  case ir::Op::Any:
    return Comb::Or;
  case ir::Op::All:
    return Comb::And;
  default:
    throw Error(ErrorKind::Internal,
                fmt::format("reduce codegen: '{}' has no combination", ir::op_name(op)));
  }
}

Type comb_elem_type(OpBuilder &b, DType value) {
  switch (value) {
  case DType::F32:
    return b.getF32Type();
  case DType::F64:
    return b.getF64Type();
  case DType::Bool:
    return b.getI8Type();
  default:
    return b.getIntegerType(static_cast<unsigned>(dtype_size(value) * 8));
  }
}

namespace {
bool is_fp(DType v) { return v == DType::F32 || v == DType::F64; }
} // namespace

Value comb_identity(OpBuilder &b, Location loc, Comb c, DType value, Type shaped) {
  Type e = comb_elem_type(b, value);
  TypedAttr a;
  if (is_fp(value)) {
    double v = 0;
    if (c == Comb::Mul) v = 1;
    if (c == Comb::Min) v = std::numeric_limits<double>::infinity();
    if (c == Comb::Max) v = -std::numeric_limits<double>::infinity();
    a = FloatAttr::get(e, v);
  } else {
    const unsigned w = e.getIntOrFloatBitWidth();
    APInt v(w, 0);
    if (c == Comb::Mul || c == Comb::And) v = APInt(w, 1);
    if (c == Comb::Min)
      v = is_signed_int(value) ? APInt::getSignedMaxValue(w) : APInt::getMaxValue(w);
    if (c == Comb::Max) v = is_signed_int(value) ? APInt::getSignedMinValue(w) : APInt(w, 0);
    a = IntegerAttr::get(e, v);
  }
  if (auto vt = dyn_cast_or_null<VectorType>(shaped))
    return b.create<arith::ConstantOp>(loc, DenseElementsAttr::get(vt, a));
  return b.create<arith::ConstantOp>(loc, a);
}

Value comb_apply(OpBuilder &b, Location loc, Comb c, DType value, Value a, Value x) {
  const bool fp = is_fp(value);
  switch (c) {
  case Comb::Add:
    return fp ? Value(b.create<arith::AddFOp>(loc, a, x)) : b.create<arith::AddIOp>(loc, a, x);
  case Comb::Mul:
    return fp ? Value(b.create<arith::MulFOp>(loc, a, x)) : b.create<arith::MulIOp>(loc, a, x);
  case Comb::Or:
    return b.create<arith::OrIOp>(loc, a, x);
  case Comb::And:
    return b.create<arith::AndIOp>(loc, a, x);
  case Comb::Min:
  case Comb::Max:
    break;
  }
  const bool is_min = c == Comb::Min;
  if (!fp) {
    const bool s = is_signed_int(value);
    if (is_min)
      return s ? Value(b.create<arith::MinSIOp>(loc, a, x)) : b.create<arith::MinUIOp>(loc, a, x);
    return s ? Value(b.create<arith::MaxSIOp>(loc, a, x)) : b.create<arith::MaxUIOp>(loc, a, x);
  }
  using P = arith::CmpFPredicate;
  auto cmp = [&](P p, Value l, Value r) { return b.create<arith::CmpFOp>(loc, p, l, r); };
  auto sel = [&](Value k, Value l, Value r) { return b.create<arith::SelectOp>(loc, k, l, r); };
  Type fty = a.getType();
  Type ity = b.getIntegerType(getElementTypeOrSelf(fty).getIntOrFloatBitWidth());
  if (auto vty = dyn_cast<VectorType>(fty)) ity = VectorType::get(vty.getShape(), ity);
  Value ai = b.create<arith::BitcastOp>(loc, ity, a), xi = b.create<arith::BitcastOp>(loc, ity, x);
  // Equal operands differ at most in the sign of a zero: OR of the bits picks -0 (min), AND +0.
  Value eq_bits =
      is_min ? Value(b.create<arith::OrIOp>(loc, ai, xi)) : b.create<arith::AndIOp>(loc, ai, xi);
  Value eqv = b.create<arith::BitcastOp>(loc, fty, eq_bits);
  Value r = is_min ? sel(cmp(P::OLT, x, a), x, a) : sel(cmp(P::OLT, a, x), x, a);
  r = sel(cmp(P::OEQ, a, x), eqv, r);
  r = sel(cmp(P::UNO, x, x), x, r);
  return sel(cmp(P::UNO, a, a), a, r);
}

Value arg_better(OpBuilder &b, Location loc, bool is_min, DType value, Value x, Value y) {
  auto icmp = [&](arith::CmpIPredicate p, Value l, Value r) {
    return b.create<arith::CmpIOp>(loc, p, l, r).getResult();
  };
  auto sel = [&](Value k, Value l, Value r) {
    return b.create<arith::SelectOp>(loc, k, l, r).getResult();
  };
  if (!isa<FloatType>(x.getType())) {
    const auto p = is_signed_int(value) ? arith::CmpIPredicate::slt : arith::CmpIPredicate::ult;
    return is_min ? icmp(p, x, y) : icmp(p, y, x);
  }
  using P = arith::CmpFPredicate;
  auto fcmp = [&](P p, Value l, Value r) { return b.create<arith::CmpFOp>(loc, p, l, r).getResult(); };
  Type ity = b.getIntegerType(x.getType().getIntOrFloatBitWidth());
  Value zero = b.create<arith::ConstantOp>(loc, b.getIntegerAttr(ity, 0));
  auto neg = [&](Value v) {
    return icmp(arith::CmpIPredicate::slt, b.create<arith::BitcastOp>(loc, ity, v), zero);
  };
  Value t = b.create<arith::ConstantOp>(loc, b.getBoolAttr(true));
  Value nx = neg(x), ny = neg(y);
  Value tie = is_min ? b.create<arith::AndIOp>(loc, nx, b.create<arith::XOrIOp>(loc, ny, t))
                     : b.create<arith::AndIOp>(loc, ny, b.create<arith::XOrIOp>(loc, nx, t));
  Value r = sel(fcmp(P::OEQ, x, y), tie, is_min ? fcmp(P::OLT, x, y) : fcmp(P::OLT, y, x));
  r = sel(fcmp(P::UNO, x, x), t, r);
  return sel(fcmp(P::UNO, y, y), b.create<arith::ConstantOp>(loc, b.getBoolAttr(false)), r);
}

std::pair<Value, Value> arg_combine(OpBuilder &b, Location loc, bool is_min, DType value,
                                    std::pair<Value, Value> a, std::pair<Value, Value> x) {
  using P = arith::CmpIPredicate;
  auto sel = [&](Value k, Value l, Value r) {
    return b.create<arith::SelectOp>(loc, k, l, r).getResult();
  };
  Value t = b.create<arith::ConstantOp>(loc, b.getBoolAttr(true));
  Value zero = b.create<arith::ConstantOp>(loc, b.getI64IntegerAttr(0));
  Value a_empty = b.create<arith::CmpIOp>(loc, P::slt, a.second, zero);
  Value x_empty = b.create<arith::CmpIOp>(loc, P::slt, x.second, zero);
  // x is taken when it is not empty and a is, or x is better, or neither is and x's index is
  // the smaller.
  Value take = sel(arg_better(b, loc, is_min, value, a.first, x.first),
                   b.create<arith::ConstantOp>(loc, b.getBoolAttr(false)),
                   b.create<arith::CmpIOp>(loc, P::slt, x.second, a.second));
  take = sel(arg_better(b, loc, is_min, value, x.first, a.first), t, take);
  take = sel(a_empty, t, take);
  take = b.create<arith::AndIOp>(loc, take, b.create<arith::XOrIOp>(loc, x_empty, t));
  return {sel(take, x.first, a.first), sel(take, x.second, a.second)};
}

} // namespace xpr::cg

// compiler/codegen/KernelToMlir.cpp — lowers one fused elementwise kernel (ir::Graph + KernelSpec)
// to an MLIR function with the KernelFn ABI: a vector loop over [begin, end) that evaluates every
// node on vector<VL x T> values, with element semantics exactly those of docs/semantics.md.
//
// Value representation: every node value is a vector of its *compute* type: bool → i1, ints →
// signless iN (signedness comes from the node's DType), f32/f64 → themselves, f16/bf16 → f32
// holding a value exactly representable in the half type (rounded once where the half value is
// produced), so stores of halves are exact truncations.
// Memory is addressed through !llvm.ptr (llvm.load/store, masked load/store, gather/scatter):
// the ABI hands us raw pointers and element strides, which memref descriptors would only wrap.
#include "compiler/codegen/KernelToMlir.h"
#include "compiler/codegen/DoubleDouble.h"

#include <xpr/error.hpp>

#include <mlir/Dialect/Arith/IR/Arith.h>
#include <mlir/Dialect/Func/IR/FuncOps.h>
#include <mlir/Dialect/LLVMIR/LLVMDialect.h>
#include <mlir/Dialect/LLVMIR/LLVMTypes.h>
#include <mlir/Dialect/Math/IR/Math.h>
#include <mlir/Dialect/SCF/IR/SCF.h>
#include <mlir/Dialect/Vector/IR/VectorOps.h>
#include <mlir/IR/Builders.h>
#include <mlir/IR/BuiltinTypes.h>
#include <mlir/IR/SymbolTable.h>
#include <mlir/IR/Verifier.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>

namespace xpr::cg {

using namespace mlir;

namespace {

[[noreturn]] void internal(const std::string &msg) {
  throw Error(ErrorKind::Internal, "cpu codegen: " + msg);
}

int bits_of(DType d) { return dtype_size(d) * 8; }

/// Bits of the type a dtype computes in (halves in f32, bool as a byte).
int compute_bits(DType d) {
  if (is_half(d)) return 32;
  return bits_of(d);
}

/// NumPy promotion of two dtypes, used where an op compares operands of different dtypes
/// (docs/semantics.md, "Types and promotion"). Sema normally makes operand dtypes agree; this
/// keeps the JIT correct when it did not.
DType promote2(DType a, DType b) {
  if (a == b) return a;
  if (is_bool(a)) return b;
  if (is_bool(b)) return a;
  auto float_of_int = [](DType i) {
    int s = dtype_size(i);
    return s == 1 ? DType::F16 : s == 2 ? DType::F32 : DType::F64;
  };
  auto fpromote = [](DType x, DType y) {
    if (x == y) return x;
    if (x == DType::F64 || y == DType::F64) return DType::F64;
    return DType::F32; // f32 with anything smaller, or f16 with bf16
  };
  if (is_float(a) && is_float(b)) return fpromote(a, b);
  if (is_float(a)) return fpromote(a, float_of_int(b));
  if (is_float(b)) return fpromote(b, float_of_int(a));
  if (is_signed_int(a) == is_signed_int(b)) return dtype_size(a) >= dtype_size(b) ? a : b;
  DType s = is_signed_int(a) ? a : b, u = is_signed_int(a) ? b : a;
  if (dtype_size(u) < dtype_size(s)) return s;
  switch (dtype_size(u)) {
  case 1: return DType::I16;
  case 2: return DType::I32;
  case 4: return DType::I64;
  default: return DType::F64;
  }
}

bool is_compare(ir::Op op) {
  return op == ir::Op::Eq || op == ir::Op::Ne || op == ir::Op::Lt || op == ir::Op::Le ||
         op == ir::Op::Gt || op == ir::Op::Ge;
}

/// The SLEEF function (and ULP suffix per precision) implementing a transcendental op.
struct SleefFn {
  const char *base;
  const char *accurate;
  const char *fast;
};
bool sleef_fn(ir::Op op, SleefFn &out) {
  using ir::Op;
  switch (op) {
  case Op::Exp: out = {"exp", "_u10", "_u10"}; return true;
  case Op::Exp2: out = {"exp2", "_u10", "_u35"}; return true;
  case Op::Expm1: out = {"expm1", "_u10", "_u10"}; return true;
  case Op::Log: out = {"log", "_u10", "_u35"}; return true;
  case Op::Log2: out = {"log2", "_u10", "_u35"}; return true;
  case Op::Log10: out = {"log10", "_u10", "_u10"}; return true;
  case Op::Log1p: out = {"log1p", "_u10", "_u10"}; return true;
  case Op::Sin: out = {"sin", "_u10", "_u35"}; return true;
  case Op::Cos: out = {"cos", "_u10", "_u35"}; return true;
  case Op::Tan: out = {"tan", "_u10", "_u35"}; return true;
  case Op::Asin: out = {"asin", "_u10", "_u35"}; return true;
  case Op::Acos: out = {"acos", "_u10", "_u35"}; return true;
  case Op::Atan: out = {"atan", "_u10", "_u35"}; return true;
  case Op::Atan2: out = {"atan2", "_u10", "_u35"}; return true;
  case Op::Sinh: out = {"sinh", "_u10", "_u35"}; return true;
  case Op::Cosh: out = {"cosh", "_u10", "_u35"}; return true;
  case Op::Tanh: out = {"tanh", "_u10", "_u35"}; return true;
  case Op::Asinh: out = {"asinh", "_u10", "_u10"}; return true;
  case Op::Acosh: out = {"acosh", "_u10", "_u10"}; return true;
  case Op::Atanh: out = {"atanh", "_u10", "_u10"}; return true;
  case Op::Erf: out = {"erf", "_u10", "_u10"}; return true;
  case Op::Erfc: out = {"erfc", "_u15", "_u15"}; return true;
  case Op::Cbrt: out = {"cbrt", "_u10", "_u35"}; return true;
  case Op::Hypot: out = {"hypot", "_u05", "_u35"}; return true;
  case Op::Pow: out = {"pow", "_u10", "_u10"}; return true; // SLEEF has no faster pow
  default: return false;
  }
}

/// Per-chunk addressing: where lane 0 of this vector step lives.
struct Chunk {
  Value pos;                 ///< i64 linear iteration index of lane 0 (Contiguous operands)
  Value mask;                ///< vector<VL x i1> of live lanes; null when all lanes are live
  std::vector<Value> offs;   ///< per operand: vector<VL x i64> element offsets (Strided only)
};

class Emitter {
public:
  Emitter(MLIRContext &ctx, const ir::Graph &g, const KernelSpec &spec, int vl, int host_bits)
      : ctx_(ctx), b_(&ctx), loc_(UnknownLoc::get(&ctx)), g_(g), spec_(spec), vl_(vl),
        host_bits_(host_bits) {}

  OwningOpRef<ModuleOp> build(const std::string &fn_name);

  // For MapEmitter: the map of a kernel evaluated inside a function another builder writes.
  OpBuilder &builder() { return b_; }
  void begin_map(ModuleOp m, Value ptrs, Value params);
  Value eval_output(Value pos, Value mask, int j);
  // For ElementEmitter (the GPU backend): math from libdevice, one element stored at a time.
  void set_mathlib(MathLib m) { mathlib_ = m; }
  void set_aligned_vectors() { aligned_vectors_ = true; }
  void begin_element(Block *decls, Value ptrs, Value params);
  void emit_element(Value pos, const std::vector<Value> &offsets);
  Value eval_element(Value pos, const std::vector<Value> &offsets, int j);

private:
  MLIRContext &ctx_;
  OpBuilder b_;
  Location loc_;
  const ir::Graph &g_;
  const KernelSpec &spec_;
  int vl_;
  int host_bits_;
  ModuleOp module_;
  std::vector<Layout> layouts_; // per operand: inputs, then outputs
  std::map<std::string, func::FuncOp> decls_;
  MathLib mathlib_ = MathLib::Sleef;
  Block *decl_block_ = nullptr; // where libdevice declarations go (a gpu.module's body)
  bool aligned_vectors_ = false; // GPU: Contiguous vectors are aligned to their full width

  std::vector<ir::ValueId> inputs_, params_;
  std::vector<int> input_index_, param_index_; // node id → operand / param slot, or -1
  std::vector<Value> base_ptrs_;               // per operand (inputs, then outputs)
  std::vector<Value> param_scalars_;           // per param: the scalar in memory type
  Value iota_;                                 // vector<VL x i64> 0..VL-1
  // Φ(y) and Φ(-y) per y of the graph evaluation under way (ncdf_pair; cleared by eval_nodes).
  std::vector<std::pair<Value, std::pair<Value, Value>>> ncdf_pairs_;

  // ---- types and constants ----
  Type ptr_ty() { return LLVM::LLVMPointerType::get(&ctx_); }
  Type i64() { return b_.getI64Type(); }
  Type cty(DType d) {
    switch (d) {
    case DType::Bool: return b_.getI1Type();
    case DType::I8: case DType::U8: return b_.getI8Type();
    case DType::I16: case DType::U16: return b_.getI16Type();
    case DType::I32: case DType::U32: return b_.getI32Type();
    case DType::I64: case DType::U64: return b_.getI64Type();
    case DType::F16: case DType::BF16: case DType::F32: return b_.getF32Type();
    case DType::F64: return b_.getF64Type();
    }
    internal("bad dtype");
  }
  Type mem_ty(DType d) {
    switch (d) {
    case DType::Bool: return b_.getI8Type();
    case DType::F16: return b_.getF16Type();
    case DType::BF16: return b_.getI16Type();
    default: return cty(d);
    }
  }
  VectorType vec(Type elem) { return VectorType::get({vl_}, elem); }
  VectorType vt(DType d) { return vec(cty(d)); }

  Value splat_int(Type elem, std::uint64_t v) {
    unsigned w = elem.getIntOrFloatBitWidth();
    if (w < 64) v &= (std::uint64_t{1} << w) - 1;
    auto attr = IntegerAttr::get(elem, APInt(w, v));
    return b_.create<arith::ConstantOp>(loc_, DenseElementsAttr::get(vec(elem), attr));
  }
  Value splat_float(Type elem, double v) {
    auto attr = FloatAttr::get(elem, v);
    return b_.create<arith::ConstantOp>(loc_, DenseElementsAttr::get(vec(elem), attr));
  }
  Value ci(DType d, std::int64_t v) { return splat_int(cty(d), static_cast<std::uint64_t>(v)); }
  Value cf(Value like, double v) { return splat_float(elem_of(like), v); }
  Value c64(std::int64_t v) {
    return b_.create<arith::ConstantOp>(loc_, b_.getI64IntegerAttr(v));
  }
  Type elem_of(Value v) { return cast<VectorType>(v.getType()).getElementType(); }
  Value bcast(Value scalar) {
    return b_.create<vector::BroadcastOp>(loc_, vec(scalar.getType()), scalar);
  }
  Value sel(Value c, Value a, Value b) { return b_.create<arith::SelectOp>(loc_, c, a, b); }
  Value cmpi(arith::CmpIPredicate p, Value a, Value b) {
    return b_.create<arith::CmpIOp>(loc_, p, a, b);
  }
  Value cmpf(arith::CmpFPredicate p, Value a, Value b) {
    return b_.create<arith::CmpFOp>(loc_, p, a, b);
  }
  Value and_(Value a, Value b) { return b_.create<arith::AndIOp>(loc_, a, b); }
  Value or_(Value a, Value b) { return b_.create<arith::OrIOp>(loc_, a, b); }
  Value xor_(Value a, Value b) { return b_.create<arith::XOrIOp>(loc_, a, b); }
  Value bitcast(Value v, Type elem) { return b_.create<arith::BitcastOp>(loc_, vec(elem), v); }

  // ---- memory ----
  Value gep(Value base, Type elem, Value idx) {
    return b_.create<LLVM::GEPOp>(loc_, ptr_ty(), elem, base, ArrayRef<LLVM::GEPArg>{idx});
  }
  Value load_scalar(Value base, Type elem, Value idx) {
    return b_.create<LLVM::LoadOp>(loc_, elem, gep(base, elem, idx));
  }
  Value mem_to_compute(Value v, DType d);
  Value compute_to_mem(Value v, DType d);
  Value load_operand(int k, DType d, const Chunk &ch);
  void store_operand(int k, DType d, Value v, const Chunk &ch);

  // ---- element semantics ----
  Value convert(Value v, DType from, DType to);
  Value round_half_from_f32(Value v, DType to);
  Value round_to_odd_f32(Value d);
  Value int64_to_f64_sticky(Value v, bool is_signed);
  Value call_sleef(const char *base, const char *ulp, ValueRange args);
  Value call_libdevice(const char *base, ValueRange args);
  Value emit_node(const ir::Node &n, ir::ValueId id, const std::vector<Value> &vals);
  Value emit_unary(ir::Op op, DType d, Value x);
  Value emit_binary(ir::Op op, DType d, Value a, Value b);
  Value int_divmod(ir::Op op, DType d, Value a, Value b);
  Value float_divmod(ir::Op op, Value a, Value b);
  Value exact_fmod(Value a, Value b);
  // ---- float functions (SLEEF plus the repairs docs/math.md lists) ----
  Value emit_math(ir::Op op, Value x);
  Value sleef_op(ir::Op op, ValueRange args);
  Value any_lane(Value cond);
  Value cold_select(Value cond, const std::function<Value()> &alt, Value base);
  Value to_f64(Value v) { return b_.create<arith::ExtFOp>(loc_, vec(b_.getF64Type()), v); }
  Value to_f32(Value v) { return b_.create<arith::TruncFOp>(loc_, vec(b_.getF32Type()), v); }
  Value fma(Value a, Value b, Value c) { return b_.create<math::FmaOp>(loc_, a, b, c); }
  Value fabs(Value v) { return b_.create<math::AbsFOp>(loc_, v); }
  Value rsqrt_accurate(Value x);
  std::pair<Value, Value> ncdf_pair(Value y);
  Value pow_fixed(Value a, Value b);
  Value int_pow(DType d, Value a, Value b);
  Value ieee_minmax(bool is_max, Value a, Value b);

  void validate();
  void load_prologue(Value ptrs, Value params, int nops);
  std::vector<Value> eval_nodes(const Chunk &ch);
  void emit_body(const Chunk &ch);
  Chunk element_chunk(Value pos, const std::vector<Value> &offsets);
  void emit_contiguous(Value begin, Value end);
  void emit_strided(Value strides, Value shape, Value begin, Value end);
  void emit_row(Value pos, Value cnt, const std::vector<Value> &row_off,
                const std::vector<Value> &inner_stride);
};

// ----------------------------------------------------------------------------------------------
// Memory representation ↔ compute representation

Value Emitter::mem_to_compute(Value v, DType d) {
  switch (d) {
  case DType::Bool: return cmpi(arith::CmpIPredicate::ne, v, splat_int(b_.getI8Type(), 0));
  case DType::F16: {
    Value r = b_.create<arith::ExtFOp>(loc_, vec(b_.getF32Type()), v);
    if (mathlib_ != MathLib::Libdevice) return r;
    // The GPU's cvt.f32.f16 returns the canonical (positive) NaN for every NaN; copysign and
    // signbit read the sign of a NaN, so it is carried over from the half's bits.
    Value hb = b_.create<arith::ExtUIOp>(loc_, vec(b_.getI32Type()), bitcast(v, b_.getI16Type()));
    Value sign = b_.create<arith::ShLIOp>(loc_, and_(hb, splat_int(b_.getI32Type(), 0x8000)),
                                          splat_int(b_.getI32Type(), 16));
    return bitcast(or_(bitcast(r, b_.getI32Type()), sign), b_.getF32Type());
  }
  case DType::BF16: {
    Value w = b_.create<arith::ExtUIOp>(loc_, vec(b_.getI32Type()), v);
    w = b_.create<arith::ShLIOp>(loc_, w, splat_int(b_.getI32Type(), 16));
    return bitcast(w, b_.getF32Type());
  }
  default: return v;
  }
}

Value Emitter::compute_to_mem(Value v, DType d) {
  switch (d) {
  case DType::Bool: return b_.create<arith::ExtUIOp>(loc_, vec(b_.getI8Type()), v);
  case DType::F16: return b_.create<arith::TruncFOp>(loc_, vec(b_.getF16Type()), v); // exact
  case DType::BF16: {
    // The held f32 is already a bf16 value (NaNs quieted in the high half): truncation is exact.
    Value w = bitcast(v, b_.getI32Type());
    w = b_.create<arith::ShRUIOp>(loc_, w, splat_int(b_.getI32Type(), 16));
    return b_.create<arith::TruncIOp>(loc_, vec(b_.getI16Type()), w);
  }
  default: return v;
  }
}

Value Emitter::load_operand(int k, DType d, const Chunk &ch) {
  Type mt = mem_ty(d);
  unsigned align = static_cast<unsigned>(dtype_size(d));
  if (aligned_vectors_ && layouts_[k] == Layout::Contiguous) align *= static_cast<unsigned>(vl_);
  Value base = base_ptrs_[k];
  Value v;
  switch (layouts_[k]) {
  case Layout::Scalar: v = bcast(b_.create<LLVM::LoadOp>(loc_, mt, base, align)); break;
  case Layout::Contiguous: {
    Value addr = gep(base, mt, ch.pos);
    if (!ch.mask) {
      v = b_.create<LLVM::LoadOp>(loc_, vec(mt), addr, align);
    } else {
      Value zero = isa<FloatType>(mt) ? splat_float(mt, 0.0) : splat_int(mt, 0);
      v = b_.create<LLVM::MaskedLoadOp>(loc_, vec(mt), addr, ch.mask, ValueRange{zero}, align);
    }
    break;
  }
  case Layout::Strided: {
    Type pv = LLVM::getFixedVectorType(ptr_ty(), vl_);
    Value ptrs = b_.create<LLVM::GEPOp>(loc_, pv, mt, base, ArrayRef<LLVM::GEPArg>{ch.offs[k]});
    Value mask = ch.mask ? ch.mask : splat_int(b_.getI1Type(), 1);
    Value zero = isa<FloatType>(mt) ? splat_float(mt, 0.0) : splat_int(mt, 0);
    v = b_.create<LLVM::masked_gather>(loc_, vec(mt), ptrs, mask, ValueRange{zero},
                                       b_.getI32IntegerAttr(align));
    break;
  }
  }
  return mem_to_compute(v, d);
}

void Emitter::store_operand(int k, DType d, Value v, const Chunk &ch) {
  Type mt = mem_ty(d);
  unsigned align = static_cast<unsigned>(dtype_size(d));
  if (aligned_vectors_ && layouts_[k] == Layout::Contiguous) align *= static_cast<unsigned>(vl_);
  Value m = compute_to_mem(v, d);
  Value base = base_ptrs_[k];
  Layout layout = layouts_[k];
  if (layout == Layout::Contiguous) {
    Value addr = gep(base, mt, ch.pos);
    if (!ch.mask)
      b_.create<LLVM::StoreOp>(loc_, m, addr, align);
    else
      b_.create<LLVM::MaskedStoreOp>(loc_, m, addr, ch.mask, b_.getI32IntegerAttr(align));
  } else if (layout == Layout::Strided) {
    Type pv = LLVM::getFixedVectorType(ptr_ty(), vl_);
    Value ptrs = b_.create<LLVM::GEPOp>(loc_, pv, mt, base, ArrayRef<LLVM::GEPArg>{ch.offs[k]});
    Value mask = ch.mask ? ch.mask : splat_int(b_.getI1Type(), 1);
    b_.create<LLVM::masked_scatter>(loc_, m, ptrs, mask, b_.getI32IntegerAttr(align));
  } else {
    internal("an output cannot have the Scalar layout");
  }
}

// ----------------------------------------------------------------------------------------------
// Conversions (docs/semantics.md, "Casts")

Value Emitter::round_half_from_f32(Value v, DType to) {
  if (to == DType::F16) {
    Value h = b_.create<arith::TruncFOp>(loc_, vec(b_.getF16Type()), v);
    Value r = b_.create<arith::ExtFOp>(loc_, vec(b_.getF32Type()), h);
    if (mathlib_ != MathLib::Libdevice) return r;
    // The GPU's conversions drop a NaN's sign (see mem_to_compute); rounding keeps the sign.
    Value sign = and_(bitcast(v, b_.getI32Type()), splat_int(b_.getI32Type(), 0x80000000u));
    return bitcast(or_(bitcast(r, b_.getI32Type()), sign), b_.getF32Type());
  }
  // bf16: round to nearest even on the bit pattern; NaN stays NaN (quieted, so the top half
  // alone still reads as NaN when stored).
  Type i32 = b_.getI32Type();
  Value bits = bitcast(v, i32);
  Value lsb = and_(b_.create<arith::ShRUIOp>(loc_, bits, splat_int(i32, 16)), splat_int(i32, 1));
  Value rounded = b_.create<arith::AddIOp>(
      loc_, bits, b_.create<arith::AddIOp>(loc_, lsb, splat_int(i32, 0x7FFF)));
  rounded = and_(rounded, splat_int(i32, 0xFFFF0000u));
  Value qnan = and_(or_(bits, splat_int(i32, 0x00400000u)), splat_int(i32, 0xFFFF0000u));
  Value isnan = cmpf(arith::CmpFPredicate::UNO, v, v);
  return bitcast(sel(isnan, qnan, rounded), b_.getF32Type());
}

/// f64 → f32 rounding to odd: an f32 intermediate that makes a following rounding to a half
/// type equal to a single rounding from f64 (24 ≥ 11 + 2 bits).
Value Emitter::round_to_odd_f32(Value d) {
  Type i32 = b_.getI32Type();
  Value r = b_.create<arith::TruncFOp>(loc_, vec(b_.getF32Type()), d);
  Value back = b_.create<arith::ExtFOp>(loc_, vec(b_.getF64Type()), r);
  Value inexact = cmpf(arith::CmpFPredicate::ONE, back, d);
  Value away = cmpf(arith::CmpFPredicate::OGT, b_.create<math::AbsFOp>(loc_, back),
                    b_.create<math::AbsFOp>(loc_, d));
  Value bits = bitcast(r, i32);
  Value toward_zero = sel(away, b_.create<arith::SubIOp>(loc_, bits, splat_int(i32, 1)), bits);
  Value odd = or_(toward_zero, splat_int(i32, 1));
  return bitcast(sel(inexact, odd, bits), b_.getF32Type());
}

/// A 64-bit integer as f64 exact up to 2^53 and with a sticky bit above, so that a later rounding
/// to a ≤ 24-bit format is a single correct rounding of the integer.
Value Emitter::int64_to_f64_sticky(Value v, bool is_signed) {
  Type i64t = b_.getI64Type();
  Type f64 = b_.getF64Type();
  Value zero = splat_int(i64t, 0);
  Value neg = is_signed ? cmpi(arith::CmpIPredicate::slt, v, zero) : Value();
  Value m = is_signed ? sel(neg, b_.create<arith::SubIOp>(loc_, zero, v), v) : v;
  Value big = cmpi(arith::CmpIPredicate::uge, m, splat_int(i64t, std::uint64_t{1} << 53));
  Value hi = b_.create<arith::ShRUIOp>(loc_, m, splat_int(i64t, 11));
  Value sticky = b_.create<arith::ExtUIOp>(
      loc_, vec(i64t), cmpi(arith::CmpIPredicate::ne, and_(m, splat_int(i64t, 0x7FF)), zero));
  Value jam = or_(hi, sticky);
  Value fbig = b_.create<arith::MulFOp>(loc_, b_.create<arith::UIToFPOp>(loc_, vec(f64), jam),
                                        splat_float(f64, 2048.0));
  Value fsmall = b_.create<arith::UIToFPOp>(loc_, vec(f64), m);
  Value f = sel(big, fbig, fsmall);
  if (is_signed) f = sel(neg, b_.create<arith::NegFOp>(loc_, f), f);
  return f;
}

Value Emitter::convert(Value v, DType from, DType to) {
  if (from == to) return v;
  Type t = cty(to);
  if (is_bool(to)) {
    if (is_float(from)) return cmpf(arith::CmpFPredicate::UNE, v, cf(v, 0.0)); // NaN → true
    return cmpi(arith::CmpIPredicate::ne, v, splat_int(elem_of(v), 0));
  }
  if (is_bool(from)) {
    if (is_int(to)) return b_.create<arith::ExtUIOp>(loc_, vec(t), v);
    return b_.create<arith::UIToFPOp>(loc_, vec(t), v); // 0 or 1: exact in every float
  }
  if (is_int(from) && is_int(to)) {
    int wf = bits_of(from), wt = bits_of(to);
    if (wt < wf) return b_.create<arith::TruncIOp>(loc_, vec(t), v);
    if (wt > wf) {
      if (is_signed_int(from)) return b_.create<arith::ExtSIOp>(loc_, vec(t), v);
      return b_.create<arith::ExtUIOp>(loc_, vec(t), v);
    }
    return v;
  }
  if (is_int(from)) { // → float
    bool s = is_signed_int(from);
    if (!is_half(to)) {
      if (s) return b_.create<arith::SIToFPOp>(loc_, vec(t), v);
      return b_.create<arith::UIToFPOp>(loc_, vec(t), v);
    }
    // → f16/bf16 with one rounding: exact widening first, then round (to odd when needed).
    int w = bits_of(from);
    if (w <= 16) {
      Value f = s ? Value(b_.create<arith::SIToFPOp>(loc_, vec(b_.getF32Type()), v))
                  : Value(b_.create<arith::UIToFPOp>(loc_, vec(b_.getF32Type()), v));
      return round_half_from_f32(f, to);
    }
    Value d;
    if (w == 32)
      d = s ? Value(b_.create<arith::SIToFPOp>(loc_, vec(b_.getF64Type()), v))
            : Value(b_.create<arith::UIToFPOp>(loc_, vec(b_.getF64Type()), v));
    else
      d = int64_to_f64_sticky(v, s);
    Value h = round_half_from_f32(round_to_odd_f32(d), to);
    if (to != DType::F16) return h;
    // LLVM 19's InstCombine folds fpext(fptrunc(itofp x to half)) to `itofp x to float` when x's
    // known bits fit half's 11-bit significand, forgetting half's exponent range: 1 << 16 came
    // out as 65536 instead of inf. The overflow is decided on the integer instead, where no fold
    // reaches it (f16's largest finite value is 65504; 65520 and up round to infinity).
    Type it = elem_of(v);
    Value limit = splat_int(it, 65520);
    Value inf = cf(h, std::numeric_limits<double>::infinity());
    Value big = cmpi(s ? arith::CmpIPredicate::sge : arith::CmpIPredicate::uge, v, limit);
    h = sel(big, inf, h);
    if (s) {
      Value small = cmpi(arith::CmpIPredicate::sle, v, splat_int(it, -65520));
      h = sel(small, b_.create<arith::NegFOp>(loc_, inf), h);
    }
    return h;
  }
  if (is_int(to)) { // float → int, saturating; NaN → 0
    int w = bits_of(to);
    bool s = is_signed_int(to);
    Type it = cty(to);
    double hi = s ? std::ldexp(1.0, w - 1) : std::ldexp(1.0, w);
    double lo = s ? -std::ldexp(1.0, w - 1) : 0.0;
    std::uint64_t maxv = s ? (std::uint64_t{1} << (w - 1)) - 1
                           : (w == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << w) - 1);
    std::uint64_t minv = s ? (std::uint64_t{1} << (w - 1)) : 0; // bit pattern of the minimum
    Value tr = s ? Value(b_.create<arith::FPToSIOp>(loc_, vec(it), v))
                 : Value(b_.create<arith::FPToUIOp>(loc_, vec(it), v));
    // Out-of-range conversions are poison in LLVM; the selects never pick those lanes.
    Value r = sel(cmpf(arith::CmpFPredicate::OLT, v, cf(v, lo)), splat_int(it, minv), tr);
    r = sel(cmpf(arith::CmpFPredicate::OGE, v, cf(v, hi)), splat_int(it, maxv), r);
    return sel(cmpf(arith::CmpFPredicate::UNO, v, v), splat_int(it, 0), r);
  }
  // float → float. Halves are held as f32.
  bool from64 = from == DType::F64;
  if (to == DType::F64) return b_.create<arith::ExtFOp>(loc_, vec(t), v);
  if (to == DType::F32) return from64 ? Value(b_.create<arith::TruncFOp>(loc_, vec(t), v)) : v;
  return round_half_from_f32(from64 ? round_to_odd_f32(v) : v, to);
}

// ----------------------------------------------------------------------------------------------
// SLEEF calls: split or pad the kernel's vector to a width SLEEF provides for this ISA.

Value Emitter::call_sleef(const char *base, const char *ulp, ValueRange args) {
  if (mathlib_ == MathLib::Libdevice) return call_libdevice(base, args);
  Type et = elem_of(args[0]);
  bool f32 = et.isF32();
  int ebits = f32 ? 32 : 64;
  // SLEEF has 128/256/512-bit variants; never call one wider than the host registers.
  int w = std::max(128, std::min(host_bits_, vl_ * ebits)) / ebits; // lanes per call
  std::string name = fmt::format("Sleef_{}{}{}{}", base, f32 ? "f" : "d", w, ulp);
  auto it = decls_.find(name);
  if (it == decls_.end()) {
    OpBuilder::InsertionGuard guard(b_);
    b_.setInsertionPointToEnd(module_.getBody());
    SmallVector<Type> ins(args.size(), VectorType::get({w}, et));
    auto fn = b_.create<func::FuncOp>(loc_, name,
                                      b_.getFunctionType(ins, {VectorType::get({w}, et)}));
    fn.setPrivate();
    it = decls_.emplace(name, fn).first;
  }
  func::FuncOp fn = it->second;
  auto call = [&](ValueRange a) { return b_.create<func::CallOp>(loc_, fn, a).getResult(0); };
  if (w == vl_) return call(args);
  if (w > vl_) { // pad with copies of lane 0, call, keep the first vl lanes
    SmallVector<int64_t> pad(w, 0), keep;
    for (int i = 0; i < vl_; ++i) pad[i] = i;
    for (int i = 0; i < vl_; ++i) keep.push_back(i);
    SmallVector<Value> padded;
    for (Value a : args) padded.push_back(b_.create<vector::ShuffleOp>(loc_, a, a, pad));
    Value r = call(padded);
    return b_.create<vector::ShuffleOp>(loc_, r, r, keep);
  }
  // split into vl/w pieces and concatenate the results
  SmallVector<Value> parts;
  for (int p = 0; p < vl_ / w; ++p) {
    SmallVector<int64_t> idx;
    for (int i = 0; i < w; ++i) idx.push_back(p * w + i);
    SmallVector<Value> piece;
    for (Value a : args) piece.push_back(b_.create<vector::ShuffleOp>(loc_, a, a, idx));
    parts.push_back(call(piece));
  }
  while (parts.size() > 1) {
    SmallVector<Value> next;
    for (size_t i = 0; i < parts.size(); i += 2) {
      int n = static_cast<int>(cast<VectorType>(parts[i].getType()).getNumElements());
      SmallVector<int64_t> idx;
      for (int j = 0; j < 2 * n; ++j) idx.push_back(j);
      next.push_back(b_.create<vector::ShuffleOp>(loc_, parts[i], parts[i + 1], idx));
    }
    parts = next;
  }
  return parts[0];
}

/// libdevice (GPU): `__nv_<base>f` / `__nv_<base>` take and return scalars; each lane is one
/// call (the GPU backend runs 1-lane vectors, so that is one call per element).
Value Emitter::call_libdevice(const char *base, ValueRange args) {
  Type et = elem_of(args[0]);
  std::string name = fmt::format("__nv_{}{}", base, et.isF32() ? "f" : "");
  auto it = decls_.find(name);
  if (it == decls_.end() && decl_block_) // declared by another emitter of the same module
    if (auto f = SymbolTable::lookupSymbolIn(decl_block_->getParentOp(), name))
      it = decls_.emplace(name, cast<func::FuncOp>(f)).first;
  if (it == decls_.end()) {
    if (!decl_block_) internal("libdevice call outside an element emitter");
    OpBuilder::InsertionGuard guard(b_);
    b_.setInsertionPointToStart(decl_block_); // the start: a gpu.module's body ends in a terminator
    SmallVector<Type> ins(args.size(), et);
    auto fn = b_.create<func::FuncOp>(loc_, name, b_.getFunctionType(ins, {et}));
    fn.setPrivate();
    it = decls_.emplace(name, fn).first;
  }
  Value r = b_.create<arith::ConstantOp>(loc_, DenseElementsAttr::get(vec(et), FloatAttr::get(et, 0.0)));
  for (int i = 0; i < vl_; ++i) {
    SmallVector<Value> lane;
    for (Value a : args) lane.push_back(b_.create<vector::ExtractOp>(loc_, a, i));
    Value v = b_.create<func::CallOp>(loc_, it->second, lane).getResult(0);
    r = b_.create<vector::InsertOp>(loc_, v, r, i);
  }
  return r;
}

// ----------------------------------------------------------------------------------------------
// Ops

Value Emitter::ieee_minmax(bool is_max, Value a, Value b) {
  // IEEE 754-2019 minimum/maximum: NaN propagates, -0 < +0. Written with compares and selects
  // so that no target support for llvm.minimum is needed.
  Type it = b_.getIntegerType(elem_of(a).getIntOrFloatBitWidth());
  Value lt = cmpf(arith::CmpFPredicate::OLT, a, b);
  Value gt = cmpf(arith::CmpFPredicate::OGT, a, b);
  Value ai = bitcast(a, it), bi = bitcast(b, it);
  // Equal operands: identical unless ±0, where OR of the bits picks -0 and AND picks +0.
  Value eq = bitcast(is_max ? and_(ai, bi) : or_(ai, bi), elem_of(a));
  Value r = is_max ? sel(gt, a, sel(lt, b, eq)) : sel(lt, a, sel(gt, b, eq));
  Value nan = cmpf(arith::CmpFPredicate::UNO, a, b);
  Value qnan = b_.create<arith::AddFOp>(loc_, a, b); // a NaN whenever either is NaN
  return sel(nan, qnan, r);
}

Value Emitter::int_divmod(ir::Op op, DType d, Value a, Value b) {
  using P = arith::CmpIPredicate;
  Value zero = ci(d, 0), one = ci(d, 1);
  Value bz = cmpi(P::eq, b, zero);
  if (is_unsigned_int(d) || is_bool(d)) {
    Value bs = sel(bz, one, b);
    Value r = op == ir::Op::FloorDiv ? Value(b_.create<arith::DivUIOp>(loc_, a, bs))
                                     : Value(b_.create<arith::RemUIOp>(loc_, a, bs));
    return sel(bz, zero, r);
  }
  int w = bits_of(d);
  Value minv = ci(d, static_cast<std::int64_t>(std::uint64_t{1} << (w - 1)));
  Value ovf = and_(cmpi(P::eq, a, minv), cmpi(P::eq, b, ci(d, -1)));
  // b == 0 and MIN / -1 are UB for sdiv/srem: divide by 1 instead (MIN / 1 = MIN is the
  // documented wrapped quotient, MIN % 1 = 0 the documented remainder).
  Value bs = sel(or_(bz, ovf), one, b);
  if (op == ir::Op::FloorDiv) {
    Value q = b_.create<arith::DivSIOp>(loc_, a, bs);
    Value r = b_.create<arith::RemSIOp>(loc_, a, bs);
    Value adj = and_(cmpi(P::ne, r, zero), cmpi(P::slt, xor_(r, bs), zero));
    q = sel(adj, b_.create<arith::SubIOp>(loc_, q, one), q);
    return sel(bz, zero, q);
  }
  Value r = b_.create<arith::RemSIOp>(loc_, a, bs);
  if (op == ir::Op::Mod) {
    Value adj = and_(cmpi(P::ne, r, zero), cmpi(P::slt, xor_(r, bs), zero));
    r = sel(adj, b_.create<arith::AddIOp>(loc_, r, bs), r);
  }
  return sel(bz, zero, r); // Fmod: C's truncated remainder
}

/// fmod is exact in C. SLEEF's vector fmod reduces a fixed number of bits per call, so it is
/// exact only while |a/b| stays below about 2^176 (f32) / 2^1071 (f64) and b is normal; a vector
/// with any lane outside that range takes the (cold, scalarized) frem path instead.
Value Emitter::exact_fmod(Value a, Value b) {
  using P = arith::CmpFPredicate;
  if (mathlib_ == MathLib::Libdevice) return call_libdevice("fmod", {a, b}); // exact everywhere
  bool f32 = elem_of(a).isF32();
  Value ab = b_.create<math::AbsFOp>(loc_, b);
  Value aa = b_.create<math::AbsFOp>(loc_, a);
  double min_normal = f32 ? std::numeric_limits<float>::min() : std::numeric_limits<double>::min();
  Value sub = and_(cmpf(P::OLT, ab, cf(b, min_normal)), cmpf(P::ONE, ab, cf(b, 0.0)));
  Value big = cmpf(P::OGT, aa,
                   b_.create<arith::MulFOp>(loc_, ab, cf(b, std::ldexp(1.0, f32 ? 100 : 1000))));
  Value hard = b_.create<vector::ReductionOp>(loc_, vector::CombiningKind::OR, or_(sub, big));
  auto branch = b_.create<scf::IfOp>(loc_, TypeRange{a.getType()}, hard, true);
  OpBuilder::InsertionGuard guard(b_);
  b_.setInsertionPointToStart(branch.thenBlock());
  b_.create<scf::YieldOp>(loc_, ValueRange{b_.create<arith::RemFOp>(loc_, a, b)});
  b_.setInsertionPointToStart(branch.elseBlock());
  b_.create<scf::YieldOp>(loc_, ValueRange{call_sleef("fmod", "", {a, b})});
  return branch.getResult(0);
}

Value Emitter::float_divmod(ir::Op op, Value a, Value b) {
  // NumPy's npy_divmod, step by step (docs/semantics.md, "Floats").
  using P = arith::CmpFPredicate;
  Value mod = exact_fmod(a, b);
  if (op == ir::Op::Fmod) return mod;
  Value zero = cf(a, 0.0), one = cf(a, 1.0);
  Value bz = cmpf(P::OEQ, b, zero);
  Value a_div_b = b_.create<arith::DivFOp>(loc_, a, b);
  Value div = b_.create<arith::DivFOp>(loc_, b_.create<arith::SubFOp>(loc_, a, mod), b);
  Value mod_nz = cmpf(P::UNE, mod, zero);
  Value adj = and_(mod_nz, xor_(cmpf(P::OLT, b, zero), cmpf(P::OLT, mod, zero)));
  Value mod2 = sel(adj, b_.create<arith::AddFOp>(loc_, mod, b), mod);
  Value div2 = sel(adj, b_.create<arith::SubFOp>(loc_, div, one), div);
  if (op == ir::Op::Mod) {
    Value m = sel(mod_nz, mod2, b_.create<math::CopySignOp>(loc_, zero, b));
    return sel(bz, mod, m);
  }
  Value fl = b_.create<math::FloorOp>(loc_, div2);
  Value snap = cmpf(P::OGT, b_.create<arith::SubFOp>(loc_, div2, fl), cf(a, 0.5));
  fl = sel(snap, b_.create<arith::AddFOp>(loc_, fl, one), fl);
  Value q = sel(cmpf(P::UNE, div2, zero), fl, b_.create<math::CopySignOp>(loc_, zero, a_div_b));
  return sel(bz, a_div_b, q);
}

Value Emitter::int_pow(DType d, Value a, Value e) {
  using P = arith::CmpIPredicate;
  Value zero = ci(d, 0), one = ci(d, 1);
  bool s = is_signed_int(d);
  Value neg = s ? cmpi(P::slt, e, zero) : Value();
  Value e0 = s ? sel(neg, zero, e) : e;
  // Square-and-multiply while any lane still has exponent bits left (at most 64 rounds).
  Type vt = a.getType();
  SmallVector<Type> tys{vt, vt, vt};
  auto w = b_.create<scf::WhileOp>(loc_, tys, ValueRange{one, a, e0});
  SmallVector<Location> locs(3, loc_);
  {
    OpBuilder::InsertionGuard guard(b_);
    Block *before = b_.createBlock(&w.getBefore(), {}, tys, locs);
    Value ev = before->getArgument(2);
    Value any = b_.create<vector::ReductionOp>(loc_, vector::CombiningKind::OR,
                                               cmpi(P::ne, ev, zero));
    b_.create<scf::ConditionOp>(loc_, any, before->getArguments());
    Block *after = b_.createBlock(&w.getAfter(), {}, tys, locs);
    Value r = after->getArgument(0), base = after->getArgument(1), ex = after->getArgument(2);
    Value odd = cmpi(P::ne, and_(ex, one), zero);
    r = sel(odd, b_.create<arith::MulIOp>(loc_, r, base), r);
    base = b_.create<arith::MulIOp>(loc_, base, base);
    ex = b_.create<arith::ShRUIOp>(loc_, ex, one);
    b_.create<scf::YieldOp>(loc_, ValueRange{r, base, ex});
  }
  Value r = w.getResult(0);
  if (!s) return r;
  // Negative exponents: 1 → 1, -1 → ±1 by parity, anything else → 0 (truncated exact result).
  Value odd = cmpi(P::ne, and_(e, one), zero);
  Value m1 = ci(d, -1);
  Value negr = sel(cmpi(P::eq, a, one), one,
                   sel(cmpi(P::eq, a, m1), sel(odd, m1, one), zero));
  return sel(neg, negr, r);
}

Value Emitter::emit_unary(ir::Op op, DType d, Value x) {
  using ir::Op;
  using P = arith::CmpFPredicate;
  bool fl = is_float(d);
  switch (op) {
  case Op::Neg:
    return fl ? Value(b_.create<arith::NegFOp>(loc_, x))
              : Value(b_.create<arith::SubIOp>(loc_, ci(d, 0), x));
  case Op::Not:
    if (fl) break;
    return xor_(x, ci(d, -1));
  case Op::Abs:
    if (fl) return b_.create<math::AbsFOp>(loc_, x);
    if (is_signed_int(d))
      return sel(cmpi(arith::CmpIPredicate::slt, x, ci(d, 0)),
                 b_.create<arith::SubIOp>(loc_, ci(d, 0), x), x);
    return x;
  case Op::Sign:
    if (fl) // NaN and ±0 are returned unchanged
      return sel(cmpf(P::OGT, x, cf(x, 0.0)), cf(x, 1.0),
                 sel(cmpf(P::OLT, x, cf(x, 0.0)), cf(x, -1.0), x));
    if (is_signed_int(d)) {
      Value gt = b_.create<arith::ExtUIOp>(
          loc_, vt(d), cmpi(arith::CmpIPredicate::sgt, x, ci(d, 0)));
      Value lt = b_.create<arith::ExtUIOp>(
          loc_, vt(d), cmpi(arith::CmpIPredicate::slt, x, ci(d, 0)));
      return b_.create<arith::SubIOp>(loc_, gt, lt);
    }
    if (is_bool(d)) return x;
    return b_.create<arith::ExtUIOp>(loc_, vt(d), cmpi(arith::CmpIPredicate::ne, x, ci(d, 0)));
  case Op::Floor: return fl ? Value(b_.create<math::FloorOp>(loc_, x)) : x;
  case Op::Ceil: return fl ? Value(b_.create<math::CeilOp>(loc_, x)) : x;
  case Op::Round: return fl ? Value(b_.create<math::RoundEvenOp>(loc_, x)) : x;
  case Op::Trunc: return fl ? Value(b_.create<math::TruncOp>(loc_, x)) : x;
  default: break;
  }
  if (!fl) internal(fmt::format("'{}' on {}", ir::op_name(op), dtype_name(d)));
  if (op == Op::Sqrt) return b_.create<math::SqrtOp>(loc_, x);
  return emit_math(op, x);
}

// ----------------------------------------------------------------------------------------------
// Float functions: SLEEF calls, plus the repairs that make them meet docs/math.md's bounds and
// C99 Annex F's special values (each one measured by tests/math against MPFR).

Value Emitter::sleef_op(ir::Op op, ValueRange args) {
  SleefFn fn;
  if (!sleef_fn(op, fn)) internal(fmt::format("'{}' has no SLEEF entry", ir::op_name(op)));
  return call_sleef(fn.base, spec_.precision == Precision::Fast ? fn.fast : fn.accurate, args);
}

Value Emitter::any_lane(Value cond) {
  return b_.create<vector::ReductionOp>(loc_, vector::CombiningKind::OR, cond);
}

/// sel(cond, alt(), base), where alt() is computed only when some lane needs it: the repairs of
/// rare ranges (overflow edges, huge arguments) cost one compare and a branch in the common case.
Value Emitter::cold_select(Value cond, const std::function<Value()> &alt, Value base) {
  auto branch = b_.create<scf::IfOp>(loc_, TypeRange{base.getType()}, any_lane(cond), true);
  OpBuilder::InsertionGuard guard(b_);
  b_.setInsertionPointToStart(branch.thenBlock());
  b_.create<scf::YieldOp>(loc_, ValueRange{sel(cond, alt(), base)});
  b_.setInsertionPointToStart(branch.elseBlock());
  b_.create<scf::YieldOp>(loc_, ValueRange{base});
  return branch.getResult(0);
}

/// 1/sqrt(x) rounds twice (up to 1.45 ULP). f32: both steps in f64, one final rounding. f64: one
/// Newton step on y0 = 1/sqrt(x) with the residual 1 - x*y0^2 computed exactly enough by FMAs,
/// on x scaled by 2^±1000 where y0^2 would leave the exponent range.
Value Emitter::rsqrt_accurate(Value x) {
  using P = arith::CmpFPredicate;
  if (elem_of(x).isF32()) {
    Value xd = to_f64(x);
    return to_f32(b_.create<arith::DivFOp>(loc_, cf(xd, 1.0), b_.create<math::SqrtOp>(loc_, xd)));
  }
  Value y0 = b_.create<arith::DivFOp>(loc_, cf(x, 1.0), b_.create<math::SqrtOp>(loc_, x));
  Value small = cmpf(P::OLT, x, cf(x, std::ldexp(1.0, -900)));
  Value large = cmpf(P::OGT, x, cf(x, std::ldexp(1.0, 900)));
  Value scale = sel(small, cf(x, std::ldexp(1.0, 1000)), sel(large, cf(x, std::ldexp(1.0, -1000)), cf(x, 1.0)));
  Value unscale = sel(small, cf(x, std::ldexp(1.0, 500)), sel(large, cf(x, std::ldexp(1.0, -500)), cf(x, 1.0)));
  Value xs = b_.create<arith::MulFOp>(loc_, x, scale);
  Value ys = b_.create<arith::DivFOp>(loc_, cf(x, 1.0), b_.create<math::SqrtOp>(loc_, xs));
  Value hh = b_.create<arith::MulFOp>(loc_, ys, ys);
  Value hl = fma(ys, ys, b_.create<arith::NegFOp>(loc_, hh));
  Value nx = b_.create<arith::NegFOp>(loc_, xs);
  Value e = fma(nx, hh, cf(x, 1.0));
  e = fma(nx, hl, e);
  Value y = fma(b_.create<arith::MulFOp>(loc_, ys, cf(x, 0.5)), e, ys);
  y = b_.create<arith::MulFOp>(loc_, y, unscale);
  // 0, inf, NaN and negatives: the plain quotient already is the Annex F answer.
  Value normal = and_(cmpf(P::OGT, x, cf(x, 0.0)), cmpf(P::OLT, x, cf(x, INFINITY)));
  return sel(normal, y, y0);
}

/// {Φ(y), Φ(-y)} from one erfc: with a = |y|/√2 and E = erfc(a), Φ is E/2 on the negative side
/// of 0 and 1 - E/2 on the positive side (a is the same for y and -y, since rounding is symmetric).
/// Black-Scholes takes Φ of d1, -d1, d2 and -d2, so its four erfc become two: the bulk of its
/// arithmetic, all of it f64 (on a GPU, f64 issue rate bounds the kernel). An unused half is
/// dead code. NaN y gives NaN in both; emit_math passes the input's NaN through.
std::pair<Value, Value> Emitter::ncdf_pair(Value y) {
  using P = arith::CmpFPredicate;
  // Only within one straight-line evaluation of the graph: an entry from another block (a loop
  // body emitted earlier) would not dominate this use.
  for (auto &[key, pair] : ncdf_pairs_)
    if (key == y && pair.first.getParentBlock() == b_.getInsertionBlock()) return pair;
  std::pair<Value, Value> r;
  if (elem_of(y).isF32()) {
    // f64 arithmetic and erfc_u15: ~0.5 ULP after the final rounding.
    Value yd = to_f64(y);
    Value a = b_.create<arith::MulFOp>(loc_, fabs(yd), cf(yd, M_SQRT1_2));
    Value e = call_sleef("erfc", "_u15", {a});
    Value lower = b_.create<arith::MulFOp>(loc_, e, cf(e, 0.5));
    Value upper = fma(e, cf(e, -0.5), cf(e, 1.0)); // 1 - E/2, rounded once
    r = {to_f32(sel(cmpf(P::OGT, yd, cf(yd, 0.0)), upper, lower)),
         to_f32(sel(cmpf(P::OLT, yd, cf(yd, 0.0)), upper, lower))};
  } else {
    // Both modes: erfc_u15 of a rounded -x/√2 is off by up to 2t² ULP (1,500 at x = -37).
    r = dd::ncdf_pair(b_, loc_, y);
  }
  ncdf_pairs_.push_back({y, r});
  return r;
}

/// SLEEF 3.5's pow returns inf for results within about 7e-5 (relative) below DBL_MAX (its
/// overflow test runs ahead of the result). There, |x|^y = (|x|^(y/2))², which overflows exactly
/// when the true result does; the sign is that of x for odd integer y.
Value Emitter::pow_fixed(Value a, Value b) {
  using P = arith::CmpFPredicate;
  Value r = sleef_op(ir::Op::Pow, {a, b});
  Value inf = cf(a, INFINITY);
  Value bad = and_(cmpf(P::OEQ, fabs(r), inf),
                   and_(cmpf(P::OLT, fabs(a), inf), cmpf(P::OLT, fabs(b), inf)));
  bad = and_(bad, cmpf(P::ONE, a, cf(a, 0.0)));
  return cold_select(
      bad,
      [&] {
        Value h = sleef_op(ir::Op::Pow, {fabs(a), b_.create<arith::MulFOp>(loc_, b, cf(b, 0.5))});
        Value sq = b_.create<arith::MulFOp>(loc_, h, h);
        // y odd integer: y/2 - floor(y/2) = 0.5 exactly (|y| < 2^53, else y is even).
        Value hb = b_.create<arith::MulFOp>(loc_, b, cf(b, 0.5));
        Value odd = cmpf(P::OEQ, b_.create<arith::SubFOp>(loc_, hb, b_.create<math::FloorOp>(loc_, hb)),
                         cf(b, 0.5));
        // The sign from the bits, not `a < 0`: when `a` is an extended f16, LLVM narrows that
        // compare to <N x half>, which the x86 backend (LLVM 19, no AVX512-FP16) got wrong:
        // pow(f64(f16(-17)), 255) came out +inf.
        Type it = b_.getIntegerType(64);
        Value neg = and_(odd, cmpi(arith::CmpIPredicate::slt, bitcast(a, it), splat_int(it, 0)));
        Value v = sel(neg, b_.create<arith::NegFOp>(loc_, sq), sq);
        // x^1 and x^2 exactly (pow(DBL_MAX, 1) must not be inf; h² may round up past it).
        v = sel(cmpf(P::OEQ, b, cf(b, 2.0)), b_.create<arith::MulFOp>(loc_, a, a), v);
        return sel(cmpf(P::OEQ, b, cf(b, 1.0)), a, v);
      },
      r);
}

Value Emitter::emit_math(ir::Op op, Value x) {
  using ir::Op;
  using P = arith::CmpFPredicate;
  const bool f32 = elem_of(x).isF32();
  const bool fast = spec_.precision == Precision::Fast;
  // Below this, f(x) = x·(1 + O(x²)) rounds to x (or within 0.5 ULP of it): SLEEF's polynomials
  // lose the last bit there (up to 1.06 ULP) or flush denormals to +0 (wrong sign for -0-ward x).
  const double tiny = f32 ? std::ldexp(1.0, -13) : std::ldexp(1.0, -28);
  auto tiny_is_x = [&](Value r) { return sel(cmpf(P::OLT, fabs(x), cf(x, tiny)), x, r); };
  auto ln = [&](Value v) { return call_sleef("log", fast ? "_u35" : "_u10", {v}); };
  switch (op) {
  case Op::Rsqrt:
    if (fast) return b_.create<arith::DivFOp>(loc_, cf(x, 1.0), b_.create<math::SqrtOp>(loc_, x));
    return rsqrt_accurate(x);
  case Op::Ncdf: { // Φ(x); Φ(-y) is the second value of y's pair, shared with Φ(y)
    auto neg = x.getDefiningOp<arith::NegFOp>();
    auto [pos_y, neg_y] = ncdf_pair(neg ? neg.getOperand() : x);
    return sel(cmpf(P::UNO, x, x), x, neg ? neg_y : pos_y); // NaN in, the same NaN out
  }
  case Op::Erfc: // SLEEF's only erfc is 1.5 ULP; accurate f32 goes through f64 (~0.5 ULP)
    if (f32 && !fast) return to_f32(call_sleef("erfc", "_u15", {to_f64(x)}));
    if (f32 || fast) return sleef_op(op, {x});
    return dd::erfc(b_, loc_, x); // erfc_u15 is 1.4 ULP where results near the denormals
  case Op::Tanh: { // near ±1 SLEEF rounds to ±1 early (1.000 ULP at x = 18.71 f64, -8.66 f32)
    Value r = tiny_is_x(sleef_op(op, {x}));
    // tanh|x| = 1 - 2e/(1 + e), e = e^-2|x|; from 8 (f32) / 17 (f64) on 2e² is below 10^-3 ULP,
    // so 1 - 2e with one FMA is the answer rounded once (e's own error is far below 1's ULP).
    Value sat = and_(cmpf(P::OGT, fabs(x), cf(x, f32 ? 8.0 : 17.0)),
                     cmpf(P::OLT, fabs(x), cf(x, INFINITY)));
    return cold_select(
        sat,
        [&] {
          Value e = call_sleef("exp", "_u10", {b_.create<arith::MulFOp>(loc_, fabs(x), cf(x, -2.0))});
          Value v = fma(cf(x, -2.0), e, cf(x, 1.0));
          return Value(b_.create<math::CopySignOp>(loc_, v, x));
        },
        r);
  }
  case Op::Expm1: { // near -1 likewise (1.000 ULP at x = -16.6 f32, 0.999 at -36.7 f64)
    Value r = sleef_op(op, {x});
    // Tiny x: x + x²/2 in one FMA (x³/6 is far below the last bit there; SLEEF: 0.75 ULP).
    // Not at ±0, whose sign the sum would lose (expm1(-0) = -0).
    Value quad = fma(b_.create<arith::MulFOp>(loc_, x, cf(x, 0.5)), x, x);
    r = sel(and_(cmpf(P::OLT, fabs(x), cf(x, tiny)), cmpf(P::ONE, x, cf(x, 0.0))), quad, r);
    // Below -12 (f32) / -30 (f64), e^x is under 10^-5 / 10^-13: e^x - 1 rounds once, and e^x's
    // error is far below the ULP of 1.
    Value low = cmpf(P::OLT, x, cf(x, f32 ? -12.0 : -30.0));
    return cold_select(
        low,
        [&] {
          return Value(b_.create<arith::SubFOp>(loc_, call_sleef("exp", "_u10", {x}), cf(x, 1.0)));
        },
        r);
  }
  case Op::Tan:
  case Op::Atanh:
  case Op::Sin:
  case Op::Asin:
  case Op::Atan: return tiny_is_x(sleef_op(op, {x}));
  case Op::Erf: {
    Value r = sleef_op(op, {x});
    Value small = cmpf(P::OLT, fabs(x), cf(x, tiny));
    Value lin; // (2/√π)·x with one rounding
    if (f32) {
      lin = to_f32(b_.create<arith::MulFOp>(loc_, to_f64(x), cf(to_f64(x), M_2_SQRTPI)));
    } else {
      const double c_hi = 1.1283791670955126, c_lo = 1.5335459613165881e-17;
      lin = fma(x, cf(x, c_hi), b_.create<arith::MulFOp>(loc_, x, cf(x, c_lo)));
    }
    return sel(small, lin, r);
  }
  case Op::Log1p: { // SLEEF returns inf above 1e307 (f64) / 1e38 (f32); there log1p(x) = log(x)
    // log1p(x) = x(1 - x/2 + ...): x itself only below 2^-(p+6); SLEEF flushes -denormals to +0.
    Value r = sleef_op(op, {x});
    r = sel(cmpf(P::OLT, fabs(x), cf(x, f32 ? 0x1p-30 : 0x1p-60)), x, r);
    Value huge = cmpf(P::OGT, x, cf(x, f32 ? 1e37 : 1e300));
    return cold_select(huge, [&] { return ln(x); }, r);
  }
  case Op::Asinh:
  case Op::Acosh: { // SLEEF overflows x² above ~1.8e19 (f32) / 1.3e154 (f64); there f = ln(2|x|)
    Value r = sleef_op(op, {x});
    if (op == Op::Asinh) r = tiny_is_x(r);
    Value ax = fabs(x);
    Value huge = and_(cmpf(P::OGT, op == Op::Asinh ? ax : x, cf(x, f32 ? 0x1p60 : 0x1p500)),
                      cmpf(P::OLT, ax, cf(x, INFINITY)));
    r = cold_select(
        huge,
        [&] {
          Value v;
          if (f32) { // in f64, where 2|x| is exact and in range
            Value a = to_f64(ax);
            v = to_f32(call_sleef("log", "_u10", {b_.create<arith::AddFOp>(loc_, a, a)}));
          } else { // 2|x| overflows in the top binade: ln|x| + ln 2 there
            Value top = cmpf(P::OGE, ax, cf(x, 0x1p1023));
            Value arg = sel(top, ax, b_.create<arith::AddFOp>(loc_, ax, ax));
            Value l = ln(arg);
            Value l2 = b_.create<arith::AddFOp>(loc_, l, cf(x, 6.93147180369123816490e-01));
            l2 = b_.create<arith::AddFOp>(loc_, l2, cf(x, 1.90821492927058770002e-10));
            v = sel(top, l2, l);
          }
          return op == Op::Asinh ? Value(b_.create<math::CopySignOp>(loc_, v, x)) : v;
        },
        r);
    return r;
  }
  case Op::Sinh:
  case Op::Cosh: { // SLEEF overflows e^|x| before sinh/cosh do: |x| in (88.7, 89.4] / (709.8, 710.5]
    Value r = sleef_op(op, {x});
    if (op == Op::Sinh) r = tiny_is_x(r);
    Value ax = fabs(x);
    // Only the window where SLEEF says inf but the result is finite (beyond it inf is right).
    const double lo = fast ? (f32 ? 87.0 : 708.0) : (f32 ? 88.5 : 709.78); // u35 gives up earlier
    Value edge = and_(cmpf(P::OGT, ax, cf(x, lo)), cmpf(P::OLT, ax, cf(x, f32 ? 90.0 : 711.0)));
    return cold_select(
        edge,
        [&] {
          Value v;
          if (f32) { // e^|x|/2 in f64, one rounding to f32
            Value a = to_f64(ax);
            v = to_f32(b_.create<arith::MulFOp>(loc_, call_sleef("exp", "_u10", {a}), cf(a, 0.5)));
          } else { // e^|x|/2 from a double-double exponential, rounded once
            v = dd::half_exp(b_, loc_, ax);
          }
          return op == Op::Sinh ? Value(b_.create<math::CopySignOp>(loc_, v, x)) : v;
        },
        r);
  }
  default: break;
  }
  SleefFn fn;
  if (sleef_fn(op, fn)) return sleef_op(op, {x});
  internal(fmt::format("unary op '{}' is not lowered", ir::op_name(op)));
}

Value Emitter::emit_binary(ir::Op op, DType d, Value a, Value b) {
  using ir::Op;
  bool fl = is_float(d);
  switch (op) {
  case Op::Add:
    return fl ? Value(b_.create<arith::AddFOp>(loc_, a, b))
              : Value(b_.create<arith::AddIOp>(loc_, a, b));
  case Op::Sub:
    return fl ? Value(b_.create<arith::SubFOp>(loc_, a, b))
              : Value(b_.create<arith::SubIOp>(loc_, a, b));
  case Op::Mul:
    return fl ? Value(b_.create<arith::MulFOp>(loc_, a, b))
              : Value(b_.create<arith::MulIOp>(loc_, a, b));
  case Op::Div:
    if (!fl) internal("true division on integers reached codegen");
    return b_.create<arith::DivFOp>(loc_, a, b);
  case Op::FloorDiv:
  case Op::Mod:
  case Op::Fmod: return fl ? float_divmod(op, a, b) : int_divmod(op, d, a, b);
  case Op::Pow:
    if (fl) return elem_of(a).isF64() ? pow_fixed(a, b) : sleef_op(op, {a, b});
    return int_pow(d, a, b);
  case Op::Minimum:
  case Op::Maximum: {
    bool mx = op == Op::Maximum;
    if (fl) return ieee_minmax(mx, a, b);
    if (is_signed_int(d))
      return mx ? Value(b_.create<arith::MaxSIOp>(loc_, a, b))
                : Value(b_.create<arith::MinSIOp>(loc_, a, b));
    return mx ? Value(b_.create<arith::MaxUIOp>(loc_, a, b))
              : Value(b_.create<arith::MinUIOp>(loc_, a, b));
  }
  case Op::Copysign:
    if (!fl) break;
    return b_.create<math::CopySignOp>(loc_, a, b);
  case Op::Atan2:
    if (!fl) break;
    return sleef_op(op, {a, b});
  case Op::Hypot: {
    if (!fl) break;
    // libdevice's f64 hypot overflows inside when one argument is huge and the other tiny:
    // hypot(4.9e-324, DBL_MAX) = inf (docs/gpu.md). Where finite arguments give inf, the halved
    // arguments cannot overflow inside and doubling is exact; a true overflow stays inf. SLEEF
    // never takes the branch, but one lowering serves both targets.
    using P = arith::CmpFPredicate;
    Value r = sleef_op(op, {a, b});
    Value inf = cf(a, INFINITY);
    Value bad = and_(cmpf(P::OEQ, r, inf),
                     and_(cmpf(P::OLT, fabs(a), inf), cmpf(P::OLT, fabs(b), inf)));
    return cold_select(
        bad,
        [&] {
          Value h = sleef_op(op, {b_.create<arith::MulFOp>(loc_, a, cf(a, 0.5)),
                                  b_.create<arith::MulFOp>(loc_, b, cf(b, 0.5))});
          return b_.create<arith::AddFOp>(loc_, h, h);
        },
        r);
  }
  case Op::BitAnd: return and_(a, b);
  case Op::BitOr: return or_(a, b);
  case Op::BitXor: return xor_(a, b);
  case Op::Shl:
  case Op::Shr: {
    if (!is_int(d)) break;
    using P = arith::CmpIPredicate;
    int w = bits_of(d);
    Value oob = cmpi(P::uge, b, ci(d, w)); // unsigned compare also catches negative counts
    if (op == Op::Shl) {
      Value sh = b_.create<arith::ShLIOp>(loc_, a, sel(oob, ci(d, 0), b));
      return sel(oob, ci(d, 0), sh);
    }
    if (is_signed_int(d)) // an oversized arithmetic shift is a shift by w-1: 0 or -1
      return b_.create<arith::ShRSIOp>(loc_, a, sel(oob, ci(d, w - 1), b));
    Value sh = b_.create<arith::ShRUIOp>(loc_, a, sel(oob, ci(d, 0), b));
    return sel(oob, ci(d, 0), sh);
  }
  default: break;
  }
  internal(fmt::format("binary op '{}' on {} is not lowered", ir::op_name(op), dtype_name(d)));
}

Value Emitter::emit_node(const ir::Node &n, ir::ValueId id, const std::vector<Value> &vals) {
  using ir::Op;
  const DType d = n.type.dtype;
  auto arg = [&](int i) { return vals[n.operands[i]]; };
  auto adt = [&](int i) { return g_.type(n.operands[i]).dtype; };
  auto arg_as = [&](int i, DType to) { return convert(arg(i), adt(i), to); };
  // Ops compute in the result dtype (halves in f32), then round once if it is a half type.
  auto finish = [&](Value v) { return is_half(d) ? round_half_from_f32(v, d) : v; };
  DType cd = is_half(d) ? DType::F32 : d;

  switch (n.op) {
  case Op::Input: {
    internal("input handled by caller");
  }
  case Op::Param: internal("param handled by caller");
  case Op::Const: {
    const ir::ConstValue &c = n.value;
    Value v;
    if (is_bool(c.dtype)) v = splat_int(b_.getI1Type(), c.b ? 1 : 0);
    else if (is_signed_int(c.dtype)) v = ci(c.dtype, c.i);
    else if (is_unsigned_int(c.dtype)) v = splat_int(cty(c.dtype), c.u);
    else v = splat_float(cty(c.dtype), c.f);
    if (is_half(c.dtype)) v = round_half_from_f32(v, c.dtype);
    return convert(v, c.dtype, d);
  }
  case Op::Cast: return convert(arg(0), adt(0), d);
  case Op::IsNan:
  case Op::IsInf:
  case Op::IsFinite:
  case Op::SignBit: {
    DType od = adt(0);
    Value x = arg(0);
    using P = arith::CmpFPredicate;
    if (is_float(od)) {
      Value inf = cf(x, std::numeric_limits<double>::infinity());
      Value ax = b_.create<math::AbsFOp>(loc_, x);
      switch (n.op) {
      case Op::IsNan: return cmpf(P::UNO, x, x);
      case Op::IsInf: return cmpf(P::OEQ, ax, inf);
      case Op::IsFinite: return cmpf(P::OLT, ax, inf);
      default: {
        Type it = b_.getIntegerType(elem_of(x).getIntOrFloatBitWidth());
        return cmpi(arith::CmpIPredicate::slt, bitcast(x, it), splat_int(it, 0));
      }
      }
    }
    switch (n.op) {
    case Op::IsNan:
    case Op::IsInf: return splat_int(b_.getI1Type(), 0);
    case Op::IsFinite: return splat_int(b_.getI1Type(), 1);
    default:
      if (is_signed_int(od)) return cmpi(arith::CmpIPredicate::slt, x, ci(od, 0));
      return splat_int(b_.getI1Type(), 0);
    }
  }
  case Op::Eq:
  case Op::Ne:
  case Op::Lt:
  case Op::Le:
  case Op::Gt:
  case Op::Ge: {
    DType p = promote2(adt(0), adt(1));
    Value a = arg_as(0, p), b = arg_as(1, p);
    if (is_float(p)) {
      using P = arith::CmpFPredicate;
      P pr = n.op == Op::Eq ? P::OEQ : n.op == Op::Ne ? P::UNE : n.op == Op::Lt ? P::OLT
           : n.op == Op::Le ? P::OLE : n.op == Op::Gt ? P::OGT : P::OGE;
      return cmpf(pr, a, b);
    }
    using P = arith::CmpIPredicate;
    bool s = is_signed_int(p);
    P pr = n.op == Op::Eq ? P::eq : n.op == Op::Ne ? P::ne
         : n.op == Op::Lt ? (s ? P::slt : P::ult) : n.op == Op::Le ? (s ? P::sle : P::ule)
         : n.op == Op::Gt ? (s ? P::sgt : P::ugt) : (s ? P::sge : P::uge);
    return cmpi(pr, a, b);
  }
  case Op::Where: {
    Value c = arg_as(0, DType::Bool);
    return finish(sel(c, arg_as(1, cd), arg_as(2, cd)));
  }
  case Op::Fma:
    return finish(b_.create<math::FmaOp>(loc_, arg_as(0, cd), arg_as(1, cd), arg_as(2, cd)));
  case Op::Clip: {
    Value x = arg_as(0, cd), lo = arg_as(1, cd), hi = arg_as(2, cd);
    if (is_float(cd)) return finish(ieee_minmax(false, ieee_minmax(true, x, lo), hi));
    return emit_binary(Op::Minimum, cd, emit_binary(Op::Maximum, cd, x, lo), hi);
  }
  default: break;
  }
  if (ir::op_kind(n.op) != ir::OpKind::Elementwise)
    internal(fmt::format("op '{}' (%{}) cannot appear in an elementwise kernel",
                         ir::op_name(n.op), id));
  if (ir::op_arity(n.op) == 1) return finish(emit_unary(n.op, cd, arg_as(0, cd)));
  if (ir::op_arity(n.op) == 2) return finish(emit_binary(n.op, cd, arg_as(0, cd), arg_as(1, cd)));
  internal(fmt::format("op '{}' is not lowered", ir::op_name(n.op)));
}

// ----------------------------------------------------------------------------------------------
// Loops

std::vector<Value> Emitter::eval_nodes(const Chunk &ch) {
  std::vector<Value> vals(g_.nodes.size());
  ncdf_pairs_.clear();
  for (std::size_t i = 0; i < g_.nodes.size(); ++i) {
    const ir::Node &n = g_.nodes[i];
    if (n.op == ir::Op::Input) {
      vals[i] = load_operand(input_index_[i], n.type.dtype, ch);
    } else if (n.op == ir::Op::Param) {
      vals[i] = mem_to_compute(bcast(param_scalars_[param_index_[i]]), n.type.dtype);
    } else {
      vals[i] = emit_node(n, static_cast<ir::ValueId>(i), vals);
    }
  }
  return vals;
}

void Emitter::emit_body(const Chunk &ch) {
  std::vector<Value> vals = eval_nodes(ch);
  for (std::size_t j = 0; j < g_.outputs.size(); ++j) {
    ir::ValueId v = g_.outputs[j].value;
    store_operand(static_cast<int>(inputs_.size() + j), g_.type(v).dtype, vals[v], ch);
  }
}

void Emitter::emit_contiguous(Value begin, Value end) {
  Value n = b_.create<arith::MaxSIOp>(loc_, b_.create<arith::SubIOp>(loc_, end, begin), c64(0));
  Value vl = c64(vl_);
  Value nfull = b_.create<arith::MulIOp>(loc_, b_.create<arith::DivSIOp>(loc_, n, vl), vl);
  Value stop = b_.create<arith::AddIOp>(loc_, begin, nfull);
  {
    auto loop = b_.create<scf::ForOp>(loc_, begin, stop, vl);
    OpBuilder::InsertionGuard guard(b_);
    b_.setInsertionPoint(loop.getBody()->getTerminator());
    Chunk ch;
    ch.pos = loop.getInductionVar();
    emit_body(ch);
  }
  Value rem = b_.create<arith::SubIOp>(loc_, n, nfull);
  auto tail = b_.create<scf::IfOp>(loc_, cmpi(arith::CmpIPredicate::sgt, rem, c64(0)), false);
  OpBuilder::InsertionGuard guard(b_);
  b_.setInsertionPoint(tail.thenBlock()->getTerminator());
  Chunk ch;
  ch.pos = stop;
  ch.mask = cmpi(arith::CmpIPredicate::slt, iota_, bcast(rem));
  emit_body(ch);
}

/// One run of `cnt` consecutive iterations along the innermost dim, starting at linear index
/// `pos`; strided operand k starts at element offset row_off[k] and steps inner_stride[k].
void Emitter::emit_row(Value pos, Value cnt, const std::vector<Value> &row_off,
                       const std::vector<Value> &inner_stride) {
  Value vl = c64(vl_);
  Value nfull = b_.create<arith::MulIOp>(loc_, b_.create<arith::DivSIOp>(loc_, cnt, vl), vl);
  auto lane_offsets = [&](Chunk &ch, Value j) {
    ch.offs.assign(base_ptrs_.size(), Value());
    for (std::size_t k = 0; k < base_ptrs_.size(); ++k) {
      if (!row_off[k]) continue;
      Value first = b_.create<arith::AddIOp>(
          loc_, row_off[k], b_.create<arith::MulIOp>(loc_, j, inner_stride[k]));
      ch.offs[k] = b_.create<arith::AddIOp>(
          loc_, bcast(first), b_.create<arith::MulIOp>(loc_, iota_, bcast(inner_stride[k])));
    }
  };
  {
    auto loop = b_.create<scf::ForOp>(loc_, c64(0), nfull, vl);
    OpBuilder::InsertionGuard guard(b_);
    b_.setInsertionPoint(loop.getBody()->getTerminator());
    Chunk ch;
    Value j = loop.getInductionVar();
    ch.pos = b_.create<arith::AddIOp>(loc_, pos, j);
    lane_offsets(ch, j);
    emit_body(ch);
  }
  Value rem = b_.create<arith::SubIOp>(loc_, cnt, nfull);
  auto tail = b_.create<scf::IfOp>(loc_, cmpi(arith::CmpIPredicate::sgt, rem, c64(0)), false);
  OpBuilder::InsertionGuard guard(b_);
  b_.setInsertionPoint(tail.thenBlock()->getTerminator());
  Chunk ch;
  ch.pos = b_.create<arith::AddIOp>(loc_, pos, nfull);
  ch.mask = cmpi(arith::CmpIPredicate::slt, iota_, bcast(rem));
  lane_offsets(ch, nfull);
  emit_body(ch);
}

void Emitter::emit_strided(Value strides, Value shape, Value begin, Value end) {
  const int r = spec_.rank;
  const int nops = static_cast<int>(base_ptrs_.size());
  std::vector<Value> dims(r);
  for (int d = 0; d < r; ++d) dims[d] = load_scalar(shape, i64(), c64(d));
  auto layout_of = [&](int k) { return layouts_[k]; };
  // Strides of the strided operands (scalar i64), loaded once.
  std::vector<std::vector<Value>> st(nops);
  for (int k = 0; k < nops; ++k)
    if (layout_of(k) == Layout::Strided)
      for (int d = 0; d < r; ++d) st[k].push_back(load_scalar(strides, i64(), c64(k * r + d)));

  // Decompose `begin` once (divisors clamped to 1: an empty shape never enters the loop).
  auto safe = [&](Value v) { return b_.create<arith::MaxSIOp>(loc_, v, c64(1)); };
  Value q = begin;
  Value inner0 = b_.create<arith::RemSIOp>(loc_, q, safe(dims[r - 1]));
  q = b_.create<arith::DivSIOp>(loc_, q, safe(dims[r - 1]));
  std::vector<Value> idx0(std::max(r - 1, 0));
  for (int d = r - 2; d >= 0; --d) {
    idx0[d] = b_.create<arith::RemSIOp>(loc_, q, safe(dims[d]));
    q = b_.create<arith::DivSIOp>(loc_, q, safe(dims[d]));
  }
  // while (pos < end): state = (pos, inner, idx[0..r-2])
  SmallVector<Value> init{begin, inner0};
  init.append(idx0.begin(), idx0.end());
  SmallVector<Type> tys(init.size(), i64());
  SmallVector<Location> locs(init.size(), loc_);
  auto w = b_.create<scf::WhileOp>(loc_, tys, init);
  OpBuilder::InsertionGuard guard(b_);
  Block *before = b_.createBlock(&w.getBefore(), {}, tys, locs);
  b_.create<scf::ConditionOp>(loc_, cmpi(arith::CmpIPredicate::slt, before->getArgument(0), end),
                              before->getArguments());
  Block *after = b_.createBlock(&w.getAfter(), {}, tys, locs);
  Value pos = after->getArgument(0), inner = after->getArgument(1);
  std::vector<Value> idx;
  for (int d = 0; d < r - 1; ++d) idx.push_back(after->getArgument(2 + d));
  Value cnt = b_.create<arith::MinSIOp>(loc_, b_.create<arith::SubIOp>(loc_, dims[r - 1], inner),
                                        b_.create<arith::SubIOp>(loc_, end, pos));
  std::vector<Value> row_off(nops), inner_stride(nops);
  for (int k = 0; k < nops; ++k) {
    if (layout_of(k) != Layout::Strided) continue;
    Value off = b_.create<arith::MulIOp>(loc_, inner, st[k][r - 1]);
    for (int d = 0; d < r - 1; ++d)
      off = b_.create<arith::AddIOp>(loc_, off, b_.create<arith::MulIOp>(loc_, idx[d], st[k][d]));
    row_off[k] = off;
    inner_stride[k] = st[k][r - 1];
  }
  emit_row(pos, cnt, row_off, inner_stride);
  // Next row: carry into the outer dims.
  SmallVector<Value> next{b_.create<arith::AddIOp>(loc_, pos, cnt), c64(0)};
  std::vector<Value> nidx(idx.size());
  Value carry = c64(1);
  for (int d = r - 2; d >= 0; --d) {
    Value v = b_.create<arith::AddIOp>(loc_, idx[d], carry);
    Value wrap = cmpi(arith::CmpIPredicate::eq, v, dims[d]);
    nidx[d] = sel(wrap, c64(0), v);
    carry = sel(wrap, c64(1), c64(0));
  }
  next.append(nidx.begin(), nidx.end());
  b_.create<scf::YieldOp>(loc_, next);
}

void Emitter::validate() {
  inputs_ = g_.inputs();
  params_ = g_.params();
  if (inputs_.size() != spec_.inputs.size())
    internal(fmt::format("kernel has {} inputs but the spec lists {}", inputs_.size(),
                         spec_.inputs.size()));
  if (g_.outputs.size() != spec_.outputs.size())
    internal(fmt::format("kernel has {} outputs but the spec lists {}", g_.outputs.size(),
                         spec_.outputs.size()));
  if (spec_.rank < 0 || spec_.rank > 8) internal("kernel rank out of range");
  for (std::size_t i = 0; i < g_.nodes.size(); ++i)
    for (ir::ValueId o : g_.nodes[i].operands)
      if (o < 0 || static_cast<std::size_t>(o) >= i) internal("kernel graph is not topological");
  for (const ir::Output &o : g_.outputs)
    if (o.value < 0 || static_cast<std::size_t>(o.value) >= g_.nodes.size())
      internal("kernel output refers to no node");
  input_index_.assign(g_.nodes.size(), -1);
  param_index_.assign(g_.nodes.size(), -1);
  for (std::size_t k = 0; k < inputs_.size(); ++k) input_index_[inputs_[k]] = static_cast<int>(k);
  for (std::size_t k = 0; k < params_.size(); ++k) param_index_[params_[k]] = static_cast<int>(k);
}

/// Loads the first `nops` operand pointers and every param at the insertion point, and makes
/// the lane iota.
void Emitter::load_prologue(Value ptrs, Value params, int nops) {
  Type p = ptr_ty();
  for (int k = 0; k < nops; ++k) base_ptrs_.push_back(load_scalar(ptrs, p, c64(k)));
  for (std::size_t k = 0; k < params_.size(); ++k) {
    // Each param owns an 8-byte slot; its value sits at the start in its own dtype.
    Type mt = mem_ty(g_.node(params_[k]).type.dtype);
    Value slot = b_.create<LLVM::GEPOp>(loc_, p, b_.getI64Type(), params,
                                        ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(k)});
    param_scalars_.push_back(b_.create<LLVM::LoadOp>(loc_, mt, slot));
  }
  SmallVector<int64_t> lanes;
  for (int i = 0; i < vl_; ++i) lanes.push_back(i);
  iota_ = b_.create<arith::ConstantOp>(
      loc_, DenseElementsAttr::get(vec(i64()), ArrayRef<int64_t>(lanes)));
}

void Emitter::begin_map(ModuleOp m, Value ptrs, Value params) {
  validate();
  module_ = m;
  for (std::size_t j = 0; j < spec_.inputs.size(); ++j)
    if (spec_.inputs[j] == Layout::Strided && spec_.rank > 0)
      internal("a map evaluated by MapEmitter reads Contiguous or Scalar inputs only");
  layouts_ = spec_.inputs;
  for (Layout &l : layouts_)
    if (l == Layout::Strided) l = Layout::Contiguous; // rank 0: one element at offset 0
  load_prologue(ptrs, params, static_cast<int>(inputs_.size()));
}

Value Emitter::eval_output(Value pos, Value mask, int j) {
  if (j < 0 || static_cast<std::size_t>(j) >= g_.outputs.size()) internal("no such kernel output");
  Chunk ch;
  ch.pos = pos;
  ch.mask = mask;
  return eval_nodes(ch)[static_cast<std::size_t>(g_.outputs[static_cast<std::size_t>(j)].value)];
}

void Emitter::begin_element(Block *decls, Value ptrs, Value params) {
  validate();
  decl_block_ = decls;
  for (Layout l : spec_.outputs)
    if (l == Layout::Scalar) internal("an output cannot have the Scalar layout");
  layouts_ = spec_.inputs;
  layouts_.insert(layouts_.end(), spec_.outputs.begin(), spec_.outputs.end());
  for (Layout &l : layouts_)
    if (spec_.rank == 0 && l == Layout::Strided) l = Layout::Contiguous;
  load_prologue(ptrs, params, static_cast<int>(inputs_.size() + g_.outputs.size()));
}

Chunk Emitter::element_chunk(Value pos, const std::vector<Value> &offsets) {
  Chunk ch;
  ch.pos = pos;
  ch.offs.assign(layouts_.size(), Value());
  for (std::size_t k = 0; k < layouts_.size(); ++k) {
    if (layouts_[k] != Layout::Strided) continue;
    if (k >= offsets.size() || !offsets[k]) internal("a strided operand has no element offset");
    ch.offs[k] = bcast(offsets[k]);
  }
  return ch;
}

void Emitter::emit_element(Value pos, const std::vector<Value> &offsets) {
  emit_body(element_chunk(pos, offsets));
}

Value Emitter::eval_element(Value pos, const std::vector<Value> &offsets, int j) {
  if (j < 0 || static_cast<std::size_t>(j) >= g_.outputs.size()) internal("no such kernel output");
  return eval_nodes(element_chunk(pos, offsets))[static_cast<std::size_t>(
      g_.outputs[static_cast<std::size_t>(j)].value)];
}

OwningOpRef<ModuleOp> Emitter::build(const std::string &fn_name) {
  // Validate the kernel against the spec before emitting anything.
  validate();
  module_ = ModuleOp::create(loc_);
  OwningOpRef<ModuleOp> owner(module_);
  b_.setInsertionPointToEnd(module_.getBody());
  Type p = ptr_ty();
  auto fn = b_.create<func::FuncOp>(loc_, fn_name,
                                    b_.getFunctionType({p, p, p, p, i64(), i64()}, {}));
  Block *entry = fn.addEntryBlock();
  b_.setInsertionPointToStart(entry);
  Value ptrs = entry->getArgument(0), strides = entry->getArgument(1);
  Value params = entry->getArgument(2), shape = entry->getArgument(3);
  Value begin = entry->getArgument(4), end = entry->getArgument(5);

  load_prologue(ptrs, params, static_cast<int>(inputs_.size() + g_.outputs.size()));

  for (Layout l : spec_.outputs)
    if (l == Layout::Scalar) internal("an output cannot have the Scalar layout");
  layouts_ = spec_.inputs;
  layouts_.insert(layouts_.end(), spec_.outputs.begin(), spec_.outputs.end());
  bool strided = false;
  for (Layout &l : layouts_) {
    // Rank 0 has one element at offset 0 of every operand: strided is contiguous there.
    if (spec_.rank == 0 && l == Layout::Strided) l = Layout::Contiguous;
    strided |= l == Layout::Strided;
  }
  if (strided)
    emit_strided(strides, shape, begin, end);
  else
    emit_contiguous(begin, end);
  b_.create<func::ReturnOp>(loc_);
  if (failed(verify(module_))) internal("generated MLIR does not verify");
  return owner;
}

} // namespace

int kernel_lanes(const ir::Graph &g, int vector_bits) {
  int widest = 8;
  for (const ir::Node &n : g.nodes) {
    widest = std::max(widest, compute_bits(n.type.dtype));
    if (is_compare(n.op) && n.operands.size() == 2)
      widest = std::max(widest, compute_bits(promote2(g.type(n.operands[0]).dtype,
                                                       g.type(n.operands[1]).dtype)));
  }
  return std::max(1, vector_bits / widest);
}

struct MapEmitter::Impl {
  Emitter e;
};

MapEmitter::MapEmitter(MLIRContext &ctx, const ir::Graph &kernel, const KernelSpec &spec,
                       int lanes, int vector_bits)
    : impl_(new Impl{Emitter(ctx, kernel, spec, lanes, vector_bits)}) {}
MapEmitter::~MapEmitter() = default;
OpBuilder &MapEmitter::builder() { return impl_->e.builder(); }
void MapEmitter::begin(ModuleOp module, Value ptrs, Value params) {
  impl_->e.begin_map(module, ptrs, params);
}
Value MapEmitter::eval(Value pos, Value mask, int output) {
  return impl_->e.eval_output(pos, mask, output);
}

struct ElementEmitter::Impl {
  Emitter e;
};

ElementEmitter::ElementEmitter(MLIRContext &ctx, const ir::Graph &kernel, const KernelSpec &spec,
                               MathLib lib, int lanes)
    : impl_(new Impl{Emitter(ctx, kernel, spec, lanes, /*host_bits=*/128)}) {
  impl_->e.set_mathlib(lib);
  if (lanes > 1) {
    for (Layout l : spec.inputs)
      if (l == Layout::Strided && spec.rank > 0) internal("a vector element emitter is contiguous only");
    for (Layout l : spec.outputs)
      if (l == Layout::Strided && spec.rank > 0) internal("a vector element emitter is contiguous only");
    impl_->e.set_aligned_vectors();
  }
}
ElementEmitter::~ElementEmitter() = default;
OpBuilder &ElementEmitter::builder() { return impl_->e.builder(); }
void ElementEmitter::begin(Block *decls, Value ptrs, Value params) {
  impl_->e.begin_element(decls, ptrs, params);
}
void ElementEmitter::emit(Value pos, const std::vector<Value> &offsets) {
  impl_->e.emit_element(pos, offsets);
}
Value ElementEmitter::value(Value pos, const std::vector<Value> &offsets, int output) {
  return impl_->e.eval_element(pos, offsets, output);
}

OwningOpRef<ModuleOp> build_kernel_module(MLIRContext &ctx, const ir::Graph &kernel,
                                          const KernelSpec &spec, int vector_bits,
                                          const std::string &fn_name) {
  Emitter e(ctx, kernel, spec, kernel_lanes(kernel, vector_bits), vector_bits);
  return e.build(fn_name);
}

} // namespace xpr::cg

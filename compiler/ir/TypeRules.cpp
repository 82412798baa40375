// compiler/ir/TypeRules.cpp — dtype promotion (NumPy's result_type plus bf16), per-rule result
// dtypes from Ops.def, and broadcasting over symbolic dims.
#include "compiler/ir/TypeRules.h"

#include <algorithm>

namespace xpr::ir {

namespace {

/// The smallest float that holds every value of an integer or bool dtype, as NumPy decides for
/// int/float promotion and for float-only functions of integers.
DType float_for_int(DType t) {
  switch (t) {
  case DType::Bool:
  case DType::I8:
  case DType::U8:
    return DType::F16;
  case DType::I16:
  case DType::U16:
    return DType::F32;
  default:
    return DType::F64;
  }
}

/// Join of two float dtypes in the lattice f16 < f32 < f64, bf16 < f32. f16 and bf16 are
/// incomparable (neither holds the other's values), so their join is f32.
DType float_join(DType a, DType b) {
  if (a == b) return a;
  if (a == DType::F64 || b == DType::F64) return DType::F64;
  return DType::F32; // {f16, bf16, f32} pairs that differ
}

DType signed_of_size(int bytes) {
  switch (bytes) {
  case 1:
    return DType::I8;
  case 2:
    return DType::I16;
  case 4:
    return DType::I32;
  default:
    return DType::I64;
  }
}

} // namespace

DType promote(DType a, DType b) {
  if (a == b) return a;
  if (is_bool(a)) return b;
  if (is_bool(b)) return a;
  if (is_float(a) && is_float(b)) return float_join(a, b);
  if (is_float(a) || is_float(b)) {
    DType f = is_float(a) ? a : b;
    DType i = is_float(a) ? b : a;
    DType need = float_for_int(i);
    // bf16 holds every i8/u8 value exactly (8 significant bits), like f16 does: bf16 + i8 is
    // bf16. For wider ints bf16 behaves as f16 does: f32 for 16-bit ints, f64 beyond.
    if (f == DType::BF16 && need == DType::F16) return DType::BF16;
    return float_join(f, need);
  }
  // Both integers.
  if (is_signed_int(a) == is_signed_int(b)) return dtype_size(a) >= dtype_size(b) ? a : b;
  DType s = is_signed_int(a) ? a : b;
  DType u = is_signed_int(a) ? b : a;
  if (dtype_size(s) > dtype_size(u)) return s;
  if (dtype_size(u) < 8) return signed_of_size(2 * dtype_size(u));
  return DType::F64; // u64 with any signed int: no integer type holds both
}

std::optional<DType> result_dtype(Op op, std::span<const DType> in) {
  if (static_cast<int>(in.size()) != op_arity(op)) return std::nullopt;
  auto all_same = [&] {
    return std::all_of(in.begin(), in.end(), [&](DType t) { return t == in[0]; });
  };
  switch (op_rule(op)) {
  case TypeRule::None:
  case TypeRule::CastTo:
    return std::nullopt;
  case TypeRule::Arith:
  case TypeRule::SameNum:
    if (!all_same() || is_bool(in[0])) return std::nullopt;
    return in[0];
  case TypeRule::Div:
    if (!all_same() || is_bool(in[0])) return std::nullopt;
    return is_float(in[0]) ? in[0] : DType::F64;
  case TypeRule::FloatFn:
    if (!all_same()) return std::nullopt;
    return is_float(in[0]) ? in[0] : float_for_int(in[0]);
  case TypeRule::IntOrBool:
    if (!all_same() || is_float(in[0])) return std::nullopt;
    return in[0];
  case TypeRule::Int:
    if (!all_same() || !is_int(in[0])) return std::nullopt;
    return in[0];
  case TypeRule::Compare:
    if (!all_same()) return std::nullopt;
    return DType::Bool;
  case TypeRule::Pred:
    if (is_bool(in[0])) return std::nullopt;
    return DType::Bool;
  case TypeRule::Where:
    if (!is_bool(in[0]) || in[1] != in[2]) return std::nullopt;
    return in[1];
  case TypeRule::RSum:
    if (is_float(in[0])) return in[0];
    return is_unsigned_int(in[0]) ? DType::U64 : DType::I64;
  case TypeRule::RMean:
    return is_float(in[0]) ? in[0] : DType::F64;
  case TypeRule::RSame:
    return in[0];
  case TypeRule::RBool:
    return DType::Bool;
  case TypeRule::RIndex:
    return DType::I64;
  }
  return std::nullopt;
}

std::optional<std::vector<Dim>> broadcast(const std::vector<Dim> &a, const std::vector<Dim> &b) {
  const std::vector<Dim> &lo = a.size() >= b.size() ? a : b; // the longer shape
  const std::vector<Dim> &sh = a.size() >= b.size() ? b : a;
  std::vector<Dim> out = lo;
  std::size_t off = lo.size() - sh.size();
  for (std::size_t i = 0; i < sh.size(); ++i) {
    const Dim &x = lo[off + i];
    const Dim &y = sh[i];
    if (x == y) continue;
    if (!y.is_symbolic() && y.size == 1) continue;
    if (!x.is_symbolic() && x.size == 1) {
      out[off + i] = y;
      continue;
    }
    return std::nullopt;
  }
  return out;
}

std::vector<Dim> reduced_shape(const std::vector<Dim> &in, std::span<const int> axes,
                               bool keepdims) {
  std::vector<Dim> out;
  for (int i = 0; i < static_cast<int>(in.size()); ++i) {
    bool reduced = std::find(axes.begin(), axes.end(), i) != axes.end();
    if (!reduced)
      out.push_back(in[static_cast<std::size_t>(i)]);
    else if (keepdims)
      out.push_back(Dim::fixed(1));
  }
  return out;
}

} // namespace xpr::ir

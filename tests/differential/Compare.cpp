// tests/differential/Compare.cpp — ULP distance, exact and tolerant element comparison, and the
// per-function tolerance table (kept in step with docs/testing.md).
#include "tests/differential/Compare.h"

#include "support/Half.h"

#include <bit>
#include <cmath>
#include <limits>

namespace xpr::diff {

std::optional<FnTolerance> function_tolerance(ir::Op op) {
  using ir::Op;
  // Both sides err: the JIT (SLEEF / MLIR approximations) and the oracle (glibc's float and
  // double functions, up to 4-5 ulp for cbrt and erfc in f64). So each bound is the JIT's
  // allowance plus glibc's published worst case. abs_eps covers results that land near zero
  // through an argument reduction or a cancellation (sin near pi).
  switch (op) {
  case Op::Exp:
  case Op::Exp2: return FnTolerance{4, 0};
  case Op::Expm1: return FnTolerance{6, 0};
  case Op::Log:
  case Op::Log2:
  case Op::Log10:
  case Op::Log1p: return FnTolerance{6, 0};
  case Op::Sin:
  case Op::Cos: return FnTolerance{6, 2};
  case Op::Tan: return FnTolerance{10, 2};
  case Op::Asin: return FnTolerance{6, 0};
  case Op::Acos: return FnTolerance{6, 2};
  case Op::Atan: return FnTolerance{6, 0};
  case Op::Atan2: return FnTolerance{6, 2};
  case Op::Sinh:
  case Op::Cosh: return FnTolerance{6, 0};
  case Op::Tanh: return FnTolerance{6, 0};
  case Op::Asinh:
  case Op::Acosh:
  case Op::Atanh: return FnTolerance{6, 0};
  case Op::Erf: return FnTolerance{6, 2};
  case Op::Erfc: return FnTolerance{16, 0};
  case Op::Ncdf: return FnTolerance{16, 0};
  case Op::Pow: return FnTolerance{10, 0};
  case Op::Cbrt: return FnTolerance{6, 0};
  case Op::Hypot: return FnTolerance{4, 0};
  case Op::Rsqrt: return FnTolerance{4, 0};
  default: return std::nullopt;
  }
}

bool is_nan_bits(DType t, std::uint64_t b) {
  switch (t) {
  case DType::F16: return (b & 0x7c00u) == 0x7c00u && (b & 0x3ffu);
  case DType::BF16: return (b & 0x7f80u) == 0x7f80u && (b & 0x7fu);
  case DType::F32: return (b & 0x7f800000u) == 0x7f800000u && (b & 0x7fffffu);
  case DType::F64:
    return (b & 0x7ff0000000000000ull) == 0x7ff0000000000000ull && (b & 0xfffffffffffffull);
  default: return false;
  }
}

double to_double(DType t, std::uint64_t b) {
  switch (t) {
  case DType::F16: return half::f16_to_f64(static_cast<std::uint16_t>(b));
  case DType::BF16: return half::bf16_to_f64(static_cast<std::uint16_t>(b));
  case DType::F32: return std::bit_cast<float>(static_cast<std::uint32_t>(b));
  case DType::F64: return std::bit_cast<double>(b);
  default: return 0;
  }
}

std::uint64_t from_double(DType t, double v) {
  switch (t) {
  case DType::F16: return half::f64_to_f16(v);
  case DType::BF16: return half::f64_to_bf16(v);
  case DType::F32: return std::bit_cast<std::uint32_t>(static_cast<float>(v));
  case DType::F64: return std::bit_cast<std::uint64_t>(v);
  default: return 0;
  }
}

double epsilon(DType t) {
  switch (t) {
  case DType::F16: return 0x1p-10;
  case DType::BF16: return 0x1p-7;
  case DType::F32: return 0x1p-23;
  default: return 0x1p-52;
  }
}

namespace {
/// Maps float bits onto a line of integers where neighbouring floats are neighbours: the sign
/// bit folds negatives below zero, so -0 sits one step below +0.
std::int64_t ordered(DType t, std::uint64_t b) {
  int bits = t == DType::F64 ? 64 : t == DType::F32 ? 32 : 16;
  std::uint64_t sign = std::uint64_t{1} << (bits - 1);
  std::uint64_t mag = b & (sign - 1);
  // Two's complement of the magnitude for negatives, shifted so that -0 -> -1.
  return (b & sign) ? -static_cast<std::int64_t>(mag) - 1 : static_cast<std::int64_t>(mag);
}
} // namespace

std::uint64_t ulp_distance(DType t, std::uint64_t a, std::uint64_t b) {
  if (is_nan_bits(t, a) || is_nan_bits(t, b)) return std::numeric_limits<std::uint64_t>::max();
  std::int64_t x = ordered(t, a), y = ordered(t, b);
  // Unsigned difference: the extremes of f64 are 2^64 - 1 apart at most, which fits.
  return x >= y ? static_cast<std::uint64_t>(x) - static_cast<std::uint64_t>(y)
                : static_cast<std::uint64_t>(y) - static_cast<std::uint64_t>(x);
}

bool exact_equal(DType t, std::uint64_t a, std::uint64_t b) {
  if (a == b) return true;
  return is_float(t) && is_nan_bits(t, a) && is_nan_bits(t, b);
}

namespace {
int precision_rank(DType t) {
  switch (t) {
  case DType::F16:
  case DType::BF16: return 0;
  case DType::F32: return 1;
  default: return 2;
  }
}
} // namespace

bool close_enough(DType out, std::uint64_t a, std::uint64_t b, DType compute, int ulps,
                  double abs_tol) {
  if (exact_equal(out, a, b)) return true;
  if (is_nan_bits(out, a) || is_nan_bits(out, b)) return false;
  if (ulp_distance(out, a, b) <= static_cast<std::uint64_t>(ulps)) return true;
  double x = to_double(out, a), y = to_double(out, b);
  if (std::isfinite(x) && std::isfinite(y) && std::fabs(x - y) <= abs_tol) return true;
  // A value computed in a narrower precision and widened: measure there.
  if (precision_rank(compute) < precision_rank(out)) {
    std::uint64_t na = from_double(compute, x), nb = from_double(compute, y);
    if (ulp_distance(compute, na, nb) <= static_cast<std::uint64_t>(ulps)) return true;
  }
  return false;
}

} // namespace xpr::diff

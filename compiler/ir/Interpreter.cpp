// compiler/ir/Interpreter.cpp — the reference interpreter: one plain scalar function per op,
// applied element by element into materialized arrays. Written to be obviously right, not fast.
//
// How it evaluates: every node reachable from an output becomes a full Array (Input nodes are the
// caller's arrays, strided as given). An elementwise node converts each operand element to the
// node's compute type (the promoted operand dtype for comparisons, the operand's for predicates,
// otherwise the node's dtype; f16/bf16 compute in f32), applies the op's scalar function and
// stores the result, converting by the cast rules. Dispatch is generated from Ops.def.
//
// Transcendental functions are the C library's: the double function for f64, the float one
// (expf, sinf, ...) for f32 — so the oracle's f32 error is the C library's f32 error.
#include "compiler/ir/Interpreter.h"

#include "compiler/ir/Bind.h"
#include "compiler/ir/TypeRules.h"
#include "support/Half.h"

#include <xpr/error.hpp>

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <concepts>
#include <cstring>
#include <limits>
#include <type_traits>

namespace xpr::ir {

namespace {

// ---- the C++ types values are computed in ----

template <class T>
concept Bool = std::same_as<T, bool>;
template <class T>
concept Int = std::integral<T> && !std::same_as<T, bool>;
template <class T>
concept SInt = Int<T> && std::is_signed_v<T>;
template <class T>
concept UInt = Int<T> && std::is_unsigned_v<T>;
template <class T>
concept Flt = std::same_as<T, float> || std::same_as<T, double>;
template <class T>
concept Num = Int<T> || Flt<T>;

[[noreturn]] void internal(std::string msg) { throw Error(ErrorKind::Internal, std::move(msg)); }

// ---- conversions: docs/semantics.md, "Casts" ----

template <class To, class From> To convert(From v) {
  if constexpr (Bool<To>) {
    return v != From(0); // NaN != 0, so NaN -> true
  } else if constexpr (Bool<From>) {
    return static_cast<To>(v ? 1 : 0);
  } else if constexpr (Int<To> && Flt<From>) {
    // Saturating: NaN -> 0, beyond the range -> the nearest bound, else truncate toward zero.
    // hi = 2^digits is a power of two, so it is exact in any float type.
    using L = std::numeric_limits<To>;
    const From hi = From(2) * static_cast<From>(L::max() / 2 + 1);
    if (std::isnan(v)) return 0;
    if (v >= hi) return L::max();
    if constexpr (SInt<To>) {
      if (v <= -hi) return L::min();
    } else {
      if (v < 0) return 0;
    }
    return static_cast<To>(v);
  } else {
    // int -> int wraps (modular since C++20); int -> float and float -> float round once to
    // nearest even.
    return static_cast<To>(v);
  }
}

template <class T> std::uint16_t to_f16(T v) {
  if constexpr (Bool<T>)
    return v ? 0x3c00 : 0;
  else if constexpr (SInt<T>)
    return half::i64_to_f16(v);
  else if constexpr (UInt<T>)
    return half::u64_to_f16(v);
  else if constexpr (std::same_as<T, float>)
    return half::f32_to_f16(v);
  else
    return half::f64_to_f16(v);
}
template <class T> std::uint16_t to_bf16(T v) {
  if constexpr (Bool<T>)
    return v ? 0x3f80 : 0;
  else if constexpr (SInt<T>)
    return half::i64_to_bf16(v);
  else if constexpr (UInt<T>)
    return half::u64_to_bf16(v);
  else if constexpr (std::same_as<T, float>)
    return half::f32_to_bf16(v);
  else
    return half::f64_to_bf16(v);
}

template <class S> S read(const std::byte *p) {
  S s;
  std::memcpy(&s, p, sizeof s);
  return s;
}
template <class S> void write(std::byte *p, S s) { std::memcpy(p, &s, sizeof s); }

/// Reads the element of dtype `d` at `p` and converts it to T.
template <class T> T load(const std::byte *p, DType d) {
  switch (d) {
  case DType::Bool:
    return convert<T>(read<std::uint8_t>(p) != 0); // any nonzero byte is true
  case DType::I8:
    return convert<T>(read<std::int8_t>(p));
  case DType::I16:
    return convert<T>(read<std::int16_t>(p));
  case DType::I32:
    return convert<T>(read<std::int32_t>(p));
  case DType::I64:
    return convert<T>(read<std::int64_t>(p));
  case DType::U8:
    return convert<T>(read<std::uint8_t>(p));
  case DType::U16:
    return convert<T>(read<std::uint16_t>(p));
  case DType::U32:
    return convert<T>(read<std::uint32_t>(p));
  case DType::U64:
    return convert<T>(read<std::uint64_t>(p));
  case DType::F16:
    return convert<T>(half::f16_to_f32(read<std::uint16_t>(p))); // exact
  case DType::BF16:
    return convert<T>(half::bf16_to_f32(read<std::uint16_t>(p))); // exact
  case DType::F32:
    return convert<T>(read<float>(p));
  case DType::F64:
    return convert<T>(read<double>(p));
  }
  internal("bad dtype");
}

/// Converts v to dtype `d` (rounding once) and writes it at `p`.
template <class T> void store(std::byte *p, DType d, T v) {
  switch (d) {
  case DType::Bool:
    return write<std::uint8_t>(p, convert<bool>(v) ? 1 : 0);
  case DType::I8:
    return write(p, convert<std::int8_t>(v));
  case DType::I16:
    return write(p, convert<std::int16_t>(v));
  case DType::I32:
    return write(p, convert<std::int32_t>(v));
  case DType::I64:
    return write(p, convert<std::int64_t>(v));
  case DType::U8:
    return write(p, convert<std::uint8_t>(v));
  case DType::U16:
    return write(p, convert<std::uint16_t>(v));
  case DType::U32:
    return write(p, convert<std::uint32_t>(v));
  case DType::U64:
    return write(p, convert<std::uint64_t>(v));
  case DType::F16:
    return write(p, to_f16(v));
  case DType::BF16:
    return write(p, to_bf16(v));
  case DType::F32:
    return write(p, convert<float>(v));
  case DType::F64:
    return write(p, convert<double>(v));
  }
  internal("bad dtype");
}

/// Calls f.template operator()<T>() with the C++ type values of dtype `d` are computed in.
template <class F> decltype(auto) visit_ctype(DType d, F &&f) {
  switch (d) {
  case DType::Bool:
    return f.template operator()<bool>();
  case DType::I8:
    return f.template operator()<std::int8_t>();
  case DType::I16:
    return f.template operator()<std::int16_t>();
  case DType::I32:
    return f.template operator()<std::int32_t>();
  case DType::I64:
    return f.template operator()<std::int64_t>();
  case DType::U8:
    return f.template operator()<std::uint8_t>();
  case DType::U16:
    return f.template operator()<std::uint16_t>();
  case DType::U32:
    return f.template operator()<std::uint32_t>();
  case DType::U64:
    return f.template operator()<std::uint64_t>();
  case DType::F16:
  case DType::BF16:
  case DType::F32:
    return f.template operator()<float>();
  case DType::F64:
    return f.template operator()<double>();
  }
  internal("bad dtype");
}

// ---- integer helpers: arithmetic through uint64_t, so overflow wraps instead of being UB ----

template <Int T> T wrap_add(T a, T b) {
  return static_cast<T>(std::uint64_t(a) + std::uint64_t(b));
}
template <Int T> T wrap_sub(T a, T b) {
  return static_cast<T>(std::uint64_t(a) - std::uint64_t(b));
}
template <Int T> T wrap_mul(T a, T b) {
  return static_cast<T>(std::uint64_t(a) * std::uint64_t(b));
}
template <Int T> T wrap_neg(T a) { return static_cast<T>(std::uint64_t{0} - std::uint64_t(a)); }
template <Int T> constexpr int bit_width_of = static_cast<int>(sizeof(T) * 8);

/// IEEE 754-2019 minimum: NaN propagates, -0 < +0.
template <class T> T ieee_minimum(T a, T b) {
  if constexpr (Flt<T>) {
    if (std::isnan(a)) return a;
    if (std::isnan(b)) return b;
    if (a == b) return std::signbit(a) ? a : b;
  }
  return b < a ? b : a;
}
template <class T> T ieee_maximum(T a, T b) {
  if constexpr (Flt<T>) {
    if (std::isnan(a)) return a;
    if (std::isnan(b)) return b;
    if (a == b) return std::signbit(a) ? b : a;
  }
  return a < b ? b : a;
}

/// NumPy's npy_divmod for floats (docs/semantics.md, "Floats"); b != 0.
template <Flt T> T numpy_divmod(T a, T b, T &mod) {
  mod = std::fmod(a, b);
  T div = (a - mod) / b;
  if (mod != 0) {
    if ((b < 0) != (mod < 0)) {
      mod += b;
      div -= 1;
    }
  } else {
    mod = std::copysign(T(0), b);
  }
  T floordiv;
  if (div != 0) {
    floordiv = std::floor(div);
    if (div - floordiv > T(0.5)) floordiv += 1;
  } else {
    floordiv = std::copysign(T(0), a / b);
  }
  return floordiv;
}

} // namespace

// ---- one scalar function per op (names match the Ops.def enum) ----
//
// Each struct's `apply` is constrained to the C++ types the op accepts; the dispatcher reports an
// internal error when a node asks for any other type (the verifier should have caught it).
namespace scalar {

// Leaves are materialized by eval_Leaf; they have no scalar function.
struct Input {};
struct Param {};
struct Const {};

struct Neg {
  template <Int T> static T apply(T x) { return wrap_neg(x); }
  template <Flt T> static T apply(T x) { return -x; }
};
struct Not {
  template <Bool T> static T apply(T x) { return !x; }
  template <Int T> static T apply(T x) { return static_cast<T>(~std::uint64_t(x)); }
};
struct Abs {
  template <SInt T> static T apply(T x) { return x < 0 ? wrap_neg(x) : x; }
  template <UInt T> static T apply(T x) { return x; }
  template <Flt T> static T apply(T x) { return std::fabs(x); }
};
struct Sign {
  template <SInt T> static T apply(T x) { return static_cast<T>((x > 0) - (x < 0)); }
  template <UInt T> static T apply(T x) { return x != 0; }
  template <Flt T> static T apply(T x) {
    if (std::isnan(x) || x == 0) return x; // sign(NaN) = NaN, sign(±0) = ±0
    return x > 0 ? T(1) : T(-1);
  }
};

#define XPR_FLOAT_FN1(Name, expr)                                                                  \
  struct Name {                                                                                    \
    template <Flt T> static T apply(T x) { return expr; }                                          \
  };
XPR_FLOAT_FN1(Sqrt, std::sqrt(x))
XPR_FLOAT_FN1(Rsqrt, T(1) / std::sqrt(x))
#undef XPR_FLOAT_FN1

/// The oracle evaluates the float transcendental functions in double and rounds once: libm's
/// float entry points are allowed an ULP or so, which is harmless for normal results but not for
/// subnormal ones -- there an ULP is a large relative error, and a later multiplication by an
/// exact value (the differential generator's wrappers) turns it into a mismatch that is the
/// oracle's fault: glibc's erfcf(10) returns 2 denormal steps where the exact 1.49 rounds to 1.
/// Doubles stay in double: x87 long double is no better oracle, glibc's powl(-inf, -2^63) is
/// +inf where C99 and pow() say +0.
template <class T> using Wide = double;
#define XPR_FLOAT_FN1(Name, fn)                                                                    \
  struct Name {                                                                                    \
    template <Flt T> static T apply(T x) { return static_cast<T>(fn(static_cast<Wide<T>>(x))); }  \
  };
XPR_FLOAT_FN1(Cbrt, std::cbrt)
XPR_FLOAT_FN1(Exp, std::exp)
XPR_FLOAT_FN1(Exp2, std::exp2)
XPR_FLOAT_FN1(Expm1, std::expm1)
XPR_FLOAT_FN1(Log, std::log)
XPR_FLOAT_FN1(Log2, std::log2)
XPR_FLOAT_FN1(Log10, std::log10)
XPR_FLOAT_FN1(Log1p, std::log1p)
XPR_FLOAT_FN1(Sin, std::sin)
XPR_FLOAT_FN1(Cos, std::cos)
XPR_FLOAT_FN1(Tan, std::tan)
XPR_FLOAT_FN1(Asin, std::asin)
XPR_FLOAT_FN1(Acos, std::acos)
XPR_FLOAT_FN1(Atan, std::atan)
XPR_FLOAT_FN1(Sinh, std::sinh)
XPR_FLOAT_FN1(Cosh, std::cosh)
XPR_FLOAT_FN1(Tanh, std::tanh)
XPR_FLOAT_FN1(Asinh, std::asinh)
XPR_FLOAT_FN1(Acosh, std::acosh)
XPR_FLOAT_FN1(Atanh, std::atanh)
XPR_FLOAT_FN1(Erf, std::erf)
XPR_FLOAT_FN1(Erfc, std::erfc)
// ncdf(x) = erfc(-x/√2)/2. Evaluated in long double: rounding -x/√2 to T first would cost up to
// ~180 ULP (f32) or ~1500 ULP (f64) in the far left tail, where erfc's slope amplifies it, and the
// oracle must be more accurate than the backends it judges.
#undef XPR_FLOAT_FN1
struct Ncdf {
  template <Flt T> static T apply(T x) {
    return static_cast<T>(
        std::erfc(-static_cast<long double>(x) / 1.41421356237309504880168872420969808L) / 2.0L);
  }
};

struct Floor {
  template <Int T> static T apply(T x) { return x; }
  template <Flt T> static T apply(T x) { return std::floor(x); }
};
struct Ceil {
  template <Int T> static T apply(T x) { return x; }
  template <Flt T> static T apply(T x) { return std::ceil(x); }
};
struct Round {
  template <Int T> static T apply(T x) { return x; }
  // Half to even, without depending on the FPU rounding mode. x - floor(x) is exact.
  template <Flt T> static T apply(T x) {
    T r = std::floor(x);
    const T frac = x - r;
    if (frac > T(0.5) || (frac == T(0.5) && std::fmod(r, T(2)) != 0)) r += 1;
    return std::copysign(r, x); // round(-0.3) = -0, as NumPy
  }
};
struct Trunc {
  template <Int T> static T apply(T x) { return x; }
  template <Flt T> static T apply(T x) { return std::trunc(x); }
};

struct IsNan {
  template <Bool T> static bool apply(T) { return false; }
  template <Int T> static bool apply(T) { return false; }
  template <Flt T> static bool apply(T x) { return std::isnan(x); }
};
struct IsInf {
  template <Bool T> static bool apply(T) { return false; }
  template <Int T> static bool apply(T) { return false; }
  template <Flt T> static bool apply(T x) { return std::isinf(x); }
};
struct IsFinite {
  template <Bool T> static bool apply(T) { return true; }
  template <Int T> static bool apply(T) { return true; }
  template <Flt T> static bool apply(T x) { return std::isfinite(x); }
};
struct SignBit {
  template <Bool T> static bool apply(T) { return false; }
  template <SInt T> static bool apply(T x) { return x < 0; }
  template <UInt T> static bool apply(T) { return false; }
  template <Flt T> static bool apply(T x) { return std::signbit(x); }
};

struct Add {
  template <Int T> static T apply(T a, T b) { return wrap_add(a, b); }
  template <Flt T> static T apply(T a, T b) { return a + b; }
};
struct Sub {
  template <Int T> static T apply(T a, T b) { return wrap_sub(a, b); }
  template <Flt T> static T apply(T a, T b) { return a - b; }
};
struct Mul {
  template <Int T> static T apply(T a, T b) { return wrap_mul(a, b); }
  template <Flt T> static T apply(T a, T b) { return a * b; }
};
struct Div {
  template <Flt T> static T apply(T a, T b) { return a / b; }
};
struct FloorDiv {
  template <SInt T> static T apply(T a, T b) {
    if (b == 0) return 0;
    if (b == -1) return wrap_neg(a); // min // -1 = min
    T q = static_cast<T>(a / b);
    if (static_cast<T>(a % b) != 0 && ((a < 0) != (b < 0))) --q;
    return q;
  }
  template <UInt T> static T apply(T a, T b) { return b == 0 ? T(0) : static_cast<T>(a / b); }
  template <Flt T> static T apply(T a, T b) {
    if (b == 0) return a / b;
    T mod;
    return numpy_divmod(a, b, mod);
  }
};
struct Mod {
  template <SInt T> static T apply(T a, T b) {
    if (b == 0 || b == -1) return 0; // x % 0 = 0; min % -1 = 0 (and so is every x % -1)
    T r = static_cast<T>(a % b);
    if (r != 0 && ((r < 0) != (b < 0))) r = static_cast<T>(r + b);
    return r;
  }
  template <UInt T> static T apply(T a, T b) { return b == 0 ? T(0) : static_cast<T>(a % b); }
  template <Flt T> static T apply(T a, T b) {
    if (b == 0) return std::fmod(a, b); // NaN
    T mod;
    numpy_divmod(a, b, mod);
    return mod;
  }
};
struct Pow {
  template <Int T> static T apply(T a, T b) {
    if constexpr (SInt<T>) {
      if (b < 0) { // the truncated exact result
        if (a == 1) return 1;
        if (a == -1) return (b & 1) ? T(-1) : T(1);
        return 0;
      }
    }
    T r = 1, base = a;
    for (std::uint64_t e = static_cast<std::uint64_t>(b); e != 0; e >>= 1) {
      if (e & 1) r = wrap_mul(r, base);
      base = wrap_mul(base, base);
    }
    return r;
  }
  template <Flt T> static T apply(T a, T b) {
    return static_cast<T>(std::pow(static_cast<Wide<T>>(a), static_cast<Wide<T>>(b)));
  }
};
struct Atan2 {
  template <Flt T> static T apply(T a, T b) {
    return static_cast<T>(std::atan2(static_cast<Wide<T>>(a), static_cast<Wide<T>>(b)));
  }
};
struct Hypot {
  template <Flt T> static T apply(T a, T b) {
    return static_cast<T>(std::hypot(static_cast<Wide<T>>(a), static_cast<Wide<T>>(b)));
  }
};
struct Fmod {
  // C's remainder of truncating division (sign of a); x fmod 0 = 0 like x % 0.
  template <SInt T> static T apply(T a, T b) {
    return (b == 0 || b == -1) ? T(0) : static_cast<T>(a % b);
  }
  template <UInt T> static T apply(T a, T b) { return b == 0 ? T(0) : static_cast<T>(a % b); }
  template <Flt T> static T apply(T a, T b) { return std::fmod(a, b); }
};
struct Minimum {
  template <class T>
  requires Num<T> || Bool<T>
  static T apply(T a, T b) { return ieee_minimum(a, b); }
};
struct Maximum {
  template <class T>
  requires Num<T> || Bool<T>
  static T apply(T a, T b) { return ieee_maximum(a, b); }
};
struct Copysign {
  template <Flt T> static T apply(T a, T b) { return std::copysign(a, b); }
};
struct BitAnd {
  template <Bool T> static T apply(T a, T b) { return a && b; }
  template <Int T> static T apply(T a, T b) { return static_cast<T>(a & b); }
};
struct BitOr {
  template <Bool T> static T apply(T a, T b) { return a || b; }
  template <Int T> static T apply(T a, T b) { return static_cast<T>(a | b); }
};
struct BitXor {
  template <Bool T> static T apply(T a, T b) { return a != b; }
  template <Int T> static T apply(T a, T b) { return static_cast<T>(a ^ b); }
};
/// A shift count outside [0, width) leaves no bits of the value.
template <Int T> bool shift_out_of_range(T b) {
  if constexpr (SInt<T>)
    if (b < 0) return true;
  return static_cast<std::uint64_t>(b) >= static_cast<std::uint64_t>(bit_width_of<T>);
}
struct Shl {
  template <Int T> static T apply(T a, T b) {
    if (shift_out_of_range(b)) return 0;
    return static_cast<T>(static_cast<std::uint64_t>(a) << b);
  }
};
struct Shr {
  template <Int T> static T apply(T a, T b) {
    if (shift_out_of_range(b)) {
      if constexpr (SInt<T>) return a < 0 ? T(-1) : T(0);
      return 0;
    }
    return static_cast<T>(a >> b); // arithmetic for signed values (defined since C++20)
  }
};
#define XPR_COMPARE(Name, op)                                                                      \
  struct Name {                                                                                    \
    template <class T>                                                                             \
    requires Num<T> || Bool<T>                                                                     \
    static bool apply(T a, T b) { return a op b; }                                                 \
  };
XPR_COMPARE(Eq, ==)
XPR_COMPARE(Ne, !=)
XPR_COMPARE(Lt, <)
XPR_COMPARE(Le, <=)
XPR_COMPARE(Gt, >)
XPR_COMPARE(Ge, >=)
#undef XPR_COMPARE

struct Where {
  template <class T> static T apply(bool c, T a, T b) { return c ? a : b; }
};
struct Fma {
  template <Flt T> static T apply(T a, T b, T c) { return std::fma(a, b, c); }
};
struct Clip {
  template <class T>
  requires Num<T> || Bool<T>
  static T apply(T x, T lo, T hi) { return ieee_minimum(ieee_maximum(x, lo), hi); }
};

struct Cast {
  /// Converts v (computed in its source C++ type) to dtype `to`, rounding once.
  template <class S> static void apply(std::byte *dst, DType to, S v) { store(dst, to, v); }
};

// Reductions: a State per compute type T of the operand, fed elements in C order with their flat
// index within the reduced extent; `result(n)` gets the number of elements.
template <class T>
using SumAcc =
    std::conditional_t<Flt<T>, double, std::conditional_t<UInt<T>, std::uint64_t, std::int64_t>>;
template <class T>
using ProdAcc =
    std::conditional_t<Flt<T>, T, std::conditional_t<UInt<T>, std::uint64_t, std::int64_t>>;

struct Sum {
  static constexpr bool needs_elements = false;
  template <class T> struct State {
    SumAcc<T> acc = 0; // f32 sums accumulate in f64 and round once
    void step(T x, std::int64_t) {
      if constexpr (Flt<T>)
        acc += static_cast<double>(x);
      else
        acc = wrap_add(acc, convert<SumAcc<T>>(x));
    }
    SumAcc<T> result(std::int64_t) const { return acc; }
  };
};
struct Prod {
  static constexpr bool needs_elements = false;
  template <class T> struct State {
    ProdAcc<T> acc = 1;
    void step(T x, std::int64_t) {
      if constexpr (Flt<T>)
        acc *= x;
      else
        acc = wrap_mul(acc, convert<ProdAcc<T>>(x));
    }
    ProdAcc<T> result(std::int64_t) const { return acc; }
  };
};
struct Mean {
  static constexpr bool needs_elements = false;
  template <class T> struct State {
    double acc = 0; // every mean sums in f64 (as NumPy does for ints) and divides once
    void step(T x, std::int64_t) { acc += convert<double>(x); }
    double result(std::int64_t n) const { return acc / static_cast<double>(n); } // 0/0 = NaN
  };
};
template <bool IsMin> struct Extreme {
  static constexpr bool needs_elements = true;
  template <class T> struct State {
    T best{};
    bool any = false;
    void step(T x, std::int64_t) {
      best = !any ? x : IsMin ? ieee_minimum(best, x) : ieee_maximum(best, x);
      any = true;
    }
    T result(std::int64_t) const { return best; }
  };
};
struct Min : Extreme<true> {};
struct Max : Extreme<false> {};
struct Any {
  static constexpr bool needs_elements = false;
  template <class T> struct State {
    bool acc = false;
    void step(T x, std::int64_t) { acc = acc || convert<bool>(x); }
    bool result(std::int64_t) const { return acc; }
  };
};
struct All {
  static constexpr bool needs_elements = false;
  template <class T> struct State {
    bool acc = true;
    void step(T x, std::int64_t) { acc = acc && convert<bool>(x); }
    bool result(std::int64_t) const { return acc; }
  };
};
/// First index of the extreme value; with NaN present, the first NaN. The order is the one
/// minimum/maximum use (-0 < +0), so x[argmin(x)] is bit-equal to min(x).
template <bool IsMin> struct ArgExtreme {
  static constexpr bool needs_elements = true;
  template <class T> struct State {
    T best{};
    std::int64_t idx = -1;
    static bool better(T x, T b) {
      if constexpr (Flt<T>) {
        if (std::isnan(b)) return false;
        if (std::isnan(x)) return true;
        if (x == b)
          return IsMin ? (std::signbit(x) && !std::signbit(b))
                       : (!std::signbit(x) && std::signbit(b));
      }
      return IsMin ? x < b : b < x;
    }
    void step(T x, std::int64_t k) {
      if (idx < 0 || better(x, best)) {
        best = x;
        idx = k;
      }
    }
    std::int64_t result(std::int64_t) const { return idx; }
  };
};
struct ArgMin : ArgExtreme<true> {};
struct ArgMax : ArgExtreme<false> {};

} // namespace scalar

namespace {

struct Ctx {
  const Graph &g;
  const std::map<std::string, Array> &inputs;
  const std::map<std::string, Scalar> &params;
  SymbolSizes syms;
  std::vector<Array> vals;
};

std::string shape_str(const std::vector<std::int64_t> &s) {
  std::string r = "[";
  for (std::size_t i = 0; i < s.size(); ++i)
    r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

std::byte *bytes(const Array &a) { return static_cast<std::byte *>(a.data()); }

/// Byte offset of element `idx` of `a`, where `idx` indexes a broadcast result of rank >= a's
/// rank (right-aligned; an extent-1 dim of `a` is read at index 0).
struct Broadcast {
  std::vector<std::int64_t> byte_strides; // one per result dim; 0 where broadcast
  Broadcast(const Array &a, const std::vector<std::int64_t> &out, const Node &n, int which) {
    const int r = a.rank(), R = static_cast<int>(out.size());
    if (r > R)
      internal(fmt::format("{}: operand {} has rank {}, more than the result's {}", op_name(n.op),
                           which, r, R));
    byte_strides.assign(static_cast<std::size_t>(R), 0);
    for (int j = 0; j < r; ++j) {
      const std::size_t oj = static_cast<std::size_t>(j + R - r), aj = static_cast<std::size_t>(j);
      if (a.shape()[aj] == out[oj]) {
        byte_strides[oj] = a.strides()[aj] * dtype_size(a.dtype());
      } else if (a.shape()[aj] != 1) {
        internal(fmt::format("{}: operand {} of shape {} does not broadcast to {}", op_name(n.op),
                             which, shape_str(a.shape()), shape_str(out)));
      }
    }
  }
};

/// Calls f(k, idx) for every element of `shape` in C order (k: flat index, idx: multi-index).
template <class F> void for_each_index(const std::vector<std::int64_t> &shape, F &&f) {
  std::int64_t n = 1;
  for (std::int64_t d : shape)
    n *= d;
  std::vector<std::int64_t> idx(shape.size(), 0);
  for (std::int64_t k = 0; k < n; ++k) {
    f(k, idx);
    for (std::size_t i = idx.size(); i-- > 0;) {
      if (++idx[i] < shape[i]) break;
      idx[i] = 0;
    }
  }
}

std::int64_t offset(const std::vector<std::int64_t> &idx, const std::vector<std::int64_t> &bstr) {
  std::int64_t o = 0;
  for (std::size_t i = 0; i < idx.size(); ++i)
    o += idx[i] * bstr[i];
  return o;
}

const Array &operand(Ctx &c, const Node &n, std::size_t i) { return c.vals[n.operands.at(i)]; }

// ---- leaves ----

/// Fills every element of a fresh array of type t with v (Params and Consts are rank 0, but a
/// pass that gives one a shape still gets a well-defined value).
template <class S> Array filled(Ctx &c, const Type &t, S v) {
  Array a = Array::empty(t.dtype, concrete_shape(t, c.syms));
  const std::int64_t esize = dtype_size(t.dtype);
  for (std::int64_t k = 0; k < a.size(); ++k)
    store(bytes(a) + k * esize, t.dtype, v);
  return a;
}

template <class F, int Arity, TypeRule Rule> void eval_Leaf(Ctx &c, ValueId id) {
  const Node &n = c.g.node(id);
  if constexpr (std::same_as<F, scalar::Input>) {
    c.vals[static_cast<std::size_t>(id)] = c.inputs.at(n.name); // checked by bind_shapes
  } else if constexpr (std::same_as<F, scalar::Param>) {
    auto it = c.params.find(n.name);
    if (it == c.params.end())
      throw Error(ErrorKind::Runtime, fmt::format("missing param '{}' (expected {})", n.name,
                                                  dtype_name(n.type.dtype)));
    const Scalar &s = it->second;
    Array a;
    switch (s.kind()) {
    case Scalar::Kind::Bool:
      a = filled(c, n.type, s.as_bool());
      break;
    case Scalar::Kind::Int:
      a = filled(c, n.type, s.as_int());
      break;
    case Scalar::Kind::UInt:
      a = filled(c, n.type, s.as_uint());
      break;
    case Scalar::Kind::Float:
      a = filled(c, n.type, s.as_double());
      break;
    }
    c.vals[static_cast<std::size_t>(id)] = a;
  } else {
    const ConstValue &v = n.value;
    Array a;
    if (is_bool(v.dtype))
      a = filled(c, n.type, v.b);
    else if (is_signed_int(v.dtype))
      a = filled(c, n.type, v.i);
    else if (is_unsigned_int(v.dtype))
      a = filled(c, n.type, v.u);
    else
      a = filled(c, n.type, v.f);
    c.vals[static_cast<std::size_t>(id)] = a;
  }
}

// ---- elementwise ----

/// The type operand I is converted to before the scalar function sees it.
template <class F, std::size_t I, class T> struct ArgType { using type = T; };
template <class T> struct ArgType<scalar::Where, 0, T> { using type = bool; };

template <class F, class T, std::size_t... I>
concept Accepts = requires {
  F::apply(std::declval<typename ArgType<F, I, T>::type>()...);
};

template <class F, class T, std::size_t... I>
void elementwise_loop(Ctx &c, const Node &n, Array &out, std::index_sequence<I...>) {
  constexpr std::size_t N = sizeof...(I);
  const std::vector<std::int64_t> &shape = out.shape();
  std::array<const Array *, N> arr{&operand(c, n, I)...};
  std::array<Broadcast, N> bc{Broadcast(*arr[I], shape, n, static_cast<int>(I))...};
  const DType od = out.dtype();
  const std::int64_t osize = dtype_size(od);
  for_each_index(shape, [&](std::int64_t k, const std::vector<std::int64_t> &idx) {
    auto r = F::apply(load<typename ArgType<F, I, T>::type>(
        bytes(*arr[I]) + offset(idx, bc[I].byte_strides), arr[I]->dtype())...);
    store(bytes(out) + k * osize, od, r);
  });
}

template <class F, int Arity, TypeRule Rule> void eval_Elementwise(Ctx &c, ValueId id) {
  const Node &n = c.g.node(id);
  if (n.operands.size() != static_cast<std::size_t>(Arity))
    internal(
        fmt::format("{} has {} operands, expected {}", op_name(n.op), n.operands.size(), Arity));
  DType compute = n.type.dtype;
  if constexpr (Rule == TypeRule::Compare)
    compute = ir::promote(operand(c, n, 0).dtype(), operand(c, n, 1).dtype());
  else if constexpr (Rule == TypeRule::Pred)
    compute = operand(c, n, 0).dtype();
  Array out = Array::empty(n.type.dtype, concrete_shape(n.type, c.syms));
  using Seq = std::make_index_sequence<static_cast<std::size_t>(Arity)>;
  visit_ctype(compute, [&]<class T>() {
    if constexpr ([]<std::size_t... I>(std::index_sequence<I...>) {
                    return Accepts<F, T, I...>;
                  }(Seq{})) {
      elementwise_loop<F, T>(c, n, out, Seq{});
    } else {
      internal(fmt::format("{} is not defined for {} (node %{})", op_name(n.op),
                           dtype_name(compute), id));
    }
  });
  c.vals[static_cast<std::size_t>(id)] = out;
}

// ---- cast ----

template <class F, int Arity, TypeRule Rule> void eval_Cast(Ctx &c, ValueId id) {
  const Node &n = c.g.node(id);
  if (n.operands.size() != 1) internal("cast needs one operand");
  const Array &in = operand(c, n, 0);
  Array out = Array::empty(n.type.dtype, concrete_shape(n.type, c.syms));
  Broadcast bc(in, out.shape(), n, 0);
  const std::int64_t osize = dtype_size(n.type.dtype);
  visit_ctype(in.dtype(), [&]<class S>() {
    for_each_index(out.shape(), [&](std::int64_t k, const std::vector<std::int64_t> &idx) {
      F::apply(bytes(out) + k * osize, n.type.dtype,
               load<S>(bytes(in) + offset(idx, bc.byte_strides), in.dtype()));
    });
  });
  c.vals[static_cast<std::size_t>(id)] = out;
}

// ---- reductions ----

template <class F, int Arity, TypeRule Rule> void eval_Reduce(Ctx &c, ValueId id) {
  const Node &n = c.g.node(id);
  if (n.operands.size() != 1) internal(fmt::format("{} needs one operand", op_name(n.op)));
  const Array &in = operand(c, n, 0);
  const int r = in.rank();
  std::vector<bool> reduced(static_cast<std::size_t>(r), false);
  for (std::size_t i = 0; i < n.axes.size(); ++i) {
    const int ax = n.axes[i];
    if (ax < 0 || ax >= r || (i > 0 && n.axes[i - 1] >= ax))
      internal(fmt::format("{}: bad axes for a rank-{} operand (node %{})", op_name(n.op), r, id));
    reduced[static_cast<std::size_t>(ax)] = true;
  }
  std::vector<std::int64_t> kept_shape, red_shape, kept_bstr, red_bstr, expect;
  std::int64_t red_count = 1;
  for (int d = 0; d < r; ++d) {
    const std::size_t du = static_cast<std::size_t>(d);
    const std::int64_t bstr = in.strides()[du] * dtype_size(in.dtype());
    if (reduced[du]) {
      red_shape.push_back(in.shape()[du]);
      red_bstr.push_back(bstr);
      red_count *= in.shape()[du];
      if (n.keepdims) expect.push_back(1);
    } else {
      kept_shape.push_back(in.shape()[du]);
      kept_bstr.push_back(bstr);
      expect.push_back(in.shape()[du]);
    }
  }
  Array out = Array::empty(n.type.dtype, concrete_shape(n.type, c.syms));
  if (out.shape() != expect)
    internal(fmt::format("{}: result shape {} differs from the reduced shape {} (node %{})",
                         op_name(n.op), shape_str(out.shape()), shape_str(expect), id));
  // NumPy raises on an empty reduced extent even when the result is empty too.
  if (F::needs_elements && red_count == 0)
    throw Error(ErrorKind::Runtime,
                fmt::format("{} of an empty array has no identity", op_name(n.op)));
  const std::int64_t osize = dtype_size(n.type.dtype);
  visit_ctype(in.dtype(), [&]<class T>() {
    for_each_index(kept_shape, [&](std::int64_t k, const std::vector<std::int64_t> &kidx) {
      const std::byte *base = bytes(in) + offset(kidx, kept_bstr);
      typename F::template State<T> st;
      for_each_index(red_shape, [&](std::int64_t j, const std::vector<std::int64_t> &ridx) {
        st.step(load<T>(base + offset(ridx, red_bstr), in.dtype()), j);
      });
      store(bytes(out) + k * osize, n.type.dtype, st.result(red_count));
    });
  });
  c.vals[static_cast<std::size_t>(id)] = out;
}

void eval_node(Ctx &c, ValueId id) {
  switch (c.g.node(id).op) {
#define XPR_OP(Enum, Name, Kind, Arity, Rule)                                                      \
  case Op::Enum:                                                                                   \
    return eval_##Kind<scalar::Enum, Arity, TypeRule::Rule>(c, id);
#include "compiler/ir/Ops.def"
  }
  internal(fmt::format("node %{} has an unknown op", id));
}

} // namespace

std::vector<Array> interpret(const Graph &g, const std::map<std::string, Array> &inputs,
                             const std::map<std::string, Scalar> &params) {
  Ctx c{g, inputs, params, bind_shapes(g, inputs), {}};
  c.vals.resize(g.nodes.size());
  // Only nodes an output needs are evaluated: a dead `min` of an empty array is no error.
  std::vector<bool> live(g.nodes.size(), false);
  for (const Output &o : g.outputs) {
    if (o.value < 0 || static_cast<std::size_t>(o.value) >= g.nodes.size())
      internal(fmt::format("output '{}' refers to no node (%{})", o.name, o.value));
    live[static_cast<std::size_t>(o.value)] = true;
  }
  for (std::size_t i = g.nodes.size(); i-- > 0;) {
    if (!live[i]) continue;
    for (ValueId op : g.nodes[i].operands) {
      if (op < 0 || static_cast<std::size_t>(op) >= i)
        internal(fmt::format("node %{} uses %{}, which does not come before it", i, op));
      live[static_cast<std::size_t>(op)] = true;
    }
  }
  for (std::size_t i = 0; i < g.nodes.size(); ++i)
    if (live[i]) eval_node(c, static_cast<ValueId>(i));
  std::vector<Array> out;
  out.reserve(g.outputs.size());
  for (const Output &o : g.outputs)
    out.push_back(c.vals[static_cast<std::size_t>(o.value)].contiguous_copy());
  return out;
}

} // namespace xpr::ir

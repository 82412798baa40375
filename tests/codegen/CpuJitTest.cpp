// tests/codegen/CpuJitTest.cpp — the CPU JIT on hand-built kernels, checked against reference
// values computed here from docs/semantics.md (bit-exact for ints, bools and exact float ops).
#include "compiler/codegen/CpuJit.h"

#include <xpr/error.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <sstream>
#include <thread>

using namespace xpr;
using namespace xpr::ir;
using cg::KernelSpec;
using cg::Layout;

namespace {

cg::CpuJit &jit() {
  static cg::CpuJit j;
  return j;
}

const DType kAll[] = {DType::Bool, DType::I8,  DType::I16, DType::I32,  DType::I64,
                      DType::U8,   DType::U16, DType::U32, DType::U64,  DType::F16,
                      DType::BF16, DType::F32, DType::F64};

// ---- a tiny kernel builder ----
struct KB {
  Graph g;
  int rank = 1;
  Type ty(DType d, bool scalar = false) const {
    Type t;
    t.dtype = d;
    if (!scalar)
      for (int i = 0; i < rank; ++i) t.dims.push_back(Dim::symbol("d" + std::to_string(i)));
    return t;
  }
  ValueId in(DType d, bool scalar = false) {
    Node n;
    n.op = Op::Input;
    n.name = "in" + std::to_string(g.nodes.size());
    n.type = ty(d, scalar);
    return g.add(n);
  }
  ValueId param(DType d) {
    Node n;
    n.op = Op::Param;
    n.name = "p" + std::to_string(g.nodes.size());
    n.type = ty(d, true);
    return g.add(n);
  }
  ValueId cst_f(DType d, double v) {
    Node n;
    n.op = Op::Const;
    n.type = ty(d, true);
    n.value.dtype = d;
    n.value.f = v;
    return g.add(n);
  }
  ValueId cst_i(DType d, std::int64_t v) {
    Node n;
    n.op = Op::Const;
    n.type = ty(d, true);
    n.value.dtype = d;
    n.value.i = v;
    n.value.u = static_cast<std::uint64_t>(v);
    n.value.b = v != 0;
    return g.add(n);
  }
  ValueId op(Op o, DType d, std::vector<ValueId> args) {
    Node n;
    n.op = o;
    n.type = ty(d);
    n.operands = std::move(args);
    return g.add(n);
  }
  void out(ValueId v) { g.outputs.push_back({"y" + std::to_string(g.outputs.size()), v}); }
};

// ---- typed raw buffers ----
struct Buf {
  DType d;
  std::vector<std::uint64_t> store; // 8-byte aligned backing
  std::size_t n;
  Buf(DType dt, std::size_t count) : d(dt), store((count * 8 + 7) / 8 + 1), n(count) {}
  void *data() { return store.data(); }
  std::uint64_t get(std::size_t i) const {
    std::uint64_t v = 0;
    std::memcpy(&v, reinterpret_cast<const char *>(store.data()) + i * dtype_size(d),
                dtype_size(d));
    return v;
  }
  void set(std::size_t i, std::uint64_t v) {
    std::memcpy(reinterpret_cast<char *>(store.data()) + i * dtype_size(d), &v, dtype_size(d));
  }
};

// ---- exact reference values ----
int width(DType d) { return dtype_size(d) * 8; }
std::uint64_t mask_of(DType d) {
  return width(d) == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << width(d)) - 1;
}
std::int64_t as_signed(std::uint64_t bits, DType d) {
  int w = width(d);
  if (w == 64) return static_cast<std::int64_t>(bits);
  std::uint64_t m = mask_of(d);
  bits &= m;
  if (bits >> (w - 1)) bits |= ~m;
  return static_cast<std::int64_t>(bits);
}

float f16_to_f32(std::uint16_t h) {
  _Float16 x;
  std::memcpy(&x, &h, 2);
  return static_cast<float>(x);
}
float bf16_to_f32(std::uint16_t h) { return std::bit_cast<float>(std::uint32_t{h} << 16); }

/// The exact value of an element, as long double (holds every int64/uint64/f64 exactly).
long double value_of(std::uint64_t bits, DType d) {
  switch (d) {
  case DType::Bool: return bits & 1;
  case DType::F16: return f16_to_f32(static_cast<std::uint16_t>(bits));
  case DType::BF16: return bf16_to_f32(static_cast<std::uint16_t>(bits));
  case DType::F32: return std::bit_cast<float>(static_cast<std::uint32_t>(bits));
  case DType::F64: return std::bit_cast<double>(bits);
  default:
    if (is_signed_int(d)) return static_cast<long double>(as_signed(bits, d));
    return static_cast<long double>(bits & mask_of(d));
  }
}

/// Round-to-nearest-even of an exact value to a float format (p bits, min normal exponent).
long double round_fmt(long double x, int p, int emin, long double maxv) {
  if (std::isnan(x) || std::isinf(x) || x == 0) return x;
  int e;
  std::frexp(x, &e);
  int E = std::max(e - 1, emin);
  long double ulp = std::ldexp(1.0L, E - (p - 1));
  long double r = std::nearbyint(x / ulp) * ulp;
  if (std::fabs(r) > maxv) return std::copysign(std::numeric_limits<long double>::infinity(), x);
  return r;
}

/// Encodes an exactly representable value (after rounding) as the dtype's bits.
std::uint64_t encode_float(long double v, DType d) {
  if (d == DType::F64) return std::bit_cast<std::uint64_t>(static_cast<double>(v));
  float f = static_cast<float>(v);
  std::uint32_t fb = std::bit_cast<std::uint32_t>(f);
  if (d == DType::F32) return fb;
  if (d == DType::BF16) return std::isnan(f) ? 0x7FC0 : fb >> 16;
  _Float16 h = static_cast<_Float16>(f); // exact: v is an f16 value
  std::uint16_t hb;
  std::memcpy(&hb, &h, 2);
  return std::isnan(f) ? 0x7E00 : hb;
}

long double round_to(long double v, DType d) {
  switch (d) {
  case DType::F16: return round_fmt(v, 11, -14, 65504.0L);
  case DType::BF16: return round_fmt(v, 8, -126, std::ldexp(255.0L, 120));
  case DType::F32: return round_fmt(v, 24, -126, std::numeric_limits<float>::max());
  default: return round_fmt(v, 53, -1022, std::numeric_limits<double>::max());
  }
}

/// docs/semantics.md "Casts", computed independently of the JIT.
std::uint64_t ref_cast(std::uint64_t bits, DType from, DType to) {
  long double v = value_of(bits, from);
  if (is_bool(to)) return (v != 0 || std::isnan(v)) ? 1 : 0;
  if (is_float(to)) return encode_float(round_to(v, to), to);
  // → int
  if (is_float(from)) {
    int w = width(to);
    if (std::isnan(v)) return 0;
    long double lo = is_signed_int(to) ? -std::ldexp(1.0L, w - 1) : 0;
    long double hi = is_signed_int(to) ? std::ldexp(1.0L, w - 1) : std::ldexp(1.0L, w);
    if (v < lo) return is_signed_int(to) ? (std::uint64_t{1} << (w - 1)) & mask_of(to) : 0;
    if (v >= hi) return is_signed_int(to) ? mask_of(to) >> 1 : mask_of(to);
    long double t = std::trunc(v);
    std::uint64_t r = t < 0 ? static_cast<std::uint64_t>(static_cast<std::int64_t>(t))
                            : static_cast<std::uint64_t>(t);
    return r & mask_of(to);
  }
  // int/bool → int: wraps; sign- or zero-extends as the source
  std::uint64_t src = is_signed_int(from) ? static_cast<std::uint64_t>(as_signed(bits, from))
                                          : (bits & mask_of(from));
  return src & mask_of(to);
}

bool same_bits(std::uint64_t a, std::uint64_t b, DType d) {
  if (is_float(d)) {
    long double x = value_of(a, d), y = value_of(b, d);
    if (std::isnan(x) && std::isnan(y)) return true;
  }
  return (a & mask_of(d)) == (b & mask_of(d));
}

std::string show(std::uint64_t bits, DType d) {
  std::ostringstream os;
  os << std::string(dtype_name(d)) << "(" << static_cast<double>(value_of(bits, d)) << ", 0x"
     << std::hex << (bits & mask_of(d)) << ")";
  return os.str();
}

/// Interesting values per dtype, as bit patterns.
std::vector<std::uint64_t> samples(DType d) {
  std::vector<std::uint64_t> r;
  if (is_bool(d)) return {0, 1, 1, 0};
  if (is_int(d)) {
    int w = width(d);
    std::uint64_t m = mask_of(d);
    std::vector<std::int64_t> base = {0, 1, 2, 3, 7, -1, -2, -3, -7, 100, -100, 127, -128, 255,
                                      256, 1000, -1000, 32767, -32768, 65535, 65536, 2049, 4097};
    for (auto v : base) r.push_back(static_cast<std::uint64_t>(v) & m);
    std::uint64_t mx = is_signed_int(d) ? m >> 1 : m;
    r.push_back(mx);
    r.push_back(mx - 1);
    if (is_signed_int(d)) {
      r.push_back((std::uint64_t{1} << (w - 1)) & m); // min
      r.push_back(((std::uint64_t{1} << (w - 1)) + 1) & m);
    }
    if (w == 64) { // int → f16/bf16 double-rounding traps, and f64 inexact conversions
      r.push_back((std::uint64_t{1} << 62) + (std::uint64_t{1} << 54) + 1);
      r.push_back((std::uint64_t{1} << 53) + 1);
      r.push_back((std::uint64_t{1} << 60) + (std::uint64_t{1} << 36) + 1);
      r.push_back(static_cast<std::uint64_t>(-((std::int64_t{1} << 62) + (std::int64_t{1} << 54) + 1)));
    }
    if (w == 32) r.push_back((1u << 24) + (1u << 13) + 1); // i32 → f16 inf, → bf16 trap
    return r;
  }
  std::vector<long double> vals = {0.0L, -0.0L, 1.0L, -1.0L, 0.5L, -0.5L, 1.5L, 2.5L, -2.5L,
                                   0.1L, 3.75L, 100.0L, -100.7L, 127.5L, 128.0L, -129.0L,
                                   255.9L, 256.0L, 65504.0L, 65520.0L, 70000.0L, -1e9L, 3e9L,
                                   4294967296.0L, 1e19L, -1e19L, 2e19L, 9.3e18L, 1e-5L, 6e-8L,
                                   1e-40L, 3.4e38L, 1e300L,
                                   1.0L + std::ldexp(1.0L, -11) + std::ldexp(1.0L, -40),
                                   1.0L + std::ldexp(1.0L, -8) + std::ldexp(1.0L, -40)};
  for (long double v : vals) r.push_back(encode_float(round_to(v, d), d));
  r.push_back(encode_float(std::numeric_limits<long double>::infinity(), d));
  r.push_back(encode_float(-std::numeric_limits<long double>::infinity(), d));
  r.push_back(encode_float(std::numeric_limits<long double>::quiet_NaN(), d));
  return r;
}

/// Runs a 1-D all-contiguous kernel over n elements, split into uneven chunks.
void run1d(cg::KernelFn fn, std::vector<Buf *> ops, std::int64_t n, const void *params = nullptr,
           std::int64_t chunk = 0) {
  std::vector<void *> ptrs;
  std::vector<std::int64_t> strides;
  for (Buf *b : ops) {
    ptrs.push_back(b->data());
    strides.push_back(1);
  }
  std::int64_t shape[1] = {n};
  if (chunk <= 0) {
    fn(ptrs.data(), strides.data(), params, shape, 0, n);
    return;
  }
  for (std::int64_t b = 0; b < n; b += chunk)
    fn(ptrs.data(), strides.data(), params, shape, b, std::min(n, b + chunk));
}

KernelSpec spec1d(int nin, int nout = 1) {
  KernelSpec s;
  s.rank = 1;
  s.inputs.assign(nin, Layout::Contiguous);
  s.outputs.assign(nout, Layout::Contiguous);
  return s;
}

/// Evaluates a binary op over the cross product of the dtype's samples and checks every lane.
void check_binary(Op op, DType in, DType out,
                  const std::function<std::uint64_t(std::uint64_t, std::uint64_t)> &ref) {
  KB k;
  ValueId a = k.in(in), b = k.in(in);
  k.out(k.op(op, out, {a, b}));
  auto fn = jit().compile(k.g, spec1d(2));
  auto s = samples(in);
  std::size_t n = s.size() * s.size();
  Buf A(in, n), B(in, n), Y(out, n);
  for (std::size_t i = 0; i < s.size(); ++i)
    for (std::size_t j = 0; j < s.size(); ++j) {
      A.set(i * s.size() + j, s[i]);
      B.set(i * s.size() + j, s[j]);
    }
  run1d(fn, {&A, &B, &Y}, static_cast<std::int64_t>(n), nullptr, 37);
  int bad = 0;
  for (std::size_t i = 0; i < n && bad < 5; ++i) {
    std::uint64_t want = ref(A.get(i), B.get(i));
    if (!same_bits(Y.get(i), want, out)) {
      ++bad;
      ADD_FAILURE() << op_name(op) << "(" << show(A.get(i), in) << ", " << show(B.get(i), in)
                    << ") = " << show(Y.get(i), out) << ", want " << show(want, out);
    }
  }
}

// Wrapping integer reference arithmetic on bit patterns.
std::uint64_t wrap(DType d, std::uint64_t v) { return v & mask_of(d); }
std::int64_t sv(DType d, std::uint64_t v) { return as_signed(v, d); }
std::uint64_t uv(DType d, std::uint64_t v) { return v & mask_of(d); }

} // namespace

// ------------------------------------------------------------------------------------------------

TEST(CpuJit, TargetDescription) {
  EXPECT_EQ(jit().vector_bits(), 512) << "this host has AVX-512F";
  EXPECT_NE(jit().target_description().find("+avx512f"), std::string::npos);
  EXPECT_NE(jit().target_description().find("vector_bits=512"), std::string::npos);
}

TEST(CpuJit, ExpTimesSinF32MatchesLibm) {
  KB k;
  ValueId a = k.in(f32), b = k.in(f32);
  k.out(k.op(Op::Mul, f32, {k.op(Op::Exp, f32, {a}), k.op(Op::Sin, f32, {b})}));
  cg::CompileTimings t;
  auto fn = jit().compile(k.g, spec1d(2), &t);
  EXPECT_GT(t.codegen_ms, 0.0);
  const int n = 1000;
  Buf A(f32, n), B(f32, n), Y(f32, n);
  for (int i = 0; i < n; ++i) {
    A.set(i, std::bit_cast<std::uint32_t>(-5.0f + i * 0.01f));
    B.set(i, std::bit_cast<std::uint32_t>(-3.0f + i * 0.007f));
  }
  run1d(fn, {&A, &B, &Y}, n);
  for (int i = 0; i < n; ++i) {
    double a_ = value_of(A.get(i), f32), b_ = value_of(B.get(i), f32);
    double want = static_cast<float>(std::exp(a_)) * static_cast<double>(static_cast<float>(std::sin(b_)));
    double got = value_of(Y.get(i), f32);
    ASSERT_NEAR(got, want, std::fabs(want) * 4e-7 + 1e-30) << i;
  }
}

TEST(CpuJit, AddMulEveryDType) {
  for (DType d : kAll) {
    if (is_bool(d)) continue; // arithmetic on two bools is a type error
    SCOPED_TRACE(std::string(dtype_name(d)));
    for (Op op : {Op::Add, Op::Sub, Op::Mul}) {
      check_binary(op, d, d, [&](std::uint64_t a, std::uint64_t b) -> std::uint64_t {
        if (is_int(d)) {
          std::uint64_t x = uv(d, a), y = uv(d, b);
          return wrap(d, op == Op::Add ? x + y : op == Op::Sub ? x - y : x * y);
        }
        // floats: exact op in long double then one rounding (exact for f32/f16/bf16 operands;
        // for f64, double arithmetic itself)
        if (d == DType::F64) {
          double x = value_of(a, d), y = value_of(b, d);
          double r = op == Op::Add ? x + y : op == Op::Sub ? x - y : x * y;
          return std::bit_cast<std::uint64_t>(r);
        }
        // halves compute in f32 then round once to the half type
        float x = value_of(a, d), y = value_of(b, d);
        float r = op == Op::Add ? x + y : op == Op::Sub ? x - y : x * y;
        return encode_float(round_to(r, d), d);
      });
    }
  }
}

TEST(CpuJit, CastEveryPair) {
  for (DType from : kAll)
    for (DType to : kAll) {
      SCOPED_TRACE(std::string(dtype_name(from)) + " -> " + std::string(dtype_name(to)));
      KB k;
      k.out(k.op(Op::Cast, to, {k.in(from)}));
      auto fn = jit().compile(k.g, spec1d(1));
      auto s = samples(from);
      Buf A(from, s.size()), Y(to, s.size());
      for (std::size_t i = 0; i < s.size(); ++i) A.set(i, s[i]);
      run1d(fn, {&A, &Y}, static_cast<std::int64_t>(s.size()));
      for (std::size_t i = 0; i < s.size(); ++i) {
        std::uint64_t want = ref_cast(s[i], from, to);
        EXPECT_TRUE(same_bits(Y.get(i), want, to))
            << show(s[i], from) << " -> " << show(Y.get(i), to) << ", want " << show(want, to);
      }
    }
}

TEST(CpuJit, CastOneRoundingToHalf) {
  // f64 1 + 2^-11 + 2^-40 → f16: via f32 it would tie to 1.0; one rounding gives 1 + 2^-10.
  EXPECT_EQ(ref_cast(std::bit_cast<std::uint64_t>(1.0 + std::ldexp(1.0, -11) + std::ldexp(1.0, -40)),
                     f64, f16),
            0x3C01u);
  // i64 2^62 + 2^54 + 1 → bf16 rounds up to 2^62 + 2^55 (via f64 it would tie down to 2^62).
  std::uint64_t want = ref_cast((std::uint64_t{1} << 62) + (std::uint64_t{1} << 54) + 1, i64, bf16);
  EXPECT_EQ(bf16_to_f32(static_cast<std::uint16_t>(want)),
            std::ldexp(1.0f, 62) + std::ldexp(1.0f, 55));
  // And the JIT agrees (CastEveryPair covers these samples too; this names them).
  KB k;
  k.out(k.op(Op::Cast, f16, {k.in(f64)}));
  auto fn = jit().compile(k.g, spec1d(1));
  Buf A(f64, 1), Y(f16, 1);
  A.set(0, std::bit_cast<std::uint64_t>(1.0 + std::ldexp(1.0, -11) + std::ldexp(1.0, -40)));
  run1d(fn, {&A, &Y}, 1);
  EXPECT_EQ(Y.get(0), 0x3C01u);
}


TEST(CpuJit, IntToHalfOverflowsWhenLlvmKnowsTheBits) {
  // f32(f16(x << k)): LLVM 19 folds fpext(fptrunc(itofp)) when the shifted value's known bits
  // fit half's significand, and forgot that 2^16 and up overflow half. The differential run
  // found it as `f16(b << 61)` coming out 1.4e19 instead of inf.
  for (DType d : {i32, u32, i64, u64}) {
    SCOPED_TRACE(std::string(dtype_name(d)));
    for (int k : {4, 15, 16, 20, width(d) - 3}) {
      KB k_;
      ValueId x = k_.in(d);
      ValueId sh = k_.op(Op::Shl, d, {x, k_.cst_i(d, k)});
      ValueId h = k_.op(Op::Cast, f16, {sh});
      k_.out(k_.op(Op::Cast, f32, {h}));
      auto fn = jit().compile(k_.g, spec1d(1));
      Buf A(d, 4), Y(f32, 4);
      std::uint64_t xs[4] = {1, 3, 6, is_signed_int(d) ? mask_of(d) /* -1 */ : 5};
      for (int i = 0; i < 4; ++i) A.set(i, xs[i]);
      run1d(fn, {&A, &Y}, 4);
      for (int i = 0; i < 4; ++i) {
        std::uint64_t shifted = wrap(d, xs[i] << k);
        std::uint64_t want =
            ref_cast(ref_cast(shifted, d, f16), f16, f32); // the interpreter's two casts
        EXPECT_EQ(Y.get(i), want) << show(xs[i], d) << " << " << k << " → f16 → f32: got "
                                  << show(Y.get(i), f32) << ", want " << show(want, f32);
      }
    }
  }
}
TEST(CpuJit, IntegerDivisionEdgeCases) {
  for (DType d : {i8, i16, i32, i64, u8, u16, u32, u64}) {
    SCOPED_TRACE(std::string(dtype_name(d)));
    bool s = is_signed_int(d);
    auto floordiv = [&](std::uint64_t a, std::uint64_t b) -> std::uint64_t {
      if (!s) return uv(d, b) == 0 ? 0 : uv(d, a) / uv(d, b);
      std::int64_t x = sv(d, a), y = sv(d, b);
      if (y == 0) return 0;
      __int128 q = static_cast<__int128>(x) / y; // no overflow in 128 bits
      if ((static_cast<__int128>(x) % y != 0) && ((x < 0) != (y < 0))) --q;
      return wrap(d, static_cast<std::uint64_t>(static_cast<std::int64_t>(q)));
    };
    auto mod = [&](std::uint64_t a, std::uint64_t b) -> std::uint64_t {
      if (!s) return uv(d, b) == 0 ? 0 : uv(d, a) % uv(d, b);
      std::int64_t x = sv(d, a), y = sv(d, b);
      if (y == 0) return 0;
      __int128 r = static_cast<__int128>(x) % y;
      if (r != 0 && ((r < 0) != (y < 0))) r += y;
      return wrap(d, static_cast<std::uint64_t>(static_cast<std::int64_t>(r)));
    };
    auto fmod_ = [&](std::uint64_t a, std::uint64_t b) -> std::uint64_t {
      if (!s) return uv(d, b) == 0 ? 0 : uv(d, a) % uv(d, b);
      std::int64_t x = sv(d, a), y = sv(d, b);
      if (y == 0) return 0;
      return wrap(d, static_cast<std::uint64_t>(static_cast<std::int64_t>(
                         static_cast<__int128>(x) % y)));
    };
    check_binary(Op::FloorDiv, d, d, floordiv);
    check_binary(Op::Mod, d, d, mod);
    check_binary(Op::Fmod, d, d, fmod_);
  }
  // The named cases of docs/semantics.md.
  EXPECT_EQ(as_signed(0x80, i8), -128);
}

TEST(CpuJit, FloatFloorDivAndModFollowNumPy) {
  for (DType d : {f32, f64}) {
    auto ref = [&](Op op) {
      return [&, op](std::uint64_t ab, std::uint64_t bb) -> std::uint64_t {
        auto run = [&](auto a, auto b) -> std::uint64_t {
          using T = decltype(a);
          T mod = std::fmod(a, b);
          T div;
          if (b == 0) {
            div = a / b;
          } else {
            div = (a - mod) / b;
            if (mod != 0) {
              if ((b < 0) != (mod < 0)) {
                mod += b;
                div -= T(1);
              }
            } else {
              mod = std::copysign(T(0), b);
            }
            if (div != 0) {
              T fl = std::floor(div);
              if (div - fl > T(0.5)) fl += T(1);
              div = fl;
            } else {
              div = std::copysign(T(0), a / b);
            }
          }
          T r = op == Op::FloorDiv ? div : mod;
          if constexpr (sizeof(T) == 4) return std::bit_cast<std::uint32_t>(r);
          else return std::bit_cast<std::uint64_t>(r);
        };
        if (d == f32)
          return run(static_cast<float>(value_of(ab, d)), static_cast<float>(value_of(bb, d)));
        return run(static_cast<double>(value_of(ab, d)), static_cast<double>(value_of(bb, d)));
      };
    };
    check_binary(Op::FloorDiv, d, d, ref(Op::FloorDiv));
    check_binary(Op::Mod, d, d, ref(Op::Mod));
    check_binary(Op::Fmod, d, d, [&](std::uint64_t a, std::uint64_t b) -> std::uint64_t {
      if (d == f32)
        return std::bit_cast<std::uint32_t>(std::fmod(static_cast<float>(value_of(a, d)),
                                                      static_cast<float>(value_of(b, d))));
      return std::bit_cast<std::uint64_t>(
          std::fmod(static_cast<double>(value_of(a, d)), static_cast<double>(value_of(b, d))));
    });
  }
  // 1.0 // 0.1 == 9.0, as in NumPy
  KB k;
  k.out(k.op(Op::FloorDiv, f64, {k.in(f64), k.in(f64)}));
  auto fn = jit().compile(k.g, spec1d(2));
  Buf A(f64, 1), B(f64, 1), Y(f64, 1);
  A.set(0, std::bit_cast<std::uint64_t>(1.0));
  B.set(0, std::bit_cast<std::uint64_t>(0.1));
  run1d(fn, {&A, &B, &Y}, 1);
  EXPECT_EQ(std::bit_cast<double>(Y.get(0)), 9.0);
}

TEST(CpuJit, Shifts) {
  for (DType d : {i8, i16, i32, i64, u8, u16, u32, u64}) {
    SCOPED_TRACE(std::string(dtype_name(d)));
    int w = width(d);
    auto oob = [&](std::uint64_t c) {
      return is_signed_int(d) ? (sv(d, c) < 0 || sv(d, c) >= w) : uv(d, c) >= std::uint64_t(w);
    };
    check_binary(Op::Shl, d, d, [&](std::uint64_t a, std::uint64_t c) -> std::uint64_t {
      if (oob(c)) return 0;
      return wrap(d, uv(d, a) << uv(d, c));
    });
    check_binary(Op::Shr, d, d, [&](std::uint64_t a, std::uint64_t c) -> std::uint64_t {
      if (is_signed_int(d)) {
        std::int64_t x = sv(d, a);
        if (oob(c)) return x < 0 ? mask_of(d) : 0;
        return wrap(d, static_cast<std::uint64_t>(x >> uv(d, c)));
      }
      if (oob(c)) return 0;
      return uv(d, a) >> uv(d, c);
    });
  }
}

TEST(CpuJit, IntegerPow) {
  for (DType d : {i8, i32, i64, u8, u64}) {
    SCOPED_TRACE(std::string(dtype_name(d)));
    check_binary(Op::Pow, d, d, [&](std::uint64_t a, std::uint64_t b) -> std::uint64_t {
      if (is_signed_int(d) && sv(d, b) < 0) {
        std::int64_t x = sv(d, a);
        if (x == 1) return 1;
        if (x == -1) return (uv(d, b) & 1) ? mask_of(d) : 1;
        return 0;
      }
      std::uint64_t r = 1, base = uv(d, a), e = uv(d, b);
      while (e) {
        if (e & 1) r *= base;
        base *= base;
        e >>= 1;
      }
      return wrap(d, r);
    });
  }
}

TEST(CpuJit, MinMaxAreIeeeAndIntsAreSigned) {
  for (DType d : {f32, f64, f16}) {
    for (Op op : {Op::Minimum, Op::Maximum})
      check_binary(op, d, d, [&](std::uint64_t ab, std::uint64_t bb) -> std::uint64_t {
        long double a = value_of(ab, d), b = value_of(bb, d);
        if (std::isnan(a) || std::isnan(b)) return encode_float(NAN, d);
        long double r = op == Op::Minimum ? std::min(a, b) : std::max(a, b);
        if (a == 0 && b == 0) { // -0 < +0
          bool neg = op == Op::Minimum ? (std::signbit(a) || std::signbit(b))
                                       : (std::signbit(a) && std::signbit(b));
          r = neg ? -0.0L : 0.0L;
        }
        return encode_float(r, d);
      });
  }
  for (DType d : {i8, u8, i64, u64})
    check_binary(Op::Minimum, d, d, [&](std::uint64_t a, std::uint64_t b) -> std::uint64_t {
      if (is_signed_int(d)) return wrap(d, static_cast<std::uint64_t>(std::min(sv(d, a), sv(d, b))));
      return std::min(uv(d, a), uv(d, b));
    });
}

TEST(CpuJit, ComparisonsAcrossDTypes) {
  // i64 vs u64 compares in f64 (NumPy promotion); i32 vs u32 in i64.
  for (auto [da, db] : {std::pair{i64, u64}, std::pair{i32, u32}, std::pair{f32, i64},
                        std::pair{u8, i8}, std::pair{f64, f64}}) {
    for (Op op : {Op::Lt, Op::Eq, Op::Ne, Op::Ge}) {
      KB k;
      ValueId a = k.in(da), b = k.in(db);
      k.out(k.op(op, DType::Bool, {a, b}));
      auto fn = jit().compile(k.g, spec1d(2));
      auto sa = samples(da), sb = samples(db);
      std::size_t n = sa.size() * sb.size();
      Buf A(da, n), B(db, n), Y(DType::Bool, n);
      for (std::size_t i = 0; i < sa.size(); ++i)
        for (std::size_t j = 0; j < sb.size(); ++j) {
          A.set(i * sb.size() + j, sa[i]);
          B.set(i * sb.size() + j, sb[j]);
        }
      run1d(fn, {&A, &B, &Y}, static_cast<std::int64_t>(n));
      // Reference: both operands cast to the promoted dtype, then compared exactly.
      DType p = (da == i64 && db == u64) ? f64 : (da == i32 && db == u32) ? i64
              : (da == f32 && db == i64) ? f64 : (da == u8 && db == i8) ? i16 : f64;
      for (std::size_t i = 0; i < n; ++i) {
        long double x = value_of(ref_cast(A.get(i), da, p), p);
        long double y = value_of(ref_cast(B.get(i), db, p), p);
        bool want = op == Op::Lt ? x < y : op == Op::Eq ? x == y : op == Op::Ne ? x != y : x >= y;
        ASSERT_EQ(Y.get(i) & 0xFF, want ? 1u : 0u)
            << op_name(op) << " " << show(A.get(i), da) << " " << show(B.get(i), db);
      }
    }
  }
}

TEST(CpuJit, UnaryExactOps) {
  for (DType d : {f32, f64}) {
    SCOPED_TRACE(std::string(dtype_name(d)));
    auto s = samples(d);
    for (Op op : {Op::Neg, Op::Abs, Op::Sign, Op::Floor, Op::Ceil, Op::Round, Op::Trunc,
                  Op::Sqrt, Op::IsNan, Op::IsInf, Op::IsFinite, Op::SignBit}) {
      bool pred = op == Op::IsNan || op == Op::IsInf || op == Op::IsFinite || op == Op::SignBit;
      DType od = pred ? DType::Bool : d;
      KB k;
      k.out(k.op(op, od, {k.in(d)}));
      auto fn = jit().compile(k.g, spec1d(1));
      Buf A(d, s.size()), Y(od, s.size());
      for (std::size_t i = 0; i < s.size(); ++i) A.set(i, s[i]);
      run1d(fn, {&A, &Y}, static_cast<std::int64_t>(s.size()));
      for (std::size_t i = 0; i < s.size(); ++i) {
        double x = static_cast<double>(value_of(s[i], d));
        double r = 0;
        switch (op) {
        case Op::Neg: r = -x; break;
        case Op::Abs: r = std::fabs(x); break;
        case Op::Sign: r = x > 0 ? 1.0 : x < 0 ? -1.0 : x; break;
        case Op::Floor: r = std::floor(x); break;
        case Op::Ceil: r = std::ceil(x); break;
        case Op::Round: r = std::nearbyint(x); break;
        case Op::Trunc: r = std::trunc(x); break;
        case Op::Sqrt: r = d == f32 ? std::sqrt(static_cast<float>(x)) : std::sqrt(x); break;
        case Op::IsNan: r = std::isnan(x); break;
        case Op::IsInf: r = std::isinf(x); break;
        case Op::IsFinite: r = std::isfinite(x); break;
        default: r = std::signbit(x); break;
        }
        std::uint64_t want = pred ? static_cast<std::uint64_t>(r) : encode_float(r, d);
        if (!pred && std::signbit(r) && r == 0) // keep the sign of zero
          want = d == f32 ? 0x80000000u : 0x8000000000000000u;
        EXPECT_TRUE(same_bits(Y.get(i), want, od))
            << op_name(op) << "(" << show(s[i], d) << ") = " << show(Y.get(i), od);
      }
    }
  }
  // Integers: abs(min) wraps, sign, signbit, round is the identity.
  KB k;
  ValueId a = k.in(i8);
  k.out(k.op(Op::Abs, i8, {a}));
  k.out(k.op(Op::Sign, i8, {a}));
  k.out(k.op(Op::SignBit, DType::Bool, {a}));
  k.out(k.op(Op::Round, i8, {a}));
  k.out(k.op(Op::Not, i8, {a}));
  auto fn = jit().compile(k.g, spec1d(1, 5));
  Buf A(i8, 4), Y0(i8, 4), Y1(i8, 4), Y2(DType::Bool, 4), Y3(i8, 4), Y4(i8, 4);
  std::int8_t v[4] = {-128, -5, 0, 7};
  for (int i = 0; i < 4; ++i) A.set(i, static_cast<std::uint8_t>(v[i]));
  run1d(fn, {&A, &Y0, &Y1, &Y2, &Y3, &Y4}, 4);
  std::int8_t abs_w[4] = {-128, 5, 0, 7}, sign_w[4] = {-1, -1, 0, 1};
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(static_cast<std::int8_t>(Y0.get(i)), abs_w[i]);
    EXPECT_EQ(static_cast<std::int8_t>(Y1.get(i)), sign_w[i]);
    EXPECT_EQ(Y2.get(i), v[i] < 0 ? 1u : 0u);
    EXPECT_EQ(static_cast<std::int8_t>(Y3.get(i)), v[i]);
    EXPECT_EQ(static_cast<std::int8_t>(Y4.get(i)), static_cast<std::int8_t>(~v[i]));
  }
}

TEST(CpuJit, NoFmaContraction) {
  // a*b + c with a = b = 1 + 2^-30, c = -(1 + 2^-29): one rounding (fma) gives 2^-60, two give 0.
  KB k;
  ValueId a = k.in(f64), b = k.in(f64), c = k.in(f64);
  k.out(k.op(Op::Add, f64, {k.op(Op::Mul, f64, {a, b}), c}));
  k.out(k.op(Op::Fma, f64, {a, b, c}));
  auto fn = jit().compile(k.g, spec1d(3, 2));
  const int n = 19;
  Buf A(f64, n), B(f64, n), C(f64, n), Y(f64, n), F(f64, n);
  double x = 1.0 + std::ldexp(1.0, -30), z = -(1.0 + std::ldexp(1.0, -29));
  for (int i = 0; i < n; ++i) {
    A.set(i, std::bit_cast<std::uint64_t>(x));
    B.set(i, std::bit_cast<std::uint64_t>(x));
    C.set(i, std::bit_cast<std::uint64_t>(z));
  }
  run1d(fn, {&A, &B, &C, &Y, &F}, n);
  volatile double p = x * x; // two roundings
  for (int i = 0; i < n; ++i) {
    EXPECT_EQ(std::bit_cast<double>(Y.get(i)), p + z);
    EXPECT_EQ(std::bit_cast<double>(Y.get(i)), 0.0);
    EXPECT_EQ(std::bit_cast<double>(F.get(i)), std::ldexp(1.0, -60));
  }
}

TEST(CpuJit, TailLengthsAndUnalignedChunks) {
  KB k;
  ValueId a = k.in(f32), b = k.in(i64);
  // f32 and i64 in one kernel: VL = 8; also a plain f32 kernel below (VL = 16).
  k.out(k.op(Op::Add, f64, {k.op(Op::Cast, f64, {a}), k.op(Op::Cast, f64, {b})}));
  auto fn = jit().compile(k.g, spec1d(2));
  KB k2;
  k2.out(k2.op(Op::Mul, f32, {k2.in(f32), k2.cst_f(f32, 3.0)}));
  auto fn2 = jit().compile(k2.g, spec1d(1));
  for (int n = 0; n <= 2 * 16 + 1; ++n) {
    for (int begin : {0, 1, 3}) {
      if (begin > n) continue;
      Buf A(f32, n + 1), B(i64, n + 1), Y(f64, n + 1), Y2(f32, n + 1);
      for (int i = 0; i <= n; ++i) {
        A.set(i, std::bit_cast<std::uint32_t>(i * 0.5f));
        B.set(i, static_cast<std::uint64_t>(i * 1000));
        Y.set(i, std::bit_cast<std::uint64_t>(-7.0));
        Y2.set(i, std::bit_cast<std::uint32_t>(-7.0f));
      }
      void *ptrs[3] = {A.data(), B.data(), Y.data()};
      void *ptrs2[2] = {A.data(), Y2.data()};
      std::int64_t st[3] = {1, 1, 1}, shape[1] = {n};
      fn(ptrs, st, nullptr, shape, begin, n);
      fn2(ptrs2, st, nullptr, shape, begin, n);
      for (int i = 0; i <= n; ++i) {
        bool in = i >= begin && i < n;
        EXPECT_EQ(std::bit_cast<double>(Y.get(i)), in ? i * 0.5 + i * 1000.0 : -7.0)
            << "n=" << n << " begin=" << begin << " i=" << i;
        EXPECT_EQ(std::bit_cast<float>(static_cast<std::uint32_t>(Y2.get(i))),
                  in ? i * 0.5f * 3.0f : -7.0f);
      }
    }
  }
}

TEST(CpuJit, StridedNegativeAndBroadcastOperands) {
  // y[i, j] = a[i, j] (transposed view, strides {1, R}) - b[j] (stride {0, -1}, reversed)
  //           + c (Scalar) * p (param), with y a strided (column-major) output.
  const std::int64_t R = 5, C = 37;
  KB k;
  k.rank = 2;
  ValueId a = k.in(f32), b = k.in(i32), c = k.in(f32, true);
  ValueId p = k.param(f32);
  ValueId t = k.op(Op::Sub, f32, {a, k.op(Op::Cast, f32, {b})});
  k.out(k.op(Op::Add, f32, {t, k.op(Op::Mul, f32, {c, p})}));
  KernelSpec spec;
  spec.rank = 2;
  spec.inputs = {Layout::Strided, Layout::Strided, Layout::Scalar};
  spec.outputs = {Layout::Strided};
  auto fn = jit().compile(k.g, spec);
  std::vector<float> A(R * C);   // stored column-major: A[j * R + i]
  std::vector<std::int32_t> B(C);
  for (std::int64_t i = 0; i < R; ++i)
    for (std::int64_t j = 0; j < C; ++j) A[j * R + i] = static_cast<float>(i * 100 + j);
  for (std::int64_t j = 0; j < C; ++j) B[j] = static_cast<std::int32_t>(j * 7);
  float cval = 2.0f;
  std::uint64_t params[1] = {0};
  float pval = 0.25f;
  std::memcpy(params, &pval, 4);
  for (std::int64_t chunk : {R * C, std::int64_t{1}, std::int64_t{7}, std::int64_t{40}}) {
    std::vector<float> Y(R * C, -1.0f); // column-major output
    void *ptrs[4] = {A.data(), B.data() + (C - 1), &cval, Y.data()};
    std::int64_t strides[8] = {1, R, 0, -1, 0, 0, 1, R};
    std::int64_t shape[2] = {R, C};
    for (std::int64_t b0 = 0; b0 < R * C; b0 += chunk)
      fn(ptrs, strides, params, shape, b0, std::min(R * C, b0 + chunk));
    for (std::int64_t i = 0; i < R; ++i)
      for (std::int64_t j = 0; j < C; ++j)
        ASSERT_EQ(Y[j * R + i], (i * 100 + j) - static_cast<float>((C - 1 - j) * 7) + 0.5f)
            << "chunk " << chunk << " at " << i << "," << j;
  }
}

TEST(CpuJit, StridedRank3ContiguousMix) {
  // Output contiguous, one input strided with a broadcast middle dim.
  const std::int64_t D0 = 3, D1 = 4, D2 = 21, N = D0 * D1 * D2;
  KB k;
  k.rank = 3;
  ValueId a = k.in(i16), b = k.in(i16);
  k.out(k.op(Op::Mul, i16, {a, b}));
  KernelSpec spec;
  spec.rank = 3;
  spec.inputs = {Layout::Strided, Layout::Contiguous};
  spec.outputs = {Layout::Contiguous};
  auto fn = jit().compile(k.g, spec);
  std::vector<std::int16_t> A(D0 * D2), B(N), Y(N);
  for (std::int64_t i = 0; i < D0 * D2; ++i) A[i] = static_cast<std::int16_t>(i - 30);
  for (std::int64_t i = 0; i < N; ++i) B[i] = static_cast<std::int16_t>(i * 3 + 1);
  std::int64_t strides[9] = {D2, 0, 1, 1, 1, 1, 1, 1, 1};
  std::int64_t shape[3] = {D0, D1, D2};
  void *ptrs[3] = {A.data(), B.data(), Y.data()};
  for (std::int64_t b0 = 0; b0 < N; b0 += 13)
    fn(ptrs, strides, nullptr, shape, b0, std::min(N, b0 + 13));
  for (std::int64_t i = 0; i < D0; ++i)
    for (std::int64_t j = 0; j < D1; ++j)
      for (std::int64_t l = 0; l < D2; ++l) {
        std::int64_t lin = (i * D1 + j) * D2 + l;
        ASSERT_EQ(Y[lin], static_cast<std::int16_t>(A[i * D2 + l] * B[lin])) << lin;
      }
}

TEST(CpuJit, HalfLoadStoreAndParams) {
  // y_f16 = f16(f32(a_f16) * 3 + p_bf16) ; z_bf16 = bf16(a)
  KB k;
  ValueId a = k.in(f16);
  ValueId p = k.param(bf16);
  ValueId t = k.op(Op::Add, f32, {k.op(Op::Mul, f32, {k.op(Op::Cast, f32, {a}), k.cst_f(f32, 3.0)}),
                                  k.op(Op::Cast, f32, {p})});
  k.out(k.op(Op::Cast, f16, {t}));
  k.out(k.op(Op::Cast, bf16, {a}));
  auto fn = jit().compile(k.g, spec1d(1, 2));
  const int n = 45;
  Buf A(f16, n), Y(f16, n), Z(bf16, n);
  for (int i = 0; i < n; ++i) A.set(i, encode_float(round_to(i * 0.37L - 4, f16), f16));
  std::uint64_t params[1] = {0x3F80}; // bf16 1.0
  run1d(fn, {&A, &Y, &Z}, n, params, 10);
  for (int i = 0; i < n; ++i) {
    float x = value_of(A.get(i), f16);
    EXPECT_EQ(Y.get(i), encode_float(round_to(x * 3.0f + 1.0f, f16), f16)) << i;
    EXPECT_EQ(Z.get(i), encode_float(round_to(x, bf16), bf16)) << i;
  }
}

TEST(CpuJit, WhereClipAndMixedOperands) {
  KB k;
  ValueId c = k.in(DType::Bool), a = k.in(i32), b = k.in(f64);
  k.out(k.op(Op::Where, f64, {c, a, b}));               // i32 promotes to f64
  k.out(k.op(Op::Clip, i32, {a, k.cst_i(i32, -5), k.cst_i(i32, 5)}));
  auto fn = jit().compile(k.g, spec1d(3, 2));
  const int n = 20;
  Buf C(DType::Bool, n), A(i32, n), B(f64, n), Y(f64, n), Z(i32, n);
  for (int i = 0; i < n; ++i) {
    C.set(i, i % 3 == 0);
    A.set(i, static_cast<std::uint32_t>(i - 10));
    B.set(i, std::bit_cast<std::uint64_t>(i * 0.5));
  }
  run1d(fn, {&C, &A, &B, &Y, &Z}, n);
  for (int i = 0; i < n; ++i) {
    EXPECT_EQ(std::bit_cast<double>(Y.get(i)), i % 3 == 0 ? double(i - 10) : i * 0.5);
    EXPECT_EQ(static_cast<std::int32_t>(Z.get(i)), std::clamp(i - 10, -5, 5));
  }
}

TEST(CpuJit, RankZeroKernel) {
  KB k;
  k.rank = 0;
  k.out(k.op(Op::Add, i64, {k.in(i64), k.cst_i(i64, 5)}));
  KernelSpec spec;
  spec.rank = 0;
  spec.inputs = {Layout::Strided};
  spec.outputs = {Layout::Strided};
  auto fn = jit().compile(k.g, spec);
  std::int64_t a = 37, y = 0;
  void *ptrs[2] = {&a, &y};
  fn(ptrs, nullptr, nullptr, nullptr, 0, 1);
  EXPECT_EQ(y, 42);
}

// ---- math ----

struct MathCase {
  Op op;
  int arity;
  double lo, hi;
  std::function<double(double, double)> ref;
};

std::vector<MathCase> math_cases() {
  auto u = [](double (*f)(double)) { return [f](double x, double) { return f(x); }; };
  auto bi = [](double (*f)(double, double)) { return [f](double x, double y) { return f(x, y); }; };
  return {
      {Op::Exp, 1, -20, 20, u(std::exp)},       {Op::Exp2, 1, -20, 20, u(std::exp2)},
      {Op::Expm1, 1, -2, 2, u(std::expm1)},     {Op::Log, 1, 1e-3, 1e3, u(std::log)},
      {Op::Log2, 1, 1e-3, 1e3, u(std::log2)},   {Op::Log10, 1, 1e-3, 1e3, u(std::log10)},
      {Op::Log1p, 1, -0.5, 10, u(std::log1p)},  {Op::Sin, 1, -10, 10, u(std::sin)},
      {Op::Cos, 1, -10, 10, u(std::cos)},       {Op::Tan, 1, -1.5, 1.5, u(std::tan)},
      {Op::Asin, 1, -1, 1, u(std::asin)},       {Op::Acos, 1, -1, 1, u(std::acos)},
      {Op::Atan, 1, -10, 10, u(std::atan)},     {Op::Sinh, 1, -5, 5, u(std::sinh)},
      {Op::Cosh, 1, -5, 5, u(std::cosh)},       {Op::Tanh, 1, -5, 5, u(std::tanh)},
      {Op::Asinh, 1, -10, 10, u(std::asinh)},   {Op::Acosh, 1, 1, 10, u(std::acosh)},
      {Op::Atanh, 1, -0.9, 0.9, u(std::atanh)}, {Op::Erf, 1, -3, 3, u(std::erf)},
      {Op::Erfc, 1, -3, 3, u(std::erfc)},       {Op::Cbrt, 1, -100, 100, u(std::cbrt)},
      {Op::Sqrt, 1, 0, 100, u(std::sqrt)},
      {Op::Rsqrt, 1, 0.01, 100, [](double x, double) { return 1 / std::sqrt(x); }},
      // In long double: rounding -x/√2 in double alone costs ~2t² ULP (13 at x = -5).
      {Op::Ncdf, 1, -5, 5,
       [](double x, double) {
         return static_cast<double>(std::erfc(-static_cast<long double>(x) / std::sqrt(2.0L)) / 2);
       }},
      {Op::Pow, 2, 0.1, 3, bi(std::pow)},       {Op::Atan2, 2, -3, 3, bi(std::atan2)},
      {Op::Hypot, 2, -3, 3, bi(std::hypot)},    {Op::Copysign, 2, -3, 3, bi(std::copysign)},
  };
}

double ulp_diff(double got, double want, DType d) {
  if (std::isnan(got) && std::isnan(want)) return 0;
  if (got == want) return 0;
  double ulp = d == f32 ? std::ldexp(1.0, std::ilogb(static_cast<float>(want)) - 23)
                        : std::ldexp(1.0, std::ilogb(want) - 52);
  return std::fabs(got - want) / ulp;
}

TEST(CpuJit, MathFunctionsWithinTolerance) {
  for (DType d : {f32, f64})
    for (cg::Precision prec : {cg::Precision::Accurate, cg::Precision::Fast})
      for (const MathCase &mc : math_cases()) {
        SCOPED_TRACE(std::string(op_name(mc.op)) + " " + std::string(dtype_name(d)));
        KB k;
        std::vector<ValueId> args;
        for (int i = 0; i < mc.arity; ++i) args.push_back(k.in(d));
        k.out(k.op(mc.op, d, args));
        KernelSpec spec = spec1d(mc.arity);
        spec.precision = prec;
        auto fn = jit().compile(k.g, spec);
        const int n = 203;
        Buf A(d, n), B(d, n), Y(d, n);
        for (int i = 0; i < n; ++i) {
          double x = mc.lo + (mc.hi - mc.lo) * i / (n - 1);
          double y = mc.hi - (mc.hi - mc.lo) * ((i * 37) % n) / (n - 1);
          A.set(i, encode_float(round_to(x, d), d));
          B.set(i, encode_float(round_to(y, d), d));
        }
        std::vector<Buf *> ops{&A};
        if (mc.arity == 2) ops.push_back(&B);
        ops.push_back(&Y);
        run1d(fn, ops, n);
        // SLEEF u10 functions are ≤ 1 ULP, erfc 1.5, u35 3.5; composed ones (ncdf) a few more.
        double tol = prec == cg::Precision::Fast ? 4.5 : 2.5;
        if (mc.op == Op::Ncdf || mc.op == Op::Erfc) tol = 8;
        for (int i = 0; i < n; ++i) {
          double x = value_of(A.get(i), d), y = value_of(B.get(i), d);
          double want = mc.ref(x, y);
          if (d == f32) want = static_cast<float>(want);
          double got = value_of(Y.get(i), d);
          if (std::fabs(want) < 1e-30 && std::fabs(got) < 1e-6) continue; // absolute near zeros
          ASSERT_LE(ulp_diff(got, want, d), tol) << "x=" << x << " y=" << y << " got " << got
                                                 << " want " << want;
        }
      }
}

// Φ(x) and Φ(-x) share one erfc (Emitter::ncdf_pair): Black-Scholes' four Φ cost two. The
// sharing shows in the code (f32: the SLEEF erfc calls; f64: the double-double erfc's four
// divisions), and it changes no bit: each output equals Φ of its own input in a kernel with
// one Φ, NaN payloads, ±0, ±inf and both far tails included.
TEST(CpuJit, NcdfOfBothSignsSharesOneErfc) {
  for (DType d : {f32, f64}) {
    SCOPED_TRACE(dtype_name(d));
    KB one;
    one.out(one.op(Op::Ncdf, d, {one.in(d)}));
    KB both;
    ValueId a = both.in(d);
    both.out(both.op(Op::Ncdf, d, {a}));
    both.out(both.op(Op::Ncdf, d, {both.op(Op::Neg, d, {a})}));
    const std::string marker = d == f32 ? "call @Sleef_erfcd" : "arith.divf";
    std::string m1 = jit().emit(one.g, spec1d(1), cg::Stage::Mlir);
    std::string m2 = jit().emit(both.g, spec1d(1, 2), cg::Stage::Mlir);
    int n1 = 0, n2 = 0;
    for (auto p = m1.find(marker); p != std::string::npos; p = m1.find(marker, p + 1))
      ++n1;
    for (auto p = m2.find(marker); p != std::string::npos; p = m2.find(marker, p + 1))
      ++n2;
    EXPECT_GT(n1, 0) << m1;
    EXPECT_EQ(n2, n1) << "Φ(-x) did not reuse Φ(x)'s erfc:\n" << m2;

    std::vector<long double> xs = {0.0L,  -0.0L,  1e-30L, -1e-30L, 0.5L,  -0.5L,  1.0L,  -1.0L,
                                   3.01L, -3.01L, 7.5L,   -7.5L,   13.9L, -13.9L, 14.3L, -14.3L,
                                   37.5L, -37.5L, 38.6L,  -38.6L,  1e30L, -1e30L};
    for (int i = 0; i < 301; ++i)
      xs.push_back(-20.0L + 40.0L * i / 300);
    std::vector<std::uint64_t> bits;
    for (long double x : xs)
      bits.push_back(encode_float(round_to(x, d), d));
    bits.push_back(encode_float(std::numeric_limits<long double>::infinity(), d));
    bits.push_back(encode_float(-std::numeric_limits<long double>::infinity(), d));
    // NaNs of both signs with a payload: Φ passes the input's NaN through (-x's, for Φ(-x)).
    bits.push_back(d == f32 ? 0x7fc01234u : 0x7ff8000000001234u);
    bits.push_back(d == f32 ? 0xffc01234u : 0xfff8000000001234u);
    const auto n = static_cast<std::int64_t>(bits.size());
    Buf A(d, bits.size()), NegA(d, bits.size()), P(d, bits.size()), Q(d, bits.size()),
        WantP(d, bits.size()), WantQ(d, bits.size());
    const std::uint64_t sign = d == f32 ? 0x80000000u : 0x8000000000000000u;
    for (std::size_t i = 0; i < bits.size(); ++i) {
      A.set(i, bits[i]);
      NegA.set(i, bits[i] ^ sign);
    }
    run1d(jit().compile(both.g, spec1d(1, 2)), {&A, &P, &Q}, n);
    auto single = jit().compile(one.g, spec1d(1));
    run1d(single, {&A, &WantP}, n);
    run1d(single, {&NegA, &WantQ}, n);
    for (std::size_t i = 0; i < bits.size(); ++i) {
      SCOPED_TRACE("x bits " + std::to_string(bits[i]));
      EXPECT_EQ(P.get(i), WantP.get(i));
      EXPECT_EQ(Q.get(i), WantQ.get(i));
    }
  }
}

TEST(CpuJit, NoLibmCallsInMathKernels) {
  for (DType d : {f32, f64}) {
    KB k;
    ValueId a = k.in(d), b = k.in(d);
    ValueId e = k.op(Op::Exp, d, {a});
    ValueId s = k.op(Op::Sin, d, {b});
    ValueId t = k.op(Op::Tanh, d, {k.op(Op::Log, d, {a})});
    ValueId u = k.op(Op::Pow, d, {k.op(Op::Erf, d, {b}), k.op(Op::Cos, d, {a})});
    k.out(k.op(Op::Add, d, {k.op(Op::Mul, d, {e, s}), k.op(Op::Add, d, {t, u})}));
    std::string ir = jit().emit(k.g, spec1d(2), cg::Stage::Llvm);
    std::istringstream is(ir);
    std::string line;
    int calls = 0;
    while (std::getline(is, line)) {
      auto pos = line.find("call ");
      if (pos == std::string::npos || line.find("declare") != std::string::npos) continue;
      auto at = line.find('@', pos);
      ASSERT_NE(at, std::string::npos) << line;
      std::string callee = line.substr(at + 1, line.find('(', at) - at - 1);
      EXPECT_TRUE(callee.rfind("Sleef_", 0) == 0 || callee.rfind("llvm.", 0) == 0)
          << "unexpected call in " << dtype_name(d) << " kernel: " << line;
      if (callee.rfind("Sleef_", 0) == 0) ++calls;
    }
    EXPECT_GE(calls, 6) << ir;
    for (const char *f : {"@expf", "@exp(", "@sinf", "@sin(", "@tanhf", "@powf", "@erff"})
      EXPECT_EQ(ir.find(f), std::string::npos) << f;
    std::string asm_ = jit().emit(k.g, spec1d(2), cg::Stage::Asm);
    EXPECT_EQ(asm_.find("call\texpf"), std::string::npos);
    EXPECT_EQ(asm_.find("call\tsin"), std::string::npos);
  }
}

TEST(CpuJit, EmitStagesHaveMarkers) {
  KB k;
  k.out(k.op(Op::Mul, f32, {k.op(Op::Exp, f32, {k.in(f32)}), k.op(Op::Sin, f32, {k.in(f32)})}));
  auto s = spec1d(2);
  std::string mlir = jit().emit(k.g, s, cg::Stage::Mlir);
  EXPECT_NE(mlir.find("vector<16xf32>"), std::string::npos);
  EXPECT_NE(mlir.find("scf.for"), std::string::npos);
  EXPECT_NE(mlir.find("llvm.intr.masked.load"), std::string::npos);
  EXPECT_NE(mlir.find("Sleef_expf16_u10"), std::string::npos);
  std::string low = jit().emit(k.g, s, cg::Stage::MlirLowered);
  EXPECT_NE(low.find("llvm.func @xpr_kernel"), std::string::npos);
  EXPECT_EQ(low.find("scf.for"), std::string::npos);
  std::string ll = jit().emit(k.g, s, cg::Stage::Llvm);
  EXPECT_NE(ll.find("define void @xpr_kernel"), std::string::npos);
  EXPECT_NE(ll.find("<16 x float>"), std::string::npos);
  EXPECT_EQ(ll.find("fmuladd"), std::string::npos);
  EXPECT_EQ(ll.find(" fast "), std::string::npos);
  std::string as = jit().emit(k.g, s, cg::Stage::Asm);
  EXPECT_NE(as.find("zmm"), std::string::npos);
  EXPECT_NE(as.find("xpr_kernel:"), std::string::npos);
  // Fast precision picks the 3.5-ULP variants SLEEF has.
  s.precision = cg::Precision::Fast;
  EXPECT_NE(jit().emit(k.g, s, cg::Stage::Mlir).find("Sleef_sinf16_u35"), std::string::npos);
  // A kernel with f64 in it runs 8 lanes: f32 math then calls the 8-wide SLEEF entry.
  KB k2;
  k2.out(k2.op(Op::Cast, f64, {k2.op(Op::Exp, f32, {k2.in(f32)})}));
  std::string m2 = jit().emit(k2.g, spec1d(1), cg::Stage::Mlir);
  EXPECT_NE(m2.find("Sleef_expf8_u10"), std::string::npos);
  EXPECT_NE(m2.find("vector<8xf32>"), std::string::npos);
}

TEST(CpuJit, EveryElementwiseOpLowers) {
  int lowered = 0;
  for (int i = 0; i < kNumOps; ++i) {
    Op op = static_cast<Op>(i);
    OpKind kind = op_kind(op);
    if (kind != OpKind::Elementwise && kind != OpKind::Cast) continue;
    // float and int variants where the op allows them
    for (DType d : {f32, f64, i32, u16}) {
      bool float_only = op_rule(op) == TypeRule::FloatFn || op_rule(op) == TypeRule::Div;
      bool int_only = op_rule(op) == TypeRule::Int || op_rule(op) == TypeRule::IntOrBool;
      if (is_float(d) && int_only) continue;
      if (!is_float(d) && float_only) continue;
      KB k;
      std::vector<ValueId> args;
      int ar = op_arity(op);
      if (op == Op::Where) args.push_back(k.in(DType::Bool));
      while (static_cast<int>(args.size()) < ar) args.push_back(k.in(d));
      DType rd = (op_rule(op) == TypeRule::Compare || op_rule(op) == TypeRule::Pred) ? DType::Bool
               : op == Op::Cast ? i8 : d;
      k.out(k.op(op, rd, args));
      EXPECT_NO_THROW(jit().compile(k.g, spec1d(ar))) << op_name(op) << " " << dtype_name(d);
      ++lowered;
    }
  }
  EXPECT_GT(lowered, 150);
}

TEST(CpuJit, MalformedKernelsAreInternalErrors) {
  KB k;
  ValueId a = k.in(f32);
  Node r;
  r.op = Op::Sum;
  r.type = k.ty(f32, true);
  r.operands = {a};
  r.axes = {0};
  k.out(k.g.add(r));
  try {
    jit().compile(k.g, spec1d(1));
    FAIL() << "a reduction must not compile as an elementwise kernel";
  } catch (const Error &e) {
    EXPECT_EQ(e.kind(), ErrorKind::Internal);
    EXPECT_NE(e.message().find("sum"), std::string::npos) << e.message();
  }
  KB k2;
  k2.out(k2.op(Op::Neg, f32, {k2.in(f32)}));
  try {
    jit().compile(k2.g, spec1d(2));
    FAIL() << "spec/input count mismatch";
  } catch (const Error &e) {
    EXPECT_EQ(e.kind(), ErrorKind::Internal);
  }
}

TEST(CpuJit, ConcurrentCompiles) {
  std::vector<std::thread> ts;
  std::vector<float> results(4);
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&, t] {
      KB k;
      k.out(k.op(Op::Add, f32, {k.in(f32), k.cst_f(f32, t)}));
      auto fn = jit().compile(k.g, spec1d(1));
      float a = 1.5f, y = 0;
      void *ptrs[2] = {&a, &y};
      std::int64_t st[2] = {1, 1}, shape[1] = {1};
      fn(ptrs, st, nullptr, shape, 0, 1);
      results[t] = y;
    });
  for (auto &t : ts) t.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(results[t], 1.5f + t);
}

TEST(CpuJit, FmodIsExactOnRandomBitPatterns) {
  // SLEEF's vector fmod is only exact within a range; the kernel must fall back outside it.
  std::uint64_t state = 0x9E3779B97F4A7C15ull;
  auto next = [&] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  for (DType d : {f32, f64}) {
    KB k;
    k.out(k.op(Op::Fmod, d, {k.in(d), k.in(d)}));
    auto fn = jit().compile(k.g, spec1d(2));
    const int n = 20000;
    Buf A(d, n), B(d, n), Y(d, n);
    for (int i = 0; i < n; ++i) {
      A.set(i, next() & mask_of(d));
      // mostly nearby exponents, sometimes anything
      std::uint64_t bb = next() & mask_of(d);
      if (i % 4 != 0) bb = (A.get(i) & ~(d == f32 ? 0x7FFFFFull : 0xFFFFFFFFFFFFFull)) ^ (next() & 0x3FFFFF);
      B.set(i, bb);
    }
    run1d(fn, {&A, &B, &Y}, n);
    int bad = 0;
    for (int i = 0; i < n && bad < 5; ++i) {
      std::uint64_t want =
          d == f32 ? std::bit_cast<std::uint32_t>(std::fmod(static_cast<float>(value_of(A.get(i), d)),
                                                            static_cast<float>(value_of(B.get(i), d))))
                   : std::bit_cast<std::uint64_t>(std::fmod(static_cast<double>(value_of(A.get(i), d)),
                                                            static_cast<double>(value_of(B.get(i), d))));
      if (!same_bits(Y.get(i), want, d)) {
        ++bad;
        ADD_FAILURE() << "fmod(" << show(A.get(i), d) << ", " << show(B.get(i), d)
                      << ") = " << show(Y.get(i), d) << ", want " << show(want, d);
      }
    }
  }
}

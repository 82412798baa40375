// tests/reduce/ReduceTestUtil.h — data, strided views, the interpreter oracle and comparisons
// shared by the reduction tests.
#pragma once

#include <xpr/xpr.hpp>

#include "compiler/ir/Interpreter.h"
#include "frontend/Frontend.h"
#include "support/Half.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace xpr::reduce_test {

inline Options test_options(int threads = 0) {
  Options o;
  o.threads = threads;
  o.cache.disk = false; // thousands of small kernels: keep them out of the user's cache
  o.eager = false;
  return o;
}

inline std::vector<Array> oracle(const std::string &text, const Inputs &in) {
  SourceFile src("<script>", text);
  return ir::interpret(fe::compile_script(src), in, {});
}

/// Element `flat` (C order) of `a`, widened: floats (halves decoded) to double, ints to double
/// (exact for the small values the tests use), bool to 0/1.
inline double value_at(const Array &a, std::int64_t flat) {
  std::vector<std::int64_t> idx(static_cast<std::size_t>(a.rank()));
  for (int d = a.rank() - 1; d >= 0; --d) {
    auto ud = static_cast<std::size_t>(d);
    idx[ud] = flat % a.shape()[ud];
    flat /= a.shape()[ud];
  }
  const void *p = a.element_ptr(idx);
  auto ld = [&](auto t) {
    decltype(t) v;
    std::memcpy(&v, p, sizeof v);
    return v;
  };
  switch (a.dtype()) {
  case DType::Bool: return ld(std::uint8_t{});
  case DType::I8: return ld(std::int8_t{});
  case DType::I16: return ld(std::int16_t{});
  case DType::I32: return ld(std::int32_t{});
  case DType::I64: return static_cast<double>(ld(std::int64_t{}));
  case DType::U8: return ld(std::uint8_t{});
  case DType::U16: return ld(std::uint16_t{});
  case DType::U32: return ld(std::uint32_t{});
  case DType::U64: return static_cast<double>(ld(std::uint64_t{}));
  case DType::F16: return half::f16_to_f64(ld(std::uint16_t{}));
  case DType::BF16: return half::bf16_to_f64(ld(std::uint16_t{}));
  case DType::F32: return ld(float{});
  case DType::F64: return ld(double{});
  }
  return 0;
}

/// The raw bits of element `flat` (for exact comparisons of every dtype).
inline std::uint64_t bits_at(const Array &a, std::int64_t flat) {
  std::vector<std::int64_t> idx(static_cast<std::size_t>(a.rank()));
  for (int d = a.rank() - 1; d >= 0; --d) {
    auto ud = static_cast<std::size_t>(d);
    idx[ud] = flat % a.shape()[ud];
    flat /= a.shape()[ud];
  }
  std::uint64_t v = 0;
  std::memcpy(&v, a.element_ptr(idx), static_cast<std::size_t>(dtype_size(a.dtype())));
  return v;
}

/// Writes `v` (already in range) into element `i` of a contiguous array of dtype `dt`.
inline void store_value(Array &a, std::int64_t i, double v) {
  auto *p = static_cast<std::byte *>(a.data()) + i * dtype_size(a.dtype());
  auto st = [&](auto x) { std::memcpy(p, &x, sizeof x); };
  switch (a.dtype()) {
  case DType::Bool: st(static_cast<std::uint8_t>(v != 0)); break;
  case DType::I8: st(static_cast<std::int8_t>(v)); break;
  case DType::I16: st(static_cast<std::int16_t>(v)); break;
  case DType::I32: st(static_cast<std::int32_t>(v)); break;
  case DType::I64: st(static_cast<std::int64_t>(v)); break;
  case DType::U8: st(static_cast<std::uint8_t>(v)); break;
  case DType::U16: st(static_cast<std::uint16_t>(v)); break;
  case DType::U32: st(static_cast<std::uint32_t>(v)); break;
  case DType::U64: st(static_cast<std::uint64_t>(v)); break;
  case DType::F16: st(half::f64_to_f16(v)); break;
  case DType::BF16: st(half::f64_to_bf16(v)); break;
  case DType::F32: st(static_cast<float>(v)); break;
  case DType::F64: st(v); break;
  }
}

/// What the values are drawn for.
enum class Data {
  Sum,     ///< ints in [-50, 50] (unsigned [0, 100]), floats in [-4, 4]
  Prod,    ///< ints in [-3, 3], floats in [0.9, 1.1] (no overflow in any order)
  Extreme, ///< few distinct values (ties), with -0/+0, and NaN/inf when `specials`
  Bools,   ///< mostly true (so `all` is sometimes true)
};

inline double draw(std::mt19937_64 &rng, DType dt, Data kind, bool specials) {
  std::uniform_real_distribution<double> u(0, 1);
  if (is_bool(dt)) return u(rng) < (kind == Data::Bools ? 0.9 : 0.5);
  if (is_int(dt)) {
    std::int64_t lo = kind == Data::Prod ? -3 : -50, hi = kind == Data::Prod ? 3 : 50;
    if (kind == Data::Extreme) lo = -5, hi = 5;
    if (is_unsigned_int(dt)) lo = 0, hi = kind == Data::Prod ? 3 : 100;
    return static_cast<double>(lo + static_cast<std::int64_t>(u(rng) * static_cast<double>(hi - lo + 1)));
  }
  switch (kind) {
  case Data::Prod: return 0.9 + 0.2 * u(rng);
  case Data::Extreme: {
    double r = u(rng);
    if (specials && r < 0.02) return std::nan("");
    if (specials && r < 0.03) return r < 0.025 ? INFINITY : -INFINITY;
    if (r < 0.08) return r < 0.055 ? -0.0 : 0.0;
    return std::round(u(rng) * 16 - 8) / 2; // ties on purpose
  }
  default: return u(rng) * 8 - 4;
  }
}

/// A contiguous array of `shape` with random values.
inline Array random_array(DType dt, const std::vector<std::int64_t> &shape, Data kind,
                          bool specials, unsigned seed) {
  Array a = Array::empty(dt, std::span<const std::int64_t>(shape.data(), shape.size()));
  std::mt19937_64 rng(seed);
  for (std::int64_t i = 0; i < a.size(); ++i) store_value(a, i, draw(rng, dt, kind, specials));
  return a;
}

/// A strided view of `shape` into a fresh parent: dim 0 reversed (negative stride), the last dim
/// every other element. The parent is kept alive by `keep`.
inline Array strided_view(DType dt, const std::vector<std::int64_t> &shape, Data kind,
                          bool specials, unsigned seed, Array &keep) {
  std::vector<std::int64_t> ps = shape;
  const std::size_t r = shape.size();
  if (r > 0) ps[r - 1] = 2 * shape[r - 1];
  keep = random_array(dt, ps, kind, specials, seed);
  if (keep.size() == 0) return Array::empty(dt, std::span<const std::int64_t>(shape.data(), r));
  std::vector<std::int64_t> st = keep.strides();
  std::vector<std::int64_t> first(r, 0);
  if (r > 0) {
    first[0] = ps[0] - 1; // the parent's extent: for rank 1 that is 2 * shape[0]
    st[0] = -st[0];
    st[r - 1] *= 2;
  }
  return Array::view(keep.element_ptr(first), dt, std::span<const std::int64_t>(shape.data(), r),
                     std::span<const std::int64_t>(st.data(), r));
}

/// u for an accumulation dtype.
inline double unit_roundoff(DType acc) {
  return acc == DType::F64 ? std::ldexp(1.0, -53) : std::ldexp(1.0, -24);
}
inline double gamma(int k, double u) { return k * u / (1 - k * u); }

/// docs/semantics.md: the JIT's blocked sum of n terms errs by at most gamma(k) * sum |x_i| with
/// k = 15 + ceil(log2(ceil(n / 16))) (k = n - 1 when n <= 16).
inline int sum_depth(std::int64_t n) {
  if (n <= 16) return static_cast<int>(std::max<std::int64_t>(n - 1, 0));
  std::int64_t leaves = (n + 15) / 16;
  int lg = 0;
  while ((std::int64_t{1} << lg) < leaves) ++lg;
  return 15 + lg;
}

/// One ulp of `dt` at magnitude |x| (0 for non-floats).
inline double ulp_of(DType dt, double x) {
  int mant = dt == DType::F64 ? 52 : dt == DType::F32 ? 23 : dt == DType::F16 ? 10 : 7;
  if (!is_float(dt)) return 0;
  int e;
  std::frexp(x == 0 ? 1e-300 : x, &e);
  return std::ldexp(1.0, e - 1 - mant);
}

} // namespace xpr::reduce_test

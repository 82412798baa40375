// support/Half.h — bit-exact conversions between f16/bf16 storage and f32/f64/integers.
//
// Every narrowing conversion rounds exactly once, to nearest with ties to even: a double or a
// 64-bit integer goes straight to the 16-bit format (never through f32, which would round twice).
// Denormals are produced and consumed exactly; overflow gives ±inf; a NaN stays a NaN, keeps its
// sign and the top bits of its payload, and is made quiet.
#pragma once

#include <bit>
#include <cstdint>

namespace xpr::half {

namespace detail {

/// Rounds the exact value (-1)^neg * m * 2^e to an IEEE binary format with `ebits` exponent bits
/// and `mbits` stored mantissa bits; returns the bit pattern. The value must not be NaN.
///
/// Why one routine for everything: with the quantum q of the result chosen first (the normal
/// quantum, or the denormal one below the normal range), the rounded significand r makes the
/// encoding ((q - qmin) << mbits) + r in both ranges, and a carry out of r moves into the
/// exponent field by itself; so there are no special cases left to get wrong.
constexpr std::uint32_t round_to_format(bool neg, std::uint64_t m, int e, int ebits, int mbits) {
  const std::uint32_t sign = neg ? (1u << (ebits + mbits)) : 0u;
  const std::uint32_t inf = ((1u << ebits) - 1u) << mbits;
  if (m == 0) return sign;
  const int bias = (1 << (ebits - 1)) - 1;
  const int emin = 1 - bias;                  // exponent of the smallest normal
  const int qmin = emin - mbits;              // quantum of the denormals
  const int lead = e + std::bit_width(m) - 1; // exponent of the leading bit
  const int q = lead < emin ? qmin : lead - mbits;
  if (q > bias + 1) return sign | inf; // far beyond the largest finite value (keeps shifts small)
  const int shift = q - e;
  std::uint64_t r;
  if (shift <= 0) {
    r = m << -shift; // exact: r has at most mbits + 1 bits here
  } else if (shift > 64) {
    r = 0; // m < 2^64 <= half a quantum: rounds to zero
  } else {
    const std::uint64_t rem = shift == 64 ? m : m & ((std::uint64_t{1} << shift) - 1);
    const std::uint64_t half = std::uint64_t{1} << (shift - 1);
    r = shift == 64 ? 0 : m >> shift;
    if (rem > half || (rem == half && (r & 1))) ++r;
  }
  const std::uint64_t bits = (static_cast<std::uint64_t>(q - qmin) << mbits) + r;
  if (bits >= inf) return sign | inf;
  return sign | static_cast<std::uint32_t>(bits);
}

/// Splits a finite nonzero-or-zero double into sign, integer significand and exponent.
constexpr void split_f64(double d, bool &neg, std::uint64_t &m, int &e) {
  const std::uint64_t b = std::bit_cast<std::uint64_t>(d);
  neg = (b >> 63) != 0;
  const int ex = static_cast<int>((b >> 52) & 0x7ff);
  m = b & ((std::uint64_t{1} << 52) - 1);
  if (ex == 0) {
    e = -1074;
  } else {
    m |= std::uint64_t{1} << 52;
    e = ex - 1075;
  }
}

constexpr void split_f32(float f, bool &neg, std::uint64_t &m, int &e) {
  const std::uint32_t b = std::bit_cast<std::uint32_t>(f);
  neg = (b >> 31) != 0;
  const int ex = static_cast<int>((b >> 23) & 0xff);
  m = b & 0x7fffffu;
  if (ex == 0) {
    e = -149;
  } else {
    m |= 1u << 23;
    e = ex - 150;
  }
}

} // namespace detail

// ---- f16 (IEEE binary16: 5 exponent bits, 10 mantissa bits) ----

constexpr float f16_to_f32(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t ex = (h >> 10) & 0x1fu;
  const std::uint32_t man = h & 0x3ffu;
  if (ex == 0x1f) // inf, or NaN made quiet with its payload kept
    return std::bit_cast<float>(sign | 0x7f800000u | (man ? 0x400000u | (man << 13) : 0u));
  if (ex == 0) { // zero or denormal: man * 2^-24, exact in f32
    float v = static_cast<float>(man) * 0x1p-24f;
    return sign ? -v : v;
  }
  return std::bit_cast<float>(sign | ((ex + 112u) << 23) | (man << 13));
}

constexpr std::uint16_t f32_to_f16(float f) {
  const std::uint32_t b = std::bit_cast<std::uint32_t>(f);
  if ((b & 0x7f800000u) == 0x7f800000u && (b & 0x7fffffu)) // NaN
    return static_cast<std::uint16_t>(((b >> 16) & 0x8000u) | 0x7e00u | ((b >> 13) & 0x3ffu));
  if ((b & 0x7fffffffu) == 0x7f800000u)
    return static_cast<std::uint16_t>(((b >> 16) & 0x8000u) | 0x7c00u);
  bool neg;
  std::uint64_t m;
  int e;
  detail::split_f32(f, neg, m, e);
  return static_cast<std::uint16_t>(detail::round_to_format(neg, m, e, 5, 10));
}

constexpr std::uint16_t f64_to_f16(double d) {
  const std::uint64_t b = std::bit_cast<std::uint64_t>(d);
  const std::uint16_t sign = static_cast<std::uint16_t>((b >> 48) & 0x8000u);
  if ((b & 0x7ff0000000000000ull) == 0x7ff0000000000000ull) {
    const std::uint64_t man = b & 0xfffffffffffffull;
    if (man) return static_cast<std::uint16_t>(sign | 0x7e00u | ((man >> 42) & 0x3ffu));
    return static_cast<std::uint16_t>(sign | 0x7c00u);
  }
  bool neg;
  std::uint64_t m;
  int e;
  detail::split_f64(d, neg, m, e);
  return static_cast<std::uint16_t>(detail::round_to_format(neg, m, e, 5, 10));
}

constexpr double f16_to_f64(std::uint16_t h) { return static_cast<double>(f16_to_f32(h)); }

// ---- bf16 (the top half of an f32: 8 exponent bits, 7 mantissa bits) ----

constexpr float bf16_to_f32(std::uint16_t h) {
  std::uint32_t b = static_cast<std::uint32_t>(h) << 16;
  if ((b & 0x7f800000u) == 0x7f800000u && (b & 0x7fffffu)) b |= 0x400000u; // quiet the NaN
  return std::bit_cast<float>(b);
}

constexpr std::uint16_t f32_to_bf16(float f) {
  const std::uint32_t b = std::bit_cast<std::uint32_t>(f);
  if ((b & 0x7f800000u) == 0x7f800000u && (b & 0x7fffffu))
    return static_cast<std::uint16_t>((b >> 16) | 0x40u);
  if ((b & 0x7fffffffu) == 0x7f800000u) return static_cast<std::uint16_t>(b >> 16);
  bool neg;
  std::uint64_t m;
  int e;
  detail::split_f32(f, neg, m, e);
  return static_cast<std::uint16_t>(detail::round_to_format(neg, m, e, 8, 7));
}

constexpr std::uint16_t f64_to_bf16(double d) {
  const std::uint64_t b = std::bit_cast<std::uint64_t>(d);
  const std::uint16_t sign = static_cast<std::uint16_t>((b >> 48) & 0x8000u);
  if ((b & 0x7ff0000000000000ull) == 0x7ff0000000000000ull) {
    const std::uint64_t man = b & 0xfffffffffffffull;
    if (man) return static_cast<std::uint16_t>(sign | 0x7fc0u | ((man >> 45) & 0x7fu));
    return static_cast<std::uint16_t>(sign | 0x7f80u);
  }
  bool neg;
  std::uint64_t m;
  int e;
  detail::split_f64(d, neg, m, e);
  return static_cast<std::uint16_t>(detail::round_to_format(neg, m, e, 8, 7));
}

constexpr double bf16_to_f64(std::uint16_t h) { return static_cast<double>(bf16_to_f32(h)); }

// ---- integers: the exact value, rounded once ----

constexpr std::uint16_t u64_to_f16(std::uint64_t v) {
  return static_cast<std::uint16_t>(detail::round_to_format(false, v, 0, 5, 10));
}
constexpr std::uint16_t u64_to_bf16(std::uint64_t v) {
  return static_cast<std::uint16_t>(detail::round_to_format(false, v, 0, 8, 7));
}
constexpr std::uint16_t i64_to_f16(std::int64_t v) {
  // The magnitude through unsigned arithmetic: -INT64_MIN does not fit an int64.
  const std::uint64_t mag =
      v < 0 ? std::uint64_t{0} - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v);
  return static_cast<std::uint16_t>(detail::round_to_format(v < 0, mag, 0, 5, 10));
}
constexpr std::uint16_t i64_to_bf16(std::int64_t v) {
  const std::uint64_t mag =
      v < 0 ? std::uint64_t{0} - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v);
  return static_cast<std::uint16_t>(detail::round_to_format(v < 0, mag, 0, 8, 7));
}

} // namespace xpr::half

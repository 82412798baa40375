// tests/support/HalfTest.cpp — f16/bf16 conversions: exhaustive round trips, ties, one rounding.
#include "support/Half.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>

using namespace xpr::half;

namespace {

/// The value of an f16 bit pattern, decoded independently with ldexp.
double f16_value(std::uint16_t h) {
  const int e = (h >> 10) & 0x1f, m = h & 0x3ff;
  const double s = (h & 0x8000) ? -1.0 : 1.0;
  if (e == 0x1f) return m ? NAN : s * INFINITY;
  if (e == 0) return s * std::ldexp(m, -24);
  return s * std::ldexp(1024 + m, e - 25);
}
double bf16_value(std::uint16_t h) {
  const int e = (h >> 7) & 0xff, m = h & 0x7f;
  const double s = (h & 0x8000) ? -1.0 : 1.0;
  if (e == 0xff) return m ? NAN : s * INFINITY;
  if (e == 0) return s * std::ldexp(m, -133);
  return s * std::ldexp(128 + m, e - 134);
}

} // namespace

TEST(Half, F16AllPatternsDecodeAndRoundTrip) {
  for (std::uint32_t i = 0; i < 65536; ++i) {
    const std::uint16_t h = static_cast<std::uint16_t>(i);
    const float f = f16_to_f32(h);
    const double want = f16_value(h);
    if (std::isnan(want)) {
      ASSERT_TRUE(std::isnan(f)) << i;
      ASSERT_EQ(std::signbit(f), (h & 0x8000) != 0) << i;
      // Quiet, payload kept: the round trip sets only the quiet bit.
      ASSERT_EQ(f32_to_f16(f), h | 0x0200) << i;
      ASSERT_EQ(f64_to_f16(f16_to_f64(h)), h | 0x0200) << i;
      continue;
    }
    ASSERT_EQ(std::bit_cast<std::uint64_t>(static_cast<double>(f)),
              std::bit_cast<std::uint64_t>(want))
        << i;
    ASSERT_EQ(f32_to_f16(f), h) << i;
    ASSERT_EQ(f64_to_f16(static_cast<double>(f)), h) << i;
  }
}

TEST(Half, Bf16AllPatternsDecodeAndRoundTrip) {
  for (std::uint32_t i = 0; i < 65536; ++i) {
    const std::uint16_t h = static_cast<std::uint16_t>(i);
    const float f = bf16_to_f32(h);
    const double want = bf16_value(h);
    if (std::isnan(want)) {
      ASSERT_TRUE(std::isnan(f)) << i;
      ASSERT_EQ(f32_to_bf16(f), h | 0x0040) << i;
      ASSERT_EQ(f64_to_bf16(bf16_to_f64(h)), h | 0x0040) << i;
      continue;
    }
    ASSERT_EQ(static_cast<double>(f), want) << i;
    ASSERT_EQ(std::signbit(f), (h & 0x8000) != 0) << i;
    ASSERT_EQ(f32_to_bf16(f), h) << i;
    ASSERT_EQ(f64_to_bf16(static_cast<double>(f)), h) << i;
  }
}

// For every pair of neighbours (h, h+1) of the same sign: the exact midpoint rounds to the even
// one, and anything a hair above or below it rounds away from the tie. The f64 variant puts the
// hair below f32 resolution: rounding through f32 first would make it a tie (double rounding).
TEST(Half, F16TiesToEvenAndOneRounding) {
  for (std::uint32_t i = 0; i < 0x7c00; ++i) { // positive finite, h+1 up to inf
    for (std::uint16_t sign : {std::uint16_t{0}, std::uint16_t{0x8000}}) {
      const std::uint16_t lo = static_cast<std::uint16_t>(i | sign),
                          hi = static_cast<std::uint16_t>((i + 1) | sign);
      const double a = f16_value(lo);
      // The midpoint with inf is where rounding overflows: 65520.
      const double b = (i + 1 == 0x7c00) ? (sign ? -65536.0 : 65536.0) : f16_value(hi);
      const double mid = (a + b) / 2; // exact: 12 significant bits
      const std::uint16_t even = (i & 1) ? hi : lo;
      ASSERT_EQ(f32_to_f16(static_cast<float>(mid)), even) << i;
      ASSERT_EQ(f64_to_f16(mid), even) << i;
      const double toward_b = std::nextafter(mid, b), toward_a = std::nextafter(mid, a);
      ASSERT_EQ(f64_to_f16(toward_b), hi) << i;
      ASSERT_EQ(f64_to_f16(toward_a), lo) << i;
      ASSERT_EQ(f32_to_f16(std::nextafter(static_cast<float>(mid), static_cast<float>(b))), hi)
          << i;
      ASSERT_EQ(f32_to_f16(std::nextafter(static_cast<float>(mid), static_cast<float>(a))), lo)
          << i;
      if (!(i & 1)) { // via f32 the hair vanishes and the tie goes to `lo`: direct must not
        ASSERT_EQ(f32_to_f16(static_cast<float>(toward_b)), lo) << i;
      }
    }
  }
}

TEST(Half, Bf16TiesToEvenAndOneRounding) {
  for (std::uint32_t i = 0; i < 0x7f80; ++i) {
    const std::uint16_t lo = static_cast<std::uint16_t>(i), hi = static_cast<std::uint16_t>(i + 1);
    const double a = bf16_value(lo);
    const double b = (i + 1 == 0x7f80) ? std::ldexp(1.0, 128) : bf16_value(hi);
    const double mid = (a + b) / 2;
    const std::uint16_t even = (i & 1) ? hi : lo;
    ASSERT_EQ(f32_to_bf16(static_cast<float>(mid)), even) << i;
    ASSERT_EQ(f64_to_bf16(mid), even) << i;
    ASSERT_EQ(f64_to_bf16(-mid), even | 0x8000) << i;
    ASSERT_EQ(f64_to_bf16(std::nextafter(mid, b)), hi) << i;
    ASSERT_EQ(f64_to_bf16(std::nextafter(mid, a)), lo) << i;
    ASSERT_EQ(f32_to_bf16(std::nextafter(static_cast<float>(mid), static_cast<float>(b))), hi) << i;
    ASSERT_EQ(f32_to_bf16(std::nextafter(static_cast<float>(mid), static_cast<float>(a))), lo) << i;
  }
}

TEST(Half, SpecialValues) {
  EXPECT_EQ(f32_to_f16(0.0f), 0x0000);
  EXPECT_EQ(f32_to_f16(-0.0f), 0x8000);
  EXPECT_EQ(f32_to_f16(INFINITY), 0x7c00);
  EXPECT_EQ(f32_to_f16(-INFINITY), 0xfc00);
  EXPECT_EQ(f32_to_f16(65504.0f), 0x7bff);
  EXPECT_EQ(f32_to_f16(65519.996f), 0x7bff);
  EXPECT_EQ(f32_to_f16(65520.0f), 0x7c00);
  EXPECT_EQ(f64_to_f16(1e300), 0x7c00);
  EXPECT_EQ(f64_to_f16(-1e300), 0xfc00);
  EXPECT_EQ(f64_to_f16(1e-300), 0x0000);
  EXPECT_EQ(f64_to_f16(-1e-300), 0x8000);
  EXPECT_EQ(f64_to_f16(std::ldexp(1.0, -24)), 0x0001); // smallest denormal
  EXPECT_EQ(f64_to_f16(std::ldexp(1.0, -25)), 0x0000); // tie to even: zero
  EXPECT_EQ(f64_to_f16(std::ldexp(3.0, -26)), 0x0001);
  EXPECT_EQ(f64_to_f16(std::ldexp(1.0, -25) * (1 + 1e-15)), 0x0001);
  EXPECT_EQ(f64_to_f16(std::ldexp(1023.0, -24)), 0x03ff); // largest denormal
  EXPECT_EQ(f64_to_f16(std::ldexp(2047.0, -25)), 0x0400); // rounds up into the normals
  EXPECT_EQ(f32_to_f16(1.0f), 0x3c00);
  EXPECT_EQ(f32_to_f16(std::bit_cast<float>(0x7fa00001u)),
            0x7f00); // sNaN made quiet, payload top bits
  EXPECT_EQ(f32_to_f16(std::bit_cast<float>(0xffc00000u)), 0xfe00);
  EXPECT_EQ(std::bit_cast<std::uint32_t>(f16_to_f32(0x7c01)), 0x7fc02000u);
  EXPECT_EQ(f32_to_bf16(std::bit_cast<float>(0x7f800001u)), 0x7fc0);
  EXPECT_EQ(f32_to_bf16(std::bit_cast<float>(0x3f808000u)), 0x3f80); // tie to even
  EXPECT_EQ(f32_to_bf16(std::bit_cast<float>(0x3f818000u)), 0x3f82);
  EXPECT_EQ(f32_to_bf16(std::bit_cast<float>(0x7f7fffffu)), 0x7f80); // rounds to inf
  EXPECT_EQ(f32_to_bf16(std::bit_cast<float>(0x00000001u)), 0x0000); // far below bf16 denormals
  EXPECT_EQ(f32_to_bf16(std::bit_cast<float>(0x00010000u)), 0x0001); // exactly the smallest
}

TEST(Half, IntegersRoundOnce) {
  EXPECT_EQ(i64_to_f16(0), 0x0000);
  EXPECT_EQ(i64_to_f16(-1), 0xbc00);
  EXPECT_EQ(i64_to_f16(2049), 0x6800); // 2048: tie to even
  EXPECT_EQ(i64_to_f16(2051), 0x6802); // 2052
  EXPECT_EQ(i64_to_f16(65504), 0x7bff);
  EXPECT_EQ(i64_to_f16(65519), 0x7bff);
  EXPECT_EQ(i64_to_f16(65520), 0x7c00);
  EXPECT_EQ(i64_to_f16(INT64_MIN), 0xfc00);
  EXPECT_EQ(u64_to_f16(UINT64_MAX), 0x7c00);
  EXPECT_EQ(u64_to_bf16(UINT64_MAX), 0x5f80); // 2^64
  EXPECT_EQ(i64_to_bf16(INT64_MIN), 0xdf00);  // -2^63
  EXPECT_EQ(i64_to_bf16(257), 0x4380);        // 256: tie to even
  EXPECT_EQ(i64_to_bf16(259), 0x4382);        // 260
  // 2^60 + 2^52 + 1 is just above a bf16 tie; through double it would become the tie itself.
  const std::int64_t v = (std::int64_t{1} << 60) + (std::int64_t{1} << 52) + 1;
  EXPECT_EQ(i64_to_bf16(v), 0x5d81);
  EXPECT_EQ(f64_to_bf16(static_cast<double>(v)), 0x5d80);
  EXPECT_EQ(i64_to_bf16(-v), 0xdd81);
}

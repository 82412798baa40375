// tests/support/ArrayTest.cpp — Array allocation, views, strides, copies; Scalar conversions.
#include <xpr/array.hpp>
#include <xpr/error.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>

// Absurd allocations must come back as Error(Limit) under AddressSanitizer too.
extern "C" const char *__asan_default_options() { return "allocator_may_return_null=1"; }

using namespace xpr;

namespace {
template <class F> ErrorKind kind_of(F &&f) {
  try {
    f();
  } catch (const Error &e) {
    return e.kind();
  }
  ADD_FAILURE() << "no error thrown";
  return ErrorKind::Internal;
}
} // namespace

TEST(Array, EmptyIsZeroedAlignedContiguous) {
  Array a = Array::empty(f64, {3, 4, 5});
  EXPECT_EQ(a.dtype(), f64);
  EXPECT_EQ(a.rank(), 3);
  EXPECT_EQ(a.size(), 60);
  EXPECT_EQ(a.shape(), (std::vector<std::int64_t>{3, 4, 5}));
  EXPECT_EQ(a.strides(), (std::vector<std::int64_t>{20, 5, 1}));
  EXPECT_TRUE(a.owns_data());
  EXPECT_TRUE(a.is_contiguous());
  EXPECT_TRUE(a.valid());
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(a.data()) % 64, 0u);
  for (int i = 0; i < 60; ++i)
    EXPECT_EQ(a.data_as<double>()[i], 0.0);
  Array b = a; // copies alias
  b.data_as<double>()[7] = 2.5;
  EXPECT_EQ(a.data_as<double>()[7], 2.5);
  std::int64_t idx[] = {0, 1, 2};
  EXPECT_EQ(a.element_ptr(idx), static_cast<void *>(a.data_as<double>() + 7));
}

TEST(Array, ScalarsAndEmptyShapes) {
  Array s = Array::empty(i32, std::span<const std::int64_t>{});
  EXPECT_EQ(s.rank(), 0);
  EXPECT_EQ(s.size(), 1);
  EXPECT_NE(s.data(), nullptr);
  EXPECT_EQ(*s.data_as<std::int32_t>(), 0);
  Array z = Array::empty(f32, {4, 0, 3});
  EXPECT_EQ(z.size(), 0);
  EXPECT_NE(z.data(), nullptr);
  EXPECT_TRUE(z.valid());
  EXPECT_TRUE(z.is_contiguous());
  EXPECT_EQ(z.contiguous_copy().shape(), (std::vector<std::int64_t>{4, 0, 3}));
}

TEST(Array, AbsurdSizesAreLimitErrors) {
  // The element count overflows int64.
  EXPECT_EQ(kind_of([] { Array::empty(u8, {1LL << 40, 1LL << 40}); }), ErrorKind::Limit);
  // The count fits but its bytes do not.
  EXPECT_EQ(kind_of([] { Array::empty(f64, {1LL << 61}); }), ErrorKind::Limit);
  EXPECT_EQ(kind_of([] { Array::empty(i64, {std::numeric_limits<std::int64_t>::max()}); }),
            ErrorKind::Limit);
  // Representable, but more memory than an x86-64 address space holds: allocation fails.
  EXPECT_EQ(kind_of([] { Array::empty(u8, {1LL << 50}); }), ErrorKind::Limit);
  try {
    Array::empty(f64, {1LL << 61});
  } catch (const Error &e) {
    EXPECT_EQ(e.message(),
              "cannot allocate array: shape [2305843009213693952] of f64 has too many elements");
  }
  EXPECT_EQ(kind_of([] { Array::empty(f32, {1, 1, 1, 1, 1, 1, 1, 1, 1}); }), ErrorKind::Limit);
  EXPECT_EQ(kind_of([] { Array::empty(f32, {3, -1}); }), ErrorKind::Runtime);
  // A zero extent makes the count 0 however large the others are.
  EXPECT_EQ(Array::empty(f64, {0, 1LL << 62}).size(), 0);
}

TEST(Array, StridedViews) {
  std::vector<double> buf(12);
  std::iota(buf.begin(), buf.end(), 0.0);
  // Transposed 3x4 -> 4x3 view.
  Array t = view(buf.data(), f64, {4, 3}, {1, 4});
  EXPECT_FALSE(t.owns_data());
  EXPECT_FALSE(t.is_contiguous());
  std::int64_t i12[] = {1, 2};
  EXPECT_EQ(*static_cast<double *>(t.element_ptr(i12)), 9.0);
  Array c = t.contiguous_copy();
  EXPECT_TRUE(c.is_contiguous());
  EXPECT_TRUE(c.owns_data());
  const double want[] = {0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11};
  for (int i = 0; i < 12; ++i)
    EXPECT_EQ(c.data_as<double>()[i], want[i]);
  // Negative stride: reversed.
  Array r = view(buf.data() + 11, f64, {12}, {-1});
  Array rc = r.contiguous_copy();
  for (int i = 0; i < 12; ++i)
    EXPECT_EQ(rc.data_as<double>()[i], 11 - i);
  // Zero stride: one row repeated.
  Array z = view(buf.data(), f64, {3, 4}, {0, 1});
  Array zc = z.contiguous_copy();
  for (int i = 0; i < 12; ++i)
    EXPECT_EQ(zc.data_as<double>()[i], i % 4);
  EXPECT_FALSE(z.is_contiguous());
  // Extent-1 dims ignore their stride for contiguity.
  EXPECT_TRUE(view(buf.data(), f64, {1, 12}, {999, 1}).is_contiguous());
  EXPECT_TRUE(view(buf.data(), f64, {3, 4}).is_contiguous());
}

TEST(Array, BadViewsAndIndices) {
  double x = 0;
  EXPECT_EQ(kind_of([&] { view(&x, f64, {1, 1}, {1}); }), ErrorKind::Runtime);
  EXPECT_EQ(kind_of([&] { view(nullptr, f64, {2}); }), ErrorKind::Runtime);
  EXPECT_EQ(view(nullptr, f64, {0}).size(), 0);
  Array a = Array::empty(f32, {2, 3});
  std::int64_t bad[] = {2, 0};
  EXPECT_EQ(kind_of([&] { a.element_ptr(bad); }), ErrorKind::Runtime);
  std::int64_t short_idx[] = {0};
  EXPECT_EQ(kind_of([&] { a.element_ptr(short_idx); }), ErrorKind::Runtime);
}

TEST(Scalar, Conversions) {
  EXPECT_EQ(Scalar(2.9).as_int(), 2);
  EXPECT_EQ(Scalar(-2.9).as_int(), -2);
  EXPECT_EQ(Scalar(NAN).as_int(), 0);
  EXPECT_EQ(Scalar(1e300).as_int(), INT64_MAX);
  EXPECT_EQ(Scalar(-INFINITY).as_int(), INT64_MIN);
  EXPECT_EQ(Scalar(9223372036854775808.0).as_int(), INT64_MAX);
  EXPECT_EQ(Scalar(-9223372036854775808.0).as_int(), INT64_MIN);
  EXPECT_EQ(Scalar(-1.0).as_uint(), 0u);
  EXPECT_EQ(Scalar(1e30).as_uint(), UINT64_MAX);
  EXPECT_EQ(Scalar(18446744073709549568.0).as_uint(), 18446744073709549568ull);
  EXPECT_EQ(Scalar(-1).as_uint(), UINT64_MAX); // int -> int wraps
  EXPECT_EQ(Scalar(18446744073709551615ull).as_int(), -1);
  EXPECT_EQ(Scalar(18446744073709551615ull).as_double(), 18446744073709551616.0);
  EXPECT_EQ(Scalar(true).as_double(), 1.0);
  EXPECT_EQ(Scalar(true).as_int(), 1);
  EXPECT_TRUE(Scalar(NAN).as_bool());
  EXPECT_FALSE(Scalar(-0.0).as_bool());
  EXPECT_TRUE(Scalar(3).as_bool());
  EXPECT_FALSE(Scalar(0ull).as_bool());
  EXPECT_EQ(Scalar(1.5f).kind(), Scalar::Kind::Float);
  EXPECT_EQ(Scalar(7L).kind(), Scalar::Kind::Int);
  EXPECT_EQ(Scalar(7UL).kind(), Scalar::Kind::UInt);
}

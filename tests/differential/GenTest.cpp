// tests/differential/GenTest.cpp — tests of the differential harness itself: ULP arithmetic, the
// tolerance table's coverage, and that the generator is reproducible and covers the language.
#include "tests/differential/Compare.h"
#include "tests/differential/Gen.h"

#include "support/Half.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <set>

namespace xpr::diff {
namespace {

std::uint64_t b32(float f) { return std::bit_cast<std::uint32_t>(f); }
std::uint64_t b64(double d) { return std::bit_cast<std::uint64_t>(d); }

TEST(DiffCompare, UlpDistance) {
  EXPECT_EQ(ulp_distance(DType::F32, b32(1.0f), b32(std::nextafter(1.0f, 2.0f))), 1u);
  EXPECT_EQ(ulp_distance(DType::F32, b32(1.0f), b32(1.0f)), 0u);
  EXPECT_EQ(ulp_distance(DType::F32, b32(0.0f), b32(-0.0f)), 1u);
  EXPECT_EQ(ulp_distance(DType::F32, b32(std::numeric_limits<float>::max()),
                         b32(std::numeric_limits<float>::infinity())),
            1u);
  // -denorm_min, -0, +0, +denorm_min
  EXPECT_EQ(ulp_distance(DType::F64, b64(-std::numeric_limits<double>::denorm_min()),
                         b64(std::numeric_limits<double>::denorm_min())),
            3u);
  EXPECT_EQ(ulp_distance(DType::F64, b64(1.0), b64(1.0 + 0x1p-52 * 5)), 5u);
  EXPECT_EQ(ulp_distance(DType::F16, 0x3c00, 0x3c01), 1u); // 1.0 and the next f16
  EXPECT_EQ(ulp_distance(DType::BF16, 0x3f80, 0xbf80), 2u * 0x3f80 + 1);
  EXPECT_EQ(ulp_distance(DType::F64, b64(std::nan("")), b64(1.0)),
            std::numeric_limits<std::uint64_t>::max());
  // The whole f64 line: -inf to +inf fits in 64 bits.
  EXPECT_EQ(ulp_distance(DType::F64, b64(-INFINITY), b64(INFINITY)), 2u * 0x7ff0000000000000ull + 1);
}

TEST(DiffCompare, ExactAndTolerant) {
  EXPECT_TRUE(exact_equal(DType::F32, 0x7fc00000u, 0xffc00001u)); // NaNs, any payload or sign
  EXPECT_FALSE(exact_equal(DType::F32, b32(0.0f), b32(-0.0f)));
  EXPECT_FALSE(exact_equal(DType::I32, 1, 2));
  EXPECT_TRUE(exact_equal(DType::F16, 0x7e00, 0xfe01));
  EXPECT_FALSE(exact_equal(DType::I16, 0x7e00, 0xfe01)); // not a float: bits only
  // An f32 result widened to f64: one f32 ulp apart passes when measured in f32 ...
  double a = 1.0f, b = std::nextafter(1.0f, 2.0f);
  EXPECT_TRUE(close_enough(DType::F64, b64(a), b64(b), DType::F32, 1, 0));
  // ... but not when the value was computed in f64.
  EXPECT_FALSE(close_enough(DType::F64, b64(a), b64(b), DType::F64, 1, 0));
  EXPECT_FALSE(close_enough(DType::F32, b32(1.0f), b32(std::nanf("")), DType::F32, 100, 1));
  EXPECT_TRUE(close_enough(DType::F32, b32(1e-9f), b32(-1e-9f), DType::F32, 0, 1e-8));
  EXPECT_FALSE(close_enough(DType::F32, b32(1e-9f), b32(-1e-9f), DType::F32, 0, 1e-10));
}

TEST(DiffCompare, EveryTranscendentalHasATolerance) {
  // Float-only functions that are exact (correctly rounded by IEEE) need no entry; every other
  // one must have one, or an op added to Ops.def would silently be compared exactly.
  const std::set<ir::Op> exact = {ir::Op::Sqrt, ir::Op::Copysign, ir::Op::Fma};
  for (int i = 0; i < ir::kNumOps; ++i) {
    auto op = static_cast<ir::Op>(i);
    if (ir::op_rule(op) != ir::TypeRule::FloatFn) continue;
    EXPECT_EQ(function_tolerance(op).has_value(), !exact.count(op)) << ir::op_name(op);
  }
  EXPECT_TRUE(function_tolerance(ir::Op::Pow).has_value());
  EXPECT_FALSE(function_tolerance(ir::Op::Add).has_value());
}

TEST(DiffGen, Reproducible) {
  for (std::uint64_t s : {1ull, 2ull, 0xdeadbeefull}) {
    Program a = generate_program(s), b = generate_program(s);
    EXPECT_EQ(a.script(), b.script());
    Instance x = make_instance(a, 7, true), y = make_instance(b, 7, true);
    EXPECT_EQ(x.describe(a), y.describe(b));
  }
  EXPECT_NE(generate_program(1).script(), generate_program(2).script());
}

TEST(DiffGen, CoversTheLanguage) {
  // Over a few thousand programs every elementwise op, every dtype as an input, every rank
  // 0..4, every kind of weak literal and every input layout must occur.
  std::set<ir::Op> ops;
  std::set<DType> dtypes, casts;
  std::set<int> ranks;
  std::set<std::string> layouts;
  int exact = 0, params = 0, weak_int = 0, weak_float = 0, weak_bool = 0;
  std::function<void(const GNode &)> walk = [&](const GNode &n) {
    if (n.kind == GNode::Kind::Lit) {
      weak_int += n.weak == Weak::Int;
      weak_float += n.weak == Weak::Float;
      weak_bool += n.weak == Weak::Bool;
    }
    if (n.kind == GNode::Kind::Cast) casts.insert(n.dtype);
    if (n.kind == GNode::Kind::Param) ++params;
    for (const GNode &k : n.kids) walk(k);
  };
  const int kN = 3000;
  for (int s = 0; s < kN; ++s) {
    Program p = generate_program(static_cast<std::uint64_t>(s) * 7919 + 1);
    std::vector<ir::Op> v;
    p.root.collect_ops(v);
    ops.insert(v.begin(), v.end());
    for (const InputDecl &in : p.inputs) dtypes.insert(in.dtype);
    ranks.insert(static_cast<int>(p.full.size()));
    exact += p.tol.exact;
    walk(p.root);
    if (s < 300) {
      Instance inst = make_instance(p, static_cast<std::uint64_t>(s), s % 2 == 1);
      for (const auto &[name, d] : inst.inputs) layouts.insert(d.layout);
    }
  }
  for (int i = 0; i < ir::kNumOps; ++i) {
    auto op = static_cast<ir::Op>(i);
    if (ir::op_kind(op) == ir::OpKind::Elementwise || ir::op_kind(op) == ir::OpKind::Cast)
      EXPECT_TRUE(ops.count(op)) << "never generated: " << ir::op_name(op);
  }
  EXPECT_EQ(dtypes.size(), static_cast<std::size_t>(kNumDTypes));
  EXPECT_EQ(casts.size(), static_cast<std::size_t>(kNumDTypes));
  EXPECT_EQ(ranks, (std::set<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(layouts, (std::set<std::string>{"contiguous", "strided", "negative", "broadcast", "mixed"}));
  EXPECT_GT(weak_int, 100);
  EXPECT_GT(weak_float, 100);
  EXPECT_GT(weak_bool, 10);
  EXPECT_GT(params, 50);
  // Both comparison modes get a fair share.
  EXPECT_GT(exact, kN / 2);
  EXPECT_LT(exact, kN * 9 / 10);
}

TEST(DiffGen, InstancesMatchTheirViews) {
  // The contiguous copy handed to the interpreter holds exactly the view's logical elements.
  int checked = 0;
  for (std::uint64_t s = 1; s < 200; ++s) {
    Program p = generate_program(s);
    Instance inst = make_instance(p, s, true);
    for (const auto &[name, d] : inst.inputs) {
      const Array &v = d.view;
      ASSERT_EQ(v.shape(), d.contiguous.shape());
      for (std::int64_t i = 0; i < v.size(); ++i) {
        std::int64_t off = 0, flat = i;
        for (int k = v.rank() - 1; k >= 0; --k) {
          off += (flat % v.shape()[k]) * v.strides()[k];
          flat /= v.shape()[k];
        }
        ASSERT_EQ(load_bits(v.data(), v.dtype(), off), load_bits(d.contiguous.data(), v.dtype(), i));
        ++checked;
      }
      if (d.layout == "negative" && v.size() > 1) {
        bool neg = false;
        for (auto st : v.strides()) neg = neg || st < 0;
        EXPECT_TRUE(neg);
      }
      if (d.layout == "broadcast" && v.rank() > 0) {
        bool zero = false;
        for (auto st : v.strides()) zero = zero || st == 0;
        EXPECT_TRUE(zero);
      }
    }
  }
  EXPECT_GT(checked, 10000);
}

TEST(DiffGen, SpecialValuesAppear) {
  std::mt19937_64 rng(42);
  int nan = 0, inf = 0, negzero = 0, denorm = 0;
  for (int i = 0; i < 20000; ++i) {
    std::uint64_t b = random_bits(DType::F32, rng);
    float f = std::bit_cast<float>(static_cast<std::uint32_t>(b));
    nan += std::isnan(f);
    inf += std::isinf(f);
    negzero += b == 0x80000000u;
    denorm += std::fpclassify(f) == FP_SUBNORMAL;
  }
  EXPECT_GT(nan, 100);
  EXPECT_GT(inf, 100);
  EXPECT_GT(negzero, 50);
  EXPECT_GT(denorm, 50);
  std::set<std::uint64_t> i8;
  for (int i = 0; i < 5000; ++i) i8.insert(random_bits(DType::I8, rng));
  EXPECT_TRUE(i8.count(0x80) && i8.count(0x7f) && i8.count(0xff) && i8.count(0));
}

} // namespace
} // namespace xpr::diff

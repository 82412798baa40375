// tests/interp/ShapeTest.cpp — broadcasting across ranks 0-4, and inputs that are strided,
// reversed or zero-stride views of caller memory. Expected values are computed here with explicit
// index arithmetic, not by the interpreter.
#include "Helpers.h"

#include <gtest/gtest.h>

#include <numeric>

using namespace xpr;
using namespace xpr::test;
using ir::Op;

namespace {

const std::int64_t kFull[] = {2, 3, 4, 5};

/// The operand shape of rank r (right-aligned under a rank-R result) where bit j of `ones`
/// replaces dim j by 1.
std::vector<std::int64_t> operand_shape(int R, int r, unsigned ones) {
  std::vector<std::int64_t> s;
  for (int j = 0; j < r; ++j)
    s.push_back((ones >> j) & 1 ? 1 : kFull[4 - r + j]);
  (void)R;
  return s;
}

std::int64_t count(const std::vector<std::int64_t> &s) {
  return std::accumulate(s.begin(), s.end(), std::int64_t{1}, std::multiplies<>());
}

/// Flat C-order index into `s` of the element a rank-R result index reads (broadcast rules).
std::int64_t source_index(const std::vector<std::int64_t> &out_idx,
                          const std::vector<std::int64_t> &s) {
  const std::size_t R = out_idx.size(), r = s.size();
  std::int64_t flat = 0;
  for (std::size_t j = 0; j < r; ++j) {
    const std::int64_t i = s[j] == 1 ? 0 : out_idx[R - r + j];
    flat = flat * s[j] + i;
  }
  return flat;
}

ir::Type fixed_type(DType t, const std::vector<std::int64_t> &s) {
  ir::Type ty{t, {}};
  for (auto d : s)
    ty.dims.push_back(ir::Dim::fixed(d));
  return ty;
}

} // namespace

TEST(Broadcast, AllRankPairsAndSizeOneDims) {
  int cases = 0;
  for (int ra = 0; ra <= 4; ++ra)
    for (int rb = 0; rb <= 4; ++rb)
      for (unsigned ma = 0; ma < (1u << ra); ++ma)
        for (unsigned mb = 0; mb < (1u << rb); ++mb) {
          const int R = std::max(ra, rb);
          auto sa = operand_shape(R, ra, ma), sb = operand_shape(R, rb, mb);
          // The result shape: per dim, the larger of the (right-aligned) operand extents.
          std::vector<std::int64_t> so(static_cast<std::size_t>(R), 1);
          for (int j = 0; j < ra; ++j)
            so[static_cast<std::size_t>(R - ra + j)] = std::max<std::int64_t>(
                so[static_cast<std::size_t>(R - ra + j)], sa[static_cast<std::size_t>(j)]);
          for (int j = 0; j < rb; ++j)
            so[static_cast<std::size_t>(R - rb + j)] = std::max<std::int64_t>(
                so[static_cast<std::size_t>(R - rb + j)], sb[static_cast<std::size_t>(j)]);
          SCOPED_TRACE(::testing::Message()
                       << "ranks " << ra << "," << rb << " masks " << ma << "," << mb);
          ir::Graph g;
          auto a = input(g, "a", fixed_type(f64, sa));
          auto b = input(g, "b", fixed_type(i32, sb));
          // sub is not symmetric, so swapped operands would show; b also goes through a cast.
          auto bf = op(g, Op::Cast, fixed_type(f64, sb), {b});
          output(g, op(g, Op::Sub, fixed_type(f64, so), {a, bf}));
          std::vector<double> va(static_cast<std::size_t>(count(sa)));
          std::vector<std::int32_t> vb(static_cast<std::size_t>(count(sb)));
          for (std::size_t i = 0; i < va.size(); ++i)
            va[i] = 1000.0 * static_cast<double>(i);
          for (std::size_t i = 0; i < vb.size(); ++i)
            vb[i] = static_cast<std::int32_t>(i);
          auto res = ir::interpret(g, {{"a", make(f64, sa, va)}, {"b", make(i32, sb, vb)}}, {});
          ASSERT_EQ(res[0].shape(), so);
          auto got = values<double>(res[0]);
          std::vector<std::int64_t> idx(static_cast<std::size_t>(R), 0);
          for (std::int64_t k = 0; k < count(so); ++k) {
            std::int64_t rem = k;
            for (int j = R - 1; j >= 0; --j) {
              idx[static_cast<std::size_t>(j)] = rem % so[static_cast<std::size_t>(j)];
              rem /= so[static_cast<std::size_t>(j)];
            }
            const double want = va[static_cast<std::size_t>(source_index(idx, sa))] -
                                vb[static_cast<std::size_t>(source_index(idx, sb))];
            ASSERT_EQ(got[static_cast<std::size_t>(k)], want) << "element " << k;
          }
          ++cases;
        }
  EXPECT_EQ(cases, 31 * 31); // (1 + 2 + 4 + 8 + 16)^2 shape pairs
}

TEST(Broadcast, SymbolicDimsAndTernary) {
  // where(c[n,1], a[m], b[]) -> [n, m]
  ir::Graph g;
  auto c = input(g, "c", type(boolean, {S("n"), D(1)}));
  auto a = input(g, "a", type(i64, {S("m")}));
  auto b = input(g, "b", type(i64));
  output(g, op(g, Op::Where, type(i64, {S("n"), S("m")}), {c, a, b}));
  auto res = ir::interpret(g,
                           {{"c", make<std::uint8_t>(boolean, {3, 1}, {1, 0, 1})},
                            {"a", make<std::int64_t>(i64, {2}, {10, 20})},
                            {"b", make<std::int64_t>(i64, {}, {-5})}},
                           {});
  EXPECT_EQ(res[0].shape(), (std::vector<std::int64_t>{3, 2}));
  EXPECT_EQ(values<std::int64_t>(res[0]), (std::vector<std::int64_t>{10, 20, -5, -5, 10, 20}));
}

TEST(Views, StridedNegativeAndZeroStrides) {
  // A 4x6 buffer; views read it transposed, reversed, every other column, and broadcast.
  std::vector<std::int32_t> buf(24);
  std::iota(buf.begin(), buf.end(), 0);
  auto at = [&](std::int64_t off) { return buf[static_cast<std::size_t>(off)]; };
  struct V {
    const char *what;
    std::int64_t start;
    std::vector<std::int64_t> shape, strides;
  };
  const V views[] = {
      {"transposed", 0, {6, 4}, {1, 6}},
      {"both reversed", 23, {4, 6}, {-6, -1}},
      {"rows reversed, every other column", 18, {4, 3}, {-6, 2}},
      {"zero stride rows", 6, {5, 6}, {0, 1}},
      {"zero stride everywhere", 7, {3, 2}, {0, 0}},
      {"reversed column of a transposed view", 23, {6}, {-1}},
  };
  for (const V &v : views) {
    SCOPED_TRACE(v.what);
    ir::Graph g;
    ir::Type t = fixed_type(i32, v.shape);
    auto x = input(g, "x", t);
    // y = x * 3 - x[0...] broadcast: exercise both a strided operand and a constant.
    auto three = cnst_i(g, i32, 3);
    output(g, op(g, Op::Mul, t, {x, three}));
    output(g,
           reduce(g, Op::Sum, type(i64), x,
                  v.shape.size() == 1 ? std::vector<int>{0} : std::vector<int>{0, 1}),
           "s");
    Array xv = Array::view(buf.data() + v.start, i32, v.shape, v.strides);
    auto res = ir::interpret(g, {{"x", xv}}, {});
    auto got = values<std::int32_t>(res[0]);
    std::int64_t k = 0, sum = 0;
    if (v.shape.size() == 1) {
      for (std::int64_t i = 0; i < v.shape[0]; ++i, ++k) {
        const std::int32_t e = at(v.start + i * v.strides[0]);
        EXPECT_EQ(got[static_cast<std::size_t>(k)], 3 * e);
        sum += e;
      }
    } else {
      for (std::int64_t i = 0; i < v.shape[0]; ++i)
        for (std::int64_t j = 0; j < v.shape[1]; ++j, ++k) {
          const std::int32_t e = at(v.start + i * v.strides[0] + j * v.strides[1]);
          EXPECT_EQ(got[static_cast<std::size_t>(k)], 3 * e) << i << "," << j;
          sum += e;
        }
    }
    EXPECT_EQ(values<std::int64_t>(res[1]), std::vector<std::int64_t>{sum});
    EXPECT_TRUE(res[0].is_contiguous());
  }
}

TEST(Views, HalfInputsAreWidenedExactly) {
  // f16 input, strided: y = f32(x) * 2, then back to f16 -> exact doubling.
  std::uint16_t buf[] = {0x3c00, 0xffff, 0x3555, 0xffff, 0x0001, 0xffff, 0xfbff};
  ir::Graph g;
  auto x = input(g, "x", type(f16, {S("n")}));
  auto w = op(g, Op::Cast, type(f32, {S("n")}), {x});
  auto two = cnst_f(g, f32, 2.0);
  auto y = op(g, Op::Mul, type(f32, {S("n")}), {w, two});
  output(g, op(g, Op::Cast, type(f16, {S("n")}), {y}));
  Array xv = view(buf, f16, {4}, {2});
  auto res = ir::interpret(g, {{"x", xv}}, {});
  EXPECT_EQ(values<std::uint16_t>(res[0]),
            (std::vector<std::uint16_t>{0x4000, 0x3955, 0x0002, 0xfc00}));
}

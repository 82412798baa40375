// tests/interp/ReduceTest.cpp — reductions over every axis combination of rank 1-4 arrays (with
// empty and size-1 dims, with and without keepdims) against a grouping reference written here,
// plus the accumulator, NaN, signed-zero and empty-extent rules of docs/semantics.md.
#include "Helpers.h"

#include "support/Half.h"

#include <xpr/error.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <numeric>

using namespace xpr;
using namespace xpr::test;
using ir::Op;

namespace {

ir::Type fixed_type(DType t, const std::vector<std::int64_t> &s) {
  ir::Type ty{t, {}};
  for (auto d : s)
    ty.dims.push_back(ir::Dim::fixed(d));
  return ty;
}

/// The reference: the values of each output element's group, in C order of the reduced index.
std::vector<std::vector<double>> groups(const std::vector<std::int64_t> &shape,
                                        const std::vector<bool> &red, const std::vector<double> &v,
                                        std::int64_t nout) {
  std::vector<std::vector<double>> g(static_cast<std::size_t>(nout));
  const std::size_t r = shape.size();
  std::vector<std::int64_t> idx(r, 0);
  for (std::size_t flat = 0; flat < v.size(); ++flat) {
    std::int64_t k = 0;
    for (std::size_t d = 0; d < r; ++d)
      if (!red[d]) k = k * shape[d] + idx[d];
    g[static_cast<std::size_t>(k)].push_back(v[flat]);
    for (std::size_t d = r; d-- > 0;) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return g;
}

std::string error_of(const ir::Graph &g, const std::map<std::string, Array> &in) {
  try {
    ir::interpret(g, in, {});
  } catch (const Error &e) {
    EXPECT_EQ(e.kind(), ErrorKind::Runtime);
    return e.message();
  }
  return "no error";
}

} // namespace

TEST(Reduce, EveryAxisCombination) {
  const std::vector<std::vector<std::int64_t>> shapes = {
      {5},       {0},       {1},          {2, 3},       {3, 1},       {0, 2},
      {2, 1, 3}, {2, 0, 3}, {2, 3, 2, 2}, {1, 2, 1, 3}, {3, 0, 1, 2},
  };
  int checked = 0;
  for (const auto &shape : shapes) {
    const int r = static_cast<int>(shape.size());
    const std::int64_t n =
        std::accumulate(shape.begin(), shape.end(), std::int64_t{1}, std::multiplies<>());
    // Values with repeats (so "first index" matters), small enough that sums and products of
    // i32 stay exact in double.
    std::vector<double> vd(static_cast<std::size_t>(n));
    std::vector<std::int32_t> vi(static_cast<std::size_t>(n));
    std::vector<std::uint8_t> vb(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) {
      vi[static_cast<std::size_t>(i)] = static_cast<std::int32_t>((i * 7) % 5) - 2;
      vd[static_cast<std::size_t>(i)] = vi[static_cast<std::size_t>(i)];
      vb[static_cast<std::size_t>(i)] = (i % 3) != 0;
    }
    for (unsigned mask = 0; mask < (1u << r); ++mask)
      for (bool keep : {false, true}) {
        std::vector<int> axes;
        std::vector<bool> red(static_cast<std::size_t>(r));
        std::vector<std::int64_t> oshape;
        std::int64_t nout = 1, nred = 1;
        for (int d = 0; d < r; ++d) {
          red[static_cast<std::size_t>(d)] = (mask >> d) & 1;
          if (red[static_cast<std::size_t>(d)]) {
            axes.push_back(d);
            nred *= shape[static_cast<std::size_t>(d)];
            if (keep) oshape.push_back(1);
          } else {
            oshape.push_back(shape[static_cast<std::size_t>(d)]);
            nout *= shape[static_cast<std::size_t>(d)];
          }
        }
        auto grp = groups(shape, red, vd, nout);
        auto bgrp = groups(shape, red, std::vector<double>(vb.begin(), vb.end()), nout);
        for (Op o : {Op::Sum, Op::Prod, Op::Min, Op::Max, Op::Mean, Op::Any, Op::All, Op::ArgMin,
                     Op::ArgMax}) {
          SCOPED_TRACE(::testing::Message() << ir::op_name(o) << " shape rank " << r << " mask "
                                            << mask << " keepdims " << keep << " n " << n);
          const bool logical = o == Op::Any || o == Op::All;
          const DType in_t = logical ? boolean : (o == Op::Sum || o == Op::Prod) ? i32 : f64;
          const DType out_t =
              logical                                                                 ? boolean
              : (o == Op::Sum || o == Op::Prod || o == Op::ArgMin || o == Op::ArgMax) ? i64
                                                                                      : f64;
          ir::Graph g;
          auto x = input(g, "x", fixed_type(in_t, shape));
          output(g, reduce(g, o, fixed_type(out_t, oshape), x, axes, keep));
          Array xa = logical       ? make(in_t, shape, vb)
                     : in_t == i32 ? make(in_t, shape, vi)
                                   : make(in_t, shape, vd);
          const bool needs = o == Op::Min || o == Op::Max || o == Op::ArgMin || o == Op::ArgMax;
          if (needs && nred == 0) {
            EXPECT_EQ(error_of(g, {{"x", xa}}),
                      std::string(ir::op_name(o)) + " of an empty array has no identity");
            continue;
          }
          auto res = ir::interpret(g, {{"x", xa}}, {});
          ASSERT_EQ(res[0].shape(), oshape);
          ASSERT_EQ(res[0].dtype(), out_t);
          for (std::int64_t k = 0; k < nout; ++k) {
            const auto &vals = (logical ? bgrp : grp)[static_cast<std::size_t>(k)];
            double want = 0;
            switch (o) {
            case Op::Sum:
              for (double v : vals)
                want += v;
              break;
            case Op::Prod:
              want = 1;
              for (double v : vals)
                want *= v;
              break;
            case Op::Mean:
              for (double v : vals)
                want += v;
              want /= static_cast<double>(vals.size());
              break;
            case Op::Min:
              want = *std::min_element(vals.begin(), vals.end());
              break;
            case Op::Max:
              want = *std::max_element(vals.begin(), vals.end());
              break;
            case Op::ArgMin:
              want = static_cast<double>(std::min_element(vals.begin(), vals.end()) - vals.begin());
              break;
            case Op::ArgMax:
              want = static_cast<double>(std::max_element(vals.begin(), vals.end()) - vals.begin());
              break;
            case Op::Any:
              want = std::any_of(vals.begin(), vals.end(), [](double v) { return v != 0; });
              break;
            case Op::All:
              want = std::all_of(vals.begin(), vals.end(), [](double v) { return v != 0; });
              break;
            default:
              FAIL();
            }
            double got;
            if (out_t == i64)
              got = static_cast<double>(values<std::int64_t>(res[0])[static_cast<std::size_t>(k)]);
            else if (out_t == boolean)
              got = values<std::uint8_t>(res[0])[static_cast<std::size_t>(k)];
            else
              got = values<double>(res[0])[static_cast<std::size_t>(k)];
            if (std::isnan(want))
              EXPECT_TRUE(std::isnan(got)) << "element " << k;
            else
              EXPECT_EQ(got, want) << "element " << k;
            ++checked;
          }
        }
      }
  }
  EXPECT_GT(checked, 3000);
}

TEST(Reduce, NaNAndSignedZeros) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  auto run = [&](Op o, DType out, std::vector<double> v) {
    ir::Graph g;
    const std::int64_t n = static_cast<std::int64_t>(v.size());
    auto x = input(g, "x", type(f64, {D(n)}));
    output(g, reduce(g, o, type(out), x, {0}));
    return ir::interpret(g, {{"x", make(f64, {n}, v)}}, {})[0];
  };
  EXPECT_TRUE(std::isnan(values<double>(run(Op::Min, f64, {1.0, nan, -5.0}))[0]));
  EXPECT_TRUE(std::isnan(values<double>(run(Op::Max, f64, {1.0, 2.0, nan}))[0]));
  EXPECT_EQ(values<std::int64_t>(run(Op::ArgMin, i64, {3.0, -1.0, nan, -7.0, nan}))[0], 2);
  EXPECT_EQ(values<std::int64_t>(run(Op::ArgMax, i64, {3.0, 9.0, 9.0, 1.0}))[0], 1);
  EXPECT_EQ(values<std::int64_t>(run(Op::ArgMax, i64, {nan, 9.0}))[0], 0);
  // -0 < +0 in min/max and therefore in argmin/argmax (NumPy: first of equal values).
  EXPECT_TRUE(std::signbit(values<double>(run(Op::Min, f64, {0.0, -0.0, 0.0}))[0]));
  EXPECT_FALSE(std::signbit(values<double>(run(Op::Max, f64, {-0.0, 0.0, -0.0}))[0]));
  EXPECT_EQ(values<std::int64_t>(run(Op::ArgMin, i64, {0.0, -0.0}))[0], 1);
  EXPECT_EQ(values<std::int64_t>(run(Op::ArgMax, i64, {-0.0, 0.0}))[0], 1);
  EXPECT_TRUE(std::isnan(values<double>(run(Op::Mean, f64, {}))[0]));
  EXPECT_EQ(values<double>(run(Op::Sum, f64, {}))[0], 0.0);
  EXPECT_EQ(values<double>(run(Op::Prod, f64, {}))[0], 1.0);
}

TEST(Reduce, AccumulatorTypes) {
  // f32 sums accumulate in f64 and round once: 1e8 + 1 - 1e8 is 1, not 0.
  {
    ir::Graph g;
    auto x = input(g, "x", type(f32, {D(3)}));
    output(g, reduce(g, Op::Sum, type(f32), x, {0}));
    output(g, reduce(g, Op::Mean, type(f32), x, {0}), "m");
    auto r = ir::interpret(g, {{"x", make<float>(f32, {3}, {1e8f, 1.0f, -1e8f})}}, {});
    EXPECT_EQ(values<float>(r[0])[0], 1.0f);
    EXPECT_EQ(values<float>(r[1])[0], static_cast<float>(1.0 / 3.0));
  }
  // i8 sums to i64 without wrapping at 8 bits; u64 sums wrap; bool sums count.
  {
    ir::Graph g;
    auto a = input(g, "a", type(i8, {D(3)}));
    auto b = input(g, "b", type(u64, {D(2)}));
    auto c = input(g, "c", type(boolean, {D(4)}));
    output(g, reduce(g, Op::Sum, type(i64), a, {0}));
    output(g, reduce(g, Op::Sum, type(u64), b, {0}), "b");
    output(g, reduce(g, Op::Sum, type(i64), c, {0}), "c");
    output(g, reduce(g, Op::Prod, type(i64), a, {0}), "pa");
    output(g, reduce(g, Op::Mean, type(f64), a, {0}), "ma");
    output(g, reduce(g, Op::Min, type(i8), a, {0}), "mina");
    auto r = ir::interpret(g,
                           {{"a", make<std::int8_t>(i8, {3}, {100, 100, -128})},
                            {"b", make<std::uint64_t>(u64, {2}, {UINT64_MAX, 5})},
                            {"c", make<std::uint8_t>(boolean, {4}, {1, 0, 1, 1})}},
                           {});
    EXPECT_EQ(values<std::int64_t>(r[0])[0], 72);
    EXPECT_EQ(values<std::uint64_t>(r[1])[0], 4u);
    EXPECT_EQ(values<std::int64_t>(r[2])[0], 3);
    EXPECT_EQ(values<std::int64_t>(r[3])[0], -1280000);
    EXPECT_EQ(values<double>(r[4])[0], 24.0);
    EXPECT_EQ(values<std::int8_t>(r[5])[0], -128);
  }
  // i64 products wrap.
  {
    ir::Graph g;
    auto a = input(g, "a", type(i64, {D(2)}));
    output(g, reduce(g, Op::Prod, type(i64), a, {0}));
    auto r = ir::interpret(g, {{"a", make<std::int64_t>(i64, {2}, {1LL << 62, 4})}}, {});
    EXPECT_EQ(values<std::int64_t>(r[0])[0], 0);
  }
  // Halves: an f16 operand sums in f64 and rounds to f16 once at the end.
  {
    ir::Graph g;
    auto h = input(g, "h", type(f16, {D(3)}));
    output(g, reduce(g, Op::Sum, type(f16), h, {0}));
    // 2048 + 1 + 1: in f16 steps each +1 would be a tie back to 2048; exactly it is 2050.
    auto r = ir::interpret(g, {{"h", make<std::uint16_t>(f16, {3}, {0x6800, 0x3c00, 0x3c00})}}, {});
    EXPECT_EQ(values<std::uint16_t>(r[0])[0], 0x6801);
  }
}

TEST(Reduce, EmptyExtentMessagesAndEmptyResults) {
  ir::Graph g;
  auto x = input(g, "x", type(f64, {S("n"), S("m")}));
  output(g, reduce(g, Op::Max, type(f64, {S("n")}), x, {1}));
  // Reducing a non-empty extent into an empty result is fine.
  auto r = ir::interpret(g, {{"x", Array::empty(f64, {0, 3})}}, {});
  EXPECT_EQ(r[0].shape(), std::vector<std::int64_t>{0});
  // An empty reduced extent has no identity, even when the result is empty too (as NumPy).
  EXPECT_EQ(error_of(g, {{"x", Array::empty(f64, {2, 0})}}),
            "max of an empty array has no identity");
  EXPECT_EQ(error_of(g, {{"x", Array::empty(f64, {0, 0})}}),
            "max of an empty array has no identity");
  ir::Graph h;
  auto y = input(h, "y", type(i32, {S("n")}));
  output(h, reduce(h, Op::ArgMin, type(i64), y, {0}));
  EXPECT_EQ(error_of(h, {{"y", Array::empty(i32, {0})}}),
            "argmin of an empty array has no identity");
}

TEST(Reduce, StridedOperandAndRankZero) {
  // argmax over both axes of a reversed-rows view returns the flat index within that view.
  std::int32_t buf[] = {1, 2, 3, 9, 5, 6};
  ir::Graph g;
  auto x = input(g, "x", type(i32, {D(2), D(3)}));
  output(g, reduce(g, Op::ArgMax, type(i64), x, {0, 1}));
  output(g, reduce(g, Op::ArgMax, type(i64, {D(1), D(3)}), x, {0}, true), "cols");
  auto r = ir::interpret(g, {{"x", view(buf + 3, i32, {2, 3}, {-3, 1})}}, {}); // rows 9 5 6 / 1 2 3
  EXPECT_EQ(values<std::int64_t>(r[0])[0], 0);
  EXPECT_EQ(values<std::int64_t>(r[1]), (std::vector<std::int64_t>{0, 0, 0}));
  // A rank-0 operand reduced over no axes is itself (converted to the accumulator type).
  ir::Graph h;
  auto s = input(h, "s", type(u8));
  output(h, reduce(h, Op::Sum, type(u64), s, {}));
  auto r2 = ir::interpret(h, {{"s", make<std::uint8_t>(u8, {}, {200})}}, {});
  EXPECT_EQ(values<std::uint64_t>(r2[0]), std::vector<std::uint64_t>{200});
}

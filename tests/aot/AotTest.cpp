// tests/aot/AotTest.cpp — xprc and libxpr_rt against the JIT: bit-for-bit results (in process,
// through objects xpr_add_kernels linked into this test, and through C/C++ programs built with
// plain cc/c++), the runtime's error codes, linking without LLVM, and xprc's diagnostics.
#include <unistd.h>
#include "mix.h"
#include "reduce.h"
#include "reduce3d.h"
#include "reduce_types.h"
#include "rowsum.h"
#include "scale.h"
#include "softmax.h"

#include <xpr/xpr.hpp>

#include "runtime/rt/xpr_rt_plan.h"
#include "tests/aot/Shell.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;

std::string read_text(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

using xpr::aottest::sh;

std::uint16_t f16_bits(float f) {
  // Values used here are exact in f16: build the bits from the f32 pattern (no rounding needed).
  std::uint32_t b;
  std::memcpy(&b, &f, 4);
  const std::uint32_t sign = (b >> 16) & 0x8000u;
  const int e = static_cast<int>((b >> 23) & 0xff) - 127 + 15;
  if ((b & 0x7fffffffu) == 0) return static_cast<std::uint16_t>(sign);
  return static_cast<std::uint16_t>(sign | (static_cast<std::uint32_t>(e) << 10) | ((b >> 13) & 0x3ffu));
}

std::string fmt_shape(std::int64_t m, std::int64_t n, int threads) {
  return "shape [" + std::to_string(m) + ", " + std::to_string(n) + "], " +
         std::to_string(threads) + " thread(s)";
}

template <class T> bool same_bits(const std::vector<T> &a, const std::vector<T> &b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

// ---- in process: mix.xpr and scale.xpr, compiled by xprc at build time ----

struct MixData {
  std::int64_t m = 0, n = 0;
  std::vector<float> a, b;
  std::vector<std::uint16_t> h;
  double c = 1.5;
  float p = 0.75f;
  std::int8_t q = 7;
  bool flag = true;
  float hp = 0.5f;
  MixData(std::int64_t m_, std::int64_t n_) : m(m_), n(n_), a(m_ * n_), b(n_), h(m_ * n_) {
    std::uint32_t s = 99;
    auto next = [&] {
      s = s * 1664525u + 1013904223u;
      return static_cast<float>(s >> 8) / 16777216.0f;
    };
    for (auto &x : a) x = 6.0f * next() - 3.0f;
    for (auto &x : b) x = 2.0f * next() - 1.0f;
    for (auto &x : h) x = f16_bits(static_cast<float>(static_cast<int>(next() * 64) - 32) / 8.0f);
  }
};

struct MixOut {
  std::vector<float> y;
  std::vector<std::int32_t> u;
  double d = 0;
};

MixOut jit_mix(const MixData &D) {
  xpr::Options opts;
  opts.threads = 2;
  xpr::Context ctx(opts);
  xpr::Program prog = ctx.compile(read_text(std::string(XPR_TEST_DATA_DIR) + "/kernels/mix.xpr"));
  auto &a = const_cast<MixData &>(D);
  xpr::Outputs out = prog.run(
      {{"a", xpr::view(a.a.data(), xpr::f32, {D.m, D.n})},
       {"b", xpr::view(a.b.data(), xpr::f32, {D.n})},
       {"h", xpr::view(a.h.data(), xpr::f16, {D.m, D.n})},
       {"c", xpr::view(&a.c, xpr::f64, {})}},
      {{"p", D.p}, {"q", static_cast<int>(D.q)}, {"flag", D.flag}, {"hp", D.hp}});
  MixOut r;
  const xpr::Array &y = out.at("y"), &u = out.at("u"), &d = out.at("d");
  r.y.assign(y.data_as<float>(), y.data_as<float>() + y.size());
  r.u.assign(u.data_as<std::int32_t>(), u.data_as<std::int32_t>() + u.size());
  r.d = *d.data_as<double>();
  return r;
}

TEST(AotInProcess, ContiguousMatchesJitBitForBit) {
  MixData D(123, 517); // 63591 elements: above libxpr_rt's serial threshold
  MixOut J = jit_mix(D);
  MixOut A{std::vector<float>(D.a.size()), std::vector<std::int32_t>(D.a.size()), 0};
  ASSERT_EQ(mix(D.m, D.n, D.a.data(), nullptr, D.b.data(), nullptr, D.h.data(), nullptr, &D.c,
                nullptr, D.p, D.q, D.flag, D.hp, A.y.data(), nullptr, A.u.data(), nullptr, &A.d,
                nullptr),
            XPR_RT_OK)
      << xpr_rt_last_error();
  EXPECT_TRUE(same_bits(A.y, J.y));
  EXPECT_TRUE(same_bits(A.u, J.u));
  EXPECT_EQ(std::memcmp(&A.d, &J.d, sizeof(double)), 0);
  EXPECT_EQ(A.d, 1.5 * 2.0 + 7.0);
  // flag = false takes the other branch of where(): a param of dtype bool reaches the kernel.
  MixData E = D;
  E.flag = false;
  MixOut J2 = jit_mix(E);
  ASSERT_EQ(mix(E.m, E.n, E.a.data(), nullptr, E.b.data(), nullptr, E.h.data(), nullptr, &E.c,
                nullptr, E.p, E.q, E.flag, E.hp, A.y.data(), nullptr, A.u.data(), nullptr, &A.d,
                nullptr),
            XPR_RT_OK);
  EXPECT_TRUE(same_bits(A.y, J2.y));
  EXPECT_FALSE(same_bits(J.y, J2.y));
}

TEST(AotInProcess, StridedAndNegativeStridesMatchJit) {
  MixData D(37, 301);
  MixOut J = jit_mix(D);
  // a stored transposed (column-major), b reversed through a negative stride, outputs strided.
  std::vector<float> at(D.a.size());
  for (std::int64_t i = 0; i < D.m; ++i)
    for (std::int64_t j = 0; j < D.n; ++j) at[j * D.m + i] = D.a[i * D.n + j];
  std::vector<float> brev(D.b.rbegin(), D.b.rend());
  const std::int64_t a_st[2] = {1, D.m}, b_st[1] = {-1}, y_st[2] = {1, D.m};
  std::vector<float> yt(D.a.size());
  std::vector<std::int32_t> u(D.a.size());
  double d = 0;
  ASSERT_EQ(mix(D.m, D.n, at.data(), a_st, brev.data() + D.n - 1, b_st, D.h.data(), nullptr, &D.c,
                nullptr, D.p, D.q, D.flag, D.hp, yt.data(), y_st, u.data(), nullptr, &d, nullptr),
            XPR_RT_OK)
      << xpr_rt_last_error();
  std::vector<float> y(D.a.size());
  for (std::int64_t i = 0; i < D.m; ++i)
    for (std::int64_t j = 0; j < D.n; ++j) y[i * D.n + j] = yt[j * D.m + i];
  EXPECT_TRUE(same_bits(y, J.y));
  EXPECT_TRUE(same_bits(u, J.u));
}

TEST(AotInProcess, ThreadCountsAndRangesGiveTheSameBits) {
  MixData D(200, 333);
  std::vector<float> y1(D.a.size()), y2(D.a.size()), y3(D.a.size());
  std::vector<std::int32_t> u1(D.a.size()), u2(D.a.size()), u3(D.a.size());
  double d1 = 0, d2 = 0, d3 = 0;
  const int before = xpr_rt_threads();
  xpr_rt_set_threads(1);
  EXPECT_EQ(xpr_rt_threads(), 1);
  ASSERT_EQ(mix(D.m, D.n, D.a.data(), nullptr, D.b.data(), nullptr, D.h.data(), nullptr, &D.c,
                nullptr, D.p, D.q, D.flag, D.hp, y1.data(), nullptr, u1.data(), nullptr, &d1, nullptr),
            XPR_RT_OK);
  xpr_rt_set_threads(3);
  ASSERT_EQ(mix(D.m, D.n, D.a.data(), nullptr, D.b.data(), nullptr, D.h.data(), nullptr, &D.c,
                nullptr, D.p, D.q, D.flag, D.hp, y2.data(), nullptr, u2.data(), nullptr, &d2, nullptr),
            XPR_RT_OK);
  xpr_rt_set_threads(before);
  // Two loops: [m, n] then the rank-0 one, so the work is m*n + 1.
  const std::int64_t work = mix_work(D.m, D.n);
  EXPECT_EQ(work, D.m * D.n + 1);
  for (std::int64_t lo = 0; lo < work; lo += 4097)
    ASSERT_EQ(mix_range(lo, std::min(work, lo + 4097), D.m, D.n, D.a.data(), nullptr, D.b.data(),
                        nullptr, D.h.data(), nullptr, &D.c, nullptr, D.p, D.q, D.flag, D.hp,
                        y3.data(), nullptr, u3.data(), nullptr, &d3, nullptr),
              XPR_RT_OK);
  EXPECT_TRUE(same_bits(y1, y2));
  EXPECT_TRUE(same_bits(y1, y3));
  EXPECT_TRUE(same_bits(u1, u3));
  EXPECT_EQ(d1, d3);
  EXPECT_EQ(d1, d2);
}

TEST(AotInProcess, EmptyArraysAreFine) {
  float dummy = 0;
  EXPECT_EQ(scale(0, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr), XPR_RT_OK);
  EXPECT_EQ(scale_work(0), 0);
  EXPECT_EQ(scale_range(0, 0, 0, &dummy, nullptr, &dummy, nullptr, &dummy, nullptr), XPR_RT_OK);
}

TEST(AotInProcess, ErrorCodesAndMessages) {
  std::vector<float> a(8, 1.0f), b(8, 2.0f), out(8);
  EXPECT_EQ(scale(8, nullptr, nullptr, b.data(), nullptr, out.data(), nullptr), XPR_RT_ENULL);
  EXPECT_STREQ(xpr_rt_last_error(), "input 'a' has 8 elements but its pointer is NULL");
  EXPECT_EQ(scale(-2, a.data(), nullptr, b.data(), nullptr, out.data(), nullptr), XPR_RT_ESHAPE);
  EXPECT_STREQ(xpr_rt_last_error(), "size n = -2: sizes must be >= 0");
  EXPECT_EQ(scale_work(-2), -1);
  float f = 0;
  double d = 0;
  std::uint16_t h = 0;
  const std::int64_t big = INT64_C(1) << 40;
  EXPECT_EQ(mix(big, big, &f, nullptr, &f, nullptr, &h, nullptr, &d, nullptr, 0.0f, 1, true, 0.0f,
                &f, nullptr, nullptr, nullptr, &d, nullptr),
            XPR_RT_ESHAPE);
  EXPECT_STREQ(xpr_rt_last_error(), "input 'a': the element count overflows");
}

TEST(AotInProcess, OverlapRules) {
  std::vector<float> a(16), b(16, 1.0f), ref(16);
  for (int i = 0; i < 16; ++i) a[static_cast<std::size_t>(i)] = static_cast<float>(i);
  for (int i = 0; i < 16; ++i) ref[static_cast<std::size_t>(i)] = a[static_cast<std::size_t>(i)] * 2.0f + 1.0f;
  // In place: the output is the very memory of input a, in the same layout.
  ASSERT_EQ(scale(16, a.data(), nullptr, b.data(), nullptr, a.data(), nullptr), XPR_RT_OK);
  EXPECT_EQ(a, ref);
  // Shifted by one element: an error, never silently wrong results.
  EXPECT_EQ(scale(15, a.data(), nullptr, b.data(), nullptr, a.data() + 1, nullptr), XPR_RT_EOVERLAP);
  EXPECT_STREQ(xpr_rt_last_error(),
               "output 'out' overlaps input 'a' (only the very same elements in the same layout "
               "may be shared, for in-place updates)");
  const std::int64_t zero[1] = {0};
  std::vector<float> o(16);
  EXPECT_EQ(scale(16, a.data(), nullptr, b.data(), nullptr, o.data(), zero), XPR_RT_EOVERLAP);
  EXPECT_STREQ(xpr_rt_last_error(),
               "output 'out' has a zero stride, so several of its elements share memory");
  EXPECT_EQ(scale_range(0, 17, 16, a.data(), nullptr, b.data(), nullptr, o.data(), nullptr),
            XPR_RT_ERANGE);
  EXPECT_STREQ(xpr_rt_last_error(), "range [0, 17) is not within [0, 16)");
  EXPECT_STREQ(xpr_rt_error_string(XPR_RT_EOVERLAP), "overlapping arrays");
}

// ---- reductions: reduce.xpr and softmax.xpr against the JIT ----

/// One output of an AOT call: its name and bytes, compared with the JIT's output of that name.
struct OutBuf {
  std::string name;
  std::vector<unsigned char> bytes;
  void *data() { return bytes.data(); }
};

struct ReduceData {
  std::int64_t m, n;
  std::vector<float> a;
  std::vector<double> b;
  std::vector<std::int32_t> k;
  float t = 0.5f;
  ReduceData(std::int64_t m_, std::int64_t n_, std::uint32_t seed = 7)
      : m(m_), n(n_), a(static_cast<std::size_t>(m_ * n_)), b(static_cast<std::size_t>(n_)),
        k(static_cast<std::size_t>(m_ * n_)) {
    std::uint32_t s = seed;
    auto next = [&] {
      s = s * 1664525u + 1013904223u;
      return static_cast<float>(s >> 8) / 16777216.0f;
    };
    for (auto &x : a) x = 6.0f * next() - 3.0f;
    for (auto &x : b) x = 2.0 * next() - 1.0;
    for (auto &x : k) x = static_cast<std::int32_t>(next() * 2000000.0f) - 1000000;
  }
};

xpr::Outputs jit_reduce(ReduceData &D, int threads) {
  xpr::Options opts;
  opts.threads = threads;
  xpr::Context ctx(opts);
  xpr::Program prog = ctx.compile(read_text(std::string(XPR_TEST_DATA_DIR) + "/kernels/reduce.xpr"));
  return prog.run({{"a", xpr::view(D.a.data(), xpr::f32, {D.m, D.n})},
                   {"b", xpr::view(D.b.data(), xpr::f64, {D.n})},
                   {"k", xpr::view(D.k.data(), xpr::i32, {D.m, D.n})}},
                  {{"t", D.t}});
}

/// Output buffers sized as the JIT's outputs, in the order of reduce.h's arguments.
std::vector<OutBuf> out_bufs(const xpr::Outputs &J, std::initializer_list<const char *> names) {
  std::vector<OutBuf> v;
  for (const char *n : names) {
    const xpr::Array &a = J.at(n);
    v.push_back({n, std::vector<unsigned char>(static_cast<std::size_t>(a.size()) *
                                                   xpr::dtype_size(a.dtype()) + 1, 0xcd)});
  }
  return v;
}

void expect_same(const xpr::Outputs &J, const std::vector<OutBuf> &A, const std::string &what) {
  for (const OutBuf &o : A) {
    const xpr::Array &a = J.at(o.name);
    const std::size_t bytes = static_cast<std::size_t>(a.size()) * xpr::dtype_size(a.dtype());
    ASSERT_TRUE(a.is_contiguous());
    EXPECT_EQ(std::memcmp(a.data(), o.bytes.data(), bytes), 0) << what << ": output " << o.name;
    EXPECT_EQ(o.bytes[bytes], 0xcd) << what << ": output " << o.name << " written past its end";
  }
}

const std::initializer_list<const char *> kReduceOuts = {
    "s", "rs", "cs", "p", "mn", "mx", "me", "amx", "amn", "acol", "bs", "bm", "ks", "kmx",
    "an", "al", "c"};

int call_reduce(ReduceData &D, std::vector<OutBuf> &o, const float *a = nullptr,
                const std::int64_t *a_strides = nullptr) {
  auto f = [&](int i) { return static_cast<float *>(o[static_cast<std::size_t>(i)].data()); };
  auto l = [&](int i) { return static_cast<std::int64_t *>(o[static_cast<std::size_t>(i)].data()); };
  auto d = [&](int i) { return static_cast<double *>(o[static_cast<std::size_t>(i)].data()); };
  return reduce(D.m, D.n, a ? a : D.a.data(), a_strides, D.b.data(), nullptr, D.k.data(), nullptr,
                D.t, f(0), nullptr, f(1), nullptr, f(2), nullptr, f(3), nullptr, f(4), nullptr,
                f(5), nullptr, f(6), nullptr, l(7), nullptr, l(8), nullptr, l(9), nullptr, d(10),
                nullptr, d(11), nullptr, l(12), nullptr,
                static_cast<std::int32_t *>(o[13].data()), nullptr,
                static_cast<bool *>(o[14].data()), nullptr, static_cast<bool *>(o[15].data()),
                nullptr, f(16), nullptr);
}

TEST(AotReduce, EveryReductionMatchesJitBitForBit) {
  // Shapes that exercise: long rows (several 4096-blocks per output, pieces of 1024), short rows
  // packed into one kernel call, many row blocks in column reductions (> 256 rows), one wide
  // tile (> 1024 columns), and sizes far above the serial threshold (several threads).
  const std::pair<std::int64_t, std::int64_t> shapes[] = {
      {37, 9001}, {1000, 301}, {3, 50000}, {700, 1500}, {1, 1}, {5, 4096}, {257, 17}};
  const int before = xpr_rt_threads();
  for (auto [m, n] : shapes)
    for (int threads : {1, 4}) {
      ReduceData D(m, n, static_cast<std::uint32_t>(m * 31 + n));
      const xpr::Outputs J = jit_reduce(D, threads == 1 ? 3 : 1);
      std::vector<OutBuf> A = out_bufs(J, kReduceOuts);
      xpr_rt_set_threads(threads);
      ASSERT_EQ(call_reduce(D, A), XPR_RT_OK) << xpr_rt_last_error();
      expect_same(J, A, fmt_shape(m, n, threads));
    }
  xpr_rt_set_threads(before);
}

TEST(AotReduce, EveryValueDtypeMatchesJitBitForBit) {
  for (auto [m, n] : {std::pair<std::int64_t, std::int64_t>{300, 5001}, {4100, 3}, {2, 1}}) {
    const std::size_t N = static_cast<std::size_t>(m * n);
    std::vector<std::uint16_t> h(N), g(N);
    std::vector<std::uint8_t> u(N), f(N);
    std::vector<std::int16_t> w(N);
    std::vector<std::uint64_t> q(N);
    std::uint32_t s = 5;
    auto next = [&] {
      s = s * 1664525u + 1013904223u;
      return s >> 8;
    };
    for (std::size_t i = 0; i < N; ++i) {
      h[i] = f16_bits(static_cast<float>(static_cast<int>(next() % 64) - 32) / 8.0f);
      g[i] = static_cast<std::uint16_t>(0x3f80u + (next() % 0x7f)); // bf16 in [1, 2)
      u[i] = static_cast<std::uint8_t>(next() % 200 + 20);
      w[i] = static_cast<std::int16_t>(static_cast<int>(next() % 60000) - 30000);
      q[i] = (static_cast<std::uint64_t>(next()) << 40) ^ next();
      f[i] = (next() % 1000) != 0;
    }
    xpr::Options opts;
    opts.threads = 3;
    xpr::Context ctx(opts);
    xpr::Program prog =
        ctx.compile(read_text(std::string(XPR_TEST_DATA_DIR) + "/kernels/reduce_types.xpr"));
    const xpr::Outputs J = prog.run({{"h", xpr::view(h.data(), xpr::f16, {m, n})},
                                     {"g", xpr::view(g.data(), xpr::bf16, {m, n})},
                                     {"u", xpr::view(u.data(), xpr::u8, {m, n})},
                                     {"w", xpr::view(w.data(), xpr::i16, {m, n})},
                                     {"q", xpr::view(q.data(), xpr::u64, {m, n})},
                                     {"f", xpr::view(f.data(), xpr::boolean, {m, n})}});
    std::vector<OutBuf> A = out_bufs(J, {"hs", "hmx", "gm", "umin", "wam", "ws", "qs", "qp",
                                         "fmin", "fany", "fall"});
    auto p = [&](int i) { return A[static_cast<std::size_t>(i)].data(); };
    ASSERT_EQ(reduce_types(m, n, h.data(), nullptr, g.data(), nullptr, u.data(), nullptr, w.data(),
                           nullptr, q.data(), nullptr, reinterpret_cast<const bool *>(f.data()),
                           nullptr, static_cast<std::uint16_t *>(p(0)), nullptr,
                           static_cast<std::uint16_t *>(p(1)), nullptr,
                           static_cast<std::uint16_t *>(p(2)), nullptr,
                           static_cast<std::uint8_t *>(p(3)), nullptr,
                           static_cast<std::int64_t *>(p(4)), nullptr,
                           static_cast<std::int64_t *>(p(5)), nullptr,
                           static_cast<std::uint64_t *>(p(6)), nullptr,
                           static_cast<std::uint64_t *>(p(7)), nullptr, static_cast<bool *>(p(8)),
                           nullptr, static_cast<bool *>(p(9)), nullptr, static_cast<bool *>(p(10)),
                           nullptr),
              XPR_RT_OK)
        << xpr_rt_last_error();
    expect_same(J, A, fmt_shape(m, n, 0));
  }
}

TEST(AotReduce, RankThreeAndRankZeroMatchJitBitForBit) {
  for (auto [a, b, c] : {std::array<std::int64_t, 3>{7, 300, 33}, {2, 5000, 3}, {40, 3, 2000}}) {
    ReduceData D(a * b, c);
    double z = -2.5;
    xpr::Options opts;
    opts.threads = 2;
    xpr::Context ctx(opts);
    xpr::Program prog = ctx.compile(read_text(std::string(XPR_TEST_DATA_DIR) + "/kernels/reduce3d.xpr"));
    const xpr::Outputs J = prog.run({{"x", xpr::view(D.a.data(), xpr::f32, {a, b, c})},
                                     {"z", xpr::view(&z, xpr::f64, {})}});
    std::vector<OutBuf> A = out_bufs(J, {"s1", "s02", "m12", "am", "pm", "zs", "za"});
    auto f = [&](int i) { return static_cast<float *>(A[static_cast<std::size_t>(i)].data()); };
    ASSERT_EQ(reduce3d(a, b, c, D.a.data(), nullptr, &z, nullptr, f(0), nullptr, f(1), nullptr,
                       f(2), nullptr, static_cast<std::int64_t *>(A[3].data()), nullptr, f(4),
                       nullptr, static_cast<double *>(A[5].data()), nullptr,
                       static_cast<std::int64_t *>(A[6].data()), nullptr),
              XPR_RT_OK)
        << xpr_rt_last_error();
    expect_same(J, A, "[" + std::to_string(a) + ", " + std::to_string(b) + ", " + std::to_string(c) + "]");
  }
}

TEST(AotReduce, StridedReductionOutputs) {
  // Row sums written every other element, backwards: the reduction's own output addressing.
  const std::int64_t m = 777, n = 5000;
  ReduceData D(m, n);
  xpr::Context ctx;
  xpr::Program prog = ctx.compile(read_text(std::string(XPR_TEST_DATA_DIR) + "/kernels/rowsum.xpr"));
  const xpr::Outputs J = prog.run({{"a", xpr::view(D.a.data(), xpr::f32, {m, n})}});
  std::vector<float> buf(static_cast<std::size_t>(2 * m), -7.0f);
  const std::int64_t st[2] = {-2, 1};
  ASSERT_EQ(rowsum(m, n, D.a.data(), nullptr, buf.data() + 2 * (m - 1), st), XPR_RT_OK)
      << xpr_rt_last_error();
  const float *j = J.at("s").data_as<float>();
  for (std::int64_t i = 0; i < m; ++i) {
    ASSERT_EQ(std::memcmp(&buf[static_cast<std::size_t>(2 * (m - 1 - i))], &j[i], 4), 0) << i;
    EXPECT_EQ(buf[static_cast<std::size_t>(2 * (m - 1 - i) + 1)], -7.0f) << i;
  }
}

TEST(AotReduce, StridedInputsTakeTheLoopsAndGiveTheSameBits) {
  // a stored column-major: the JIT and libxpr_rt both reduce it with the C loops over a strided
  // map; the results are the contiguous ones, bit for bit.
  ReduceData D(301, 5003);
  const xpr::Outputs J = jit_reduce(D, 2);
  std::vector<float> at(D.a.size());
  for (std::int64_t i = 0; i < D.m; ++i)
    for (std::int64_t j = 0; j < D.n; ++j)
      at[static_cast<std::size_t>(j * D.m + i)] = D.a[static_cast<std::size_t>(i * D.n + j)];
  const std::int64_t st[2] = {1, D.m};
  std::vector<OutBuf> A = out_bufs(J, kReduceOuts);
  ASSERT_EQ(call_reduce(D, A, at.data(), st), XPR_RT_OK) << xpr_rt_last_error();
  expect_same(J, A, "column-major a");
}

TEST(AotReduce, EmptyExtents) {
  // Sums of nothing are their identity; min/max/argmin/argmax of nothing are an error, raised
  // before anything is written.
  ReduceData D(0, 5);
  std::vector<OutBuf> A;
  for (const char *n : kReduceOuts) A.push_back({n, std::vector<unsigned char>(64, 0xcd)});
  EXPECT_EQ(call_reduce(D, A), XPR_RT_ESHAPE);
  EXPECT_STREQ(xpr_rt_last_error(), "min of an empty array has no identity");
  for (const OutBuf &o : A) EXPECT_EQ(o.bytes[0], 0xcd) << o.name;
  EXPECT_THROW(jit_reduce(D, 1), xpr::Error);

  std::vector<float> x;
  float y = 1.0f, norm = 1.0f;
  ASSERT_EQ(softmax(0, 4, x.data(), nullptr, &y, nullptr, &norm, nullptr), XPR_RT_OK)
      << xpr_rt_last_error();
  EXPECT_EQ(norm, 0.0f);
  EXPECT_EQ(y, 1.0f); // no elements: nothing written
}

TEST(AotReduce, SoftmaxRowGroupMatchesJit) {
  for (auto [r, c] : {std::pair<std::int64_t, std::int64_t>{2000, 100}, {10, 20000}, {64, 4096}}) {
    ReduceData D(r, c);
    xpr::Options opts;
    opts.threads = 4;
    xpr::Context ctx(opts);
    xpr::Program prog = ctx.compile(read_text(std::string(XPR_TEST_DATA_DIR) + "/kernels/softmax.xpr"));
    const xpr::Outputs J = prog.run({{"x", xpr::view(D.a.data(), xpr::f32, {r, c})}});
    std::vector<OutBuf> A = out_bufs(J, {"y", "norm"});
    ASSERT_EQ(softmax(r, c, D.a.data(), nullptr, static_cast<float *>(A[0].data()), nullptr,
                      static_cast<float *>(A[1].data()), nullptr),
              XPR_RT_OK)
        << xpr_rt_last_error();
    expect_same(J, A, fmt_shape(r, c, 0));
  }
}

/// A caller's own pool for xpr_rt_set_parallel: `threads` std::threads per job taking indices
/// from a shared counter, and a record of what it was asked to do.
struct CallerPool {
  int threads = 3;
  std::atomic<int> jobs{0};
  std::atomic<std::int64_t> tasks{0};
  std::atomic<int> off_caller{0}; // tasks that ran on a thread other than the calling one
  static void run(void *ctx, std::int64_t n, void (*task)(void *, std::int64_t), void *arg) {
    auto *p = static_cast<CallerPool *>(ctx);
    ++p->jobs;
    std::atomic<std::int64_t> next{0};
    const std::thread::id caller = std::this_thread::get_id();
    std::vector<std::thread> ts;
    for (int t = 0; t < p->threads; ++t)
      ts.emplace_back([&] {
        for (std::int64_t i; (i = next++) < n;) {
          task(arg, i);
          ++p->tasks;
          if (std::this_thread::get_id() != caller) ++p->off_caller;
        }
      });
    for (auto &t : ts) t.join();
  }
};

TEST(AotReduce, CallersOwnThreadsRunReductionsToTheSameBits) {
  // _range cannot serve programs with reductions; xpr_rt_set_parallel can, with the same bits.
  const int before = xpr_rt_threads();
  xpr_rt_set_threads(3);
  ReduceData D(700, 1500, 7);
  const xpr::Outputs J = jit_reduce(D, 3);
  std::vector<OutBuf> own = out_bufs(J, kReduceOuts), theirs = out_bufs(J, kReduceOuts);
  ASSERT_EQ(call_reduce(D, own), XPR_RT_OK) << xpr_rt_last_error();
  std::vector<float> y1(2000 * 100), y2(y1.size());
  float n1 = 0, n2 = 0; // norm: a full reduction
  ReduceData S(2000, 100, 9);
  ASSERT_EQ(softmax(2000, 100, S.a.data(), nullptr, y1.data(), nullptr, &n1, nullptr), XPR_RT_OK);

  CallerPool pool;
  xpr_rt_set_parallel(&CallerPool::run, &pool, 3);
  EXPECT_EQ(xpr_rt_threads(), 3);
  ASSERT_EQ(call_reduce(D, theirs), XPR_RT_OK) << xpr_rt_last_error();
  ASSERT_EQ(softmax(2000, 100, S.a.data(), nullptr, y2.data(), nullptr, &n2, nullptr), XPR_RT_OK);
  xpr_rt_set_parallel(nullptr, nullptr, 0);
  xpr_rt_set_threads(before);

  EXPECT_GT(pool.jobs.load(), 2);
  EXPECT_GT(pool.tasks.load(), pool.jobs.load());
  EXPECT_EQ(pool.off_caller.load(), pool.tasks.load()); // every task ran on the caller's pool
  for (std::size_t i = 0; i < own.size(); ++i)
    EXPECT_EQ(own[i].bytes, theirs[i].bytes) << "output " << own[i].name;
  expect_same(J, theirs, "caller's pool");
  EXPECT_TRUE(same_bits(y1, y2));
  EXPECT_EQ(std::memcmp(&n1, &n2, sizeof n1), 0) << n1 << " vs " << n2;
}

TEST(AotReduce, RangeEntryRejectsReductions) {
  ReduceData D(4, 4);
  std::vector<float> y(16);
  float norm = 0;
  EXPECT_EQ(softmax_range(0, 1, 4, 4, D.a.data(), nullptr, y.data(), nullptr, &norm, nullptr),
            XPR_RT_EUNSUPPORTED);
  EXPECT_STREQ(xpr_rt_last_error(),
               "this program has reductions: call the whole-array entry instead of _range");
}

TEST(AotReduce, ReductionOutputMayNotAliasItsInput) {
  // A reduction may write while other threads still read its input: even the very same memory
  // in the same layout (here a: f32[8, 1] and s: f32[8, 1]) is an overlap, as in the JIT's
  // run_into (which copies the input instead).
  std::vector<float> a(8, 1.0f), s(8);
  EXPECT_EQ(rowsum(8, 1, a.data(), nullptr, a.data(), nullptr), XPR_RT_EOVERLAP);
  ASSERT_EQ(rowsum(8, 1, a.data(), nullptr, s.data(), nullptr), XPR_RT_OK) << xpr_rt_last_error();
  EXPECT_EQ(s, a);
}

// ---- xprc as a tool, and programs built with plain cc / c++ ----

class AotTool : public ::testing::Test {
protected:
  // One directory per test process: ctest runs each test case as its own process, in parallel,
  // and a shared directory let one case's SetUpTestSuite delete the programs another was using.
  static fs::path dir() {
    static const fs::path d = fs::path(XPR_AOT_WORK_DIR) / std::to_string(::getpid());
    return d;
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(dir(), ec);
  }
  static std::string xprc() { return XPRC_PATH; }
  static std::string rt() { return XPR_RT_LIB; }
  static std::string ex(const std::string &f) { return std::string(XPR_AOT_EXAMPLES) + "/" + f; }
  static std::string link_flags() { return " -lsleef -lm -lpthread"; }

  static void SetUpTestSuite() {
    fs::remove_all(dir());
    fs::create_directories(dir());
    const std::string d = dir().string();
    built_ = false;
    auto run = [&](const std::string &cmd) {
      auto [rc, out] = sh(cmd);
      if (rc != 0) log_ += "FAILED (" + std::to_string(rc) + "): " + cmd + "\n" + out + "\n";
      return rc == 0;
    };
    built_ = run(xprc() + " " + ex("blackscholes.xpr") + " -o " + d + "/blackscholes.o --header " +
                 d + "/blackscholes.h") &&
             run(xprc() + " " + ex("portfolio.xpr") + " -o " + d + "/portfolio.o --header " + d +
                 "/portfolio.h") &&
             run(xprc() + " " + ex("grid.xpr") + " -o " + d + "/grid.o --header " + d + "/grid.h") &&
             run(std::string(XPR_CC) + " -std=c11 -O2 -Wall -Werror -I" + d + " " +
                 ex("blackscholes_c.c") + " " + d + "/blackscholes.o " + d + "/portfolio.o " +
                 rt() + link_flags() + " -o " + d + "/blackscholes_c") &&
             run(std::string(XPR_CXX) + " -std=c++17 -O2 -Wall -Werror -I" + d + " " +
                 ex("grid_cpp.cpp") + " " + d + "/grid.o " + rt() + link_flags() + " -o " + d +
                 "/grid_cpp");
  }
  void SetUp() override { ASSERT_TRUE(built_) << log_; }
  static bool built_;
  static std::string log_;
};
bool AotTool::built_ = false;
std::string AotTool::log_;

template <class T> std::vector<T> take(const std::string &bytes, std::size_t &off, std::size_t n) {
  std::vector<T> v(n);
  EXPECT_LE(off + n * sizeof(T), bytes.size());
  if (off + n * sizeof(T) <= bytes.size()) std::memcpy(v.data(), bytes.data() + off, n * sizeof(T));
  off += n * sizeof(T);
  return v;
}

TEST_F(AotTool, CProgramMatchesJitBitForBit) {
  const std::string out = (dir() / "bs.bin").string();
  auto [rc, text] = sh((dir() / "blackscholes_c").string() + " " + out + " 100003");
  ASSERT_EQ(rc, 0) << text;
  EXPECT_NE(text.find("error 2 (null pointer): input 'S' has 100003 elements but its pointer is NULL"),
            std::string::npos)
      << text;
  const std::string bytes = read_text(out);
  const std::size_t n = 100003;
  ASSERT_EQ(bytes.size(), 5 * n * sizeof(float) + 3 * sizeof(float) + sizeof(std::int64_t));
  std::size_t off = 0;
  auto S = take<float>(bytes, off, n), K = take<float>(bytes, off, n), T = take<float>(bytes, off, n);
  auto call = take<float>(bytes, off, n), put = take<float>(bytes, off, n);
  auto total = take<float>(bytes, off, 1), mean_put = take<float>(bytes, off, 1);
  auto best = take<std::int64_t>(bytes, off, 1);
  auto spread = take<float>(bytes, off, 1);
  xpr::Context ctx;
  xpr::Program prog = ctx.compile(read_text(ex("blackscholes.xpr")), "blackscholes.xpr");
  const auto N = static_cast<std::int64_t>(n);
  xpr::Outputs o = prog.run({{"S", xpr::view(S.data(), xpr::f32, {N})},
                             {"K", xpr::view(K.data(), xpr::f32, {N})},
                             {"T", xpr::view(T.data(), xpr::f32, {N})}},
                            {{"r", 0.05f}, {"v", 0.2f}});
  EXPECT_EQ(std::memcmp(o.at("call").data(), call.data(), n * sizeof(float)), 0);
  EXPECT_EQ(std::memcmp(o.at("put").data(), put.data(), n * sizeof(float)), 0);
  // The reductions of portfolio.xpr (100003 values: 25 blocks, several threads).
  xpr::Program pf = ctx.compile(read_text(ex("portfolio.xpr")), "portfolio.xpr");
  xpr::Outputs r = pf.run({{"call", xpr::view(call.data(), xpr::f32, {N})},
                           {"put", xpr::view(put.data(), xpr::f32, {N})}});
  EXPECT_EQ(std::memcmp(r.at("total").data(), total.data(), sizeof(float)), 0)
      << *r.at("total").data_as<float>() << " vs " << total[0];
  EXPECT_EQ(std::memcmp(r.at("mean_put").data(), mean_put.data(), sizeof(float)), 0);
  EXPECT_EQ(*r.at("best").data_as<std::int64_t>(), best[0]);
  EXPECT_EQ(std::memcmp(r.at("spread").data(), spread.data(), sizeof(float)), 0);
}

TEST_F(AotTool, CppProgramMatchesJitBitForBit) {
  const std::string out = (dir() / "grid.bin").string();
  auto [rc, text] = sh((dir() / "grid_cpp").string() + " " + out + " 301 517");
  ASSERT_EQ(rc, 0) << text;
  const std::string bytes = read_text(out);
  const std::size_t m = 301, n = 517;
  std::size_t off = 0;
  auto x = take<double>(bytes, off, m * n);
  auto w = take<double>(bytes, off, n);
  auto k = take<std::int32_t>(bytes, off, m);
  auto y = take<double>(bytes, off, m * n);
  auto z = take<std::int32_t>(bytes, off, m);
  EXPECT_EQ(off, bytes.size());
  xpr::Context ctx;
  xpr::Program prog = ctx.compile(read_text(ex("grid.xpr")), "grid.xpr");
  const auto M = static_cast<std::int64_t>(m), N = static_cast<std::int64_t>(n);
  xpr::Outputs o = prog.run({{"x", xpr::view(x.data(), xpr::f64, {M, N})},
                             {"w", xpr::view(w.data(), xpr::f64, {N})},
                             {"k", xpr::view(k.data(), xpr::i32, {M, 1})}},
                            {{"s", 0.25}, {"shift", 3}});
  EXPECT_EQ(std::memcmp(o.at("y").data(), y.data(), m * n * sizeof(double)), 0);
  EXPECT_EQ(std::memcmp(o.at("z").data(), z.data(), m * sizeof(std::int32_t)), 0);
}

TEST_F(AotTool, ProgramsLinkWithoutLlvmOrMlir) {
  for (const char *prog : {"blackscholes_c", "grid_cpp"}) {
    auto [rc, deps] = sh("ldd " + (dir() / prog).string());
    ASSERT_EQ(rc, 0) << deps;
    EXPECT_EQ(deps.find("LLVM"), std::string::npos) << deps;
    EXPECT_EQ(deps.find("MLIR"), std::string::npos) << deps;
    EXPECT_NE(deps.find("libsleef"), std::string::npos) << deps;
    auto [rc2, syms] = sh("nm " + (dir() / prog).string());
    ASSERT_EQ(rc2, 0);
    EXPECT_EQ(syms.find("llvm"), std::string::npos);
    EXPECT_EQ(syms.find("mlir"), std::string::npos);
  }
  // The C program needs no C++ runtime either.
  auto [rc, deps] = sh("ldd " + (dir() / "blackscholes_c").string());
  EXPECT_EQ(deps.find("libstdc++"), std::string::npos) << deps;
  auto [rc3, undef] = sh("nm -u " + rt());
  ASSERT_EQ(rc3, 0);
  EXPECT_EQ(undef.find("llvm"), std::string::npos) << undef;
  EXPECT_EQ(undef.find("_Z"), std::string::npos) << undef; // no C++ symbols
}

TEST_F(AotTool, HeaderDocumentsTheSignature) {
  const std::string h = read_text((dir() / "blackscholes.h").string());
  EXPECT_NE(h.find(" *   S: f32[n]  ->  float *S, int64_t S_strides[1]\n"), std::string::npos) << h;
  EXPECT_NE(h.find(" *   r: f32  ->  float r\n"), std::string::npos) << h;
  EXPECT_NE(h.find(" *   call: f32[n]  ->  float *call, int64_t call_strides[1]\n"), std::string::npos);
  EXPECT_NE(h.find(" *   output put  = K * exp(-r * T) * ncdf(-d2) - S * ncdf(-d1)\n"), std::string::npos);
  EXPECT_NE(h.find("int blackscholes(\n    int64_t n,\n    const float *S,\n    const int64_t *S_strides,"),
            std::string::npos);
  EXPECT_NE(h.find("int64_t blackscholes_work(\n    int64_t n);"), std::string::npos);
  EXPECT_NE(h.find("XPR_RT_EOVERLAP = 3"), std::string::npos);
}

TEST_F(AotTool, StaticLibraryLinksAlone) {
  const std::string d = dir().string();
  auto [rc, out] = sh(xprc() + " " + ex("blackscholes.xpr") + " --static-lib " + d +
                      "/libbs.a --header " + d + "/lib_bs/blackscholes.h --name blackscholes");
  // The header's directory does not exist: a clear error, exit 1.
  EXPECT_EQ(rc, 1) << out;
  EXPECT_NE(out.find("cannot write"), std::string::npos) << out;
  fs::create_directories(dir() / "lib_bs");
  std::tie(rc, out) = sh(xprc() + " " + ex("blackscholes.xpr") + " --static-lib " + d +
                         "/libbs.a --header " + d + "/lib_bs/blackscholes.h");
  ASSERT_EQ(rc, 0) << out;
  // portfolio.o needs libxpr_rt too: the archive's copy serves it.
  std::tie(rc, out) = sh(std::string(XPR_CC) + " -std=c11 -O2 -I" + d + "/lib_bs -I" + d + " " +
                         ex("blackscholes_c.c") + " " + d + "/portfolio.o " + d + "/libbs.a" +
                         link_flags() + " -o " + d + "/bs_static");
  ASSERT_EQ(rc, 0) << out;
  std::tie(rc, out) = sh(d + "/bs_static " + d + "/bs_static.bin 5000");
  ASSERT_EQ(rc, 0) << out;
  std::tie(rc, out) = sh(d + "/blackscholes_c " + d + "/bs_obj.bin 5000");
  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(read_text(d + "/bs_static.bin"), read_text(d + "/bs_obj.bin"));
}

TEST_F(AotTool, ObjectsOfAnotherPlanFormatAreRefused) {
  // An object whose plan says format 3 (as xprc made them before cuda reductions took dynamic
  // shared memory from their launch) fails its call with XPR_RT_EVERSION, saying what to link,
  // before anything runs: the plan's words start with the magic "XRPLANT1" and the format.
  const std::string d = dir().string();
  std::string obj = read_text(d + "/blackscholes.o");
  const std::string magic = "XRPLANT1";
  int patched = 0;
  for (std::size_t at = obj.find(magic); at != std::string::npos;
       at = obj.find(magic, at + magic.size())) {
    std::int64_t format = 0;
    ASSERT_LE(at + 16, obj.size());
    std::memcpy(&format, obj.data() + at + 8, 8);
    ASSERT_EQ(format, XPR_RT_PLAN_VERSION);
    format = 3;
    std::memcpy(obj.data() + at + 8, &format, 8);
    ++patched;
  }
  ASSERT_GE(patched, 1);
  {
    std::ofstream f(d + "/old_format.o", std::ios::binary);
    f << obj;
  }
  auto [rc, out] =
      sh(std::string(XPR_CC) + " -std=c11 -O2 -I" + d + " " + ex("blackscholes_c.c") + " " + d +
         "/old_format.o " + d + "/portfolio.o " + rt() + link_flags() + " -o " + d + "/old_format");
  ASSERT_EQ(rc, 0) << out;
  std::tie(rc, out) = sh(d + "/old_format " + d + "/old_format.bin 100");
  EXPECT_EQ(rc, 1) << out;
  EXPECT_NE(out.find("blackscholes: the object was compiled for plan format 3, this libxpr_rt "
                     "reads format " +
                     std::to_string(XPR_RT_PLAN_VERSION) +
                     ": link the libxpr_rt of the xprc that compiled it"),
            std::string::npos)
      << out;
  EXPECT_FALSE(fs::exists(d + "/old_format.bin"));
}

TEST_F(AotTool, TargetsSetTheVectorWidth) {
  auto [rc2, v2] = sh(xprc() + " " + ex("blackscholes.xpr") + " --emit=asm --target x86-64-v2");
  ASSERT_EQ(rc2, 0) << v2;
  EXPECT_NE(v2.find("xmm"), std::string::npos);
  EXPECT_EQ(v2.find("ymm"), std::string::npos);
  EXPECT_EQ(v2.find("zmm"), std::string::npos);
  auto [rc3, v3] = sh(xprc() + " " + ex("blackscholes.xpr") + " --emit=asm --target x86-64-v3");
  ASSERT_EQ(rc3, 0);
  EXPECT_NE(v3.find("ymm"), std::string::npos);
  EXPECT_EQ(v3.find("zmm"), std::string::npos);
  EXPECT_NE(v3.find("Sleef_expf8_u10"), std::string::npos);
  auto [rc4, v4] = sh(xprc() + " " + ex("blackscholes.xpr") + " --emit=asm --target x86-64-v4");
  ASSERT_EQ(rc4, 0);
  EXPECT_NE(v4.find("zmm"), std::string::npos);
  EXPECT_NE(v4.find("Sleef_expf16_u10"), std::string::npos);
  // A v2 object links and runs anywhere x86-64-v2 does; its results stay close to the JIT's.
  const std::string d = dir().string();
  auto [rc, out] = sh(xprc() + " " + ex("blackscholes.xpr") + " --target x86-64-v2 -o " + d +
                      "/bs_v2.o --header " + d + "/blackscholes.h && " + xprc() + " " +
                      ex("portfolio.xpr") + " --target x86-64-v2 -o " + d + "/pf_v2.o && " + XPR_CC +
                      " -std=c11 -I" + d + " " + ex("blackscholes_c.c") + " " + d + "/bs_v2.o " + d +
                      "/pf_v2.o " + rt() + link_flags() + " -o " + d + "/bs_v2 && " + d + "/bs_v2");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("call[0] = 2.398391"), std::string::npos) << out;
}

// ---- multi-versioned objects ----

/// Builds blackscholes_c against objects made with `target` (both scripts) into `prog`.
bool build_bs(const std::string &d, const std::string &target, const std::string &prog,
              std::string &log) {
  const std::string x = std::string(XPRC_PATH), e = std::string(XPR_AOT_EXAMPLES) + "/";
  const std::string sub = d + "/" + prog + "_h";
  auto [rc, out] = sh("mkdir -p " + sub + " && " + x + " " + e + "blackscholes.xpr --target " +
                      target + " -o " + d + "/" + prog + "_bs.o --header " + sub +
                      "/blackscholes.h && " + x + " " + e + "portfolio.xpr --target " + target +
                      " -o " + d + "/" + prog + "_pf.o --header " + sub + "/portfolio.h && " +
                      XPR_CC + " -std=c11 -O2 -Wall -Werror -I" + sub + " " + e +
                      "blackscholes_c.c " + d + "/" + prog + "_bs.o " + d + "/" + prog + "_pf.o " +
                      XPR_RT_LIB + " -lsleef -lm -lpthread -o " + d + "/" + prog);
  log += out;
  return rc == 0;
}

int machine_level() {
  // The level libxpr_rt detects, uncapped (this process never sets XPR_RT_CPU_LEVEL).
  return xpr_rt_cpu_level();
}

TEST_F(AotTool, MultiVersionedObjectHoldsEveryLevel) {
  const std::string d = dir().string();
  auto [rc, out] = sh(xprc() + " " + ex("grid.xpr") + " --target x86-64-v4,x86-64-v2,x86-64-v3 -o " +
                      d + "/grid_multi.o --header " + d + "/grid_multi.h --name grid_multi");
  ASSERT_EQ(rc, 0) << out;
  auto [rc2, syms] = sh("nm " + d + "/grid_multi.o");
  ASSERT_EQ(rc2, 0) << syms;
  for (const char *v : {"_v2", "_v3", "_v4"})
    for (const char *k : {"grid_multi__xpr_k0_CXXC", "grid_multi__xpr_k0_XXXX", "grid_multi__xpr_k1_CC"})
      EXPECT_NE(syms.find(std::string(k) + v + "\n"), std::string::npos) << k << v << "\n" << syms;
  EXPECT_NE(syms.find(" U xpr_rt_pick\n"), std::string::npos) << syms;
  EXPECT_NE(syms.find(" T grid_multi\n"), std::string::npos) << syms;
  // Each version is its level's code: AVX-512 registers only in v4, AVX2 in v3, SSE in v2.
  auto [rc3, asm_text] = sh(xprc() + " " + ex("blackscholes.xpr") + " --emit=asm --target multi");
  ASSERT_EQ(rc3, 0) << asm_text;
  auto body = [&](const std::string &sym) {
    const std::size_t b = asm_text.find("\n" + sym + ":");
    const std::size_t e = asm_text.find(".Lfunc_end", b);
    return b == std::string::npos ? std::string() : asm_text.substr(b, e - b);
  };
  const std::string v2 = body("blackscholes__xpr_k0_CCCCC_v2"), v3 = body("blackscholes__xpr_k0_CCCCC_v3"),
                    v4 = body("blackscholes__xpr_k0_CCCCC_v4");
  ASSERT_FALSE(v2.empty() || v3.empty() || v4.empty()) << asm_text.substr(0, 2000);
  EXPECT_EQ(v2.find("ymm"), std::string::npos);
  EXPECT_NE(v3.find("ymm"), std::string::npos);
  EXPECT_EQ(v3.find("zmm"), std::string::npos);
  EXPECT_NE(v4.find("zmm"), std::string::npos);
  // The header says what the object is.
  const std::string h = read_text(d + "/grid_multi.h");
  EXPECT_NE(h.find(" * Multi-versioned: every kernel is compiled for x86-64-v2, x86-64-v3, "
                   "x86-64-v4; each call runs the highest level\n"),
            std::string::npos)
      << h;
}

TEST_F(AotTool, MultiVersionedObjectMatchesEachLevelBitForBit) {
  const std::string d = dir().string();
  std::string log;
  ASSERT_TRUE(build_bs(d, "multi", "bs_multi", log)) << log;
  const int have = machine_level();
  if (have < 2) GTEST_SKIP() << "this CPU is below x86-64-v2: no level of the object can run";
  int tested = 0;
  for (int level = 2; level <= 4; ++level) {
    if (level > have) {
      std::cout << "[ SKIPPED  ] x86-64-v" << level << ": this CPU is x86-64-v" << have << "\n";
      continue;
    }
    const std::string single = "bs_single_v" + std::to_string(level);
    ASSERT_TRUE(build_bs(d, "x86-64-v" + std::to_string(level), single, log)) << log;
    const std::string a = d + "/" + single + ".bin", b = d + "/multi_v" + std::to_string(level) + ".bin";
    auto [rc1, o1] = sh(d + "/" + single + " " + a + " 70001");
    ASSERT_EQ(rc1, 0) << o1;
    // Capped to this level, the multi-versioned program must run this level's kernels.
    auto [rc2, o2] = sh("XPR_RT_CPU_LEVEL=v" + std::to_string(level) + " " + d + "/bs_multi " + b + " 70001");
    ASSERT_EQ(rc2, 0) << o2;
    EXPECT_NE(o2.find("kernels: x86-64-v" + std::to_string(level) + "\n"), std::string::npos) << o2;
    EXPECT_EQ(o1.find("kernels:"), std::string::npos) << o1; // a single-level object picks nothing
    EXPECT_EQ(read_text(a), read_text(b)) << "level " << level;
    ++tested;
  }
  // Uncapped, it runs the machine's level (the highest the object has).
  const std::string top = d + "/bs_single_v" + std::to_string(std::min(have, 4)) + ".bin";
  auto [rc, o] = sh(d + "/bs_multi " + d + "/multi_top.bin 70001");
  ASSERT_EQ(rc, 0) << o;
  EXPECT_NE(o.find("kernels: x86-64-v" + std::to_string(std::min(have, 4)) + "\n"), std::string::npos) << o;
  EXPECT_EQ(read_text(top), read_text(d + "/multi_top.bin"));
  EXPECT_GE(tested, 1);
  // The bits alone cannot tell the versions apart where the levels agree (they do on this
  // input on an x86-64-v4 machine: SLEEF's u10 functions give the same results at every width),
  // hence the check of xpr_rt_picked_level() above.
}

TEST_F(AotTool, MultiVersionedObjectRefusesACpuBelowItsLowestLevel) {
  const std::string d = dir().string();
  std::string log;
  ASSERT_TRUE(build_bs(d, "x86-64-v3,x86-64-v4", "bs_v34", log)) << log;
  auto [rc, out] = sh("XPR_RT_CPU_LEVEL=v2 " + d + "/bs_v34 " + d + "/v34.bin 1000");
  EXPECT_EQ(rc, 1) << out;
  EXPECT_NE(out.find("blackscholes: this object's lowest kernels need an x86-64-v3 CPU, and this "
                     "CPU is x86-64-v2 (as capped by XPR_RT_CPU_LEVEL)"),
            std::string::npos)
      << out;
}

TEST_F(AotTool, ReductionHeaderDocumentsTheEntry) {
  const std::string h = read_text((dir() / "portfolio.h").string());
  EXPECT_NE(h.find(" * Reductions (5 step(s)) run in the JIT's fixed block order"), std::string::npos) << h;
  EXPECT_NE(h.find(" *   best: i64[]  ->  int64_t *best, int64_t best_strides[0]\n"), std::string::npos) << h;
  EXPECT_NE(h.find(" *   output best = argmax(call - put)\n"), std::string::npos) << h;
  EXPECT_NE(h.find("This script has reductions: _range returns XPR_RT_EUNSUPPORTED"), std::string::npos) << h;
}

TEST_F(AotTool, UserAndUsageErrors) {
  const std::string f = (dir() / "bad.xpr").string();
  std::ofstream(f) << "input a: f32[n]\noutput y = a + q\n";
  auto [rc, out] = sh(xprc() + " " + f + " -o " + (dir() / "bad.o").string());
  EXPECT_EQ(rc, 1);
  EXPECT_NE(out.find("bad.xpr:2:"), std::string::npos) << out;
  std::tie(rc, out) = sh(xprc() + " " + ex("grid.xpr") + " -o x.o --target pentium");
  EXPECT_EQ(rc, 2) << out;
  std::tie(rc, out) = sh(xprc() + " " + ex("grid.xpr") + " -o x.o --name 'int'");
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("xprc: --name 'int' is not a usable C identifier"), std::string::npos) << out;
  std::tie(rc, out) = sh(xprc() + " " + ex("grid.xpr"));
  EXPECT_EQ(rc, 2) << out;
}

} // namespace

// tests/runtime/RuntimeTest.cpp — eval/compile/run end to end against ir::interpret on the same graph.
#include <xpr/xpr.hpp>

#include "compiler/ir/Interpreter.h"
#include "frontend/Frontend.h"
#include "runtime/KernelCache.h"

#include <gtest/gtest.h>
#include <fmt/format.h>

#include <bit>
#include <algorithm>
#include <atomic>
#include <thread>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>

namespace xpr {
namespace {

std::span<const std::int64_t> sp(const std::vector<std::int64_t> &v) { return {v.data(), v.size()}; }

// Deterministic data in [lo, hi), owned by the returned array.
Array random_array(DType dt, std::vector<std::int64_t> shape, double lo, double hi,
                   unsigned seed = 1) {
  Array a = Array::empty(dt, sp(shape));
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  for (std::int64_t i = 0; i < a.size(); ++i) {
    double v = u(rng);
    switch (dt) {
    case DType::F64: a.data_as<double>()[i] = v; break;
    case DType::F32: a.data_as<float>()[i] = static_cast<float>(v); break;
    case DType::I32: a.data_as<std::int32_t>()[i] = static_cast<std::int32_t>(std::floor(v)); break;
    case DType::I64: a.data_as<std::int64_t>()[i] = static_cast<std::int64_t>(std::floor(v)); break;
    default: ADD_FAILURE() << "unsupported dtype in random_array";
    }
  }
  return a;
}

// Element i (C order) of any array as double (floats) or exact int64 bits (ints, bool).
double f_at(const Array &a, std::int64_t flat) {
  std::vector<std::int64_t> idx(static_cast<std::size_t>(a.rank()));
  for (int d = a.rank() - 1; d >= 0; --d) {
    auto ud = static_cast<std::size_t>(d);
    idx[ud] = flat % a.shape()[ud];
    flat /= a.shape()[ud];
  }
  const void *p = a.element_ptr(idx);
  switch (a.dtype()) {
  case DType::F64: return *static_cast<const double *>(p);
  case DType::F32: return *static_cast<const float *>(p);
  case DType::I32: return *static_cast<const std::int32_t *>(p);
  case DType::I64: return static_cast<double>(*static_cast<const std::int64_t *>(p));
  case DType::Bool: return *static_cast<const std::uint8_t *>(p);
  default: ADD_FAILURE() << "unsupported dtype in f_at"; return 0;
  }
}

// rel_tol == 0: bit-exact (NaN == NaN). Otherwise |a-b| <= rel_tol * max(1, |b|).
void expect_same(const Array &jit, const Array &ref, double rel_tol, const std::string &what) {
  ASSERT_EQ(jit.dtype(), ref.dtype()) << what;
  ASSERT_EQ(jit.shape(), ref.shape()) << what;
  int bad = 0;
  for (std::int64_t i = 0; i < ref.size() && bad < 5; ++i) {
    double a = f_at(jit, i), b = f_at(ref, i);
    bool ok;
    if (std::isnan(b)) ok = std::isnan(a);
    else if (rel_tol == 0) ok = std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b);
    else ok = std::fabs(a - b) <= rel_tol * std::max(1.0, std::fabs(b));
    if (!ok) {
      ++bad;
      ADD_FAILURE() << what << ": element " << i << " is " << a << ", the interpreter says " << b;
    }
  }
}

std::vector<Array> oracle_script(const std::string &text, const Inputs &in, const Params &params) {
  SourceFile src("<script>", text);
  return ir::interpret(fe::compile_script(src), in, params);
}

const char *kBlackScholes = R"(input S: f32[n]
input K: f32[n]
input T: f32[n]
param r: f32
param v: f32
let sqrtT = sqrt(T)
let d1 = (log(S / K) + (r + 0.5 * v * v) * T) / (v * sqrtT)
let d2 = d1 - v * sqrtT
output call = S * ncdf(d1) - K * exp(-r * T) * ncdf(d2)
output put  = K * exp(-r * T) * ncdf(-d2) - S * ncdf(-d1)
)";

TEST(Eval, MatchesTheInterpreter) {
  Context ctx;
  Array a = random_array(DType::F64, {1000}, -3, 3, 1);
  Array b = random_array(DType::F64, {1000}, -3, 3, 2);
  Array y = ctx.eval("a * exp(-b) + 1", {{"a", a}, {"b", b}});
  SourceFile src("<expr>", "a * exp(-b) + 1");
  ir::Type t{DType::F64, {ir::Dim::symbol("d0")}};
  auto ref = ir::interpret(fe::compile_expression(src, {{"a", t}, {"b", t}}), {{"a", a}, {"b", b}}, {});
  expect_same(y, ref.at(0), 1e-15, "a * exp(-b) + 1");
}

TEST(Eval, BroadcastsSizeOneAndRankZero) {
  Context ctx;
  Array col = random_array(DType::F64, {7, 1}, 0, 1, 3);
  Array row = random_array(DType::F64, {1, 5}, 0, 1, 4);
  double s = 10;
  Array scalar = Array::view(&s, DType::F64, {});
  Array y = ctx.eval("col * row + s", {{"col", col}, {"row", row}, {"s", scalar}});
  ASSERT_EQ(y.shape(), (std::vector<std::int64_t>{7, 5}));
  for (std::int64_t i = 0; i < 7; ++i)
    for (std::int64_t j = 0; j < 5; ++j)
      EXPECT_EQ(y.data_as<double>()[i * 5 + j], col.data_as<double>()[i] * row.data_as<double>()[j] + 10);
}

TEST(Eval, RepeatedShapesReuseTheCompiledProgram) {
  Context ctx;
  Array a = random_array(DType::F32, {100}, 0, 1);
  (void)ctx.eval("a * a - 3", {{"a", a}});
  std::size_t before = rt::KernelCache::global().compiles();
  Array b = random_array(DType::F32, {12345}, 0, 1);
  Array y = ctx.eval("a * a - 3", {{"a", b}});
  EXPECT_EQ(rt::KernelCache::global().compiles(), before);
  EXPECT_EQ(y.data_as<float>()[17], b.data_as<float>()[17] * b.data_as<float>()[17] - 3.0f);
}

TEST(Eval, DistinctSizesDoNotBroadcast) {
  Context ctx;
  Array a = random_array(DType::F64, {3}, 0, 1), b = random_array(DType::F64, {4}, 0, 1);
  try {
    ctx.eval("a + b", {{"a", a}, {"b", b}});
    FAIL() << "expected a shape error";
  } catch (const Error &e) {
    EXPECT_EQ(e.kind(), ErrorKind::Shape) << e.what();
  }
}

TEST(Program, BlackScholesMatchesTheInterpreter) {
  Context ctx;
  Program bs = ctx.compile(kBlackScholes, "bs.xpr");
  EXPECT_EQ(bs.kernel_count(), 1);
  EXPECT_EQ(bs.intermediate_buffer_count(), 0);
  ASSERT_EQ(bs.outputs().size(), 2u);
  EXPECT_EQ(bs.outputs()[0].name, "call");
  EXPECT_EQ(bs.inputs()[2].type, "f32[n]");
  const std::int64_t n = 100003; // parallel, with a ragged tail
  Inputs in{{"S", random_array(DType::F32, {n}, 50, 150, 5)},
            {"K", random_array(DType::F32, {n}, 50, 150, 6)},
            {"T", random_array(DType::F32, {n}, 0.1, 3, 7)}};
  Params params{{"r", 0.05}, {"v", 0.2}};
  Outputs out = bs.run(in, params);
  auto ref = oracle_script(kBlackScholes, in, params);
  expect_same(out.at("call"), ref[0], 2e-4, "call");
  expect_same(out.at("put"), ref[1], 2e-4, "put");
}

TEST(Program, IntegerOpsAreBitExactWithBroadcasting) {
  const char *text = R"(input a: i32[n, 1]
input b: i32[1, m]
output q = a // b
output r = a % b
output s = (a << 3) ^ (b >> 1)
output w = where(a > b, a * b, a - b)
)";
  Context ctx;
  Program p = ctx.compile(text);
  EXPECT_EQ(p.kernel_count(), 1);
  Inputs in{{"a", random_array(DType::I32, {37, 1}, -100, 100, 8)},
            {"b", random_array(DType::I32, {1, 29}, -10, 10, 9)}};
  auto out = p.run_ordered(in);
  auto ref = oracle_script(text, in, {});
  ASSERT_EQ(out.size(), ref.size());
  for (std::size_t i = 0; i < out.size(); ++i)
    expect_same(out[i], ref[i], 0, p.outputs()[i].name);
}

TEST(Program, StridedAndNegativeStrideViews) {
  const char *text = "input x: f64[n, m]\ninput y: f64[n, m]\noutput z = x * 2.5 - y\n";
  Context ctx;
  Program p = ctx.compile(text);
  Array base = random_array(DType::F64, {40, 60}, -1, 1, 10);
  double *d = base.data_as<double>();
  // x: every other row and column; y: the transpose of a block, walked backwards.
  std::vector<std::int64_t> shape{20, 30};
  std::vector<std::int64_t> xs{120, 2};
  Array x = Array::view(d, DType::F64, sp(shape), sp(xs));
  std::vector<std::int64_t> ys{-1, -60};
  Array y = Array::view(d + 39 * 60 + 59, DType::F64, sp(shape), sp(ys)); // the last element
  Outputs out = p.run({{"x", x}, {"y", y}});
  auto ref = oracle_script(text, {{"x", x}, {"y", y}}, {});
  expect_same(out.at("z"), ref[0], 0, "z");
  EXPECT_EQ(out.at("z").data_as<double>()[0], d[0] * 2.5 - d[39 * 60 + 59]);
  EXPECT_EQ(out.at("z").data_as<double>()[31], d[120 + 2] * 2.5 - d[39 * 60 + 59 - 1 - 60]);
}

TEST(Program, RunIntoStridedOutput) {
  Context ctx;
  Program p = ctx.compile("input a: f32[n]\noutput y = a + 1\n");
  Array a = random_array(DType::F32, {100}, 0, 1);
  std::vector<float> dst(200, -7.0f);
  std::vector<std::int64_t> shape{100}, st{2};
  Array y = Array::view(dst.data(), DType::F32, sp(shape), sp(st));
  p.run_into({{"a", a}}, {{"y", y}});
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(dst[2 * i], a.data_as<float>()[i] + 1.0f);
    EXPECT_EQ(dst[2 * i + 1], -7.0f);
  }
}

TEST(Program, RunIntoInPlaceAndOverlapping) {
  Context ctx;
  Program p = ctx.compile("input a: f64[n]\noutput y = a * 2 + 1\n");
  const int n = 50000;
  std::vector<double> orig(n + 1);
  std::iota(orig.begin(), orig.end(), 0.0);
  std::vector<std::int64_t> shape{n};
  // Exactly aliased: a = a * 2 + 1 in place.
  std::vector<double> buf = orig;
  Array a = Array::view(buf.data(), DType::F64, sp(shape));
  p.run_into({{"a", a}}, {{"y", a}});
  for (int i = 0; i < n; ++i) ASSERT_EQ(buf[i], orig[i] * 2 + 1) << i;
  // Shifted by one element: the input must be read before it is overwritten.
  buf = orig;
  Array in = Array::view(buf.data(), DType::F64, sp(shape));
  Array out = Array::view(buf.data() + 1, DType::F64, sp(shape));
  p.run_into({{"a", in}}, {{"y", out}});
  for (int i = 0; i < n; ++i) ASSERT_EQ(buf[i + 1], orig[i] * 2 + 1) << i;
}

TEST(Program, InPlaceWithALaterReaderCopiesTheInput) {
  Context ctx;
  Program p = ctx.compile("input a: f64[n]\noutput y = a * 2\noutput s = sum(a)\n");
  std::vector<double> buf{1, 2, 3, 4};
  std::vector<std::int64_t> shape{4};
  Array a = Array::view(buf.data(), DType::F64, sp(shape));
  Array s = Array::empty(DType::F64, {});
  p.run_into({{"a", a}}, {{"y", a}, {"s", s}});
  EXPECT_EQ(buf, (std::vector<double>{2, 4, 6, 8}));
  EXPECT_EQ(s.data_as<double>()[0], 10.0); // the sum of the input as given
}

TEST(Program, ThreadCountsGiveIdenticalResults) {
  const char *text = "input x: f32[n]\ninput y: f32[n]\noutput z = sin(x) * exp(-y) + x / (y + 3)\n";
  Inputs in{{"x", random_array(DType::F32, {(1 << 20) + 3}, -5, 5, 11)},
            {"y", random_array(DType::F32, {(1 << 20) + 3}, 0, 5, 12)}};
  Array first;
  for (int threads : {1, 2, 3, 7}) {
    Options opts;
    opts.threads = threads;
    Context ctx(opts);
    EXPECT_EQ(ctx.threads(), threads);
    Array z = ctx.compile(text).run(in).at("z");
    if (!first.valid() || first.size() == 0) {
      first = z;
      continue;
    }
    ASSERT_EQ(std::memcmp(first.data(), z.data(), static_cast<std::size_t>(z.size()) * 4), 0)
        << threads << " threads";
  }
}

TEST(Program, ReductionsMatchTheInterpreter) {
  const char *text = R"(input x: f64[n, m]
let e = exp(x - max(x, axis=1, keepdims=true))
output y = e / sum(e, axis=1, keepdims=true)
output total = sum(x)
output am = argmax(x, axis=0)
)";
  Context ctx;
  Program p = ctx.compile(text);
  EXPECT_EQ(p.reduction_count(), 4);
  Inputs in{{"x", random_array(DType::F64, {33, 17}, -4, 4, 13)}};
  auto out = p.run_ordered(in);
  auto ref = oracle_script(text, in, {});
  expect_same(out[0], ref[0], 1e-14, "y");
  // Blocked summation: within docs/semantics.md's bound (tests/reduce checks the bound itself).
  expect_same(out[1], ref[1], 1e-13, "total");
  expect_same(out[2], ref[2], 0, "am");
}

TEST(Program, EmptyArrays) {
  Context ctx;
  Program p = ctx.compile("input a: f64[n]\noutput y = exp(a)\noutput s = sum(a)\n");
  std::vector<std::int64_t> shape{0};
  Outputs out = p.run({{"a", Array::empty(DType::F64, sp(shape))}});
  EXPECT_EQ(out.at("y").size(), 0);
  EXPECT_EQ(out.at("s").data_as<double>()[0], 0.0);
}

TEST(Program, RunTimeErrors) {
  Context ctx;
  Program bs = ctx.compile(kBlackScholes);
  Inputs in{{"S", random_array(DType::F32, {10}, 1, 2)},
            {"K", random_array(DType::F32, {10}, 1, 2)},
            {"T", random_array(DType::F32, {10}, 1, 2)}};
  auto kind_of = [](auto &&f) {
    try {
      f();
    } catch (const Error &e) {
      return e.kind();
    }
    return ErrorKind::Internal;
  };
  EXPECT_EQ(kind_of([&] { bs.run(in, {{"r", 0.05}}); }), ErrorKind::Runtime); // v missing
  Inputs short_in = in;
  short_in.erase("T");
  EXPECT_EQ(kind_of([&] { bs.run(short_in, {{"r", 0.05}, {"v", 0.2}}); }), ErrorKind::Runtime);
  Array wrong = Array::empty(DType::F32, {11});
  Array ok = Array::empty(DType::F32, {10});
  EXPECT_EQ(kind_of([&] { bs.run_into(in, {{"call", wrong}, {"put", ok}}, {{"r", 0.05}, {"v", 0.2}}); }),
            ErrorKind::Runtime);
  EXPECT_EQ(kind_of([&] { bs.run_into(in, {{"call", ok}}, {{"r", 0.05}, {"v", 0.2}}); }),
            ErrorKind::Runtime);
  EXPECT_EQ(kind_of([&] { Program().run({}); }), ErrorKind::Runtime);
}

TEST(Program, OutputsThatAreLeaves) {
  // Outputs that are an input, a constant and a param: copy kernels and rank-0 kernels.
  Context ctx;
  Program p = ctx.compile("input a: i32[n]\nparam k: i64\noutput y = a\noutput c = 1.5\noutput q = k\n");
  std::vector<std::int32_t> av{4, -5, 6};
  std::vector<std::int64_t> shape{3};
  Outputs out = p.run({{"a", Array::view(av.data(), DType::I32, sp(shape))}}, {{"k", 2.9}});
  EXPECT_EQ(out.at("y").data_as<std::int32_t>()[1], -5);
  EXPECT_NE(out.at("y").data(), static_cast<void *>(av.data())); // a copy, not the input
  EXPECT_EQ(out.at("c").data_as<double>()[0], 1.5);
  EXPECT_EQ(out.at("q").data_as<std::int64_t>()[0], 2); // float -> int truncates
  Context c2;
  Array seven = c2.eval("2 * 3 + 1", {});
  EXPECT_EQ(seven.dtype(), DType::I64);
  EXPECT_EQ(seven.data_as<std::int64_t>()[0], 7);
}

TEST(Context, SetThreadsAppliesToCompiledPrograms) {
  Options opts;
  opts.threads = 2;
  Context ctx(opts);
  Program p = ctx.compile("input a: f64[n]\noutput y = a + 1\n");
  ctx.set_threads(3);
  EXPECT_EQ(ctx.threads(), 3);
  Array a = random_array(DType::F64, {100000}, 0, 1);
  EXPECT_EQ(p.run({{"a", a}}).at("y").data_as<double>()[99999], a.data_as<double>()[99999] + 1);
}

TEST(Program, EmitStages) {
  Context ctx;
  Program p = ctx.compile("input a: f32[n]\nparam k: f32\noutput y = a * k + 1\n");
  EXPECT_NE(p.emit(Stage::Ir).find("param \"k\""), std::string::npos);
  std::string fused = p.emit(Stage::Fused);
  EXPECT_NE(fused.find("kernel k0 over [n]"), std::string::npos) << fused;
  EXPECT_NE(fused.find("p0 <- param \"k\""), std::string::npos) << fused;
  EXPECT_NE(p.emit(Stage::Mlir).find("// kernel k0"), std::string::npos);
}

TEST(Context, ConcurrentCompileEvalAndRunFromManyThreads) {
  // One Context shared by 6 threads (tests/robustness and scripts/sanitize.sh tsan run this
  // under ThreadSanitizer): each thread evals and compiles expressions that other threads
  // compile at the same moment (same text: one Program; same kernel: one compile) and ones
  // only it uses, runs them on large arrays (parallel executor) and small ones (calling
  // thread), and reduces; every result is checked exactly.
  Options opts;
  opts.threads = 2;
  Context ctx(opts);
  const std::int64_t big = 200000, small = 100;
  Array a = random_array(DType::F64, {big}, -1, 1, 11);
  Array as = random_array(DType::F64, {small}, -1, 1, 12);
  const double *av = a.data_as<double>();
  std::atomic<int> failures{0};
  auto worker = [&](int t) {
    try {
      for (int it = 0; it < 6; ++it) {
        const int k = (t + it) % 3; // shared texts, met by two threads at once
        const std::string shared = fmt::format("a * {} + a * a", k + 1);
        const std::string mine = fmt::format("a * a * {} - a + {}", t + 2, it);
        for (const Array *in : {&a, &as}) {
          Array y = ctx.eval(shared, {{"a", *in}});
          const double *x = in->data_as<double>();
          for (std::int64_t i : {std::int64_t{0}, in->size() / 2, in->size() - 1})
            if (y.data_as<double>()[i] != x[i] * (k + 1) + x[i] * x[i]) ++failures;
          Array z = ctx.eval(mine, {{"a", *in}});
          if (z.data_as<double>()[3] != x[3] * x[3] * (t + 2) - x[3] + it) ++failures;
        }
        Program p = ctx.compile(fmt::format("input a: f64[n]\noutput s = sum(a * {})\n"
                                            "output m = max(a)\n", k + 1));
        auto out = p.run({{"a", a}});
        double m = av[0];
        for (std::int64_t i = 1; i < big; ++i) m = std::max(m, av[i]);
        if (out.at("m").data_as<double>()[0] != m) ++failures;
        // The sum is deterministic: the same bits from every thread and every run.
        auto again = p.run({{"a", a}});
        if (std::memcmp(out.at("s").data(), again.at("s").data(), sizeof(double)) != 0) ++failures;
      }
    } catch (const std::exception &e) {
      ADD_FAILURE() << "thread " << t << ": " << e.what();
      ++failures;
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) threads.emplace_back(worker, t);
  for (auto &th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(Program, EmitShowsReductionKernels) {
  // A reduce step's code is part of the program: the code stages show it, numbered by step.
  Context ctx;
  Program p = ctx.compile("input a: f32[n]\ninput b: f32[n]\noutput s = sum(a * b)\n"
                          "output y = a + b\n");
  std::string llvm = p.emit(Stage::Llvm);
  EXPECT_NE(llvm.find("// kernel k0\n"), std::string::npos) << llvm;
  EXPECT_NE(llvm.find("// kernel k1 (reduce: "), std::string::npos) << llvm;
  EXPECT_NE(llvm.find("fmul"), std::string::npos) << "the reduction's a * b is missing:\n" << llvm;
}

} // namespace
} // namespace xpr

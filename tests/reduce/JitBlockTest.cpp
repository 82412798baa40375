// tests/reduce/JitBlockTest.cpp — the JIT reduce kernels (generated accumulation) against the
// runtime's C++ block loops: the same bits for every op, dtype and length around the leaf and
// block boundaries, over all elements and along the last axis, with fused maps, params and
// special values; which path runs; and that reduce kernels live in the kernel and disk caches
// under keys of their own.
#include "ReduceTestUtil.h"

#include "runtime/KernelCache.h"
#include "runtime/Reduce.h"

#include <fmt/format.h>

#include <filesystem>
#include <unistd.h>

namespace xpr::reduce_test {
namespace {

const std::vector<std::int64_t> kSizes = {0, 1, 255, 256, 257, 4095, 4096, 4097, 1000003};

/// Restores the JIT switch however a test ends.
struct JitSwitch {
  bool was = rt::reduce_jit();
  ~JitSwitch() { rt::set_reduce_jit(was); }
};

/// Bitwise equality, except that any two NaNs are equal (their payload is unspecified).
::testing::AssertionResult same_bits(const Array &a, const Array &b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape())
    return ::testing::AssertionFailure() << "dtype or shape differs";
  for (std::int64_t i = 0; i < a.size(); ++i) {
    if (bits_at(a, i) == bits_at(b, i)) continue;
    if (is_float(a.dtype()) && std::isnan(value_at(a, i)) && std::isnan(value_at(b, i))) continue;
    return ::testing::AssertionFailure()
           << "element " << i << ": JIT " << value_at(a, i) << " (bits " << bits_at(a, i)
           << "), C++ " << value_at(b, i) << " (bits " << bits_at(b, i) << ")";
  }
  return ::testing::AssertionSuccess();
}

struct Both {
  std::vector<Array> jit, cpp;
  std::uint64_t jit_runs = 0, fallback_runs = 0; // during the JIT-enabled run
};

/// Runs `prog` once with reduce kernels allowed and once with the C++ loops only.
Both run_both(const Program &prog, const Inputs &in, const Params &params = {}) {
  JitSwitch keep;
  Both r;
  rt::set_reduce_jit(true);
  const rt::ReduceCounters c0 = rt::reduce_counters();
  r.jit = prog.run_ordered(in, params);
  const rt::ReduceCounters c1 = rt::reduce_counters();
  r.jit_runs = c1.jit - c0.jit;
  r.fallback_runs = c1.fallback - c0.fallback;
  rt::set_reduce_jit(false);
  r.cpp = prog.run_ordered(in, params);
  EXPECT_EQ(rt::reduce_counters().jit, c1.jit) << "the switch did not turn the JIT path off";
  return r;
}

Data data_for(const std::string &op) {
  if (op == "prod") return Data::Prod;
  if (op == "any" || op == "all") return Data::Bools;
  if (op == "min" || op == "max") return Data::Extreme;
  return Data::Sum;
}

/// Whether the JIT path must be taken: runtime/Reduce.h's list, in terms of the input dtype.
bool expect_jit(const std::string &op, DType dt) {
  return true; // sum/mean/prod accumulate in i64/u64/f32/f64; min/max of all; any/all of bool
}

// Every op with a reduce kernel × input dtype × length, over all elements and along the last
// axis of a 3-row matrix (keepdims on), compared bit for bit with the C++ loops.
TEST(ReduceJitBlock, SameBitsAsTheCppLoops) {
  const std::vector<std::string> ops = {"sum", "mean", "prod", "min", "max", "any", "all"};
  const std::vector<DType> dts = {DType::Bool, DType::I8,   DType::I16, DType::I32,
                                  DType::I64,  DType::U8,   DType::U32, DType::U64,
                                  DType::F16,  DType::BF16, DType::F32, DType::F64};
  Context ctx(test_options());
  int compared = 0;
  for (const std::string &op : ops)
    for (DType dt : dts) {
      const std::string name(dtype_name(dt));
      Program all = ctx.compile(fmt::format("input x: {}[n]\noutput y = {}(x)\n", name, op));
      Program rows = ctx.compile(
          fmt::format("input x: {}[r, n]\noutput y = {}(x, axis=-1, keepdims=true)\n", name, op));
      unsigned seed = 100;
      for (std::int64_t n : kSizes) {
        const bool empty_error = n == 0 && (op == "min" || op == "max");
        const std::string where = fmt::format("{} of {}[{}]", op, name, n);
        for (int variant = 0; variant < 2; ++variant) {
          if (variant == 1 && n > 4097 && dt != DType::F32 && dt != DType::I32) continue;
          const std::vector<std::int64_t> shape =
              variant == 0 ? std::vector<std::int64_t>{n} : std::vector<std::int64_t>{3, n};
          Array x = random_array(dt, shape, data_for(op), /*specials=*/true, ++seed);
          const Program &p = variant == 0 ? all : rows;
          if (empty_error) {
            EXPECT_THROW(p.run_ordered({{"x", x}}), Error) << where;
            continue;
          }
          Both r = run_both(p, {{"x", x}});
          ASSERT_TRUE(same_bits(r.jit.at(0), r.cpp.at(0))) << where << (variant ? " rows" : "");
          if (n > 0 && expect_jit(op, dt)) {
            EXPECT_EQ(r.jit_runs, 1u) << where;
            EXPECT_EQ(r.fallback_runs, 0u) << where;
          }
          ++compared;
        }
      }
    }
  EXPECT_GT(compared, 1000);
}

// The fused maps of real programs: several inputs, a broadcast scalar, a runtime param, a SLEEF
// function, f64 accumulation of a mean, and a row softmax's two row reductions.
TEST(ReduceJitBlock, FusedMapsSameBits) {
  const std::string text = R"(input a: f32[n]
input b: f32[n]
input s: f32[]
input m: f64[r, c]
param k: f32
output dot = sum(a * b)
output ed = sum(exp(a) * b + s)
output mn = mean(a * k)
output lo = min(a - b)
output hi = max(m * 2, axis=1)
output rs = sum(m, axis=1)
output e = exp(m - max(m, axis=1, keepdims=true))
output sm = e / sum(e, axis=1, keepdims=true)
)";
  Context ctx(test_options());
  Program prog = ctx.compile(text);
  for (std::int64_t n : kSizes) {
    const std::int64_t c = std::min<std::int64_t>(n, 5000);
    Inputs in{{"a", random_array(DType::F32, {n}, Data::Sum, false, 1)},
              {"b", random_array(DType::F32, {n}, Data::Sum, false, 2)},
              {"s", random_array(DType::F32, {}, Data::Sum, false, 3)},
              {"m", random_array(DType::F64, {7, c}, Data::Sum, false, 4)}};
    if (n == 0 || c == 0) {
      EXPECT_THROW(prog.run_ordered(in, {{"k", 0.5}}), Error); // min of empty
      continue;
    }
    Both r = run_both(prog, in, {{"k", 0.5}});
    for (std::size_t k = 0; k < r.jit.size(); ++k)
      ASSERT_TRUE(same_bits(r.jit[k], r.cpp[k])) << "output " << k << " at n = " << n;
    EXPECT_EQ(r.jit_runs, 8u) << "n = " << n; // every reduction of the program
    EXPECT_EQ(r.fallback_runs, 0u) << "n = " << n;
  }
}

// Row groups run tile by tile (several tiles per thread) with the reduce kernels inside. The row
// max reads x alone (a reduce kernel); the row sum's map recomputes exp(x - max) and reads the
// max broadcast along the row, which is a strided operand: it takes the C++ loops.
TEST(ReduceJitBlock, RowGroupTilesSameBits) {
  const std::string text = "input x: f32[r, c]\n"
                           "let e = exp(x - max(x, axis=1, keepdims=true))\n"
                           "output y = e / sum(e, axis=1, keepdims=true)\n";
  Context ctx(test_options(2));
  Program prog = ctx.compile(text);
  for (auto [r, c] : {std::pair<std::int64_t, std::int64_t>{301, 900}, {64, 5000}, {1000, 17}}) {
    Both b = run_both(prog, {{"x", random_array(DType::F32, {r, c}, Data::Sum, false, 11)}});
    EXPECT_TRUE(same_bits(b.jit.at(0), b.cpp.at(0))) << r << "x" << c;
    EXPECT_EQ(b.jit_runs, 1u) << r << "x" << c;
    EXPECT_EQ(b.fallback_runs, 1u) << r << "x" << c;
  }
}

// Same bits for any thread count, through the JIT path (units are whole blocks).
TEST(ReduceJitBlock, ThreadCountDoesNotChangeBits) {
  Inputs in{{"a", random_array(DType::F32, {1000003}, Data::Sum, false, 7)},
            {"b", random_array(DType::F32, {1000003}, Data::Sum, false, 8)},
            {"x", random_array(DType::F32, {33, 70001}, Data::Sum, false, 9)}};
  const std::string text = "input a: f32[n]\ninput b: f32[n]\ninput x: f32[r, c]\n"
                           "output s = sum(a * b)\noutput t = sum(x, axis=1)\n";
  std::vector<Array> first;
  JitSwitch keep;
  rt::set_reduce_jit(false);
  first = Context(test_options(1)).compile(text).run_ordered(in);
  rt::set_reduce_jit(true);
  for (int threads : {1, 2, 3, 7}) {
    std::vector<Array> out = Context(test_options(threads)).compile(text).run_ordered(in);
    for (std::size_t k = 0; k < out.size(); ++k)
      ASSERT_TRUE(same_bits(out[k], first[k])) << "output " << k << ", " << threads << " threads";
  }
}

// What still takes the C++ loops: argmax, strided operands, column reductions, min of bool.
TEST(ReduceJitBlock, FallbacksAreTheDocumentedOnes) {
  Context ctx(test_options());
  auto runs = [&](const std::string &text, const Inputs &in) {
    Both r = run_both(ctx.compile(text), in);
    for (std::size_t k = 0; k < r.jit.size(); ++k)
      EXPECT_TRUE(same_bits(r.jit[k], r.cpp[k])) << text;
    return std::pair{r.jit_runs, r.fallback_runs};
  };
  Array x = random_array(DType::F32, {64, 300}, Data::Extreme, true, 5);
  Array keep;
  Array xs = strided_view(DType::F32, {64, 300}, Data::Sum, false, 6, keep);
  Array bx = random_array(DType::Bool, {5000}, Data::Bools, false, 7);
  const std::string m = "input x: f32[r, c]\n";
  EXPECT_EQ(runs(m + "output y = argmax(x)\n", {{"x", x}}),
            (std::pair<std::uint64_t, std::uint64_t>{0, 1}));
  EXPECT_EQ(runs(m + "output y = sum(x, axis=0)\n", {{"x", x}}),
            (std::pair<std::uint64_t, std::uint64_t>{0, 1}));
  EXPECT_EQ(runs(m + "output y = sum(x, axis=1)\n", {{"x", xs}}),
            (std::pair<std::uint64_t, std::uint64_t>{0, 1}));
  EXPECT_EQ(runs(m + "output y = sum(x, axis=1)\n", {{"x", x}}),
            (std::pair<std::uint64_t, std::uint64_t>{1, 0}));
  // min/max of bool are and/or of the 0/1 bytes: a reduce kernel (the GPU's too).
  EXPECT_EQ(runs("input x: bool[n]\noutput y = min(x)\n", {{"x", bx}}),
            (std::pair<std::uint64_t, std::uint64_t>{1, 0}));
  EXPECT_EQ(runs("input x: bool[n]\noutput y = any(x)\n", {{"x", bx}}),
            (std::pair<std::uint64_t, std::uint64_t>{1, 0}));
}

// A reduce kernel is cached like any kernel: on disk under its own key (not its map's), and found
// there by a fresh Program after the in-memory table is forgotten.
TEST(ReduceJitBlock, ReduceKernelsUseTheDiskCacheUnderTheirOwnKey) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / fmt::format("xpr-reduce-jit-{}", ::getpid());
  fs::remove_all(dir);
  Options o = test_options();
  o.cache.disk = true;
  o.cache.dir = dir.string();
  // A kernel text no other test compiles, so nothing is in memory yet.
  const std::string text = "input a: f32[n]\ninput b: f32[n]\noutput s = sum(a * b * 0.8125 - b)\n";
  Inputs in{{"a", random_array(DType::F32, {10000}, Data::Sum, false, 1)},
            {"b", random_array(DType::F32, {10000}, Data::Sum, false, 2)}};
  JitSwitch keep;
  rt::set_reduce_jit(true);
  Array first;
  {
    Program p = Context(o).compile(text);
    first = p.run_ordered(in).at(0);
    EXPECT_EQ(p.timings().kernels_compiled, 1);
    EXPECT_NE(p.explain_cache().find("kernel k0 [in=CC out=C accurate, rank 1, "),
              std::string::npos)
        << p.explain_cache();
  }
  rt::KernelCache::global().clear_memory();
  {
    Program p = Context(o).compile(text);
    EXPECT_TRUE(same_bits(p.run_ordered(in).at(0), first));
    EXPECT_EQ(p.timings().kernels_from_disk, 1);
    EXPECT_EQ(p.timings().kernels_compiled, 0);
  }
  // The C++ path needs the map kernel, whose key differs: compiled, not found on disk.
  rt::set_reduce_jit(false);
  {
    Program p = Context(o).compile(text);
    EXPECT_TRUE(same_bits(p.run_ordered(in).at(0), first));
    EXPECT_EQ(p.timings().kernels_compiled, 1);
    EXPECT_EQ(p.timings().kernels_from_disk, 0);
  }
  fs::remove_all(dir);
}

} // namespace
} // namespace xpr::reduce_test

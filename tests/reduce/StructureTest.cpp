// tests/reduce/StructureTest.cpp — what fusion makes of reductions (steps, intermediates, passes
// over memory), multi-stage programs against the interpreter, and bitwise determinism across
// thread counts.
#include "ReduceTestUtil.h"

#include "compiler/passes/Pipeline.h"

#include <fmt/format.h>

namespace xpr::reduce_test {
namespace {

passes::Plan plan_of(const std::string &text) {
  SourceFile src("<test>", text);
  return passes::lower_to_plan(fe::compile_script(src));
}

int input_buffer(const passes::Plan &p, const std::string &name) {
  for (int b : p.input_buffers)
    if (p.buffers[static_cast<std::size_t>(b)].name == name) return b;
  throw std::out_of_range("no input " + name);
}

TEST(ReduceFusion, DotProductIsOneStepWithoutIntermediates) {
  passes::Plan p = plan_of("input a: f32[n]\ninput b: f32[n]\noutput s = sum(a * b)\n");
  ASSERT_EQ(p.steps.size(), 1u); // one pass: the map a*b runs inside the reduction
  EXPECT_EQ(p.kernel_count(), 0);
  EXPECT_EQ(p.reduce_count(), 1);
  EXPECT_EQ(p.intermediate_count(), 0);
  EXPECT_EQ(p.memory_passes(input_buffer(p, "a")), 1);
  EXPECT_EQ(p.memory_passes(input_buffer(p, "b")), 1);
  EXPECT_EQ(p.steps[0].reduce.output, p.output_buffers[0]);
  EXPECT_EQ(print(p), R"(plan {
  b0 = input "a" : f32[n]
  b1 = input "b" : f32[n]
  b2 = output "s" : f32[]
  reduce sum {axes = [0], keepdims = false} -> b2 "s"
    in0 <- b0 "a"
    in1 <- b1 "b"
    graph {
      %0 = input "in0" : f32[n]
      %1 = input "in1" : f32[n]
      %2 = mul %0, %1 : f32[n]
      output "out0" = %2
    }
} # 0 kernel(s), 1 reduction(s), 0 intermediate buffer(s)
)");
}

TEST(ReduceFusion, ExpTimesBReadsEachInputOnce) {
  passes::Plan p = plan_of("input a: f32[n]\ninput b: f32[n]\noutput s = sum(exp(a) * b)\n");
  ASSERT_EQ(p.steps.size(), 1u);
  EXPECT_EQ(p.intermediate_count(), 0);
  EXPECT_EQ(p.memory_passes(input_buffer(p, "a")), 1);
  EXPECT_EQ(p.memory_passes(input_buffer(p, "b")), 1);
}

TEST(ReduceFusion, IntegerSumCastsInTheMap) {
  // sum of i32 accumulates in i64: the map converts, the reduction adds i64.
  passes::Plan p = plan_of("input a: i32[n]\noutput s = sum(a, axis=0)\n");
  ASSERT_EQ(p.steps.size(), 1u);
  const ir::Graph &m = p.steps[0].reduce.map.kernel;
  EXPECT_EQ(m.type(m.outputs[0].value).dtype, DType::I64);
  EXPECT_EQ(p.steps[0].reduce.input, p.input_buffers[0]);
}

TEST(ReduceFusion, SoftmaxOverRowsIsOneRowGroupReadingXOnce) {
  passes::Plan p = plan_of(R"(input x: f32[n, m]
let e = exp(x - max(x, axis=1, keepdims=true))
output y = e / sum(e, axis=1, keepdims=true)
)");
  ASSERT_EQ(p.steps.size(), 3u); // max, sum(exp(x - max)), exp(x - max) / sum
  EXPECT_EQ(p.reduce_count(), 2);
  EXPECT_EQ(p.kernel_count(), 1);
  EXPECT_EQ(p.intermediate_count(), 2); // the [n, 1] max and sum; no [n, m] temporary
  ASSERT_EQ(p.row_groups.size(), 1u);
  EXPECT_EQ(p.row_groups[0].first, 0);
  EXPECT_EQ(p.row_groups[0].last, 2);
  // The claim: x is read from memory once (each tile of rows is reused from cache by the three
  // steps), y written once.
  EXPECT_EQ(p.memory_passes(input_buffer(p, "x")), 1);
}

TEST(ReduceFusion, SubtractRowMaxIsOneRowGroup) {
  passes::Plan p = plan_of("input x: f32[n, m]\noutput y = x - max(x, axis=1, keepdims=true)\n");
  ASSERT_EQ(p.steps.size(), 2u);
  ASSERT_EQ(p.row_groups.size(), 1u);
  EXPECT_EQ(p.memory_passes(input_buffer(p, "x")), 1);
}

TEST(ReduceFusion, MeanAndVarianceReadTheInputTwice) {
  // A full reduction must finish before its result can be used: two passes over a, no temporary
  // of a's size.
  passes::Plan p = plan_of("input a: f64[n]\noutput y = a - mean(a)\n");
  EXPECT_EQ(p.steps.size(), 2u);
  EXPECT_EQ(p.intermediate_count(), 1); // the scalar mean
  EXPECT_EQ(p.memory_passes(input_buffer(p, "a")), 2);
  passes::Plan v = plan_of("input a: f64[n]\noutput v = mean((a - mean(a)) ** 2)\n");
  EXPECT_EQ(v.steps.size(), 2u); // mean(a), then mean of the fused (a - m)**2
  EXPECT_EQ(v.kernel_count(), 0);
  EXPECT_EQ(v.intermediate_count(), 1);
  EXPECT_EQ(v.memory_passes(input_buffer(v, "a")), 2);
}

TEST(ReduceFusion, ColumnReductionFormsNoRowGroup) {
  passes::Plan p = plan_of("input x: f32[n, m]\noutput y = x - max(x, axis=0, keepdims=true)\n");
  EXPECT_TRUE(p.row_groups.empty());
  EXPECT_EQ(p.memory_passes(input_buffer(p, "x")), 2);
}

TEST(ReduceFusion, RowMaxWithoutKeepdimsDoesNotGroupAMisalignedRead) {
  // max(x, axis=1) is [n]; broadcast against [n, n] it lines up with the columns, not the rows,
  // so the kernel cannot run row tile by row tile.
  passes::Plan p = plan_of("input x: f32[n, n]\noutput y = x - max(x, axis=1)\n");
  EXPECT_TRUE(p.row_groups.empty());
}

// ---- multi-stage programs against the interpreter ----

void check_program(const std::string &text, const Inputs &in, double rel, int threads = 0) {
  Context ctx(test_options(threads));
  Program prog = ctx.compile(text);
  std::vector<Array> got = prog.run_ordered(in);
  std::vector<Array> ref = oracle(text, in);
  ASSERT_EQ(got.size(), ref.size());
  for (std::size_t k = 0; k < ref.size(); ++k) {
    ASSERT_EQ(got[k].shape(), ref[k].shape()) << text;
    for (std::int64_t i = 0; i < ref[k].size(); ++i) {
      double a = value_at(got[k], i), b = value_at(ref[k], i);
      ASSERT_LE(std::fabs(a - b), rel * std::max(1.0, std::fabs(b)))
          << text << "output " << k << " element " << i << ": " << a << " vs " << b;
    }
  }
}

TEST(ReduceStages, SoftmaxRowsMatchTheInterpreter) {
  const std::string text = R"(input x: f32[n, m]
let e = exp(x - max(x, axis=1, keepdims=true))
output y = e / sum(e, axis=1, keepdims=true)
)";
  // Small rows (tiled row group), one long row (step by step), rows over several blocks.
  for (auto shape : std::vector<std::vector<std::int64_t>>{{1, 1}, {3, 7}, {700, 33}, {1, 70000},
                                                           {64, 5000}, {0, 4}}) {
    Array x = random_array(DType::F32, shape, Data::Sum, false, 5);
    for (int threads : {1, 2}) check_program(text, {{"x", x}}, 2e-6, threads);
  }
}

TEST(ReduceStages, SubtractMaxMeanAndVariance) {
  Array x = random_array(DType::F64, {257, 129}, Data::Sum, false, 6);
  check_program("input x: f64[n, m]\noutput y = x - max(x, axis=1, keepdims=true)\n", {{"x", x}}, 0);
  check_program("input x: f64[n, m]\noutput y = x - max(x, axis=0, keepdims=true)\n", {{"x", x}}, 0);
  Array a = random_array(DType::F64, {100003}, Data::Sum, false, 7);
  check_program("input a: f64[n]\noutput y = a - mean(a)\n", {{"a", a}}, 1e-13);
  check_program("input a: f64[n]\noutput v = mean((a - mean(a)) ** 2)\n", {{"a", a}}, 1e-12);
  check_program("input x: f64[n, m]\noutput v = mean((x - mean(x, axis=1, keepdims=true)) ** 2, "
                "axis=1)\n",
                {{"x", x}}, 1e-12);
}

TEST(ReduceStages, MapWithParamsAndBroadcast) {
  Array a = random_array(DType::F32, {300, 40}, Data::Sum, false, 8);
  Array b = random_array(DType::F32, {40}, Data::Sum, false, 9);
  Context ctx(test_options());
  const std::string text = "input a: f32[n, m]\ninput b: f32[m]\nparam s: f32\n"
                           "output r = sum(a * b + s, axis=1)\noutput c = max(a - b * s, axis=0)\n";
  Program prog = ctx.compile(text);
  std::vector<Array> got = prog.run_ordered({{"a", a}, {"b", b}}, {{"s", 0.5}});
  SourceFile src("<script>", text);
  std::vector<Array> ref =
      ir::interpret(fe::compile_script(src), {{"a", a}, {"b", b}}, {{"s", Scalar(0.5)}});
  for (std::int64_t i = 0; i < ref[0].size(); ++i)
    EXPECT_NEAR(value_at(got[0], i), value_at(ref[0], i), 1e-4) << i;
  for (std::int64_t i = 0; i < ref[1].size(); ++i)
    EXPECT_EQ(bits_at(got[1], i), bits_at(ref[1], i)) << i;
}

TEST(ReduceStages, EmptyExtentErrors) {
  Context ctx(test_options());
  Program p = ctx.compile("input x: f32[n, m]\noutput y = min(x, axis=1)\n");
  std::vector<std::int64_t> shape{0, 0};
  Array x = Array::empty(DType::F32, std::span<const std::int64_t>(shape.data(), 2));
  try {
    p.run({{"x", x}});
    FAIL() << "min over an empty extent must raise";
  } catch (const Error &e) {
    EXPECT_EQ(e.kind(), ErrorKind::Runtime);
    EXPECT_NE(std::string(e.what()).find("min of an empty array has no identity"),
              std::string::npos)
        << e.what();
  }
  // Only the kept dim empty: no error, an empty result.
  shape = {0, 5};
  Array y = p.run({{"x", Array::empty(DType::F32, std::span<const std::int64_t>(shape.data(), 2))}})
                .at("y");
  EXPECT_EQ(y.size(), 0);
  Program q = ctx.compile("input x: f32[n]\noutput a = sum(x)\noutput b = prod(x)\n"
                          "output c = any(x)\noutput d = all(x)\noutput e = mean(x)\n");
  shape = {0};
  auto out = q.run_ordered({{"x", Array::empty(DType::F32, std::span<const std::int64_t>(shape.data(), 1))}});
  EXPECT_EQ(value_at(out[0], 0), 0.0);
  EXPECT_EQ(value_at(out[1], 0), 1.0);
  EXPECT_EQ(value_at(out[2], 0), 0.0);
  EXPECT_EQ(value_at(out[3], 0), 1.0);
  EXPECT_TRUE(std::isnan(value_at(out[4], 0)));
}

TEST(ReduceStages, NaNAndSignedZeroSemantics) {
  Context ctx(test_options());
  float v[] = {1.0f, +0.0f, -0.0f, NAN, -3.0f, NAN, -3.0f};
  Array x = xpr::view(v, DType::F32, {7});
  auto r = ctx.compile("input x: f32[n]\noutput a = argmin(x)\noutput b = argmax(x)\n"
                       "output c = min(x)\noutput d = max(x)\n")
               .run_ordered({{"x", x}});
  EXPECT_EQ(r[0].data_as<std::int64_t>()[0], 3); // the first NaN
  EXPECT_EQ(r[1].data_as<std::int64_t>()[0], 3);
  EXPECT_TRUE(std::isnan(r[2].data_as<float>()[0]));
  EXPECT_TRUE(std::isnan(r[3].data_as<float>()[0]));
  float w[] = {+0.0f, -0.0f, 2.0f, -3.0f, 2.0f, -3.0f};
  Program q = ctx.compile("input x: f32[n]\noutput a = argmin(x)\noutput b = argmax(x)\n"
                          "output c = min(x)\noutput d = max(x)\n");
  auto t = q.run_ordered({{"x", xpr::view(w, DType::F32, {6})}});
  EXPECT_EQ(t[0].data_as<std::int64_t>()[0], 3); // the first -3
  EXPECT_EQ(t[1].data_as<std::int64_t>()[0], 2); // the first 2
  auto z = q.run_ordered({{"x", xpr::view(w, DType::F32, {2})}});
  EXPECT_EQ(z[0].data_as<std::int64_t>()[0], 1); // -0 < +0
  EXPECT_EQ(z[1].data_as<std::int64_t>()[0], 0);
  EXPECT_TRUE(std::signbit(z[2].data_as<float>()[0]));
  EXPECT_FALSE(std::signbit(z[3].data_as<float>()[0]));
}

// ---- determinism: identical bits for 1, 2, 3 and 7 threads ----

TEST(ReduceDeterminism, SameBitsForAnyThreadCount) {
  const std::string text = R"(input a: f32[n]
input b: f32[n]
input x: f32[r, c]
input z: f32[k, j]
output s = sum(exp(a * 0.001) * b)
output p = prod(1 + b * 0.0001)
output mu = mean(a)
output am = argmax(a)
output rows = sum(x, axis=1)
output cols = sum(z, axis=0)
output e = exp(x - max(x, axis=1, keepdims=true))
output sm = e / sum(e, axis=1, keepdims=true)
)";
  Inputs in{{"a", random_array(DType::F32, {3000017}, Data::Sum, false, 21)},
            {"b", random_array(DType::F32, {3000017}, Data::Sum, false, 22)},
            {"x", random_array(DType::F32, {301, 9000}, Data::Sum, false, 23)},
            {"z", random_array(DType::F32, {5001, 300}, Data::Sum, false, 24)}};
  std::vector<Array> first;
  for (int threads : {1, 2, 3, 7}) {
    Context ctx(test_options(threads));
    std::vector<Array> out = ctx.compile(text).run_ordered(in);
    if (first.empty()) {
      first = out;
      continue;
    }
    for (std::size_t k = 0; k < out.size(); ++k)
      ASSERT_EQ(std::memcmp(first[k].data(), out[k].data(),
                            static_cast<std::size_t>(out[k].size() * dtype_size(out[k].dtype()))),
                0)
          << "output " << k << " with " << threads << " threads";
  }
  // And the results are right (not only stable).
  std::vector<Array> ref = oracle(text, in);
  const double sum_tol = gamma(sum_depth(3000017), std::ldexp(1.0, -24));
  double wabs = 0;
  for (std::int64_t i = 0; i < 3000017; ++i)
    wabs += std::fabs(std::exp(value_at(in.at("a"), i) * 0.001) * value_at(in.at("b"), i));
  EXPECT_NEAR(value_at(first[0], 0), value_at(ref[0], 0), 2 * sum_tol * wabs + 1e-3);
  EXPECT_EQ(bits_at(first[3], 0), bits_at(ref[3], 0));
}

} // namespace
} // namespace xpr::reduce_test

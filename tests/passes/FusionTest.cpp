// tests/passes/FusionTest.cpp — structure tests: how many kernels, steps and intermediate buffers.
#include "compiler/ir/Graph.h"
#include "compiler/passes/Fusion.h"
#include "compiler/passes/Pipeline.h"
#include "frontend/Frontend.h"

#include <gtest/gtest.h>

namespace xpr::passes {
namespace {

Plan plan_of_ir(const std::string &body) {
  return lower_to_plan(ir::parse("graph {\n" + body + "}\n"));
}
Plan plan_of_script(const std::string &text) {
  SourceFile src("<test>", text);
  return lower_to_plan(fe::compile_script(src));
}

const KernelStep &kernel(const Plan &p, int k) {
  int seen = 0;
  for (const Step &s : p.steps)
    if (s.kind == Step::Kind::Kernel && seen++ == k) return s.kernel;
  throw std::out_of_range("no such kernel");
}

TEST(Fusion, ElementwiseChainIsOneKernelWithoutIntermediates) {
  // a*b + c*d - exp(e)
  Plan p = plan_of_ir(R"(  %0 = input "a" : f32[n]
  %1 = input "b" : f32[n]
  %2 = input "c" : f32[n]
  %3 = input "d" : f32[n]
  %4 = input "e" : f32[n]
  %5 = mul %0, %1 : f32[n]
  %6 = mul %2, %3 : f32[n]
  %7 = add %5, %6 : f32[n]
  %8 = exp %4 : f32[n]
  %9 = sub %7, %8 : f32[n]
  output "result" = %9
)");
  EXPECT_EQ(p.kernel_count(), 1);
  EXPECT_EQ(p.reduce_count(), 0);
  EXPECT_EQ(p.intermediate_count(), 0);
  EXPECT_EQ(kernel(p, 0).inputs.size(), 5u);
  EXPECT_EQ(kernel(p, 0).outputs.size(), 1u);
  EXPECT_EQ(ir::print(kernel(p, 0).kernel), R"(graph {
  %0 = input "in0" : f32[n]
  %1 = input "in1" : f32[n]
  %2 = input "in2" : f32[n]
  %3 = input "in3" : f32[n]
  %4 = input "in4" : f32[n]
  %5 = mul %0, %1 : f32[n]
  %6 = mul %2, %3 : f32[n]
  %7 = add %5, %6 : f32[n]
  %8 = exp %4 : f32[n]
  %9 = sub %7, %8 : f32[n]
  output "out0" = %9
}
)");
}

TEST(Fusion, BroadcastIsFusedIntoTheLargerIterationSpace) {
  Plan p = plan_of_ir(R"(  %0 = input "row" : f64[1, m]
  %1 = input "col" : f64[n, 1]
  %2 = param "s" : f64[]
  %3 = exp %0 : f64[1, m]
  %4 = mul %1, %2 : f64[n, 1]
  %5 = add %3, %4 : f64[n, m]
  output "y" = %5
)");
  EXPECT_EQ(p.kernel_count(), 1);
  EXPECT_EQ(p.intermediate_count(), 0);
  EXPECT_EQ(kernel(p, 0).params, std::vector<int>{0});
  EXPECT_EQ(kernel(p, 0).iter_dims, (std::vector<ir::Dim>{ir::Dim::symbol("n"), ir::Dim::symbol("m")}));
}

TEST(Fusion, BlackScholesIsOneKernelWritingBothOutputs) {
  Plan p = plan_of_script(R"(input S: f32[n]        # symbolic dims: one compiled kernel serves every n
input K: f32[n]
input T: f32[n]
param r: f32           # a runtime scalar, not baked into the code
param v: f32
let sqrtT = sqrt(T)
let d1 = (log(S / K) + (r + 0.5 * v * v) * T) / (v * sqrtT)
let d2 = d1 - v * sqrtT
output call = S * ncdf(d1) - K * exp(-r * T) * ncdf(d2)
output put  = K * exp(-r * T) * ncdf(-d2) - S * ncdf(-d1)
)");
  ASSERT_EQ(p.kernel_count(), 1);
  EXPECT_EQ(p.reduce_count(), 0);
  EXPECT_EQ(p.intermediate_count(), 0);
  const KernelStep &k = kernel(p, 0);
  EXPECT_EQ(k.inputs.size(), 3u);
  EXPECT_EQ(k.params.size(), 2u);
  EXPECT_EQ(k.outputs, (std::vector<int>{p.output_buffers[0], p.output_buffers[1]}));
  // exp(-r*T) is computed once: CSE leaves a single exp in the kernel.
  std::string text = ir::print(k.kernel);
  std::size_t exps = 0;
  for (std::size_t at = text.find("= exp "); at != std::string::npos; at = text.find("= exp ", at + 1))
    ++exps;
  EXPECT_EQ(exps, 1u) << text;
}

TEST(Fusion, OutputsOfDifferentShapesGetOneKernelEach) {
  Plan p = plan_of_ir(R"(  %0 = input "a" : f32[n]
  %1 = input "b" : f32[n, m]
  %2 = exp %0 : f32[n]
  %3 = sin %1 : f32[n, m]
  %4 = exp %0 : f32[n]
  %5 = add %4, %0 : f32[n]
  output "x" = %2
  output "y" = %3
  output "z" = %5
)");
  EXPECT_EQ(p.kernel_count(), 2);
  EXPECT_EQ(p.intermediate_count(), 0);
  EXPECT_EQ(kernel(p, 0).outputs.size(), 2u); // x and z share the [n] space
  EXPECT_EQ(kernel(p, 1).outputs.size(), 1u);
}

TEST(Fusion, SoftmaxIsOneRowGroupThatReadsXOnce) {
  // y = exp(x - max(x, axis=1, keepdims)) / sum(that, axis=1, keepdims)
  Plan p = plan_of_ir(R"(  %0 = input "x" : f32[n, m]
  %1 = max %0 {axes = [1], keepdims = true} : f32[n, 1]
  %2 = sub %0, %1 : f32[n, m]
  %3 = exp %2 : f32[n, m]
  %4 = sum %3 {axes = [1], keepdims = true} : f32[n, 1]
  %5 = div %3, %4 : f32[n, m]
  output "y" = %5
)");
  // exp(x - max) is computed inside the sum (no [n, m] temporary) and again in the final kernel;
  // the three steps form one row group, so each tile of rows is read from memory once.
  EXPECT_EQ(print(p), R"(plan {
  b0 = input "x" : f32[n, m]
  b1 = output "y" : f32[n, m]
  b2 = temp "t0" : f32[n, 1]
  b3 = temp "t1" : f32[n, 1]
  rows [n] {
    reduce max b0 "x" {axes = [1], keepdims = true} -> b2 "t0"
    reduce sum {axes = [1], keepdims = true} -> b3 "t1"
      in0 <- b0 "x"
      in1 <- b2 "t0"
      graph {
        %0 = input "in0" : f32[n, m]
        %1 = input "in1" : f32[n, 1]
        %2 = sub %0, %1 : f32[n, m]
        %3 = exp %2 : f32[n, m]
        output "out0" = %3
      }
    kernel k0 over [n, m]
      in0 <- b0 "x"
      in1 <- b2 "t0"
      in2 <- b3 "t1"
      out0 -> b1 "y"
      graph {
        %0 = input "in0" : f32[n, m]
        %1 = input "in1" : f32[n, 1]
        %2 = sub %0, %1 : f32[n, m]
        %3 = exp %2 : f32[n, m]
        %4 = input "in2" : f32[n, 1]
        %5 = div %3, %4 : f32[n, m]
        output "out0" = %5
      }
  }
} # 1 kernel(s), 2 reduction(s), 2 intermediate buffer(s), 1 row group(s)
)");
  EXPECT_EQ(p.memory_passes(p.input_buffers[0]), 1);
}

TEST(Fusion, ReductionOfAnOutputReadsTheOutputBuffer) {
  Plan p = plan_of_ir(R"(  %0 = input "a" : f64[n]
  %1 = exp %0 : f64[n]
  %2 = sum %1 {axes = [0], keepdims = false} : f64[]
  %3 = sum %0 {axes = [0], keepdims = false} : f64[]
  output "y" = %1
  output "s" = %2
  output "t" = %3
)");
  EXPECT_EQ(p.kernel_count(), 1);
  EXPECT_EQ(p.reduce_count(), 2);
  EXPECT_EQ(p.intermediate_count(), 0);
  ASSERT_EQ(p.steps.size(), 3u);
  EXPECT_EQ(p.steps[0].kind, Step::Kind::Kernel);
  EXPECT_EQ(p.steps[1].reduce.input, p.output_buffers[0]);
  EXPECT_EQ(p.steps[1].reduce.output, p.output_buffers[1]);
  EXPECT_EQ(p.steps[2].reduce.input, p.input_buffers[0]);
}

TEST(Fusion, ValuesAfterAReductionGoToALaterKernel) {
  // y = a - mean(a); z = 2*a: z joins the first kernel level, y needs the mean first.
  Plan p = plan_of_script(R"(input a: f64[n]
output y = a - mean(a)
output z = 2 * a
)");
  EXPECT_EQ(p.kernel_count(), 2);
  EXPECT_EQ(p.reduce_count(), 1);
  EXPECT_EQ(p.intermediate_count(), 1);
  ASSERT_EQ(p.steps.size(), 3u);
  EXPECT_EQ(p.steps[0].kind, Step::Kind::Kernel); // z
  EXPECT_EQ(p.steps[1].kind, Step::Kind::Reduce); // mean(a), straight from the input
  EXPECT_EQ(p.steps[2].kind, Step::Kind::Kernel); // y
}

TEST(Fusion, CopiesForOutputsThatAreInputsOrRepeatedReductions) {
  Plan p = plan_of_ir(R"(  %0 = input "a" : i32[n]
  %1 = sum %0 {axes = [0], keepdims = false} : i64[]
  output "same" = %0
  output "s1" = %1
  output "s2" = %1
)");
  // s1 is written by the reduction; "same" and s2 are copies by kernels.
  EXPECT_EQ(p.reduce_count(), 1);
  EXPECT_EQ(p.kernel_count(), 2);
  EXPECT_EQ(p.intermediate_count(), 0);
}

} // namespace
} // namespace xpr::passes

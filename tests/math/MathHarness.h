// tests/math/MathHarness.h — measures the JIT's float functions against MPFR: one-op kernels
// compiled with CpuJit (or one-op scripts run by an xpr::Context, e.g. on the cuda target),
// evaluated on sampled points and special values, ULP error vs the exact result. Shared by the CI
// test (reduced sample) and the full-run tool (xpr_math_accuracy).
#pragma once

#include "compiler/codegen/CpuJit.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

// Declared, not included: <xpr/xpr.hpp> brings xpr::Options, which would make `Options` below
// ambiguous for files that use both namespaces.
namespace xpr {
class Context;
}

namespace xpr::mathtest {

/// One function of the accuracy contract.
struct FnInfo {
  ir::Op op;
  const char *name;
  int arity;
};
/// Every function of docs/math.md's table, in table order.
const std::vector<FnInfo> &functions();
/// Looks a function up by name; null if unknown.
const FnInfo *find_function(const std::string &name);

/// The documented bound in ULP (docs/math.md) for op × dtype × mode; the CI test asserts it.
double ulp_bound(ir::Op op, DType d, cg::Precision p);

/// What one function × dtype × mode measured.
struct Measure {
  double max_ulp = 0;          ///< over sampled and special points whose result is checked by ULP
  double worst_x = 0, worst_y = 0, worst_got = 0, worst_want = 0;
  std::int64_t points = 0;     ///< sampled points evaluated
  std::int64_t specials = 0;   ///< special-value inputs evaluated
  std::int64_t special_fail = 0;
  std::vector<std::string> special_msgs; ///< the first few special-value violations, readable
};

struct Options {
  std::int64_t points = 20000; ///< sampled points per function × dtype (both modes share them)
  std::uint64_t seed = 0x5eed;
  int threads = 0;             ///< MPFR worker threads; 0 = hardware concurrency
};

/// Computes `fn` in dtype `d` and precision mode `p` at the points (xs[i], ys[i]) (ys only for
/// two-argument functions; every value is exactly representable in `d`): one result per point,
/// widened to double. Throws xpr::Error if the function cannot be compiled or run.
using Evaluator = std::function<std::vector<double>(
    const FnInfo &fn, DType d, cg::Precision p, const std::vector<double> &xs,
    const std::vector<double> &ys)>;

/// One-op kernels compiled by `jit` and called directly (the CPU numbers of docs/math.md).
Evaluator cpu_jit_evaluator(cg::CpuJit &jit);
/// One-op scripts (one_op_script) compiled by `accurate` and `fast`, two contexts made with
/// Precision::Accurate and Precision::Fast on the same target, run on views of the points. Both
/// contexts must outlive the evaluator.
Evaluator context_evaluator(Context &accurate, Context &fast);
/// The script context_evaluator compiles: "input x: f32[n]\noutput r = sin(x)\n", with a second
/// input y for two-argument functions (r = atan2(x, y)).
std::string one_op_script(const FnInfo &fn, DType d);

/// Measures `fn` on dtype `d` (F32 or F64) in both precision modes: [0] accurate, [1] fast.
/// Special-value policy: where the correctly rounded result is NaN, ±0 or ±inf, or is exactly
/// ±0.5, ±1 or ±2, the JIT result must be bit-identical (NaN: any NaN); every other result is
/// measured in ULP of the target precision against the exact value.
void measure(const Evaluator &eval, const FnInfo &fn, DType d, const Options &opt,
             Measure out[2]);
/// measure() with cpu_jit_evaluator(jit).
void measure(cg::CpuJit &jit, const FnInfo &fn, DType d, const Options &opt, Measure out[2]);

} // namespace xpr::mathtest

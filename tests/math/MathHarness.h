// tests/math/MathHarness.h — measures the JIT's float functions against MPFR: one-op kernels
// compiled with CpuJit, evaluated on sampled points and special values, ULP error vs the exact
// result. Shared by the CI test (reduced sample) and the full-run tool (xpr_math_accuracy).
#pragma once

#include "compiler/codegen/CpuJit.h"

#include <cstdint>
#include <string>
#include <vector>

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

/// Measures `fn` on dtype `d` (F32 or F64) in both precision modes: [0] accurate, [1] fast.
/// Special-value policy: where the correctly rounded result is NaN, ±0 or ±inf, or is exactly
/// ±0.5, ±1 or ±2, the JIT result must be bit-identical (NaN: any NaN); every other result is
/// measured in ULP of the target precision against the exact value.
void measure(cg::CpuJit &jit, const FnInfo &fn, DType d, const Options &opt, Measure out[2]);

} // namespace xpr::mathtest

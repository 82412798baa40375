// tests/differential/Compare.h — element comparison for the differential test: bitwise equality,
// ULP distance, and the per-function tolerance table that docs/testing.md states.
#pragma once

#include "compiler/ir/Graph.h"

#include <cstdint>
#include <optional>
#include <string>

namespace xpr::diff {

/// Tolerance of one inexact (transcendental) function against the interpreter's libm result:
/// `ulps` in the precision it computes in, or an absolute error of `abs_eps` * epsilon there
/// (for functions whose results near zero come out of a cancellation, e.g. sin near pi).
struct FnTolerance {
  int ulps = 0;
  double abs_eps = 0;
};

/// The table entry of `op`, or nullopt for an op compared exactly. Pow is listed (its float form
/// is inexact; on integers the generator treats it as exact).
std::optional<FnTolerance> function_tolerance(ir::Op op);

/// Distance in units in the last place between two values of float dtype `t` given as bits:
/// the number of representable values between them (so +0 and -0 are 1 apart, the largest
/// finite value and +inf are 1 apart). NaN on either side gives UINT64_MAX.
std::uint64_t ulp_distance(DType t, std::uint64_t a, std::uint64_t b);

/// The value of float bits of dtype `t` as a double (exact).
double to_double(DType t, std::uint64_t bits);
/// Rounds a double to float dtype `t`, as bits.
std::uint64_t from_double(DType t, double v);
bool is_nan_bits(DType t, std::uint64_t bits);
/// 2^-(mantissa bits): 2^-52 for f64, 2^-23 for f32, 2^-10 for f16, 2^-7 for bf16.
double epsilon(DType t);

/// Exact comparison: equal bits, or both NaN (payload and sign ignored).
bool exact_equal(DType t, std::uint64_t a, std::uint64_t b);

/// Tolerant comparison of two float values of dtype `out` (the array's dtype). `compute` is the
/// narrowest precision the value went through (ULPs are measured there, after rounding both
/// values to it); `abs_tol` an absolute error that also passes.
bool close_enough(DType out, std::uint64_t a, std::uint64_t b, DType compute, int ulps,
                  double abs_tol);

} // namespace xpr::diff

// tools/xpr/Print.h — prints arrays the way NumPy's repr() does, so REPL output can be compared
// with NumPy's at a glance: `array([1.5, 2. ], dtype=float32)`.
#pragma once

#include <xpr/array.hpp>

#include <string>

namespace xpr::print {

/// NumPy's default print options (np.get_printoptions()).
struct Options {
  std::int64_t threshold = 1000; ///< more elements than this: summarize with "..."
  int edgeitems = 3;             ///< items kept at each end of a summarized axis
  int linewidth = 75;
  int precision = 8;             ///< at most this many fractional digits
};

/// NumPy 2.2's repr of `a`: values formatted as NumPy formats them (shortest round-trip digits
/// of the element's own type, capped at `precision` fractional digits, scientific notation when
/// the magnitudes call for it, aligned columns), `...` summarization, and `shape=`/`dtype=`
/// where NumPy adds them (dtype is omitted for float64, int64 and bool). bf16, which NumPy
/// lacks, prints as `dtype=bfloat16` (the ml_dtypes spelling).
std::string repr(const Array &a, const Options &opts = {});

/// NumPy's name of a dtype: "float32", "int64", "bool", "bfloat16".
std::string numpy_dtype_name(DType t);

/// The xpr type of an array, as the language writes it: "f32[3, 4]", "f64[]".
std::string type_text(DType t, const std::vector<std::int64_t> &shape);

/// One float formatted as NumPy prints a lone scalar of that dtype (shortest round-trip digits):
/// used by tests and by :vars.
std::string shortest(double v, DType t);

} // namespace xpr::print

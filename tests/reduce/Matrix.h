// tests/reduce/Matrix.h — every reduction × dtype × axes × keepdims over ranks 1–4, with empty
// and size-1 dims and strided/negative-stride inputs, run on a target and compared with the
// interpreter: exact for ints, bools, min/max/argmin/argmax, any/all; within docs/semantics.md's
// stated bound for float sum/prod/mean. The CPU's DifferentialTest.cpp and the GPU's CudaTest.cpp
// run it.
#pragma once

#include "ReduceTestUtil.h"

#include <fmt/format.h>
#include <fmt/ranges.h>


namespace xpr::reduce_test {

inline const std::vector<std::string> kOps = {"sum", "prod", "min",    "max",   "mean",
                                              "any", "all",  "argmin", "argmax"};
inline const std::vector<DType> kDTypes = {
    DType::Bool, DType::I8,  DType::I16, DType::I32,  DType::I64, DType::U8, DType::U16,
    DType::U32,  DType::U64, DType::F16, DType::BF16, DType::F32, DType::F64};

inline const std::vector<std::vector<std::int64_t>> &shapes_of_rank(int r) {
  static const std::vector<std::vector<std::vector<std::int64_t>>> s = {
      {{0}, {1}, {37}, {4100}},
      {{0, 3}, {3, 0}, {1, 1}, {13, 1}, {7, 33}, {3, 5000}},
      {{2, 0, 3}, {1, 4, 1}, {3, 4, 5}, {5, 2, 70}},
      {{2, 3, 1, 4}, {3, 2, 4, 5}, {0, 2, 1, 3}, {2, 1, 3, 1}},
  };
  return s.at(static_cast<std::size_t>(r - 1));
}

inline Data data_for(const std::string &op) {
  if (op == "sum" || op == "mean") return Data::Sum;
  if (op == "prod") return Data::Prod;
  if (op == "any" || op == "all") return Data::Bools;
  return Data::Extreme;
}

struct Case {
  std::string op;
  DType dt;
  int rank;
  std::vector<int> axes; // empty: no axis= (all axes)
  bool keepdims;
  std::string call; // "sum(x, axis=(0, -1), keepdims=true)"
};

inline std::string decl(DType dt, int rank) {
  std::string dims;
  for (int d = 0; d < rank; ++d) dims += fmt::format("{}d{}", d ? ", " : "", d);
  return fmt::format("input x: {}[{}]\n", dtype_name(dt), dims);
}

// Checks one run; returns false after reporting a mismatch.
inline bool compare(const Case &c, const Array &jit, const Array &ref, const Array *abs_sum,
                    std::int64_t n, const std::string &where, int (*depth)(std::int64_t)) {
  EXPECT_EQ(jit.dtype(), ref.dtype()) << where;
  EXPECT_EQ(jit.shape(), ref.shape()) << where;
  if (jit.dtype() != ref.dtype() || jit.shape() != ref.shape()) return false;
  const DType out = ref.dtype();
  const bool float_acc = is_float(c.dt) && (c.op == "sum" || c.op == "prod");
  const bool mean = c.op == "mean";
  for (std::int64_t i = 0; i < ref.size(); ++i) {
    const double a = value_at(jit, i), b = value_at(ref, i);
    bool ok;
    double tol = 0;
    if (is_float(out) && std::isnan(b)) {
      ok = std::isnan(a);
    } else if (float_acc || mean) {
      const DType acc = mean ? DType::F64 : (c.dt == DType::F64 ? DType::F64 : DType::F32);
      const double u = unit_roundoff(acc), w = value_at(*abs_sum, i);
      if (c.op == "prod") {
        tol = 2 * gamma(static_cast<int>(std::min<std::int64_t>(n, 1 << 20)), u) * std::fabs(b);
      } else {
        // The JIT's blocked error, the interpreter's own (f64 sequential) error, then one
        // rounding each to the output dtype.
        tol = gamma(depth(n), u) * w + gamma(static_cast<int>(n), std::ldexp(1.0, -53)) * w;
        if (mean) tol /= static_cast<double>(std::max<std::int64_t>(n, 1));
      }
      tol += ulp_of(out, b);
      ok = std::fabs(a - b) <= tol;
    } else {
      ok = bits_at(jit, i) == bits_at(ref, i);
    }
    if (!ok) {
      ADD_FAILURE() << where << ": element " << i << " is " << a << ", the interpreter says " << b
                    << " (tolerance " << tol << ")";
      return false;
    }
  }
  return true;
}

/// Where the matrix runs: the Context's options and the depth of its float sums' order (for
/// the error bound).
struct MatrixTarget {
  Options options = test_options();
  int (*depth)(std::int64_t) = sum_depth;
};

/// Every reduction × dtype × axes × keepdims of rank `rank` on `t`, against the interpreter.
inline void run_rank(int rank, const MatrixTarget &t = MatrixTarget{}) {
  // Every non-empty subset of the axes, then "no axis=". Odd subsets spell axes negatively.
  std::vector<std::vector<int>> axis_sets;
  for (int mask = 1; mask < (1 << rank); ++mask) {
    std::vector<int> s;
    for (int d = 0; d < rank; ++d)
      if (mask & (1 << d)) s.push_back(d);
    axis_sets.push_back(s);
  }
  axis_sets.push_back({});
  Context ctx(t.options);
  int runs = 0, rejected = 0;
  for (const std::string &op : kOps)
    for (DType dt : kDTypes)
      for (std::size_t ai = 0; ai < axis_sets.size(); ++ai)
        for (bool keep : {false, true}) {
          Case c{op, dt, rank, axis_sets[ai], keep, {}};
          std::string args = "x";
          if (!c.axes.empty()) {
            std::string list;
            for (std::size_t k = 0; k < c.axes.size(); ++k)
              list += fmt::format("{}{}", k ? ", " : "", ai % 2 ? c.axes[k] - rank : c.axes[k]);
            args += c.axes.size() == 1 ? fmt::format(", axis={}", list)
                                       : fmt::format(", axis=({})", list);
          }
          if (keep) args += ", keepdims=true";
          c.call = fmt::format("{}({})", op, args);
          const std::string text = decl(dt, rank) + "output y = " + c.call + "\n";
          const std::string abs_text =
              decl(dt, rank) + fmt::format("output w = sum(abs(f64(x)){})\n", args.substr(1));
          Program prog;
          try {
            prog = ctx.compile(text);
          } catch (const Error &e) {
            // Sema's business (e.g. a reduction a dtype does not support); the interpreter never
            // sees such programs either.
            ++rejected;
            continue;
          }
          unsigned seed = 1;
          for (const auto &shape : shapes_of_rank(rank))
            for (bool strided : {false, true}) {
              Array keep_alive;
              Array x = strided ? strided_view(dt, shape, data_for(op), true, ++seed, keep_alive)
                                : random_array(dt, shape, data_for(op), true, ++seed);
              std::int64_t n = 1;
              if (c.axes.empty())
                n = x.size();
              else
                for (int a : c.axes) n *= shape[static_cast<std::size_t>(a)];
              const std::string where =
                  fmt::format("{} of {}[{}]{} ", c.call, dtype_name(dt), fmt::join(shape, ", "),
                              strided ? " (strided view)" : "");
              std::vector<Array> ref;
              std::string ref_error;
              try {
                ref = oracle(text, {{"x", x}});
              } catch (const Error &e) {
                ref_error = e.what();
              }
              try {
                std::vector<Array> got = prog.run_ordered({{"x", x}});
                ASSERT_TRUE(ref_error.empty()) << where << "the interpreter raised " << ref_error;
                std::vector<Array> w;
                if (is_float(dt) && (op == "sum" || op == "prod" || op == "mean"))
                  w = oracle(abs_text, {{"x", x}});
                else if (op == "mean")
                  w = oracle(abs_text, {{"x", x}});
                if (!compare(c, got.at(0), ref.at(0), w.empty() ? nullptr : &w[0], n, where,
                             t.depth))
                  return;
              } catch (const Error &e) {
                ASSERT_FALSE(ref_error.empty()) << where << "the JIT raised " << e.what();
                EXPECT_EQ(std::string(e.what()), ref_error) << where;
                EXPECT_EQ(e.kind(), ErrorKind::Runtime) << where;
              }
              ++runs;
            }
        }
  // Sema accepts every reduction of every dtype; a rejection here means the test lost coverage.
  EXPECT_EQ(rejected, 0);
  EXPECT_GT(runs, 0);
}

} // namespace xpr::reduce_test

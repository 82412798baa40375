// tests/math/math_accuracy.cpp — xpr_math_accuracy: the full MPFR accuracy run; prints the max-ULP
// table of docs/math.md (function × dtype × mode) and exits 1 if any documented bound or
// special-value rule is violated.
//   xpr_math_accuracy [--points N] [--threads T] [--seed S] [--fn name[,name...]] [--dtype f32|f64]
#include "tests/math/MathHarness.h"

#include <fmt/format.h>
#include <mpfr.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>

using namespace xpr;
using namespace xpr::mathtest;

int main(int argc, char **argv) {
  Options opt;
  opt.points = 1000000;
  std::string only, dtype_only;
  for (int i = 1; i < argc; ++i) {
    auto next = [&](const char *flag) -> const char * {
      if (i + 1 >= argc) {
        fmt::print(stderr, "{} needs a value\n", flag);
        std::exit(2);
      }
      return argv[++i];
    };
    if (!std::strcmp(argv[i], "--points")) opt.points = std::atoll(next("--points"));
    else if (!std::strcmp(argv[i], "--threads")) opt.threads = std::atoi(next("--threads"));
    else if (!std::strcmp(argv[i], "--seed")) opt.seed = std::strtoull(next("--seed"), nullptr, 0);
    else if (!std::strcmp(argv[i], "--fn")) only = "," + std::string(next("--fn")) + ",";
    else if (!std::strcmp(argv[i], "--dtype")) dtype_only = next("--dtype");
    else {
      fmt::print(stderr,
                 "usage: xpr_math_accuracy [--points N] [--threads T] [--seed S] "
                 "[--fn a,b] [--dtype f32|f64]\n");
      return 2;
    }
  }
  cg::CpuJit jit;
  fmt::print("xpr math accuracy vs MPFR {}: {} sampled points per function x dtype (+ special "
             "values), seed {:#x}\n",
             MPFR_VERSION_STRING, opt.points, opt.seed);
  fmt::print("host: {}\n\n", jit.target_description());
  fmt::print("| function | f32 accurate | f32 fast | f64 accurate | f64 fast |\n");
  fmt::print("|---|---|---|---|---|\n");
  bool ok = true;
  std::ostringstream detail;
  auto t0 = std::chrono::steady_clock::now();
  for (const FnInfo &fn : functions()) {
    if (!only.empty() && only.find("," + std::string(fn.name) + ",") == std::string::npos)
      continue;
    std::string row = fmt::format("| {} |", fn.name);
    for (DType d : {DType::F32, DType::F64}) {
      if (!dtype_only.empty() && dtype_only != dtype_name(d)) {
        row += " | |";
        continue;
      }
      Measure m[2];
      measure(jit, fn, d, opt, m);
      for (int k = 0; k < 2; ++k) {
        cg::Precision p = k == 0 ? cg::Precision::Accurate : cg::Precision::Fast;
        double bound = ulp_bound(fn.op, d, p);
        bool pass = m[k].max_ulp <= bound && m[k].special_fail == 0;
        ok = ok && pass;
        row += fmt::format(" {:.3f}{} |", m[k].max_ulp, pass ? "" : " FAIL");
        detail << fmt::format(
            "{} {} {}: max {:.4f} ULP (bound {}) at x={:.17g}{} got {:.17g} want {:.17g}; "
            "{} points, {} specials, {} special-value violations\n",
            fn.name, dtype_name(d), k == 0 ? "accurate" : "fast", m[k].max_ulp, bound,
            m[k].worst_x, fn.arity == 2 ? fmt::format(" y={:.17g}", m[k].worst_y) : "",
            m[k].worst_got, m[k].worst_want, m[k].points, m[k].specials, m[k].special_fail);
        for (const std::string &s : m[k].special_msgs) detail << "    " << s << "\n";
      }
    }
    fmt::print("{}\n", row);
    std::fflush(stdout);
  }
  double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  fmt::print("\n{}\n{:.1f} s, {}\n", detail.str(), secs, ok ? "all within bounds" : "FAILURES");
  return ok ? 0 : 1;
}

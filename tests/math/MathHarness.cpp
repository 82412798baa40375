// tests/math/MathHarness.cpp — the MPFR accuracy harness (see MathHarness.h): sampling over each
// function's domain, the exact reference, and the ULP measure.
//
// The ULP measure is the one SLEEF and the libm surveys use: |got - exact| / ulp(exact), where
// `exact` is MPFR's result at 40+ bits beyond the target precision and ulp(exact) is the spacing
// of the target format at exact's binade (the denormal spacing below the normal range, the
// spacing at the largest binade above it). A correctly rounded result scores ≤ 0.5.
#include "tests/math/MathHarness.h"

#include <xpr/xpr.hpp>

#include <fmt/format.h>
#include <mpfr.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <sstream>
#include <thread>

namespace xpr::mathtest {

using ir::Op;

const std::vector<FnInfo> &functions() {
  static const std::vector<FnInfo> fns = {
      {Op::Exp, "exp", 1},     {Op::Exp2, "exp2", 1},   {Op::Expm1, "expm1", 1},
      {Op::Log, "log", 1},     {Op::Log2, "log2", 1},   {Op::Log10, "log10", 1},
      {Op::Log1p, "log1p", 1}, {Op::Sin, "sin", 1},     {Op::Cos, "cos", 1},
      {Op::Tan, "tan", 1},     {Op::Asin, "asin", 1},   {Op::Acos, "acos", 1},
      {Op::Atan, "atan", 1},   {Op::Atan2, "atan2", 2}, {Op::Sinh, "sinh", 1},
      {Op::Cosh, "cosh", 1},   {Op::Tanh, "tanh", 1},   {Op::Asinh, "asinh", 1},
      {Op::Acosh, "acosh", 1}, {Op::Atanh, "atanh", 1}, {Op::Erf, "erf", 1},
      {Op::Erfc, "erfc", 1},   {Op::Ncdf, "ncdf", 1},   {Op::Pow, "pow", 2},
      {Op::Cbrt, "cbrt", 1},   {Op::Hypot, "hypot", 2}, {Op::Sqrt, "sqrt", 1},
      {Op::Rsqrt, "rsqrt", 1},
  };
  return fns;
}

const FnInfo *find_function(const std::string &name) {
  for (const FnInfo &f : functions())
    if (name == f.name) return &f;
  return nullptr;
}

double ulp_bound(Op op, DType d, cg::Precision p) {
  if (op == Op::Sqrt) return 0.5; // IEEE: correctly rounded
  if (p == cg::Precision::Fast) return 4.0;
  (void)d; // one bound for both dtypes since erfc, ncdf, sinh and cosh went double-double
  return 1.0;
}

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// Format facts of the target dtype.
struct Fmt {
  bool f64;
  int p;        // significand bits
  int emin;     // exponent of the smallest normal
  int emax;     // exponent of the largest binade
  double maxv, minnorm, denmin, denmax, eps;
  double round(double v) const { return f64 ? v : static_cast<double>(static_cast<float>(v)); }
};
Fmt fmt_of(DType d) {
  if (d == DType::F64)
    return {true,
            53,
            -1022,
            1023,
            std::numeric_limits<double>::max(),
            std::numeric_limits<double>::min(),
            std::numeric_limits<double>::denorm_min(),
            std::numeric_limits<double>::min() - std::numeric_limits<double>::denorm_min(),
            std::numeric_limits<double>::epsilon()};
  return {false,
          24,
          -126,
          127,
          std::numeric_limits<float>::max(),
          std::numeric_limits<float>::min(),
          std::numeric_limits<float>::denorm_min(),
          std::numeric_limits<float>::min() - std::numeric_limits<float>::denorm_min(),
          std::numeric_limits<float>::epsilon()};
}

/// Where an op's sample points come from: random bit patterns filtered to [flo, fhi], uniform
/// values in a narrow interval around the interesting part, and uniform values over the wide
/// range where the result is neither saturated nor trivially 0/inf.
struct Domain {
  double flo, fhi; // filter for random bit patterns
  double nlo, nhi; // narrow uniform interval
  double wlo, whi; // wide uniform interval
  double elo = 0, ehi = 0; // an edge window sampled densely (results near overflow/underflow)
};

Domain domain_of(Op op, bool f64) {
  const double M = kInf;
  switch (op) {
  case Op::Exp:
    return f64 ? Domain{-760, 720, -1, 1, -745.2, 709.8} : Domain{-110, 95, -1, 1, -104, 88.8};
  case Op::Exp2:
    return f64 ? Domain{-1080, 1030, -1, 1, -1075, 1024} : Domain{-155, 130, -1, 1, -150, 128};
  case Op::Expm1:
    return f64 ? Domain{-50, 720, -1, 1, -40, 709.8} : Domain{-20, 95, -1, 1, -18, 88.8};
  case Op::Log:
  case Op::Log2:
  case Op::Log10: return {0, M, 0.5, 2, 0, 1e4};
  case Op::Log1p: return {-1, M, -0.5, 1, -1, 1e4};
  case Op::Sin:
  case Op::Cos:
  case Op::Tan: return {-M, M, -4, 4, -1e5, 1e5};
  case Op::Asin:
  case Op::Acos:
  case Op::Atanh: return {-1, 1, -0.5, 0.5, -1, 1};
  case Op::Atan: return {-M, M, -2, 2, -1e4, 1e4};
  case Op::Sinh:
  case Op::Cosh:
    return f64 ? Domain{-720, 720, -1, 1, -710.4, 710.4, 709, 710.475}
               : Domain{-95, 95, -1, 1, -89.4, 89.4, 88, 89.41};
  case Op::Tanh: return f64 ? Domain{-50, 50, -1, 1, -20, 20} : Domain{-20, 20, -1, 1, -10, 10};
  case Op::Asinh: return {-M, M, -2, 2, -1e4, 1e4};
  case Op::Acosh: return {1, M, 1, 3, 1, 1e4};
  case Op::Erf: return f64 ? Domain{-10, 10, -1, 1, -6, 6} : Domain{-10, 10, -1, 1, -4, 4};
  case Op::Erfc:
    return f64 ? Domain{-10, 30, -1, 1, -6, 27.3, 25.5, 27.3}
               : Domain{-10, 11, -1, 1, -4, 10.1, 9, 10.1};
  case Op::Ncdf:
    return f64 ? Domain{-40, 10, -1, 1, -38.5, 8.3, -38.6, -36}
               : Domain{-16, 8, -1, 1, -14.3, 5.5, -14.3, -12.7};
  case Op::Cbrt: return {-M, M, -2, 2, -1e4, 1e4};
  case Op::Sqrt:
  case Op::Rsqrt: return {0, M, 0.25, 4, 0, 1e4};
  default: return {-M, M, -2, 2, -10, 10};
  }
}

/// A random finite value of the format (uniform over bit patterns, so over exponents too).
double random_bits(std::mt19937_64 &rng, const Fmt &f) {
  for (;;) {
    std::uint64_t b = rng();
    double v;
    if (f.f64) {
      std::memcpy(&v, &b, 8);
    } else {
      std::uint32_t b32 = static_cast<std::uint32_t>(b >> 17);
      float x;
      std::memcpy(&x, &b32, 4);
      v = x;
    }
    if (std::isfinite(v)) return v;
  }
}

double uniform(std::mt19937_64 &rng, const Fmt &f, double lo, double hi) {
  std::uniform_real_distribution<double> u(lo, hi);
  double v = f.round(u(rng));
  return std::clamp(v, f.round(lo) < lo ? std::nextafter(f.round(lo), kInf) : f.round(lo),
                    f.round(hi) > hi ? std::nextafter(f.round(hi), -kInf) : f.round(hi));
}

double filtered_bits(std::mt19937_64 &rng, const Fmt &f, double lo, double hi) {
  for (int tries = 0; tries < 100000; ++tries) {
    double v = random_bits(rng, f);
    if (v >= lo && v <= hi) return v;
  }
  return uniform(rng, f, lo, hi);
}

void sample_unary(Op op, const Fmt &f, std::mt19937_64 &rng, std::int64_t n,
                  std::vector<double> &xs) {
  Domain dm = domain_of(op, f.f64);
  for (std::int64_t i = 0; i < n; ++i) {
    switch (i % 5) {
    case 0:
    case 1: xs.push_back(filtered_bits(rng, f, dm.flo, dm.fhi)); break;
    case 2:
    case 3: xs.push_back(uniform(rng, f, dm.wlo, dm.whi)); break;
    default: // every other narrow point goes to the edge window, where there is one
      if (dm.ehi > dm.elo && i % 10 == 9) xs.push_back(uniform(rng, f, dm.elo, dm.ehi));
      else xs.push_back(uniform(rng, f, dm.nlo, dm.nhi));
      break;
    }
  }
}

void sample_binary(Op op, const Fmt &f, std::mt19937_64 &rng, std::int64_t n,
                   std::vector<double> &xs, std::vector<double> &ys) {
  const double lim = f.emax + f.p + 2; // |log2 result| beyond which the result is 0 or inf
  for (std::int64_t i = 0; i < n; ++i) {
    double x, y;
    int kind = static_cast<int>(i % 4);
    if (op == Op::Pow) {
      if (kind == 0) { // positive x, y chosen so the result spans every binade
        x = filtered_bits(rng, f, 0, kInf);
        double l = std::log2(x);
        y = std::fabs(l) < 1e-3 ? uniform(rng, f, -1e4, 1e4)
                                : f.round(std::uniform_real_distribution<double>(-lim, lim)(rng) / l);
      } else if (kind == 1) { // negative x, integer y (the only real results for x < 0)
        x = -filtered_bits(rng, f, 0, kInf);
        double l = std::fabs(std::log2(-x));
        double r = l < 1e-3 ? 1e6 : lim / l;
        y = std::round(std::uniform_real_distribution<double>(-r, r)(rng));
        y = f.round(y);
      } else if (kind == 2) {
        x = uniform(rng, f, 0, 10);
        y = uniform(rng, f, -10, 10);
      } else {
        x = random_bits(rng, f);
        y = random_bits(rng, f);
      }
    } else if (op == Op::Atan2) {
      if (kind <= 1) {
        x = random_bits(rng, f);
        y = random_bits(rng, f);
      } else {
        x = uniform(rng, f, -2, 2);
        y = uniform(rng, f, -2, 2);
      }
    } else { // hypot
      if (kind == 0) {
        x = random_bits(rng, f);
        y = random_bits(rng, f);
      } else if (kind == 1) { // operands of similar magnitude, where cancellation could hurt
        x = random_bits(rng, f);
        y = f.round(x * std::uniform_real_distribution<double>(-3, 3)(rng));
      } else {
        x = uniform(rng, f, -10, 10);
        y = uniform(rng, f, -10, 10);
      }
    }
    xs.push_back(x);
    ys.push_back(y);
  }
}

/// Special inputs for one-argument functions: IEEE specials, the extremes of the format, and
/// each function's own edges (overflow and underflow thresholds, domain boundaries).
std::vector<double> special_unary(Op op, const Fmt &f) {
  std::vector<double> s = {0.0,       kInf,      kNaN,      f.denmin,  f.denmax, f.minnorm,
                           f.maxv,    1.0,       0.5,       2.0,       10.0,     100.0,
                           1e4,       1e10,      1e22,      f.round(M_PI / 2),   f.round(M_PI),
                           1.0 + f.eps, 1.0 - f.eps / 2,    f.round(0.1)};
  auto add = [&](std::initializer_list<double> v) {
    for (double x : v) s.push_back(f.round(x));
  };
  switch (op) {
  case Op::Exp:
  case Op::Expm1:
  case Op::Sinh:
  case Op::Cosh:
    if (f.f64) add({709.78, 709.79, 710.4, 710.5, -708.4, -745.13, -745.14, -746});
    else add({88.72, 88.73, 89.41, 89.42, -87.3, -103.97, -103.98, -104});
    break;
  case Op::Exp2:
    if (f.f64) add({1023.99, 1024, -1022, -1074, -1074.5, -1075, -1076});
    else add({127.99, 128, -126, -149, -149.5, -150, -151});
    break;
  case Op::Erfc:
  case Op::Ncdf:
    if (f.f64) add({26.5, 27.2, 27.3, -37.5, -38.4, -38.5, -39});
    else add({9.19, 10.0, 10.06, -13, -14.1, -14.2});
    break;
  default: break;
  }
  std::vector<double> out;
  for (double x : s) {
    out.push_back(f.round(x));
    out.push_back(-f.round(x));
  }
  return out;
}

/// Special operands for two-argument functions; every pair of them is evaluated (C99 Annex F's
/// pow, atan2 and hypot cases are all pairs of these).
std::vector<double> special_binary(const Fmt &f) {
  double odd = f.f64 ? 9007199254740991.0 : 16777215.0; // 2^p - 1: the largest odd integer
  double even = odd + 1;
  std::vector<double> s = {0.0,    kInf,        kNaN,          f.denmin,  f.minnorm, f.maxv,
                           1.0,    0.5,         2.0,           3.0,       2.5,       0.75,
                           1.5,    1.0 + f.eps, 1.0 - f.eps / 2, odd,     even,      1e10,
                           f.round(1.0 / 3)};
  std::vector<double> out;
  for (double x : s) {
    out.push_back(f.round(x));
    if (!std::isnan(x)) out.push_back(-f.round(x));
  }
  return out;
}

/// One worker's MPFR scratch.
struct Mp {
  mpfr_t x, y, r, t, g, diff;
  explicit Mp(int prec) {
    mpfr_inits2(prec, x, y, r, t, nullptr);
    mpfr_init2(g, 64);
    mpfr_init2(diff, prec + 80);
  }
  ~Mp() { mpfr_clears(x, y, r, t, g, diff, nullptr); }
  Mp(const Mp &) = delete;
  Mp &operator=(const Mp &) = delete;
};

/// The exact result (to the working precision) of op at (mp.x, mp.y) into mp.r; MPFR's ternary.
int reference(Op op, Mp &mp) {
  const mpfr_rnd_t N = MPFR_RNDN;
  switch (op) {
  case Op::Exp: return mpfr_exp(mp.r, mp.x, N);
  case Op::Exp2: return mpfr_exp2(mp.r, mp.x, N);
  case Op::Expm1: return mpfr_expm1(mp.r, mp.x, N);
  case Op::Log: return mpfr_log(mp.r, mp.x, N);
  case Op::Log2: return mpfr_log2(mp.r, mp.x, N);
  case Op::Log10: return mpfr_log10(mp.r, mp.x, N);
  case Op::Log1p: return mpfr_log1p(mp.r, mp.x, N);
  case Op::Sin: return mpfr_sin(mp.r, mp.x, N);
  case Op::Cos: return mpfr_cos(mp.r, mp.x, N);
  case Op::Tan: return mpfr_tan(mp.r, mp.x, N);
  case Op::Asin: return mpfr_asin(mp.r, mp.x, N);
  case Op::Acos: return mpfr_acos(mp.r, mp.x, N);
  case Op::Atan: return mpfr_atan(mp.r, mp.x, N);
  case Op::Atan2: return mpfr_atan2(mp.r, mp.x, mp.y, N);
  case Op::Sinh: return mpfr_sinh(mp.r, mp.x, N);
  case Op::Cosh: return mpfr_cosh(mp.r, mp.x, N);
  case Op::Tanh: return mpfr_tanh(mp.r, mp.x, N);
  case Op::Asinh: return mpfr_asinh(mp.r, mp.x, N);
  case Op::Acosh: return mpfr_acosh(mp.r, mp.x, N);
  case Op::Atanh: return mpfr_atanh(mp.r, mp.x, N);
  case Op::Erf: return mpfr_erf(mp.r, mp.x, N);
  case Op::Erfc: return mpfr_erfc(mp.r, mp.x, N);
  case Op::Ncdf: { // Φ(x) = erfc(-x/√2)/2; t carries 64 extra bits so only erfc's rounding counts
    mpfr_prec_t keep = mpfr_get_prec(mp.t);
    mpfr_set_prec(mp.t, mpfr_get_prec(mp.r) + 64);
    mpfr_sqrt_ui(mp.t, 2, N);
    mpfr_div(mp.t, mp.x, mp.t, N);
    mpfr_neg(mp.t, mp.t, N);
    int tern = mpfr_erfc(mp.r, mp.t, N);
    bool exact_arg = mpfr_zero_p(mp.x) || mpfr_inf_p(mp.x);
    mpfr_div_2ui(mp.r, mp.r, 1, N);
    mpfr_set_prec(mp.t, keep);
    return exact_arg ? tern : (tern ? tern : 1);
  }
  case Op::Pow: return mpfr_pow(mp.r, mp.x, mp.y, N);
  case Op::Cbrt: return mpfr_cbrt(mp.r, mp.x, N);
  case Op::Hypot: return mpfr_hypot(mp.r, mp.x, mp.y, N);
  case Op::Sqrt: return mpfr_sqrt(mp.r, mp.x, N);
  case Op::Rsqrt: // 1/sqrt(x) as docs/semantics.md defines it: -0 → 1/(-0) = -inf
    if (mpfr_zero_p(mp.x) && mpfr_signbit(mp.x)) {
      mpfr_set_inf(mp.r, -1);
      return 0;
    }
    return mpfr_rec_sqrt(mp.r, mp.x, N);
  default: return 0;
  }
}

std::string show(double v, const Fmt &f) {
  std::ostringstream os;
  os.precision(f.f64 ? 17 : 9);
  os << v;
  return os.str();
}

bool same_bits(double a, double b, const Fmt &f) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return a == b && std::signbit(a) == std::signbit(b);
}

struct Partial {
  Measure m[2];
};

/// Scores results [lo, hi) of both modes against MPFR.
void score(const FnInfo &fn, const Fmt &f, const std::vector<double> &xs,
           const std::vector<double> &ys, const std::vector<double> *got, std::size_t n_special,
           std::size_t lo, std::size_t hi, Partial &out) {
  Mp mp(f.p + 48);
  for (std::size_t i = lo; i < hi; ++i) {
    mpfr_set_d(mp.x, xs[i], MPFR_RNDN);
    if (fn.arity == 2) mpfr_set_d(mp.y, ys[i], MPFR_RNDN);
    int tern = reference(fn.op, mp);
    double cr = f.f64 ? mpfr_get_d(mp.r, MPFR_RNDN)
                      : static_cast<double>(mpfr_get_flt(mp.r, MPFR_RNDN));
    bool exact = tern == 0 && !mpfr_nan_p(mp.r) && mpfr_cmp_d(mp.r, cr) == 0;
    bool strict = mpfr_nan_p(mp.r) ||
                  (exact && (cr == 0 || std::isinf(cr) || std::fabs(cr) == 0.5 ||
                             std::fabs(cr) == 1 || std::fabs(cr) == 2));
    // ulp(exact): the binade of the exact value, clamped to the format's exponent range.
    long e2 = mpfr_regular_p(mp.r) ? mpfr_get_exp(mp.r) - 1 : f.emin;
    e2 = std::clamp<long>(e2, f.emin, f.emax);
    long ulp_exp = e2 - (f.p - 1);
    for (int m = 0; m < 2; ++m) {
      Measure &me = out.m[m];
      double g = got[m][i];
      bool special = i < n_special;
      if (special) ++me.specials;
      else ++me.points;
      auto violation = [&](const char *why) {
        ++me.special_fail;
        if (me.special_msgs.size() < 8) {
          std::string args = show(xs[i], f);
          if (fn.arity == 2) args += ", " + show(ys[i], f);
          me.special_msgs.push_back(std::string(fn.name) + "(" + args + ") = " + show(g, f) +
                                    ", want " + show(cr, f) + " (" + why + ")");
        }
      };
      if (strict) {
        if (!same_bits(g, cr, f)) violation("special value");
        continue;
      }
      if (std::isnan(g)) {
        violation("NaN for a non-NaN result");
        continue;
      }
      if (std::isinf(cr) && g == cr) continue; // overflow to the right infinity
      if (g == 0 && !mpfr_zero_p(mp.r) && std::signbit(g) != (mpfr_sgn(mp.r) < 0))
        violation("zero of the wrong sign");
      double gv = std::isinf(g) ? std::copysign(std::ldexp(1.0, f.emax + 1), g) : g;
      mpfr_set_d(mp.g, gv, MPFR_RNDN);
      double err;
      if (mpfr_inf_p(mp.r)) {
        err = kInf;
      } else {
        mpfr_sub(mp.diff, mp.g, mp.r, MPFR_RNDN);
        mpfr_abs(mp.diff, mp.diff, MPFR_RNDN);
        mpfr_mul_2si(mp.diff, mp.diff, -ulp_exp, MPFR_RNDN);
        err = mpfr_get_d(mp.diff, MPFR_RNDU);
      }
      if (err > me.max_ulp) {
        me.max_ulp = err;
        me.worst_x = xs[i];
        me.worst_y = fn.arity == 2 ? ys[i] : 0;
        me.worst_got = g;
        me.worst_want = cr;
      }
    }
  }
}

ir::Graph one_op_kernel(const FnInfo &fn, DType d) {
  ir::Graph g;
  ir::Type t;
  t.dtype = d;
  t.dims.push_back(ir::Dim::symbol("n"));
  std::vector<ir::ValueId> args;
  for (int i = 0; i < fn.arity; ++i) {
    ir::Node in;
    in.op = Op::Input;
    in.name = i == 0 ? "x" : "y";
    in.type = t;
    args.push_back(g.add(in));
  }
  ir::Node n;
  n.op = fn.op;
  n.type = t;
  n.operands = args;
  g.outputs.push_back({"r", g.add(n)});
  return g;
}

/// Runs the compiled kernel over xs (and ys) in the dtype's memory format.
std::vector<double> run(cg::KernelFn k, const Fmt &f, int arity, const std::vector<double> &xs,
                        const std::vector<double> &ys) {
  std::int64_t n = static_cast<std::int64_t>(xs.size());
  std::vector<double> out(xs.size());
  std::int64_t strides[3] = {1, 1, 1};
  std::int64_t shape[1] = {n};
  if (f.f64) {
    std::vector<double> a = xs, b = ys;
    b.resize(xs.size());
    void *ptrs[3] = {a.data(), arity == 2 ? b.data() : out.data(), out.data()};
    k(ptrs, strides, nullptr, shape, 0, n);
    return out;
  }
  std::vector<float> a(xs.size()), b(xs.size()), r(xs.size());
  for (std::size_t i = 0; i < xs.size(); ++i) {
    a[i] = static_cast<float>(xs[i]);
    if (arity == 2) b[i] = static_cast<float>(ys[i]);
  }
  void *ptrs[3] = {a.data(), arity == 2 ? b.data() : r.data(), r.data()};
  k(ptrs, strides, nullptr, shape, 0, n);
  for (std::size_t i = 0; i < xs.size(); ++i) out[i] = r[i];
  return out;
}

/// Runs `p` (one_op_script) on views of xs (and ys) in the dtype's memory format and returns r.
std::vector<double> run_program(const Program &p, const Fmt &f, DType d, int arity,
                                const std::vector<double> &xs, const std::vector<double> &ys) {
  const std::int64_t n = static_cast<std::int64_t>(xs.size());
  std::vector<double> a64, b64;
  std::vector<float> a32, b32;
  Inputs in;
  if (f.f64) {
    a64 = xs;
    in["x"] = view(a64.data(), d, {n});
    if (arity == 2) {
      b64 = ys;
      in["y"] = view(b64.data(), d, {n});
    }
  } else {
    a32.assign(xs.begin(), xs.end());
    in["x"] = view(a32.data(), d, {n});
    if (arity == 2) {
      b32.assign(ys.begin(), ys.end());
      in["y"] = view(b32.data(), d, {n});
    }
  }
  Outputs outs = p.run(in);
  auto it = outs.find("r");
  if (it == outs.end() || it->second.dtype() != d || it->second.rank() != 1 ||
      it->second.size() != n || !it->second.is_contiguous())
    throw Error(ErrorKind::Internal, "math harness: the program did not return r as " +
                                         std::string(dtype_name(d)) + "[" + std::to_string(n) +
                                         "], contiguous");
  std::vector<double> out(xs.size());
  if (f.f64) {
    const double *r = it->second.data_as<double>();
    out.assign(r, r + n);
  } else {
    const float *r = it->second.data_as<float>();
    out.assign(r, r + n);
  }
  return out;
}

} // namespace

std::string one_op_script(const FnInfo &fn, DType d) {
  std::string t(dtype_name(d));
  std::string s = "input x: " + t + "[n]\n";
  if (fn.arity == 2) s += "input y: " + t + "[n]\n";
  s += std::string("output r = ") + fn.name + (fn.arity == 2 ? "(x, y)\n" : "(x)\n");
  return s;
}

Evaluator cpu_jit_evaluator(cg::CpuJit &jit) {
  return [&jit](const FnInfo &fn, DType d, cg::Precision p, const std::vector<double> &xs,
                const std::vector<double> &ys) {
    cg::KernelSpec spec;
    spec.rank = 1;
    spec.inputs.assign(fn.arity, cg::Layout::Contiguous);
    spec.outputs.assign(1, cg::Layout::Contiguous);
    spec.precision = p;
    return run(jit.compile(one_op_kernel(fn, d), spec), fmt_of(d), fn.arity, xs, ys);
  };
}

Evaluator context_evaluator(Context &accurate, Context &fast) {
  if (accurate.options().precision != Precision::Accurate ||
      fast.options().precision != Precision::Fast)
    throw Error(ErrorKind::Internal, "math harness: context_evaluator needs an accurate and a "
                                     "fast context, in that order");
  return [&accurate, &fast](const FnInfo &fn, DType d, cg::Precision p,
                            const std::vector<double> &xs, const std::vector<double> &ys) {
    Context &ctx = p == cg::Precision::Fast ? fast : accurate;
    Program prog =
        ctx.compile(one_op_script(fn, d), fmt::format("<{}_{}>", fn.name, dtype_name(d)));
    return run_program(prog, fmt_of(d), d, fn.arity, xs, ys);
  };
}

void measure(cg::CpuJit &jit, const FnInfo &fn, DType d, const Options &opt, Measure out[2]) {
  measure(cpu_jit_evaluator(jit), fn, d, opt, out);
}

void measure(const Evaluator &eval, const FnInfo &fn, DType d, const Options &opt,
             Measure out[2]) {
  static const bool range_set = [] {
    mpfr_set_emin(mpfr_get_emin_min());
    mpfr_set_emax(mpfr_get_emax_max());
    return true;
  }();
  (void)range_set;
  const Fmt f = fmt_of(d);
  std::vector<double> xs, ys;
  if (fn.arity == 1) {
    xs = special_unary(fn.op, f);
  } else {
    for (double a : special_binary(f))
      for (double b : special_binary(f)) {
        xs.push_back(a);
        ys.push_back(b);
      }
  }
  const std::size_t n_special = xs.size();
  std::mt19937_64 rng(opt.seed ^ (static_cast<std::uint64_t>(fn.op) << 32) ^
                      (f.f64 ? 0x64u : 0x32u));
  if (fn.arity == 1) sample_unary(fn.op, f, rng, opt.points, xs);
  else sample_binary(fn.op, f, rng, opt.points, xs, ys);

  std::vector<double> got[2];
  for (int m = 0; m < 2; ++m) {
    got[m] = eval(fn, d, m == 0 ? cg::Precision::Accurate : cg::Precision::Fast, xs, ys);
    if (got[m].size() != xs.size())
      throw Error(ErrorKind::Internal, fmt::format("math harness: {} results for {} points",
                                                   got[m].size(), xs.size()));
  }

  int nt = opt.threads > 0 ? opt.threads : static_cast<int>(std::thread::hardware_concurrency());
  nt = std::max(1, std::min<int>(nt, static_cast<int>(xs.size() / 1000) + 1));
  std::vector<Partial> parts(nt);
  std::vector<std::thread> ts;
  for (int t = 0; t < nt; ++t) {
    std::size_t lo = xs.size() * t / nt, hi = xs.size() * (t + 1) / nt;
    ts.emplace_back([&, t, lo, hi] { score(fn, f, xs, ys, got, n_special, lo, hi, parts[t]); });
  }
  for (auto &th : ts) th.join();
  for (int m = 0; m < 2; ++m) {
    out[m] = Measure{};
    for (const Partial &p : parts) {
      const Measure &q = p.m[m];
      if (q.max_ulp > out[m].max_ulp) {
        out[m].max_ulp = q.max_ulp;
        out[m].worst_x = q.worst_x;
        out[m].worst_y = q.worst_y;
        out[m].worst_got = q.worst_got;
        out[m].worst_want = q.worst_want;
      }
      out[m].points += q.points;
      out[m].specials += q.specials;
      out[m].special_fail += q.special_fail;
      for (const std::string &s : q.special_msgs)
        if (out[m].special_msgs.size() < 8) out[m].special_msgs.push_back(s);
    }
  }
}

} // namespace xpr::mathtest

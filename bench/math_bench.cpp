// bench/math_bench.cpp — xpr_bench_math: elements per second of every float function of
// docs/math.md, f32 and f64, in one run: the xpr JIT kernel (accurate and fast, one thread, and
// accurate on all cores), glibc's scalar libm in a plain loop, and SLEEF's vector functions called
// directly (the same entry points the JIT calls, at the host's widest vector).
//   xpr_bench_math [--n N] [--reps R] [--fn a,b,...]
#include "compiler/codegen/CpuJit.h"

#include <fmt/format.h>
#include <immintrin.h>
#include <omp.h>
#include <sleef.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

using namespace xpr;
using ir::Op;

namespace {

struct Fn {
  Op op;
  const char *name;
  int arity;
  double lo, hi; // input range of the benchmark data (both operands)
};

const Fn kFns[] = {
    {Op::Exp, "exp", 1, -20, 20},       {Op::Exp2, "exp2", 1, -20, 20},
    {Op::Expm1, "expm1", 1, -2, 2},     {Op::Log, "log", 1, 1e-3, 1e3},
    {Op::Log2, "log2", 1, 1e-3, 1e3},   {Op::Log10, "log10", 1, 1e-3, 1e3},
    {Op::Log1p, "log1p", 1, -0.5, 10},  {Op::Sin, "sin", 1, -10, 10},
    {Op::Cos, "cos", 1, -10, 10},       {Op::Tan, "tan", 1, -1.5, 1.5},
    {Op::Asin, "asin", 1, -1, 1},       {Op::Acos, "acos", 1, -1, 1},
    {Op::Atan, "atan", 1, -10, 10},     {Op::Atan2, "atan2", 2, -3, 3},
    {Op::Sinh, "sinh", 1, -5, 5},       {Op::Cosh, "cosh", 1, -5, 5},
    {Op::Tanh, "tanh", 1, -5, 5},       {Op::Asinh, "asinh", 1, -10, 10},
    {Op::Acosh, "acosh", 1, 1, 10},     {Op::Atanh, "atanh", 1, -0.9, 0.9},
    {Op::Erf, "erf", 1, -3, 3},         {Op::Erfc, "erfc", 1, -3, 3},
    {Op::Ncdf, "ncdf", 1, -5, 5},       {Op::Pow, "pow", 2, 0.1, 3},
    {Op::Cbrt, "cbrt", 1, -100, 100},   {Op::Hypot, "hypot", 2, -3, 3},
    {Op::Sqrt, "sqrt", 1, 0, 100},      {Op::Rsqrt, "rsqrt", 1, 0.01, 100},
};

// ---- glibc scalar loops (compiled without -fveclib, so every element is one libm call) ----
template <class T> using Scalar1 = T (*)(T);
template <class T> using Scalar2 = T (*)(T, T);

template <class T> T ncdf_ref(T x) { return std::erfc(-x / static_cast<T>(M_SQRT2)) / T(2); }
template <class T> T rsqrt_ref(T x) { return T(1) / std::sqrt(x); }

template <class T> Scalar1<T> libm1(Op op) {
  switch (op) {
  case Op::Exp: return [](T x) { return std::exp(x); };
  case Op::Exp2: return [](T x) { return std::exp2(x); };
  case Op::Expm1: return [](T x) { return std::expm1(x); };
  case Op::Log: return [](T x) { return std::log(x); };
  case Op::Log2: return [](T x) { return std::log2(x); };
  case Op::Log10: return [](T x) { return std::log10(x); };
  case Op::Log1p: return [](T x) { return std::log1p(x); };
  case Op::Sin: return [](T x) { return std::sin(x); };
  case Op::Cos: return [](T x) { return std::cos(x); };
  case Op::Tan: return [](T x) { return std::tan(x); };
  case Op::Asin: return [](T x) { return std::asin(x); };
  case Op::Acos: return [](T x) { return std::acos(x); };
  case Op::Atan: return [](T x) { return std::atan(x); };
  case Op::Sinh: return [](T x) { return std::sinh(x); };
  case Op::Cosh: return [](T x) { return std::cosh(x); };
  case Op::Tanh: return [](T x) { return std::tanh(x); };
  case Op::Asinh: return [](T x) { return std::asinh(x); };
  case Op::Acosh: return [](T x) { return std::acosh(x); };
  case Op::Atanh: return [](T x) { return std::atanh(x); };
  case Op::Erf: return [](T x) { return std::erf(x); };
  case Op::Erfc: return [](T x) { return std::erfc(x); };
  case Op::Ncdf: return ncdf_ref<T>;
  case Op::Cbrt: return [](T x) { return std::cbrt(x); };
  case Op::Sqrt: return [](T x) { return std::sqrt(x); };
  case Op::Rsqrt: return rsqrt_ref<T>;
  default: return nullptr;
  }
}
template <class T> Scalar2<T> libm2(Op op) {
  switch (op) {
  case Op::Pow: return [](T x, T y) { return std::pow(x, y); };
  case Op::Atan2: return [](T x, T y) { return std::atan2(x, y); };
  case Op::Hypot: return [](T x, T y) { return std::hypot(x, y); };
  default: return nullptr;
  }
}

template <class T>
__attribute__((noinline)) void libm_loop(Op op, int arity, const T *a, const T *b, T *y,
                                         std::size_t n) {
  if (arity == 1) {
    Scalar1<T> f = libm1<T>(op);
    for (std::size_t i = 0; i < n; ++i) y[i] = f(a[i]);
  } else {
    Scalar2<T> f = libm2<T>(op);
    for (std::size_t i = 0; i < n; ++i) y[i] = f(a[i], b[i]);
  }
}

// ---- SLEEF called directly, at the widest vector this build targets ----
#if defined(__AVX512F__)
using VF = __m512;
using VD = __m512d;
constexpr int kLF = 16, kLD = 8;
#define XPR_SLEEF_F(f, u) Sleef_##f##f16##u
#define XPR_SLEEF_D(f, u) Sleef_##f##d8##u
VF loadf(const float *p) { return _mm512_loadu_ps(p); }
VD loadd(const double *p) { return _mm512_loadu_pd(p); }
void storef(float *p, VF v) { _mm512_storeu_ps(p, v); }
void stored(double *p, VD v) { _mm512_storeu_pd(p, v); }
VF mulf(VF a, float c) { return _mm512_mul_ps(a, _mm512_set1_ps(c)); }
VD muld(VD a, double c) { return _mm512_mul_pd(a, _mm512_set1_pd(c)); }
VF rsqrtf_(VF a) { return _mm512_div_ps(_mm512_set1_ps(1), _mm512_sqrt_ps(a)); }
VD rsqrtd_(VD a) { return _mm512_div_pd(_mm512_set1_pd(1), _mm512_sqrt_pd(a)); }
VF sqrtf_(VF a) { return _mm512_sqrt_ps(a); }
VD sqrtd_(VD a) { return _mm512_sqrt_pd(a); }
#elif defined(__AVX2__)
using VF = __m256;
using VD = __m256d;
constexpr int kLF = 8, kLD = 4;
#define XPR_SLEEF_F(f, u) Sleef_##f##f8##u
#define XPR_SLEEF_D(f, u) Sleef_##f##d4##u
VF loadf(const float *p) { return _mm256_loadu_ps(p); }
VD loadd(const double *p) { return _mm256_loadu_pd(p); }
void storef(float *p, VF v) { _mm256_storeu_ps(p, v); }
void stored(double *p, VD v) { _mm256_storeu_pd(p, v); }
VF mulf(VF a, float c) { return _mm256_mul_ps(a, _mm256_set1_ps(c)); }
VD muld(VD a, double c) { return _mm256_mul_pd(a, _mm256_set1_pd(c)); }
VF rsqrtf_(VF a) { return _mm256_div_ps(_mm256_set1_ps(1), _mm256_sqrt_ps(a)); }
VD rsqrtd_(VD a) { return _mm256_div_pd(_mm256_set1_pd(1), _mm256_sqrt_pd(a)); }
VF sqrtf_(VF a) { return _mm256_sqrt_ps(a); }
VD sqrtd_(VD a) { return _mm256_sqrt_pd(a); }
#else
#error "xpr_bench_math needs AVX2 or AVX-512 (it is built with -march=native)"
#endif

VF ncdff_(VF x) { return mulf(XPR_SLEEF_F(erfc, _u15)(mulf(x, -static_cast<float>(M_SQRT1_2))), 0.5f); }
VD ncdfd_(VD x) { return muld(XPR_SLEEF_D(erfc, _u15)(muld(x, -M_SQRT1_2)), 0.5); }

using SF1 = VF (*)(VF);
using SF2 = VF (*)(VF, VF);
using SD1 = VD (*)(VD);
using SD2 = VD (*)(VD, VD);
// SLEEF declares its results `const __m512`; these wrap an entry point as a plain function.
#define F1(f, u) [](VF x) -> VF { return XPR_SLEEF_F(f, u)(x); }
#define D1(f, u) [](VD x) -> VD { return XPR_SLEEF_D(f, u)(x); }
#define F2(f, u) [](VF x, VF y) -> VF { return XPR_SLEEF_F(f, u)(x, y); }
#define D2(f, u) [](VD x, VD y) -> VD { return XPR_SLEEF_D(f, u)(x, y); }

// The entries the JIT's accurate mode calls (compiler/codegen/README.md).
SF1 sleef_f1(Op op) {
  switch (op) {
  case Op::Exp: return F1(exp, _u10);
  case Op::Exp2: return F1(exp2, _u10);
  case Op::Expm1: return F1(expm1, _u10);
  case Op::Log: return F1(log, _u10);
  case Op::Log2: return F1(log2, _u10);
  case Op::Log10: return F1(log10, _u10);
  case Op::Log1p: return F1(log1p, _u10);
  case Op::Sin: return F1(sin, _u10);
  case Op::Cos: return F1(cos, _u10);
  case Op::Tan: return F1(tan, _u10);
  case Op::Asin: return F1(asin, _u10);
  case Op::Acos: return F1(acos, _u10);
  case Op::Atan: return F1(atan, _u10);
  case Op::Sinh: return F1(sinh, _u10);
  case Op::Cosh: return F1(cosh, _u10);
  case Op::Tanh: return F1(tanh, _u10);
  case Op::Asinh: return F1(asinh, _u10);
  case Op::Acosh: return F1(acosh, _u10);
  case Op::Atanh: return F1(atanh, _u10);
  case Op::Erf: return F1(erf, _u10);
  case Op::Erfc: return F1(erfc, _u15);
  case Op::Ncdf: return ncdff_;
  case Op::Cbrt: return F1(cbrt, _u10);
  case Op::Sqrt: return sqrtf_;
  case Op::Rsqrt: return rsqrtf_;
  default: return nullptr;
  }
}
SD1 sleef_d1(Op op) {
  switch (op) {
  case Op::Exp: return D1(exp, _u10);
  case Op::Exp2: return D1(exp2, _u10);
  case Op::Expm1: return D1(expm1, _u10);
  case Op::Log: return D1(log, _u10);
  case Op::Log2: return D1(log2, _u10);
  case Op::Log10: return D1(log10, _u10);
  case Op::Log1p: return D1(log1p, _u10);
  case Op::Sin: return D1(sin, _u10);
  case Op::Cos: return D1(cos, _u10);
  case Op::Tan: return D1(tan, _u10);
  case Op::Asin: return D1(asin, _u10);
  case Op::Acos: return D1(acos, _u10);
  case Op::Atan: return D1(atan, _u10);
  case Op::Sinh: return D1(sinh, _u10);
  case Op::Cosh: return D1(cosh, _u10);
  case Op::Tanh: return D1(tanh, _u10);
  case Op::Asinh: return D1(asinh, _u10);
  case Op::Acosh: return D1(acosh, _u10);
  case Op::Atanh: return D1(atanh, _u10);
  case Op::Erf: return D1(erf, _u10);
  case Op::Erfc: return D1(erfc, _u15);
  case Op::Ncdf: return ncdfd_;
  case Op::Cbrt: return D1(cbrt, _u10);
  case Op::Sqrt: return sqrtd_;
  case Op::Rsqrt: return rsqrtd_;
  default: return nullptr;
  }
}
SF2 sleef_f2(Op op) {
  switch (op) {
  case Op::Pow: return F2(pow, _u10);
  case Op::Atan2: return F2(atan2, _u10);
  case Op::Hypot: return F2(hypot, _u05);
  default: return nullptr;
  }
}
SD2 sleef_d2(Op op) {
  switch (op) {
  case Op::Pow: return D2(pow, _u10);
  case Op::Atan2: return D2(atan2, _u10);
  case Op::Hypot: return D2(hypot, _u05);
  default: return nullptr;
  }
}

/// SLEEF over the vector part, libm for the tail (n is a multiple of the lanes in practice).
__attribute__((noinline)) void sleef_loop_f(Op op, int arity, const float *a, const float *b,
                                            float *y, std::size_t n) {
  std::size_t i = 0;
  if (arity == 1) {
    SF1 f = sleef_f1(op);
    for (; i + kLF <= n; i += kLF) storef(y + i, f(loadf(a + i)));
  } else {
    SF2 f = sleef_f2(op);
    for (; i + kLF <= n; i += kLF) storef(y + i, f(loadf(a + i), loadf(b + i)));
  }
  if (i < n) libm_loop<float>(op, arity, a + i, b + i, y + i, n - i);
}
__attribute__((noinline)) void sleef_loop_d(Op op, int arity, const double *a, const double *b,
                                            double *y, std::size_t n) {
  std::size_t i = 0;
  if (arity == 1) {
    SD1 f = sleef_d1(op);
    for (; i + kLD <= n; i += kLD) stored(y + i, f(loadd(a + i)));
  } else {
    SD2 f = sleef_d2(op);
    for (; i + kLD <= n; i += kLD) stored(y + i, f(loadd(a + i), loadd(b + i)));
  }
  if (i < n) libm_loop<double>(op, arity, a + i, b + i, y + i, n - i);
}

ir::Graph one_op(const Fn &fn, DType d) {
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

/// Best-of-reps seconds of f().
double best_time(int reps, const std::function<void()> &f) {
  f(); // warm caches and page in the output
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    f();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

template <class T>
void bench_one(cg::CpuJit &jit, const Fn &fn, std::size_t n, int reps, std::string &row) {
  constexpr DType d = sizeof(T) == 4 ? DType::F32 : DType::F64;
  std::vector<T> a(n), b(n), y(n);
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> u(fn.lo, fn.hi);
  for (std::size_t i = 0; i < n; ++i) {
    a[i] = static_cast<T>(u(rng));
    b[i] = static_cast<T>(u(rng));
  }
  cg::KernelSpec spec;
  spec.rank = 1;
  spec.inputs.assign(fn.arity, cg::Layout::Contiguous);
  spec.outputs.assign(1, cg::Layout::Contiguous);
  ir::Graph g = one_op(fn, d);
  cg::KernelFn acc = jit.compile(g, spec);
  spec.precision = cg::Precision::Fast;
  cg::KernelFn fast = jit.compile(g, spec);
  std::int64_t strides[3] = {1, 1, 1};
  std::int64_t shape[1] = {static_cast<std::int64_t>(n)};
  void *ptrs[3] = {a.data(), fn.arity == 2 ? static_cast<void *>(b.data()) : y.data(), y.data()};
  auto run_jit = [&](cg::KernelFn k) { k(ptrs, strides, nullptr, shape, 0, shape[0]); };
  auto run_all = [&](cg::KernelFn k) {
    const std::int64_t chunk = 1 << 14;
    std::int64_t chunks = (shape[0] + chunk - 1) / chunk;
#pragma omp parallel for schedule(static)
    for (std::int64_t c = 0; c < chunks; ++c)
      k(ptrs, strides, nullptr, shape, c * chunk, std::min(shape[0], (c + 1) * chunk));
  };
  double t_acc = best_time(reps, [&] { run_jit(acc); });
  double t_fast = best_time(reps, [&] { run_jit(fast); });
  double t_all = best_time(reps, [&] { run_all(acc); });
  double t_libm = best_time(reps, [&] { libm_loop<T>(fn.op, fn.arity, a.data(), b.data(), y.data(), n); });
  double t_sleef = best_time(reps, [&] {
    if constexpr (sizeof(T) == 4) sleef_loop_f(fn.op, fn.arity, a.data(), b.data(), y.data(), n);
    else sleef_loop_d(fn.op, fn.arity, a.data(), b.data(), y.data(), n);
  });
  auto g_s = [&](double t) { return fmt::format("{:8.0f}", n / t / 1e6); };
  row += fmt::format(" {} | {} | {} | {} | {} | {:5.1f}x |", g_s(t_acc), g_s(t_fast), g_s(t_all),
                     g_s(t_libm), g_s(t_sleef), t_libm / t_acc);
}

} // namespace

int main(int argc, char **argv) {
  std::size_t n = 1 << 20;
  int reps = 5;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--n") && i + 1 < argc) n = std::strtoull(argv[++i], nullptr, 10);
    else if (!std::strcmp(argv[i], "--reps") && i + 1 < argc) reps = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--fn") && i + 1 < argc) only = "," + std::string(argv[++i]) + ",";
    else {
      fmt::print(stderr, "usage: xpr_bench_math [--n N] [--reps R] [--fn a,b,...]\n");
      return 2;
    }
  }
  cg::CpuJit jit;
  fmt::print("xpr_bench_math: million elements per second (best of {} reps over {} elements, "
             "inputs in each function's usual range)\n", reps, n);
  fmt::print("host: vector_bits={}, {} threads for 'all cores'; SLEEF {} lanes f32 / {} f64\n",
             jit.vector_bits(), omp_get_max_threads(), kLF, kLD);
  fmt::print("columns: xpr accurate (1 thread) | xpr fast (1 thread) | xpr accurate (all cores) | "
             "glibc scalar libm loop (1 thread) | SLEEF direct (1 thread) | xpr acc / libm\n\n");
  for (int k = 0; k < 2; ++k) {
    fmt::print("{}\n| function | xpr acc | xpr fast | xpr acc all | libm | SLEEF | speedup |\n"
               "|---|---|---|---|---|---|---|\n", k == 0 ? "f32" : "f64");
    for (const Fn &fn : kFns) {
      if (!only.empty() && only.find("," + std::string(fn.name) + ",") == std::string::npos)
        continue;
      std::string row = fmt::format("| {} |", fn.name);
      if (k == 0) bench_one<float>(jit, fn, n, reps, row);
      else bench_one<double>(jit, fn, n, reps, row);
      fmt::print("{}\n", row);
      std::fflush(stdout);
    }
    fmt::print("\n");
  }
  return 0;
}

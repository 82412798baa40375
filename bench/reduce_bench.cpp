// bench/reduce_bench.cpp — xpr_bench_reduce: fused reductions against hand-written OpenMP loops and
// the STREAM triad bandwidth, all measured in one run on all cores.
//
// Cases: sum(a*b) and sum(exp(a)*b) over N f32; row and column sums of an R x C f32 matrix; row
// softmax. Each reports the best time of xpr (compiled once, run into caller memory) and of the
// hand loop, the bandwidth counted as bytes read + written once, and that bandwidth as a fraction
// of the STREAM triad's. Exits 1 when an xpr result disagrees with the hand loop beyond the
// tolerance of a reordered f32 sum. XPR_REDUCE_JIT=0 runs xpr's reductions through the runtime's
// C++ block loops instead of the JIT reduce kernels (the same bits, for comparison).
#include "bench/hand_loops.h"
#include "bench/reduce_hand.h"
#include "runtime/Reduce.h"

#include <xpr/xpr.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace {

namespace hand = xpr_bench::hand;
namespace rhand = xpr_bench::reduce_hand;
using Clock = std::chrono::steady_clock;

struct Options {
  std::int64_t n = 10'000'000, rows = 4096, cols = 4096;
  int reps = 20, warmup = 3, threads = 0;
  std::int64_t stream_n = 0; // 0: 4 x 2^25 floats per array (512 MiB in all), above any LLC here
  int stream_reps = 10;
};

[[noreturn]] void usage(const char *msg) {
  std::fprintf(stderr,
               "xpr_bench_reduce: %s\n"
               "usage: xpr_bench_reduce [--n N] [--rows R] [--cols C] [--reps K] [--warmup W]\n"
               "                        [--threads T] [--stream-n N] [--stream-reps K]\n",
               msg);
  std::exit(2);
}

Options parse(int argc, char **argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) usage(("missing value after " + a).c_str());
    long long v = std::atoll(argv[++i]);
    if (v < 1) usage(("bad value for " + a).c_str());
    if (a == "--n") o.n = v;
    else if (a == "--rows") o.rows = v;
    else if (a == "--cols") o.cols = v;
    else if (a == "--reps") o.reps = static_cast<int>(v);
    else if (a == "--warmup") o.warmup = static_cast<int>(v);
    else if (a == "--threads") o.threads = static_cast<int>(v);
    else if (a == "--stream-n") o.stream_n = v;
    else if (a == "--stream-reps") o.stream_reps = static_cast<int>(v);
    else usage(("unknown option " + a).c_str());
  }
  return o;
}

struct FreeDeleter {
  void operator()(float *p) const { std::free(p); }
};
using Buffer = std::unique_ptr<float[], FreeDeleter>;

Buffer allocate(std::int64_t n) {
  const std::size_t align = std::size_t(n) * 4 >= (std::size_t(8) << 20) ? (2u << 20) : 64u;
  std::size_t bytes = (std::size_t(std::max<std::int64_t>(n, 1)) * 4 + align - 1) / align * align;
  auto *p = static_cast<float *>(std::aligned_alloc(align, bytes));
  if (!p) usage("out of memory");
  return Buffer(p);
}

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

/// Best of `reps` timed runs after `warmup` (STREAM's convention, and the number least disturbed
/// by other processes on a shared machine).
double best_time(const std::function<void()> &f, int warmup, int reps) {
  for (int i = 0; i < warmup; ++i) f();
  double best = INFINITY;
  for (int i = 0; i < reps; ++i) {
    auto t0 = Clock::now();
    f();
    best = std::min(best, seconds_since(t0));
  }
  return best;
}

double stream_triad_gbs(std::int64_t n, int reps) {
  Buffer a = allocate(n), b = allocate(n), c = allocate(n);
  hand::fill_uniform(a.get(), n, 1, 0, 1);
  hand::fill_uniform(b.get(), n, 2, 0, 1);
  hand::fill_uniform(c.get(), n, 3, 0, 1);
  hand::triad(a.get(), b.get(), c.get(), 3.0f, n);
  double best = INFINITY;
  for (int i = 0; i < reps; ++i) {
    auto t0 = Clock::now();
    hand::triad(a.get(), b.get(), c.get(), 3.0f, n);
    best = std::min(best, seconds_since(t0));
  }
  return 12.0 * double(n) / best / 1e9;
}

struct Row {
  std::string name;
  double bytes = 0; // read + written once
  double xpr_s = 0, hand_s = 0;
};

bool g_bad = false;

// |x - h| <= tol * scale: both sides are reordered f32 sums of terms whose magnitudes add to
// `scale`, so each is within a few hundred ulps of scale at worst.
void check(const char *what, double x, double h, double scale, double tol = 1e-5) {
  if (!(std::fabs(x - h) <= tol * std::max(scale, 1e-30))) {
    std::fprintf(stderr, "xpr_bench_reduce: %s: xpr %.9g, hand loop %.9g\n", what, x, h);
    g_bad = true;
  }
}

xpr::Array v1(float *p, std::int64_t n) { return xpr::view(p, xpr::f32, {n}); }
xpr::Array v2(float *p, std::int64_t r, std::int64_t c) { return xpr::view(p, xpr::f32, {r, c}); }

} // namespace

int main(int argc, char **argv) {
  // OpenMP's workers spin for a while after each parallel region (libomp: 200 ms), which on a
  // machine with few cores takes the cores from the xpr run measured right after the hand loop
  // (measured: sum(a*b) at 10^7 f32 looked 1.6x slower). Passive workers sleep instead; the hand
  // loops' own times do not change. Set before the first parallel region; the user's value wins.
  setenv("OMP_WAIT_POLICY", "passive", 0);
  const Options o = parse(argc, argv);
  xpr::Options xo;
  xo.threads = o.threads;
  xpr::Context ctx(xo);
  const std::int64_t n = o.n, R = o.rows, C = o.cols;

  const std::int64_t sn = o.stream_n ? o.stream_n : (std::int64_t{1} << 25);
  const double stream = stream_triad_gbs(sn, o.stream_reps);

  std::vector<Row> rows;
  {
    Buffer a = allocate(n), b = allocate(n), s = allocate(1);
    hand::fill_uniform(a.get(), n, 11, -1, 1);
    hand::fill_uniform(b.get(), n, 12, -1, 1);
    xpr::Inputs in{{"a", v1(a.get(), n)}, {"b", v1(b.get(), n)}};
    xpr::Outputs out{{"s", xpr::view(s.get(), xpr::f32, {})}};
    double scale = 0;
    for (std::int64_t i = 0; i < n; ++i) scale += std::fabs(double(a[i]) * b[i]);

    xpr::Program dot = ctx.compile("input a: f32[n]\ninput b: f32[n]\noutput s = sum(a * b)\n");
    float h = 0;
    Row r{"sum(a*b)", 8.0 * double(n)};
    r.hand_s = best_time([&] { h = rhand::dot(a.get(), b.get(), n); }, o.warmup, o.reps);
    r.xpr_s = best_time([&] { dot.run_into(in, out); }, o.warmup, o.reps);
    check("sum(a*b)", s[0], h, scale);
    rows.push_back(r);

    xpr::Program ed =
        ctx.compile("input a: f32[n]\ninput b: f32[n]\noutput s = sum(exp(a) * b)\n");
    double escale = 0;
    for (std::int64_t i = 0; i < n; ++i) escale += std::fabs(std::exp(double(a[i])) * b[i]);
    Row e{"sum(exp(a)*b)", 8.0 * double(n)};
    e.hand_s = best_time([&] { h = rhand::exp_dot(a.get(), b.get(), n); }, o.warmup, o.reps);
    e.xpr_s = best_time([&] { ed.run_into(in, out); }, o.warmup, o.reps);
    check("sum(exp(a)*b)", s[0], h, escale);
    rows.push_back(e);
  }
  {
    Buffer x = allocate(R * C), y = allocate(R * C), hy = allocate(R * C);
    Buffer xs = allocate(std::max(R, C)), hs = allocate(std::max(R, C));
    hand::fill_uniform(x.get(), R * C, 13, -1, 1);
    hand::fill_uniform(y.get(), R * C, 7, 0, 0);
    hand::fill_uniform(hy.get(), R * C, 7, 0, 0);
    xpr::Inputs in{{"x", v2(x.get(), R, C)}};
    const std::string decl = "input x: f32[r, c]\n";

    xpr::Program rs = ctx.compile(decl + "output s = sum(x, axis=1)\n");
    xpr::Outputs ro{{"s", v1(xs.get(), R)}};
    Row r{fmt::format("row sums {}x{}", R, C), 4.0 * double(R * C + R)};
    r.hand_s = best_time([&] { rhand::row_sums(x.get(), R, C, hs.get()); }, o.warmup, o.reps);
    r.xpr_s = best_time([&] { rs.run_into(in, ro); }, o.warmup, o.reps);
    for (std::int64_t i = 0; i < R; ++i) check("row sums", xs[i], hs[i], double(C));
    rows.push_back(r);

    xpr::Program cs = ctx.compile(decl + "output s = sum(x, axis=0)\n");
    xpr::Outputs co{{"s", v1(xs.get(), C)}};
    Row c{fmt::format("column sums {}x{}", R, C), 4.0 * double(R * C + C)};
    c.hand_s = best_time([&] { rhand::col_sums(x.get(), R, C, hs.get()); }, o.warmup, o.reps);
    c.xpr_s = best_time([&] { cs.run_into(in, co); }, o.warmup, o.reps);
    for (std::int64_t j = 0; j < C; ++j) check("column sums", xs[j], hs[j], double(R));
    rows.push_back(c);

    xpr::Program sm = ctx.compile(decl + "let e = exp(x - max(x, axis=1, keepdims=true))\n"
                                         "output y = e / sum(e, axis=1, keepdims=true)\n");
    xpr::Outputs so{{"y", v2(y.get(), R, C)}};
    Row s{fmt::format("row softmax {}x{}", R, C), 8.0 * double(R * C)};
    s.hand_s = best_time([&] { rhand::softmax_rows(x.get(), R, C, hy.get()); }, o.warmup, o.reps);
    s.xpr_s = best_time([&] { sm.run_into(in, so); }, o.warmup, o.reps);
    for (std::int64_t i = 0; i < R * C; i += std::max<std::int64_t>(1, R * C / 4096))
      check("row softmax", y[i], hy[i], std::fabs(hy[i]), 1e-5);
    rows.push_back(s);
  }

  std::printf("xpr_bench_reduce: %d xpr threads, %d OpenMP threads, N = %lld, matrix %lldx%lld, "
              "best of %d runs\n",
              xpr::Context(xo).threads(), hand::num_threads(), (long long)n, (long long)R,
              (long long)C, o.reps);
  std::printf("block reductions: %s; OMP_WAIT_POLICY=%s\n",
              xpr::rt::reduce_jit() ? "JIT reduce kernels" : "C++ loops (XPR_REDUCE_JIT=0)",
              std::getenv("OMP_WAIT_POLICY"));
  std::printf("STREAM triad (%lld floats per array): %.1f GB/s\n\n", (long long)sn, stream);
  std::printf("%-26s %10s %9s %8s %10s %9s %8s %8s\n", "case", "xpr ms", "xpr GB/s", "%STREAM",
              "hand ms", "hand GB/s", "%STREAM", "xpr/hand");
  for (const Row &r : rows) {
    const double xg = r.bytes / r.xpr_s / 1e9, hg = r.bytes / r.hand_s / 1e9;
    std::printf("%-26s %10.3f %9.1f %7.0f%% %10.3f %9.1f %7.0f%% %8.2f\n", r.name.c_str(),
                r.xpr_s * 1e3, xg, 100 * xg / stream, r.hand_s * 1e3, hg, 100 * hg / stream,
                r.hand_s / r.xpr_s);
  }
  std::printf("\nbytes counted: inputs read once + outputs written once (STREAM's convention).\n");
  if (g_bad) return 1;
  return 0;
}

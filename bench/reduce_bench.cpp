// bench/reduce_bench.cpp — xpr_bench_reduce: fused reductions against hand-written OpenMP loops and
// the STREAM triad bandwidth, all measured in one run on all cores.
//
// Cases: sum(a*b) and sum(exp(a)*b) over N f32; row and column sums of an R x C f32 matrix; row
// softmax. Each reports the best time of xpr (compiled once, run into caller memory) and of the
// hand loop, the bandwidth counted as bytes read + written once, and that bandwidth as a fraction
// of the STREAM triad's. Exits 1 when an xpr result disagrees with the hand loop beyond the
// tolerance of a reordered f32 sum. XPR_REDUCE_JIT=0 runs xpr's reductions through the runtime's
// C++ block loops instead of the JIT reduce kernels (the same bits, for comparison).
//
// --sweep instead measures the whole-array reductions sum(a), sum(a*b), sum(exp(a)*b), max(a) and
// argmax(a) at each N of a list (default 10^2 .. 10^8): xpr, xpr on one thread, the hand loop and
// Eigen (when built with it), after the STREAM triad, and writes a CSV (--csv) for bench/report.py.
#include "bench/hand_loops.h"
#include "bench/reduce_hand.h"
#include "bench/sweep.h"
#if XPR_BENCH_HAVE_EIGEN
#include "bench/eigen_loops.h"
#endif
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
#include <ctime>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>


namespace {

namespace hand = xpr_bench::hand;
namespace rhand = xpr_bench::reduce_hand;
namespace sweep = xpr_bench::sweep;
using Clock = std::chrono::steady_clock;

struct Options {
  std::int64_t n = 10'000'000, rows = 4096, cols = 4096;
  int reps = 20, warmup = 3, threads = 0;
  std::int64_t stream_n = 0; // 0: 4 x 2^25 floats per array (512 MiB in all), above any LLC here
  int stream_reps = 10;
  bool sweep = false; // --sweep
  sweep::Options sw;  // --sizes, --point-time, --min-reps, --csv
};

[[noreturn]] void usage(const char *msg) {
  std::fprintf(
      stderr,
      "xpr_bench_reduce: %s\n"
      "usage: xpr_bench_reduce [--n N] [--rows R] [--cols C] [--reps K] [--warmup W]\n"
      "                        [--threads T] [--stream-n N] [--stream-reps K]\n"
      "       xpr_bench_reduce --sweep [--sizes N1,N2,...] [--point-time S]\n"
      "                        [--min-reps K] [--csv FILE] [--stream-n N] [--stream-reps K]\n"
      "  --sweep: sum(a), sum(a*b), sum(exp(a)*b), max(a), argmax(a) at each N of --sizes\n"
      "  (default 1e2,1e3,...,1e8): xpr, xpr on one thread, hand loop, Eigen; median of\n"
      "  >= --min-reps (3) runs aiming at --point-time (0.2) s per point\n",
      msg);
  std::exit(2);
}

Options parse(int argc, char **argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--sweep") {
      o.sweep = true;
      continue;
    }
    if (i + 1 >= argc) usage(("missing value after " + a).c_str());
    if (a == "--sizes") {
      if (!sweep::parse_sizes(argv[++i], o.sw.sizes)) usage("--sizes wants N values like 100,1e4");
      continue;
    }
    if (a == "--csv") {
      o.sw.csv = argv[++i];
      continue;
    }
    if (a == "--point-time") {
      char *end = nullptr;
      o.sw.point_s = std::strtod(argv[++i], &end);
      if (*end != '\0' || !(o.sw.point_s >= 0) || o.sw.point_s > 1e4)
        usage("--point-time wants seconds >= 0");
      continue;
    }
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
    else if (a == "--min-reps") o.sw.min_reps = static_cast<int>(v);
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

// ---------------------------------------------------------------------------------------------
// The N sweep (--sweep)

/// A whole-array reduction: its xpr script, and the hand and Eigen versions returning the value
/// (argmax's index as a double: exact below 2^53).
struct SweepCase {
  std::string name, script;
  int inputs;                   // a, or a and b
  double (*term)(float, float); // a sum's term (its error scale is the sum of |term|); null:
                                // max and argmax, exact in any order
  xpr::DType out_dtype;         // f32, or i64 for argmax
  std::function<double(const float *, const float *, std::int64_t)> hand, eigen;
};

std::vector<SweepCase> sweep_cases() {
  const std::string a = "input a: f32[n]\n", ab = "input a: f32[n]\ninput b: f32[n]\n";
  std::vector<SweepCase> v{
      {"sum(a)", a + "output s = sum(a)\n", 1, [](float x, float) { return double(x); }, xpr::f32,
       [](const float *x, const float *, std::int64_t n) { return double(rhand::sum(x, n)); },
       nullptr},
      {"sum(a*b)", ab + "output s = sum(a * b)\n", 2,
       [](float x, float y) { return double(x) * y; }, xpr::f32,
       [](const float *x, const float *y, std::int64_t n) { return double(rhand::dot(x, y, n)); },
       nullptr},
      {"sum(exp(a)*b)", ab + "output s = sum(exp(a) * b)\n", 2,
       [](float x, float y) { return std::exp(double(x)) * y; }, xpr::f32,
       [](const float *x, const float *y, std::int64_t n) {
         return double(rhand::exp_dot(x, y, n));
       },
       nullptr},
      {"max(a)", a + "output s = max(a)\n", 1, nullptr, xpr::f32,
       [](const float *x, const float *, std::int64_t n) { return double(rhand::max_value(x, n)); },
       nullptr},
      {"argmax(a)", a + "output s = argmax(a)\n", 1, nullptr, xpr::i64,
       [](const float *x, const float *, std::int64_t n) { return double(rhand::argmax(x, n)); },
       nullptr},
  };
#if XPR_BENCH_HAVE_EIGEN
  namespace eig = xpr_bench::eigen;
  v[0].eigen = [](const float *x, const float *, std::int64_t n) { return double(eig::sum(x, n)); };
  v[1].eigen = [](const float *x, const float *y, std::int64_t n) {
    return double(eig::dot(x, y, n));
  };
  v[2].eigen = [](const float *x, const float *y, std::int64_t n) {
    return double(eig::exp_dot(x, y, n));
  };
  v[3].eigen = [](const float *x, const float *, std::int64_t n) { return double(eig::max(x, n)); };
  v[4].eigen = [](const float *x, const float *, std::int64_t n) {
    return double(eig::argmax(x, n));
  };
#endif
  return v;
}

std::string machine_text() {
  std::string model = "unknown";
  if (std::FILE *f = std::fopen("/proc/cpuinfo", "r")) {
    char line[512];
    while (std::fgets(line, sizeof line, f)) {
      if (std::strncmp(line, "model name", 10) != 0) continue;
      const char *colon = std::strchr(line, ':');
      if (colon) {
        model = colon + 1 + std::strspn(colon + 1, " \t");
        while (!model.empty() && (model.back() == '\n' || model.back() == ' '))
          model.pop_back();
      }
      break;
    }
    std::fclose(f);
  }
  return fmt::format("{}, {} cores", model, sysconf(_SC_NPROCESSORS_ONLN));
}

int run_sweep(const Options &o, int xpr_threads) {
  sweep::Options sw = o.sw;
  if (sw.sizes.empty()) sw.sizes = sweep::default_sizes();
  sweep::CsvWriter csv;
  if (!sw.csv.empty() && !csv.open(sw.csv)) {
    std::fprintf(stderr, "xpr_bench_reduce: cannot write %s\n", sw.csv.c_str());
    return 1;
  }
  xpr::Options xo;
  xo.threads = xpr_threads;
  xpr::Context ctx(xo);
  xpr::Options xo1;
  xo1.threads = 1;
  xpr::Context ctx1(xo1);
  const int omp = hand::num_threads();

  const std::int64_t sn = o.stream_n ? o.stream_n : (std::int64_t{1} << 25);
  const double stream = stream_triad_gbs(sn, o.stream_reps);
  char date[64];
  std::time_t now = std::time(nullptr);
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
  if (csv) {
    csv.meta("program", "xpr_bench_reduce --sweep");
    csv.meta("date", date);
    csv.meta("machine", machine_text());
    csv.meta("xpr_build", XPR_BENCH_BUILD_TYPE);
    csv.meta("xpr_threads", std::to_string(ctx.threads()));
    csv.meta("block_reductions", xpr::rt::reduce_jit() ? "JIT reduce kernels" : "C++ loops");
    csv.meta("hand_threads", std::to_string(omp));
#if XPR_BENCH_HAVE_EIGEN
    csv.meta("eigen", fmt::format("Eigen {}; {}; 1 thread", xpr_bench::eigen::describe(),
                                  XPR_BENCH_EIGEN_FLAGS));
#else
    csv.meta("eigen", "not built (no Eigen3 found at configure time)");
#endif
    csv.meta("stream_gbs", fmt::format("{:.4f}", stream));
    csv.meta("stream_n", std::to_string(sn));
  }
  sweep::CsvRow srow{"stream", "triad (DRAM)", "stream", sn, omp, "best"};
  srow.t.median_s = srow.t.p10_s = srow.t.p90_s = 12.0 * double(sn) / (stream * 1e9);
  srow.t.reps = o.stream_reps;
  srow.bytes = 12.0 * double(sn);
  if (csv) csv.row(srow);
  fmt::print("xpr_bench_reduce --sweep — {}\nmachine: {}\nSTREAM triad ({} floats per array): "
             "{:.2f} GB/s\nthreads: xpr {}, hand loops (OpenMP) {}\n\n",
             date, machine_text(), sn, stream, ctx.threads(), omp);

  bool ok = true;
  const std::vector<SweepCase> cases = sweep_cases();
  std::vector<xpr::Program> progs, progs1;
  for (const SweepCase &c : cases) {
    progs.push_back(ctx.compile(c.script));
    progs1.push_back(ctx1.compile(c.script));
  }
  for (std::int64_t n : sw.sizes) {
    Buffer a = allocate(n), b = allocate(n);
    // Mean-zero data, as in the single-size mode: sums of terms of both signs stay small, so
    // the f32 sums of every side stay within a tolerance of each other at N = 10^8.
    hand::fill_uniform(a.get(), n, 11, -1, 1);
    hand::fill_uniform(b.get(), n, 12, -1, 1);
    {
      // The triad at this N (median, like every other point): the like-for-like bandwidth when
      // the arrays fit in a cache.
      Buffer c = allocate(n);
      hand::fill_uniform(c.get(), n, 3, 0, 1);
      sweep::CsvRow t{"stream", "triad@N", "hand", n, omp};
      t.t = sweep::time_point([&] { hand::triad(c.get(), a.get(), b.get(), 3.0f, n); }, sw);
      t.bytes = 12.0 * double(n);
      const double gbs = t.bytes / t.t.median_s / 1e9;
      fmt::print("  {:<14} N={:<10} {:<6} {:>12.3f} µs  {:>8.2f} GB/s  {:>6.1f}% STREAM  {:>7} "
                 "reps\n",
                 "triad@N", n, "hand", t.t.median_s * 1e6, gbs, 100 * gbs / stream, t.t.reps);
      if (csv) csv.row(t);
    }
    for (std::size_t k = 0; k < cases.size(); ++k) {
      const SweepCase &c = cases[k];
      const double bytes = 4.0 * c.inputs * double(n) + (c.out_dtype == xpr::i64 ? 8 : 4);
      double scale = 0; // sum |terms|: the scale of a sum's rounding error
      if (c.term)
        for (std::int64_t i = 0; i < n; ++i)
          scale += std::fabs(c.term(a[i], b[i]));
      auto agrees = [&](double x, double h) {
        return !c.term ? x == h : std::fabs(x - h) <= 1e-5 * std::max(scale, 1e-30);
      };
      auto emit = [&](const char *impl, int threads, const sweep::Timing &t, bool good, double x,
                      double h) {
        sweep::CsvRow row{"reduction", c.name, impl, n, threads};
        row.t = t;
        row.bytes = bytes;
        row.check = good ? "ok" : "WRONG";
        if (!good) {
          std::fprintf(stderr, "xpr_bench_reduce: %s (%s), N=%lld: %.9g, hand loop %.9g\n",
                       c.name.c_str(), impl, (long long)n, x, h);
          ok = false;
        }
        const double gbs = bytes / t.median_s / 1e9;
        fmt::print("  {:<14} N={:<10} {:<6} {:>12.3f} µs  {:>8.2f} GB/s  {:>6.1f}% STREAM  {:>7} "
                   "reps  {}\n",
                   c.name, n, impl, t.median_s * 1e6, gbs, 100 * gbs / stream, t.reps, row.check);
        std::fflush(stdout);
        if (csv) csv.row(row);
      };
      double h = 0;
      sweep::Timing th = sweep::time_point([&] { h = c.hand(a.get(), b.get(), n); }, sw);
      emit("hand", omp, th, true, h, h);

      // The output: a rank-0 array of the result's dtype, filled with NaN / -1 before each side.
      double out_f64 = 0;
      float out_f32 = 0;
      std::int64_t out_i64 = 0;
      xpr::Inputs in{{"a", v1(a.get(), n)}};
      if (c.inputs == 2) in.emplace("b", v1(b.get(), n));
      xpr::Outputs out{{"s", c.out_dtype == xpr::i64 ? xpr::view(&out_i64, xpr::i64, {})
                                                     : xpr::view(&out_f32, xpr::f32, {})}};
      auto result = [&] { return c.out_dtype == xpr::i64 ? double(out_i64) : double(out_f32); };
      sweep::quiesce_openmp(); // after the hand loop's point, before xpr's and Eigen's
      for (int side = 0; side < 2; ++side) {
        xpr::Program &p = side == 0 ? progs[k] : progs1[k];
        out_f32 = NAN;
        out_i64 = -1;
        sweep::Timing t = sweep::time_point([&] { p.run_into(in, out); }, sw);
        out_f64 = result();
        emit(side == 0 ? "xpr" : "xpr-1t", side == 0 ? ctx.threads() : 1, t, agrees(out_f64, h),
             out_f64, h);
      }
      if (c.eigen) {
        double e = 0;
        sweep::Timing te = sweep::time_point([&] { e = c.eigen(a.get(), b.get(), n); }, sw);
        emit("eigen", 1, te, agrees(e, h), e, h);
      }
    }
  }
  if (csv && !csv.close()) {
    std::fprintf(stderr, "xpr_bench_reduce: cannot write %s\n", sw.csv.c_str());
    return 1;
  }
  if (!ok) std::fprintf(stderr, "xpr_bench_reduce: some results were WRONG (see above)\n");
  return ok ? 0 : 1;
}

} // namespace

int main(int argc, char **argv) {
  // OpenMP's workers spin for a while after each parallel region (libomp: 200 ms), which on a
  // machine with few cores takes the cores from the xpr run measured right after the hand loop
  // (measured: sum(a*b) at 10^7 f32 looked 1.6x slower). Passive workers sleep instead; the hand
  // loops' own times do not change. Set before the first parallel region; the user's value wins.
  // The sweep, down to N = 100, cannot ignore the wake-ups (sweep::configure_openmp).
  const Options o = parse(argc, argv);
  if (o.sweep)
    sweep::configure_openmp();
  else
    setenv("OMP_WAIT_POLICY", "passive", 0);
  if (o.sweep) {
    try {
      return run_sweep(o, o.threads);
    } catch (const xpr::Error &e) {
      std::fprintf(stderr, "xpr_bench_reduce: xpr failed:\n%s\n", e.what());
      return 1;
    }
  }
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
                r.xpr_s / r.hand_s);
  }
  std::printf("\nbytes counted: inputs read once + outputs written once (STREAM's convention); "
              "xpr/hand: xpr's time over the hand loop's (below 1: xpr is faster).\n");
  if (g_bad) return 1;
  return 0;
}

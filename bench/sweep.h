// bench/sweep.h — what the benchmarks' N sweeps share: the list of sizes, a timer that picks its
// repetitions from a time budget, and the CSV rows that scripts/bench.sh turns into tables and
// charts (bench/report.py). Header-only: xpr_bench_cpu and xpr_bench_reduce both include it.
#pragma once

// What bench/CMakeLists.txt defines for every bench program; these defaults keep a bench
// compilable on its own.
#ifndef XPR_BENCH_BUILD_TYPE
#define XPR_BENCH_BUILD_TYPE "?"
#endif
#ifndef XPR_BENCH_HAVE_EIGEN
#define XPR_BENCH_HAVE_EIGEN 0
#endif
#ifndef XPR_BENCH_EIGEN_FLAGS
#define XPR_BENCH_EIGEN_FLAGS "?"
#endif

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace xpr_bench::sweep {

using Clock = std::chrono::steady_clock;

/// The sweep's knobs, shared by every program that has a --sweep mode.
struct Options {
  std::vector<std::int64_t> sizes; // N values; empty = 10^2 .. 10^8
  double point_s = 0.2;            // timed seconds aimed at per measurement
  int min_reps = 3;                // at least this many timed runs, however slow
  int max_reps = 100000;           // at most this many (tiny N: the clock's own cost dominates)
  double warm_s = 0.02;            // untimed seconds first (and at least one run)
  std::string csv;                 // --csv FILE
};

/// 10^2, 10^3, ..., 10^8: the range.
inline std::vector<std::int64_t> default_sizes() {
  std::vector<std::int64_t> v;
  for (std::int64_t n = 100; n <= 100'000'000; n *= 10)
    v.push_back(n);
  return v;
}

/// Parses "100,1000,1e6" (integers or powers of ten written as 1eK) into sizes; false on junk.
inline bool parse_sizes(std::string_view text, std::vector<std::int64_t> &out) {
  out.clear();
  while (!text.empty()) {
    auto comma = text.find(',');
    std::string item(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    char *end = nullptr;
    double v = std::strtod(item.c_str(), &end);
    if (item.empty() || *end != '\0' || !(v >= 1) || v > 1e12 || v != std::floor(v)) return false;
    out.push_back(static_cast<std::int64_t>(v));
  }
  return !out.empty();
}

/// How long OpenMP's idle workers spin before they sleep in a sweep (libomp's KMP_BLOCKTIME).
constexpr int kOmpBlocktimeMs = 20;

/// OpenMP's waiting for a sweep; call before the first OpenMP call. The single-size modes make
/// idle workers sleep at once (OMP_WAIT_POLICY=passive), but then every parallel region pays a
/// wake-up of each worker, ~10 µs here: nothing at N = 10^7, everything at N = 100, where the
/// hand loops would measure the wake-up. So a sweep lets the workers spin between the
/// back-to-back runs of a hand-loop point (as in any program that calls such loops in a row) and
/// sleep kOmpBlocktimeMs after the last one; quiesce_openmp() waits that out before xpr or Eigen
/// is timed, so spinning workers never take their cores. A user's OMP_WAIT_POLICY or
/// KMP_BLOCKTIME wins.
inline void configure_openmp() {
  if (!std::getenv("OMP_WAIT_POLICY"))
    setenv("KMP_BLOCKTIME", std::to_string(kOmpBlocktimeMs).c_str(), 0);
}

/// Sleeps until OpenMP's workers have stopped spinning after the last parallel region.
inline void quiesce_openmp() {
  std::this_thread::sleep_for(std::chrono::milliseconds(kOmpBlocktimeMs + 10));
}

/// One measurement: the median (and 10th/90th percentiles) of `reps` timed runs.
struct Timing {
  double median_s = NAN, p10_s = NAN, p90_s = NAN;
  int reps = 0;
};

inline double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

/// Times f: untimed runs for at least o.warm_s (at least one), then as many timed runs as fit in
/// o.point_s at the fastest warm-up run's speed (not the last one's: one preempted run would
/// otherwise cut a tiny N's thousands of repetitions to three), clamped to [o.min_reps,
/// o.max_reps]. Each run is timed alone, so the median is not moved by one slow run (a
/// neighbour process, a page fault).
inline Timing time_point(const std::function<void()> &f, const Options &o) {
  double fastest = INFINITY;
  const auto w0 = Clock::now();
  do {
    auto t0 = Clock::now();
    f();
    fastest = std::min(fastest, seconds_since(t0));
  } while (seconds_since(w0) < o.warm_s);
  const double want = o.point_s / std::max(fastest, 1e-9);
  const int reps = static_cast<int>(
      std::clamp(std::ceil(want), double(o.min_reps), double(std::max(o.min_reps, o.max_reps))));
  std::vector<double> t;
  t.reserve(static_cast<std::size_t>(reps));
  for (int i = 0; i < reps; ++i) {
    auto t0 = Clock::now();
    f();
    t.push_back(seconds_since(t0));
  }
  std::sort(t.begin(), t.end());
  Timing r;
  r.reps = reps;
  const std::size_t m = t.size() / 2;
  r.median_s = t.size() % 2 ? t[m] : 0.5 * (t[m - 1] + t[m]);
  r.p10_s = t[std::min(t.size() - 1, std::size_t(0.10 * double(t.size())))];
  r.p90_s = t[std::min(t.size() - 1, std::size_t(0.90 * double(t.size())))];
  return r;
}

/// One CSV row. `suite` groups cases in the report (elementwise, transcendental, blackscholes,
/// reduction, stream, calls); `impl` is xpr, xpr-1t (xpr on one thread), hand, eigen or stream;
/// `stat` says whether `seconds` is a median or STREAM's best-of; `bytes` is what one run reads
/// and writes (inputs once, outputs once); `check` is "ok", "WRONG" or "-" (nothing to check).
struct CsvRow {
  CsvRow() = default;
  CsvRow(std::string suite_, std::string name_, std::string impl_, std::int64_t n_, int threads_,
         std::string stat_ = "median")
      : suite(std::move(suite_)), name(std::move(name_)), impl(std::move(impl_)), n(n_),
        threads(threads_), stat(std::move(stat_)) {}
  std::string suite, name, impl;
  std::int64_t n = 0;
  int threads = 0;
  std::string stat = "median";
  Timing t;
  double bytes = 0;
  std::string check = "-";
};

/// Writes the rows of one program's sweep as CSV: '#' lines first (key: value, the context the
/// report needs: machine, date, build, STREAM), then a header and one line per measurement.
class CsvWriter {
public:
  bool open(const std::string &path) {
    f_.open(path, std::ios::binary | std::ios::trunc);
    return static_cast<bool>(f_);
  }
  explicit operator bool() const { return f_.is_open(); }
  void meta(std::string_view key, const std::string &value) {
    std::string v = value;
    std::replace(v.begin(), v.end(), '\n', ' ');
    f_ << "# " << key << ": " << v << "\n";
  }
  void row(const CsvRow &r) {
    if (!header_) {
      f_ << "suite,case,n,impl,threads,stat,reps,seconds,p10_s,p90_s,bytes,check\n";
      header_ = true;
    }
    char buf[160];
    std::snprintf(buf, sizeof buf, ",%lld,%s,%d,%s,%d,%.9g,%.9g,%.9g,%.17g,%s\n",
                  static_cast<long long>(r.n), r.impl.c_str(), r.threads, r.stat.c_str(), r.t.reps,
                  r.t.median_s, r.t.p10_s, r.t.p90_s, r.bytes, r.check.c_str());
    f_ << r.suite << "," << quote(r.name) << buf;
    f_.flush(); // a long sweep that dies later still leaves what it measured
  }
  bool close() {
    f_.close();
    return !f_.fail();
  }

private:
  static std::string quote(const std::string &s) {
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) {
      if (c == '"') q += '"';
      q += c;
    }
    return q + "\"";
  }
  std::ofstream f_;
  bool header_ = false;
};

} // namespace xpr_bench::sweep

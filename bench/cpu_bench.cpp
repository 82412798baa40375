// bench/cpu_bench.cpp — xpr_bench_cpu: the CPU JIT against STREAM triad and hand-fused loops.
//
// One run measures, on all cores: the machine's STREAM triad bandwidth (hand-written OpenMP,
// arrays of at least 4x the last-level cache, best of several repetitions); then, for each
// benchmarked expression, xpr (compiled once, run many times into caller memory, median after
// warm-up) next to a hand-written fused C++ loop over the same data, whose results xpr's must
// match; then the per-call overhead of a cached eval and of a compiled program's run at small N.
// It prints a plain-text table; --markdown FILE also writes the results as markdown.
//
// --sweep instead measures every expression at each N of a list (default 10^2 .. 10^8) against
// the hand loop, Eigen (when built with it) and xpr on one thread, with the triad at each N and
// at DRAM size, then the call overhead, and writes one CSV (--csv) for bench/report.py.
#include "bench/hand_loops.h"
#include "bench/sweep.h"
#if XPR_BENCH_HAVE_EIGEN
#include "bench/eigen_loops.h"
#endif

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
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef XPR_BENCH_EXAMPLES_DIR
#error "XPR_BENCH_EXAMPLES_DIR must name the examples/ folder (set by bench/CMakeLists.txt)"
#endif
#ifndef XPR_BENCH_HAND_FLAGS
#define XPR_BENCH_HAND_FLAGS "?"
#endif

namespace {

namespace hand = xpr_bench::hand;
namespace sweep = xpr_bench::sweep;
#if XPR_BENCH_HAVE_EIGEN
namespace eig = xpr_bench::eigen;
#endif
using Clock = std::chrono::steady_clock;

// ---------------------------------------------------------------------------------------------
// Options

struct Options {
  std::int64_t n = 10'000'000; // elements per array in the expression benchmarks
  int reps = 20;               // timed runs per measurement (median reported)
  int warmup = 3;              // untimed runs first
  std::int64_t stream_n = 0;   // elements per STREAM array; 0 = max(4 x LLC, 2^25 bytes)
  int stream_reps = 10;        // STREAM repetitions (best reported, as STREAM does)
  int calls = 20000;           // calls per call-overhead measurement
  std::string markdown;        // --markdown FILE
  bool fast = false;           // --precision fast
  bool sweep = false;          // --sweep: every expression at every N of sw.sizes
  sweep::Options sw;           // --sizes, --point-time, --min-reps, --csv
};

[[noreturn]] void usage(int code) {
  std::FILE *f = code == 0 ? stdout : stderr;
  std::fputs(
      "usage: xpr_bench_cpu [options]\n"
      "  --n N             elements per array for the expression benchmarks (default 10000000)\n"
      "  --reps K          timed runs per measurement, median reported (default 20)\n"
      "  --warmup W        untimed runs before timing (default 3)\n"
      "  --stream-n N      elements per STREAM triad array (default: 4x last-level cache)\n"
      "  --stream-reps K   STREAM triad repetitions, best reported (default 10)\n"
      "  --calls C         calls per call-overhead measurement, median reported (default 20000)\n"
      "  --precision P     xpr's math: accurate (default) or fast\n"
      "  --markdown FILE   also write the results as markdown; if FILE holds the markers\n"
      "                    <!-- xpr_bench_cpu:begin --> and <!-- xpr_bench_cpu:end -->, only the\n"
      "                    text between them is replaced, else the block is appended to FILE\n"
      "sweep mode (the data of scripts/bench.sh; --n, --reps, --warmup and --markdown do not "
      "apply):\n"
      "  --sweep           every expression at every N of --sizes: xpr, xpr on one thread, the\n"
      "                    hand loop and Eigen, the triad at each N and at DRAM size, then the\n"
      "                    call overhead; prints one line per measurement\n"
      "  --sizes LIST      comma-separated N values, 1eK allowed (default 1e2,1e3,...,1e8)\n"
      "  --point-time S    timed seconds aimed at per measurement (default 0.2)\n"
      "  --min-reps K      timed runs per measurement at least (default 3), median reported\n"
      "  --csv FILE        write the measurements as CSV (bench/report.py reads it)\n"
      "Exit status: 0 if every xpr result matched the hand loop, 1 if one did not or xpr failed,\n"
      "2 for bad options.\n",
      f);
  std::exit(code);
}

std::int64_t parse_int(std::string_view flag, const char *s, std::int64_t lo) {
  char *end = nullptr;
  errno = 0;
  long long v = std::strtoll(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < lo) {
    std::fprintf(stderr, "xpr_bench_cpu: %.*s wants an integer >= %lld, got '%s'\n",
                 static_cast<int>(flag.size()), flag.data(), static_cast<long long>(lo), s);
    usage(2);
  }
  return v;
}

Options parse_options(int argc, char **argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "-h" || a == "--help") usage(0);
    if (a == "--sweep") {
      o.sweep = true;
      continue;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "xpr_bench_cpu: unknown option or missing value: %s\n", argv[i]);
      usage(2);
    }
    const char *v = argv[++i];
    if (a == "--n")
      o.n = parse_int(a, v, 1);
    else if (a == "--reps")
      o.reps = static_cast<int>(parse_int(a, v, 1));
    else if (a == "--warmup")
      o.warmup = static_cast<int>(parse_int(a, v, 0));
    else if (a == "--stream-n")
      o.stream_n = parse_int(a, v, 1);
    else if (a == "--stream-reps")
      o.stream_reps = static_cast<int>(parse_int(a, v, 1));
    else if (a == "--calls")
      o.calls = static_cast<int>(parse_int(a, v, 1));
    else if (a == "--markdown")
      o.markdown = v;
    else if (a == "--sizes") {
      if (!sweep::parse_sizes(v, o.sw.sizes)) {
        std::fprintf(stderr, "xpr_bench_cpu: --sizes wants N values >= 1 like 100,1e4, got '%s'\n",
                     v);
        usage(2);
      }
    } else if (a == "--point-time") {
      char *end = nullptr;
      o.sw.point_s = std::strtod(v, &end);
      if (*end != '\0' || !(o.sw.point_s >= 0) || o.sw.point_s > 1e4) {
        std::fprintf(stderr, "xpr_bench_cpu: --point-time wants seconds >= 0, got '%s'\n", v);
        usage(2);
      }
    } else if (a == "--min-reps")
      o.sw.min_reps = static_cast<int>(parse_int(a, v, 1));
    else if (a == "--csv")
      o.sw.csv = v;
    else if (a == "--precision" && (std::strcmp(v, "fast") == 0 || std::strcmp(v, "accurate") == 0))
      o.fast = std::strcmp(v, "fast") == 0;
    else {
      std::fprintf(stderr, "xpr_bench_cpu: unknown option %s\n", argv[i - 1]);
      usage(2);
    }
  }
  return o;
}

// ---------------------------------------------------------------------------------------------
// The machine

struct Machine {
  std::string cpu_model = "unknown";
  int cores = 1;
  std::int64_t llc_bytes = 0;
  int llc_level = 0;
};

Machine describe_machine() {
  Machine m;
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos)
        m.cpu_model = line.substr(line.find_first_not_of(" \t", colon + 1));
      break;
    }
  }
  m.cores = static_cast<int>(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)));
  // sysfs lists every cache of cpu0; the last level is the one with the highest level number.
  for (int idx = 0; idx < 16; ++idx) {
    std::string dir = fmt::format("/sys/devices/system/cpu/cpu0/cache/index{}/", idx);
    std::ifstream lvl(dir + "level"), sz(dir + "size"), type(dir + "type");
    if (!lvl || !sz) break;
    int level = 0;
    std::string size, kind;
    lvl >> level;
    sz >> size;
    type >> kind;
    if (kind == "Instruction" || size.empty()) continue;
    std::int64_t bytes = std::strtoll(size.c_str(), nullptr, 10);
    char unit = size.back();
    if (unit == 'K')
      bytes <<= 10;
    else if (unit == 'M')
      bytes <<= 20;
    else if (unit == 'G')
      bytes <<= 30;
    if (level >= m.llc_level) m.llc_level = level, m.llc_bytes = bytes;
  }
  if (m.llc_bytes == 0) {
    long l3 = sysconf(_SC_LEVEL3_CACHE_SIZE);
    if (l3 > 0) m.llc_bytes = l3, m.llc_level = 3;
  }
  return m;
}

std::string human_bytes(double b) {
  if (b >= 1024.0 * 1024 * 1024) return fmt::format("{:.2f} GiB", b / (1024.0 * 1024 * 1024));
  if (b >= 1024.0 * 1024) return fmt::format("{:.1f} MiB", b / (1024.0 * 1024));
  if (b >= 1024.0) return fmt::format("{:.1f} KiB", b / 1024.0);
  return fmt::format("{:.0f} B", b);
}

/// Which libm functions the hand-written loops call through glibc's libmvec vector variants.
/// The vectorizer's choice is visible in this executable's dynamic symbols: a libmvec variant
/// is imported as _ZGV<isa><mask><lanes><args>_<name> (the x86 vector function ABI). Nothing
/// else in the bench is built with -fveclib, so every such import comes from hand_loops.cpp.
std::set<std::string> libmvec_imports() {
  std::set<std::string> out;
  int fd = ::open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || st.st_size < static_cast<off_t>(sizeof(Elf64_Ehdr))) {
    ::close(fd);
    return out;
  }
  const std::size_t size = static_cast<std::size_t>(st.st_size);
  void *map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) return out;
  const auto *base = static_cast<const unsigned char *>(map);
  auto in_file = [&](std::uint64_t off, std::uint64_t len) {
    return off <= size && len <= size - off;
  };
  Elf64_Ehdr eh;
  std::memcpy(&eh, base, sizeof eh);
  if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 && eh.e_ident[EI_CLASS] == ELFCLASS64 &&
      eh.e_shentsize == sizeof(Elf64_Shdr) &&
      in_file(eh.e_shoff, std::uint64_t(eh.e_shnum) * sizeof(Elf64_Shdr))) {
    const auto *sh = reinterpret_cast<const Elf64_Shdr *>(base + eh.e_shoff);
    for (int i = 0; i < eh.e_shnum; ++i) {
      if (sh[i].sh_type != SHT_DYNSYM || sh[i].sh_link >= eh.e_shnum) continue;
      const Elf64_Shdr &strtab = sh[sh[i].sh_link];
      if (!in_file(sh[i].sh_offset, sh[i].sh_size) || !in_file(strtab.sh_offset, strtab.sh_size))
        continue;
      const auto *syms = reinterpret_cast<const Elf64_Sym *>(base + sh[i].sh_offset);
      const char *strs = reinterpret_cast<const char *>(base + strtab.sh_offset);
      for (std::size_t k = 0; k < sh[i].sh_size / sizeof(Elf64_Sym); ++k) {
        if (syms[k].st_shndx != SHN_UNDEF || syms[k].st_name >= strtab.sh_size) continue;
        std::string_view name(strs + syms[k].st_name,
                              strnlen(strs + syms[k].st_name, strtab.sh_size - syms[k].st_name));
        if (name.rfind("_ZGV", 0) != 0) continue;
        auto us = name.find('_', 4);
        if (us != std::string_view::npos) out.emplace(name.substr(us + 1));
      }
    }
  }
  ::munmap(map, size);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Buffers and timing

struct FreeDeleter {
  void operator()(float *p) const { std::free(p); }
};
using Buffer = std::unique_ptr<float[], FreeDeleter>;

Buffer allocate(std::int64_t n) {
  // 2 MiB alignment lets the kernel back big arrays with huge pages; 64 B would do otherwise.
  const std::size_t align =
      std::size_t(n) * sizeof(float) >= (std::size_t(8) << 20) ? (2u << 20) : 64u;
  std::size_t bytes = (std::size_t(n) * sizeof(float) + align - 1) / align * align;
  auto *p = static_cast<float *>(std::aligned_alloc(align, bytes));
  if (!p) {
    std::fprintf(stderr, "xpr_bench_cpu: cannot allocate %s\n", human_bytes(double(bytes)).c_str());
    std::exit(1);
  }
  return Buffer(p);
}

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

/// Per-run times in seconds of `warmup` untimed then `reps` timed calls of f.
std::vector<double> time_runs(const std::function<void()> &f, int warmup, int reps) {
  for (int i = 0; i < warmup; ++i)
    f();
  std::vector<double> t;
  t.reserve(reps);
  for (int i = 0; i < reps; ++i) {
    auto t0 = Clock::now();
    f();
    t.push_back(seconds_since(t0));
  }
  return t;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

// ---------------------------------------------------------------------------------------------
// Checking xpr against the hand loop

struct Tolerance {
  double rtol, atol; // |xpr - hand| <= atol + rtol * |hand|
};

struct Check {
  std::int64_t bad = 0;
  std::int64_t first_bad = -1;
  double worst = 0; // max over elements of |xpr - hand| / (atol + rtol*|hand|); <= 1 passes
  float got = 0, want = 0;
};

void check_into(Check &c, const float *got, const float *want, std::int64_t n, Tolerance tol) {
  for (std::int64_t i = 0; i < n; ++i) {
    const double g = got[i], w = want[i];
    double ratio;
    if (std::isnan(g) || std::isnan(w))
      ratio = std::isnan(g) && std::isnan(w) ? 0.0 : INFINITY;
    else if (std::isinf(g) || std::isinf(w))
      ratio = g == w ? 0.0 : INFINITY;
    else
      ratio = std::fabs(g - w) / (tol.atol + tol.rtol * std::fabs(w));
    if (ratio > c.worst || std::isnan(ratio)) c.worst = ratio;
    if (!(ratio <= 1.0)) {
      if (c.bad++ == 0) c.first_bad = i, c.got = got[i], c.want = want[i];
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The benchmarked expressions

enum class Bound { Memory, Compute };

struct Case {
  std::string name;    // as shown in the table
  bool is_expr = true; // the name is xpr code (markdown shows it as code)
  std::string script;  // xpr script text (inputs, params, outputs)
  std::vector<std::string> inputs, params, outputs;
  std::vector<double> param_values;
  std::vector<std::pair<float, float>> ranges; // per input: uniform [lo, hi)
  Bound bound;
  Tolerance tol;
  std::string suite; // the sweep report's group: elementwise, transcendental, blackscholes
  // The hand loop: inputs, params, outputs.
  std::function<void(const std::vector<const float *> &, const std::vector<float *> &,
                     std::int64_t)>
      hand;
  // The same with Eigen, into the outputs; `scratch` holds eigen_scratch * n floats. Empty when
  // the bench was built without Eigen.
  std::function<void(const std::vector<const float *> &, const std::vector<float *> &,
                     float *scratch, std::int64_t)>
      eigen;
  int eigen_scratch = 0;
};

std::string read_file(const std::string &path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    std::fprintf(stderr, "xpr_bench_cpu: cannot read %s\n", path.c_str());
    std::exit(1);
  }
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

/// Wraps an expression over f32 arrays a, b, c, ... into a script with one output `out`.
std::string expr_script(const std::vector<std::string> &inputs, const std::string &expr) {
  std::string s;
  for (const auto &in : inputs)
    s += fmt::format("input {}: f32[n]\n", in);
  s += fmt::format("output out = {}\n", expr);
  return s;
}

std::vector<Case> make_cases() {
  const Tolerance arith{1e-5, 1e-5};  // only rounding (FMA contraction) may differ
  const Tolerance transc{2e-5, 1e-6}; // two accurate f32 math libraries, a few ULP apart
  const Tolerance bs{1e-4, 1e-3};     // prices up to ~100, with cancellation in call/put
  const std::pair<float, float> unit{-2.0f, 2.0f};
  std::vector<Case> cs;
  using One = std::function<void(const std::vector<const float *> &, float *, std::int64_t)>;
  auto one = [&](std::string expr, std::vector<std::string> ins, Bound b, Tolerance tol, One f,
                 [[maybe_unused]] One eigen) {
    Case c;
    c.name = expr;
    c.script = expr_script(ins, expr);
    c.inputs = ins;
    c.outputs = {"out"};
    c.ranges.assign(ins.size(), unit);
    c.bound = b;
    c.tol = tol;
    c.suite = b == Bound::Memory ? "elementwise" : "transcendental";
    c.hand = [f](const std::vector<const float *> &in, const std::vector<float *> &out,
                 std::int64_t n) { f(in, out[0], n); };
#if XPR_BENCH_HAVE_EIGEN
    c.eigen = [eigen](const std::vector<const float *> &in, const std::vector<float *> &out,
                      float *, std::int64_t n) { eigen(in, out[0], n); };
#endif
    cs.push_back(std::move(c));
  };
#if XPR_BENCH_HAVE_EIGEN
#define XPR_BENCH_EIGEN_CALL(...) [](auto &in, float *o, std::int64_t n) { __VA_ARGS__; }
#else
#define XPR_BENCH_EIGEN_CALL(...) One()
#endif
  one(
      "a + 2.5*b", {"a", "b"}, Bound::Memory, arith,
      [](auto &in, float *o, std::int64_t n) { hand::add_scaled(in[0], in[1], o, n); },
      XPR_BENCH_EIGEN_CALL(eig::add_scaled(in[0], in[1], o, n)));
  one(
      "((a*0.5 + b)*a - 1.0)*b + c", {"a", "b", "c"}, Bound::Memory, arith,
      [](auto &in, float *o, std::int64_t n) { hand::poly(in[0], in[1], in[2], o, n); },
      XPR_BENCH_EIGEN_CALL(eig::poly(in[0], in[1], in[2], o, n)));
  one(
      "exp(-a*a)*sin(b) + log1p(c*c)", {"a", "b", "c"}, Bound::Compute, transc,
      [](auto &in, float *o, std::int64_t n) { hand::transcendental(in[0], in[1], in[2], o, n); },
      XPR_BENCH_EIGEN_CALL(eig::transcendental(in[0], in[1], in[2], o, n)));
  one(
      "1/(1+exp(-a))", {"a"}, Bound::Compute, transc,
      [](auto &in, float *o, std::int64_t n) { hand::sigmoid(in[0], o, n); },
      XPR_BENCH_EIGEN_CALL(eig::sigmoid(in[0], o, n)));
  one(
      "where(a > b, a*a, b - c)", {"a", "b", "c"}, Bound::Memory, arith,
      [](auto &in, float *o, std::int64_t n) { hand::select_where(in[0], in[1], in[2], o, n); },
      XPR_BENCH_EIGEN_CALL(eig::select_where(in[0], in[1], in[2], o, n)));
#undef XPR_BENCH_EIGEN_CALL

  Case b;
  b.name = "Black-Scholes (examples/blackscholes.xpr)";
  b.is_expr = false;
  b.script = read_file(std::string(XPR_BENCH_EXAMPLES_DIR) + "/blackscholes.xpr");
  b.inputs = {"S", "K", "T"};
  b.params = {"r", "v"};
  b.param_values = {0.05, 0.2};
  b.outputs = {"call", "put"};
  // The classic ranges (PARSEC blackscholes): spot 5..30, strike 1..100, expiry 0.25..10 years.
  b.ranges = {{5.0f, 30.0f}, {1.0f, 100.0f}, {0.25f, 10.0f}};
  b.bound = Bound::Compute;
  b.tol = bs;
  b.suite = "blackscholes";
  b.hand = [](const std::vector<const float *> &in, const std::vector<float *> &out,
              std::int64_t n) {
    hand::blackscholes(in[0], in[1], in[2], 0.05f, 0.2f, out[0], out[1], n);
  };
#if XPR_BENCH_HAVE_EIGEN
  b.eigen = [](const std::vector<const float *> &in, const std::vector<float *> &out,
               float *scratch, std::int64_t n) {
    eig::blackscholes(in[0], in[1], in[2], 0.05f, 0.2f, out[0], out[1], scratch, n);
  };
  b.eigen_scratch = 3;
#endif
  cs.push_back(std::move(b));
  return cs;
}

struct Row {
  std::string name;
  bool is_expr = false;
  Bound bound;
  int bytes_per_elem;
  double xpr_s, hand_s;
  Check check;
  std::string error; // xpr threw
};

struct CallRow {
  std::string what;
  std::int64_t n;
  double median_us, p10_us, p90_us;
};

struct Results {
  Machine machine;
  Options opt;
  int omp_threads = 0, xpr_threads = 0;
  std::int64_t stream_n = 0;
  double stream_gbs = 0;
  double triad_n_gbs = 0; // the same triad at the expressions' N (in cache when N is small)
  std::vector<Row> rows;
  std::vector<CallRow> calls;
  std::set<std::string> vectorized;
  std::string date;
};

// ---------------------------------------------------------------------------------------------
// STREAM triad

/// Best-of-`reps` GB/s of the triad over arrays of n floats, counting 3 x 4 bytes per element
/// (STREAM's convention: the write-allocate read of `a` is not counted, here or for xpr).
double triad_gbs(std::int64_t n, int reps) {
  Buffer a = allocate(n), b = allocate(n), c = allocate(n);
  hand::fill_uniform(a.get(), n, 1, 0.0f, 1.0f);
  hand::fill_uniform(b.get(), n, 2, 0.0f, 1.0f);
  hand::fill_uniform(c.get(), n, 3, 0.0f, 1.0f);
  const float s = 3.0f;
  hand::triad(a.get(), b.get(), c.get(), s, n); // one untimed pass, as STREAM does
  double best = INFINITY;
  for (int i = 0; i < reps; ++i) {
    auto t0 = Clock::now();
    hand::triad(a.get(), b.get(), c.get(), s, n);
    best = std::min(best, seconds_since(t0));
  }
  // Verify a sample so the number cannot come from a loop that did nothing.
  for (std::int64_t i = 0; i < n; i += std::max<std::int64_t>(1, n / 1000)) {
    if (a[i] != b[i] + s * c[i] && std::fabs(a[i] - (b[i] + s * c[i])) > 1e-6f) {
      std::fprintf(stderr, "xpr_bench_cpu: STREAM triad result wrong at %lld\n", (long long)i);
      std::exit(1);
    }
  }
  return 3.0 * sizeof(float) * double(n) / best / 1e9;
}

void run_stream(Results &r) {
  std::int64_t n = r.opt.stream_n;
  if (n == 0) {
    // STREAM's rule: each array at least 4x the size of the last-level cache.
    const std::int64_t llc = std::max<std::int64_t>(r.machine.llc_bytes, 8 << 20);
    n = 4 * llc / std::int64_t(sizeof(float));
  }
  r.stream_n = n;
  r.stream_gbs = triad_gbs(n, r.opt.stream_reps);
  r.triad_n_gbs = triad_gbs(r.opt.n, std::max(r.opt.reps, r.opt.stream_reps));
}

// ---------------------------------------------------------------------------------------------
// xpr

xpr::Array view_of(float *p, std::int64_t n) { return xpr::view(p, xpr::f32, {n}); }

Row run_case(xpr::Context &ctx, const Case &c, const Options &o) {
  const std::int64_t n = o.n;
  Row row;
  row.name = c.name;
  row.is_expr = c.is_expr;
  row.bound = c.bound;
  row.bytes_per_elem = int(sizeof(float) * (c.inputs.size() + c.outputs.size()));

  std::vector<Buffer> in, hand_out, xpr_out;
  std::vector<const float *> in_p;
  std::vector<float *> hand_p, xpr_p;
  for (std::size_t i = 0; i < c.inputs.size(); ++i) {
    in.push_back(allocate(n));
    hand::fill_uniform(in.back().get(), n, 100 + i, c.ranges[i].first, c.ranges[i].second);
    in_p.push_back(in.back().get());
  }
  for (std::size_t i = 0; i < c.outputs.size(); ++i) {
    hand_out.push_back(allocate(n));
    xpr_out.push_back(allocate(n));
    // First touch by the parallel fill, so neither side pays for page faults when timed.
    hand::fill_uniform(hand_out.back().get(), n, 7, 0.0f, 0.0f);
    hand::fill_uniform(xpr_out.back().get(), n, 7, 0.0f, 0.0f);
    hand_p.push_back(hand_out.back().get());
    xpr_p.push_back(xpr_out.back().get());
  }

  // The hand loop first: its results are the reference.
  row.hand_s = median(time_runs([&] { c.hand(in_p, hand_p, n); }, o.warmup, o.reps));

  try {
    xpr::Program prog = ctx.compile(c.script);
    xpr::Inputs inputs;
    xpr::Outputs outputs;
    xpr::Params params;
    for (std::size_t i = 0; i < c.inputs.size(); ++i)
      inputs.emplace(c.inputs[i], view_of(in[i].get(), n));
    for (std::size_t i = 0; i < c.params.size(); ++i)
      params.emplace(c.params[i], xpr::Scalar(c.param_values[i]));
    for (std::size_t i = 0; i < c.outputs.size(); ++i)
      outputs.emplace(c.outputs[i], view_of(xpr_p[i], n));
    auto once = [&] { prog.run_into(inputs, outputs, params); };
    row.xpr_s = median(time_runs(once, o.warmup, o.reps));
    for (std::size_t i = 0; i < c.outputs.size(); ++i)
      check_into(row.check, xpr_p[i], hand_p[i], n, c.tol);
  } catch (const xpr::Error &e) {
    row.error = e.what();
    row.xpr_s = NAN;
  }
  return row;
}

std::vector<double> time_calls(const std::function<void()> &f, int calls) {
  for (int i = 0; i < std::min(calls, 100); ++i)
    f(); // compile, fill caches, wake threads
  std::vector<double> t;
  t.reserve(calls);
  for (int i = 0; i < calls; ++i) {
    auto t0 = Clock::now();
    f();
    t.push_back(seconds_since(t0) * 1e6);
  }
  return t;
}

CallRow summarize_calls(std::string what, std::int64_t n, std::vector<double> us) {
  std::sort(us.begin(), us.end());
  auto at = [&](double q) {
    return us[std::min(us.size() - 1, std::size_t(q * double(us.size())))];
  };
  return {std::move(what), n, median(us), at(0.10), at(0.90)};
}

void run_call_overhead(xpr::Context &ctx, Results &r) {
  for (std::int64_t n : {std::int64_t(1000), std::int64_t(100)}) {
    Buffer a = allocate(n), b = allocate(n), out = allocate(n), ref = allocate(n);
    hand::fill_uniform(a.get(), n, 11, -2.0f, 2.0f);
    hand::fill_uniform(b.get(), n, 12, -2.0f, 2.0f);
    for (std::int64_t i = 0; i < n; ++i)
      ref[i] = a[i] + 2.5f * b[i];
    xpr::Array A = view_of(a.get(), n), B = view_of(b.get(), n);

    xpr::Array y;
    auto ev = time_calls([&] { y = ctx.eval("a + 2.5*b", {{"a", A}, {"b", B}}); }, r.opt.calls);
    r.calls.push_back(summarize_calls("ctx.eval(\"a + 2.5*b\", ...)", n, std::move(ev)));
    Check c;
    if (y.dtype() != xpr::f32 || y.size() != n)
      c.bad = 1;
    else
      check_into(c, y.data_as<float>(), ref.get(), n, {1e-5, 1e-5});

    xpr::Program p = ctx.compile(expr_script({"a", "b"}, "a + 2.5*b"));
    xpr::Inputs inputs{{"a", A}, {"b", B}};
    xpr::Outputs outputs{{"out", view_of(out.get(), n)}};
    xpr::Params params;
    auto ru = time_calls([&] { p.run_into(inputs, outputs, params); }, r.opt.calls);
    r.calls.push_back(summarize_calls("program.run_into(...)", n, std::move(ru)));
    check_into(c, out.get(), ref.get(), n, {1e-5, 1e-5});
    if (c.bad) {
      std::fprintf(stderr, "xpr_bench_cpu: call-overhead results wrong at n=%lld\n", (long long)n);
      Row wrong;
      wrong.name = fmt::format("call overhead, n={}", n);
      wrong.check = c;
      wrong.bound = Bound::Memory;
      wrong.xpr_s = wrong.hand_s = NAN;
      wrong.bytes_per_elem = 12;
      r.rows.push_back(wrong);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Reporting

const char *kBegin = "<!-- xpr_bench_cpu:begin -->";
const char *kEnd = "<!-- xpr_bench_cpu:end -->";

std::string fmt_ms(double s) { return std::isnan(s) ? "-" : fmt::format("{:.3f}", s * 1e3); }

struct Derived {
  double xpr_gbs, hand_gbs, frac, frac_n, ratio;
  bool ok;            // the results matched
  bool target_met;    // the target for this kind of expression
  std::string target; // how the target reads
};

Derived derive(const Results &r, const Row &row) {
  Derived d;
  const double bytes = double(row.bytes_per_elem) * double(r.opt.n);
  d.xpr_gbs = bytes / row.xpr_s / 1e9;
  d.hand_gbs = bytes / row.hand_s / 1e9;
  d.frac = d.xpr_gbs / r.stream_gbs;
  d.frac_n = d.xpr_gbs / r.triad_n_gbs;
  d.ratio = row.xpr_s / row.hand_s;
  d.ok = row.error.empty() && row.check.bad == 0;
  if (row.bound == Bound::Memory) {
    d.target = ">= 90% of triad";
    d.target_met = d.ok && d.frac >= 0.90;
  } else {
    d.target = "xpr/hand <= 1";
    d.target_met = d.ok && d.ratio <= 1.0;
  }
  return d;
}

std::string check_text(const Row &row) {
  if (!row.error.empty()) return "xpr error";
  if (row.check.bad) return fmt::format("WRONG ({} elems)", row.check.bad);
  return fmt::format("ok ({:.2g})", row.check.worst);
}

std::string vectorized_text(const Results &r) {
  // The libm functions the hand loops call, and whether each became a libmvec call.
  std::string s;
  for (const char *f : {"expf", "sinf", "log1pf", "logf", "erfcf"}) {
    if (!s.empty()) s += ", ";
    s += fmt::format("{} {}", f, r.vectorized.count(f) ? "libmvec" : "scalar");
  }
  return s;
}

bool fits_llc(const Results &r) {
  // The smallest working set among the cases: two f32 arrays of n.
  return r.machine.llc_bytes > 0 && 2.0 * 4 * double(r.opt.n) < double(r.machine.llc_bytes);
}

void print_text(const Results &r) {
  const Machine &m = r.machine;
  fmt::print("xpr_bench_cpu — {}\n", r.date);
  fmt::print("machine: {}, {} cores, last-level cache L{} {}\n", m.cpu_model, m.cores, m.llc_level,
             human_bytes(double(m.llc_bytes)));
  fmt::print("build: {} (xpr library); hand loops: clang {} {}\n", XPR_BENCH_BUILD_TYPE,
             __clang_version__, XPR_BENCH_HAND_FLAGS);
  fmt::print("hand loops' libm calls: {}\n", vectorized_text(r));
  fmt::print("threads: OpenMP {}, xpr {}; xpr precision: {}\n", r.omp_threads, r.xpr_threads,
             r.opt.fast ? "fast" : "accurate");
  fmt::print("\nSTREAM triad (OpenMP, f32, 3 arrays of {} = {} each, best of {}): {:.2f} GB/s\n",
             r.stream_n, human_bytes(4.0 * double(r.stream_n)), r.opt.stream_reps, r.stream_gbs);
  fmt::print("the same triad at N = {} (\"triad@N\"): {:.2f} GB/s\n", r.opt.n, r.triad_n_gbs);
  fmt::print("\nf32, N = {}, median of {} runs after {} warm-up; bytes = inputs read + outputs "
             "written\n",
             r.opt.n, r.opt.reps, r.opt.warmup);
  if (fits_llc(r))
    fmt::print("note: these arrays fit in the last-level cache, so GB/s can exceed the triad's "
               "DRAM bandwidth\n");
  std::size_t w = 10;
  for (const Row &row : r.rows)
    w = std::max(w, row.name.size());
  fmt::print("\n{:<{}}  {:>5}  {:>9}  {:>8}  {:>7}  {:>8}  {:>9}  {:>9}  {:>8}  {:<16}  {}\n",
             "expression", w, "B/el", "xpr ms", "xpr GB/s", "%triad", "%triad@N", "hand ms",
             "hand GB/s", "xpr/hand", "check (worst)", "target");
  for (const Row &row : r.rows) {
    Derived d = derive(r, row);
    fmt::print("{:<{}}  {:>5}  {:>9}  {:>8.2f}  {:>6.1f}%  {:>7.1f}%  {:>9}  {:>9.2f}  {:>8.2f}  "
               "{:<16}  {} {}\n",
               row.name, w, row.bytes_per_elem, fmt_ms(row.xpr_s), d.xpr_gbs, 100 * d.frac,
               100 * d.frac_n, fmt_ms(row.hand_s), d.hand_gbs, d.ratio, check_text(row), d.target,
               d.target_met ? "MET" : "missed");
  }
  for (const Row &row : r.rows) {
    if (!row.error.empty())
      fmt::print("\n{}: xpr failed:\n{}\n", row.name, row.error);
    else if (row.check.bad)
      fmt::print("\n{}: {} elements differ from the hand loop; first at [{}]: xpr {} vs hand {}\n",
                 row.name, row.check.bad, row.check.first_bad, row.check.got, row.check.want);
  }
  fmt::print("\ncall overhead (a + 2.5*b, f32), {} calls, per call:\n", r.opt.calls);
  fmt::print("{:<36}  {:>6}  {:>10}  {:>8}  {:>8}  {}\n", "call", "N", "median µs", "p10 µs",
             "p90 µs", "target (N=1000)");
  for (const CallRow &c : r.calls)
    fmt::print("{:<36}  {:>6}  {:>10.2f}  {:>8.2f}  {:>8.2f}  {}\n", c.what, c.n, c.median_us,
               c.p10_us, c.p90_us,
               c.n == 1000 ? (c.median_us <= 2.0 ? "<= 2 µs MET" : "<= 2 µs missed") : "");
}

std::string markdown(const Results &r) {
  const Machine &m = r.machine;
  std::string s;
  auto out = [&](std::string line) { s += line + "\n"; };
  out(fmt::format("Measured {} by `xpr_bench_cpu{}{}`.", r.date,
                  r.opt.n == 10'000'000 ? "" : fmt::format(" --n {}", r.opt.n),
                  r.opt.fast ? " --precision fast" : ""));
  out("");
  out(fmt::format("- machine: {}, {} cores, last-level cache L{} {}", m.cpu_model, m.cores,
                  m.llc_level, human_bytes(double(m.llc_bytes))));
  out(fmt::format("- xpr library build: {}; hand loops: clang {}, `{}`", XPR_BENCH_BUILD_TYPE,
                  __clang_version__, XPR_BENCH_HAND_FLAGS));
  out(fmt::format("- hand loops' libm calls after vectorization: {}", vectorized_text(r)));
  out(fmt::format("- threads: OpenMP {}, xpr {}; xpr precision: {}", r.omp_threads, r.xpr_threads,
                  r.opt.fast ? "fast" : "accurate"));
  out(fmt::format("- STREAM triad (OpenMP, {} threads, f32, 3 arrays of {} each, best of {}): "
                  "**{:.2f} GB/s**",
                  r.omp_threads, human_bytes(4.0 * double(r.stream_n)), r.opt.stream_reps,
                  r.stream_gbs));
  out(fmt::format("- the same triad at N = {} (\"triad@N\"): {:.2f} GB/s", r.opt.n, r.triad_n_gbs));
  out(fmt::format("- expressions: f32, N = {}, median of {} runs after {} warm-up runs{}", r.opt.n,
                  r.opt.reps, r.opt.warmup,
                  fits_llc(r) ? " (these arrays fit in the last-level cache)" : ""));
  out("");
  out("| expression | bytes/elem | xpr ms | xpr GB/s | % of triad | % of triad@N | hand ms | "
      "hand GB/s | xpr/hand | check (worst err/tol) | target |");
  out("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |");
  for (const Row &row : r.rows) {
    Derived d = derive(r, row);
    out(fmt::format("| {} | {} | {} | {:.2f} | {:.1f}% | {:.1f}% | {} | {:.2f} | {:.2f} | {} | "
                    "{} {} |",
                    row.is_expr ? "`" + row.name + "`" : row.name, row.bytes_per_elem,
                    fmt_ms(row.xpr_s), d.xpr_gbs, 100 * d.frac, 100 * d.frac_n, fmt_ms(row.hand_s),
                    d.hand_gbs, d.ratio, check_text(row), d.target,
                    d.target_met ? "**met**" : "missed"));
  }
  out("");
  out(fmt::format("Call overhead, `a + 2.5*b` in f32, median of {} calls:", r.opt.calls));
  out("");
  out("| call | N | median µs | p10 µs | p90 µs | target |");
  out("| --- | ---: | ---: | ---: | ---: | --- |");
  for (const CallRow &c : r.calls)
    out(fmt::format(
        "| `{}` | {} | {:.2f} | {:.2f} | {:.2f} | {} |", c.what, c.n, c.median_us, c.p10_us,
        c.p90_us, c.n == 1000 ? (c.median_us <= 2.0 ? "<= 2 µs **met**" : "<= 2 µs missed") : "-"));
  return s;
}

/// Writes the markdown results into `path`: between the markers if the file has them (so the
/// surrounding method text survives), else appended to whatever the file holds (never replacing
/// text it did not write), else as a new file.
bool write_markdown(const std::string &path, const std::string &body) {
  std::string text;
  {
    std::ifstream f(path, std::ios::binary);
    if (f) {
      std::ostringstream ss;
      ss << f.rdbuf();
      text = ss.str();
    }
  }
  const std::string block = std::string(kBegin) + "\n" + body + kEnd;
  auto b = text.find(kBegin), e = text.find(kEnd);
  if (b != std::string::npos && e != std::string::npos && b < e)
    text = text.substr(0, b) + block + text.substr(e + std::strlen(kEnd));
  else if (!text.empty())
    text += (text.back() == '\n' ? "\n" : "\n\n") + block + "\n";
  else
    text = "# xpr CPU benchmark results\n\n" + block + "\n";
  std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!(f << text)) return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

// ---------------------------------------------------------------------------------------------
// The N sweep (--sweep)

/// Everything at one N for one case: inputs, each side's outputs, Eigen's scratch.
struct CaseBuffers {
  std::vector<Buffer> in, hand_out, xpr_out, eigen_out;
  Buffer scratch;
  std::vector<const float *> in_p;
  std::vector<float *> hand_p, xpr_p, eigen_p;

  CaseBuffers(const Case &c, std::int64_t n) {
    for (std::size_t i = 0; i < c.inputs.size(); ++i) {
      in.push_back(allocate(n));
      hand::fill_uniform(in.back().get(), n, 100 + i, c.ranges[i].first, c.ranges[i].second);
      in_p.push_back(in.back().get());
    }
    auto outs = [&](std::vector<Buffer> &b, std::vector<float *> &p) {
      for (std::size_t i = 0; i < c.outputs.size(); ++i) {
        b.push_back(allocate(n));
        hand::fill_uniform(b.back().get(), n, 7, 0.0f, 0.0f); // first touch, outside timing
        p.push_back(b.back().get());
      }
    };
    outs(hand_out, hand_p);
    outs(xpr_out, xpr_p);
    if (c.eigen) {
      outs(eigen_out, eigen_p);
      if (c.eigen_scratch > 0) {
        scratch = allocate(c.eigen_scratch * n);
        hand::fill_uniform(scratch.get(), c.eigen_scratch * n, 7, 0.0f, 0.0f);
      }
    }
  }
};

std::string check_word(const Check &c) { return c.bad ? "WRONG" : "ok"; }

void print_point(const sweep::CsvRow &r, double stream_gbs) {
  const double gbs = r.bytes / r.t.median_s / 1e9;
  fmt::print("  {:<14} {:<44} N={:<10} {:<6} {:>12.3f} µs  {:>8.2f} GB/s  {:>6.1f}% STREAM  "
             "{:>7} reps  {}\n",
             r.suite, r.name.substr(0, 44), r.n, r.impl, r.t.median_s * 1e6, gbs,
             100 * gbs / stream_gbs, r.t.reps, r.check);
  std::fflush(stdout);
}

int run_sweep(Results &r) {
  const Options &o = r.opt;
  sweep::Options sw = o.sw;
  if (sw.sizes.empty()) sw.sizes = sweep::default_sizes();
  sweep::CsvWriter csv;
  if (!o.sw.csv.empty() && !csv.open(o.sw.csv)) {
    std::fprintf(stderr, "xpr_bench_cpu: cannot write %s\n", o.sw.csv.c_str());
    return 1;
  }

  xpr::Options xo;
  xo.precision = o.fast ? xpr::Precision::Fast : xpr::Precision::Accurate;
  xpr::Context ctx(xo);
  xpr::Options xo1 = xo;
  xo1.threads = 1;
  xpr::Context ctx1(xo1);
  r.xpr_threads = ctx.threads();

  // STREAM at DRAM size first: the reference every fraction in the report is taken against.
  std::int64_t sn = o.stream_n;
  if (sn == 0)
    sn = 4 * std::max<std::int64_t>(r.machine.llc_bytes, 8 << 20) / std::int64_t(sizeof(float));
  r.stream_n = sn;
  r.stream_gbs = triad_gbs(sn, o.stream_reps);

  const Machine &m = r.machine;
  if (csv) {
    csv.meta("program", "xpr_bench_cpu --sweep");
    csv.meta("date", r.date);
    csv.meta("machine", fmt::format("{}, {} cores, last-level cache L{} {}", m.cpu_model, m.cores,
                                    m.llc_level, human_bytes(double(m.llc_bytes))));
    csv.meta("llc_bytes", std::to_string(m.llc_bytes));
    csv.meta("xpr_build", XPR_BENCH_BUILD_TYPE);
    csv.meta("xpr_threads", std::to_string(ctx.threads()));
    csv.meta("xpr_precision", o.fast ? "fast" : "accurate");
    csv.meta("hand_flags", fmt::format("clang {} {}", __clang_version__, XPR_BENCH_HAND_FLAGS));
    csv.meta("hand_threads", std::to_string(r.omp_threads));
    csv.meta("hand_libm", vectorized_text(r));
#if XPR_BENCH_HAVE_EIGEN
    csv.meta("eigen",
             fmt::format("Eigen {}; {}; 1 thread", eig::describe(), XPR_BENCH_EIGEN_FLAGS));
#else
    csv.meta("eigen", "not built (no Eigen3 found at configure time)");
#endif
    csv.meta("timing", fmt::format("median of >= {} runs aiming at {} s per point, after >= {} s "
                                   "warm-up",
                                   sw.min_reps, sw.point_s, sw.warm_s));
    csv.meta("stream_gbs", fmt::format("{:.4f}", r.stream_gbs));
    csv.meta("stream_n", std::to_string(sn));
  }
  sweep::CsvRow srow;
  srow.suite = "stream";
  srow.name = "triad (DRAM)";
  srow.impl = "stream";
  srow.n = sn;
  srow.threads = r.omp_threads;
  srow.stat = "best";
  srow.t.median_s = srow.t.p10_s = srow.t.p90_s = 12.0 * double(sn) / (r.stream_gbs * 1e9);
  srow.t.reps = o.stream_reps;
  srow.bytes = 12.0 * double(sn);
  if (csv) csv.row(srow);
  fmt::print("xpr_bench_cpu --sweep — {}\nmachine: {}, {} cores, L{} {}\n", r.date, m.cpu_model,
             m.cores, m.llc_level, human_bytes(double(m.llc_bytes)));
  fmt::print("STREAM triad, 3 arrays of {} floats, best of {}: {:.2f} GB/s\n", sn, o.stream_reps,
             r.stream_gbs);
#if XPR_BENCH_HAVE_EIGEN
  fmt::print("Eigen {} ({}), one thread\n", eig::describe(), XPR_BENCH_EIGEN_FLAGS);
#else
  fmt::print("Eigen: not built\n");
#endif
  fmt::print("threads: xpr {}, hand loops (OpenMP) {}\n\n", ctx.threads(), r.omp_threads);

  const std::vector<Case> cases = make_cases();
  // One compile per case and context: the scripts' dims are symbols, so one program serves all N.
  std::vector<xpr::Program> progs, progs1;
  std::vector<std::string> compile_errors(cases.size());
  for (std::size_t k = 0; k < cases.size(); ++k) {
    try {
      progs.push_back(ctx.compile(cases[k].script));
      progs1.push_back(ctx1.compile(cases[k].script));
    } catch (const xpr::Error &e) {
      compile_errors[k] = e.what();
      progs.emplace_back();
      progs1.emplace_back();
    }
  }

  bool all_ok = true;
  for (std::int64_t n : sw.sizes) {
    {
      // The triad at this N, timed like everything else (median): the like-for-like bandwidth
      // when the arrays fit in a cache.
      Buffer a = allocate(n), b = allocate(n), c = allocate(n);
      hand::fill_uniform(a.get(), n, 1, 0.0f, 1.0f);
      hand::fill_uniform(b.get(), n, 2, 0.0f, 1.0f);
      hand::fill_uniform(c.get(), n, 3, 0.0f, 1.0f);
      sweep::CsvRow t{"stream", "triad@N", "hand", n, r.omp_threads};
      t.t = sweep::time_point([&] { hand::triad(a.get(), b.get(), c.get(), 3.0f, n); }, sw);
      t.bytes = 12.0 * double(n);
      print_point(t, r.stream_gbs);
      if (csv) csv.row(t);
    }
    for (std::size_t k = 0; k < cases.size(); ++k) {
      const Case &c = cases[k];
      CaseBuffers buf(c, n);
      const double bytes = 4.0 * double(c.inputs.size() + c.outputs.size()) * double(n);
      auto emit = [&](const char *impl, int threads, const sweep::Timing &t, std::string check) {
        sweep::CsvRow row{c.suite, c.name, impl, n, threads};
        row.t = t;
        row.bytes = bytes;
        row.check = std::move(check);
        print_point(row, r.stream_gbs);
        if (csv) csv.row(row);
      };
      emit("hand", r.omp_threads, sweep::time_point([&] { c.hand(buf.in_p, buf.hand_p, n); }, sw),
           "-");

      auto run_xpr = [&](xpr::Program &p, const char *impl, int threads) {
        if (!compile_errors[k].empty()) {
          std::fprintf(stderr, "xpr_bench_cpu: %s: xpr failed:\n%s\n", c.name.c_str(),
                       compile_errors[k].c_str());
          all_ok = false;
          return;
        }
        xpr::Inputs inputs;
        xpr::Outputs outputs;
        xpr::Params params;
        for (std::size_t i = 0; i < c.inputs.size(); ++i)
          inputs.emplace(c.inputs[i], view_of(buf.in[i].get(), n));
        for (std::size_t i = 0; i < c.params.size(); ++i)
          params.emplace(c.params[i], xpr::Scalar(c.param_values[i]));
        for (std::size_t i = 0; i < c.outputs.size(); ++i) {
          hand::fill_uniform(buf.xpr_p[i], n, 7, 0.0f, 0.0f); // no stale result can pass
          outputs.emplace(c.outputs[i], view_of(buf.xpr_p[i], n));
        }
        try {
          sweep::quiesce_openmp(); // the fill above woke OpenMP's workers
          sweep::Timing t = sweep::time_point([&] { p.run_into(inputs, outputs, params); }, sw);
          Check chk;
          for (std::size_t i = 0; i < c.outputs.size(); ++i)
            check_into(chk, buf.xpr_p[i], buf.hand_p[i], n, c.tol);
          if (chk.bad) {
            all_ok = false;
            std::fprintf(stderr,
                         "xpr_bench_cpu: %s (%s), N=%lld: %lld elements differ from the hand "
                         "loop; first at [%lld]: %.9g vs %.9g\n",
                         c.name.c_str(), impl, (long long)n, (long long)chk.bad,
                         (long long)chk.first_bad, chk.got, chk.want);
          }
          emit(impl, threads, t, check_word(chk));
        } catch (const xpr::Error &e) {
          std::fprintf(stderr, "xpr_bench_cpu: %s, N=%lld: xpr failed:\n%s\n", c.name.c_str(),
                       (long long)n, e.what());
          all_ok = false;
        }
      };
      run_xpr(progs[k], "xpr", ctx.threads());
      run_xpr(progs1[k], "xpr-1t", 1);

      if (c.eigen) {
        sweep::quiesce_openmp();
        sweep::Timing t =
            sweep::time_point([&] { c.eigen(buf.in_p, buf.eigen_p, buf.scratch.get(), n); }, sw);
        Check chk;
        for (std::size_t i = 0; i < c.outputs.size(); ++i)
          check_into(chk, buf.eigen_p[i], buf.hand_p[i], n, c.tol);
        if (chk.bad) {
          // Eigen's math library is not xpr's to answer for, but a time for a wrong result is
          // not a time: report it and fail the run, as for xpr.
          all_ok = false;
          std::fprintf(stderr,
                       "xpr_bench_cpu: %s (Eigen), N=%lld: %lld elements differ from the hand "
                       "loop; first at [%lld]: %.9g vs %.9g\n",
                       c.name.c_str(), (long long)n, (long long)chk.bad, (long long)chk.first_bad,
                       chk.got, chk.want);
        }
        emit("eigen", 1, t, check_word(chk));
      }
    }
  }

  // Call overhead, as in the single-size mode.
  try {
    run_call_overhead(ctx, r);
  } catch (const xpr::Error &e) {
    std::fprintf(stderr, "xpr_bench_cpu: call overhead: xpr failed:\n%s\n", e.what());
    all_ok = false;
  }
  for (const Row &row : r.rows) // only call-overhead rows that were wrong land here
    all_ok = all_ok && row.error.empty() && row.check.bad == 0;
  fmt::print("\ncall overhead (a + 2.5*b, f32), {} calls:\n", o.calls);
  for (const CallRow &cr : r.calls) {
    fmt::print("  {:<36} N={:<6} median {:.2f} µs, p10 {:.2f}, p90 {:.2f}\n", cr.what, cr.n,
               cr.median_us, cr.p10_us, cr.p90_us);
    sweep::CsvRow row{"calls", cr.what, "xpr", cr.n, ctx.threads()};
    row.t.median_s = cr.median_us * 1e-6;
    row.t.p10_s = cr.p10_us * 1e-6;
    row.t.p90_s = cr.p90_us * 1e-6;
    row.t.reps = o.calls;
    row.bytes = 12.0 * double(cr.n);
    row.check = r.rows.empty() ? "ok" : "WRONG";
    if (csv) csv.row(row);
  }
  if (csv && !csv.close()) {
    std::fprintf(stderr, "xpr_bench_cpu: cannot write %s\n", o.sw.csv.c_str());
    return 1;
  }
  if (!all_ok) std::fprintf(stderr, "xpr_bench_cpu: some results were WRONG (see above)\n");
  return all_ok ? 0 : 1;
}

std::string now_text() {
  std::time_t t = std::time(nullptr);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", std::gmtime(&t));
  return buf;
}

} // namespace

int main(int argc, char **argv) {
  Results r;
  r.opt = parse_options(argc, argv);
  // Idle OpenMP workers would otherwise spin for 200 ms after each hand loop and steal the
  // cores from xpr's own threads timed right after; passive waiting costs the hand loops only
  // a thread wake-up per loop, microseconds against milliseconds. The sweep, down to N = 100,
  // cannot ignore those microseconds (sweep::configure_openmp). Before the first OpenMP call.
  if (r.opt.sweep)
    sweep::configure_openmp();
  else
    setenv("OMP_WAIT_POLICY", "passive", 0);
  r.machine = describe_machine();
  r.omp_threads = hand::num_threads();
  r.vectorized = libmvec_imports();
  r.date = now_text();

  if (r.opt.sweep) {
    try {
      return run_sweep(r);
    } catch (const xpr::Error &e) {
      std::fprintf(stderr, "xpr_bench_cpu: xpr failed:\n%s\n", e.what());
      return 1;
    }
  }

  bool all_ok = true;
  try {
    run_stream(r);
    xpr::Options xo;
    xo.precision = r.opt.fast ? xpr::Precision::Fast : xpr::Precision::Accurate;
    xpr::Context ctx(xo);
    r.xpr_threads = ctx.threads();
    for (const Case &c : make_cases()) {
      r.rows.push_back(run_case(ctx, c, r.opt));
      std::fflush(stdout);
    }
    run_call_overhead(ctx, r);
  } catch (const xpr::Error &e) {
    std::fprintf(stderr, "xpr_bench_cpu: xpr failed:\n%s\n", e.what());
    return 1;
  }
  for (const Row &row : r.rows)
    all_ok = all_ok && row.error.empty() && row.check.bad == 0;

  print_text(r);
  if (!r.opt.markdown.empty() && !write_markdown(r.opt.markdown, markdown(r))) {
    std::fprintf(stderr, "xpr_bench_cpu: cannot write %s\n", r.opt.markdown.c_str());
    return 1;
  }
  if (!all_ok) std::fprintf(stderr, "xpr_bench_cpu: some xpr results were WRONG (see above)\n");
  return all_ok ? 0 : 1;
}

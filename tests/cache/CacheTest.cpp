// tests/cache/CacheTest.cpp — the kernel cache: keys, hoisting, disk entries, threads, processes.
#include <xpr/xpr.hpp>

#include "compiler/ir/Graph.h"
#include "compiler/passes/HoistLiterals.h"
#include "runtime/DiskCache.h"
#include "runtime/Hash.h"
#include "runtime/KernelCache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace xpr;

namespace {

// A fresh, empty directory per test (and per process: ctest may run tests in parallel).
std::string fresh_dir(const std::string &name) {
  fs::path p = fs::temp_directory_path() / ("xpr-cache-test-" + std::to_string(::getpid()) + "-" + name);
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

Options disk_in(const std::string &dir) {
  Options o;
  o.cache.dir = dir;
  return o;
}
Options no_disk() {
  Options o;
  o.cache.disk = false;
  return o;
}

std::vector<fs::path> entries(const std::string &dir) {
  std::vector<fs::path> v;
  for (const auto &e : fs::directory_iterator(dir))
    if (e.path().extension() == ".xprk") v.push_back(e.path());
  std::sort(v.begin(), v.end());
  return v;
}

std::string slurp(const fs::path &p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}
void spit(const fs::path &p, const std::string &s) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f << s;
}

std::size_t compiles() { return cache_stats().compiles; }

// Runs `y = sqrt(a) * LIT - b*b` over 1000 elements; returns y[10].
double run_script(Context &ctx, const std::string &script) {
  Program p = ctx.compile(script);
  std::vector<double> a(1000, 4.0), b(1000, 0.5), y(1000);
  p.run_into({{"a", view(a.data(), f64, {1000})}, {"b", view(b.data(), f64, {1000})}},
             {{"y", view(y.data(), f64, {1000})}});
  return y[10];
}

struct Spawned {
  int status = -1;
  std::string out;
};
Spawned spawn_helper(const std::string &dir, const std::string &lit = "1.75") {
  std::string cmd = std::string(XPR_CACHE_HELPER) + " '" + dir + "' " + lit + " 2>&1";
  Spawned s;
  FILE *f = ::popen(cmd.c_str(), "r");
  if (!f) return s;
  char buf[512];
  while (std::fgets(buf, sizeof buf, f)) s.out += buf;
  s.status = ::pclose(f);
  return s;
}

// "compiles=1 disk_hits=0 ..." → the value of `name`.
long counter(const std::string &out, const std::string &name) {
  auto at = out.find(name + "=");
  if (at == std::string::npos) return -1;
  return std::stol(out.substr(at + name.size() + 1));
}

} // namespace

// ---- keys and hoisting ----

TEST(HoistLiterals, FloatLiteralsBecomeParamsAndSpecializingOnesStay) {
  ir::Graph g = ir::parse(R"(graph {
  %0 = input "in0" : f32[n]
  %1 = param "p0" : f32[]
  %2 = const 2.5 : f32[]
  %3 = mul %0, %2 : f32[n]
  %4 = const 3 : f32[]
  %5 = pow %3, %4 : f32[n]
  %6 = const 1 : f32[]
  %7 = add %5, %6 : f32[n]
  %8 = const 7 : i32[]
  %9 = const 0.1 : f32[]
  %10 = mul %7, %1 : f32[n]
  %11 = mul %10, %9 : f32[n]
  output "out0" = %11
}
)");
  passes::HoistedKernel h = passes::hoist_literals(g);
  EXPECT_EQ(ir::print(h.kernel), R"(graph {
  %0 = input "in0" : f32[n]
  %1 = param "p0" : f32[]
  %2 = param "p1" : f32[]
  %3 = mul %0, %2 : f32[n]
  %4 = const 3.0 : f32[]
  %5 = pow %3, %4 : f32[n]
  %6 = const 1.0 : f32[]
  %7 = add %5, %6 : f32[n]
  %8 = const 7 : i32[]
  %9 = param "p2" : f32[]
  %10 = mul %7, %1 : f32[n]
  %11 = mul %10, %9 : f32[n]
  output "out0" = %11
}
)");
  EXPECT_EQ(h.param_origin, (std::vector<int>{0, -1, -2}));
  ASSERT_EQ(h.literals.size(), 2u);
  EXPECT_EQ(h.literals[0].f, 2.5);
  EXPECT_EQ(h.literals[1].f, static_cast<double>(0.1f));
  ir::verify(h.kernel);
}

TEST(HoistLiterals, ExprsDifferingOnlyInLiteralsShareOneKernel) {
  Context ctx(no_disk());
  std::vector<float> a(100);
  for (int i = 0; i < 100; ++i) a[i] = static_cast<float>(i) * 0.25f;
  Inputs in{{"a", view(a.data(), f32, {100})}};
  Array y1 = ctx.eval("a * 2.5 + (a * a) * 0.3125", in);
  const std::size_t before = compiles();
  Array y2 = ctx.eval("a * 3.5 + (a * a) * 0.8125", in);
  EXPECT_EQ(compiles(), before) << "the second literal set must reuse the compiled kernel";
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(y1.data_as<float>()[i], a[i] * 2.5f + (a[i] * a[i]) * 0.3125f) << i;
    EXPECT_EQ(y2.data_as<float>()[i], a[i] * 3.5f + (a[i] * a[i]) * 0.8125f) << i;
  }
  // An integer power is a specialization: it keeps its own kernel.
  (void)ctx.eval("a * 2.5 + (a * a) ** 3.0", in);
  EXPECT_EQ(compiles(), before + 1);
}

TEST(Keys, ANewLengthNeverRecompiles) {
  Context ctx(no_disk());
  Program p = ctx.compile("input x: f32[n]\noutput y = x * x - 0.625 * x\n");
  const std::size_t before = compiles();
  for (std::int64_t n : {1, 7, 1000, 100003, 1 << 20}) {
    std::vector<float> x(static_cast<std::size_t>(n), 2.0f), y(static_cast<std::size_t>(n));
    p.run_into({{"x", view(x.data(), f32, {n})}}, {{"y", view(y.data(), f32, {n})}});
    EXPECT_EQ(y[static_cast<std::size_t>(n - 1)], 2.75f);
  }
  EXPECT_EQ(compiles(), before);
  // eval with new lengths too.
  for (std::int64_t n : {3, 5000}) {
    std::vector<float> x(static_cast<std::size_t>(n), 1.0f);
    (void)ctx.eval("x * x - 0.25 * x", {{"x", view(x.data(), f32, {n})}});
  }
  EXPECT_LE(compiles(), before + 1); // one compile at most: the eval's own program kernel
}

TEST(Keys, KeyHoldsEveryInputOfCodeGeneration) {
  auto &kc = rt::KernelCache::global();
  std::vector<cg::Layout> l{cg::Layout::Contiguous, cg::Layout::Scalar, cg::Layout::Contiguous};
  rt::SpecRef s{1, cg::Precision::Accurate, std::span(l).first(2), std::span(l).subspan(2)};
  std::string k = kc.key("graph {}\n", 0x1234, s);
  for (const char *f : {"xpr: ", "codegen: ", "llvm: 19", "target: ", "llvm-pipeline: ",
                        "precision: accurate", "rank: 1", "layouts: in=CS out=C",
                        "kernel-hash: 0000000000001234", "kernel:\ngraph {}\n"})
    EXPECT_NE(k.find(f), std::string::npos) << f << " missing in\n" << k;
  rt::SpecRef fast = s;
  fast.precision = cg::Precision::Fast;
  EXPECT_NE(kc.key("graph {}\n", 0x1234, fast), k);
}

// ---- threads ----

TEST(Concurrency, ManyThreadsCompileOneKeyOnce) {
  const std::size_t before = compiles();
  std::atomic<int> ready{0};
  std::vector<std::thread> ts;
  std::vector<double> results(12);
  for (int t = 0; t < 12; ++t)
    ts.emplace_back([&, t] {
      Context ctx(no_disk()); // separate contexts: only the process-wide table is shared
      ++ready;
      while (ready.load() < 12) std::this_thread::yield();
      results[static_cast<std::size_t>(t)] =
          run_script(ctx, "input a: f64[n]\ninput b: f64[n]\noutput y = sqrt(a) * 9.5 - b * b / 3\n");
    });
  for (auto &t : ts) t.join();
  EXPECT_EQ(compiles(), before + 1);
  for (double r : results) EXPECT_EQ(r, 2.0 * 9.5 - 0.25 / 3);
}

// ---- disk entries ----

TEST(DiskFormat, RoundTripsAndRejectsEveryCorruption) {
  const std::string key = "xpr kernel cache key\nkernel:\ngraph {}\n";
  const std::uint64_t h = rt::hash_text(key);
  const std::string payload = "\x7f" "ELF object bytes";
  const std::string e = rt::disk::encode(key, h, payload);
  auto r = rt::disk::decode(e, key, h);
  ASSERT_EQ(r.status, rt::disk::ReadStatus::Hit) << r.why;
  EXPECT_EQ(r.payload, payload);

  auto rejected = [&](std::string bytes, const std::string &why) {
    auto d = rt::disk::decode(bytes, key, h);
    EXPECT_EQ(d.status, rt::disk::ReadStatus::Rejected);
    EXPECT_NE(d.why.find(why), std::string::npos) << d.why;
  };
  // Every single flipped byte is caught.
  for (std::size_t i = 0; i < e.size(); ++i) {
    std::string c = e;
    c[i] = static_cast<char>(c[i] ^ 0x20);
    EXPECT_NE(rt::disk::decode(c, key, h).status, rt::disk::ReadStatus::Hit) << "byte " << i;
  }
  std::string flipped = e;
  flipped.back() ^= 1;
  rejected(flipped, "payload checksum mismatch");
  rejected(e.substr(0, e.size() - 3), "truncated");
  rejected(e.substr(0, 20), "truncated");
  rejected(e + "x", "padded");
  std::string version = e;
  version[8] = 2;
  rejected(version, "format version 2");
  std::string magic = e;
  magic[0] = 'Y';
  rejected(magic, "bad magic");
  rejected(rt::disk::encode("another key", rt::hash_text("another key"), payload), "another key");
}

TEST(Disk, AHitAcrossTwoProcesses) {
  const std::string dir = fresh_dir("two-processes");
  Spawned first = spawn_helper(dir);
  ASSERT_EQ(first.status, 0) << first.out;
  EXPECT_EQ(counter(first.out, "compiles"), 1) << first.out;
  EXPECT_EQ(counter(first.out, "disk_hits"), 0) << first.out;
  EXPECT_EQ(counter(first.out, "disk_writes"), 1) << first.out;
  ASSERT_EQ(entries(dir).size(), 1u);
  // Another literal: the same hoisted kernel, so the same entry.
  Spawned second = spawn_helper(dir, "-4.25");
  ASSERT_EQ(second.status, 0) << second.out;
  EXPECT_EQ(counter(second.out, "compiles"), 0) << second.out;
  EXPECT_EQ(counter(second.out, "disk_hits"), 1) << second.out;
  EXPECT_EQ(entries(dir).size(), 1u);
  fs::remove_all(dir);
}

TEST(Disk, CorruptTruncatedAndForeignEntriesAreRejectedAndRebuilt) {
  const std::string dir = fresh_dir("corrupt");
  ASSERT_EQ(spawn_helper(dir).status, 0);
  ASSERT_EQ(entries(dir).size(), 1u);
  const fs::path entry = entries(dir)[0];
  const std::string good = slurp(entry);

  auto expect_rebuilt = [&](const std::string &bad, const char *what) {
    spit(entry, bad);
    Spawned s = spawn_helper(dir); // exits 1 if a wrong result came out
    ASSERT_EQ(s.status, 0) << what << ": " << s.out;
    EXPECT_EQ(counter(s.out, "disk_rejects"), 1) << what << ": " << s.out;
    EXPECT_EQ(counter(s.out, "compiles"), 1) << what << ": " << s.out;
    EXPECT_EQ(counter(s.out, "disk_hits"), 0) << what << ": " << s.out;
    // Rebuilt: the entry is whole again and the next process loads it.
    EXPECT_EQ(slurp(entry), good) << what;
    Spawned again = spawn_helper(dir);
    EXPECT_EQ(counter(again.out, "disk_hits"), 1) << what << ": " << again.out;
  };
  std::string flipped = good;
  flipped[good.size() - 100] ^= 0x5a; // inside the object code
  expect_rebuilt(flipped, "a flipped payload byte");
  std::string key_flip = good;
  key_flip[rt::disk::kHeaderSize + 10] ^= 1; // inside the key text
  expect_rebuilt(key_flip, "a flipped key byte");
  expect_rebuilt(good.substr(0, good.size() / 2), "truncation");
  expect_rebuilt(std::string(), "an empty file");
  std::string version = good;
  version[8] = static_cast<char>(rt::disk::kFormatVersion + 1);
  expect_rebuilt(version, "a wrong format version");
  // A foreign entry: valid bytes of another key under this key's name.
  expect_rebuilt(rt::disk::encode("foreign", rt::hash_text("foreign"), "junk"), "a foreign entry");
  fs::remove_all(dir);
}

TEST(Disk, SeveralProcessesCompilingOneKey) {
  const std::string dir = fresh_dir("processes");
  std::vector<std::thread> ts;
  std::vector<Spawned> res(6);
  for (int i = 0; i < 6; ++i)
    ts.emplace_back([&, i] { res[static_cast<std::size_t>(i)] = spawn_helper(dir, std::to_string(i) + ".5"); });
  for (auto &t : ts) t.join();
  long total = 0;
  for (const Spawned &s : res) {
    ASSERT_EQ(s.status, 0) << s.out;
    EXPECT_EQ(counter(s.out, "disk_rejects"), 0) << s.out;
    total += counter(s.out, "compiles") + counter(s.out, "disk_hits");
  }
  EXPECT_EQ(total, 6);
  // One complete entry, no temporary files left behind.
  std::size_t files = 0;
  for (const auto &e : fs::directory_iterator(dir)) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 1u);
  EXPECT_EQ(counter(spawn_helper(dir).out, "disk_hits"), 1);
  fs::remove_all(dir);
}

TEST(Disk, InProcessHitAfterForgettingMemory) {
  const std::string dir = fresh_dir("in-process");
  rt::KernelCache::global().clear_memory();
  Context ctx(disk_in(dir));
  const char *s = "input a: f64[n]\ninput b: f64[n]\noutput y = sqrt(a) * 1.5 - b * b / 7\n";
  const auto c0 = cache_stats();
  EXPECT_EQ(run_script(ctx, s), 2.0 * 1.5 - 0.25 / 7);
  const auto c1 = cache_stats();
  EXPECT_EQ(c1.compiles, c0.compiles + 1);
  rt::KernelCache::global().clear_memory();
  Context fresh(disk_in(dir)); // a Context returns its own earlier Program for the same text
  Program p = fresh.compile(s);
  const auto c2 = cache_stats();
  EXPECT_EQ(c2.compiles, c1.compiles);
  EXPECT_EQ(c2.disk_hits, c1.disk_hits + 1);
  StageTimings t = p.timings();
  EXPECT_EQ(t.kernels_from_disk, 1);
  EXPECT_EQ(t.kernels_compiled, 0);
  EXPECT_GT(t.load_ms, 0);
  EXPECT_NE(p.explain_cache().find("kernel k0 [in=CC out=C accurate, rank 1, lean]: disk"),
            std::string::npos)
      << p.explain_cache();
  fs::remove_all(dir);
}

TEST(Disk, EvictsLeastRecentlyUsedEntriesToStayUnderTheBound) {
  const std::string dir = fresh_dir("evict");
  rt::KernelCache::global().clear_memory();
  // Measure one entry, then allow three.
  {
    Context probe(disk_in(dir));
    (void)probe.compile("input a: f32[n]\noutput y = a * a + sinh(a)\n");
  }
  ASSERT_EQ(entries(dir).size(), 1u);
  const auto one = fs::file_size(entries(dir)[0]);
  rt::KernelCache::global().clear_memory();
  fs::remove_all(dir);
  fs::create_directories(dir);

  Options o = disk_in(dir);
  o.cache.max_bytes = one * 3 + one / 2;
  Context ctx(o);
  const char *fns[] = {"sinh", "cosh", "asinh", "acosh", "atanh"};
  auto script = [&](int i) {
    return std::string("input a: f32[n]\noutput y = a * a + ") + fns[i] + "(a)\n";
  };
  auto age = [&](const fs::path &p, int seconds_ago) {
    struct timespec ts[2];
    ts[0].tv_sec = ts[1].tv_sec = std::time(nullptr) - seconds_ago;
    ts[0].tv_nsec = ts[1].tv_nsec = 0;
    ::utimensat(AT_FDCWD, p.c_str(), ts, 0);
  };
  std::vector<fs::path> paths;
  for (int i = 0; i < 3; ++i) {
    (void)ctx.compile(script(i));
    auto now = entries(dir);
    for (const auto &p : now)
      if (std::find(paths.begin(), paths.end(), p) == paths.end()) paths.push_back(p);
  }
  ASSERT_EQ(paths.size(), 3u);
  // Ages: sinh oldest, then cosh, then asinh; then a disk hit on sinh makes it the newest.
  age(paths[0], 300);
  age(paths[1], 200);
  age(paths[2], 100);
  rt::KernelCache::global().clear_memory();
  const auto hits = cache_stats().disk_hits;
  (void)Context(o).compile(script(0));
  EXPECT_EQ(cache_stats().disk_hits, hits + 1);
  // Two more entries: the bound holds three, so cosh and then asinh go, sinh stays.
  const auto ev = cache_stats().evictions;
  (void)ctx.compile(script(3));
  (void)ctx.compile(script(4));

  EXPECT_GE(cache_stats().evictions, ev + 2);
  auto left = entries(dir);
  std::uint64_t total = 0;
  for (const auto &p : left) total += fs::file_size(p);
  EXPECT_LE(total, o.cache.max_bytes);

  EXPECT_TRUE(fs::exists(paths[0])) << "the entry just hit must survive";
  EXPECT_FALSE(fs::exists(paths[1])) << "the least recently used entry must go";
  EXPECT_EQ(left.size(), 3u);
  fs::remove_all(dir);
}

// ---- configuration, timings, explanations ----

TEST(Keys, ACompiledTextIsReturnedFromTheContextCache) {
  Context ctx(no_disk());
  const char *s = "input a: f32[n]\noutput y = a * 0.125 - 3\n";
  Program p = ctx.compile(s);
  const std::size_t before = compiles();
  auto t0 = std::chrono::steady_clock::now();
  Program q = ctx.compile(s);
  const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(compiles(), before);
  EXPECT_EQ(q.timings().total_ms(), p.timings().total_ms()); // the very same Program
  EXPECT_LT(us, 1000.0); // a hash and a compare, not a parse (generous for loaded CI machines)
  EXPECT_NE(ctx.compile(s, "other.xpr").timings().parse_ms, 0); // the file name is part of it
}

TEST(Config, EnvironmentAndOptions) {
  const char *home = std::getenv("HOME");
  const std::string saved_home = home ? home : "";
  ::setenv("XPR_CACHE_DIR", "/tmp/xpr-env-dir", 1);
  ::unsetenv("XPR_CACHE");
  EXPECT_EQ(Context().cache_dir(), "/tmp/xpr-env-dir");
  Options o;
  o.cache.dir = "/tmp/xpr-option-dir";
  EXPECT_EQ(Context(o).cache_dir(), "/tmp/xpr-option-dir");
  ::setenv("XPR_CACHE", "0", 1);
  EXPECT_EQ(Context(o).cache_dir(), "");
  ::unsetenv("XPR_CACHE");
  ::unsetenv("XPR_CACHE_DIR");
  ::setenv("XDG_CACHE_HOME", "/tmp/xdg", 1);
  EXPECT_EQ(Context().cache_dir(), "/tmp/xdg/xpr");
  ::unsetenv("XDG_CACHE_HOME");
  ::setenv("HOME", "/tmp/home", 1);
  EXPECT_EQ(Context().cache_dir(), "/tmp/home/.cache/xpr");
  EXPECT_EQ(Context(no_disk()).cache_dir(), "");
  if (home) ::setenv("HOME", saved_home.c_str(), 1);
}

TEST(Timings, ColdCompileReportsEveryStage) {
  Context ctx(no_disk());
  Program p = ctx.compile("input a: f64[n]\noutput y = exp(a) * 0.375 + log1p(a * a)\n");
  StageTimings t = p.timings();
  EXPECT_EQ(t.kernels_compiled, 1);
  EXPECT_GT(t.parse_ms, 0);
  EXPECT_GT(t.passes_ms, 0);
  EXPECT_GT(t.mlir_build_ms, 0);
  EXPECT_GT(t.mlir_lower_ms, 0);
  EXPECT_GT(t.llvm_opt_ms, 0);
  EXPECT_GT(t.machine_code_ms, 0);
  EXPECT_GT(t.load_ms, 0);
  EXPECT_EQ(t.disk_read_ms, 0);
  EXPECT_NEAR(t.total_ms(),
              t.parse_ms + t.passes_ms + t.mlir_build_ms + t.mlir_lower_ms + t.llvm_opt_ms +
                  t.machine_code_ms + t.load_ms,
              1e-9);
  // A second program with another literal is a memory hit.
  Program q = ctx.compile("input a: f64[n]\noutput y = exp(a) * 0.875 + log1p(a * a)\n");
  EXPECT_EQ(q.timings().kernels_from_memory, 1);
  EXPECT_EQ(q.timings().kernels_compiled, 0);
}

TEST(Explain, NamesTheLevelsAndWhatDiffers) {
  const std::string dir = fresh_dir("explain");
  const char *s = "input a: f64[n]\noutput y = atan(a) * 0.75\n";
  Options acc = disk_in(dir);
  Context ctx(acc);
  Program p = ctx.compile(s);
  std::string e = p.explain_cache();
  EXPECT_NE(e.find("disk cache: " + dir), std::string::npos) << e;
  EXPECT_NE(e.find("kernel k0 [in=C out=C accurate, rank 1, lean]: compiled in"), std::string::npos) << e;
  EXPECT_NE(e.find("why: not in memory: first use in this process; on disk: no entry " + dir),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("no other disk entry holds this kernel IR"), std::string::npos) << e;
  // The same kernel in fast precision: a miss whose nearest entry differs in precision.
  Options fast = acc;
  fast.precision = Precision::Fast;
  Context fctx(fast);
  std::string f = fctx.compile(s).explain_cache();
  EXPECT_NE(f.find("fast, rank 1, lean]: compiled"), std::string::npos) << f;
  EXPECT_NE(f.find("on disk for the same kernel IR, but another precision"), std::string::npos) << f;
  // Again: a memory hit.
  EXPECT_NE(Context(acc).compile(s).explain_cache().find(": memory (already compiled or loaded"),
            std::string::npos);
  // The same Context returns the same Program, without compiling anything.
  // (Explanations look at the disk as it is now: the fast entry is a neighbour now.)
  std::string again = ctx.compile(s).explain_cache();
  EXPECT_EQ(again.substr(0, again.find("  on disk")), e.substr(0, e.find("  no other")));
  EXPECT_NE(again.find("on disk for the same kernel IR, but another precision"), std::string::npos)
      << again;
  Context off(no_disk());
  EXPECT_NE(off.compile(s).explain_cache().find(
                "disk cache: off (switched off by Options::cache.disk = false)"),
            std::string::npos);
  fs::remove_all(dir);
}

// ---- the process table's bound: machine code is freed, held Programs keep theirs ----

TEST(Memory, TheProcessTableIsBoundedAndFreesCodeNoProgramHolds) {
  rt::KernelCache &kc = rt::KernelCache::global();
  kc.clear_memory();
  kc.set_max_kernels(16);
  const std::size_t base = kc.jit().loaded_objects();
  const auto c0 = cache_stats();
  auto script = [](int depth) {
    std::string e = "a";
    for (int k = 0; k < depth; ++k) e = "sqrt(" + e + ")";
    return "input a: f64[n]\noutput y = " + e + " + 1\n";
  };
  auto run = [](const Program &p) {
    std::vector<double> a(100, 256.0), y(100);
    p.run_into({{"a", view(a.data(), f64, {100})}}, {{"y", view(y.data(), f64, {100})}});
    return y[7];
  };
  Context keep(no_disk());
  Program held = keep.compile(script(3)); // compiled first: the first to leave the table
  EXPECT_EQ(run(held), 3.0);
  for (int depth = 4; depth < 64; ++depth) {
    Context ctx(no_disk()); // its Program, and its hold on the kernel, end with the iteration
    double want = 256.0;
    for (int k = 0; k < depth; ++k) want = std::sqrt(want); // sqrt is correctly rounded
    EXPECT_EQ(run(ctx.compile(script(depth))), want + 1);
  }
  const auto c1 = cache_stats();
  EXPECT_EQ(c1.compiles, c0.compiles + 61);
  EXPECT_GE(c1.memory_evictions, c0.memory_evictions + 61 - 16);
  EXPECT_LE(kc.size(), 16u);
  // What is linked: the table's kernels plus the held Program's, nothing of the dropped ones.
  EXPECT_LE(kc.jit().loaded_objects(), base + 16 + 1);
  EXPECT_EQ(run(held), 3.0) << "a held Program's kernel must survive its eviction from the table";
  kc.set_max_kernels(0);
}

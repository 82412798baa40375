// tests/gpu/CudaTest.cpp — the cuda target through the public API: the error on machines without a
// driver or GPU, and, where a GPU is present, differential runs against the interpreter,
// determinism, transfers of strided and broadcast views, and run_into (docs/gpu.md).
#include "tests/differential/Compare.h"
#include "tests/differential/Gen.h"
#include "tests/reduce/Matrix.h"

#include "compiler/ir/Interpreter.h"
#include "frontend/Frontend.h"
#include "compiler/codegen/GpuJit.h"
#include "runtime/cuda/CudaDriver.h"

#include <xpr/xpr.hpp>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <dlfcn.h>
#include <functional>
#include <random>

namespace xpr {
namespace {

/// Why no GPU can be used here, or empty when one can. The fake driver counts as a GPU when it
/// simulates PTX (XPR_FAKE_CUDA_SIMULATE=1, the gpu.simulated ctest): the kernels' own code runs.
std::string no_gpu_reason() {
  std::string why;
  if (!rt::cuda::Driver::try_get(&why)) return why;
  const char *sim = std::getenv("XPR_FAKE_CUDA_SIMULATE");
  if (const char *f = std::getenv("XPR_EXPECT_FAKE_CUDA"); f && *f && !(sim && *sim && *sim != '0'))
    return "the driver is tests/gpu/FakeCuda.cpp";
  return {};
}

#define REQUIRE_GPU()                                                                              \
  do {                                                                                             \
    std::string why_ = no_gpu_reason();                                                            \
    if (!why_.empty()) GTEST_SKIP() << "no CUDA driver/GPU found: " << why_;                       \
  } while (0)

TEST(Cuda, TargetNamesParse) {
  EXPECT_EQ(Target::parse("cpu"), Target::cpu());
  EXPECT_EQ(Target::parse("cuda"), Target::cuda(0));
  EXPECT_EQ(Target::parse("cuda:3"), Target::cuda(3));
  EXPECT_EQ(Target::cuda(2).name(), "cuda:2");
  EXPECT_EQ(Target::cpu().name(), "cpu");
  for (const char *bad : {"gpu", "cuda:", "cuda:x", "cuda:-1", "CUDA", ""}) {
    try {
      Target::parse(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const Error &e) {
      EXPECT_EQ(e.kind(), ErrorKind::Runtime);
      EXPECT_NE(e.message().find("unknown target"), std::string::npos) << e.message();
    }
  }
}

TEST(Cuda, EmitPtxNeedsNoGpu) {
  if (cg::find_libdevice().empty()) GTEST_SKIP() << "no libdevice.10.bc (CUDA toolkit) found";
  Context cpu;
  Program p = cpu.compile("input S: f32[n]\ninput K: f32[n]\nparam r: f32\n"
                          "output o = S * exp(-r) - K\noutput t = sum(S)\n"
                          "output i = argmax(K)\n");
  const std::string ptx = p.emit(Stage::Ptx);
  EXPECT_NE(ptx.find(".target sm_80"), std::string::npos) << ptx;
  EXPECT_NE(ptx.find(".entry k"), std::string::npos) << ptx;
  EXPECT_NE(ptx.find("ld.global.v4.f32"), std::string::npos) << ptx;
  // sum's reduce kernel (its shuffle tree, 8 warp slots of 8 bytes) and argmax's (16: value and
  // index) are there.
  EXPECT_NE(ptx.find("shfl.sync.down"), std::string::npos) << ptx;
  EXPECT_NE(ptx.find("_warps[64]"), std::string::npos) << ptx;
  EXPECT_NE(ptx.find("_warps[128]"), std::string::npos) << ptx;
  EXPECT_EQ(ptx.find("not run by the cuda target"), std::string::npos) << ptx;
}

TEST(Cuda, NarrowIntegerOpsThatPtxasMiscompilesAreComputedInThirtyTwoBits) {
  // GpuNarrowInt.cpp: on sm_90 ptxas miscompiles abs.s16, neg.s16 and max.s16 + setp; the PTX
  // must not contain them (8-bit ops are promoted to the same 16-bit instructions).
  if (cg::find_libdevice().empty()) GTEST_SKIP() << "no libdevice.10.bc (CUDA toolkit) found";
  Context cpu;
  for (const char *src : {"input a: i16[n]\noutput r = sign(abs(a))\n",
                          "input a: i16[n]\noutput r = (-a) >> 15\n",
                          "input a: i16[n]\ninput b: i16[n]\noutput r = minimum(a, b) + maximum(a, b)\n",
                          "input a: u16[n]\ninput b: u16[n]\noutput r = minimum(a, b) + maximum(a, b)\n",
                          "input a: i8[n]\ninput b: i16[n]\noutput r = pow(13, abs(b)) + abs(a)\n"}) {
    const std::string ptx = cpu.compile(src).emit(Stage::Ptx);
    for (const char *bad : {"abs.s16", "neg.s16", "max.s16", "min.s16", "max.u16", "min.u16"})
      EXPECT_EQ(ptx.find(bad), std::string::npos) << bad << " in the PTX of\n" << src << ptx;
  }
}

TEST(Cuda, WithoutADriverTheContextSaysWhy) {
  const std::string why = no_gpu_reason();
  if (why.empty()) GTEST_SKIP() << "a CUDA GPU is present: the no-driver error cannot be seen here";
  if (const char *f = std::getenv("XPR_EXPECT_FAKE_CUDA"); f && *f)
    GTEST_SKIP() << "the fake driver is loaded: the no-driver error cannot be seen here";
  // The reason names the missing piece: the library (with dlerror's words) or the GPU.
  EXPECT_TRUE(why.rfind("no CUDA driver found (libcuda.so.1: ", 0) == 0 ||
              why.rfind("no CUDA GPU found (", 0) == 0)
      << why;
  try {
    Context gpu(Target::cuda());
    FAIL() << "a cuda Context was made without a usable GPU";
  } catch (const Error &e) {
    EXPECT_EQ(e.kind(), ErrorKind::Runtime);
    EXPECT_EQ(e.message(), why);
  }
  // The same through Options, and again (the failure is remembered, not retried).
  Options o;
  o.target = Target::cuda(1);
  EXPECT_THROW(Context{o}, Error);
  // Nothing else changes: the CPU still works in the same process.
  Context cpu;
  float a[3] = {1, 2, 3};
  Array r = cpu.eval("a * 2", {{"a", view(a, f32, {3})}});
  EXPECT_EQ(r.data_as<float>()[2], 6.0f);
  EXPECT_EQ(cpu.target_description(), "cpu");
}

TEST(Cuda, NoDriverMessageCarriesDlerror) {
  // The message quotes dlopen's reason verbatim; check it against dlopen itself.
  void *h = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (h) {
    dlclose(h);
    GTEST_SKIP() << "libcuda.so.1 loads on this machine";
  }
  const char *e = dlerror();
  ASSERT_NE(e, nullptr);
  std::string reason = e; // copied: the next dlopen (in no_gpu_reason) reuses the buffer
  // glibc starts the text with the file name; the message names the file once.
  if (reason.rfind("libcuda.so.1: ", 0) == 0) reason.erase(0, 14);
  EXPECT_EQ(no_gpu_reason(), fmt::format("no CUDA driver found (libcuda.so.1: {})", reason));
}

TEST(Cuda, StubDriverNamesTheCudaError) {
  // Run by the ctest `gpu.stub_driver` with the CUDA toolkit's stub libcuda (every entry point
  // present, every call failing with CUDA_ERROR_STUB_LIBRARY) first on the library path: every
  // entry point must resolve by name, and cuInit's failure must be named.
  const char *e = std::getenv("XPR_EXPECT_CUDA_STUB");
  if (!e || !*e)
    GTEST_SKIP() << "runs under the gpu.stub_driver ctest (the toolkit's stub libcuda)";
  EXPECT_EQ(no_gpu_reason(), "no CUDA GPU found (CUDA_ERROR_STUB_LIBRARY (34) in cuInit)");
  EXPECT_THROW(Context{Target::cuda()}, Error);
}

// ---- the fake driver (tests/gpu/FakeCuda.cpp): the whole runtime path, without a GPU ----

struct FakeLaunch {
  int nargs = 0;
  unsigned grid = 0, block = 0;
  std::vector<std::uint64_t> vals;
};
FakeLaunch g_last;

/// The fake-driver tests run under the gpu.fake_driver ctest, which puts tests/gpu/FakeCuda.cpp
/// first on the library path.
#define REQUIRE_FAKE_DRIVER()                                                                      \
  do {                                                                                             \
    const char *fake_env = std::getenv("XPR_EXPECT_FAKE_CUDA");                                    \
    if (!fake_env || !*fake_env)                                                                   \
      GTEST_SKIP() << "runs under the gpu.fake_driver ctest (tests/gpu/FakeCuda.cpp)";             \
  } while (0)

using SetKernel = void (*)(void (*)(void **, int, unsigned, unsigned));

/// A control function of the loaded fake driver (null when another libcuda.so.1 is loaded).
template <class F> F fake_fn(const char *name) {
  void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_NOLOAD);
  return lib ? reinterpret_cast<F>(dlsym(lib, name)) : nullptr;
}

/// The fake GPU's kernel for `r = a * s` (f64): args are, by the ABI of GpuJit.h, a, r, s,
/// shape[0], a's stride (only when a is Strided) and total.
void fake_scale(void **args, int nargs, unsigned grid, unsigned block) {
  g_last = {nargs, grid, block, {}};
  for (int i = 0; i < nargs; ++i)
    g_last.vals.push_back(*static_cast<std::uint64_t *>(args[i]));
  const auto *a = reinterpret_cast<const double *>(g_last.vals[0]);
  auto *r = reinterpret_cast<double *>(g_last.vals[1]);
  double s;
  std::memcpy(&s, &g_last.vals[2], 8);
  const auto stride = nargs == 6 ? static_cast<std::int64_t>(g_last.vals[4]) : 1;
  const auto total = static_cast<std::int64_t>(g_last.vals[static_cast<std::size_t>(nargs - 1)]);
  for (std::int64_t i = 0; i < total; ++i)
    r[i] = a[i * stride] * s;
}

TEST(Cuda, FakeDriverRunsTheWholeRuntimePath) {
  REQUIRE_FAKE_DRIVER();
  Context gpu(Target::cuda());
  EXPECT_EQ(gpu.target_description(), "cuda:0 (xpr fake GPU, sm_90)");
  auto set_kernel = fake_fn<SetKernel>("xpr_fake_cuda_set_kernel");
  auto launches = fake_fn<int (*)()>("xpr_fake_cuda_launches");
  ASSERT_TRUE(set_kernel && launches);
  set_kernel(&fake_scale);

  Program p = gpu.compile("input a: f64[n]\nparam s: f64\noutput r = a * s\n");
  std::vector<double> a(2001);
  for (std::size_t i = 0; i < a.size(); ++i)
    a[i] = 0.5 * static_cast<double>(i);
  struct Layout {
    const char *what;
    Array view;
    std::int64_t stride; // 0: contiguous
  };
  const Layout layouts[] = {
      {"contiguous", view(a.data(), f64, {1000}), 0},
      {"every other", view(a.data(), f64, {1000}, {2}), 2},
      {"reversed", view(a.data() + 999, f64, {1000}, {-1}), -1},
  };
  // A kernel is loaded per layout it runs under, once: the contiguous one, then a strided one
  // that the reversed view shares.
  auto modules_loaded = fake_fn<int (*)()>("xpr_fake_cuda_modules_loaded");
  ASSERT_TRUE(modules_loaded);
  const int new_loads[] = {1, 1, 0};
  for (const Layout &l : layouts) {
    const int before = launches(), loads = modules_loaded();
    Array r = p.run({{"a", l.view}}, {{"s", 3.0}}).at("r");
    ASSERT_EQ(launches(), before + 1) << l.what;
    EXPECT_EQ(modules_loaded() - loads, new_loads[&l - layouts]) << l.what;
    ASSERT_EQ(g_last.nargs, l.stride ? 6 : 5) << l.what;
    EXPECT_EQ(g_last.block, 256u) << l.what;        // from the occupancy query
    EXPECT_EQ(g_last.grid, 4u) << l.what;           // ceil(1000 / 256), under min_grid 8
    EXPECT_EQ(g_last.vals[3], 1000u) << l.what;     // shape
    EXPECT_EQ(g_last.vals.back(), 1000u) << l.what; // total
    if (l.stride) EXPECT_EQ(static_cast<std::int64_t>(g_last.vals[4]), l.stride) << l.what;
    const double *src = static_cast<const double *>(l.view.data());
    const std::int64_t st = l.stride ? l.stride : 1;
    for (std::int64_t i = 0; i < 1000; ++i)
      ASSERT_EQ(r.data_as<double>()[i], src[i * st] * 3.0) << l.what << " at " << i;
  }
  // A loaded kernel's occupancy is asked of the driver once: running it again asks nothing.
  auto queries = fake_fn<int (*)()>("xpr_fake_cuda_queries");
  ASSERT_TRUE(queries);
  const int q0 = queries();
  const int loads = modules_loaded();
  p.run({{"a", layouts[1].view}}, {{"s", 3.0}});
  EXPECT_EQ(queries(), q0) << "a second run of a kernel asked the driver for its limits again";
  EXPECT_EQ(modules_loaded(), loads) << "a second run of a kernel loaded it again";
  EXPECT_EQ(g_last.grid, 4u);
  // run_into a strided target: only its elements are written.
  std::vector<double> dst(2000, -7.0);
  p.run_into({{"a", layouts[0].view}}, {{"r", view(dst.data(), f64, {1000}, {2})}}, {{"s", 2.0}});
  for (std::size_t i = 0; i < 2000; ++i)
    ASSERT_EQ(dst[i], i % 2 ? -7.0 : a[i / 2] * 2.0) << i;
  // A second context loads the same kernel (from the disk cache when it is on) and agrees.
  Context again(Target::cuda());
  Array r2 = again.compile("input a: f64[n]\nparam s: f64\noutput r = a * s\n")
                 .run({{"a", layouts[0].view}}, {{"s", 3.0}})
                 .at("r");
  EXPECT_EQ(r2.data_as<double>()[999], a[999] * 3.0);
  // The precision is part of a kernel's cache key: a fast Context sharing the disk cache with an
  // accurate one must not get the accurate module (rsqrt is 1/sqrt in fast mode).
  auto last_module = fake_fn<const char *(*)()>("xpr_fake_cuda_last_module");
  ASSERT_TRUE(last_module);
  set_kernel(nullptr); // the fake launches nothing; only the loaded modules are compared
  std::string module_text[2];
  for (int fast = 0; fast < 2; ++fast) {
    Options o;
    o.target = Target::cuda();
    o.precision = fast ? Precision::Fast : Precision::Accurate;
    Context c(o);
    c.compile("input a: f64[n]\noutput r = rsqrt(a)\n").run({{"a", layouts[0].view}});
    module_text[fast] = last_module();
  }
  EXPECT_TRUE(module_text[0] != module_text[1]) << "the fast Context ran the accurate module";
}

TEST(Cuda, FakeDriverKeepsDeviceArraysOnTheDevice) {
  REQUIRE_FAKE_DRIVER();
  auto set_kernel = fake_fn<SetKernel>("xpr_fake_cuda_set_kernel");
  auto copies_fn = fake_fn<void (*)(int *, int *)>("xpr_fake_cuda_copies");
  ASSERT_TRUE(set_kernel && copies_fn);
  auto copies = [&] {
    std::pair<int, int> c;
    copies_fn(&c.first, &c.second);
    return c;
  };
  set_kernel(&fake_scale);
  Context gpu(Target::cuda());
  std::vector<double> a(1000);
  for (std::size_t i = 0; i < a.size(); ++i)
    a[i] = 0.5 * static_cast<double>(i);

  // One copy over; the device array says where it lives.
  auto c0 = copies();
  Array A = gpu.to_device(view(a.data(), f64, {1000}));
  EXPECT_EQ(copies().first, c0.first + 1);
  EXPECT_TRUE(A.on_device());
  EXPECT_EQ(A.device(), 0);
  EXPECT_EQ(A.shape(), (std::vector<std::int64_t>{1000}));
  EXPECT_TRUE(A.is_contiguous());

  // Runs on device inputs cross no bus: outputs stay on the device, and chain.
  Program p = gpu.compile("input a: f64[n]\nparam s: f64\noutput r = a * s\n");
  c0 = copies();
  Array r = p.run({{"a", A}}, {{"s", 3.0}}).at("r");
  Array r2 = p.run({{"a", r}}, {{"s", 3.0}}).at("r");
  EXPECT_EQ(copies(), c0) << "a run on device arrays copied across the bus";
  EXPECT_TRUE(r.on_device());
  EXPECT_TRUE(r2.on_device());
  Array h = gpu.to_host(r2);
  EXPECT_EQ(copies().second, c0.second + 1);
  EXPECT_FALSE(h.on_device());
  for (std::size_t i = 0; i < a.size(); ++i)
    ASSERT_EQ(h.data_as<double>()[i], a[i] * 9.0) << i;
  EXPECT_EQ(gpu.to_host(h).data(), h.data()); // a host array is its own host copy

  // run_into a device array, in place.
  c0 = copies();
  p.run_into({{"a", A}}, {{"r", A}}, {{"s", 2.0}});
  EXPECT_EQ(copies(), c0);
  Array h2 = gpu.to_host(A);
  for (std::size_t i = 0; i < a.size(); ++i)
    ASSERT_EQ(h2.data_as<double>()[i], a[i] * 2.0) << i;

  // The cpu never reads a device address: every entry point refuses, naming the way back.
  Context cpu;
  auto refused = [&](const std::function<void()> &f, const std::string &what) {
    try {
      f();
      ADD_FAILURE() << what << " read a device array";
    } catch (const Error &err) {
      EXPECT_EQ(err.kind(), ErrorKind::Runtime) << what;
      EXPECT_NE(err.message().find("cuda:0"), std::string::npos) << what << ": " << err.message();
    }
  };
  Program cp = cpu.compile("input a: f64[n]\nparam s: f64\noutput r = a * s\n");
  refused([&] { cp.run({{"a", A}}, {{"s", 1.0}}); }, "cpu run");
  refused([&] { cpu.eval("a + 1", {{"a", A}}); }, "cpu eval");
  refused([&] { cp.run_into({{"a", view(a.data(), f64, {1000})}}, {{"r", A}}, {{"s", 1.0}}); },
          "cpu run_into a device target");
  refused([&] { A.contiguous_copy(); }, "contiguous_copy");
  refused([&] { cpu.to_host(A); }, "a cpu Context's to_host");
  try {
    cpu.to_device(h);
    ADD_FAILURE() << "a cpu Context made a device array";
  } catch (const Error &err) {
    EXPECT_NE(err.message().find("needs a cuda Context"), std::string::npos) << err.message();
  }

  // A device array outlives the Context that made it; its memory goes with the last copy.
  Array orphan;
  {
    Context g2(Target::cuda());
    orphan = g2.to_device(view(a.data(), f64, {1000}));
  }
  EXPECT_TRUE(orphan.on_device());
  orphan = Array();
  set_kernel(nullptr);
}

TEST(Cuda, FakeDriverQueuesRunsOnDeviceArraysUntilTheHostNeedsThem) {
  REQUIRE_FAKE_DRIVER();
  // The fake driver runs queued work only when its stream is synchronized, and aborts when
  // memory that queued work names is freed: results read too early are garbage (0xAB bytes),
  // and a buffer freed too early ends the test.
  auto set_kernel = fake_fn<SetKernel>("xpr_fake_cuda_set_kernel");
  auto syncs = fake_fn<int (*)()>("xpr_fake_cuda_syncs");
  auto pending = fake_fn<int (*)()>("xpr_fake_cuda_pending");
  auto fail_next = fake_fn<void (*)()>("xpr_fake_cuda_fail_next_launch");
  auto event_waits = fake_fn<int (*)()>("xpr_fake_cuda_event_waits");
  auto fail_event = fake_fn<void (*)(int)>("xpr_fake_cuda_fail_next_event");
  auto live_events = fake_fn<int (*)()>("xpr_fake_cuda_live_events");
  ASSERT_TRUE(set_kernel && syncs && pending && fail_next && event_waits && fail_event &&
              live_events);
  set_kernel(&fake_scale);
  const char *script = "input a: f64[n]\nparam s: f64\noutput r = a * s\n";
  std::vector<double> a(1000);
  for (std::size_t i = 0; i < a.size(); ++i)
    a[i] = 0.25 * static_cast<double>(i) - 7.0;
  auto expect_scaled = [&](const Array &h, double by, const char *what) {
    ASSERT_FALSE(h.on_device()) << what;
    for (std::size_t i = 0; i < a.size(); ++i)
      ASSERT_EQ(h.data_as<double>()[i], a[i] * by) << what << " at " << i;
  };

  Context gpu(Target::cuda());
  Program p = gpu.compile(script);
  Array A = gpu.to_device(view(a.data(), f64, {1000}));
  ASSERT_EQ(pending(), 0) << "to_device returned before its copy ran";

  // A chain of runs on device arrays is queued without a wait, its intermediates dropped as it
  // goes (their memory is freed once the stream is past them).
  int s0 = syncs();
  Array r = p.run({{"a", A}}, {{"s", 2.0}}).at("r");
  for (int k = 0; k < 3; ++k)
    r = p.run({{"a", r}}, {{"s", 2.0}}).at("r");
  EXPECT_EQ(syncs(), s0) << "a run on device arrays waited for the GPU";
  EXPECT_EQ(pending(), 4);
  expect_scaled(gpu.to_host(r), 16.0, "to_host after a queued chain");
  EXPECT_EQ(pending(), 0);

  // run_into a device target is queued too; a run with a host array returns with its results.
  Array R = gpu.to_device(view(a.data(), f64, {1000}));
  s0 = syncs();
  p.run_into({{"a", A}}, {{"r", R}}, {{"s", 3.0}});
  EXPECT_EQ(pending(), 1);
  expect_scaled(p.run({{"a", view(a.data(), f64, {1000})}}, {{"s", 5.0}}).at("r"), 5.0,
                "a host run after a queued one");
  EXPECT_EQ(pending(), 0) << "a run with host arrays returned before the GPU finished";
  EXPECT_GT(syncs(), s0);
  expect_scaled(gpu.to_host(R), 3.0, "the queued run_into");

  // Another context's runs on this one's queued output come after it, and this one's overwrite
  // of an array the other still reads comes after the read: the streams wait for each other
  // on the GPU (an event), the host waits for neither. Each order of reading back catches one
  // missing wait: the fake runs a stream's work only when it is waited for.
  Context other(Target::cuda());
  Program q = other.compile(script);
  s0 = syncs();
  const int w0 = event_waits();
  Array mid = p.run({{"a", A}}, {{"s", 4.0}}).at("r");
  Array fin = q.run({{"a", mid}}, {{"s", 0.5}}).at("r");
  EXPECT_EQ(event_waits(), w0 + 1);
  EXPECT_EQ(pending(), 2) << "a context waited on the host for another's queued work";
  expect_scaled(other.to_host(fin), 2.0, "a context reading another's queued output");
  Array fin2 = q.run({{"a", mid}}, {{"s", 0.5}}).at("r");
  p.run_into({{"a", A}}, {{"r", mid}}, {{"s", -1.0}});
  EXPECT_EQ(event_waits(), w0 + 2);
  EXPECT_EQ(pending(), 2);
  EXPECT_EQ(syncs(), s0 + 1) << "only other.to_host waited";
  expect_scaled(gpu.to_host(mid), -1.0, "a context overwriting what another reads");
  expect_scaled(other.to_host(fin2), 2.0, "a read that another context's overwrite follows");
  // Nothing queued on the other stream (it was waited for): no event.
  q.run({{"a", mid}}, {{"s", 1.0}});
  other.synchronize();
  gpu.to_host(p.run({{"a", mid}}, {{"s", 1.0}}).at("r"));
  EXPECT_EQ(event_waits(), w0 + 2);

  // A failed event call (the record on the other stream, or the wait on it) throws from the run
  // that needed it, naming the CUDA error, before that run queues anything. The event is
  // destroyed either way, and the run tried again waits as it should.
  for (int which : {1, 2}) {
    const char *call = which == 1 ? "cuEventRecord" : "cuStreamWaitEvent";
    Array m2 = p.run({{"a", A}}, {{"s", 4.0}}).at("r");
    const int before = pending();
    fail_event(which);
    try {
      q.run({{"a", m2}}, {{"s", 0.5}});
      ADD_FAILURE() << "a run whose " << call << " failed went on";
    } catch (const Error &err) {
      EXPECT_EQ(err.kind(), ErrorKind::Runtime);
      EXPECT_NE(err.message().find("CUDA_ERROR_INVALID_HANDLE"), std::string::npos)
          << err.message();
      EXPECT_NE(err.message().find(call), std::string::npos) << err.message();
    }
    EXPECT_EQ(pending(), before) << call << ": the failed run queued work";
    EXPECT_EQ(live_events(), 0) << call << ": the event was not destroyed";
    Array again = q.run({{"a", m2}}, {{"s", 0.5}}).at("r");
    expect_scaled(other.to_host(again), 2.0, call);
  }
  EXPECT_EQ(live_events(), 0);

  // Queued runs finish when their context goes; their outputs stay readable from another.
  Array orphan;
  {
    Context g2(Target::cuda());
    Program p2 = g2.compile(script);
    orphan = p2.run({{"a", A}}, {{"s", 6.0}}).at("r");
    EXPECT_EQ(pending(), 1);
  }
  EXPECT_EQ(pending(), 0);
  expect_scaled(gpu.to_host(orphan), 6.0, "an output of a context that is gone");

  // A kernel that fails in a queued run is reported by the next wait, naming the CUDA error.
  fail_next();
  Array bad = p.run({{"a", A}}, {{"s", 1.0}}).at("r");
  try {
    gpu.synchronize();
    ADD_FAILURE() << "synchronize did not report the failed launch";
  } catch (const Error &err) {
    EXPECT_EQ(err.kind(), ErrorKind::Runtime);
    EXPECT_NE(err.message().find("CUDA_ERROR_LAUNCH_FAILED"), std::string::npos) << err.message();
  }
  EXPECT_EQ(pending(), 0);
  gpu.synchronize(); // reported once; the fake GPU, unlike a real one, is not left broken
  Context cpu;
  cpu.synchronize(); // nothing to wait for
  set_kernel(nullptr);
}

/// One launch of a reduce kernel as the fake GPU saw it (the ABI of GpuJit.h: inputs,
/// partials, params, shape, strides, then n, units, chunks, chunk_len).
struct FakeReduce {
  int nargs = 0;
  unsigned grid = 0, block = 0;
  std::int64_t n = 0, units = 0, chunks = 0, chunk_len = 0;
};
std::vector<FakeReduce> g_reduces;
int g_fake_rank = 1;        // the iteration rank of the next first pass
bool g_fake_strided = false; // whether its input is Strided
int g_finishes = 0;

/// Records a reduce launch (its last four arguments: n, units, chunks, chunk_len).
FakeReduce record_reduce(void **args, int nargs, unsigned grid, unsigned block) {
  auto v = [&](int i) { return static_cast<std::int64_t>(*static_cast<std::uint64_t *>(args[i])); };
  g_reduces.push_back(
      {nargs, grid, block, v(nargs - 4), v(nargs - 3), v(nargs - 2), v(nargs - 1)});
  return g_reduces.back();
}

/// The fake GPU's kernels for `sum`/`mean` of one f64 input without params: reduce passes add
/// each unit's chunk in order; the mean's finishing kernel (5 arguments: r, out, the count as an
/// f64 param slot, shape, total) divides.
void fake_sum(void **args, int nargs, unsigned grid, unsigned block) {
  auto v = [&](int i) { return *static_cast<std::uint64_t *>(args[i]); };
  if (nargs == 5) {
    ++g_finishes;
    double count;
    std::uint64_t c = v(2);
    std::memcpy(&count, &c, 8);
    const auto *r = reinterpret_cast<const double *>(v(0));
    auto *out = reinterpret_cast<double *>(v(1));
    for (std::uint64_t i = 0; i < v(4); ++i)
      out[i] = r[i] / count;
    return;
  }
  const FakeReduce f = record_reduce(args, nargs, grid, block);
  // A combining pass is rank 1 and contiguous; the first pass is what the test announced.
  const bool first = g_reduces.size() == 1;
  const int rank = first ? g_fake_rank : 1;
  const bool strided = first && g_fake_strided;
  std::vector<std::int64_t> shape, st;
  for (int d = 0; d < rank; ++d)
    shape.push_back(static_cast<std::int64_t>(v(2 + d)));
  for (int d = 0; strided && d < rank; ++d)
    st.push_back(static_cast<std::int64_t>(v(2 + rank + d)));
  const auto *in = reinterpret_cast<const double *>(v(0));
  auto *out = reinterpret_cast<double *>(v(1));
  for (std::int64_t u = 0; u < f.units; ++u) {
    const std::int64_t o = u / f.chunks, c = u % f.chunks;
    double acc = 0;
    for (std::int64_t j = c * f.chunk_len; j < std::min(f.n, (c + 1) * f.chunk_len); ++j) {
      std::int64_t i = o * f.n + j, off = i;
      if (strided) {
        off = 0;
        for (int d = rank - 1; d >= 0; --d) {
          off += (i % shape[static_cast<std::size_t>(d)]) * st[static_cast<std::size_t>(d)];
          i /= shape[static_cast<std::size_t>(d)];
        }
      }
      acc += in[off];
    }
    out[u] = acc;
  }
}

/// The fake GPU's argmax passes over f64 (runtime/Reduce.cpp's ArgR: a NaN first of all, then
/// the largest, the smaller index on ties). The first pass (a, values, indices, shape[2], n,
/// units, chunks, chunk_len) takes j as the index; a combining pass (values, indices, values',
/// indices', shape[1], ...) reads the previous pass's pairs.
void fake_argmax(void **args, int nargs, unsigned grid, unsigned block) {
  auto v = [&](int i) { return *static_cast<std::uint64_t *>(args[i]); };
  const bool first = g_reduces.empty();
  const FakeReduce f = record_reduce(args, nargs, grid, block);
  const auto *in = reinterpret_cast<const double *>(v(0));
  const auto *in_index = first ? nullptr : reinterpret_cast<const std::int64_t *>(v(1));
  auto *out = reinterpret_cast<double *>(v(first ? 1 : 2));
  auto *out_index = reinterpret_cast<std::int64_t *>(v(first ? 2 : 3));
  auto better = [](double x, double b) {
    if (std::isnan(b)) return false;
    return std::isnan(x) || x > b;
  };
  for (std::int64_t u = 0; u < f.units; ++u) {
    const std::int64_t o = u / f.chunks, c = u % f.chunks;
    double best = 0;
    std::int64_t at = -1;
    for (std::int64_t j = c * f.chunk_len; j < std::min(f.n, (c + 1) * f.chunk_len); ++j) {
      const double x = in[o * f.n + j];
      const std::int64_t k = in_index ? in_index[o * f.n + j] : j;
      if (at < 0 || better(x, best) || (!better(best, x) && k < at)) best = x, at = k;
    }
    out[u] = best;
    out_index[u] = at;
  }
}

TEST(Cuda, FakeDriverRunsReductionsInPasses) {
  REQUIRE_FAKE_DRIVER();
  auto set_kernel = fake_fn<SetKernel>("xpr_fake_cuda_set_kernel");
  ASSERT_TRUE(set_kernel);
  set_kernel(&fake_sum);
  Context gpu(Target::cuda());

  // 3 rows of 40000: each row is cut into 3 chunks of 13334 (the last shorter), then one
  // combining pass reduces the 3 partials of each row straight into the output.
  const std::int64_t R = 3, N = 40000;
  std::vector<double> a(static_cast<std::size_t>(R * N));
  for (std::int64_t i = 0; i < R; ++i)
    for (std::int64_t j = 0; j < N; ++j)
      a[static_cast<std::size_t>(i * N + j)] = static_cast<double>(i * 1000 + j % 7);
  auto exact_row = [&](std::int64_t i) {
    double s = 0;
    for (std::int64_t j = 0; j < N; ++j)
      s += a[static_cast<std::size_t>(i * N + j)];
    return s;
  };
  Array A = view(a.data(), f64, {R, N});
  g_reduces.clear();
  g_fake_rank = 2;
  g_fake_strided = false;
  Array rows = gpu.eval("sum(a, axis=1)", {{"a", A}});
  ASSERT_EQ(g_reduces.size(), 2u);
  EXPECT_EQ(g_reduces[0].nargs, 2 + 2 + 4); // a, partials, shape[2], n, units, chunks, chunk_len
  EXPECT_EQ(g_reduces[0].n, N);
  EXPECT_EQ(g_reduces[0].chunks, 3);
  EXPECT_EQ(g_reduces[0].units, 9);
  EXPECT_EQ(g_reduces[0].chunk_len, 13334);
  EXPECT_EQ(g_reduces[1].nargs, 2 + 1 + 4);
  EXPECT_EQ(g_reduces[1].n, 3);
  EXPECT_EQ(g_reduces[1].units, 3);
  EXPECT_EQ(g_reduces[1].chunks, 1);
  // The block schedule's fixed 256 threads for long chunks; the warp schedule (4 units per
  // block of 128) for the combining pass's chunks of 3.
  for (const FakeReduce &f : g_reduces) {
    const bool warps = f.chunk_len <= 256;
    EXPECT_EQ(f.block, warps ? 128u : 256u) << f.chunk_len;
    EXPECT_GE(f.grid, 1u);
    EXPECT_LE(f.grid, static_cast<unsigned>(warps ? (f.units + 3) / 4 : f.units));
  }
  ASSERT_EQ(rows.shape(), (std::vector<std::int64_t>{R}));
  for (std::int64_t i = 0; i < R; ++i)
    EXPECT_EQ(rows.data_as<double>()[i], exact_row(i)) << i;

  // Everything, as a mean: 8 chunks, one combining pass, then the division by the count.
  g_reduces.clear();
  g_finishes = 0;
  Array m = gpu.eval("mean(a)", {{"a", A}});
  ASSERT_EQ(g_reduces.size(), 2u);
  EXPECT_EQ(g_reduces[0].n, R * N);
  EXPECT_EQ(g_reduces[0].chunks, 8);
  EXPECT_EQ(g_finishes, 1);
  EXPECT_EQ(m.rank(), 0);
  EXPECT_EQ(m.data_as<double>()[0],
            (exact_row(0) + exact_row(1) + exact_row(2)) / static_cast<double>(R * N));

  // A column reduction reads the input strided over [kept, reduced] = [N, R], one pass, with
  // keepdims. Rows of 3 values take the warp schedule's segments.
  g_reduces.clear();
  g_fake_strided = true;
  Array cols = gpu.eval("sum(a, axis=0, keepdims=true)", {{"a", A}});
  ASSERT_EQ(g_reduces.size(), 1u);
  EXPECT_EQ(g_reduces[0].nargs, 2 + 2 + 2 + 4);
  EXPECT_EQ(g_reduces[0].n, R);
  EXPECT_EQ(g_reduces[0].units, N);
  EXPECT_EQ(g_reduces[0].block, 128u);
  ASSERT_EQ(cols.shape(), (std::vector<std::int64_t>{1, N}));
  for (std::int64_t j = 0; j < N; j += 997)
    EXPECT_EQ(cols.data_as<double>()[j], static_cast<double>(3000 + 3 * (j % 7))) << j;

  // Longer columns: the column schedule, 512 threads a block taking 32 columns of one chunk
  // each (rows adjacent in memory), unless the kernel cannot have 512 threads a block. 40
  // columns of 40000 values: 3 chunks each, 2 groups of 32 columns a chunk: 6 blocks of work,
  // enough for the fake GPU's 4 multiprocessors.
  const std::int64_t C = 40;
  std::vector<double> c(static_cast<std::size_t>(N * C));
  for (std::int64_t i = 0; i < N; ++i)
    for (std::int64_t j = 0; j < C; ++j)
      c[static_cast<std::size_t>(i * C + j)] = static_cast<double>(j * 1000 + i % 7);
  auto set_max_threads = fake_fn<void (*)(int)>("xpr_fake_cuda_set_max_threads");
  auto queries = fake_fn<int (*)()>("xpr_fake_cuda_queries");
  ASSERT_TRUE(set_max_threads && queries);
  for (int max_threads : {1024, 256}) {
    set_max_threads(max_threads);
    // A kernel's limits are asked once per loaded kernel: a new context loads it afresh.
    Context fresh(Target::cuda());
    g_reduces.clear();
    g_fake_strided = true;
    Array t = fresh.eval("sum(c, axis=0)", {{"c", view(c.data(), f64, {N, C})}});
    ASSERT_EQ(g_reduces.size(), 2u) << max_threads;
    EXPECT_EQ(g_reduces[0].units, C * 3);
    EXPECT_EQ(g_reduces[0].block, max_threads == 1024 ? 512u : 256u);
    EXPECT_LE(g_reduces[0].grid, max_threads == 1024 ? 6u : 120u);
    EXPECT_EQ(g_reduces[1].block, 128u); // the combining pass's rows of 3: segments
    ASSERT_EQ(t.shape(), (std::vector<std::int64_t>{C}));
    for (std::int64_t j = 0; j < C; ++j) {
      double want = 0;
      for (std::int64_t i = 0; i < N; ++i)
        want += c[static_cast<std::size_t>(i * C + j)];
      EXPECT_EQ(t.data_as<double>()[j], want) << j;
    }
    // Running it again asks the driver nothing (max threads a block, occupancy at 512 and at
    // 128 threads were asked once) and launches the same.
    const int q0 = queries();
    g_reduces.clear();
    fresh.eval("sum(c, axis=0)", {{"c", view(c.data(), f64, {N, C})}});
    EXPECT_EQ(queries(), q0) << max_threads;
    ASSERT_EQ(g_reduces.size(), 2u) << max_threads;
    EXPECT_EQ(g_reduces[0].block, max_threads == 1024 ? 512u : 256u);
  }
  // Fewer groups of 32 columns than multiprocessors (here 3 chunks of 16 columns: 3 < 4) keep
  // the block schedule, whose grid fills the device.
  g_reduces.clear();
  gpu.eval("sum(c, axis=0)", {{"c", view(c.data(), f64, {N, 16}, {C, 1})}});
  ASSERT_EQ(g_reduces.size(), 2u);
  EXPECT_EQ(g_reduces[0].units, 16 * 3);
  EXPECT_EQ(g_reduces[0].block, 256u);
  set_max_threads(1024);

  // argmax: (value, index) pairs in two passes, the indices straight into the output. Row 0's
  // maximum 6 first appears at 6; row 1 has one large value; row 2 a NaN, which wins.
  std::vector<double> b = a;
  b[static_cast<std::size_t>(1 * N + 30000)] = 1e9;
  b[static_cast<std::size_t>(2 * N + 35000)] = std::nan("");
  set_kernel(&fake_argmax);
  g_reduces.clear();
  Array am = gpu.eval("argmax(a, axis=1)", {{"a", view(b.data(), f64, {R, N})}});
  ASSERT_EQ(g_reduces.size(), 2u);
  EXPECT_EQ(g_reduces[0].nargs, 3 + 2 + 4); // a, values, indices, shape[2], ...
  EXPECT_EQ(g_reduces[1].nargs, 4 + 1 + 4); // values, indices, values', indices', shape[1], ...
  EXPECT_EQ(g_reduces[1].n, 3);
  ASSERT_EQ(am.dtype(), i64);
  EXPECT_EQ(am.data_as<std::int64_t>()[0], 6);
  EXPECT_EQ(am.data_as<std::int64_t>()[1], 30000);
  EXPECT_EQ(am.data_as<std::int64_t>()[2], 35000);
  g_reduces.clear();
  Array flat = gpu.eval("argmax(a)", {{"a", view(b.data(), f64, {R, N})}});
  EXPECT_EQ(flat.data_as<std::int64_t>()[0], 2 * N + 35000); // the flat C-order index
  set_kernel(&fake_sum);

  // An empty reduced extent: sum is its identity without a launch of the map...
  g_reduces.clear();
  g_fake_strided = false;
  Array empty = view(a.data(), f64, {R, 0});
  Array z = gpu.eval("sum(a, axis=1)", {{"a", empty}});
  ASSERT_EQ(g_reduces.size(), 1u);
  EXPECT_EQ(g_reduces[0].n, 0);
  for (std::int64_t i = 0; i < R; ++i)
    EXPECT_EQ(z.data_as<double>()[i], 0.0);
  // ...and min has none, as on the CPU.
  try {
    gpu.eval("min(a, axis=1)", {{"a", empty}});
    FAIL() << "min of an empty extent ran";
  } catch (const Error &err) {
    EXPECT_EQ(err.kind(), ErrorKind::Runtime);
    EXPECT_NE(err.message().find("min of an empty array has no identity"), std::string::npos)
        << err.message();
  }
  set_kernel(nullptr);
}

TEST(Cuda, FakeDriverOutOfDeviceMemoryAtAnyAllocationLeavesNothingBehind) {
  REQUIRE_FAKE_DRIVER();
  // Each run below is repeated with its k-th device allocation failing, for every k until it
  // allocates fewer: it throws Error(Runtime) naming CUDA_ERROR_OUT_OF_MEMORY and cuMemAlloc,
  // frees everything it had allocated (after its queued work: the fake aborts on a free that
  // queued work still names), and the same run then gives the right result.
  auto set_kernel = fake_fn<SetKernel>("xpr_fake_cuda_set_kernel");
  auto fail_after = fake_fn<void (*)(int)>("xpr_fake_cuda_fail_alloc_after");
  auto live = fake_fn<int (*)()>("xpr_fake_cuda_live_allocations");
  ASSERT_TRUE(set_kernel && fail_after && live);
  Context gpu(Target::cuda());
  Program scale = gpu.compile("input a: f64[n]\nparam s: f64\noutput r = a * s\n");
  std::vector<double> a(3 * 4000);
  for (std::size_t i = 0; i < a.size(); ++i)
    a[i] = static_cast<double>(i % 97) - 40.0;
  const Array host = view(a.data(), f64, {static_cast<std::int64_t>(a.size())});
  std::vector<double> b(3 * 40000);
  for (std::size_t i = 0; i < b.size(); ++i)
    b[i] = static_cast<double>(i % 13);
  auto scaled = [&](const Array &h, double by) {
    if (h.on_device()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (h.data_as<double>()[i] != a[i] * by) return false;
    return true;
  };
  // Each case with the device allocations it makes: the host run its input and output; the
  // chain the device input and two outputs; the mean its input, the first pass's partials, the
  // second's row sums and the division's output.
  struct Case {
    const char *what;
    int allocations;
    std::function<bool()> run; // true when the result is right
  };
  const std::vector<Case> cases = {
      {"a host run", 2,
       [&] {
         set_kernel(&fake_scale);
         return scaled(scale.run({{"a", host}}, {{"s", 3.0}}).at("r"), 3.0);
       }},
      {"a chain on device arrays", 3,
       [&] {
         set_kernel(&fake_scale);
         Array A = gpu.to_device(host);
         Array r = scale.run({{"a", A}}, {{"s", 2.0}}).at("r");
         r = scale.run({{"a", r}}, {{"s", -1.5}}).at("r");
         return scaled(gpu.to_host(r), -3.0);
       }},
      {"a mean in passes", 4,
       [&] {
         set_kernel(&fake_sum);
         g_reduces.clear();
         g_fake_rank = 2;
         g_fake_strided = false;
         Array rows = gpu.eval("mean(b, axis=1)", {{"b", view(b.data(), f64, {3, 40000})}});
         for (std::int64_t i = 0; i < 3; ++i) {
           double want = 0;
           for (std::int64_t j = 0; j < 40000; ++j)
             want += b[static_cast<std::size_t>(i * 40000 + j)];
           if (rows.data_as<double>()[i] != want / 40000.0) return false;
         }
         return g_reduces.size() == 2;
       }},
  };
  for (const auto &[what, allocations, run] : cases) {
    gpu.synchronize();
    const int before = live();
    int failed = 0;
    for (int k = 0; k < 20; ++k) {
      fail_after(k);
      bool ok = false, threw = false;
      try {
        ok = run();
      } catch (const Error &err) {
        threw = true;
        ++failed;
        EXPECT_EQ(err.kind(), ErrorKind::Runtime) << what << ", allocation " << k;
        EXPECT_NE(err.message().find("CUDA_ERROR_OUT_OF_MEMORY"), std::string::npos)
            << what << ", allocation " << k << ": " << err.message();
        EXPECT_NE(err.message().find("cuMemAlloc"), std::string::npos) << err.message();
      }
      fail_after(-1);
      gpu.synchronize();
      EXPECT_EQ(live(), before) << what << ": allocation " << k << " failing leaked memory";
      EXPECT_TRUE(ok || threw) << what << ": a wrong result with allocation " << k << " failing";
      if (ok) {
        EXPECT_EQ(failed, k) << what << ": allocation " << k << " went unnoticed";
        break;
      }
      EXPECT_TRUE(run()) << what << ": wrong result after allocation " << k << " failed";
      gpu.synchronize();
      EXPECT_EQ(live(), before) << what;
    }
    EXPECT_EQ(failed, allocations) << what;
  }
  set_kernel(nullptr);
}

// ---- with a GPU ----

TEST(Cuda, TransfersAndLayouts) {
  REQUIRE_GPU();
  Context gpu(Target::cuda());
  std::printf("[ INFO     ] %s\n", gpu.target_description().c_str());
  // A strided view (every other element), a negative-stride view and a broadcast row.
  std::vector<double> a(2 * 1000 * 3), b(1000), row(3);
  for (std::size_t i = 0; i < a.size(); ++i)
    a[i] = static_cast<double>(i) * 0.5;
  for (std::size_t i = 0; i < b.size(); ++i)
    b[i] = static_cast<double>(i);
  for (std::size_t i = 0; i < row.size(); ++i)
    row[i] = 10.0 * static_cast<double>(i + 1);
  Array av = view(a.data(), f64, {1000, 3}, {6, 1});        // rows 0, 2, 4, ...
  Array bv = view(b.data() + 999, f64, {1000, 1}, {-1, 1}); // reversed column
  Array rv = view(row.data(), f64, {1, 3});
  Program p = gpu.compile("input a: f64[n, 3]\ninput b: f64[n, 1]\ninput r: f64[1, 3]\n"
                          "output o = a * b + r\n");
  Outputs o = p.run({{"a", av}, {"b", bv}, {"r", rv}});
  const Array &out = o.at("o");
  ASSERT_EQ(out.shape(), (std::vector<std::int64_t>{1000, 3}));
  for (std::int64_t i = 0; i < 1000; ++i)
    for (std::int64_t j = 0; j < 3; ++j) {
      double want = a[static_cast<std::size_t>(6 * i + j)] * b[static_cast<std::size_t>(999 - i)] +
                    row[static_cast<std::size_t>(j)];
      ASSERT_EQ(out.data_as<double>()[i * 3 + j], want) << i << "," << j;
    }
  // run_into a strided target, and an output that is an input (in place).
  std::vector<double> dst(2000 * 3, -1.0);
  Array dv = view(dst.data(), f64, {1000, 3}, {6, 1});
  p.run_into({{"a", av}, {"b", bv}, {"r", rv}}, {{"o", dv}});
  for (std::int64_t i = 0; i < 1000; ++i) {
    ASSERT_EQ(dst[static_cast<std::size_t>(6 * i)], out.data_as<double>()[i * 3]);
    ASSERT_EQ(dst[static_cast<std::size_t>(6 * i + 3)], -1.0); // the gaps are untouched
  }
  std::vector<float> x(1 << 20);
  for (std::size_t i = 0; i < x.size(); ++i)
    x[i] = static_cast<float>(i);
  Array xv = view(x.data(), f32, {static_cast<std::int64_t>(x.size())});
  gpu.compile("input x: f32[n]\noutput x2 = x * 2\n").run_into({{"x", xv}}, {{"x2", xv}});
  for (std::size_t i = 0; i < x.size(); i += 4097)
    ASSERT_EQ(x[i], 2.0f * static_cast<float>(i));
}

TEST(Cuda, DeterministicAcrossRuns) {
  REQUIRE_GPU();
  Context gpu(Target::cuda());
  Program p = gpu.compile("input a: f32[n]\ninput b: f32[n]\nparam s: f32\n"
                          "output o = sin(a) * exp(-b * s) + ncdf(a - b)\n");
  const std::int64_t n = (1 << 22) + 17; // not a multiple of any block size
  std::vector<float> a(static_cast<std::size_t>(n)), b(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    a[static_cast<std::size_t>(i)] = std::sin(static_cast<float>(i)) * 10.0f;
    b[static_cast<std::size_t>(i)] = std::cos(static_cast<float>(i) * 0.37f);
  }
  Inputs in{{"a", view(a.data(), f32, {n})}, {"b", view(b.data(), f32, {n})}};
  Array first = p.run(in, {{"s", 0.5}}).at("o");
  for (int rep = 0; rep < 3; ++rep) {
    Array again = p.run(in, {{"s", 0.5}}).at("o");
    ASSERT_EQ(std::memcmp(first.data(), again.data(), static_cast<std::size_t>(n) * 4), 0);
  }
}

/// The depth of the GPU's float sums (docs/gpu.md, "Reductions"): per pass, a thread adds its
/// ceil(chunk / 256) values in sequence, then 5 + 3 tree levels; passes repeat over the
/// partials while a row has more than one chunk.
int gpu_sum_depth(std::int64_t n) {
  int depth = 0;
  std::int64_t len = n, chunks = 1;
  do {
    chunks = std::max<std::int64_t>(1, (len + cg::kGpuReduceChunk - 1) / cg::kGpuReduceChunk);
    const std::int64_t clen = (len + chunks - 1) / chunks;
    depth += static_cast<int>((clen + cg::kGpuReduceThreads - 1) / cg::kGpuReduceThreads) + 8;
    len = chunks;
  } while (chunks > 1);
  return depth;
}

/// The reduction matrix of tests/reduce (every op × dtype × axes × keepdims, empty and strided
/// inputs) on the GPU, ranks 1 to 3 (XPR_GPU_REDUCE_MAX_RANK=4 for all: each kernel also goes
/// through the driver's JIT, and a lent GPU's minutes are few).
TEST(Cuda, ReductionsMatchTheInterpreter) {
  REQUIRE_GPU();
  reduce_test::MatrixTarget t;
  t.options.target = Target::cuda();
  t.depth = gpu_sum_depth;
  const char *env = std::getenv("XPR_GPU_REDUCE_MAX_RANK");
  const int max_rank = env && *env ? std::clamp(std::atoi(env), 1, 4) : 3;
  std::vector<int> ranks;
  for (int rank = 1; rank <= max_rank; ++rank)
    ranks.push_back(rank);
  // XPR_GPU_REDUCE_RANKS=1,3 picks ranks (the PTX simulator's ctest runs 1 to 3; under the
  // sanitizers rank 1 only).
  if (const char *list = std::getenv("XPR_GPU_REDUCE_RANKS"); list && *list) {
    ranks.clear();
    for (const char *c = list; *c; ++c)
      if (*c >= '1' && *c <= '4') ranks.push_back(*c - '0');
  }
  for (int rank : ranks) {
    SCOPED_TRACE(fmt::format("rank {}", rank));
    reduce_test::run_rank(rank, t);
  }
}

/// Rows long enough for several chunks and a combining pass (and three passes for the whole
/// array), fused maps, and the same bits on every run.
TEST(Cuda, ReductionsInPassesAreDeterministicAndWithinBound) {
  REQUIRE_GPU();
  Context gpu(Target::cuda());
  const std::int64_t R = 3, N = (1 << 22) + 17;
  std::vector<float> a(static_cast<std::size_t>(R * N));
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-4, 4);
  for (float &x : a)
    x = u(rng);
  Inputs in{{"a", view(a.data(), f32, {R, N})}};
  Program p = gpu.compile("input a: f32[r, n]\noutput rows = sum(a * a - 1, axis=1)\n"
                          "output all = sum(a)\noutput m = mean(a, axis=1)\n"
                          "output hi = max(a, axis=1)\n");
  Outputs first = p.run(in);
  for (int rep = 0; rep < 3; ++rep) {
    Outputs again = p.run(in);
    for (const char *o : {"rows", "all", "m", "hi"})
      ASSERT_EQ(std::memcmp(first.at(o).data(), again.at(o).data(),
                            static_cast<std::size_t>(first.at(o).size() * 4)),
                0)
          << o << " changed between runs";
  }
  // Within the bound of docs/semantics.md with the GPU's depth, against f64 sums.
  const double u24 = std::ldexp(1.0, -24);
  double total = 0, total_abs = 0;
  for (std::int64_t i = 0; i < R; ++i) {
    double s = 0, w = 0, sa = 0, wa = 0;
    float hi = -INFINITY;
    for (std::int64_t j = 0; j < N; ++j) {
      const double x = a[static_cast<std::size_t>(i * N + j)];
      const float xf = a[static_cast<std::size_t>(i * N + j)];
      const double y = static_cast<double>(xf * xf - 1.0f); // the map rounds in f32
      s += y;
      w += std::fabs(y);
      sa += x;
      wa += std::fabs(x);
      hi = std::max(hi, xf);
    }
    total += sa;
    total_abs += wa;
    const double tol = reduce_test::gamma(gpu_sum_depth(N), u24) * w + 1e-9 * w;
    EXPECT_NEAR(first.at("rows").data_as<float>()[i], s, tol) << "row " << i;
    EXPECT_NEAR(first.at("m").data_as<float>()[i], sa / static_cast<double>(N),
                (reduce_test::gamma(gpu_sum_depth(N) + static_cast<int>(N), std::ldexp(1.0, -53)) *
                 wa) / static_cast<double>(N) +
                    std::fabs(sa / static_cast<double>(N)) * u24)
        << "row " << i;
    EXPECT_EQ(first.at("hi").data_as<float>()[i], hi) << "row " << i;
  }
  EXPECT_NEAR(first.at("all").data_as<float>()[0], total,
              reduce_test::gamma(gpu_sum_depth(R * N), u24) * total_abs + 1e-9 * total_abs);
}

/// Device arrays (Context::to_device) give the same bits as host arrays through the same
/// kernels, reductions included, and results chain on the device.
/// Column reductions run the column schedule (rows adjacent in memory: coalesced loads), row
/// reductions of the same values the block schedule; both combine in the order fixed by the
/// row length alone, so a column of x and the same row of x's transpose give the same bits,
/// float sums included, with one chunk and with several.
TEST(Cuda, ColumnReductionsGiveTheBitsOfRowReductions) {
  REQUIRE_GPU();
  Context gpu(Target::cuda());
  Program cols = gpu.compile("input a: f32[m, k]\noutput s = sum(a * a - 1, axis=0)\n"
                             "output hi = max(a, axis=0)\noutput at = argmax(a, axis=0)\n"
                             "output mu = mean(a, axis=0)\n");
  Program rows = gpu.compile("input a: f32[k, m]\noutput s = sum(a * a - 1, axis=1)\n"
                             "output hi = max(a, axis=1)\noutput at = argmax(a, axis=1)\n"
                             "output mu = mean(a, axis=1)\n");
  Context cpu;
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-4, 4);
  // 5 groups of 32 columns, one chunk; 2 groups, two chunks: as many blocks of work as the fake
  // GPU's 4 multiprocessors or more, so that the column schedule runs. Rows of 1000 take the
  // block schedule, rows of 200 the warp schedule (chunks of 33 to 256 values), whose lanes
  // combine the 8 warps' trees in the block schedule's order.
  for (auto [m, k] : {std::pair<std::int64_t, std::int64_t>{1000, 130}, {200, 130}, {16400, 40}}) {
    SCOPED_TRACE(fmt::format("{} x {}", m, k));
    std::vector<float> a(static_cast<std::size_t>(m * k)), t(a.size());
    for (float &x : a)
      x = u(rng) * (rng() % 9 == 0 ? 1e-5f : 1.0f);
    a[static_cast<std::size_t>(7 * k + 3)] = 9.0f; // ties for column 3's argmax
    a[static_cast<std::size_t>((m - 2) * k + 3)] = 9.0f;
    for (std::int64_t i = 0; i < m; ++i)
      for (std::int64_t j = 0; j < k; ++j)
        t[static_cast<std::size_t>(j * m + i)] = a[static_cast<std::size_t>(i * k + j)];
    Outputs c = cols.run({{"a", view(a.data(), f32, {m, k})}});
    Outputs r = rows.run({{"a", view(t.data(), f32, {k, m})}});
    Outputs want = cpu.compile("input a: f32[m, k]\noutput at = argmax(a, axis=0)\n")
                       .run({{"a", view(a.data(), f32, {m, k})}});
    for (const char *o : {"s", "hi", "at", "mu"}) {
      ASSERT_EQ(c.at(o).size(), k) << o;
      EXPECT_EQ(std::memcmp(c.at(o).data(), r.at(o).data(),
                            static_cast<std::size_t>(k * dtype_size(c.at(o).dtype()))),
                0)
          << o << ": a column and the transpose's row differ";
    }
    EXPECT_EQ(std::memcmp(c.at("at").data(), want.at("at").data(), static_cast<std::size_t>(k) * 8),
              0);
    EXPECT_EQ(c.at("at").data_as<std::int64_t>()[3], 7);
    // Integers (wrapping sums, min) and bools are the interpreter's bits in any order.
    const char *ints =
        "input a: f32[m, k]\noutput s = sum(i32(a * 1e6), axis=0)\n"
        "output lo = min(i16(a * 1000), axis=0)\noutput any = any(a > 3.9, axis=0)\n";
    Outputs gi = gpu.compile(ints).run({{"a", view(a.data(), f32, {m, k})}});
    Outputs ci = cpu.compile(ints).run({{"a", view(a.data(), f32, {m, k})}});
    for (const char *o : {"s", "lo", "any"})
      EXPECT_EQ(std::memcmp(gi.at(o).data(), ci.at(o).data(),
                            static_cast<std::size_t>(k * dtype_size(gi.at(o).dtype()))),
                0)
          << o;
  }
}

TEST(Cuda, DeviceArraysGiveTheSameBitsAsHostArrays) {
  REQUIRE_GPU();
  Context gpu(Target::cuda());
  const std::int64_t n = (1 << 20) + 3;
  std::vector<float> a(static_cast<std::size_t>(n)), b(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    a[static_cast<std::size_t>(i)] = std::sin(static_cast<float>(i)) * 3.0f;
    b[static_cast<std::size_t>(i)] = std::cos(static_cast<float>(i) * 0.1f);
  }
  Program p = gpu.compile("input a: f32[n]\ninput b: f32[n]\noutput y = exp(-a * a) * b\n"
                          "output s = sum(a * b)\noutput k = argmax(a)\n");
  Inputs host{{"a", view(a.data(), f32, {n})}, {"b", view(b.data(), f32, {n})}};
  Outputs want = p.run(host);
  Inputs dev{{"a", gpu.to_device(host.at("a"))}, {"b", gpu.to_device(host.at("b"))}};
  Outputs got = p.run(dev);
  for (const char *o : {"y", "s", "k"}) {
    ASSERT_TRUE(got.at(o).on_device()) << o;
    Array g = gpu.to_host(got.at(o));
    ASSERT_EQ(std::memcmp(g.data(), want.at(o).data(),
                          static_cast<std::size_t>(g.size() * dtype_size(g.dtype()))),
              0)
        << o;
  }
  // A device result feeds the next run without leaving the GPU.
  Array y2 = gpu.to_host(p.run({{"a", got.at("y")}, {"b", dev.at("b")}}).at("y"));
  Array y2_host = p.run({{"a", want.at("y")}, {"b", host.at("b")}}).at("y");
  EXPECT_EQ(std::memcmp(y2.data(), y2_host.data(), static_cast<std::size_t>(n) * 4), 0);
}

/// Extra ULPs the GPU may take on an inexact function: libdevice's documented maximum errors
/// (CUDA C++ Programming Guide, "Mathematical Functions") exceed SLEEF's by up to 4 ULP.
constexpr int kLibdeviceExtraUlps = 4;

/// Empty when `got` (any layout) matches `want` (contiguous) under `tol`, else the first
/// difference in words.
std::string compare(const Array &want, const Array &got, const diff::Tolerance &tol) {
  if (got.dtype() != want.dtype() || got.shape() != want.shape())
    return fmt::format("result type differs: interpreter {}[{}], GPU {}[{}]",
                       dtype_name(want.dtype()), fmt::join(want.shape(), ", "),
                       dtype_name(got.dtype()), fmt::join(got.shape(), ", "));
  const DType t = want.dtype();
  DType compute = tol.fn_compute;
  if (is_float(t) && dtype_size(t) < dtype_size(compute)) compute = t;
  const double abs_tol = tol.abs_eps * diff::epsilon(tol.fn_compute);
  const Array g = got.is_contiguous() ? got : got.contiguous_copy();
  for (std::int64_t i = 0; i < want.size(); ++i) {
    std::uint64_t a = diff::load_bits(g.data(), t, i);
    std::uint64_t b = diff::load_bits(want.data(), t, i);
    bool ok = tol.exact || !is_float(t)
                  ? diff::exact_equal(t, a, b)
                  : diff::close_enough(t, a, b, compute, tol.ulps + kLibdeviceExtraUlps, abs_tol);
    if (!ok)
      return fmt::format("element {}: GPU {}, interpreter {} (allowed: {})", i,
                         diff::format_bits(t, a), diff::format_bits(t, b),
                         tol.exact ? std::string("exact") : tol.why + " + 4 ulp libdevice");
  }
  return {};
}

/// The last non-empty line of a script (its output statement), for one-line reports.
std::string last_line(const std::string &script) {
  std::string t = script;
  while (!t.empty() && t.back() == '\n') t.pop_back();
  return t.substr(t.rfind('\n') + 1);
}

/// The differential corpus (tests/differential), run on the GPU and compared with the
/// interpreter under the same tolerances as the CPU (docs/testing.md), plus the GPU's math
/// bounds for functions from libdevice (docs/gpu.md).
TEST(Cuda, DifferentialAgainstInterpreter) {
  REQUIRE_GPU();
  Context gpu(Target::cuda());
  const char *env = std::getenv("XPR_GPU_DIFF_PROGRAMS");
  const int programs = env && *env ? std::atoi(env) : 300;
  int checked = 0, rejected = 0, failed = 0;
  for (int i = 0; i < programs; ++i) {
    // The seeds of tests/differential (its default master seed and mixing): the same corpus.
    std::uint64_t x = 0x5eed2024ull ^ (static_cast<std::uint64_t>(i) * 0x100000001b3ull);
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    diff::Program prog = diff::generate_program(x ^ (x >> 31));
    const std::string script = prog.script();
    ir::Graph g;
    try {
      g = fe::compile_script(SourceFile("<diff>", script));
    } catch (const Error &) {
      ++rejected; // type errors the generator provokes on purpose
      continue;
    }
    Program p;
    try {
      p = gpu.compile(script);
    } catch (const Error &e) {
      ADD_FAILURE() << "compile failed:\n" << script << e.what();
      ++failed;
      continue;
    }
    for (bool strided : {false, true}) {
      diff::Instance inst = diff::make_instance(prog, prog.seed ^ (strided ? 7 : 3), strided);
      Inputs jit_in, ref_in;
      for (const auto &[name, d] : inst.inputs) {
        jit_in.emplace(name, d.view);
        ref_in.emplace(name, d.contiguous);
      }
      Array got;
      try {
        got = p.run(jit_in, inst.params).at("r");
      } catch (const Error &e) {
        ADD_FAILURE() << "run failed:\n" << script << inst.describe(prog) << e.what();
        ++failed;
        continue;
      }
      std::vector<Array> want;
      try {
        want = ir::interpret(g, ref_in, inst.params);
      } catch (const Error &) {
        continue; // the interpreter refuses (e.g. a size mismatch the generator provoked)
      }
      std::string why = compare(want.at(0), got, prog.tol);
      if (!why.empty()) {
        // The first few in full; the rest one line each, so that a run on a lent GPU shows
        // every failing program (its seed reproduces it with XPR_DIFF_PROGRAM on the CPU side).
        if (++failed <= 5)
          ADD_FAILURE() << "GPU differs from the interpreter:\n"
                        << script << inst.describe(prog) << why;
        else
          std::printf("[ DIFF     ] seed %#llx %s: %s | %s\n",
                      static_cast<unsigned long long>(prog.seed), strided ? "strided" : "contiguous",
                      last_line(script).c_str(), why.c_str());
      }
      ++checked;
    }
  }
  std::printf("[ INFO     ] %d GPU runs checked, %d programs rejected by sema, %d failures\n",
              checked, rejected, failed);
  EXPECT_EQ(failed, 0);
  EXPECT_GT(checked, programs / 2);
}

/// Integer arithmetic at the edges of each integer dtype (every pair of 8-bit values; the
/// extremes, ±1, powers of two and random pairs for wider types), each result also read back by
/// the operations that see a wrong register representation (an arithmetic shift by width-1, a
/// sign test, widening, conversion to f64, division): the GPU keeps 8- and 16-bit values in
/// 32-bit registers, and on sm_90 ptxas mistracks some of them (GpuNarrowInt.cpp). Each program
/// runs contiguous (vector loads), every other element (the scalar strided code) and with an odd
/// length (the scalar tail).
void check_integer_edges(Context &gpu) {
  const char *exprs[] = {"abs(a)",        "-a",           "sign(a)",        "~a",
                         "a + b",         "a - b",        "a * b",          "a // b",
                         "a % b",         "a << b",       "a >> b",         "pow(a, b)",
                         "pow(a, 2)",     "minimum(a, b)", "maximum(a, b)", "a & b",
                         "a | b",         "a ^ b",        "where(a < b, a, b)", "abs(a) - abs(b)"};
  int programs = 0, rejected = 0, failed = 0;
  for (DType t : {i8, u8, i16, u16, i32, u32, i64, u64}) {
    const int w = static_cast<int>(dtype_size(t)) * 8;
    // Values as 64-bit patterns, truncated to the dtype's width when stored.
    std::vector<std::uint64_t> va, vb;
    if (w == 8) {
      for (int x = 0; x < 256; ++x)
        for (int y = 0; y < 256; ++y) {
          va.push_back(static_cast<std::uint64_t>(x));
          vb.push_back(static_cast<std::uint64_t>(y));
        }
    } else {
      const std::uint64_t top = std::uint64_t{1} << (w - 1); // the most negative, as a pattern
      std::vector<std::uint64_t> e = {top, top + 1, top + 2, top - 1, top - 2, 0, 1, 2, 3, 7, 8};
      for (std::uint64_t k : {15ull, 16ull, 31ull, 32ull, 63ull, 127ull, 128ull, 255ull, 256ull,
                              32767ull, 32768ull, 65535ull, 65536ull}) {
        e.push_back(k);
        e.push_back(~k + 1); // -k
      }
      for (std::uint64_t x : e)
        for (std::uint64_t y : e) {
          va.push_back(x);
          vb.push_back(y);
        }
      std::uint64_t r = 0x9e3779b97f4a7c15ull ^ static_cast<std::uint64_t>(w);
      auto next = [&] { // splitmix64
        std::uint64_t z = (r += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
      };
      while (va.size() < 65536) {
        va.push_back(next());
        vb.push_back(next() >> (next() % 64)); // small shift counts and exponents too
      }
    }
    const std::int64_t n = static_cast<std::int64_t>(va.size());
    std::vector<unsigned char> ba(static_cast<std::size_t>(n) * (w / 8)),
        bb(static_cast<std::size_t>(n) * (w / 8));
    const std::uint64_t mask = w == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << w) - 1;
    for (std::int64_t i = 0; i < n; ++i) {
      va[static_cast<std::size_t>(i)] &= mask;
      vb[static_cast<std::size_t>(i)] &= mask;
      diff::store_bits(ba.data(), t, i, va[static_cast<std::size_t>(i)]);
      diff::store_bits(bb.data(), t, i, vb[static_cast<std::size_t>(i)]);
    }
    Inputs in{{"a", view(ba.data(), t, {n})}, {"b", view(bb.data(), t, {n})}};
    // The same values every other element of buffers twice as long: the scalar strided code.
    const std::size_t es = static_cast<std::size_t>(w / 8);
    std::vector<unsigned char> sa(ba.size() * 2, 0x5a), sb(bb.size() * 2, 0xa5);
    for (std::int64_t i = 0; i < n; ++i) {
      std::memcpy(&sa[static_cast<std::size_t>(2 * i) * es], &ba[static_cast<std::size_t>(i) * es], es);
      std::memcpy(&sb[static_cast<std::size_t>(2 * i) * es], &bb[static_cast<std::size_t>(i) * es], es);
    }
    Inputs strided{{"a", view(sa.data(), t, {n}, {2})}, {"b", view(sb.data(), t, {n}, {2})}};
    const std::vector<std::string> readers = {
        "{}", fmt::format("({}) >> {}", "{}", w - 1), "({}) < 0", "i64({})", "f64({})",
        "({}) // 7", "({}) * 3 + 1"};
    for (const char *x : exprs) {
      std::string script = fmt::format("input a: {0}[n]\ninput b: {0}[n]\n", dtype_name(t));
      for (std::size_t k = 0; k < readers.size(); ++k)
        script += fmt::format("output r{} = {}\n", k, fmt::format(fmt::runtime(readers[k]), x));
      ir::Graph g;
      try {
        g = fe::compile_script(SourceFile("<edges>", script));
      } catch (const Error &) {
        ++rejected; // e.g. negating an unsigned type, if sema refuses it
        continue;
      }
      ++programs;
      Program prog = gpu.compile(script);
      std::vector<Array> want = ir::interpret(g, in, {});
      for (int layout = 0; layout < 2; ++layout) {
      Outputs got = prog.run(layout ? strided : in);
      for (std::size_t k = 0; k < readers.size(); ++k) {
        const Array &wa = want.at(k);
        const Array &ga0 = got.at(fmt::format("r{}", k));
        ASSERT_EQ(ga0.dtype(), wa.dtype());
        const Array ga = ga0.is_contiguous() ? ga0 : ga0.contiguous_copy();
        for (std::int64_t i = 0; i < n; ++i) {
          std::uint64_t gb = diff::load_bits(ga.data(), wa.dtype(), i);
          std::uint64_t wb = diff::load_bits(wa.data(), wa.dtype(), i);
          if (diff::exact_equal(wa.dtype(), gb, wb)) continue;
          ++failed;
          ADD_FAILURE() << dtype_name(t) << " " << fmt::format(fmt::runtime(readers[k]), x)
                        << (layout ? " (strided)" : " (contiguous)") << " at a = " << diff::format_bits(t, va[static_cast<std::size_t>(i)])
                        << ", b = " << diff::format_bits(t, vb[static_cast<std::size_t>(i)])
                        << ": GPU " << diff::format_bits(wa.dtype(), gb) << ", interpreter "
                        << diff::format_bits(wa.dtype(), wb);
          break; // one line per expression, reader and layout
        }
      }
      }
    }
  }
  std::printf("[ INFO     ] %s: %d edge-value programs, %d rejected by sema, %d failing outputs\n",
              gpu.target_description().c_str(), programs, rejected, failed);
  EXPECT_GT(programs, 100);
}

/// copysign, signbit and sign read the sign of a NaN; half inputs widen to f32 on the way in, and
/// the GPU's cvt.f32.f16 canonicalizes NaNs to a positive one (KernelToMlir.cpp carries the sign).
void check_half_nan_signs(Context &ctx) {
  const std::uint16_t bits[] = {0xfe00, 0x7e00, 0xfc01, 0x8000, 0x0000, 0xbc00, 0x3c00, 0xfc00};
  const std::int64_t n = 8;
  std::vector<std::uint16_t> c(bits, bits + n);
  std::vector<std::uint16_t> cs(2 * n, 0x5555);
  for (std::int64_t i = 0; i < n; ++i) cs[static_cast<std::size_t>(2 * i)] = c[static_cast<std::size_t>(i)];
  const std::string script = "input c: f16[n]\noutput r0 = copysign(1, c)\noutput r1 = signbit(c)\n"
                             "output r2 = copysign(f16(2), c)\noutput r3 = copysign(c, -1)\n";
  ir::Graph g = fe::compile_script(SourceFile("<half-nan>", script));
  Inputs in{{"c", view(c.data(), f16, {n})}};
  std::vector<Array> want = ir::interpret(g, in, {});
  Program p = ctx.compile(script);
  for (int layout = 0; layout < 2; ++layout) {
    Outputs got = p.run(layout ? Inputs{{"c", view(cs.data(), f16, {n}, {2})}} : in);
    for (std::size_t k = 0; k < want.size(); ++k) {
      const Array &wa = want[k];
      const Array &ga = got.at(fmt::format("r{}", k));
      for (std::int64_t i = 0; i < n; ++i) {
        std::uint64_t gb = diff::load_bits(ga.data(), wa.dtype(), i);
        std::uint64_t wb = diff::load_bits(wa.data(), wa.dtype(), i);
        EXPECT_TRUE(diff::exact_equal(wa.dtype(), gb, wb))
            << ctx.target_description() << (layout ? " strided" : " contiguous") << " r" << k
            << " at c = " << diff::format_bits(f16, bits[i]) << ": got "
            << diff::format_bits(wa.dtype(), gb) << ", interpreter "
            << diff::format_bits(wa.dtype(), wb);
      }
    }
  }
}

TEST(Cuda, HalfNanSignsSurviveWidening) {
  REQUIRE_GPU();
  Context gpu(Target::cuda());
  check_half_nan_signs(gpu);
}

TEST(Cuda, HalfNanSignsSurviveWideningOnTheCpu) {
  Context cpu;
  check_half_nan_signs(cpu);
}

TEST(Cuda, IntegerOpsAtTheEdgesMatchTheInterpreter) {
  REQUIRE_GPU();
  Context gpu(Target::cuda());
  check_integer_edges(gpu);
}

// The same check on the CPU target: it proves the check itself (the CPU JIT passes the
// differential suite) and covers the CPU's own narrow-integer code at every 8-bit pair.
TEST(Cuda, IntegerOpsAtTheEdgesMatchTheInterpreterOnTheCpu) {
  Context cpu;
  check_integer_edges(cpu);
}

} // namespace
} // namespace xpr

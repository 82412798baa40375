// tests/gpu/FakeCuda.cpp — a stand-in libcuda.so.1 for machines without a GPU: device memory is
// host memory, "cubins" are the PTX text (checked to be PTX from our backend), and a launch calls
// a kernel the test registers, with the launch's parameter values. It exercises everything of
// the cuda target except the GPU itself: loading the driver by name, devices, transfers, the
// kernel ABI as the runtime marshals it, module loading and caching, launch configuration.
// With XPR_FAKE_CUDA_SIMULATE=1 and no kernel registered, a launch runs the kernel's own PTX in
// tests/gpu/PtxSim.cpp instead: the GPU test suite then runs here, on a software GPU.
//
// Streams are queues, as on a GPU and stricter: launches and copies (all three directions) only
// run at cuStreamSynchronize (or cuStreamDestroy), in order, so a host that reads results before
// it waits, or orders work across streams wrongly, reads garbage. A launch's parameter values
// are copied when it is queued, as the driver does. cuMemFree of memory that queued work still
// names (a copy's address, or any launch parameter inside the allocation) aborts the process:
// the runtime must wait before it frees. An event recorded on a stream marks its place in that
// queue; a stream waiting on it runs the other's work up to the mark first, when it runs itself.
#include "tests/gpu/PtxSim.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace {

using CUresult = int;
using Kernel = void (*)(void **args, int nargs, unsigned grid, unsigned block);

struct Function {
  std::string name;
  int nparams = 0;
  const std::string *module_text = nullptr; ///< the PTX it was found in (the module owns both)
};
struct Module {
  std::string text;
  std::vector<std::unique_ptr<Function>> functions; ///< freed with the module, as the driver does
};
struct Link {
  std::string data;
};

Kernel g_kernel = nullptr;
int g_launches = 0;
int g_modules_loaded = 0;
std::string g_last_module; // the text of the last module loaded
std::string g_sim_error;   // why the last simulated launch failed

bool simulating() {
  const char *e = std::getenv("XPR_FAKE_CUDA_SIMULATE");
  return e && *e && *e != '0';
}
int g_htod = 0, g_dtoh = 0;  // host-to-device and device-to-host copies
int g_syncs = 0;             // cuStreamSynchronize calls
bool g_fail_next = false;    // the next launch queued fails when it runs
int g_max_threads = 1024;    // cuFuncGetAttribute(MAX_THREADS_PER_BLOCK) of every kernel
int g_queries = 0;           // cuFuncGetAttribute and cuOccupancyMaxPotentialBlockSize calls
int g_fail_event = 0;        // 1: the next cuEventRecord fails; 2: the next cuStreamWaitEvent
int g_live_events = 0;       // created and not destroyed
int g_fail_alloc = -1;       // cuMemAlloc calls to let through before one fails (-1: none fails)

/// Queued work: what it does (its result is the stream's error) and the device addresses it
/// names, for cuMemFree's check.
struct Op {
  std::function<CUresult()> run;
  std::vector<unsigned long long> addresses;
  bool counted = true; // a launch or a copy (not an event's record or wait)
};
struct Queue {
  std::deque<Op> ops;
  CUresult error = 0; // the first failure since the last sync, whoever ran the work
};
/// An event: where its last record put it, and whether the stream has run past that point.
struct Event {
  std::shared_ptr<bool> done;
  void *stream = nullptr;
};
int g_event_waits = 0;                              // cuStreamWaitEvent calls on a recorded event
std::map<void *, std::unique_ptr<Queue>> g_streams; // by handle; the null stream is key nullptr
std::map<unsigned long long, std::size_t> g_allocations; // device address -> bytes

Queue &queue(void *stream) {
  std::unique_ptr<Queue> &q = g_streams[stream];
  if (!q) q = std::make_unique<Queue>();
  return *q;
}
CUresult enqueue(void *stream, std::vector<unsigned long long> addresses,
                 std::function<CUresult()> run, bool counted = true) {
  queue(stream).ops.push_back(Op{std::move(run), std::move(addresses), counted});
  return 0;
}
/// Whether [at, at + bytes) lies inside one live device allocation (the simulator's check of
/// every global access: a kernel reading past its array would read host memory here).
bool inside_allocation(std::uint64_t at, std::uint64_t bytes) {
  auto a = g_allocations.upper_bound(at);
  if (a == g_allocations.begin()) return false;
  --a;
  return at + bytes <= a->first + a->second;
}
/// Runs the first operation queued on `q`, keeping its failure for the stream's next sync.
void run_front(Queue &q) {
  Op op = std::move(q.ops.front());
  q.ops.pop_front();
  const CUresult r = op.run();
  if (r && !q.error) q.error = r;
}
/// Runs everything queued on `stream`; the first failure is the result (later work still runs,
/// as a GPU would not, but nothing the host can see depends on that).
CUresult drain(void *stream) {
  Queue &q = queue(stream);
  while (!q.ops.empty())
    run_front(q);
  return std::exchange(q.error, 0);
}

} // namespace

extern "C" {

// ---- control, for the test ----
void xpr_fake_cuda_set_kernel(Kernel k) { g_kernel = k; }
int xpr_fake_cuda_launches() { return g_launches; }
int xpr_fake_cuda_modules_loaded() { return g_modules_loaded; }
const char *xpr_fake_cuda_last_module() { return g_last_module.c_str(); }
/// 1 when launches without a registered kernel run their PTX (XPR_FAKE_CUDA_SIMULATE=1).
int xpr_fake_cuda_simulating() { return simulating() ? 1 : 0; }
void xpr_fake_cuda_copies(int *htod, int *dtoh) {
  *htod = g_htod;
  *dtoh = g_dtoh;
}
/// The next launch queued fails with CUDA_ERROR_LAUNCH_FAILED when its stream runs it.
void xpr_fake_cuda_fail_next_launch() { g_fail_next = true; }
/// What cuFuncGetAttribute(MAX_THREADS_PER_BLOCK) answers for every kernel (1024 until set), as
/// a kernel with many registers would; launches of more threads a block then fail.
void xpr_fake_cuda_set_max_threads(int n) { g_max_threads = n; }
/// cuStreamSynchronize calls so far.
int xpr_fake_cuda_syncs() { return g_syncs; }
/// Launches and copies queued on any stream and not yet run.
int xpr_fake_cuda_pending() {
  int n = 0;
  for (const auto &[h, q] : g_streams)
    for (const Op &op : q->ops)
      n += op.counted ? 1 : 0;
  return n;
}
/// Streams made to wait on an event (another stream's work) so far.
int xpr_fake_cuda_event_waits() { return g_event_waits; }
/// Questions asked about kernels so far (cuFuncGetAttribute, cuOccupancyMaxPotentialBlockSize):
/// the answers never change for a loaded kernel, so a runtime need not ask twice.
int xpr_fake_cuda_queries() { return g_queries; }
/// The next cuEventRecord (which = 1) or cuStreamWaitEvent (which = 2) fails with
/// CUDA_ERROR_INVALID_HANDLE and does nothing.
void xpr_fake_cuda_fail_next_event(int which) { g_fail_event = which; }
/// Events created and not yet destroyed.
int xpr_fake_cuda_live_events() { return g_live_events; }
/// After `n` more successful cuMemAlloc calls, the next fails with CUDA_ERROR_OUT_OF_MEMORY
/// (once); -1 turns that off.
void xpr_fake_cuda_fail_alloc_after(int n) { g_fail_alloc = n; }
/// Device allocations not yet freed.
int xpr_fake_cuda_live_allocations() { return static_cast<int>(g_allocations.size()); }

// ---- the driver API subset the runtime resolves ----
CUresult cuInit(unsigned) { return 0; }
CUresult cuDriverGetVersion(int *v) {
  *v = 12040;
  return 0;
}
CUresult cuGetErrorName(CUresult r, const char **s) {
  *s = r == 2     ? "CUDA_ERROR_OUT_OF_MEMORY"
       : r == 200 ? "CUDA_ERROR_INVALID_IMAGE"
       : r == 400 ? "CUDA_ERROR_INVALID_HANDLE"
       : r == 500 ? "CUDA_ERROR_NOT_FOUND"
       : r == 719 ? "CUDA_ERROR_LAUNCH_FAILED"
                  : "CUDA_ERROR_UNKNOWN";
  return 0;
}
CUresult cuGetErrorString(CUresult, const char **s) {
  *s = "fake driver error";
  return 0;
}
CUresult cuDeviceGetCount(int *n) {
  *n = 1;
  return 0;
}
CUresult cuDeviceGet(int *d, int ordinal) {
  *d = ordinal;
  return ordinal == 0 ? 0 : 101;
}
CUresult cuDeviceGetName(char *name, int len, int) {
  std::strncpy(name, "xpr fake GPU", static_cast<std::size_t>(len));
  return 0;
}
CUresult cuDeviceGetAttribute(int *v, int attr, int) {
  switch (attr) {
  case 1:
    *v = 1024;
    return 0; // max threads per block
  case 16:
    *v = 4;
    return 0; // multiprocessors
  case 75:
    *v = 9;
    return 0; // compute capability major
  case 76:
    *v = 0;
    return 0; // minor
  default:
    return 1;
  }
}
CUresult cuDevicePrimaryCtxRetain(void **ctx, int) {
  static int dummy;
  *ctx = &dummy;
  return 0;
}
CUresult cuDevicePrimaryCtxRelease_v2(int) { return 0; }
CUresult cuCtxSetCurrent(void *) { return 0; }
CUresult cuMemAlloc_v2(unsigned long long *p, std::size_t bytes) {
  if (g_fail_alloc == 0) {
    g_fail_alloc = -1;
    return 2;
  }
  if (g_fail_alloc > 0) --g_fail_alloc;
  void *m = std::aligned_alloc(256, (bytes + 255) / 256 * 256);
  if (!m) return 2;
  std::memset(m, 0xAB, bytes); // device memory starts as garbage
  *p = reinterpret_cast<unsigned long long>(m);
  g_allocations[*p] = bytes;
  return 0;
}
CUresult cuMemFree_v2(unsigned long long p) {
  const auto a = g_allocations.find(p);
  const unsigned long long end = a == g_allocations.end() ? p + 1 : p + a->second;
  for (const auto &[h, q] : g_streams)
    for (const Op &op : q->ops)
      for (unsigned long long x : op.addresses)
        if (x >= p && x < end) {
          std::fprintf(stderr, "fake libcuda.so.1: cuMemFree of device memory that queued work "
                               "still uses (the host did not wait for its stream)\n");
          std::abort();
        }
  if (a != g_allocations.end()) g_allocations.erase(a);
  std::free(reinterpret_cast<void *>(p));
  return 0;
}
CUresult cuMemcpyHtoDAsync_v2(unsigned long long d, const void *s, std::size_t n, void *st) {
  ++g_htod;
  return enqueue(st, {d}, [=] {
    std::memcpy(reinterpret_cast<void *>(d), s, n);
    return 0;
  });
}
CUresult cuMemcpyDtoHAsync_v2(void *d, unsigned long long s, std::size_t n, void *st) {
  ++g_dtoh;
  return enqueue(st, {s}, [=] {
    std::memcpy(d, reinterpret_cast<const void *>(s), n);
    return 0;
  });
}
CUresult cuMemcpyDtoDAsync_v2(unsigned long long d, unsigned long long s, std::size_t n, void *st) {
  return enqueue(st, {d, s}, [=] {
    std::memcpy(reinterpret_cast<void *>(d), reinterpret_cast<const void *>(s), n);
    return 0;
  });
}
CUresult cuStreamCreate(void **s, unsigned) {
  auto q = std::make_unique<Queue>();
  *s = q.get();
  g_streams[*s] = std::move(q);
  return 0;
}
CUresult cuEventCreate(void **e, unsigned) {
  *e = new Event;
  ++g_live_events;
  return 0;
}
CUresult cuEventRecord(void *e, void *stream) {
  if (g_fail_event == 1) return g_fail_event = 0, 400;
  auto *ev = static_cast<Event *>(e);
  ev->done = std::make_shared<bool>(false);
  ev->stream = stream;
  return enqueue(
      stream, {},
      [d = ev->done]() {
        *d = true;
        return CUresult{0};
      },
      false);
}
CUresult cuStreamWaitEvent(void *stream, void *e, unsigned) {
  if (g_fail_event == 2) return g_fail_event = 0, 400;
  const auto *ev = static_cast<Event *>(e);
  if (!ev->done) return 0; // never recorded: nothing to wait for
  ++g_event_waits;
  return enqueue(
      stream, {},
      [d = ev->done, src = ev->stream]() -> CUresult {
        while (!*d) {
          const auto q = g_streams.find(src);
          if (q == g_streams.end() || q->second->ops.empty()) return 400; // INVALID_HANDLE
          run_front(*q->second);
        }
        return 0;
      },
      false);
}
CUresult cuEventDestroy_v2(void *e) {
  // The driver frees a recorded event once the GPU is past it; here the queued wait holds it.
  delete static_cast<Event *>(e);
  --g_live_events;
  return 0;
}
CUresult cuStreamDestroy_v2(void *s) {
  // The driver lets queued work finish after a stream is destroyed; here it runs now.
  drain(s);
  g_streams.erase(s);
  return 0;
}
CUresult cuStreamSynchronize(void *s) {
  ++g_syncs;
  return drain(s);
}
CUresult cuLinkCreate_v2(unsigned, int *, void **, void **state) {
  *state = new Link();
  return 0;
}
CUresult cuLinkAddData_v2(void *state, int type, void *data, std::size_t size, const char *,
                          unsigned, int *, void **) {
  if (type != 1) return 1; // PTX only
  static_cast<Link *>(state)->data.assign(static_cast<const char *>(data), size);
  return 0;
}
CUresult cuLinkComplete(void *state, void **image, std::size_t *size) {
  Link *l = static_cast<Link *>(state);
  *image = l->data.data();
  *size = l->data.size();
  return 0;
}
CUresult cuLinkDestroy(void *state) {
  delete static_cast<Link *>(state);
  return 0;
}
CUresult cuModuleLoadDataEx(void **m, const void *image, unsigned, int *, void **) {
  const char *text = static_cast<const char *>(image);
  // Only PTX from our backend is a valid "cubin" here.
  if (std::strncmp(text, "//\n// Generated by LLVM NVPTX Back-End", 38) != 0) return 200;
  ++g_modules_loaded;
  g_last_module = text;
  *m = new Module{text, {}};
  return 0;
}
CUresult cuModuleUnload(void *m) {
  delete static_cast<Module *>(m);
  return 0;
}
CUresult cuModuleGetFunction(void **f, void *m, const char *name) {
  const std::string &t = static_cast<Module *>(m)->text;
  if (t.find(".entry " + std::string(name) + "(") == std::string::npos) return 500;
  auto *mod = static_cast<Module *>(m);
  Function *fn = mod->functions.emplace_back(new Function{name, 0, &mod->text}).get();
  const std::string p = std::string(".param .u64 ") + name + "_param_";
  for (std::size_t at = t.find(p); at != std::string::npos; at = t.find(p, at + 1))
    ++fn->nparams;
  *f = fn;
  return 0;
}
CUresult cuLaunchKernel(void *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                        unsigned bz, unsigned shared, void *stream, void **args, void **) {
  if (gy != 1 || gz != 1 || by != 1 || bz != 1 || gx == 0 || bx == 0) return 1;
  if (shared > 48 * 1024) return 1; // more dynamic shared memory needs an opt-in attribute
  if (static_cast<int>(bx) > g_max_threads) return 701; // CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES
  ++g_launches;
  const Function *fn = static_cast<Function *>(f);
  // Every parameter of our kernels is 8 bytes (pointers, sizes, strides, param bits).
  std::vector<unsigned long long> vals(static_cast<std::size_t>(fn->nparams));
  for (std::size_t i = 0; i < vals.size(); ++i)
    std::memcpy(&vals[i], args[i], 8);
  const Kernel k = g_kernel;
  const bool fail = std::exchange(g_fail_next, false);
  return enqueue(stream, vals, [=]() mutable -> CUresult {
    if (fail) return 719;
    std::vector<void *> argv;
    for (unsigned long long &v : vals)
      argv.push_back(&v);
    if (k) {
      k(argv.data(), fn->nparams, gx, bx);
    } else if (simulating()) {
      xpr::ptxsim::set_global_check(inside_allocation);
      g_sim_error =
          xpr::ptxsim::launch(*fn->module_text, fn->name, gx, bx, argv.data(), nullptr, shared);
      if (!g_sim_error.empty()) {
        std::fprintf(stderr, "fake libcuda.so.1: the PTX simulator failed: %s\n",
                     g_sim_error.c_str());
        return 719; // CUDA_ERROR_LAUNCH_FAILED
      }
    }
    return 0;
  });
}
CUresult cuFuncGetAttribute(int *v, int attribute, void *) {
  if (attribute != 0) return 1; // CUDA_ERROR_INVALID_VALUE: only MAX_THREADS_PER_BLOCK is asked
  ++g_queries;
  *v = g_max_threads;
  return 0;
}
CUresult cuOccupancyMaxPotentialBlockSize(int *min_grid, int *block, void *, std::size_t (*)(int),
                                          std::size_t, int) {
  ++g_queries;
  *min_grid = 8;
  *block = 256;
  return 0;
}

} // extern "C"

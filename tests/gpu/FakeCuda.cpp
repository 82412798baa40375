// tests/gpu/FakeCuda.cpp — a stand-in libcuda.so.1 for machines without a GPU: device memory is
// host memory, "cubins" are the PTX text (checked to be PTX from our backend), and a launch calls
// a kernel the test registers, with the launch's parameter values. It exercises everything of
// the cuda target except the GPU itself: loading the driver by name, devices, transfers, the
// kernel ABI as the runtime marshals it, module loading and caching, launch configuration.
// With XPR_FAKE_CUDA_SIMULATE=1 and no kernel registered, a launch runs the kernel's own PTX in
// tests/gpu/PtxSim.cpp instead: the GPU test suite then runs here, on a software GPU.
#include "tests/gpu/PtxSim.h"

#include <cstdio>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <memory>
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

// ---- the driver API subset the runtime resolves ----
CUresult cuInit(unsigned) { return 0; }
CUresult cuDriverGetVersion(int *v) {
  *v = 12040;
  return 0;
}
CUresult cuGetErrorName(CUresult r, const char **s) {
  *s = r == 200   ? "CUDA_ERROR_INVALID_IMAGE"
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
  void *m = std::aligned_alloc(256, (bytes + 255) / 256 * 256);
  if (!m) return 2;
  std::memset(m, 0xAB, bytes); // device memory starts as garbage
  *p = reinterpret_cast<unsigned long long>(m);
  return 0;
}
CUresult cuMemFree_v2(unsigned long long p) {
  std::free(reinterpret_cast<void *>(p));
  return 0;
}
CUresult cuMemcpyHtoDAsync_v2(unsigned long long d, const void *s, std::size_t n, void *) {
  ++g_htod;
  std::memcpy(reinterpret_cast<void *>(d), s, n);
  return 0;
}
CUresult cuMemcpyDtoHAsync_v2(void *d, unsigned long long s, std::size_t n, void *) {
  ++g_dtoh;
  std::memcpy(d, reinterpret_cast<const void *>(s), n);
  return 0;
}
CUresult cuMemcpyDtoDAsync_v2(unsigned long long d, unsigned long long s, std::size_t n, void *) {
  std::memcpy(reinterpret_cast<void *>(d), reinterpret_cast<const void *>(s), n);
  return 0;
}
CUresult cuStreamCreate(void **s, unsigned) {
  static int dummy;
  *s = &dummy;
  return 0;
}
CUresult cuStreamDestroy_v2(void *) { return 0; }
CUresult cuStreamSynchronize(void *) { return 0; }
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
                        unsigned bz, unsigned, void *, void **args, void **) {
  if (gy != 1 || gz != 1 || by != 1 || bz != 1 || gx == 0 || bx == 0) return 1;
  ++g_launches;
  const Function *fn = static_cast<Function *>(f);
  if (g_kernel) {
    g_kernel(args, fn->nparams, gx, bx);
  } else if (simulating()) {
    g_sim_error = xpr::ptxsim::launch(*fn->module_text, fn->name, gx, bx, args);
    if (!g_sim_error.empty()) {
      std::fprintf(stderr, "fake libcuda.so.1: the PTX simulator failed: %s\n",
                   g_sim_error.c_str());
      return 719; // CUDA_ERROR_LAUNCH_FAILED
    }
  }
  return 0;
}
CUresult cuOccupancyMaxPotentialBlockSize(int *min_grid, int *block, void *, std::size_t (*)(int),
                                          std::size_t, int) {
  *min_grid = 8;
  *block = 256;
  return 0;
}

} // extern "C"

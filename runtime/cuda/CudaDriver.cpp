// runtime/cuda/CudaDriver.cpp — libcuda.so.1 through dlopen/dlsym, CUDA errors as xpr::Error.
#include "runtime/cuda/CudaDriver.h"

#include <xpr/error.hpp>

#include <fmt/format.h>

#include <dlfcn.h>

#include <algorithm>
#include <mutex>
#include <string_view>
#include <vector>

namespace xpr::rt::cuda {

namespace {

constexpr int kJitInfoLog = 3, kJitInfoLogSize = 4, kJitErrorLog = 5, kJitErrorLogSize = 6;
constexpr int kJitInputPtx = 1;
constexpr unsigned kStreamNonBlocking = 1;

[[noreturn]] void runtime(std::string msg) { throw Error(ErrorKind::Runtime, std::move(msg)); }

struct Loaded {
  std::once_flag once;
  Driver *drv = nullptr;
  std::string error;
};
Loaded &loaded() {
  static Loaded l;
  return l;
}

/// Names of the errors most likely before the driver can name them itself (the toolkit's stub
/// library answers every call, cuGetErrorName included, with CUDA_ERROR_STUB_LIBRARY).
const char *known_error_name(CUresult r) {
  switch (r) {
  case 1:
    return "CUDA_ERROR_INVALID_VALUE";
  case 2:
    return "CUDA_ERROR_OUT_OF_MEMORY";
  case 3:
    return "CUDA_ERROR_NOT_INITIALIZED";
  case 4:
    return "CUDA_ERROR_DEINITIALIZED";
  case 34:
    return "CUDA_ERROR_STUB_LIBRARY";
  case 35:
    return "CUDA_ERROR_INSUFFICIENT_DRIVER";
  case 46:
    return "CUDA_ERROR_DEVICE_UNAVAILABLE";
  case 100:
    return "CUDA_ERROR_NO_DEVICE";
  case 101:
    return "CUDA_ERROR_INVALID_DEVICE";
  case 200:
    return "CUDA_ERROR_INVALID_IMAGE";
  case 201:
    return "CUDA_ERROR_INVALID_CONTEXT";
  case 209:
    return "CUDA_ERROR_NO_BINARY_FOR_GPU";
  case 218:
    return "CUDA_ERROR_INVALID_PTX";
  case 221:
    return "CUDA_ERROR_JIT_COMPILER_NOT_FOUND";
  case 222:
    return "CUDA_ERROR_UNSUPPORTED_PTX_VERSION";
  case 500:
    return "CUDA_ERROR_NOT_FOUND";
  case 700:
    return "CUDA_ERROR_ILLEGAL_ADDRESS";
  case 701:
    return "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES";
  case 702:
    return "CUDA_ERROR_LAUNCH_TIMEOUT";
  case 803:
    return "CUDA_ERROR_SYSTEM_DRIVER_MISMATCH";
  case 804:
    return "CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE";
  default:
    return nullptr;
  }
}

} // namespace

void Driver::check(CUresult r, std::string_view what) const {
  if (r == 0) return;
  const char *name = nullptr, *text = nullptr;
  if (!api_.cuGetErrorName || api_.cuGetErrorName(r, &name) != 0) name = nullptr;
  if (!api_.cuGetErrorString || api_.cuGetErrorString(r, &text) != 0) text = nullptr;
  if (!name) name = known_error_name(r);
  runtime(fmt::format("{} ({}){}{} in {}", name ? name : "unnamed CUDA error", r, text ? ": " : "",
                      text ? text : "", what));
}

const Driver *Driver::try_get(std::string *why) {
  Loaded &l = loaded();
  std::call_once(l.once, [&l] {
    void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
      // glibc's dlerror() text already starts with the file name: say it once.
      const char *err = dlerror();
      std::string_view e = err ? err : "not found";
      if (e.starts_with("libcuda.so.1: ")) e.remove_prefix(14);
      l.error = fmt::format("no CUDA driver found (libcuda.so.1: {})", e);
      return;
    }
    auto drv = std::unique_ptr<Driver>(new Driver());
    drv->lib_ = lib;
    std::string missing;
    auto sym = [&](auto &fn, const char *name) {
      void *p = dlsym(lib, name);
      if (!p) missing += std::string(missing.empty() ? "" : ", ") + name;
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(p);
    };
    DriverApi &a = drv->api_;
    sym(a.cuInit, "cuInit");
    sym(a.cuDriverGetVersion, "cuDriverGetVersion");
    sym(a.cuGetErrorName, "cuGetErrorName");
    sym(a.cuGetErrorString, "cuGetErrorString");
    sym(a.cuDeviceGetCount, "cuDeviceGetCount");
    sym(a.cuDeviceGet, "cuDeviceGet");
    sym(a.cuDeviceGetName, "cuDeviceGetName");
    sym(a.cuDeviceGetAttribute, "cuDeviceGetAttribute");
    sym(a.cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain");
    sym(a.cuDevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2");
    sym(a.cuCtxSetCurrent, "cuCtxSetCurrent");
    sym(a.cuMemAlloc, "cuMemAlloc_v2");
    sym(a.cuMemFree, "cuMemFree_v2");
    sym(a.cuMemcpyHtoDAsync, "cuMemcpyHtoDAsync_v2");
    sym(a.cuMemcpyDtoHAsync, "cuMemcpyDtoHAsync_v2");
    sym(a.cuMemcpyDtoDAsync, "cuMemcpyDtoDAsync_v2");
    sym(a.cuStreamCreate, "cuStreamCreate");
    sym(a.cuStreamDestroy, "cuStreamDestroy_v2");
    sym(a.cuStreamSynchronize, "cuStreamSynchronize");
    sym(a.cuEventCreate, "cuEventCreate");
    sym(a.cuEventRecord, "cuEventRecord");
    sym(a.cuEventDestroy, "cuEventDestroy_v2");
    sym(a.cuStreamWaitEvent, "cuStreamWaitEvent");
    sym(a.cuModuleLoadDataEx, "cuModuleLoadDataEx");
    sym(a.cuModuleUnload, "cuModuleUnload");
    sym(a.cuModuleGetFunction, "cuModuleGetFunction");
    sym(a.cuLinkCreate, "cuLinkCreate_v2");
    sym(a.cuLinkAddData, "cuLinkAddData_v2");
    sym(a.cuLinkComplete, "cuLinkComplete");
    sym(a.cuLinkDestroy, "cuLinkDestroy");
    sym(a.cuLaunchKernel, "cuLaunchKernel");
    sym(a.cuOccupancyMaxPotentialBlockSize, "cuOccupancyMaxPotentialBlockSize");
    sym(a.cuFuncGetAttribute, "cuFuncGetAttribute");
    if (!missing.empty()) {
      l.error = fmt::format("the CUDA driver (libcuda.so.1) is too old: it lacks {}", missing);
      dlclose(lib);
      return;
    }
    try {
      drv->check(a.cuInit(0), "cuInit");
      drv->check(a.cuDriverGetVersion(&drv->version_), "cuDriverGetVersion");
      drv->check(a.cuDeviceGetCount(&drv->device_count_), "cuDeviceGetCount");
    } catch (const Error &e) {
      l.error = fmt::format("no CUDA GPU found ({})", e.message());
      dlclose(lib);
      return;
    }
    if (drv->device_count_ == 0) {
      l.error = "no CUDA GPU found (the driver reports 0 devices)";
      dlclose(lib);
      return;
    }
    l.drv = drv.release(); // lives for the process: kernels and buffers may outlive any owner
  });
  if (!l.drv && why) *why = l.error;
  return l.drv;
}

const Driver &Driver::get() {
  std::string why;
  const Driver *d = try_get(&why);
  if (!d) runtime(why);
  return *d;
}

// ---- Device ----

Device::Device(int ordinal) : drv_(&Driver::get()), ordinal_(ordinal) {
  const DriverApi &a = drv_->api();
  if (ordinal < 0 || ordinal >= drv_->device_count())
    runtime(fmt::format("CUDA device {} does not exist ({} device{} found)", ordinal,
                        drv_->device_count(), drv_->device_count() == 1 ? "" : "s"));
  drv_->check(a.cuDeviceGet(&dev_, ordinal), "cuDeviceGet");
  char name[256] = {};
  drv_->check(a.cuDeviceGetName(name, sizeof name - 1, dev_), "cuDeviceGetName");
  name_ = name;
  int major = 0, minor = 0;
  drv_->check(a.cuDeviceGetAttribute(&major, attr::kComputeCapabilityMajor, dev_),
              "cuDeviceGetAttribute");
  drv_->check(a.cuDeviceGetAttribute(&minor, attr::kComputeCapabilityMinor, dev_),
              "cuDeviceGetAttribute");
  drv_->check(a.cuDeviceGetAttribute(&sms_, attr::kMultiprocessorCount, dev_),
              "cuDeviceGetAttribute");
  cc_ = major * 10 + minor;
  drv_->check(a.cuDevicePrimaryCtxRetain(&ctx_, dev_), "cuDevicePrimaryCtxRetain");
}

Device::~Device() {
  if (ctx_) drv_->api().cuDevicePrimaryCtxRelease(dev_);
}

void Device::use() const { drv_->check(drv_->api().cuCtxSetCurrent(ctx_), "cuCtxSetCurrent"); }

bool Device::try_use() const noexcept { return drv_->api().cuCtxSetCurrent(ctx_) == 0; }

// ---- DeviceBuffer ----

DeviceBuffer::DeviceBuffer(const Device &dev, std::size_t bytes) : dev_(&dev), bytes_(bytes) {
  dev.use();
  // A zero-byte request still gets a valid (tiny) allocation: kernels take its address.
  dev.driver().check(dev.driver().api().cuMemAlloc(&ptr_, std::max<std::size_t>(bytes, 1)),
                     fmt::format("cuMemAlloc of {} bytes", bytes));
}

DeviceBuffer::~DeviceBuffer() {
  // Never throws: a destructor that threw would end the process.
  if (ptr_ && dev_->try_use()) dev_->driver().api().cuMemFree(ptr_);
}

DeviceBuffer::DeviceBuffer(DeviceBuffer &&o) noexcept
    : dev_(o.dev_), ptr_(o.ptr_), bytes_(o.bytes_) {
  o.ptr_ = 0;
  o.bytes_ = 0;
}

DeviceBuffer &DeviceBuffer::operator=(DeviceBuffer &&o) noexcept {
  if (this != &o) {
    if (ptr_ && dev_->try_use()) dev_->driver().api().cuMemFree(ptr_);
    dev_ = o.dev_;
    ptr_ = o.ptr_;
    bytes_ = o.bytes_;
    o.ptr_ = 0;
    o.bytes_ = 0;
  }
  return *this;
}

// ---- Stream ----

Stream::Stream(const Device &dev) : dev_(dev) {
  dev.use();
  dev.driver().check(dev.driver().api().cuStreamCreate(&s_, kStreamNonBlocking), "cuStreamCreate");
}

Stream::~Stream() {
  if (s_) {
    dev_.use();
    dev_.driver().api().cuStreamDestroy(s_);
  }
}

void Stream::to_device(CUdeviceptr dst, const void *src, std::size_t bytes) const {
  if (bytes == 0) return;
  dev_.driver().check(dev_.driver().api().cuMemcpyHtoDAsync(dst, src, bytes, s_),
                      "cuMemcpyHtoDAsync");
}

void Stream::to_host(void *dst, CUdeviceptr src, std::size_t bytes) const {
  if (bytes == 0) return;
  dev_.driver().check(dev_.driver().api().cuMemcpyDtoHAsync(dst, src, bytes, s_),
                      "cuMemcpyDtoHAsync");
}

void Stream::copy(CUdeviceptr dst, CUdeviceptr src, std::size_t bytes) const {
  if (bytes == 0) return;
  dev_.driver().check(dev_.driver().api().cuMemcpyDtoDAsync(dst, src, bytes, s_),
                      "cuMemcpyDtoDAsync");
}

void Stream::sync() const {
  dev_.driver().check(dev_.driver().api().cuStreamSynchronize(s_), "cuStreamSynchronize");
}

void Stream::wait_for(const Stream &other) const {
  const DriverApi &api = dev_.driver().api();
  CUevent e = nullptr;
  dev_.use();
  dev_.driver().check(api.cuEventCreate(&e, attr::kEventDisableTiming), "cuEventCreate");
  // Destroying a recorded event is allowed before the GPU reaches it: the wait queued on it
  // stays, and the driver frees the event once it has completed.
  struct Destroy {
    const DriverApi &api;
    CUevent e;
    ~Destroy() { api.cuEventDestroy(e); }
  } destroy{api, e};
  dev_.driver().check(api.cuEventRecord(e, other.s_), "cuEventRecord");
  dev_.driver().check(api.cuStreamWaitEvent(s_, e, 0), "cuStreamWaitEvent");
}

// ---- Module ----

std::unique_ptr<Module> Module::from_ptx(const Device &dev, const std::string &ptx,
                                         std::string *cubin) {
  dev.use();
  const Driver &d = dev.driver();
  const DriverApi &a = d.api();
  std::vector<char> err(16384, 0), info(16384, 0);
  int opts[] = {kJitErrorLog, kJitErrorLogSize, kJitInfoLog, kJitInfoLogSize};
  void *vals[] = {err.data(), reinterpret_cast<void *>(err.size() - 1), info.data(),
                  reinterpret_cast<void *>(info.size() - 1)};
  CUlinkState link = nullptr;
  d.check(a.cuLinkCreate(4, opts, vals, &link), "cuLinkCreate");
  struct Guard {
    const DriverApi &a;
    CUlinkState l;
    ~Guard() { a.cuLinkDestroy(l); }
  } guard{a, link};
  // The driver JIT reads a NUL-terminated PTX string.
  std::string text = ptx;
  CUresult r = a.cuLinkAddData(link, kJitInputPtx, text.data(), text.size() + 1, "xpr.ptx", 0,
                               nullptr, nullptr);
  if (r != 0) {
    try {
      d.check(r, "cuLinkAddData (PTX JIT)");
    } catch (const Error &e) {
      runtime(fmt::format("{}\n{}", e.what(), err.data()));
    }
  }
  void *image = nullptr;
  std::size_t size = 0;
  r = a.cuLinkComplete(link, &image, &size);
  if (r != 0) {
    try {
      d.check(r, "cuLinkComplete");
    } catch (const Error &e) {
      runtime(fmt::format("{}\n{}", e.what(), err.data()));
    }
  }
  std::string bin(static_cast<const char *>(image), size);
  if (cubin) *cubin = bin;
  return from_cubin(dev, bin); // the image belongs to the link state: load it before destroying
}

std::unique_ptr<Module> Module::from_cubin(const Device &dev, const std::string &cubin) {
  dev.use();
  CUmodule m = nullptr;
  dev.driver().check(dev.driver().api().cuModuleLoadDataEx(&m, cubin.data(), 0, nullptr, nullptr),
                     "cuModuleLoadDataEx");
  return std::unique_ptr<Module>(new Module(dev, m));
}

Module::~Module() {
  if (m_) {
    dev_.use();
    dev_.driver().api().cuModuleUnload(m_);
  }
}

Function Module::function(const std::string &name) const {
  CUfunction f = nullptr;
  dev_.driver().check(dev_.driver().api().cuModuleGetFunction(&f, m_, name.c_str()),
                      "cuModuleGetFunction(" + name + ")");
  return Function(dev_, f);
}

// ---- Function ----

int Function::max_block_threads() const {
  if (max_threads_ == 0) {
    int v = 0; // kept only once the driver has answered
    dev_->driver().check(
        dev_->driver().api().cuFuncGetAttribute(&v, attr::kFuncMaxThreadsPerBlock, f_),
        "cuFuncGetAttribute");
    max_threads_ = v;
  }
  return max_threads_;
}

Function::Occupancy Function::occupancy(int limit, unsigned shared) const {
  for (const Asked &a : occupancy_)
    if (a.limit == limit && a.shared == shared) return a.answer;
  Occupancy o;
  dev_->driver().check(dev_->driver().api().cuOccupancyMaxPotentialBlockSize(
                           &o.min_grid, &o.block, f_, nullptr, shared, limit),
                       "cuOccupancyMaxPotentialBlockSize");
  occupancy_.push_back({limit, shared, o});
  return o;
}

// ---- launches ----

LaunchConfig launch_config(const Function &f, std::int64_t n) {
  const Function::Occupancy o = f.occupancy(0);
  LaunchConfig c;
  c.block = static_cast<unsigned>(std::max(o.block, 32));
  // min_grid blocks fill every multiprocessor at the best occupancy; more would only queue.
  // Fewer when n is small: no block without work.
  const std::int64_t needed = (std::max<std::int64_t>(n, 1) + c.block - 1) / c.block;
  c.grid = static_cast<unsigned>(std::max<std::int64_t>(
      1, std::min<std::int64_t>(needed, std::max(o.min_grid, f.device().multiprocessors()))));
  return c;
}

LaunchConfig launch_config_blocks(const Function &f, std::int64_t blocks, unsigned block,
                                  unsigned shared) {
  const Function::Occupancy o = f.occupancy(static_cast<int>(block), shared);
  // min_grid blocks of `best` threads fill the device; the same threads in blocks of `block`.
  const std::int64_t fill =
      std::max<std::int64_t>(static_cast<std::int64_t>(o.min_grid) * std::max(o.block, 1) /
                                 static_cast<std::int64_t>(block),
                             f.device().multiprocessors());
  LaunchConfig c;
  c.block = block;
  c.shared = shared;
  c.grid = static_cast<unsigned>(std::max<std::int64_t>(1, std::min(blocks, fill)));
  return c;
}

void launch(const Stream &s, const Function &f, LaunchConfig c, void **args) {
  const Driver &d = f.device().driver();
  d.check(d.api().cuLaunchKernel(f.get(), c.grid, 1, 1, c.block, 1, 1, c.shared, s.get(), args,
                                 nullptr),
          "cuLaunchKernel");
}

} // namespace xpr::rt::cuda

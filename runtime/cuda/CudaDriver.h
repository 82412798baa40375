// runtime/cuda/CudaDriver.h — the CUDA driver API, loaded at run time with dlopen("libcuda.so.1"):
// no binary links against CUDA, and a machine without a driver only sees a clear error when it
// asks for the cuda target (docs/gpu.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace xpr::rt::cuda {

// The few driver types we use, declared here so that building needs no CUDA headers. They are
// the driver ABI's (checked against cuda.h by CudaDriver.cpp where cuda.h exists at build time).
using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = struct CUctx_st *;
using CUmodule = struct CUmod_st *;
using CUfunction = struct CUfunc_st *;
using CUstream = struct CUstream_st *;
using CUevent = struct CUevent_st *;
using CUlinkState = struct CUlinkState_st *;

/// The resolved driver entry points. Every call goes through check(), which turns a failure into
/// Error(Runtime) naming the CUDA error ("CUDA_ERROR_OUT_OF_MEMORY: out of memory (cuMemAlloc)").
struct DriverApi {
  CUresult (*cuInit)(unsigned);
  CUresult (*cuDriverGetVersion)(int *);
  CUresult (*cuGetErrorName)(CUresult, const char **);
  CUresult (*cuGetErrorString)(CUresult, const char **);
  CUresult (*cuDeviceGetCount)(int *);
  CUresult (*cuDeviceGet)(CUdevice *, int);
  CUresult (*cuDeviceGetName)(char *, int, CUdevice);
  CUresult (*cuDeviceGetAttribute)(int *, int, CUdevice);
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *, CUdevice);
  CUresult (*cuDevicePrimaryCtxRelease)(CUdevice);
  CUresult (*cuCtxSetCurrent)(CUcontext);
  CUresult (*cuMemAlloc)(CUdeviceptr *, std::size_t);
  CUresult (*cuMemFree)(CUdeviceptr);
  CUresult (*cuMemcpyHtoDAsync)(CUdeviceptr, const void *, std::size_t, CUstream);
  CUresult (*cuMemcpyDtoHAsync)(void *, CUdeviceptr, std::size_t, CUstream);
  CUresult (*cuMemcpyDtoDAsync)(CUdeviceptr, CUdeviceptr, std::size_t, CUstream);
  CUresult (*cuStreamCreate)(CUstream *, unsigned);
  CUresult (*cuStreamDestroy)(CUstream);
  CUresult (*cuStreamSynchronize)(CUstream);
  CUresult (*cuEventCreate)(CUevent *, unsigned);
  CUresult (*cuEventRecord)(CUevent, CUstream);
  CUresult (*cuEventDestroy)(CUevent);
  CUresult (*cuStreamWaitEvent)(CUstream, CUevent, unsigned);
  CUresult (*cuModuleLoadDataEx)(CUmodule *, const void *, unsigned, int *, void **);
  CUresult (*cuModuleUnload)(CUmodule);
  CUresult (*cuModuleGetFunction)(CUfunction *, CUmodule, const char *);
  CUresult (*cuLinkCreate)(unsigned, int *, void **, CUlinkState *);
  CUresult (*cuLinkAddData)(CUlinkState, int, void *, std::size_t, const char *, unsigned, int *,
                            void **);
  CUresult (*cuLinkComplete)(CUlinkState, void **, std::size_t *);
  CUresult (*cuLinkDestroy)(CUlinkState);
  CUresult (*cuLaunchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,
                             unsigned, CUstream, void **, void **);
  CUresult (*cuOccupancyMaxPotentialBlockSize)(int *, int *, CUfunction, std::size_t (*)(int),
                                               std::size_t, int);
  CUresult (*cuFuncGetAttribute)(int *, int, CUfunction);
};

/// Driver constants we use (values of the driver ABI).
namespace attr {
inline constexpr int kMaxThreadsPerBlock = 1;
inline constexpr int kMultiprocessorCount = 16;
inline constexpr int kComputeCapabilityMajor = 75;
inline constexpr int kComputeCapabilityMinor = 76;
inline constexpr int kFuncMaxThreadsPerBlock = 0;  // a CUfunction_attribute
inline constexpr unsigned kEventDisableTiming = 2; // a cuEventCreate flag
} // namespace attr

/// The process-wide driver: libcuda.so.1 loaded and cuInit(0) called on first use.
class Driver {
public:
  /// Throws Error(Runtime): "no CUDA driver found (libcuda.so.1: <dlerror>)" when the library is
  /// missing; "no CUDA GPU found (cuInit: CUDA_ERROR_NO_DEVICE ...)" when the driver finds no
  /// device. The failure is remembered: later calls throw the same error without retrying.
  static const Driver &get();
  /// The driver if it loads and initializes, else null with the reason in `why`.
  static const Driver *try_get(std::string *why = nullptr);

  const DriverApi &api() const { return api_; }
  /// Throws Error(Runtime) naming the CUDA error when `r` is not CUDA_SUCCESS.
  void check(CUresult r, std::string_view what) const;
  int device_count() const { return device_count_; }
  int version() const { return version_; } ///< e.g. 12040 for CUDA 12.4

private:
  Driver() = default;
  DriverApi api_{};
  void *lib_ = nullptr;
  int device_count_ = 0;
  int version_ = 0;
};

/// One device: its primary context, made current on the calling thread by use().
class Device {
public:
  /// Throws Error(Runtime) if the driver is missing or `ordinal` is not a device.
  explicit Device(int ordinal);
  ~Device();
  Device(const Device &) = delete;
  Device &operator=(const Device &) = delete;

  /// Makes this device's context current on the calling thread (cheap; call before any work).
  void use() const;
  /// The same, for destructors: false instead of a throw.
  bool try_use() const noexcept;
  int ordinal() const { return ordinal_; }
  const std::string &name() const { return name_; }
  int compute_capability() const { return cc_; } ///< major * 10 + minor, e.g. 90
  int multiprocessors() const { return sms_; }
  const Driver &driver() const { return *drv_; }

private:
  const Driver *drv_ = nullptr;
  int ordinal_ = 0;
  CUdevice dev_ = 0;
  CUcontext ctx_ = nullptr;
  std::string name_;
  int cc_ = 0, sms_ = 0;
};

/// Device memory, freed on destruction.
class DeviceBuffer {
public:
  DeviceBuffer() = default;
  DeviceBuffer(const Device &dev, std::size_t bytes);
  ~DeviceBuffer();
  DeviceBuffer(DeviceBuffer &&o) noexcept;
  DeviceBuffer &operator=(DeviceBuffer &&o) noexcept;
  CUdeviceptr ptr() const { return ptr_; }
  std::size_t bytes() const { return bytes_; }

private:
  const Device *dev_ = nullptr;
  CUdeviceptr ptr_ = 0;
  std::size_t bytes_ = 0;
};

/// A stream of the device's context.
class Stream {
public:
  explicit Stream(const Device &dev);
  ~Stream();
  Stream(const Stream &) = delete;
  Stream &operator=(const Stream &) = delete;
  CUstream get() const { return s_; }
  void to_device(CUdeviceptr dst, const void *src, std::size_t bytes) const;
  void to_host(void *dst, CUdeviceptr src, std::size_t bytes) const;
  void copy(CUdeviceptr dst, CUdeviceptr src, std::size_t bytes) const;
  /// Waits for everything queued; a kernel's failure surfaces here as Error(Runtime).
  void sync() const;
  /// Work queued on this stream from now on starts after everything queued on `other` so far
  /// (an event recorded there and waited for here): the GPU orders them, the host does not wait.
  void wait_for(const Stream &other) const;

private:
  const Device &dev_;
  CUstream s_ = nullptr;
};

/// A kernel of a loaded module, with the launch limits the driver reports for it. Each is asked
/// once and kept: the answers depend only on the kernel and the device, and asking is a driver
/// call on every launch's path (cuOccupancyMaxPotentialBlockSize walks the block sizes). Not
/// thread-safe: whoever launches it serializes its launches (CudaTarget's lock) and guards it.
class Function {
public:
  Function() = default;
  Function(const Device &dev, CUfunction f) : dev_(&dev), f_(f) {}
  CUfunction get() const { return f_; }
  const Device &device() const { return *dev_; }
  /// The most threads a block of it can have (CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK): fewer
  /// than the device's 1024 when the kernel needs many registers.
  int max_block_threads() const;
  /// cuOccupancyMaxPotentialBlockSize for blocks of at most `limit` threads (0: any), each
  /// with `shared` bytes of dynamic shared memory: the block size of the best occupancy and
  /// the blocks that fill the device at it.
  struct Occupancy {
    int min_grid = 0, block = 0;
  };
  Occupancy occupancy(int limit, unsigned shared = 0) const;

private:
  const Device *dev_ = nullptr;
  CUfunction f_ = nullptr;
  mutable int max_threads_ = 0;
  /// By (limit, shared): a kernel is launched with one or two (a reduce kernel's schedules).
  struct Asked {
    int limit;
    unsigned shared;
    Occupancy answer;
  };
  mutable std::vector<Asked> occupancy_;
};

/// A module loaded from PTX (compiled by the driver's JIT for the device) or from a cubin.
class Module {
public:
  /// Compiles `ptx` for the current device with the driver's linker and loads the result;
  /// the cubin is stored in `*cubin` when given (for the kernel cache).
  static std::unique_ptr<Module> from_ptx(const Device &dev, const std::string &ptx,
                                          std::string *cubin = nullptr);
  /// Loads a cubin made by from_ptx for the same device and driver.
  static std::unique_ptr<Module> from_cubin(const Device &dev, const std::string &cubin);
  ~Module();
  Module(const Module &) = delete;
  Module &operator=(const Module &) = delete;
  /// The kernel `name`; valid while this module is.
  Function function(const std::string &name) const;

private:
  Module(const Device &dev, CUmodule m) : dev_(dev), m_(m) {}
  const Device &dev_;
  CUmodule m_ = nullptr;
};

/// The block size that maximizes occupancy for `f` (cuOccupancyMaxPotentialBlockSize) and the
/// grid that fills the device with it: `min_grid` blocks, never more than needed for `n`
/// iterations (a grid-stride loop covers the rest).
struct LaunchConfig {
  unsigned grid = 1, block = 1;
  unsigned shared = 0; ///< dynamic shared memory per block, bytes
};
LaunchConfig launch_config(const Function &f, std::int64_t n);
/// Blocks of exactly `block` threads (a reduce kernel's fixed shape) and `shared` bytes of
/// dynamic shared memory for `blocks` blocks of work: as many as fill the device at `f`'s
/// occupancy with that block size and memory, at most `blocks`.
LaunchConfig launch_config_blocks(const Function &f, std::int64_t blocks, unsigned block,
                                  unsigned shared = 0);

/// Launches a 1-D kernel on `s`; `args` are pointers to each parameter's value.
void launch(const Stream &s, const Function &f, LaunchConfig c, void **args);

} // namespace xpr::rt::cuda

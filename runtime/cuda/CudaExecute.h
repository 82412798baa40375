// runtime/cuda/CudaExecute.h — runs a fused plan on an NVIDIA GPU: inputs to device memory, one
// launch per kernel (PTX from compiler/codegen/GpuJit, loaded through the driver), outputs back.
#pragma once

#include "runtime/Execute.h"

#include <xpr/array.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace xpr::cg {
struct GpuTimings;
}

namespace xpr::rt::cuda {

/// One Context's GPU: the device and its stream, and the kernels loaded on it. Thread-safe: runs
/// are queued in order on the one stream. A run on device arrays only returns once it is queued;
/// anything that hands data to the host waits for the stream.
class CudaTarget {
public:
  /// Throws Error(Runtime) "no CUDA driver found (...)" / "no CUDA GPU found (...)" / "CUDA device
  /// N does not exist (...)" when the device cannot be used.
  explicit CudaTarget(int device);
  ~CudaTarget();
  CudaTarget(const CudaTarget &) = delete;
  CudaTarget &operator=(const CudaTarget &) = delete;

  /// "cuda:0 (NVIDIA H100, sm_90)".
  std::string description() const;
  /// The PTX target its kernels are compiled for (major*10 + minor, capped to what LLVM knows).
  int target_sm() const;

  /// Runs a plan. Inputs are host arrays or views (copied to the device), or device arrays of
  /// this target (read in place); the outputs are new host arrays — new device arrays when any
  /// input is on the device — or written into `targets` (checked as on the CPU; device targets
  /// in place). With no host array among inputs and outputs, it returns once the run is queued;
  /// otherwise once the results are on the host. Device arrays another target queued work on
  /// are waited for first.
  std::vector<Array> execute(const CompiledPlan &cp, const std::map<std::string, Array> &inputs,
                             const std::map<std::string, Scalar> &params,
                             const std::vector<Array> *targets = nullptr);

  /// Waits for the runs queued on this target's stream; a kernel's failure surfaces here.
  void synchronize();

  /// A C-contiguous copy of `a` in device memory (Context::to_device); `a` itself when it is
  /// already on this device. Throws Error(Runtime) for an array of another device.
  Array to_device(const Array &a);
  /// A host copy of a device array of this target (Context::to_host); `a` itself on the host.
  Array to_host(const Array &a);

  struct Impl;

private:
  std::unique_ptr<Impl> impl_;
};

/// The PTX every kernel of `cp` compiles to for compute capability `sm`, each under the name
/// k<step>, for its layout when all arrays are contiguous (--emit=ptx, the REPL's :time). Needs
/// no GPU. `timings`, if given, gets the time of each compile phase added.
std::string emit_ptx(const CompiledPlan &cp, int sm, cg::GpuTimings *timings = nullptr);

} // namespace xpr::rt::cuda

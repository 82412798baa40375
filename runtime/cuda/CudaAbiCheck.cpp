// runtime/cuda/CudaAbiCheck.cpp — compiled only where cuda.h exists at build time: checks that the
// driver ABI declared in CudaDriver.h (which needs no CUDA headers) is the one cuda.h declares.
// Its own file because cuda.h #defines entry-point names (cuMemAlloc → cuMemAlloc_v2).
#include "runtime/cuda/CudaDriver.h"

#include <cuda.h>

namespace x = xpr::rt::cuda;
static_assert(sizeof(x::CUdeviceptr) == sizeof(::CUdeviceptr));
static_assert(sizeof(x::CUdevice) == sizeof(::CUdevice));
static_assert(sizeof(x::CUresult) == sizeof(::CUresult));
static_assert(x::attr::kMaxThreadsPerBlock == CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK);
static_assert(x::attr::kMultiprocessorCount == CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
static_assert(x::attr::kComputeCapabilityMajor == CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
static_assert(x::attr::kComputeCapabilityMinor == CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
static_assert(CU_JIT_ERROR_LOG_BUFFER == 5 && CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES == 6);
static_assert(CU_JIT_INFO_LOG_BUFFER == 3 && CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES == 4);
static_assert(CU_JIT_INPUT_PTX == 1 && CU_STREAM_NON_BLOCKING == 1);
static_assert(CUDA_SUCCESS == 0);
static_assert(x::attr::kFuncMaxThreadsPerBlock == CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK);
static_assert(x::attr::kEventDisableTiming == CU_EVENT_DISABLE_TIMING);

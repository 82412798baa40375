// compiler/codegen/GpuJit.h — compiles fused elementwise kernels to PTX for NVIDIA GPUs (MLIR gpu
// + nvvm dialects → LLVM IR + libdevice → NVPTX). MLIR/LLVM-free on purpose: the runtime,
// tools and tests include it.
#pragma once

#include "compiler/codegen/Kernel.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace xpr::cg {

/// The GPU kernel ABI (docs/gpu.md). Every kernel parameter is 8 bytes, in this order:
///   ptr  op[0 .. k+m)        device pointers: the k inputs, then the m outputs
///   i64  param[0 .. p)       one slot per Param node, laid out as KernelFn's params (the value in
///                            its own dtype at the start of the slot)
///   i64  shape[0 .. rank)    the iteration shape
///   i64  strides             `rank` element strides for each operand whose layout is Strided, in
///                            operand order (nothing for Contiguous or Scalar operands)
///   i64  total               the number of iterations (the product of shape)
/// Launch it with any 1-D grid and 1-D blocks: a grid-stride loop covers [0, total) in C order.
/// With `index64` false, indices and element offsets are computed in 32 bits: the caller
/// guarantees total < 2^30 and every |element offset| < 2^30.
/// With `vector` > 1 (only when no operand is Strided), each step of the loop handles `vector`
/// consecutive iterations with vector loads and stores (ld.global.v4.f32 ...), and a second
/// grid-stride loop the total % vector left; the caller guarantees that every Contiguous
/// operand's pointer is aligned to vector × its element size.
///
/// A reduce kernel (compiler/codegen/ReduceKernel.h: is_reduce_kernel(graph)) has its own ABI:
///   ptr  op[0 .. k+1)        the map's k inputs, then `partials` (the value dtype; bool a byte)
///   i64  param[0 .. p)       as above
///   i64  shape[0 .. rank)    the map's iteration space, the reduced dims last (rows × n)
///   i64  strides             `rank` per Strided input
///   i64  n, units, chunks, chunk_len
/// Row o = u / chunks of unit u reduces iterations [o*n, o*n + n); its chunk c = u % chunks the
/// values [c*chunk_len, min(n, (c+1)*chunk_len)) of the row. Launch it with blocks of exactly
/// kGpuReduceThreads threads (a block per unit, taking units grid-stride) or of
/// kGpuReduceWarpBlock threads (a warp per unit: for short chunks, where most of a block would
/// idle), and any grid. Each unit stores one value at partials[u], always combined in the same
/// order: thread t accumulates values t, t + 256, ... of the chunk in sequence, the 32 lanes of
/// a warp combine by a shuffle tree (lane l with lane l + w, w = 16 ... 1), then the 8 warps'
/// results the same way (w = 4, 2, 1). In the warp schedule lane l plays threads l, l + 32, ...,
/// l + 224 and combines in that same order (chunks of at most kGpuReduceSegmentMax values take
/// one segment of a warp each instead): both schedules give the same bits. Blocks of
/// kGpuReduceColumnBlock threads run the column schedule: a block takes 32 consecutive rows of
/// one chunk, lane l row 32g + l, so that a warp's loads are coalesced where rows are adjacent
/// in memory (a column reduction); warp k plays the 16 threads whose tree position its index
/// names and combines them in registers, and warp 0 combines the 16 warps' values per row, in
/// the same order again. The order depends on n and the constants alone, never on the device,
/// the grid or the schedule. The spec has the map's inputs and one Contiguous output (the
/// partials); vector must be 1.
struct GpuKernelSpec {
  KernelSpec spec;
  bool index64 = true;
  int vector = 1;
  bool operator==(const GpuKernelSpec &) const = default;
};

/// Threads per block of a GPU reduce kernel, and the values per chunk the runtime cuts rows into
/// (64 per thread): fixed, since they fix the order of every float sum.
inline constexpr int kGpuReduceThreads = 256;
inline constexpr std::int64_t kGpuReduceChunk = 16384;
/// The block size of the warp schedule (4 independent warps), and the chunk length up to which
/// the runtimes launch it: a chunk of at most 256 values gives each of the block schedule's
/// threads one value at most.
inline constexpr int kGpuReduceWarpBlock = 128;
inline bool gpu_reduce_warp_schedule(std::int64_t chunk_len) {
  return chunk_len <= kGpuReduceThreads;
}
/// Within the warp schedule, chunks of at most this many values share a warp: a unit takes
/// 2^⌈log2 chunk_len⌉ lanes, one value each (the kernel decides from chunk_len; same bits).
inline constexpr std::int64_t kGpuReduceSegmentMax = 32;
/// The units one warp of the warp schedule takes at a time: 32 / 2^⌈log2 chunk_len⌉ for
/// segmented chunks, else 1. Launchers size their grids by it (more warps would idle).
inline std::int64_t gpu_reduce_units_per_warp(std::int64_t chunk_len) {
  std::int64_t seg = 1;
  while (seg < chunk_len && seg < 32)
    seg *= 2;
  return chunk_len <= kGpuReduceSegmentMax ? 32 / seg : 1;
}

/// The block size of the column schedule: 16 warps, each playing 16 of the block schedule's
/// 256 threads for 32 rows at once (one row a lane). The runtimes launch it for the first pass
/// of a reduction whose rows are adjacent in memory (docs/gpu.md, "Column reductions").
inline constexpr int kGpuReduceColumnBlock = 512;
/// The rows one block of the column schedule takes at a time.
inline constexpr std::int64_t kGpuReduceColumnRows = 32;
/// The dynamic shared memory (cuLaunchKernel's sharedMemBytes) a reduce kernel needs in blocks
/// of `threads`: the column schedule's slots, 8 bytes per thread per accumulator component (the
/// value, and argmin/argmax's index), 4 or 8 KiB; none for the other schedules, whose slots
/// are static (64 or 128 bytes). A launch that gives less makes the column schedule's shared
/// accesses fall outside the block's memory.
inline constexpr unsigned gpu_reduce_shared_bytes(int threads, bool arg) {
  return threads == kGpuReduceColumnBlock ? kGpuReduceColumnBlock * (arg ? 2u : 1u) * 8u : 0u;
}

/// The vector width for a kernel whose operands are all Contiguous or Scalar: 16 bytes of its
/// widest operand (4 × f32, 2 × f64), at most 4 elements; 1 when any operand is Strided.
int gpu_vector_width(const ir::Graph &kernel, const KernelSpec &spec);

/// The number of 8-byte parameters of a kernel (see GpuKernelSpec).
int gpu_param_count(const ir::Graph &kernel, const KernelSpec &spec);

/// One kernel of a PTX module: graph, layouts and its entry name in the module.
struct GpuKernel {
  const ir::Graph *kernel = nullptr;
  GpuKernelSpec spec;
  std::string name;
};

/// The textual stages of the GPU lowering, for --emit and tests.
enum class GpuStage {
  Mlir,        ///< the gpu.module as built (gpu.func, scf, arith, math, vector, llvm pointers)
  MlirLowered, ///< after conversion to the LLVM and NVVM dialects
  Llvm,        ///< LLVM IR after linking libdevice and optimizing
  Ptx,         ///< PTX assembly
};

/// The compute capabilities this LLVM's NVPTX backend can target, lowest first (e.g. 75, 80,
/// 90). A device of a newer capability runs PTX for the highest (the driver's JIT compiles it).
std::vector<int> gpu_supported_sms();
/// The capability to compile for on a device of capability `sm` (major*10 + minor).
int gpu_target_sm(int sm);

/// The libdevice bitcode used for math functions: $XPR_LIBDEVICE, else
/// $CUDA_HOME/nvvm/libdevice/libdevice.10.bc, else /usr/local/cuda/nvvm/libdevice/libdevice.10.bc.
/// Empty when none of them exists.
std::string find_libdevice();

/// Wall-clock milliseconds spent in each phase of compile_ptx (added to, not reset).
struct GpuTimings {
  double mlir_ms = 0;     ///< building, verifying and lowering the MLIR, translation to LLVM IR
  double llvm_opt_ms = 0; ///< linking libdevice and the LLVM -O2 pipeline
  double ptx_ms = 0;      ///< NVPTX code generation
};

/// One MLIR context, reused for every kernel. Thread-safe: compilation is serialized.
class GpuJit {
public:
  GpuJit();
  ~GpuJit();
  GpuJit(const GpuJit &) = delete;
  GpuJit &operator=(const GpuJit &) = delete;

  /// PTX text of one module holding every kernel of `kernels` (distinct names), for compute
  /// capability `sm` (75, 80, 90, ...). Throws Error(Internal) if a kernel is malformed or
  /// lowering fails, Error(Runtime) if a kernel needs a math function and libdevice is missing
  /// or `sm` is not supported.
  std::string compile_ptx(const std::vector<GpuKernel> &kernels, int sm, GpuTimings *t = nullptr);
  /// The same for several capabilities at once (one PTX text per entry of `sms`): the MLIR
  /// stages, which do not depend on the target, run once.
  std::vector<std::string> compile_ptx(const std::vector<GpuKernel> &kernels,
                                       const std::vector<int> &sms, GpuTimings *t = nullptr);
  /// The text of one lowering stage of one kernel, named `name`.
  std::string emit(const ir::Graph &kernel, const GpuKernelSpec &spec, GpuStage stage, int sm,
                   const std::string &name = "xpr_kernel");
  /// LLVM version, libdevice identity and the PTX version per sm: part of every cache key.
  std::string target_description(int sm) const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace xpr::cg

// compiler/codegen/GpuReduceToMlir.h — a GPU reduce kernel (compiler/codegen/ReduceKernel.h:
// the map fused into a fixed-order tree; the ABI and the three schedules in GpuJit.h) as a
// gpu.module, ready for GpuJit's lowering. The GPU counterpart of ReduceToMlir.h. Internal to
// compiler/codegen: it includes MLIR headers.
#pragma once

#include "compiler/codegen/GpuJit.h"

#include <mlir/IR/BuiltinOps.h>
#include <mlir/IR/MLIRContext.h>
#include <mlir/IR/OwningOpRef.h>

#include <string>

namespace xpr::cg {

/// Stage 1 for a reduce kernel (the ABI in GpuJit.h): blocks take units grid-stride; in each,
/// thread t folds the map's values t, t + 256, ... of the unit's chunk, then a shuffle tree
/// in each warp and one across the 8 warps (through shared memory) give the unit's value.
/// The warp and column schedules, picked by the block size, play that same order another
/// way. argmin/argmax fold (value, index) pairs the same way.
mlir::OwningOpRef<mlir::ModuleOp> build_gpu_reduce_module(mlir::MLIRContext &ctx,
                                                          const ir::Graph &g,
                                                          const GpuKernelSpec &gs,
                                                          const std::string &name);

} // namespace xpr::cg
